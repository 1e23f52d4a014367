//! Who is asking: the request's `Viewer` (tenant and role), taken from a bearer JWT.

pub mod cache;
pub mod jwt;
pub mod password;
pub mod request;
pub mod session;

use std::fmt;
use std::str::FromStr;

/// What a caller may do. Ordered: a higher role can do everything a lower one can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, async_graphql::Enum)]
pub enum Role {
    /// Reads everything of its tenant.
    Viewer,
    /// Also manages mappings, plans, levels, accounts and usage.
    Editor,
    /// Also manages the tenant's people, tokens and connections.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}; accepted: admin, editor, viewer"
            )),
        }
    }
}

/// The authenticated caller of one request.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub tenant_id: i64,
    pub tenant_slug: String,
    pub role: Role,
    /// Who, for "created by" columns: the token's subject, or the signed-in user's email.
    pub subject: String,
    /// The signed-in user, for browser sessions.
    pub user_id: Option<i64>,
}
