//! One DataLoader per relation field, created per request with the caller's tenant scope,
//! so a nested query costs one statement per relation, not one per row.

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use std::collections::HashMap;

use crate::db::entity::{
    account, account_link, billing_mapping, level, level_cross_reference, metric, plan, product,
    push_run, service, subscription,
};
use crate::db::{Scope, accounts, catalog, levels, mappings, psa, push, usage};
use crate::domain::LinkState;
use crate::domain::billing::{MappingKey, applicable_mapping};
use crate::domain::push::SkipReason;
use crate::domain::status::stuck_reason;

type Error = async_graphql::Error;

/// Rows by their own id.
macro_rules! by_id {
    ($name:ident, $model:ty, $fetch:path) => {
        pub struct $name(Scope);
        impl Loader<i64> for $name {
            type Value = $model;
            type Error = Error;
            async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, $model>, Error> {
                Ok($fetch(&self.0, keys)
                    .await?
                    .into_iter()
                    .map(|row| (row.id, row))
                    .collect())
            }
        }
    };
}

/// Rows grouped by the parent id in `$field`.
macro_rules! grouped {
    ($name:ident, $model:ty, $fetch:path, $field:ident) => {
        pub struct $name(Scope);
        impl Loader<i64> for $name {
            type Value = Vec<$model>;
            type Error = Error;
            async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Vec<$model>>, Error> {
                let mut groups: HashMap<i64, Vec<$model>> = HashMap::new();
                for row in $fetch(&self.0, keys).await? {
                    groups.entry(row.$field).or_default().push(row);
                }
                Ok(groups)
            }
        }
    };
}

by_id!(ServiceById, service::Model, catalog::services_by_id);
by_id!(ProductById, product::Model, catalog::products_by_id);
by_id!(PlanById, plan::Model, catalog::plans_by_id);
by_id!(MetricById, metric::Model, catalog::metrics_by_id);
by_id!(LevelById, level::Model, levels::by_ids);
by_id!(AccountById, account::Model, accounts::by_ids);
grouped!(
    ProductsOfService,
    product::Model,
    catalog::products_of_services,
    service_id
);
grouped!(
    MetricsOfProduct,
    metric::Model,
    catalog::metrics_of_products,
    product_id
);
grouped!(
    PlansOfProduct,
    plan::Model,
    catalog::plans_of_products,
    product_id
);
grouped!(
    MappingsOfProduct,
    billing_mapping::Model,
    mappings::of_products,
    product_id
);
grouped!(
    SubscriptionsOfAccount,
    subscription::Model,
    accounts::subscriptions_of_accounts,
    account_id
);
grouped!(
    CrossReferencesOfLevel,
    level_cross_reference::Model,
    psa::cross_references_of_levels,
    level_id
);
grouped!(
    LinkOfAccount,
    account_link::Model,
    psa::links_of_accounts,
    account_id
);
grouped!(
    LatestUsageOfAccount,
    usage::Sample,
    usage::latest_for_accounts,
    account_id
);

/// (plan id, count) of subscriptions, per product.
pub struct SubscriptionCountsOfProduct(Scope);
impl Loader<i64> for SubscriptionCountsOfProduct {
    type Value = Vec<(Option<i64>, u64)>;
    type Error = Error;
    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Error> {
        let mut groups: HashMap<i64, Self::Value> = HashMap::new();
        for (product, plan, count) in accounts::subscription_counts(&self.0, keys).await? {
            groups
                .entry(product)
                .or_default()
                .push((plan, u64::try_from(count).unwrap_or(0)));
        }
        Ok(groups)
    }
}

/// The newest real run that pushed each service: its own or one for all services.
pub struct LastRunOfService(Scope);
impl Loader<i64> for LastRunOfService {
    type Value = push_run::Model;
    type Error = Error;
    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Error> {
        let latest = push::latest_by_service(&self.0).await?;
        let for_all = latest.iter().find(|r| r.service_id.is_none());
        Ok(keys
            .iter()
            .filter_map(|&key| {
                let own = latest.iter().find(|r| r.service_id == Some(key));
                let newest = [own, for_all].into_iter().flatten().max_by_key(|r| r.id)?;
                Some((key, newest.clone()))
            })
            .collect())
    }
}

/// Per product, each covered subscription's reason a push would skip it (`None`: it would
/// be pushed), found without ConnectWise: seven statements for any number of products, and
/// rows for the few subscriptions that are not plainly ready — the others (linked, with
/// usage for every metric) are counted per (product, plan), not read one by one.
pub struct ReadinessOfProduct(Scope);
impl Loader<i64> for ReadinessOfProduct {
    type Value = Vec<Option<SkipReason>>;
    type Error = Error;
    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Error> {
        let scope = &self.0;
        let counts = accounts::subscription_counts(scope, keys).await?;
        let unready = accounts::unready_subscriptions(scope, keys).await?;
        let all_mappings = mappings::of_products(scope, keys).await?;
        let metrics = catalog::metrics_of_products(scope, keys).await?;
        let levels: Vec<i64> = all_mappings.iter().map(|m| m.level_id).collect();
        // The vendor types of every usable cross-reference, per level, looked up per metric
        // below.
        let mut xrefs: HashMap<i64, std::collections::HashSet<String>> = HashMap::new();
        for x in psa::cross_references_of_levels(scope, &levels).await? {
            if !x.inactive && x.product_id.is_some() && x.agreement_type_id.is_some() {
                xrefs.entry(x.level_id).or_default().insert(x.vendor_type);
            }
        }
        let mut metrics_of: HashMap<i64, Vec<&metric::Model>> = HashMap::new();
        for m in &metrics {
            metrics_of.entry(m.product_id).or_default().push(m);
        }
        let account_ids: Vec<i64> = unready
            .iter()
            .map(|s| s.account_id)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let links: HashMap<i64, account_link::Model> = psa::links_of_accounts(scope, &account_ids)
            .await?
            .into_iter()
            .map(|l| (l.account_id, l))
            .collect();
        let usage = usage::reported(scope, &account_ids).await?;
        let keys_of: Vec<MappingKey> = all_mappings
            .iter()
            .map(|m| MappingKey {
                product_id: m.product_id,
                plan_id: m.plan_id,
            })
            .collect();
        // The mapping a (product, plan) is pushed by; `None` when none applies or it is
        // managed elsewhere (not billbridge's to push).
        let pushed_by = |product: i64, plan: Option<i64>| {
            let mapping = &all_mappings[applicable_mapping(&keys_of, product, plan)?];
            (!mapping.managed_externally).then_some(mapping)
        };
        // A subscription's reason, from its link and which of its product's metrics it has
        // usage for.
        let reason = |mapping: &billing_mapping::Model,
                      product: i64,
                      linked: Result<(), SkipReason>,
                      has_usage: &dyn Fn(i64) -> bool| {
            let types = xrefs.get(&mapping.level_id);
            let per_metric: Vec<(bool, bool)> = metrics_of
                .get(&product)
                .into_iter()
                .flatten()
                .map(|m| {
                    let xref = types.is_some_and(|t| t.contains(&m.cross_reference_type));
                    (xref, has_usage(m.id))
                })
                .collect();
            stuck_reason(linked, &per_metric)
        };
        let mut out: HashMap<i64, Self::Value> = HashMap::new();
        let mut unready_per_group: HashMap<(i64, Option<i64>), i64> = HashMap::new();
        for sub in &unready {
            *unready_per_group
                .entry((sub.product_id, sub.plan_id))
                .or_default() += 1;
            let Some(mapping) = pushed_by(sub.product_id, sub.plan_id) else {
                continue;
            };
            let linked = match links.get(&sub.account_id).map(|l| l.state) {
                Some(LinkState::Linked) => Ok(()),
                Some(LinkState::Ambiguous) => Err(SkipReason::AmbiguousCompany),
                Some(LinkState::NotFound) | None => Err(SkipReason::NotLinked),
            };
            let has_usage = |metric: i64| usage.contains(&(sub.account_id, metric));
            out.entry(sub.product_id).or_default().push(reason(
                mapping,
                sub.product_id,
                linked,
                &has_usage,
            ));
        }
        for (product, plan, count) in counts {
            let Some(mapping) = pushed_by(product, plan) else {
                continue;
            };
            let plain = count
                - unready_per_group
                    .get(&(product, plan))
                    .copied()
                    .unwrap_or(0);
            if plain > 0 {
                let reason = reason(mapping, product, Ok(()), &|_| true);
                out.entry(product)
                    .or_default()
                    .extend(std::iter::repeat_n(reason, plain as usize));
            }
        }
        Ok(out)
    }
}

/// Every loader of one request.
pub struct Loaders {
    pub service: DataLoader<ServiceById, HashMapCache>,
    pub product: DataLoader<ProductById, HashMapCache>,
    pub plan: DataLoader<PlanById, HashMapCache>,
    pub metric: DataLoader<MetricById, HashMapCache>,
    pub level: DataLoader<LevelById, HashMapCache>,
    pub account: DataLoader<AccountById, HashMapCache>,
    pub products_of_service: DataLoader<ProductsOfService, HashMapCache>,
    pub metrics_of_product: DataLoader<MetricsOfProduct, HashMapCache>,
    pub plans_of_product: DataLoader<PlansOfProduct, HashMapCache>,
    pub mappings_of_product: DataLoader<MappingsOfProduct, HashMapCache>,
    pub subscriptions_of_account: DataLoader<SubscriptionsOfAccount, HashMapCache>,
    pub latest_usage_of_account: DataLoader<LatestUsageOfAccount, HashMapCache>,
    pub subscription_counts: DataLoader<SubscriptionCountsOfProduct, HashMapCache>,
    pub cross_references_of_level: DataLoader<CrossReferencesOfLevel, HashMapCache>,
    pub link_of_account: DataLoader<LinkOfAccount, HashMapCache>,
    pub last_run_of_service: DataLoader<LastRunOfService, HashMapCache>,
    pub readiness_of_product: DataLoader<ReadinessOfProduct, HashMapCache>,
}

/// The request's loaders, made when a resolver first needs one: an operation that reads
/// no relation (`{ __typename }`, a mutation's plain fields) does not build seventeen of
/// them.
pub struct LazyLoaders {
    scope: Scope,
    // Boxed: built only when a resolver asks, and a kilobyte inline in every request.
    loaders: std::sync::OnceLock<Box<Loaders>>,
}

impl LazyLoaders {
    pub fn new(scope: &Scope) -> Self {
        LazyLoaders {
            scope: scope.clone(),
            loaders: std::sync::OnceLock::new(),
        }
    }

    pub fn get(&self) -> &Loaders {
        self.loaders
            .get_or_init(|| Box::new(Loaders::new(&self.scope)))
    }
}

impl Loaders {
    fn new(scope: &Scope) -> Self {
        // Cached for the request: a row asked for by several fields is read once. The
        // loaders live for one request only, so the cache never outlives what it saw.
        fn make<T: Loader<i64>>(loader: T) -> DataLoader<T, HashMapCache> {
            DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default())
        }
        Loaders {
            service: make(ServiceById(scope.clone())),
            product: make(ProductById(scope.clone())),
            plan: make(PlanById(scope.clone())),
            metric: make(MetricById(scope.clone())),
            level: make(LevelById(scope.clone())),
            account: make(AccountById(scope.clone())),
            products_of_service: make(ProductsOfService(scope.clone())),
            metrics_of_product: make(MetricsOfProduct(scope.clone())),
            plans_of_product: make(PlansOfProduct(scope.clone())),
            mappings_of_product: make(MappingsOfProduct(scope.clone())),
            subscriptions_of_account: make(SubscriptionsOfAccount(scope.clone())),
            latest_usage_of_account: make(LatestUsageOfAccount(scope.clone())),
            subscription_counts: make(SubscriptionCountsOfProduct(scope.clone())),
            cross_references_of_level: make(CrossReferencesOfLevel(scope.clone())),
            link_of_account: make(LinkOfAccount(scope.clone())),
            last_run_of_service: make(LastRunOfService(scope.clone())),
            readiness_of_product: make(ReadinessOfProduct(scope.clone())),
        }
    }
}
