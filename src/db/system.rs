//! The background workers' cross-tenant queries: the scheduler's and the webhook delivery
//! worker's. They only find and claim *which* rows need work (each carries its tenant id);
//! the work itself goes through each tenant's `Scope`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::{push_run, push_schedule, webhook_delivery};
use crate::domain::{DeliveryStatus, RunStatus};

/// Every enabled schedule.
pub(crate) async fn enabled_schedules(
    db: &DatabaseConnection,
) -> Result<Vec<push_schedule::Model>, DbErr> {
    push_schedule::Entity::find()
        .filter(push_schedule::Column::Enabled.eq(true))
        .all(db)
        .await
}

/// Running runs whose owner stopped renewing its lease.
pub(crate) async fn expired_runs(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<push_run::Model>, DbErr> {
    push_run::Entity::find()
        .filter(push_run::Column::Status.eq(RunStatus::Running))
        .filter(push_run::Column::LeaseExpiresAt.lt(now))
        .all(db)
        .await
}

/// Takes over an expired run; true only for the one replica whose update won.
pub(crate) async fn claim(
    db: &DatabaseConnection,
    run: &push_run::Model,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = push_run::Entity::update_many()
        .col_expr(push_run::Column::LeaseOwner, Expr::value(owner))
        .col_expr(push_run::Column::LeaseExpiresAt, Expr::value(until))
        .filter(push_run::Column::Id.eq(run.id))
        .filter(push_run::Column::TenantId.eq(run.tenant_id))
        .filter(push_run::Column::Status.eq(RunStatus::Running))
        .filter(push_run::Column::LeaseExpiresAt.lt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Pending webhook deliveries whose next attempt is due, most overdue first.
pub(crate) async fn due_deliveries(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<webhook_delivery::Model>, DbErr> {
    webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .order_by_asc(webhook_delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Takes a due delivery for one attempt by moving its next attempt to `until`, a lease: no
/// other worker sees it due until then, and if this one dies mid-attempt the delivery is
/// simply due again. True only for the one replica whose update won; the `attempts` check
/// also refuses a claim made from a stale read.
pub(crate) async fn claim_delivery(
    db: &DatabaseConnection,
    delivery: &webhook_delivery::Model,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(until))
        .filter(webhook_delivery::Column::Id.eq(delivery.id))
        .filter(webhook_delivery::Column::TenantId.eq(delivery.tenant_id))
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_delivery::Column::Attempts.eq(delivery.attempts))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
