//! API tokens: the rows that make a token listable and revocable.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, IntoActiveModel, QueryOrder, Set};

use super::entity::api_token;
use super::invalidations::Key;
use super::{Scope, invalidations};
use crate::domain::Role;
use crate::error::{AppError, AppResult};

/// Last-used times are written at most this often per token, not on every request.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// Records a new API token (the JWT itself is signed by the caller).
pub async fn create(
    scope: &Scope,
    name: String,
    role: Role,
    expires_at: DateTime<Utc>,
    who: &str,
) -> AppResult<api_token::Model> {
    let row = api_token::ActiveModel {
        name: Set(name),
        role: Set(role),
        created_by: Set(who.to_owned()),
        created_at: Set(Utc::now()),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    };
    Ok(scope.insert(scope.db(), row).await?)
}

/// The tenant's API tokens.
pub async fn list(scope: &Scope) -> AppResult<Vec<api_token::Model>> {
    Ok(scope
        .select::<api_token::Entity>()
        .order_by_desc(api_token::Column::Id)
        .all(scope.db())
        .await?)
}

/// One API token, or `NOT_FOUND`.
pub async fn get(scope: &Scope, id: i64) -> AppResult<api_token::Model> {
    scope
        .get::<api_token::Entity, _>(scope.db(), id)
        .await?
        .ok_or_else(|| AppError::not_found("API token", id))
}

/// Revokes a token and tells every replica; revoking twice is harmless.
pub async fn revoke(scope: &Scope, id: i64) -> AppResult<api_token::Model> {
    let current = get(scope, id).await?;
    if current.revoked_at.is_some() {
        return Ok(current);
    }
    let mut row = current.into_active_model();
    row.revoked_at = Set(Some(Utc::now()));
    let row = row.update(scope.db()).await?;
    let key = Key::Token {
        tenant_id: scope.tenant_id(),
        id,
    };
    invalidations::announce(scope.db(), key).await?;
    Ok(row)
}

/// How a token that may not be used is refused, whether its row was read or remembered.
pub fn refused() -> AppError {
    AppError::Unauthenticated("this API token was revoked or does not exist".into())
}

/// When the token's "last used" time is next due to be written.
pub(crate) fn next_touch(token: &api_token::Model) -> DateTime<Utc> {
    token
        .last_used_at
        .map_or(DateTime::<Utc>::MIN_UTC, |at| at + TOUCH_EVERY)
}

/// The token's row if it may still be used (as it is after noting that it was used).
pub async fn check(scope: &Scope, id: i64) -> AppResult<api_token::Model> {
    let token = scope
        .get::<api_token::Entity, _>(scope.db(), id)
        .await?
        .ok_or_else(refused)?;
    let now = Utc::now();
    if token.revoked_at.is_some() || token.expires_at <= now {
        return Err(refused());
    }
    if next_touch(&token) < now {
        let mut row = token.into_active_model();
        row.last_used_at = Set(Some(now));
        return Ok(row.update(scope.db()).await?);
    }
    Ok(token)
}
