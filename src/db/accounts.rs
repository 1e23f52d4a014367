//! Accounts (the MSP's customers at the vendor) and their subscriptions.

use chrono::Utc;
use sea_orm::sea_query::{Asterisk, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, TransactionTrait,
};
use std::collections::{HashMap, HashSet};

use super::entity::{account, account_link, latest_usage, metric, plan, product, subscription};
use super::{Page, Scope, catalog, like, read_page, rows};
use crate::domain::LinkState;
use crate::error::{AppError, AppResult};

/// The most rows one batch mutation takes; larger imports are split by the caller.
pub const MAX_BATCH: usize = 1000;

/// An account to import, with its subscriptions.
#[derive(Clone, Debug)]
pub struct AccountInput {
    pub name: String,
    pub link_identifier: Option<String>,
    pub subscriptions: Vec<SubscriptionInput>,
}

/// A product (and plan) an imported account subscribes to.
#[derive(Clone, Copy, Debug)]
pub struct SubscriptionInput {
    pub product_id: i64,
    pub plan_id: Option<i64>,
}

/// Checks a whole batch before anything is written, so a bad row writes nothing.
async fn check_batch(scope: &Scope, rows: &[AccountInput]) -> AppResult<()> {
    if rows.len() > MAX_BATCH {
        return Err(AppError::bad_input(
            "input",
            format!("{} rows given; at most {MAX_BATCH} per call", rows.len()),
        ));
    }
    let product_ids: Vec<i64> = rows
        .iter()
        .flat_map(|r| r.subscriptions.iter().map(|s| s.product_id))
        .collect();
    let plan_ids: Vec<i64> = rows
        .iter()
        .flat_map(|r| r.subscriptions.iter().filter_map(|s| s.plan_id))
        .collect();
    let products: HashMap<i64, product::Model> = catalog::products_by_id(scope, &product_ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let plans: HashMap<i64, plan::Model> = catalog::plans_by_id(scope, &plan_ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut names = HashSet::new();
    for (index, row) in rows.iter().enumerate() {
        let at = |e: AppError| e.at_row("input", index);
        if !names.insert(row.name.as_str()) {
            return Err(at(AppError::bad_input(
                "name",
                format!("account {:?} appears twice in this batch", row.name),
            )));
        }
        let mut seen = HashSet::new();
        for (s, sub) in row.subscriptions.iter().enumerate() {
            let field = |f: &str| format!("subscriptions[{s}].{f}");
            let Some(product) = products.get(&sub.product_id) else {
                return Err(at(AppError::bad_input(
                    field("productId"),
                    format!("product {} does not exist", sub.product_id),
                )));
            };
            if !seen.insert(sub.product_id) {
                return Err(at(AppError::bad_input(
                    field("productId"),
                    format!(
                        "{:?} is listed twice; an account subscribes to a product once",
                        product.name
                    ),
                )));
            }
            if let Some(plan_id) = sub.plan_id {
                match plans.get(&plan_id) {
                    None => {
                        return Err(at(AppError::bad_input(
                            field("planId"),
                            format!("plan {plan_id} does not exist"),
                        )));
                    }
                    Some(plan) if plan.product_id != product.id => {
                        return Err(at(AppError::bad_input(
                            field("planId"),
                            format!(
                                "plan {:?} is not a plan of product {:?}",
                                plan.unique_id, product.name
                            ),
                        )));
                    }
                    Some(_) => {}
                }
            }
        }
    }
    Ok(())
}

/// Creates or updates accounts by name, replacing each one's subscriptions with the given
/// ones, all in one transaction.
pub async fn upsert(scope: &Scope, rows: Vec<AccountInput>) -> AppResult<Vec<account::Model>> {
    check_batch(scope, &rows).await?;
    let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let txn = scope.db().begin().await?;
    let existing: HashMap<String, account::Model> = scope
        .select::<account::Entity>()
        .filter(account::Column::Name.is_in(names))
        .all(&txn)
        .await?
        .into_iter()
        .map(|a| (a.name.clone(), a))
        .collect();
    let now = Utc::now();
    let mut saved = Vec::with_capacity(rows.len());
    for row in rows {
        let account = match existing.get(&row.name) {
            Some(current) => {
                let mut am = current.clone().into_active_model();
                am.link_identifier = Set(row.link_identifier.clone());
                am.updated_at = Set(now);
                am.update(&txn).await?
            }
            None => {
                let am = account::ActiveModel {
                    name: Set(row.name.clone()),
                    link_identifier: Set(row.link_identifier.clone()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                };
                scope.insert(&txn, am).await?
            }
        };
        let current: Vec<subscription::Model> = scope
            .select::<subscription::Entity>()
            .filter(subscription::Column::AccountId.eq(account.id))
            .all(&txn)
            .await?;
        for old in &current {
            if row
                .subscriptions
                .iter()
                .all(|s| s.product_id != old.product_id)
            {
                scope
                    .delete::<subscription::Entity>()
                    .filter(subscription::Column::Id.eq(old.id))
                    .exec(&txn)
                    .await?;
            }
        }
        for sub in &row.subscriptions {
            match current.iter().find(|c| c.product_id == sub.product_id) {
                Some(old) if old.plan_id == sub.plan_id => {}
                Some(old) => {
                    let mut am = old.clone().into_active_model();
                    am.plan_id = Set(sub.plan_id);
                    am.update(&txn).await?;
                }
                None => {
                    let am = subscription::ActiveModel {
                        account_id: Set(account.id),
                        product_id: Set(sub.product_id),
                        plan_id: Set(sub.plan_id),
                        ..Default::default()
                    };
                    scope.insert(&txn, am).await?;
                }
            }
        }
        saved.push(account);
    }
    txn.commit().await?;
    Ok(saved)
}

/// Deletes the named accounts with their subscriptions and usage history (the foreign
/// keys cascade). Names that do not exist are ignored, so a repeat is harmless.
pub async fn delete(scope: &Scope, names: &[String]) -> AppResult<u64> {
    if names.len() > MAX_BATCH {
        return Err(AppError::bad_input(
            "names",
            format!("{} names given; at most {MAX_BATCH} per call", names.len()),
        ));
    }
    let result = scope
        .delete::<account::Entity>()
        .filter(account::Column::Name.is_in(names.iter().cloned()))
        .exec(scope.db())
        .await?;
    Ok(result.rows_affected)
}

/// Which accounts a listing shows.
#[derive(Clone, Debug, Default)]
pub struct AccountFilter {
    pub service_id: Option<i64>,
    pub product_id: Option<i64>,
    pub plan_id: Option<i64>,
    pub search: Option<String>,
    /// As the last company sync left it.
    pub link_state: Option<LinkState>,
}

fn subscribed(scope: &Scope, column: subscription::Column, ids: SubQueryIds) -> Condition {
    let mut sub = Query::select();
    sub.column(subscription::Column::AccountId)
        .from(subscription::Entity)
        .and_where(subscription::Column::TenantId.eq(scope.tenant_id()));
    match ids {
        SubQueryIds::One(id) => {
            sub.and_where(column.eq(id));
        }
        SubQueryIds::ProductsOfService(service_id) => {
            let mut products = Query::select();
            products
                .column(product::Column::Id)
                .from(product::Entity)
                .and_where(product::Column::TenantId.eq(scope.tenant_id()))
                .and_where(product::Column::ServiceId.eq(service_id));
            sub.and_where(column.in_subquery(products));
        }
    }
    Condition::all().add(account::Column::Id.in_subquery(sub))
}

enum SubQueryIds {
    One(i64),
    ProductsOfService(i64),
}

/// A page of accounts by name after `after`; `count`: also count every match (`total`,
/// 0 when not asked for — a statement the caller may not need); `links`: also the
/// accounts' links to ConnectWise companies, joined in the same statement.
pub async fn page(
    scope: &Scope,
    filter: &AccountFilter,
    after: Option<&str>,
    first: u64,
    count: bool,
    links: bool,
) -> AppResult<(Page<account::Model>, Option<Vec<account_link::Model>>)> {
    // Filters naming another tenant's (or no) record answer NOT_FOUND, not an empty page.
    if let Some(id) = filter.service_id {
        catalog::service(scope, id).await?;
    }
    if let Some(id) = filter.product_id {
        catalog::product(scope, id).await?;
    }
    if let Some(id) = filter.plan_id {
        catalog::plan(scope, id).await?;
    }
    let mut query = scope.select::<account::Entity>();
    if let Some(id) = filter.service_id {
        query = query.filter(subscribed(
            scope,
            subscription::Column::ProductId,
            SubQueryIds::ProductsOfService(id),
        ));
    }
    if let Some(id) = filter.product_id {
        query = query.filter(subscribed(
            scope,
            subscription::Column::ProductId,
            SubQueryIds::One(id),
        ));
    }
    if let Some(id) = filter.plan_id {
        query = query.filter(subscribed(
            scope,
            subscription::Column::PlanId,
            SubQueryIds::One(id),
        ));
    }
    if let Some(state) = filter.link_state {
        let mut linked = Query::select();
        linked
            .column(account_link::Column::AccountId)
            .from(account_link::Entity)
            .and_where(account_link::Column::TenantId.eq(scope.tenant_id()))
            .and_where(account_link::Column::State.eq(state));
        query = query.filter(account::Column::Id.in_subquery(linked));
    }
    if let Some(text) = filter.search.as_deref().filter(|t| !t.is_empty()) {
        let backend = scope.db().get_database_backend();
        let contains = |col: account::Column| like::contains(backend, (account::Entity, col), text);
        query = query.filter(
            Condition::any()
                .add(contains(account::Column::Name))
                .add(contains(account::Column::LinkIdentifier)),
        );
    }
    let matching = query.clone();
    if let Some(after) = after {
        query = query.filter(account::Column::Name.gt(after));
    }
    let query = query.order_by_asc(account::Column::Name);
    if !links {
        let total = match count {
            true => matching.count(scope.db()).await?,
            false => 0,
        };
        return Ok((read_page(scope.db(), query, first, total).await?, None));
    }
    let mut query = query.find_also_related(account_link::Entity);
    if count {
        // The count rides along as a last column, a subquery PostgreSQL and SQLite compute
        // once per statement: a round trip less for every page that shows its total.
        let mut total = Query::select();
        total
            .expr(Expr::col(Asterisk).count())
            .from_subquery(matching.clone().into_query(), "matching");
        query = query.expr(Expr::SubQuery(None, Box::new(total.into())));
    }
    let statement = super::limited(&query, scope.db().get_database_backend(), first + 1);
    let mut counted = None;
    let rows = rows::of(scope.db(), statement, |row| {
        let read = (row.model()?, row.joined()?);
        if count {
            counted = Some(row.value::<i64>()?);
        }
        Ok(read)
    })
    .await?;
    let total = match counted {
        Some(total) => u64::try_from(total).unwrap_or_default(),
        // No row to carry the count: none match, or none after the cursor.
        None if count && after.is_some() => matching.count(scope.db()).await?,
        None => 0,
    };
    let Page {
        rows,
        has_next,
        total,
    } = Page::of(rows, first, total);
    let (rows, links): (Vec<_>, Vec<_>) = rows.into_iter().unzip();
    let page = Page {
        rows,
        has_next,
        total,
    };
    Ok((page, Some(links.into_iter().flatten().collect())))
}

/// Every account of the tenant.
pub async fn all(scope: &Scope) -> AppResult<Vec<account::Model>> {
    Ok(scope.select::<account::Entity>().all(scope.db()).await?)
}

/// The accounts with these ids.
pub(crate) async fn by_ids(scope: &Scope, ids: &[i64]) -> AppResult<Vec<account::Model>> {
    Ok(scope
        .select::<account::Entity>()
        .filter(account::Column::Id.is_in(ids.iter().copied()))
        .all(scope.db())
        .await?)
}

/// The accounts with these names.
pub(crate) async fn by_names(scope: &Scope, names: &[String]) -> AppResult<Vec<account::Model>> {
    Ok(scope
        .select::<account::Entity>()
        .filter(account::Column::Name.is_in(names.iter().cloned()))
        .all(scope.db())
        .await?)
}

/// Subscriptions with their plans and (when asked for) products, each plan and product
/// once.
#[derive(Default)]
pub(crate) struct Joined {
    pub subscriptions: Vec<subscription::Model>,
    pub plans: Vec<plan::Model>,
    pub products: Vec<product::Model>,
}

/// The subscriptions of these accounts, with their plans and (when `products`) their
/// products, in one statement.
pub(crate) async fn subscriptions_joined(
    scope: &Scope,
    ids: &[i64],
    products: bool,
) -> AppResult<Joined> {
    let backend = scope.db().get_database_backend();
    let query = scope
        .select::<subscription::Entity>()
        .filter(super::one_of::<subscription::Entity>(
            backend,
            subscription::Column::AccountId,
            ids,
        ))
        .order_by_asc(subscription::Column::Id)
        .find_also_related(plan::Entity);
    // The product's columns come last, so one reader serves both statements.
    let statement = if products {
        query
            .find_also(subscription::Entity, product::Entity)
            .build(backend)
    } else {
        query.build(backend)
    };
    let mut joined = Joined::default();
    let (mut seen_plans, mut seen_products) = (rows::IdSet::default(), rows::IdSet::default());
    rows::of(scope.db(), statement, |row| {
        joined.subscriptions.push(row.model()?);
        joined.plans.extend(row.first_seen(&mut seen_plans)?);
        if products {
            joined.products.extend(row.first_seen(&mut seen_products)?);
        }
        Ok(())
    })
    .await?;
    Ok(joined)
}

/// The subscriptions of these accounts.
pub(crate) async fn subscriptions_of_accounts(
    scope: &Scope,
    ids: &[i64],
) -> AppResult<Vec<subscription::Model>> {
    Ok(scope
        .select::<subscription::Entity>()
        .filter(subscription::Column::AccountId.is_in(ids.iter().copied()))
        .order_by_asc(subscription::Column::Id)
        .all(scope.db())
        .await?)
}

/// The subscriptions to these products.
pub(crate) async fn subscriptions_of_products(
    scope: &Scope,
    product_ids: &[i64],
) -> AppResult<Vec<subscription::Model>> {
    Ok(scope
        .select::<subscription::Entity>()
        .filter(subscription::Column::ProductId.is_in(product_ids.iter().copied()))
        .order_by_asc(subscription::Column::Id)
        .all(scope.db())
        .await?)
}

/// The subscriptions of the given products that are not plainly ready to push: their
/// account is not linked to a ConnectWise company, or some metric of their product has no
/// usage for the account. Usually a few; every other subscription is linked and has usage
/// for each of its product's metrics, which is all a readiness count needs to know of it.
pub(crate) async fn unready_subscriptions(
    scope: &Scope,
    product_ids: &[i64],
) -> AppResult<Vec<subscription::Model>> {
    let mut linked = Query::select();
    linked
        .column(account_link::Column::AccountId)
        .from(account_link::Entity)
        .and_where(account_link::Column::TenantId.eq(scope.tenant_id()))
        .and_where(account_link::Column::State.eq(LinkState::Linked));
    // A metric of the subscription's product that the account never reported: the pair
    // has no `latest_usage` row (a primary-key probe, not a search of the history).
    let mut reported = Query::select();
    reported
        .expr(Expr::val(1))
        .from_as(latest_usage::Entity, "u")
        .and_where(Expr::col(("u", latest_usage::Column::TenantId)).eq(scope.tenant_id()))
        .and_where(
            Expr::col(("u", latest_usage::Column::AccountId))
                .equals((subscription::Entity, subscription::Column::AccountId)),
        )
        .and_where(
            Expr::col(("u", latest_usage::Column::MetricId)).equals(("m", metric::Column::Id)),
        );
    let mut unreported = Query::select();
    unreported
        .expr(Expr::val(1))
        .from_as(metric::Entity, "m")
        .and_where(Expr::col(("m", metric::Column::TenantId)).eq(scope.tenant_id()))
        .and_where(
            Expr::col(("m", metric::Column::ProductId))
                .equals((subscription::Entity, subscription::Column::ProductId)),
        )
        .and_where(Expr::exists(reported).not());
    Ok(scope
        .select::<subscription::Entity>()
        .filter(subscription::Column::ProductId.is_in(product_ids.iter().copied()))
        .filter(
            Condition::any()
                .add(subscription::Column::AccountId.not_in_subquery(linked))
                .add(Expr::exists(unreported)),
        )
        .all(scope.db())
        .await?)
}

/// How many subscriptions each (product, plan) of the given products has.
pub(crate) async fn subscription_counts(
    scope: &Scope,
    product_ids: &[i64],
) -> AppResult<Vec<(i64, Option<i64>, i64)>> {
    Ok(scope
        .select::<subscription::Entity>()
        .select_only()
        .column(subscription::Column::ProductId)
        .column(subscription::Column::PlanId)
        .column_as(subscription::Column::Id.count(), "count")
        .filter(subscription::Column::ProductId.is_in(product_ids.iter().copied()))
        .group_by(subscription::Column::ProductId)
        .group_by(subscription::Column::PlanId)
        .into_tuple()
        .all(scope.db())
        .await?)
}
