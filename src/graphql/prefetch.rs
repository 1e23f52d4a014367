//! Reading ahead. A list field that starts a relation tree (`services`, `accounts`) looks
//! at what its selection will ask for (`ctx.look_ahead()`), reads each level of the tree at
//! once — one statement per relation, in order, with no batching timer to wait on — and
//! feeds the rows to the request's loaders. The nested resolvers then find every key in
//! the loader's cache and never suspend, so a tree costs its statements and nothing else.
//! A relation the selection does not name is not read; one it names that is not read here
//! still works through the loader, batched as before.

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{Context, Lookahead, Result};
use std::collections::HashMap;

use super::{Loaders, loaders, scope};
use crate::db::entity::{account, billing_mapping, product, service, subscription, usage_sample};
use crate::db::{Scope, accounts, catalog, levels, mappings, psa, usage};

/// Any of these fields of `look` is selected.
fn any(look: &Lookahead<'_>, names: &[&str]) -> bool {
    names.iter().any(|name| look.field(name).exists())
}

/// Distinct keys in order of first sight.
fn keys(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut seen = std::collections::HashSet::new();
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
    let mut groups: HashMap<i64, Vec<M>> = parents.iter().map(|&p| (p, Vec::new())).collect();
    for row in rows {
        groups.entry(parent(row)).or_default().push(row.clone());
    }
    loader.feed_many(groups).await;
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

/// For `services` (and `service`): products, their metrics, plans and mappings, and the
/// mappings' plans and levels, as far as the selection reaches.
pub async fn services(ctx: &Context<'_>, services: &[service::Model]) -> Result<()> {
    let look = ctx.look_ahead();
    // `readOnly` and `billingStatus` are worked out from the products' mappings.
    let derived = any(&look, &["readOnly", "billingStatus"]);
    let products = look.field("products");
    let direct = look.field("mappings");
    if !(derived || products.exists() || direct.exists()) {
        return Ok(());
    }
    let (scope, loaders) = (scope(ctx), loaders(ctx));
    let ids: Vec<i64> = services.iter().map(|s| s.id).collect();
    let rows = catalog::products_of_services(scope, &ids).await?;
    feed_groups(&loaders.products_of_service, &ids, &rows, |p| p.service_id).await;
    feed_rows(&loaders.product, rows.clone(), |p| p.id).await;
    let product_ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
    self::products(scope, loaders, &products, &product_ids).await?;
    if derived || direct.exists() {
        let rows = mappings::of_products(scope, &product_ids).await?;
        feed_groups(&loaders.mappings_of_product, &product_ids, &rows, |m| {
            m.product_id
        })
        .await;
        self::mappings(scope, loaders, &[direct], &rows).await?;
    }
    Ok(())
}

/// The relations of `products` (rows already read) that `look` selects.
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
    let nested = look.field("mappings");
    if nested.exists() {
        if nested.field("plan").exists() || nested.field("level").exists() {
            // The plans and levels in the same statement: two round trips fewer.
            let joined = mappings::of_products_with_plan_and_level(scope, ids).await?;
            let mut rows = Vec::with_capacity(joined.len());
            let (mut plans, mut levels) = (Vec::new(), Vec::new());
            for (mapping, plan, level) in joined {
                rows.push(mapping);
                plans.extend(plan);
                levels.extend(level);
            }
            feed_groups(&loaders.mappings_of_product, ids, &rows, |m| m.product_id).await;
            feed_rows(&loaders.plan, plans, |p| p.id).await;
            feed_rows(&loaders.level, levels, |l| l.id).await;
        } else {
            let rows = mappings::of_products(scope, ids).await?;
            feed_groups(&loaders.mappings_of_product, ids, &rows, |m| m.product_id).await;
        }
    }
    Ok(())
}

/// The plans and levels of `rows`, when one of `looks` selects them.
async fn mappings(
    scope: &Scope,
    loaders: &Loaders,
    looks: &[Lookahead<'_>],
    rows: &[billing_mapping::Model],
) -> Result<()> {
    if looks.iter().any(|l| l.field("plan").exists()) {
        let ids = keys(rows.iter().filter_map(|m| m.plan_id));
        if !ids.is_empty() {
            let plans = catalog::plans_by_id(scope, &ids).await?;
            feed_rows(&loaders.plan, plans, |p| p.id).await;
        }
    }
    if looks.iter().any(|l| l.field("level").exists()) {
        let ids = keys(rows.iter().map(|m| m.level_id));
        if !ids.is_empty() {
            let levels = levels::by_ids(scope, &ids).await?;
            feed_rows(&loaders.level, levels, |l| l.id).await;
        }
    }
    Ok(())
}

/// For a page of `accounts`: subscriptions with their products and plans, links, and the
/// latest usage with its metrics, as far as the selection of its nodes reaches.
pub async fn accounts(ctx: &Context<'_>, accounts: &[account::Model]) -> Result<()> {
    if accounts.is_empty() {
        return Ok(());
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
    let (scope, loaders) = (scope(ctx), loaders(ctx));
    let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
    let subscriptions = select("subscriptions");
    if !subscriptions.is_empty() {
        let rows = accounts::subscriptions_of_accounts(scope, &ids).await?;
        feed_groups(&loaders.subscriptions_of_account, &ids, &rows, |s| {
            s.account_id
        })
        .await;
        self::subscriptions(scope, loaders, &subscriptions, &rows).await?;
    }
    if !select("link").is_empty() {
        let rows = psa::links_of_accounts(scope, &ids).await?;
        feed_groups(&loaders.link_of_account, &ids, &rows, |l| l.account_id).await;
    }
    let usage = select("latestUsage");
    if !usage.is_empty() {
        let rows = usage::latest_for_accounts(scope, &ids).await?;
        feed_groups(&loaders.latest_usage_of_account, &ids, &rows, |u| {
            u.account_id
        })
        .await;
        self::usage(scope, loaders, &usage, &rows).await?;
    }
    Ok(())
}

async fn subscriptions(
    scope: &Scope,
    loaders: &Loaders,
    looks: &[Lookahead<'_>],
    rows: &[subscription::Model],
) -> Result<()> {
    if looks.iter().any(|l| l.field("plan").exists()) {
        let ids = keys(rows.iter().filter_map(|s| s.plan_id));
        if !ids.is_empty() {
            feed_rows(
                &loaders.plan,
                catalog::plans_by_id(scope, &ids).await?,
                |p| p.id,
            )
            .await;
        }
    }
    if looks.iter().any(|l| l.field("product").exists()) {
        let ids = keys(rows.iter().map(|s| s.product_id));
        if !ids.is_empty() {
            let rows: Vec<product::Model> = catalog::products_by_id(scope, &ids).await?;
            feed_rows(&loaders.product, rows, |p| p.id).await;
        }
    }
    Ok(())
}

async fn usage(
    scope: &Scope,
    loaders: &Loaders,
    looks: &[Lookahead<'_>],
    rows: &[usage_sample::Model],
) -> Result<()> {
    if looks.iter().any(|l| l.field("metric").exists()) {
        let ids = keys(rows.iter().map(|u| u.metric_id));
        if !ids.is_empty() {
            let metrics = catalog::metrics_by_id(scope, &ids).await?;
            feed_rows(&loaders.metric, metrics, |m| m.id).await;
        }
    }
    Ok(())
}
