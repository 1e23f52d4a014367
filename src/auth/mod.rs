//! Who is asking: the request's `Viewer` (tenant and role), taken from a bearer JWT.

pub mod cache;
pub mod jwt;
pub mod password;
pub mod request;
pub mod session;

pub use crate::domain::Role;

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
