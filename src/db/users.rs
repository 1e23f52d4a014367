//! A tenant's people: email (unique, lower-cased), display name, role, password hash, and
//! whether they may still sign in.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::entity::user;
use super::invalidations::Key;
use super::{Scope, invalidations};
use crate::domain::Role;
use crate::error::{AppError, AppResult};

/// A user to add. The caller hashes the password (`auth::password::new_hash`) before the
/// transaction that stores the user opens, so no write waits on argon2.
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// argon2id, PHC string.
    pub password_hash: String,
}

/// The email as stored and looked up.
pub(crate) fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The tenant's people.
pub async fn list(scope: &Scope) -> AppResult<Vec<user::Model>> {
    Ok(scope
        .select::<user::Entity>()
        .order_by_asc(user::Column::Email)
        .all(scope.db())
        .await?)
}

/// One user, or `NOT_FOUND`.
pub async fn get(scope: &Scope, id: i64) -> AppResult<user::Model> {
    scope
        .get::<user::Entity, _>(scope.db(), id)
        .await?
        .ok_or_else(|| AppError::not_found("user", id))
}

/// The user with this email (normalized), if any.
pub async fn by_email(scope: &Scope, email: &str) -> AppResult<Option<user::Model>> {
    Ok(scope
        .select::<user::Entity>()
        .filter(user::Column::Email.eq(normalize(email)))
        .one(scope.db())
        .await?)
}

/// Adds a user (email unique in the tenant).
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
        role: Set(new.role),
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
    if changing.role != Role::Admin || !changing.active {
        return Ok(());
    }
    let admins = scope
        .select::<user::Entity>()
        .filter(user::Column::Role.eq(Role::Admin))
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

/// Changes a user's role; never the last active admin's.
pub(crate) async fn set_role(scope: &Scope, id: i64, role: Role) -> AppResult<user::Model> {
    let current = get(scope, id).await?;
    if current.role != role {
        keep_an_admin(scope, &current).await?;
    }
    let mut row = current.into_active_model();
    row.role = Set(role);
    row.updated_at = Set(Utc::now());
    let user = row.update(scope.db()).await?;
    announce(scope, id).await?;
    Ok(user)
}

/// Stops a user signing in; never the last active admin.
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

/// Records a sign-in.
pub(crate) async fn touch_login(scope: &Scope, id: i64) -> AppResult<()> {
    let current = get(scope, id).await?;
    let mut row = current.into_active_model();
    row.last_login_at = Set(Some(Utc::now()));
    row.update(scope.db()).await?;
    Ok(())
}
