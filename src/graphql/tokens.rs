//! API tokens for integrators and automation tools: created (shown once), listed, revoked.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

use super::audit;
use super::guard::{ApiRole, MinRole};
use super::{auth_cache, input, scope, viewer};
use crate::auth::Role;
use crate::auth::cache::Key;
use crate::auth::jwt::JwtKeys;
use crate::db::api_tokens;
use crate::db::entity::api_token;
use crate::error::AppError;

const DEFAULT_DAYS: i64 = 90;
const MAX_DAYS: i64 = 730;

pub(crate) struct ApiToken(api_token::Model);

#[Object]
impl ApiToken {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn role(&self) -> ApiRole {
        self.0.role.into()
    }
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// To the minute.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

#[derive(InputObject)]
pub struct CreateApiTokenInput {
    /// What it is for, e.g. "PSA workflow".
    pub name: String,
    pub role: ApiRole,
    /// Default: 90 days from now; at most two years.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new token: `token` is shown only here, never again.
#[derive(SimpleObject)]
pub(crate) struct CreatedApiToken {
    pub api_token: ApiToken,
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
}

#[derive(Default)]
pub struct TokenQuery;

#[Object]
impl TokenQuery {
    /// The tenant's API tokens, newest first (never the tokens themselves).
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn api_tokens(&self, ctx: &Context<'_>) -> Result<Vec<ApiToken>> {
        Ok(api_tokens::list(scope(ctx))
            .await?
            .into_iter()
            .map(ApiToken)
            .collect())
    }
}

#[derive(Default)]
pub struct TokenMutation;

#[Object]
impl TokenMutation {
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        input: CreateApiTokenInput,
    ) -> Result<CreatedApiToken> {
        let name = input::name("name", &input.name)?;
        let now = Utc::now();
        let expires_at = input
            .expires_at
            .unwrap_or(now + Duration::days(DEFAULT_DAYS));
        if expires_at <= now + Duration::minutes(1) || expires_at > now + Duration::days(MAX_DAYS) {
            return Err(AppError::bad_input(
                "expiresAt",
                format!("give a time in the future, at most {MAX_DAYS} days away"),
            )
            .into());
        }
        let viewer = viewer(ctx);
        let keys = ctx.data_unchecked::<Arc<JwtKeys>>();
        let (row, token) = audit::audited(ctx, |scope| async move {
            let row =
                api_tokens::create(&scope, name, input.role.into(), expires_at, &viewer.subject)
                    .await?;
            // Signed inside: a token is only handed out if its row (and audit row) commit.
            let token = keys
                .issue_api_token(
                    &viewer.tenant_slug,
                    input.role.into(),
                    &format!("token:{}", row.id),
                    row.id,
                    expires_at.timestamp(),
                )
                .map_err(|e| AppError::internal("signing an API token", e))?;
            let summary = format!(
                "created API token {:?} ({}, expires {})",
                row.name,
                row.role,
                row.expires_at.to_rfc3339()
            );
            let entry = audit::entry("api_token", "create", Some(row.id), summary);
            Ok(((row, token), entry))
        })
        .await?;
        Ok(CreatedApiToken {
            api_token: ApiToken(row),
            token,
        })
    }

    /// Takes effect on the token's next request.
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn revoke_api_token(&self, ctx: &Context<'_>, id: ID) -> Result<ApiToken> {
        let id = input::id("id", &id)?;
        let row = audit::audited(ctx, |scope| async move {
            let row = api_tokens::revoke(&scope, id).await?;
            let summary = format!("revoked API token {:?}", row.name);
            Ok((row, audit::entry("api_token", "revoke", Some(id), summary)))
        })
        .await?;
        // Committed: this server forgets at once; the others hear `revoke`'s notice.
        auth_cache(ctx).forget(Key::Token {
            tenant_id: row.tenant_id,
            id: row.id,
        });
        Ok(ApiToken(row))
    }
}
