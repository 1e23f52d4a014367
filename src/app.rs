//! The application: the router, and `serve(listener, shutdown)` so tests run the real
//! server in-process. The state it routes with is `crate::state::AppState`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use std::future::Future;
use tokio::net::TcpListener;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::session;
use crate::graphql;
use crate::state::AppState;
use crate::web;

/// `billbridge serve`: the server wired and started, with its background workers.
pub mod start;

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
