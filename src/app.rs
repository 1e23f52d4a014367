//! The application: the router, and `serve(listener, shutdown)` so tests run the real
//! server in-process. The state it routes with is `crate::state::AppState`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use axum::routing::{get, post};
use axum::{Router, ServiceExt as _};
use std::convert::Infallible;
use std::future::Future;
use tokio::net::TcpListener;
use tower::{Service, ServiceBuilder};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::session;
use crate::encoding::{self, Encoding};
use crate::graphql;
use crate::state::AppState;
use crate::web;

/// `billbridge serve`: the server wired and started, with its background workers.
pub mod start;

/// The routes. Every request reaches them through [`stack`].
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
        .with_state(state)
}

/// The router inside the layers every request passes, outermost first. One stack around
/// the whole router, not `Router::layer`, which wraps every route in each layer and boxes
/// it again: five boxed services, each cloned and its future boxed per request, were a
/// quarter of `{ __typename }`'s instructions.
fn stack(
    state: AppState,
) -> impl Service<Request<Body>, Response = Response<Body>, Error = Infallible, Future: Send + 'static>
+ Clone
+ Send
+ 'static {
    let limits = state.limits.clone();
    ServiceBuilder::new()
        // The layers' own refusals (413, 408, 405) in the JSON error shape; outermost, as
        // it also turns the layers' bodies into one `Body`.
        .map_response(move |response| crate::error::json_refusals(&limits, response))
        .layer(TraceLayer::new_for_http())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.limits.timeout,
        ))
        // Larger bodies are refused before they are read.
        .layer(RequestBodyLimitLayer::new(state.limits.body_bytes))
        .service(router(state))
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
        stack(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
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
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response<Body> {
    let body = state.pusher.metrics.render().into_bytes();
    let mut answer = encoding::answer(Encoding::preferred(&headers), body);
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    answer
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
