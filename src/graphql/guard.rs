//! Role guards on mutations: viewers read, editors change billing setup, admins more.

use async_graphql::{Context, Guard, Result};

use super::viewer;
use crate::auth::Role;
use crate::error::AppError;

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
