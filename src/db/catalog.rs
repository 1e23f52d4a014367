//! The vendor catalogue: services, their products (with metrics) and the products' plans.

use chrono::Utc;
use sea_orm::sea_query::SelectStatement;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QueryTrait, Set, TransactionTrait,
};
use std::collections::HashSet;

use super::entity::{
    billing_mapping, level, metric, plan, product, service, subscription, usage_sample,
};
use super::{Scope, rows};
use crate::domain::MetricUnit;
use crate::error::{AppError, AppResult};

/// Every service, in byte order of the name on every engine (collations differ on case).
pub async fn services(scope: &Scope) -> AppResult<Vec<service::Model>> {
    let mut all = scope.select::<service::Entity>().all(scope.db()).await?;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

/// The catalogue tree: services, their products, the products' mappings and the mappings'
/// plans and levels, each once, in the order the statement reached them.
#[derive(Default)]
pub(crate) struct Tree {
    pub services: Vec<service::Model>,
    pub products: Vec<product::Model>,
    pub mappings: Vec<billing_mapping::Model>,
    pub plans: Vec<plan::Model>,
    pub levels: Vec<level::Model>,
}

/// The tenant's services (or the one with `id`) with their products, the products'
/// mappings and the mappings' plans and levels, in one statement of left joins (each
/// joined within the tenant): products by name, mappings by id.
pub(crate) async fn tree(scope: &Scope, id: Option<i64>) -> AppResult<Tree> {
    static TEXTS: rows::Texts<2> = rows::Texts::new();
    let backend = scope.db().get_database_backend();
    let statement = TEXTS.statement(
        backend,
        usize::from(id.is_some()),
        || tree_query(scope, id).build(backend),
        tree_values(scope, id),
    );
    let [
        mut services,
        mut products,
        mut mappings,
        mut plans,
        mut levels,
    ]: [rows::IdSet; 5] = Default::default();
    let mut tree = Tree::default();
    rows::of(scope.db(), statement, |row| {
        tree.services.extend(row.first_seen(&mut services)?);
        tree.products.extend(row.first_seen(&mut products)?);
        tree.mappings.extend(row.first_seen(&mut mappings)?);
        tree.plans.extend(row.first_seen(&mut plans)?);
        tree.levels.extend(row.first_seen(&mut levels)?);
        Ok(())
    })
    .await?;
    Ok(tree)
}

/// The select of [`tree`], every join within the tenant.
fn tree_query(scope: &Scope, id: Option<i64>) -> impl QueryTrait<QueryStatement = SelectStatement> {
    let mut query = scope.select::<service::Entity>();
    if let Some(id) = id {
        query = query.filter(service::Column::Id.eq(id));
    }
    query
        .find_also_related(product::Entity)
        .and_also_related(billing_mapping::Entity)
        .find_also(billing_mapping::Entity, plan::Entity)
        .find_also(billing_mapping::Entity, level::Entity)
        .order_by_asc(product::Column::Name)
        .order_by_asc(billing_mapping::Column::Id)
}

/// What [`tree_query`] binds, in its order: the tenant, then the service.
fn tree_values(scope: &Scope, id: Option<i64>) -> Vec<sea_orm::Value> {
    let mut values = vec![scope.tenant_id().into()];
    values.extend(id.map(sea_orm::Value::from));
    values
}

/// The services with these ids.
pub(crate) async fn services_by_id(scope: &Scope, ids: &[i64]) -> AppResult<Vec<service::Model>> {
    Ok(scope
        .select::<service::Entity>()
        .filter(service::Column::Id.is_in(ids.iter().copied()))
        .all(scope.db())
        .await?)
}

/// One service, or `NOT_FOUND`.
pub async fn service(scope: &Scope, id: i64) -> AppResult<service::Model> {
    scope
        .get::<service::Entity, _>(scope.db(), id)
        .await?
        .ok_or_else(|| AppError::not_found("service", id))
}

async fn service_name_taken(scope: &Scope, name: &str, except: Option<i64>) -> AppResult<bool> {
    let mut query = scope
        .select::<service::Entity>()
        .filter(service::Column::Name.eq(name));
    if let Some(id) = except {
        query = query.filter(service::Column::Id.ne(id));
    }
    Ok(query.count(scope.db()).await? > 0)
}

/// Adds a service; its name is unique in the tenant.
pub(crate) async fn create_service(
    scope: &Scope,
    name: String,
    description: Option<String>,
) -> AppResult<service::Model> {
    if service_name_taken(scope, &name, None).await? {
        return Err(AppError::Conflict(format!(
            "a service named {name:?} already exists"
        )));
    }
    let now = Utc::now();
    let row = service::ActiveModel {
        name: Set(name),
        description: Set(description),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(scope.insert(scope.db(), row).await?)
}

/// Changes a service's name or description.
pub(crate) async fn update_service(
    scope: &Scope,
    id: i64,
    name: Option<String>,
    description: Option<Option<String>>,
) -> AppResult<service::Model> {
    let current = service(scope, id).await?;
    let mut row = current.into_active_model();
    if let Some(name) = name {
        if service_name_taken(scope, &name, Some(id)).await? {
            return Err(AppError::Conflict(format!(
                "a service named {name:?} already exists"
            )));
        }
        row.name = Set(name);
    }
    if let Some(description) = description {
        row.description = Set(description);
    }
    row.updated_at = Set(Utc::now());
    Ok(row.update(scope.db()).await?)
}

/// Deletes a service.
pub(crate) async fn delete_service(scope: &Scope, id: i64) -> AppResult<()> {
    let current = service(scope, id).await?;
    let products = scope
        .select::<product::Entity>()
        .filter(product::Column::ServiceId.eq(id))
        .count(scope.db())
        .await?;
    if products > 0 {
        return Err(AppError::Conflict(format!(
            "service {:?} still has {products} product(s); delete them first",
            current.name
        )));
    }
    scope
        .delete::<service::Entity>()
        .filter(service::Column::Id.eq(id))
        .exec(scope.db())
        .await?;
    Ok(())
}

/// The products of these services.
pub(crate) async fn products_of_services(
    scope: &Scope,
    ids: &[i64],
) -> AppResult<Vec<product::Model>> {
    Ok(scope
        .select::<product::Entity>()
        .filter(product::Column::ServiceId.is_in(ids.iter().copied()))
        .order_by_asc(product::Column::Name)
        .all(scope.db())
        .await?)
}

/// The products with these ids.
pub(crate) async fn products_by_id(scope: &Scope, ids: &[i64]) -> AppResult<Vec<product::Model>> {
    Ok(scope
        .select::<product::Entity>()
        .filter(product::Column::Id.is_in(ids.iter().copied()))
        .all(scope.db())
        .await?)
}

/// One product, or `NOT_FOUND`.
pub async fn product(scope: &Scope, id: i64) -> AppResult<product::Model> {
    scope
        .get::<product::Entity, _>(scope.db(), id)
        .await?
        .ok_or_else(|| AppError::not_found("product", id))
}

/// A metric as given when creating or updating a product.
#[derive(Clone, Debug)]
pub struct MetricSpec {
    pub name: String,
    pub cross_reference_type: String,
    pub unit: MetricUnit,
}

fn check_metric_specs(metrics: &[MetricSpec]) -> AppResult<()> {
    let mut seen = HashSet::new();
    for (i, m) in metrics.iter().enumerate() {
        if !seen.insert(m.cross_reference_type.as_str()) {
            return Err(AppError::bad_input(
                format!("metrics[{i}].crossReferenceType"),
                format!(
                    "{:?} is listed twice; each cross-reference type appears once per product",
                    m.cross_reference_type
                ),
            ));
        }
    }
    Ok(())
}

async fn product_name_taken(
    scope: &Scope,
    service_id: i64,
    name: &str,
    except: Option<i64>,
) -> AppResult<bool> {
    let mut query = scope
        .select::<product::Entity>()
        .filter(product::Column::ServiceId.eq(service_id))
        .filter(product::Column::Name.eq(name));
    if let Some(id) = except {
        query = query.filter(product::Column::Id.ne(id));
    }
    Ok(query.count(scope.db()).await? > 0)
}

/// Adds a product with its metrics.
pub(crate) async fn create_product(
    scope: &Scope,
    service_id: i64,
    name: String,
    metrics: Vec<MetricSpec>,
) -> AppResult<product::Model> {
    let owner = service(scope, service_id).await?;
    check_metric_specs(&metrics)?;
    if product_name_taken(scope, service_id, &name, None).await? {
        return Err(AppError::Conflict(format!(
            "service {:?} already has a product named {name:?}",
            owner.name
        )));
    }
    let txn = scope.db().begin().await?;
    let row = product::ActiveModel {
        service_id: Set(service_id),
        name: Set(name),
        ..Default::default()
    };
    let created = scope.insert(&txn, row).await?;
    for spec in metrics {
        insert_metric(scope, &txn, created.id, spec).await?;
    }
    txn.commit().await?;
    Ok(created)
}

async fn insert_metric<C: ConnectionTrait>(
    scope: &Scope,
    conn: &C,
    product_id: i64,
    spec: MetricSpec,
) -> AppResult<metric::Model> {
    let row = metric::ActiveModel {
        product_id: Set(product_id),
        name: Set(spec.name),
        cross_reference_type: Set(spec.cross_reference_type),
        unit: Set(spec.unit),
        ..Default::default()
    };
    Ok(scope.insert(conn, row).await?)
}

/// Renames a product and/or replaces its metrics (matched by cross-reference type: new
/// ones are added, missing ones removed unless they have usage history).
pub(crate) async fn update_product(
    scope: &Scope,
    id: i64,
    name: Option<String>,
    metrics: Option<Vec<MetricSpec>>,
) -> AppResult<product::Model> {
    let current = product(scope, id).await?;
    let txn = scope.db().begin().await?;
    let mut row = current.clone().into_active_model();
    if let Some(name) = name {
        if product_name_taken(scope, current.service_id, &name, Some(id)).await? {
            return Err(AppError::Conflict(format!(
                "this service already has a product named {name:?}"
            )));
        }
        row.name = Set(name);
    }
    let updated = row.update(&txn).await?;
    if let Some(specs) = metrics {
        check_metric_specs(&specs)?;
        let existing = metrics_of_products(scope, &[id]).await?;
        for old in &existing {
            if specs
                .iter()
                .all(|s| s.cross_reference_type != old.cross_reference_type)
            {
                let samples = scope
                    .select::<usage_sample::Entity>()
                    .filter(usage_sample::Column::MetricId.eq(old.id))
                    .count(&txn)
                    .await?;
                if samples > 0 {
                    return Err(AppError::Conflict(format!(
                        "metric {:?} has {samples} usage sample(s) and cannot be removed",
                        old.cross_reference_type
                    )));
                }
                scope
                    .delete::<metric::Entity>()
                    .filter(metric::Column::Id.eq(old.id))
                    .exec(&txn)
                    .await?;
            }
        }
        for spec in specs {
            match existing
                .iter()
                .find(|m| m.cross_reference_type == spec.cross_reference_type)
            {
                Some(old) => {
                    let mut m = old.clone().into_active_model();
                    m.name = Set(spec.name);
                    m.unit = Set(spec.unit);
                    m.update(&txn).await?;
                }
                None => {
                    insert_metric(scope, &txn, id, spec).await?;
                }
            }
        }
    }
    txn.commit().await?;
    Ok(updated)
}

/// Deletes a product.
pub(crate) async fn delete_product(scope: &Scope, id: i64) -> AppResult<()> {
    let current = product(scope, id).await?;
    let mappings = scope
        .select::<billing_mapping::Entity>()
        .filter(billing_mapping::Column::ProductId.eq(id))
        .count(scope.db())
        .await?;
    let subscriptions = scope
        .select::<subscription::Entity>()
        .filter(subscription::Column::ProductId.eq(id))
        .count(scope.db())
        .await?;
    if mappings > 0 || subscriptions > 0 {
        return Err(AppError::Conflict(format!(
            "product {:?} is in use by {mappings} billing mapping(s) and {subscriptions} subscription(s)",
            current.name
        )));
    }
    let metric_ids: Vec<i64> = metrics_of_products(scope, &[id])
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    let txn = scope.db().begin().await?;
    // Usage of a product nobody subscribes to any more is history without an owner.
    scope
        .delete::<usage_sample::Entity>()
        .filter(usage_sample::Column::MetricId.is_in(metric_ids))
        .exec(&txn)
        .await?;
    scope
        .delete::<metric::Entity>()
        .filter(metric::Column::ProductId.eq(id))
        .exec(&txn)
        .await?;
    scope
        .delete::<plan::Entity>()
        .filter(plan::Column::ProductId.eq(id))
        .exec(&txn)
        .await?;
    scope
        .delete::<product::Entity>()
        .filter(product::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The metrics of these products.
pub(crate) async fn metrics_of_products(
    scope: &Scope,
    ids: &[i64],
) -> AppResult<Vec<metric::Model>> {
    Ok(scope
        .select::<metric::Entity>()
        .filter(metric::Column::ProductId.is_in(ids.iter().copied()))
        .order_by_asc(metric::Column::Id)
        .all(scope.db())
        .await?)
}

/// The metrics with these ids.
pub(crate) async fn metrics_by_id(scope: &Scope, ids: &[i64]) -> AppResult<Vec<metric::Model>> {
    let query = scope
        .select::<metric::Entity>()
        .filter(super::one_of::<metric::Entity>(
            scope.db().get_database_backend(),
            metric::Column::Id,
            ids,
        ));
    Ok(rows::all(scope.db(), query, |row| row.model()).await?)
}

/// The plans of these products.
pub(crate) async fn plans_of_products(scope: &Scope, ids: &[i64]) -> AppResult<Vec<plan::Model>> {
    Ok(scope
        .select::<plan::Entity>()
        .filter(plan::Column::ProductId.is_in(ids.iter().copied()))
        .order_by_asc(plan::Column::UniqueId)
        .all(scope.db())
        .await?)
}

/// The plans with these ids.
pub(crate) async fn plans_by_id(scope: &Scope, ids: &[i64]) -> AppResult<Vec<plan::Model>> {
    Ok(scope
        .select::<plan::Entity>()
        .filter(plan::Column::Id.is_in(ids.iter().copied()))
        .all(scope.db())
        .await?)
}

/// One plan, or `NOT_FOUND`.
pub async fn plan(scope: &Scope, id: i64) -> AppResult<plan::Model> {
    scope
        .get::<plan::Entity, _>(scope.db(), id)
        .await?
        .ok_or_else(|| AppError::not_found("plan", id))
}

/// A plan's fields as given on create (all) or update (each optional).
#[derive(Clone, Debug, Default)]
pub struct PlanSpec {
    pub unique_id: Option<String>,
    pub name: Option<String>,
    pub base_size_gb: Option<f64>,
    pub price: Option<Option<f64>>,
    pub block_size_gb: Option<Option<f64>>,
}

async fn unique_id_taken(
    scope: &Scope,
    product_id: i64,
    unique_id: &str,
    except: Option<i64>,
) -> AppResult<bool> {
    let mut query = scope
        .select::<plan::Entity>()
        .filter(plan::Column::ProductId.eq(product_id))
        .filter(plan::Column::UniqueId.eq(unique_id));
    if let Some(id) = except {
        query = query.filter(plan::Column::Id.ne(id));
    }
    Ok(query.count(scope.db()).await? > 0)
}

/// Adds a plan to a product.
pub(crate) async fn create_plan(
    scope: &Scope,
    product_id: i64,
    spec: PlanSpec,
) -> AppResult<plan::Model> {
    let owner = product(scope, product_id).await?;
    let unique_id = spec
        .unique_id
        .ok_or_else(|| AppError::bad_input("uniqueId", "is required"))?;
    if unique_id_taken(scope, product_id, &unique_id, None).await? {
        return Err(AppError::Conflict(format!(
            "product {:?} already has a plan with unique ID {unique_id:?}",
            owner.name
        )));
    }
    let row = plan::ActiveModel {
        product_id: Set(product_id),
        name: Set(spec.name.unwrap_or_else(|| unique_id.clone())),
        unique_id: Set(unique_id),
        base_size_gb: Set(spec.base_size_gb.unwrap_or(0.0)),
        price: Set(spec.price.flatten()),
        block_size_gb: Set(spec.block_size_gb.flatten()),
        ..Default::default()
    };
    Ok(scope.insert(scope.db(), row).await?)
}

/// Changes a plan.
pub(crate) async fn update_plan(scope: &Scope, id: i64, spec: PlanSpec) -> AppResult<plan::Model> {
    let current = plan(scope, id).await?;
    let mut row = current.clone().into_active_model();
    if let Some(unique_id) = spec.unique_id {
        if unique_id_taken(scope, current.product_id, &unique_id, Some(id)).await? {
            return Err(AppError::Conflict(format!(
                "this product already has a plan with unique ID {unique_id:?}"
            )));
        }
        row.unique_id = Set(unique_id);
    }
    if let Some(name) = spec.name {
        row.name = Set(name);
    }
    if let Some(base) = spec.base_size_gb {
        row.base_size_gb = Set(base);
    }
    if let Some(price) = spec.price {
        row.price = Set(price);
    }
    if let Some(block) = spec.block_size_gb {
        row.block_size_gb = Set(block);
    }
    Ok(row.update(scope.db()).await?)
}

/// Deletes a plan.
pub(crate) async fn delete_plan(scope: &Scope, id: i64) -> AppResult<()> {
    let current = plan(scope, id).await?;
    let mappings = scope
        .select::<billing_mapping::Entity>()
        .filter(billing_mapping::Column::PlanId.eq(id))
        .count(scope.db())
        .await?;
    if mappings > 0 {
        return Err(AppError::Conflict(format!(
            "plan {:?} is mapped; delete its billing mapping first",
            current.unique_id
        )));
    }
    let subscriptions = scope
        .select::<subscription::Entity>()
        .filter(subscription::Column::PlanId.eq(id))
        .count(scope.db())
        .await?;
    if subscriptions > 0 {
        return Err(AppError::Conflict(format!(
            "plan {:?} has {subscriptions} subscribed account(s)",
            current.unique_id
        )));
    }
    scope
        .delete::<plan::Entity>()
        .filter(plan::Column::Id.eq(id))
        .exec(scope.db())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, QueryTrait};

    use super::{Scope, rows, tree_query, tree_values};

    /// The services tree keeps its text: the values it binds must be the query's own.
    #[tokio::test]
    async fn the_kept_tree_text_binds_what_its_query_builds() {
        let db = crate::db::connect(crate::db::options("sqlite::memory:"))
            .await
            .unwrap();
        let scope = Scope::for_tenant_id(db, 7);
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for id in [None, Some(42)] {
                let built = tree_query(&scope, id).build(backend);
                let texts = rows::Texts::<1>::new();
                let kept = texts.statement(backend, 0, || built.clone(), tree_values(&scope, id));
                assert_eq!(kept.sql, built.sql, "{backend:?} {id:?}");
                assert_eq!(kept.values, built.values, "{backend:?} {id:?}");
            }
        }
    }
}
