//! API tokens: the rows that make a token listable and revocable.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, IntoActiveModel, QueryOrder, Set};

use super::Scope;
use super::entity::api_token;
use crate::auth::Role;
use crate::error::{AppError, AppResult};

/// Last-used times are written at most this often per token, not on every request.
const TOUCH_EVERY: Duration = Duration::minutes(1);

pub async fn create(
    scope: &Scope,
    name: String,
    role: Role,
    expires_at: DateTime<Utc>,
    who: &str,
) -> AppResult<api_token::Model> {
    let row = api_token::ActiveModel {
        name: Set(name),
        role: Set(role.as_str().to_owned()),
        created_by: Set(who.to_owned()),
        created_at: Set(Utc::now()),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    };
    Ok(scope.insert(scope.db(), row).await?)
}

pub async fn list(scope: &Scope) -> AppResult<Vec<api_token::Model>> {
    Ok(scope
        .select::<api_token::Entity>()
        .order_by_desc(api_token::Column::Id)
        .all(scope.db())
        .await?)
}

pub async fn get(scope: &Scope, id: i64) -> AppResult<api_token::Model> {
    scope
        .get::<api_token::Entity, _>(scope.db(), id)
        .await?
        .ok_or_else(|| AppError::not_found("API token", id))
}

pub async fn revoke(scope: &Scope, id: i64) -> AppResult<api_token::Model> {
    let current = get(scope, id).await?;
    if current.revoked_at.is_some() {
        return Ok(current);
    }
    let mut row = current.into_active_model();
    row.revoked_at = Set(Some(Utc::now()));
    Ok(row.update(scope.db()).await?)
}

/// The token's row if it may still be used; notes that it was used.
pub async fn check(scope: &Scope, id: i64) -> AppResult<api_token::Model> {
    let refused =
        || AppError::Unauthenticated("this API token was revoked or does not exist".into());
    let token = scope
        .get::<api_token::Entity, _>(scope.db(), id)
        .await?
        .ok_or_else(refused)?;
    let now = Utc::now();
    if token.revoked_at.is_some() || token.expires_at <= now {
        return Err(refused());
    }
    if token.last_used_at.is_none_or(|at| now - at > TOUCH_EVERY) {
        let mut row = token.clone().into_active_model();
        row.last_used_at = Set(Some(now));
        row.update(scope.db()).await?;
    }
    Ok(token)
}
