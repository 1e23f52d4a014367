//! Who a request is from: a bearer API token (`Authorization: Bearer …`, API audience) or a
//! browser session cookie (browser audience). Each is refused where the other belongs.
//! Session requests are refreshed while in use and always read the user's current role.
//! What they read (tenant, token state, user standing) comes through `auth::cache`.

use axum::http::{HeaderMap, HeaderValue, header};
use chrono::Utc;
use std::time::Duration;

use super::Viewer;
use super::jwt::{Audience, JwtError};
use crate::db::Scope;
use crate::error::AppError;
use crate::state::AppState;

pub(crate) const SESSION_COOKIE: &str = "billbridge_session";
/// The header the web app sends with every operation; a cross-site form cannot.
pub const CSRF_HEADER: &str = "x-billbridge-csrf";
/// How long a session lasts without being used.
pub const SESSION_TTL: Duration = Duration::from_secs(3600);

/// How the caller proved who they are.
pub struct Authenticated {
    pub viewer: Viewer,
    pub via_session: bool,
    /// A fresh session cookie, when the current one is past half its life.
    pub refreshed: Option<HeaderValue>,
}

pub fn bearer(headers: &HeaderMap) -> Option<Result<&str, AppError>> {
    let header = headers.get(header::AUTHORIZATION)?;
    Some(
        header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AppError::Unauthenticated(
                    "the Authorization header must be `Bearer <token>`".into(),
                )
            }),
    )
}

pub fn session(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// The caller of an HTTP request: bearer first, then the session cookie.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Authenticated, AppError> {
    if let Some(token) = bearer(headers) {
        return Ok(Authenticated {
            viewer: from_api_token(state, token?).await?,
            via_session: false,
            refreshed: None,
        });
    }
    let Some(token) = session(headers) else {
        return Err(AppError::Unauthenticated(
            "sign in, or send Authorization: Bearer <token> (`billbridge token` prints one)".into(),
        ));
    };
    let (viewer, expires_at) = from_session(state, &token).await?;
    let refreshed = if expires_at - Utc::now().timestamp() < (SESSION_TTL.as_secs() / 2) as i64 {
        let token = issue_session(state, &viewer)?;
        Some(session_cookie(&token, SESSION_TTL, secure(state, headers)))
    } else {
        None
    };
    Ok(Authenticated {
        viewer,
        via_session: true,
        refreshed,
    })
}

fn refused(error: JwtError) -> AppError {
    match error {
        JwtError::Expired => {
            AppError::Unauthenticated("the token has expired; get a new one".into())
        }
        other => {
            tracing::debug!(error = %other, "token refused");
            AppError::Unauthenticated("the token is not valid here".into())
        }
    }
}

pub async fn from_api_token(state: &AppState, token: &str) -> Result<Viewer, AppError> {
    let identity = state
        .jwt
        .verify_for(Audience::Api, token)
        .map_err(refused)?;
    let tenant = state
        .auth
        .tenant(&state.db, &identity.tenant)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("the token's tenant does not exist".into()))?;
    if let Some(id) = identity.token_id {
        // Revocation takes effect on the next request: it evicts the cached state.
        let scope = Scope::new(state.db.clone(), &tenant);
        state.auth.check_token(&scope, id).await?;
    }
    Ok(Viewer {
        tenant_id: tenant.id,
        tenant_slug: tenant.slug,
        role: identity.role,
        subject: identity.subject,
        user_id: None,
    })
}

/// A session's viewer with the user's *current* role; deactivated users are refused.
pub async fn from_session(state: &AppState, token: &str) -> Result<(Viewer, i64), AppError> {
    let identity = state
        .jwt
        .verify_for(Audience::Browser, token)
        .map_err(refused)?;
    let tenant = state
        .auth
        .tenant(&state.db, &identity.tenant)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("the session's tenant does not exist".into()))?;
    let user_id = identity
        .subject
        .strip_prefix("user:")
        .and_then(|id| id.parse::<i64>().ok())
        .ok_or_else(|| AppError::Unauthenticated("the session is not valid here".into()))?;
    let scope = Scope::new(state.db.clone(), &tenant);
    let user =
        state.auth.standing(&scope, user_id).await?.ok_or_else(|| {
            AppError::Unauthenticated("this account can no longer sign in".into())
        })?;
    Ok((
        Viewer {
            tenant_id: tenant.id,
            tenant_slug: tenant.slug,
            role: user.role,
            subject: user.email,
            user_id: Some(user_id),
        },
        identity.expires_at,
    ))
}

pub fn issue_session(state: &AppState, viewer: &Viewer) -> Result<String, AppError> {
    let subject = format!("user:{}", viewer.user_id.unwrap_or_default());
    state
        .jwt
        .issue_for(
            Audience::Browser,
            &viewer.tenant_slug,
            viewer.role,
            &subject,
            SESSION_TTL,
        )
        .map_err(|e| AppError::internal("signing a session", e))
}

/// Secure when the server says it is in production or the request came over TLS.
pub fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

pub fn session_cookie(token: &str, ttl: Duration, secure: bool) -> HeaderValue {
    cookie(token, ttl.as_secs(), secure)
}

pub fn clear_cookie(secure: bool) -> HeaderValue {
    cookie("", 0, secure)
}

fn cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let mut cookie =
        format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}");
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}
