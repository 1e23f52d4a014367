//! Reading ahead. A list field that starts a relation tree (`services`, `accounts`) looks
//! at what its selection will ask for (`ctx.look_ahead()`) and reads the tree for the whole
//! list at once — its relations joined where a join serves (a statement costs round trips
//! that repeated rows do not), with no batching timer to wait on. What it read goes with
//! the list's objects ([`AccountsAhead`], [`ServicesAhead`]): their nested fields resolve
//! from it, most of them at once (`now`), and never suspend, so a tree costs its
//! statements and nothing else. `services` also feeds the rows to the request's loaders,
//! which its fields that are not plain (a service's billing status) read. A relation the
//! selection does not name is not read; one it names that is not read here still works
//! through the loader, batched as before.
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{Context, Lookahead, Result};
use std::sync::Arc;

use super::{Loaders, loaders, scope};
use crate::db::entity::{
    account, account_link, billing_mapping, level, metric, plan, product, service, subscription,
};
use crate::db::rows::{IdMap, IdSet};
use crate::db::{Scope, accounts, catalog, usage};
use crate::error::AppError;

/// Any of these fields of `look` is selected.
fn any(look: &Lookahead<'_>, names: &[&str]) -> bool {
    names.iter().any(|name| look.field(name).exists())
}

/// Distinct keys in order of first sight.
fn keys(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut seen = IdSet::default();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// Feeds rows grouped by their parent, every parent in `parents` included (an empty list is
/// an answer too, or the loader would ask the database again).
async fn feed_groups<L, M>(
    loader: &DataLoader<L, HashMapCache>,
    parents: &[i64],
    rows: &[M],
    parent: impl Fn(&M) -> i64,
) where
    L: Loader<i64, Value = Vec<M>>,
    M: Clone + Send + Sync + 'static,
{
    loader
        .feed_many(grouped(parents, rows.to_vec(), parent))
        .await;
}

/// Feeds rows by their own id.
async fn feed_rows<L, M>(loader: &DataLoader<L, HashMapCache>, rows: Vec<M>, id: impl Fn(&M) -> i64)
where
    L: Loader<i64, Value = M>,
    M: Clone + Send + Sync + 'static,
{
    loader
        .feed_many(rows.into_iter().map(|row| (id(&row), row)))
        .await;
}

/// What `services` read ahead of its selection: each service's products, their mappings,
/// and the mappings' plans and levels, by id. Like [`AccountsAhead`], the services carry it
/// so a plain tree is answered from it at once (`now`).
pub struct ServicesAhead {
    products: IdMap<Vec<product::Model>>,
    mappings: IdMap<Vec<billing_mapping::Model>>,
    plans: IdMap<plan::Model>,
    levels: IdMap<level::Model>,
}

impl ServicesAhead {
    pub fn products(&self, service: i64) -> Option<&[product::Model]> {
        Some(self.products.get(&service)?.as_slice())
    }

    pub fn mappings(&self, product: i64) -> Option<&[billing_mapping::Model]> {
        Some(self.mappings.get(&product)?.as_slice())
    }

    pub fn plan(&self, id: i64) -> Option<&plan::Model> {
        self.plans.get(&id)
    }

    pub fn level(&self, id: i64) -> Option<&level::Model> {
        self.levels.get(&id)
    }
}

/// The services, and what was read ahead of them when their selection reaches products.
pub type Services = (Vec<service::Model>, Option<Arc<ServicesAhead>>);

/// `services` and `service(id)`: the services and, as far as the selection reaches, their
/// products, the products' mappings and the mappings' plans and levels — one statement of
/// joins for all of them — then the products' metrics and plans (a statement each, when
/// selected). `NOT_FOUND` when `id` names no service of the tenant.
pub async fn services(ctx: &Context<'_>, id: Option<i64>) -> Result<Services> {
    let look = ctx.look_ahead();
    let scope = scope(ctx);
    // `readOnly` and `billingStatus` are worked out from the products' mappings.
    let tree = any(
        &look,
        &["readOnly", "billingStatus", "products", "mappings"],
    );
    if !tree {
        let services = match id {
            Some(id) => vec![catalog::service(scope, id).await?],
            None => catalog::services(scope).await?,
        };
        return Ok((services, None));
    }
    let loaders = loaders(ctx);
    let catalog::Tree {
        mut services,
        products,
        mappings,
        plans,
        levels,
    } = catalog::tree(scope, id).await?;
    if let Some(id) = id.filter(|_| services.is_empty()) {
        return Err(AppError::not_found("service", id).into());
    }
    services.sort_by(|a, b| a.name.cmp(&b.name));
    let service_ids: Vec<i64> = services.iter().map(|s| s.id).collect();
    let product_ids: Vec<i64> = products.iter().map(|p| p.id).collect();
    // The loaders are fed too: a selection that is not plain (the billing page's status,
    // a product's metrics) resolves through them.
    let ahead = ServicesAhead {
        products: grouped(&service_ids, products.clone(), |p| p.service_id),
        mappings: grouped(&product_ids, mappings.clone(), |m| m.product_id),
        plans: by_id(plans.clone(), |p| p.id),
        levels: by_id(levels.clone(), |l| l.id),
    };
    feed_groups(&loaders.products_of_service, &service_ids, &products, |p| {
        p.service_id
    })
    .await;
    feed_groups(&loaders.mappings_of_product, &product_ids, &mappings, |m| {
        m.product_id
    })
    .await;
    feed_rows(&loaders.product, products, |p| p.id).await;
    feed_rows(&loaders.plan, plans, |p| p.id).await;
    feed_rows(&loaders.level, levels, |l| l.id).await;
    self::products(scope, loaders, &look.field("products"), &product_ids).await?;
    Ok((services, Some(Arc::new(ahead))))
}

/// The metrics and plans of `products` (rows already read), when `look` selects them.
async fn products(
    scope: &Scope,
    loaders: &Loaders,
    look: &Lookahead<'_>,
    ids: &[i64],
) -> Result<()> {
    if !look.exists() || ids.is_empty() {
        return Ok(());
    }
    if look.field("metrics").exists() {
        let rows = catalog::metrics_of_products(scope, ids).await?;
        feed_groups(&loaders.metrics_of_product, ids, &rows, |m| m.product_id).await;
    }
    if look.field("plans").exists() {
        let rows = catalog::plans_of_products(scope, ids).await?;
        feed_groups(&loaders.plans_of_product, ids, &rows, |p| p.product_id).await;
        feed_rows(&loaders.plan, rows, |p| p.id).await;
    }
    Ok(())
}

/// What the nodes of an `accounts` page select, for the page's own statement: whether it
/// must join the accounts' links.
pub fn accounts_links(ctx: &Context<'_>) -> bool {
    let look = ctx.look_ahead();
    [look.field("edges").field("node"), look.field("nodes")]
        .iter()
        .any(|n| n.field("link").exists())
}

/// What a page of accounts read ahead for its nodes, by id: each relation the selection
/// reaches, `None` where it was not read. The page's objects carry it (an `Arc` each), so
/// their nested fields resolve from it directly, not through the request's loaders (a
/// lock, a map and a clone per key: some 1,300 instructions for each of the ~700 keys of
/// the accounts page).
#[derive(Default)]
pub struct AccountsAhead {
    links: Option<IdMap<account_link::Model>>,
    subscriptions: Option<IdMap<Vec<subscription::Model>>>,
    plans: IdMap<plan::Model>,
    products: IdMap<product::Model>,
    usage: Option<IdMap<Vec<usage::Sample>>>,
    metrics: IdMap<metric::Model>,
}

/// Rows grouped by their parent, every parent in `parents` present (an empty list is an
/// answer too).
fn grouped<M>(parents: &[i64], rows: Vec<M>, parent: impl Fn(&M) -> i64) -> IdMap<Vec<M>> {
    let mut groups: IdMap<Vec<M>> = parents.iter().map(|&p| (p, Vec::new())).collect();
    for row in rows {
        groups.entry(parent(&row)).or_default().push(row);
    }
    groups
}

fn by_id<M>(rows: Vec<M>, id: impl Fn(&M) -> i64) -> IdMap<M> {
    rows.into_iter().map(|row| (id(&row), row)).collect()
}

impl AccountsAhead {
    /// The account's link (`Some(None)`: it has none), unless links were not read.
    pub fn link(&self, account: i64) -> Option<Option<&account_link::Model>> {
        self.links.as_ref().map(|links| links.get(&account))
    }

    /// The account's subscriptions, if they were read.
    pub fn subscriptions(&self, account: i64) -> Option<&[subscription::Model]> {
        Some(self.subscriptions.as_ref()?.get(&account)?.as_slice())
    }

    /// The account's latest samples, if they were read.
    pub fn usage(&self, account: i64) -> Option<&[usage::Sample]> {
        Some(self.usage.as_ref()?.get(&account)?.as_slice())
    }

    pub fn plan(&self, id: i64) -> Option<&plan::Model> {
        self.plans.get(&id)
    }

    pub fn product(&self, id: i64) -> Option<&product::Model> {
        self.products.get(&id)
    }

    pub fn metric(&self, id: i64) -> Option<&metric::Model> {
        self.metrics.get(&id)
    }
}

/// For a page of `accounts` (and their links, when the page's statement joined them):
/// subscriptions with their plans (one statement) and products, and the latest usage with
/// its metrics, as far as the selection of its nodes reaches.
pub async fn accounts(
    ctx: &Context<'_>,
    accounts: &[account::Model],
    links: Option<Vec<account_link::Model>>,
) -> Result<Arc<AccountsAhead>> {
    let mut ahead = AccountsAhead::default();
    if accounts.is_empty() {
        return Ok(Arc::new(ahead));
    }
    let look = ctx.look_ahead();
    let nodes = [look.field("edges").field("node"), look.field("nodes")];
    let select = |name: &str| -> Vec<Lookahead<'_>> {
        nodes
            .iter()
            .map(|n| n.field(name))
            .filter(Lookahead::exists)
            .collect()
    };
    let scope = scope(ctx);
    let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
    ahead.links = links.map(|rows| by_id(rows, |l| l.account_id));
    let subscriptions = select("subscriptions");
    if !subscriptions.is_empty() {
        let products = subscriptions.iter().any(|l| l.field("product").exists());
        let accounts::Joined {
            subscriptions: rows,
            plans,
            products,
        } = accounts::subscriptions_joined(scope, &ids, products).await?;
        ahead.subscriptions = Some(grouped(&ids, rows, |s| s.account_id));
        ahead.plans = by_id(plans, |p| p.id);
        ahead.products = by_id(products, |p| p.id);
    }
    let usage = select("latestUsage");
    if !usage.is_empty() {
        let rows = usage::latest_for_accounts(scope, &ids).await?;
        if usage.iter().any(|l| l.field("metric").exists()) {
            let ids = keys(rows.iter().map(|u| u.metric_id));
            if !ids.is_empty() {
                ahead.metrics = by_id(catalog::metrics_by_id(scope, &ids).await?, |m| m.id);
            }
        }
        ahead.usage = Some(grouped(&ids, rows, |u| u.account_id));
    }
    Ok(Arc::new(ahead))
}
