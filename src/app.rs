//! The application: shared state, the router, and `serve(listener, shutdown)` so tests run
//! the real server in-process.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use sea_orm::DatabaseConnection;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::Role;
use crate::auth::cache::AuthCache;
use crate::auth::jwt::JwtKeys;
use crate::auth::session::{self, Throttle};
use crate::clock::{Clock, SystemClock};
use crate::graphql::{self, AppSchema};
use crate::limits::{Limits, Rate, RateLimiter};
use crate::metrics::Metrics;
use crate::psa::Psa;
use crate::push::{PushOptions, Pusher};
use crate::{web, webhooks};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub jwt: Arc<JwtKeys>,
    /// Tenants, API-token state and users' standing, so authenticating needs no database.
    pub auth: Arc<AuthCache>,
    /// Failed sign-ins, for throttling.
    pub throttle: Arc<Throttle>,
    /// Session cookies are marked Secure (production; behind TLS they are anyway).
    pub secure_cookies: bool,
    pub pusher: Pusher,
    pub schema: AppSchema,
    /// Without introspection and suggestions: for non-admins in production.
    pub restricted: Option<AppSchema>,
    pub limits: Limits,
    /// GraphQL requests per caller.
    pub requests: Arc<RateLimiter>,
    /// Sign-in attempts per client address.
    pub logins: Arc<RateLimiter>,
    /// ConnectWise calls made by reads, per tenant.
    pub connectwise_reads: Arc<RateLimiter>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, jwt: JwtKeys, pusher: Pusher) -> Self {
        let limits = Limits::default();
        let jwt = Arc::new(jwt);
        let reads = allowance(&db, "connectwise", limits.connectwise_reads_per_minute);
        let auth = Arc::new(AuthCache::new(db.get_database_backend(), limits.auth_cache));
        AppState {
            jwt: jwt.clone(),
            auth: auth.clone(),
            throttle: Arc::new(Throttle::new(&db)),
            secure_cookies: false,
            schema: graphql::schema_with(pusher.clone(), jwt, auth, reads.clone(), &limits, false),
            restricted: None,
            requests: allowance(&db, "requests", limits.requests_per_minute),
            logins: allowance(&db, "logins", limits.logins_per_minute),
            connectwise_reads: reads,
            db,
            limits,
            pusher,
        }
    }

    /// Applies `limits`, and in production the hardening: Secure cookies, and neither
    /// introspection nor suggestions for non-admins.
    pub fn configure(mut self, limits: Limits, production: bool) -> Self {
        self.secure_cookies = production;
        self.requests = allowance(&self.db, "requests", limits.requests_per_minute);
        self.logins = allowance(&self.db, "logins", limits.logins_per_minute);
        self.connectwise_reads =
            allowance(&self.db, "connectwise", limits.connectwise_reads_per_minute);
        self.auth = Arc::new(AuthCache::new(
            self.db.get_database_backend(),
            limits.auth_cache,
        ));
        let schema = |restricted| {
            graphql::schema_with(
                self.pusher.clone(),
                self.jwt.clone(),
                self.auth.clone(),
                self.connectwise_reads.clone(),
                &limits,
                restricted,
            )
        };
        self.schema = schema(false);
        self.restricted = production.then(|| schema(true));
        self.limits = limits;
        self
    }

    /// The schema `role` gets.
    pub fn schema_for(&self, role: Role) -> &AppSchema {
        match &self.restricted {
            Some(restricted) if role != Role::Admin => restricted,
            _ => &self.schema,
        }
    }

    /// The usual wiring: real clock, ConnectWise calls counted, and every finished run
    /// enqueued for its tenant's webhooks, its link under `public_url`.
    pub fn standard(
        db: DatabaseConnection,
        jwt: JwtKeys,
        psa: Psa,
        options: PushOptions,
        public_url: &str,
    ) -> Self {
        let metrics = Arc::new(Metrics::default());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let mut pusher = Pusher::new(db.clone(), psa, options, clock.clone(), metrics);
        pusher.on_finished = Some(webhooks::hook(public_url.to_owned(), clock));
        AppState::new(db, jwt, pusher)
    }
}

/// A per-minute allowance, shared by replicas on PostgreSQL.
fn allowance(db: &DatabaseConnection, name: &'static str, per_minute: u32) -> Arc<RateLimiter> {
    Arc::new(RateLimiter::for_database(
        db,
        name,
        Rate::per_minute(per_minute),
    ))
}

pub fn router(state: AppState) -> Router {
    let (body_bytes, timeout) = (state.limits.body_bytes, state.limits.timeout);
    let limits = state.limits.clone();
    Router::new()
        .route(
            "/graphql",
            get(graphql::graphql_get).post(graphql::graphql_post),
        )
        .route("/graphql/ws", get(graphql::graphql_ws))
        .route("/auth/login", post(session::login))
        .route("/auth/logout", post(session::logout))
        .route("/graphiql", get(graphql::graphiql))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(web::spa)
        // Larger bodies are refused before they are read.
        .layer(RequestBodyLimitLayer::new(body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        // The layers' own refusals (413, 408, 405) in the JSON error shape.
        .layer(axum::middleware::map_response_with_state(
            limits,
            crate::error::json_refusals,
        ))
        .layer(compression())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Answers compressed as `Accept-Encoding` allows (Brotli or gzip): GraphQL results and
/// everything else not already compressed (the SPA's files are stored compressed and pass
/// through, see `web`). A quick level: a page of JSON compresses about five times at
/// level 4 for a fraction of the CPU of the highest. Answers under 1 KiB go as they are.
fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .quality(CompressionLevel::Precise(4))
        .compress_when(DefaultPredicate::new().and(SizeAbove::new(1024)))
}

/// Serves until `shutdown` resolves, then finishes the requests in flight — for at most
/// the shutdown grace (`Limits::shutdown_grace`), after which it returns anyway. On
/// PostgreSQL it follows the other replicas' authentication changes meanwhile.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let follower = state.auth.follow(&state.db).map(AbortOnDrop);
    let served = serve_until(listener, state, shutdown).await;
    drop(follower);
    served
}

/// Stops a background task when its owner ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn serve_until(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = state.limits.shutdown_grace;
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = stopping.send(());
    };
    let server = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(signal);
    tokio::select! {
        result = server => result,
        () = async {
            if stopped.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => {
            tracing::warn!(?grace, "requests still running after the shutdown grace; stopping anyway");
            Ok(())
        }
    }
}

/// Prometheus text: push runs, lines, ConnectWise calls, durations.
async fn metrics(
    State(state): State<AppState>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.pusher.metrics.render(),
    )
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The process can reach its database.
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
