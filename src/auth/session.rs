//! Browser sign-in: `POST /auth/login` checks email and password and sets an HttpOnly,
//! SameSite=Strict session cookie; `POST /auth/logout` clears it. Wrong credentials are
//! answered slowly and identically whether or not the email exists, and repeated failures
//! (per account and per address) are throttled with 429 and `Retry-After`.

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::request::{self, SESSION_TTL};
use super::{Viewer, password};
use crate::db::{Scope, tenants, users};
use crate::error::{AppError, refuse};
use crate::limits::{Rate, RateLimiter, too_many};
use crate::state::AppState;

/// Every failed sign-in takes at least this long, so timing tells nothing.
const FAILURE_FLOOR: Duration = Duration::from_millis(400);
const WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_PER_ACCOUNT: u32 = 5;
const MAX_PER_ADDRESS: u32 = 20;

/// Failed sign-ins: up to a limit per account and per address within a window, refilled
/// evenly over it (shared by replicas on PostgreSQL, like the request rates).
pub struct Throttle {
    accounts: RateLimiter,
    addresses: RateLimiter,
}

impl Throttle {
    pub fn new(db: &DatabaseConnection) -> Self {
        let rate = |burst| Rate { burst, per: WINDOW };
        Throttle {
            accounts: RateLimiter::for_database(db, "failed-sign-ins", rate(MAX_PER_ACCOUNT)),
            addresses: RateLimiter::for_database(db, "failed-sign-ins", rate(MAX_PER_ADDRESS)),
        }
    }

    /// How long to wait, when the account or the address has failed too often.
    async fn blocked(&self, account: &str, address: &str) -> Option<Duration> {
        let (account, address) =
            tokio::join!(self.accounts.ready(account), self.addresses.ready(address));
        [account.err(), address.err()].into_iter().flatten().max()
    }

    async fn failed(&self, account: &str, address: &str) {
        tokio::join!(
            self.accounts.charge(account, 1),
            self.addresses.charge(address, 1)
        );
    }

    async fn succeeded(&self, account: &str) {
        self.accounts.forget(account).await;
    }
}

#[derive(Deserialize)]
struct Login {
    tenant: String,
    email: String,
    password: String,
}

impl Login {
    /// Bounded like the API's free text (`graphql::input::text`), control characters refused
    /// in the tenant and email (PostgreSQL text cannot hold NUL); the password, hashed and
    /// never shown, is only bounded.
    fn well_formed(&self) -> Result<(), AppError> {
        let fields = [
            ("tenant", self.tenant.as_str(), 63, false),
            ("email", self.email.as_str(), 254, false),
            (
                "password",
                self.password.as_str(),
                password::MAX_LENGTH,
                true,
            ),
        ];
        for (field, value, max, any_character) in fields {
            if value.chars().count() > max {
                return Err(AppError::bad_input(
                    field,
                    format!("at most {max} characters are accepted"),
                ));
            }
            if !any_character && value.chars().any(char::is_control) {
                return Err(AppError::bad_input(
                    field,
                    "contains a control character; give printable text on one line",
                ));
            }
        }
        Ok(())
    }
}

/// A hash to check against when the email is unknown, so both cases cost the same.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| password::hash("billbridge decoy password for timing").unwrap_or_default())
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send JSON: {\"tenant\", \"email\", \"password\"}",
        );
    }
    let Ok(login) = serde_json::from_slice::<Login>(&body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "send JSON with tenant, email and password",
        );
    };
    if let Err(error) = login.well_formed() {
        return error.into_response();
    }
    if let Err(wait) = state.logins.check(&peer.ip().to_string()).await {
        return too_many(
            wait,
            "too many sign-in attempts from this address; try again later",
        );
    }
    let started = Instant::now();
    let account = format!(
        "account:{}/{}",
        login.tenant.trim(),
        users::normalize(&login.email)
    );
    let address = format!("address:{}", peer.ip());
    if let Some(wait) = state.throttle.blocked(&account, &address).await {
        return too_many(wait, "too many failed sign-ins; try again later");
    }
    match check(&state, &login).await {
        Ok(viewer) => {
            state.throttle.succeeded(&account).await;
            let token = match request::issue_session(&state, &viewer) {
                Ok(token) => token,
                Err(e) => return e.into_response(),
            };
            let body = serde_json::json!({
                "user": { "email": viewer.subject, "role": viewer.role.as_str(), "tenant": viewer.tenant_slug }
            });
            let mut response = (StatusCode::OK, axum::Json(body)).into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                request::session_cookie(&token, SESSION_TTL, request::secure(&state, &headers)),
            );
            response
        }
        Err(AppError::Internal) => AppError::Internal.into_response(),
        Err(_) => {
            state.throttle.failed(&account, &address).await;
            if let Some(rest) = FAILURE_FLOOR.checked_sub(started.elapsed()) {
                tokio::time::sleep(rest).await;
            }
            refuse(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "the tenant, email or password is wrong",
            )
        }
    }
}

/// The user the credentials name, or an error that does not say which part was wrong.
async fn check(state: &AppState, login: &Login) -> Result<Viewer, AppError> {
    let wrong = || AppError::Unauthenticated("wrong credentials".into());
    let tenant = tenants::by_slug(&state.db, login.tenant.trim()).await?;
    let user = match &tenant {
        Some(tenant) => {
            users::by_email(&Scope::new(state.db.clone(), tenant), &login.email).await?
        }
        None => None,
    };
    let stored = user
        .as_ref()
        .map_or(decoy(), |u| u.password_hash.as_str())
        .to_owned();
    let password = login.password.clone();
    // argon2 is deliberately expensive: keep it off the async workers.
    let matches = tokio::task::spawn_blocking(move || password::verify(&password, &stored))
        .await
        .unwrap_or(false);
    let (Some(tenant), Some(user)) = (tenant, user) else {
        return Err(wrong());
    };
    if !matches || !user.active {
        return Err(wrong());
    }
    let scope = Scope::new(state.db.clone(), &tenant);
    users::touch_login(&scope, user.id).await?;
    Ok(Viewer {
        tenant_id: tenant.id,
        tenant_slug: tenant.slug,
        role: user.role,
        subject: user.email,
        user_id: Some(user.id),
    })
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        request::clear_cookie(request::secure(&state, &headers)),
    );
    response
}
