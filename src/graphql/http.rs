//! `/graphql` over HTTP: authentication, the GET/POST rules, and the GraphiQL page.
//!
//! POST takes one JSON operation (`Content-Type: application/json`; batches are refused).
//! GET runs queries only: a mutation by GET is answered 405, so a link or an image tag can
//! never change anything. Both answer in the media type `Accept` asks for (`media`), and
//! every answer, refusals included, has the GraphQL error shape with a code.

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use std::time::Duration;

use super::LazyLoaders;
use super::media::Media;
use super::params;
use super::run::Transport;
use crate::auth::{Viewer, request};
use crate::db::Scope;
use crate::encoding::{self, Encoding};
use crate::error::{AppError, refuse};
use crate::limits::too_many;
use crate::state::AppState;

pub async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let media = match Media::negotiate(&headers) {
        Ok(media) => media,
        Err(not_acceptable) => return *not_acceptable,
    };
    media.label(post(&state, &headers, &body, media).await)
}

async fn post(state: &AppState, headers: &HeaderMap, body: &[u8], media: Media) -> Response {
    if let Err(refused) = json_utf8(headers) {
        return *refused;
    }
    let auth = match request::authenticate(state, headers).await {
        Ok(auth) => auth,
        Err(e) => return unauthorized(e),
    };
    // CSRF: a session cookie rides along with any cross-site request; the custom header
    // cannot be added by a form or a simple cross-site fetch.
    if auth.via_session && !headers.contains_key(request::CSRF_HEADER) {
        return refuse(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "requests signed in with a session must carry the X-Billbridge-Csrf header",
        );
    }
    let operation = match serde_json::from_slice(body) {
        Ok(value) => params::from_json(value),
        Err(e) => Err(format!("the body is not JSON: {e}")),
    };
    let operation = match operation {
        Ok(operation) => operation,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message),
    };
    if let Err(refused) = within_rate(state, &auth.viewer).await {
        return *refused;
    }
    let encoding = Encoding::preferred(headers);
    let mut response = execute(state, auth.viewer, operation, media, encoding).await;
    if let Some(cookie) = auth.refreshed {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

pub async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let media = match Media::negotiate(&headers) {
        Ok(media) => media,
        Err(not_acceptable) => return *not_acceptable,
    };
    media.label(
        get(
            &state,
            &headers,
            query.as_deref().unwrap_or_default(),
            media,
        )
        .await,
    )
}

async fn get(state: &AppState, headers: &HeaderMap, query: &str, media: Media) -> Response {
    let limit = state.limits.query_string_bytes;
    if query.len() > limit {
        return refuse(
            StatusCode::URI_TOO_LONG,
            "URI_TOO_LONG",
            &format!(
                "the query string is {} bytes; at most {limit} are accepted by GET: send the operation by POST",
                query.len()
            ),
        );
    }
    let operation = match params::from_query_string(query) {
        Ok(operation) => operation,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message),
    };
    if !only_queries(&operation.query) {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations must be sent by POST, subscriptions over graphql-ws at /graphql/ws",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    // With a session (no bearer token), every operation goes by POST with the CSRF header.
    if request::bearer(headers).is_none() && request::session(headers).is_some() {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "signed in with a session, send operations by POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let auth = match request::authenticate(state, headers).await {
        Ok(auth) => auth,
        Err(e) => return unauthorized(e),
    };
    if let Err(refused) = within_rate(state, &auth.viewer).await {
        return *refused;
    }
    execute(
        state,
        auth.viewer,
        operation,
        media,
        Encoding::preferred(headers),
    )
    .await
}

/// Each caller (API token, CLI token subject or signed-in user) has its own allowance.
async fn within_rate(state: &AppState, viewer: &Viewer) -> Result<(), Box<Response>> {
    take_request(state, viewer).await.map_err(|wait| {
        Box::new(too_many(
            wait,
            "too many requests for this token; slow down and retry after the Retry-After seconds",
        ))
    })
}

/// Takes one request from the caller's allowance (HTTP and WebSocket operations alike), or
/// says how long to wait.
pub(super) async fn take_request(state: &AppState, viewer: &Viewer) -> Result<(), Duration> {
    let key = format!("{}/{}", viewer.tenant_id, viewer.subject);
    state.requests.check(&key).await
}

/// A GraphiQL page for people trying the API (paste a token under "Headers").
pub async fn graphiql(headers: HeaderMap) -> Response {
    let page = GraphiQLSource::build()
        .endpoint("/graphql")
        .title("billbridge GraphQL")
        .finish();
    let mut answer = encoding::answer(Encoding::preferred(&headers), page.into_bytes());
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    answer
}

/// Runs the operation. Whether it began to execute decides between a request error and a
/// result (see `media`).
async fn execute(
    state: &AppState,
    viewer: Viewer,
    request: async_graphql::Request,
    media: Media,
    encoding: Option<Encoding>,
) -> Response {
    let tenant = viewer.tenant_id;
    let scope = Scope::for_tenant_id(state.db.clone(), tenant);
    let loaders = LazyLoaders::new(&scope);
    let schema = state.schema_for(viewer.role);
    let request = request.data(scope).data(loaders).data(viewer);
    let outcome = schema.execute(request, Transport::Http).await;
    if outcome.mutated {
        // The tenant's recent previews may not show what it changed.
        state.pusher.previews.forget(tenant);
    }
    media.respond(outcome.response, outcome.executed, encoding)
}

/// POST bodies are JSON in UTF-8 (the spec's one required encoding; no charset means UTF-8).
fn json_utf8(headers: &HeaderMap) -> Result<(), Box<Response>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(Box::new(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the operation as JSON with Content-Type: application/json",
        )));
    }
    let charset = parts.find_map(|p| {
        let (key, value) = p.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"'))
    });
    match charset {
        Some(charset) if !charset.eq_ignore_ascii_case("utf-8") => Err(Box::new(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            &format!("charset {charset}: send the JSON in UTF-8"),
        ))),
        _ => Ok(()),
    }
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
