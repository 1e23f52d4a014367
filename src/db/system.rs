//! The scheduler's cross-tenant queries. They only find *which* tenants and runs need work;
//! the work itself goes through each tenant's `Scope`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::entity::{push_run, push_schedule};

/// Every enabled schedule.
pub async fn enabled_schedules(
    db: &DatabaseConnection,
) -> Result<Vec<push_schedule::Model>, DbErr> {
    push_schedule::Entity::find()
        .filter(push_schedule::Column::Enabled.eq(true))
        .all(db)
        .await
}

/// Running runs whose owner stopped renewing its lease.
pub async fn expired_runs(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<push_run::Model>, DbErr> {
    push_run::Entity::find()
        .filter(push_run::Column::Status.eq("RUNNING"))
        .filter(push_run::Column::LeaseExpiresAt.lt(now))
        .all(db)
        .await
}

/// Takes over an expired run; true only for the one replica whose update won.
pub async fn claim(
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
        .filter(push_run::Column::Status.eq("RUNNING"))
        .filter(push_run::Column::LeaseExpiresAt.lt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
