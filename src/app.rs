//! The application: shared state, the router, and `serve(listener, shutdown)` so tests run
//! the real server in-process.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use sea_orm::DatabaseConnection;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::jwt::JwtKeys;
use crate::auth::session::{self, Throttle};
use crate::clock::{Clock, SystemClock};
use crate::graphql::{self, AppSchema};
use crate::metrics::Metrics;
use crate::psa::Psa;
use crate::push::{PushOptions, Pusher};
use crate::{web, webhooks};

/// Requests larger than this are refused before they are read (the GraphQL extractor would
/// otherwise buffer whatever it is sent).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// No request may hold a connection longer than this.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub jwt: Arc<JwtKeys>,
    /// Failed sign-ins, for throttling.
    pub throttle: Arc<Throttle>,
    /// Session cookies are marked Secure (production; behind TLS they are anyway).
    pub secure_cookies: bool,
    pub pusher: Pusher,
    pub schema: AppSchema,
}

impl AppState {
    pub fn new(db: DatabaseConnection, jwt: JwtKeys, pusher: Pusher) -> Self {
        let jwt = Arc::new(jwt);
        AppState {
            db,
            jwt: jwt.clone(),
            throttle: Arc::new(Throttle::default()),
            secure_cookies: false,
            schema: graphql::schema_with(pusher.clone(), jwt),
            pusher,
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

pub fn router(state: AppState) -> Router {
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
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
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
