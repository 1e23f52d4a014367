//! One DataLoader per relation field, created per request with the caller's tenant scope,
//! so a nested query costs one statement per relation, not one per row.

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use std::collections::HashMap;

use crate::db::entity::{
    account, account_link, billing_mapping, level, level_cross_reference, metric, plan, product,
    push_run, service, subscription, usage_sample,
};
use crate::db::{Scope, accounts, catalog, levels, mappings, psa, push, usage};

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
    usage_sample::Model,
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
}

impl Loaders {
    pub fn new(scope: &Scope) -> Self {
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
        }
    }
}
