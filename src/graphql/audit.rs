//! The audit log, for admins: who changed which mapping, plan, level, schedule,
//! connection, user, token or webhook, and when.

use async_graphql::connection::{Connection, OpaqueCursor};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use std::future::Future;

use super::guard::MinRole;
use super::input::{self, Totals};
use super::{scope, viewer};
use crate::auth::Role;
use crate::db::Scope;
use crate::db::audit::{self, Change};
use crate::error::AppResult;

/// Entity kinds the log knows, for the `entity` filter.
const ENTITIES: [&str; 12] = [
    "service",
    "product",
    "plan",
    "level",
    "mapping",
    "connection",
    "schedule",
    "push_settings",
    "user",
    "api_token",
    "webhook",
    "import",
];

/// One change.
#[derive(SimpleObject)]
pub(crate) struct AuditEvent {
    pub id: ID,
    pub at: DateTime<Utc>,
    /// The user's email or the API token's subject.
    pub actor: String,
    /// `<entity>.<verb>`, e.g. `mapping.create`, `api_token.revoke`.
    pub action: String,
    /// `service`, `product`, `plan`, `level`, `mapping`, `connection`, `schedule`,
    /// `user`, `api_token`, `webhook` or `import`.
    pub entity: String,
    pub entity_id: Option<ID>,
    /// What changed, in words (never a secret).
    pub summary: String,
}

/// Makes a change under the caller's name and records it in the audit log, in one
/// transaction: `change` gets the scope to make it through (call the parameter `scope`, so
/// the request's own scope is out of reach inside) and answers with its result and the
/// entry to record (see [`entry`]). The only way an audited mutation writes.
pub async fn audited<T, N, F, Fut>(ctx: &Context<'_>, change: F) -> AppResult<T>
where
    F: FnOnce(Scope) -> Fut,
    Fut: Future<Output = AppResult<(T, N)>>,
    N: Into<Option<Change>>,
{
    audit::audited(scope(ctx), &viewer(ctx).subject, change).await
}

/// What the audit log says about a change.
pub fn entry(
    entity: &'static str,
    verb: &'static str,
    entity_id: Option<i64>,
    summary: String,
) -> Change {
    debug_assert!(ENTITIES.contains(&entity));
    Change {
        entity,
        verb,
        entity_id: entity_id.map(|id| id.to_string()),
        summary,
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Changes, newest first, optionally of one kind of entity (`mapping`, `plan`,
    /// `level`, `connection`, `schedule`, `user`, `api_token`, `webhook`, …).
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
        entity: Option<String>,
    ) -> Result<Connection<OpaqueCursor<i64>, AuditEvent, Totals>> {
        let first = input::page_size(first, 200)?;
        let after = input::cursor::<i64>(after)?;
        if let Some(entity) = entity.as_deref()
            && !ENTITIES.contains(&input::text("entity", entity, input::SETTING)?)
        {
            return Err(crate::error::AppError::bad_input(
                "entity",
                format!("give one of {}", ENTITIES.join(", ")),
            )
            .into());
        }
        let page = audit::page(scope(ctx), entity.as_deref(), after, first).await?;
        Ok(input::connection(page, after.is_some(), |e| {
            let event = AuditEvent {
                id: e.id.into(),
                at: e.at,
                actor: e.actor,
                action: e.action,
                entity: e.entity,
                entity_id: e.entity_id.map(ID::from),
                summary: e.summary,
            };
            (e.id, event)
        }))
    }
}
