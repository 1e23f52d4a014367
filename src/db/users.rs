//! A tenant's people: email (unique, lower-cased), display name, role, password hash, and
//! whether they may still sign in.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::entity::user;
use super::{Scope, invalidations};
use crate::auth::cache::Key;
use crate::auth::{Role, password};
use crate::error::{AppError, AppResult};

pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    password_hash: String,
}

impl NewUser {
    /// Checks the password and hashes it now, so the transaction that stores the user does
    /// not wait on argon2.
    pub fn new(
        email: String,
        display_name: String,
        role: Role,
        password: &str,
    ) -> AppResult<NewUser> {
        password::check("password", password)?;
        Ok(NewUser {
            email,
            display_name,
            role,
            password_hash: password::hash(password)?,
        })
    }
}

/// The email as stored and looked up.
pub fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

pub async fn list(scope: &Scope) -> AppResult<Vec<user::Model>> {
    Ok(scope
        .select::<user::Entity>()
        .order_by_asc(user::Column::Email)
        .all(scope.db())
        .await?)
}

pub async fn get(scope: &Scope, id: i64) -> AppResult<user::Model> {
    scope
        .get::<user::Entity, _>(scope.db(), id)
        .await?
        .ok_or_else(|| AppError::not_found("user", id))
}

pub async fn by_email(scope: &Scope, email: &str) -> AppResult<Option<user::Model>> {
    Ok(scope
        .select::<user::Entity>()
        .filter(user::Column::Email.eq(normalize(email)))
        .one(scope.db())
        .await?)
}

pub async fn create(scope: &Scope, new: NewUser) -> AppResult<user::Model> {
    let email = normalize(&new.email);
    if by_email(scope, &email).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "a user with email {email:?} already exists"
        )));
    }
    let now = Utc::now();
    let row = user::ActiveModel {
        email: Set(email),
        display_name: Set(new.display_name),
        role: Set(new.role.as_str().to_owned()),
        password_hash: Set(new.password_hash),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
        ..Default::default()
    };
    Ok(scope.insert(scope.db(), row).await?)
}

/// Refuses a change that would leave the tenant without an active admin.
async fn keep_an_admin(scope: &Scope, changing: &user::Model) -> AppResult<()> {
    if changing.role != Role::Admin.as_str() || !changing.active {
        return Ok(());
    }
    let admins = scope
        .select::<user::Entity>()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::Active.eq(true))
        .count(scope.db())
        .await?;
    if admins <= 1 {
        return Err(AppError::Conflict(format!(
            "{} is the tenant's last active admin; make someone else admin first",
            changing.email
        )));
    }
    Ok(())
}

pub async fn set_role(scope: &Scope, id: i64, role: Role) -> AppResult<user::Model> {
    let current = get(scope, id).await?;
    if current.role != role.as_str() {
        keep_an_admin(scope, &current).await?;
    }
    let mut row = current.into_active_model();
    row.role = Set(role.as_str().to_owned());
    row.updated_at = Set(Utc::now());
    let user = row.update(scope.db()).await?;
    announce(scope, id).await?;
    Ok(user)
}

pub async fn deactivate(scope: &Scope, id: i64) -> AppResult<user::Model> {
    let current = get(scope, id).await?;
    keep_an_admin(scope, &current).await?;
    let mut row = current.into_active_model();
    row.active = Set(false);
    row.updated_at = Set(Utc::now());
    let user = row.update(scope.db()).await?;
    announce(scope, id).await?;
    Ok(user)
}

/// Tells every replica that the user's standing (role, active) changed: sessions read it
/// from `auth::cache`.
async fn announce(scope: &Scope, id: i64) -> AppResult<()> {
    let key = Key::User {
        tenant_id: scope.tenant_id(),
        id,
    };
    Ok(invalidations::announce(scope.db(), key).await?)
}

pub async fn touch_login(scope: &Scope, id: i64) -> AppResult<()> {
    let current = get(scope, id).await?;
    let mut row = current.into_active_model();
    row.last_login_at = Set(Some(Utc::now()));
    row.update(scope.db()).await?;
    Ok(())
}
