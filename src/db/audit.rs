//! The audit log: one row per change to the billing setup, the connection, the schedule,
//! users, tokens and webhooks. Rows are only added, never changed, and each is written in
//! the transaction of the change it records ([`audited`]): both are kept, or neither.

use chrono::Utc;
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use std::future::Future;

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

/// Makes a change and records it, in one transaction: `change` gets the scope whose every
/// statement runs in that transaction and answers its result with what to record (`None`
/// when nothing changed). Any error — the change's or the audit row's — rolls both back.
pub async fn audited<T, N, F, Fut>(scope: &Scope, actor: &str, change: F) -> AppResult<T>
where
    F: FnOnce(Scope) -> Fut,
    Fut: Future<Output = AppResult<(T, N)>>,
    N: Into<Option<Change>>,
{
    let txn = scope.begin().await?;
    // The change's future (and with it its copy of the scope) ends with this statement.
    let made = change(txn.scope()).await;
    let recorded = match made {
        Ok((value, noted)) => match noted.into() {
            Some(noted) => record(&txn.scope(), actor, noted).await.map(|_| value),
            None => Ok(value),
        },
        Err(error) => Err(error),
    };
    match recorded {
        Ok(value) => {
            txn.commit().await?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(error = ?rollback, "rolling back a change that failed");
            }
            Err(error)
        }
    }
}

/// Adds one row. Only through [`audited`], so it shares its change's transaction.
async fn record(scope: &Scope, actor: &str, change: Change) -> AppResult<audit_event::Model> {
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
