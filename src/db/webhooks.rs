//! A tenant's webhooks, their deliveries (one per webhook and finished run) and every
//! delivery attempt.
//!
//! The signing secret is sealed here on the way in and opened only by `secret`, for the
//! delivery worker; no other function returns it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr, TransactionTrait,
};
use std::collections::HashMap;

use super::entity::{webhook, webhook_attempt, webhook_delivery};
use super::{Page, Scope, read_page};
use crate::crypto::MasterKey;
use crate::domain::DeliveryStatus;
use crate::error::{AppError, AppResult};

/// The associated data a tenant's webhook secrets are sealed with.
fn owner(scope: &Scope) -> String {
    format!("billbridge/webhook-secret/tenant/{}", scope.tenant_id())
}

/// A webhook to add.
pub struct NewWebhook {
    pub url: String,
    pub description: Option<String>,
}

/// Stores a webhook with `secret` sealed; the caller shows the secret once and forgets it.
pub async fn create(
    scope: &Scope,
    master: &MasterKey,
    input: NewWebhook,
    secret: &str,
    who: &str,
    now: DateTime<Utc>,
) -> AppResult<webhook::Model> {
    let row = webhook::ActiveModel {
        url: Set(input.url),
        secret_sealed: Set(master.seal(&owner(scope), secret.as_bytes())),
        description: Set(input.description),
        created_by: Set(who.to_owned()),
        created_at: Set(now),
        ..Default::default()
    };
    Ok(scope.insert(scope.db(), row).await?)
}

/// The tenant's webhooks, oldest first.
pub async fn list(scope: &Scope) -> AppResult<Vec<webhook::Model>> {
    Ok(scope
        .select::<webhook::Entity>()
        .order_by_asc(webhook::Column::Id)
        .all(scope.db())
        .await?)
}

/// One webhook, or `NOT_FOUND`.
pub async fn get(scope: &Scope, id: i64) -> AppResult<webhook::Model> {
    scope
        .get::<webhook::Entity, _>(scope.db(), id)
        .await?
        .ok_or_else(|| AppError::not_found("webhook", id))
}

/// Deletes a webhook; its deliveries and their attempts go with it (the foreign keys
/// cascade), so a delivery in flight finds nothing to record against and stops.
pub async fn delete(scope: &Scope, id: i64) -> AppResult<()> {
    get(scope, id).await?;
    scope
        .delete::<webhook::Entity>()
        .filter(webhook::Column::Id.eq(id))
        .exec(scope.db())
        .await?;
    Ok(())
}

/// The signing secret, for the delivery worker only.
pub fn secret(scope: &Scope, master: &MasterKey, hook: &webhook::Model) -> AppResult<Vec<u8>> {
    master
        .open(&owner(scope), &hook.secret_sealed)
        .map_err(|e| AppError::internal("cannot open a webhook secret", e))
}

/// A pending delivery of `body` to each of `hooks` (the tenant's, from `list`), due at
/// `now`. A webhook that already has a delivery for the run is left alone, so enqueueing a
/// run twice sends it once. Returns the deliveries created.
pub async fn enqueue(
    scope: &Scope,
    hooks: &[webhook::Model],
    run_id: i64,
    body: &str,
    now: DateTime<Utc>,
) -> AppResult<Vec<webhook_delivery::Model>> {
    let mut created = Vec::new();
    // One statement per webhook, outside a transaction: a PostgreSQL transaction would be
    // spoilt by the first unique-index clash, and a tenant has a handful of webhooks.
    for hook in hooks {
        let row = webhook_delivery::ActiveModel {
            webhook_id: Set(hook.id),
            run_id: Set(run_id),
            body: Set(body.to_owned()),
            status: Set(DeliveryStatus::Pending),
            attempts: Set(0),
            next_attempt_at: Set(Some(now)),
            created_at: Set(now),
            ..Default::default()
        };
        match scope.insert(scope.db(), row).await {
            Ok(delivery) => created.push(delivery),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(created)
}

/// A delivery with its attempts in order.
pub(crate) type DeliveryWithAttempts = (webhook_delivery::Model, Vec<webhook_attempt::Model>);

/// A webhook's deliveries newest first, after the delivery `after`, with their attempts
/// (fetched in one statement for the page, so the page costs the same whatever its size).
pub async fn deliveries(
    scope: &Scope,
    webhook_id: i64,
    after: Option<i64>,
    first: u64,
) -> AppResult<Page<DeliveryWithAttempts>> {
    get(scope, webhook_id).await?;
    let query = scope
        .select::<webhook_delivery::Entity>()
        .filter(webhook_delivery::Column::WebhookId.eq(webhook_id));
    let total = query.clone().count(scope.db()).await?;
    let query = match after {
        Some(after) => query.filter(webhook_delivery::Column::Id.lt(after)),
        None => query,
    };
    let query = query.order_by_desc(webhook_delivery::Column::Id);
    let page = read_page(scope.db(), query, first, total).await?;
    let ids: Vec<i64> = page.rows.iter().map(|d| d.id).collect();
    let attempts = if ids.is_empty() {
        Vec::new()
    } else {
        scope
            .select::<webhook_attempt::Entity>()
            .filter(webhook_attempt::Column::DeliveryId.is_in(ids))
            .order_by_asc(webhook_attempt::Column::Attempt)
            .all(scope.db())
            .await?
    };
    let mut by_delivery: HashMap<i64, Vec<webhook_attempt::Model>> = HashMap::new();
    for attempt in attempts {
        by_delivery
            .entry(attempt.delivery_id)
            .or_default()
            .push(attempt);
    }
    let deliveries = page
        .rows
        .into_iter()
        .map(|d| {
            let attempts = by_delivery.remove(&d.id).unwrap_or_default();
            (d, attempts)
        })
        .collect();
    Ok(Page {
        rows: deliveries,
        has_next: page.has_next,
        total: page.total,
    })
}

/// One POST of a delivery, as it went.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status; `None` when no response came.
    pub response_status: Option<i32>,
    /// Why no response came (connection refused, timeout…).
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// What becomes of a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    Delivered,
    RetryAt(DateTime<Utc>),
    /// Out of attempts.
    GiveUp,
}

/// Records attempt number `delivery.attempts + 1` and what follows it, in one transaction.
/// False (and nothing written) when the delivery moved on since it was claimed, i.e. another
/// worker took it over after this one's lease ran out.
pub(crate) async fn record_attempt(
    scope: &Scope,
    delivery: &webhook_delivery::Model,
    attempt: Attempt,
    next: Next,
) -> AppResult<bool> {
    let number = delivery.attempts + 1;
    let (status, next_at) = match next {
        Next::Delivered => (DeliveryStatus::Delivered, None),
        Next::RetryAt(at) => (DeliveryStatus::Pending, Some(at)),
        Next::GiveUp => (DeliveryStatus::Failed, None),
    };
    let txn = scope.db().begin().await?;
    let moved = scope
        .update::<webhook_delivery::Entity>()
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(number))
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(next_at),
        )
        .filter(webhook_delivery::Column::Id.eq(delivery.id))
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_delivery::Column::Attempts.eq(delivery.attempts))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    let row = webhook_attempt::ActiveModel {
        delivery_id: Set(delivery.id),
        attempt: Set(number),
        attempted_at: Set(attempt.at),
        response_status: Set(attempt.response_status),
        error: Set(attempt.error),
        duration_ms: Set(attempt.duration_ms),
        ..Default::default()
    };
    scope.insert(&txn, row).await?;
    txn.commit().await?;
    Ok(true)
}
