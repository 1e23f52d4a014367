//! The tenant's people, managed by admins.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use super::audit;
use super::guard::{ApiRole, MinRole};
use super::{auth_cache, input, scope, viewer};
use crate::auth::cache::Key;
use crate::auth::{Role, password};
use crate::db::entity::user;
use crate::db::users::{self, NewUser};
use crate::error::AppError;

pub struct User(user::Model);

#[Object]
impl User {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn role(&self) -> ApiRole {
        self.0.role.into()
    }
    /// Deactivated users keep their history but cannot sign in.
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn last_login_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_login_at
    }
}

#[derive(InputObject)]
pub struct CreateUserInput {
    pub email: String,
    pub display_name: String,
    pub role: ApiRole,
    /// At least 12 characters; stored only as an argon2id hash.
    pub password: String,
}

fn email(value: &str) -> Result<String, AppError> {
    let trimmed = input::text("email", value, input::EMAIL)?.trim();
    let valid = trimmed.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !trimmed.contains(char::is_whitespace);
    if valid {
        Ok(trimmed.to_owned())
    } else {
        Err(AppError::bad_input(
            "email",
            format!("{value:?} is not an email address"),
        ))
    }
}

/// The caller: a signed-in user, or an API token's subject.
pub(crate) struct Me(crate::auth::Viewer);

#[Object]
impl Me {
    /// The user's email, or the token's subject.
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn role(&self) -> ApiRole {
        self.0.role.into()
    }
    /// The tenant's slug.
    async fn tenant(&self) -> &str {
        &self.0.tenant_slug
    }
    /// The signed-in user; null for API tokens.
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match self.0.user_id {
            Some(id) => Ok(Some(User(users::get(scope(ctx), id).await?))),
            None => Ok(None),
        }
    }
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// Who is asking.
    async fn me(&self, ctx: &Context<'_>) -> Me {
        Me(viewer(ctx).clone())
    }

    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        Ok(users::list(scope(ctx))
            .await?
            .into_iter()
            .map(User)
            .collect())
    }
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> Result<User> {
        // Hashed before the transaction opens, so no write waits on argon2.
        let new = NewUser {
            email: email(&input.email)?,
            display_name: input::name("displayName", &input.display_name)?,
            role: input.role.into(),
            password_hash: password::new_hash("password", &input.password)?,
        };
        let user = audit::audited(ctx, |scope| async move {
            let user = users::create(&scope, new).await?;
            let summary = format!("added user {} as {}", user.email, user.role);
            let entry = audit::entry("user", "create", Some(user.id), summary);
            Ok((user, entry))
        })
        .await?;
        Ok(User(user))
    }

    /// Refused when it would leave the tenant without an active admin.
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn update_user_role(&self, ctx: &Context<'_>, id: ID, role: ApiRole) -> Result<User> {
        let id = input::id("id", &id)?;
        let user = audit::audited(ctx, |scope| async move {
            let user = users::set_role(&scope, id, role.into()).await?;
            let summary = format!("made {} {}", user.email, user.role);
            Ok((user, audit::entry("user", "update_role", Some(id), summary)))
        })
        .await?;
        forget(ctx, &user);
        Ok(User(user))
    }

    /// Refused for the last active admin.
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn deactivate_user(&self, ctx: &Context<'_>, id: ID) -> Result<User> {
        let id = input::id("id", &id)?;
        let user = audit::audited(ctx, |scope| async move {
            let user = users::deactivate(&scope, id).await?;
            let summary = format!("deactivated {}", user.email);
            Ok((user, audit::entry("user", "deactivate", Some(id), summary)))
        })
        .await?;
        forget(ctx, &user);
        Ok(User(user))
    }
}

/// A committed change of the user's standing: this server's sessions see it at once; the
/// other replicas hear `db::users`' notice.
fn forget(ctx: &Context<'_>, user: &user::Model) {
    auth_cache(ctx).forget(Key::User {
        tenant_id: user.tenant_id,
        id: user.id,
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails() {
        for ok in ["a@b.co", " Ann.Lee@msp.example "] {
            assert!(super::email(ok).is_ok(), "{ok}");
        }
        for bad in ["", "no-at", "@b.co", "a@b", "a@.co", "a b@c.co"] {
            assert!(super::email(bad).is_err(), "{bad}");
        }
    }
}
