//! The audit log: one row per change to the billing setup, the connection, the schedule,
//! users, tokens and webhooks. Rows are only added, never changed.

use chrono::Utc;
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};

use super::entity::audit_event;
use super::{Page, Scope, read_page};
use crate::error::AppResult;

/// What changed.
pub struct Change {
    /// The kind of thing changed, e.g. `mapping`.
    pub entity: &'static str,
    /// What was done to it, e.g. `create`.
    pub verb: &'static str,
    pub entity_id: Option<String>,
    /// One human sentence, never a secret.
    pub summary: String,
}

pub async fn record(scope: &Scope, actor: &str, change: Change) -> AppResult<audit_event::Model> {
    let row = audit_event::ActiveModel {
        at: Set(Utc::now()),
        actor: Set(actor.to_owned()),
        action: Set(format!("{}.{}", change.entity, change.verb)),
        entity: Set(change.entity.to_owned()),
        entity_id: Set(change.entity_id),
        summary: Set(change.summary),
        ..Default::default()
    };
    Ok(scope.insert(scope.db(), row).await?)
}

/// Events newest first, after the event `after`, optionally of one entity kind.
pub async fn page(
    scope: &Scope,
    entity: Option<&str>,
    after: Option<i64>,
    first: u64,
) -> AppResult<Page<audit_event::Model>> {
    let mut query = scope.select::<audit_event::Entity>();
    if let Some(entity) = entity {
        query = query.filter(audit_event::Column::Entity.eq(entity));
    }
    let total = query.clone().count(scope.db()).await?;
    if let Some(after) = after {
        query = query.filter(audit_event::Column::Id.lt(after));
    }
    let query = query.order_by_desc(audit_event::Column::Id);
    Ok(read_page(scope.db(), query, first, total).await?)
}
