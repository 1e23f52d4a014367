//! Each tenant's push schedule, and the slot records that make every scheduled slot run once
//! across replicas.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, IntoActiveModel, QueryOrder, Set, SqlErr};

use super::Scope;
use super::entity::{push_schedule, push_slot};
use crate::error::AppResult;

/// The tenant's schedule, if one was saved.
pub async fn get(scope: &Scope) -> AppResult<Option<push_schedule::Model>> {
    Ok(scope
        .select::<push_schedule::Entity>()
        .one(scope.db())
        .await?)
}

/// A schedule as saved.
pub struct ScheduleInput {
    pub enabled: bool,
    pub time_of_day: String,
    pub time_zone: String,
    pub cron: Option<String>,
}

/// Saves the tenant's schedule.
pub(crate) async fn save(
    scope: &Scope,
    input: ScheduleInput,
    who: &str,
    now: DateTime<Utc>,
) -> AppResult<push_schedule::Model> {
    match get(scope).await? {
        Some(current) => {
            let mut row = current.into_active_model();
            row.enabled = Set(input.enabled);
            row.time_of_day = Set(input.time_of_day);
            row.time_zone = Set(input.time_zone);
            row.cron = Set(input.cron);
            row.updated_by = Set(who.to_owned());
            row.updated_at = Set(now);
            Ok(row.update(scope.db()).await?)
        }
        None => {
            let row = push_schedule::ActiveModel {
                enabled: Set(input.enabled),
                time_of_day: Set(input.time_of_day),
                time_zone: Set(input.time_zone),
                cron: Set(input.cron),
                updated_by: Set(who.to_owned()),
                updated_at: Set(now),
                ..Default::default()
            };
            Ok(scope.insert(scope.db(), row).await?)
        }
    }
}

/// Records `slot_at` as taken by `owner`; `None` when another replica took it first.
pub(crate) async fn claim_slot(
    scope: &Scope,
    slot_at: DateTime<Utc>,
    owner: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<push_slot::Model>> {
    let row = push_slot::ActiveModel {
        slot_at: Set(slot_at),
        run_id: Set(None),
        claimed_by: Set(owner.to_owned()),
        note: Set(None),
        created_at: Set(now),
        ..Default::default()
    };
    match scope.insert(scope.db(), row).await {
        Ok(slot) => Ok(Some(slot)),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Records what a claimed slot became: its run, or why none.
pub(crate) async fn settle_slot(
    scope: &Scope,
    slot: push_slot::Model,
    run_id: Option<i64>,
    note: Option<String>,
) -> AppResult<()> {
    let mut row = slot.into_active_model();
    row.run_id = Set(run_id);
    row.note = Set(note);
    row.update(scope.db()).await?;
    Ok(())
}

/// The tenant's claimed slots, oldest first.
pub async fn slots(scope: &Scope) -> AppResult<Vec<push_slot::Model>> {
    Ok(scope
        .select::<push_slot::Entity>()
        .order_by_asc(push_slot::Column::SlotAt)
        .all(scope.db())
        .await?)
}

/// The last slot taken, to show when the schedule last fired.
pub(crate) async fn last_slot(scope: &Scope) -> AppResult<Option<push_slot::Model>> {
    Ok(scope
        .select::<push_slot::Entity>()
        .order_by_desc(push_slot::Column::SlotAt)
        .one(scope.db())
        .await?)
}
