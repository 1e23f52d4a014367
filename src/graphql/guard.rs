//! Role guards on mutations: viewers read, editors change billing setup, admins more; and
//! the role as the API shows it.

use async_graphql::{Context, Enum, Guard, Result};

use super::viewer;
use crate::auth::Role;
use crate::error::AppError;

/// What a caller may do. Ordered: a higher role can do everything a lower one can.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Role", remote = "crate::domain::Role")]
pub enum ApiRole {
    /// Reads everything of its tenant.
    Viewer,
    /// Also manages mappings, plans, levels, accounts and usage.
    Editor,
    /// Also manages the tenant's people, tokens and connections.
    Admin,
}

/// Lets the field run only for callers with at least this role.
pub struct MinRole(pub Role);

impl Guard for MinRole {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        let role = viewer(ctx).role;
        if role >= self.0 {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "this needs the {} role; your token has {role}",
                self.0
            ))
            .into())
        }
    }
}
