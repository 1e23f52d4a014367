//! `/graphql` over HTTP: authentication, the GET/POST rules, and the GraphiQL page.
//!
//! POST takes one JSON operation (`Content-Type: application/json`; batches are refused).
//! GET runs queries only: a mutation by GET is answered 405, so a link or an image tag can
//! never change anything.

use async_graphql::Data;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql::parser::types::OperationType;
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::Loaders;
use crate::app::AppState;
use crate::auth::Viewer;
use crate::auth::jwt::JwtError;
use crate::db::{Scope, tenants};
use crate::error::AppError;

pub async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_json(&headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the operation as JSON with Content-Type: application/json",
        );
    }
    let viewer = match authenticate(&state, &headers).await {
        Ok(viewer) => viewer,
        Err(e) => return unauthorized(e),
    };
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the body is not JSON: {e}"),
            );
        }
    };
    if value.is_array() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "batched operations are not accepted; send one operation per request",
        );
    }
    match serde_json::from_value::<async_graphql::Request>(value) {
        Ok(request) => execute(&state, viewer, request).await,
        Err(e) => refuse(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("expected {{\"query\", \"variables\", \"operationName\"}}: {e}"),
        ),
    }
}

pub async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let request =
        match async_graphql::http::parse_query_string(query.as_deref().unwrap_or_default()) {
            Ok(request) => request,
            Err(e) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    &format!("bad query string: {e}"),
                );
            }
        };
    if !only_queries(&request.query) {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations and subscriptions must be sent by POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let viewer = match authenticate(&state, &headers).await {
        Ok(viewer) => viewer,
        Err(e) => return unauthorized(e),
    };
    execute(&state, viewer, request).await
}

/// A GraphiQL page for people trying the API (paste a token under "Headers").
pub async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("billbridge GraphQL")
            .finish(),
    )
}

async fn execute(state: &AppState, viewer: Viewer, request: async_graphql::Request) -> Response {
    let scope = Scope::for_tenant_id(state.db.clone(), viewer.tenant_id);
    let loaders = Loaders::new(&scope);
    let request = request.data(scope).data(loaders).data(viewer);
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}

/// graphql-ws (and the older subscriptions-transport-ws) for subscriptions. The token goes
/// in the `connection_init` payload: `{"Authorization": "Bearer <token>"}`.
pub async fn graphql_ws(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let schema = state.schema.clone();
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let token = ["Authorization", "authorization", "token"]
                        .iter()
                        .find_map(|k| payload.get(*k).and_then(|v| v.as_str()))
                        .map(|t| t.strip_prefix("Bearer ").unwrap_or(t).trim().to_owned())
                        .unwrap_or_default();
                    let viewer = authenticate_token(&state, &token).await?;
                    let scope = Scope::for_tenant_id(state.db.clone(), viewer.tenant_id);
                    let mut data = Data::default();
                    data.insert(Loaders::new(&scope));
                    data.insert(scope);
                    data.insert(viewer);
                    Ok(data)
                })
                .serve()
        })
}

/// The caller named by the bearer token, with its tenant looked up.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Viewer, AppError> {
    let header = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        AppError::Unauthenticated(
            "send Authorization: Bearer <token>; `billbridge token` prints one".into(),
        )
    })?;
    let token = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::Unauthenticated("the Authorization header must be `Bearer <token>`".into())
        })?;
    authenticate_token(state, token).await
}

async fn authenticate_token(state: &AppState, token: &str) -> Result<Viewer, AppError> {
    if token.is_empty() {
        return Err(AppError::Unauthenticated(
            "a bearer token is required".into(),
        ));
    }
    let identity = state.jwt.verify(token).map_err(|e| match e {
        JwtError::Expired => {
            AppError::Unauthenticated("the token has expired; get a new one".into())
        }
        other => {
            tracing::debug!(error = %other, "token refused");
            AppError::Unauthenticated("the token is not valid here".into())
        }
    })?;
    let tenant = tenants::by_slug(&state.db, &identity.tenant)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("the token's tenant does not exist".into()))?;
    Ok(Viewer {
        tenant_id: tenant.id,
        tenant_slug: tenant.slug,
        role: identity.role,
        subject: identity.subject,
    })
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// True unless the document holds a mutation or subscription. A document that does not
/// parse counts as a query: the executor then reports the syntax error.
fn only_queries(query: &str) -> bool {
    match async_graphql::parser::parse_query(query) {
        Ok(document) => document
            .operations
            .iter()
            .all(|(_, op)| op.node.ty == OperationType::Query),
        Err(_) => true,
    }
}

fn unauthorized(error: AppError) -> Response {
    let mut response = error.clone().into_response();
    if matches!(error, AppError::Unauthenticated(_)) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// An answer given before any GraphQL runs, in the GraphQL error shape.
fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::only_queries;

    #[test]
    fn get_runs_queries_only() {
        assert!(only_queries("{ services { id } }"));
        assert!(only_queries(
            "query A { levels { id } } query B { services { id } }"
        ));
        assert!(!only_queries("mutation { deleteLevel(id: 1) }"));
        assert!(!only_queries(
            "query A { levels { id } } mutation B { deleteLevel(id: 1) }"
        ));
        assert!(only_queries("this is not graphql"));
    }
}
