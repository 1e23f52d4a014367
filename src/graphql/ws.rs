//! `/graphql/ws`: GraphQL over WebSocket by the graphql-transport-ws protocol, the one the
//! `graphql-ws` client speaks (PROTOCOL.md of github.com/enisdenjo/graphql-ws). Written here
//! rather than taken from async-graphql-axum, whose socket restarts a `subscribe` whose id is
//! taken, closes with 1002/1011 where the protocol names its own codes, never times out a
//! silent client, and sends an operation that fails validation as `next` + `complete`.
//!
//! A socket's life: the upgrade must offer `graphql-transport-ws` (else 4406);
//! `connection_init` comes within `Limits::ws_init_timeout` (else 4408), once (4429), with
//! `{"Authorization": "Bearer <token>"}` as payload or the session cookie on the upgrade
//! (else 4403); it is answered `connection_ack`. Then each `subscribe` (4401 before the ack,
//! 4409 while its id is running) runs in a task of its own and is answered `next`… then
//! `complete`, or a single `error` when the operation never starts (it does not parse or
//! validate). A client `complete` stops it. Anything else the protocol does not allow, and a
//! message over the request body limit, closes the socket with 4400 and the reason.
//!
//! Each `subscribe` is a request like any over HTTP: the caller's token or session is checked
//! again (revoked, expired or deactivated: 4403) and takes one from the caller's rate
//! allowance, which HTTP requests share (beyond it: an `error` with `RATE_LIMITED`).
//!
//! Messages are handled one at a time, in order: a `subscribe` sent right behind
//! `connection_init` is read once the init has been answered, so it is never refused as early.

use std::collections::HashMap;

use async_graphql::ServerError;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{Map, Value, json};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::codes::{PARSE_FAILED, VALIDATION_FAILED, with_code};
use super::http::take_request;
use super::json;
use super::run::is_request_error;
use super::{AppSchema, LazyLoaders};
use crate::auth::{Viewer, request};
use crate::db::Scope;
use crate::error::AppError;
use crate::limits::retry_after_secs;
use crate::state::AppState;

/// The one subprotocol served. The older subscriptions-transport-ws (`graphql-ws`) is not:
/// the web app and current clients speak this one.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// Upgrades to a socket speaking [`PROTOCOL`]. Messages are held to the request body limit.
pub async fn graphql_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // The browser's session cookie, for when the init payload names no token.
    let session = request::session(&headers);
    let max = state.limits.body_bytes;
    upgrade
        .protocols([PROTOCOL])
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| serve(state, session, socket))
}

/// Why the server closes a socket, each with the protocol's code.
#[derive(Debug, PartialEq)]
enum Close {
    /// 4400: a message the protocol does not allow, and what is wrong with it.
    BadRequest(String),
    /// 4401: `subscribe` before `connection_ack`.
    Unauthorized,
    /// 4403: no token or session, a bad one, too many requests; or, at a later `subscribe`,
    /// a credential that is no longer valid (revoked, expired, user deactivated).
    Forbidden(String),
    /// 4406: the upgrade did not offer [`PROTOCOL`].
    SubprotocolNotAcceptable,
    /// 4408: no `connection_init` in time.
    InitTimeout,
    /// 4409: `subscribe` with the id of an operation still running.
    SubscriberExists(String),
    /// 4429: a second `connection_init`.
    TooManyInits,
    /// 4500: the caller could not be checked (already logged).
    Internal,
}

/// The longest close reason a WebSocket frame carries, in bytes.
const MAX_REASON: usize = 123;

impl Close {
    fn code(&self) -> u16 {
        match self {
            Close::BadRequest(_) => 4400,
            Close::Unauthorized => 4401,
            Close::Forbidden(_) => 4403,
            Close::SubprotocolNotAcceptable => 4406,
            Close::InitTimeout => 4408,
            Close::SubscriberExists(_) => 4409,
            Close::TooManyInits => 4429,
            Close::Internal => 4500,
        }
    }

    /// The protocol's wording, with our detail where it leaves room for one.
    fn reason(&self) -> String {
        match self {
            Close::BadRequest(why) => why.clone(),
            Close::Unauthorized => "Unauthorized".into(),
            Close::Forbidden(why) => format!("Forbidden: {why}"),
            Close::SubprotocolNotAcceptable => "Subprotocol not acceptable".into(),
            Close::InitTimeout => "Connection initialisation timeout".into(),
            Close::SubscriberExists(id) => format!("Subscriber for {id} already exists"),
            Close::TooManyInits => "Too many initialisation requests".into(),
            Close::Internal => "Internal server error".into(),
        }
    }

    fn frame(&self) -> CloseFrame {
        let mut reason = self.reason();
        if reason.len() > MAX_REASON {
            let mut end = MAX_REASON - '…'.len_utf8();
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
            reason.push('…');
        }
        CloseFrame {
            code: self.code(),
            reason: reason.into(),
        }
    }

    /// A credential refused at init or at a later `subscribe`.
    fn refused(error: AppError) -> Close {
        match error {
            AppError::Internal => Close::Internal,
            other => Close::Forbidden(other.message()),
        }
    }
}

/// A message from the client, checked against the protocol's shapes.
enum Incoming {
    Init(Map<String, Value>),
    Ping(Option<Value>),
    Pong,
    Subscribe {
        id: String,
        request: Box<async_graphql::Request>,
    },
    Complete(String),
}

/// Reads one text message; `Err` is the reason to close with 4400.
fn parse(text: &str) -> Result<Incoming, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("the message is not JSON: {e}"))?;
    let Value::Object(mut message) = value else {
        return Err("a message must be a JSON object".into());
    };
    let Some(Value::String(kind)) = message.remove("type") else {
        return Err(r#"a message must have a string "type""#.into());
    };
    let payload = message.remove("payload").filter(|p| !p.is_null());
    if payload.as_ref().is_some_and(|p| !p.is_object()) {
        return Err(format!("the payload of {kind} must be an object"));
    }
    match kind.as_str() {
        "connection_init" => Ok(Incoming::Init(match payload {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        })),
        "ping" => Ok(Incoming::Ping(payload)),
        "pong" => Ok(Incoming::Pong),
        "subscribe" => Ok(Incoming::Subscribe {
            id: id(&message, &kind)?,
            request: Box::new(operation(payload)?),
        }),
        "complete" => Ok(Incoming::Complete(id(&message, &kind)?)),
        "connection_ack" | "next" | "error" => {
            Err(format!("{kind} is sent by the server, never by a client"))
        }
        other => Err(format!(
            "unknown message type {other:?}: a client sends connection_init, ping, pong, subscribe or complete"
        )),
    }
}

fn id(message: &Map<String, Value>, kind: &str) -> Result<String, String> {
    match message.get("id") {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        _ => Err(format!("{kind} needs a non-empty string \"id\"")),
    }
}

/// `subscribe`'s payload: `{query, operationName?, variables?, extensions?}`.
fn operation(payload: Option<Value>) -> Result<async_graphql::Request, String> {
    let Some(Value::Object(mut payload)) = payload else {
        return Err("subscribe needs a payload: {query, operationName?, variables?}".into());
    };
    if !matches!(payload.get("query"), Some(Value::String(_))) {
        return Err(r#"the payload of subscribe must have a string "query""#.into());
    }
    for (field, ok) in [
        ("operationName", Value::is_string as fn(&Value) -> bool),
        ("variables", Value::is_object),
        ("extensions", Value::is_object),
    ] {
        match payload.get(field) {
            Some(Value::Null) => {
                payload.remove(field);
            }
            Some(value) if !ok(value) => {
                let expected = if field == "operationName" {
                    "a string"
                } else {
                    "an object"
                };
                return Err(format!(
                    "{field} in the payload of subscribe must be {expected} or null"
                ));
            }
            _ => {}
        }
    }
    serde_json::from_value(Value::Object(payload))
        .map_err(|e| format!("the payload of subscribe is not an operation: {e}"))
}

/// What proved the caller at `connection_init`; checked again at every `subscribe`, as every
/// HTTP request is.
enum Credential {
    Token(String),
    Session(String),
}

impl Credential {
    /// The token in the init payload (`Authorization: Bearer …`, as the `graphql-ws` client's
    /// `connectionParams`), else the upgrade's session cookie.
    fn read(payload: &Map<String, Value>, session: Option<String>) -> Result<Credential, Close> {
        let token = ["Authorization", "authorization", "token"]
            .iter()
            .find_map(|k| payload.get(*k).and_then(Value::as_str))
            .map(|t| t.strip_prefix("Bearer ").unwrap_or(t).trim().to_owned())
            .filter(|t| !t.is_empty());
        match (token, session) {
            (Some(token), _) => Ok(Credential::Token(token)),
            (None, Some(cookie)) => Ok(Credential::Session(cookie)),
            (None, None) => Err(Close::Forbidden(
                r#"send {"Authorization": "Bearer <token>"} as the connection_init payload, or sign in"#
                    .into(),
            )),
        }
    }

    async fn viewer(&self, state: &AppState) -> Result<Viewer, Close> {
        match self {
            Credential::Token(token) => request::from_api_token(state, token).await,
            Credential::Session(cookie) => request::from_session(state, cookie)
                .await
                .map(|(viewer, _)| viewer),
        }
        .map_err(Close::refused)
    }
}

/// An operation started by `subscribe` and not yet over.
struct Operation {
    /// Tells this run's messages from those of an earlier one under the same id.
    key: u64,
    task: JoinHandle<()>,
    subscription: bool,
}

/// A message from an operation's task, sent on only while that run still holds its id.
struct Output {
    id: String,
    key: u64,
    message: String,
    /// `complete` or `error`: the id is free again once this is sent.
    last: bool,
}

struct Connection {
    state: AppState,
    /// The upgrade's session cookie, until `connection_init` decides the credential.
    session: Option<String>,
    init_received: bool,
    /// Set by `connection_ack`.
    credential: Option<Credential>,
    operations: HashMap<String, Operation>,
    runs: u64,
    outputs: mpsc::Sender<Output>,
}

/// How many messages operations may have waiting for the socket before they wait too.
const BACKLOG: usize = 32;

async fn serve(state: AppState, session: Option<String>, mut socket: WebSocket) {
    if socket.protocol().and_then(|p| p.to_str().ok()) != Some(PROTOCOL) {
        close(&mut socket, Close::SubprotocolNotAcceptable).await;
        return;
    }
    let (outputs, mut pending) = mpsc::channel(BACKLOG);
    let init_timeout = tokio::time::sleep(state.limits.ws_init_timeout);
    tokio::pin!(init_timeout);
    let mut connection = Connection {
        state,
        session,
        init_received: false,
        credential: None,
        operations: HashMap::new(),
        runs: 0,
        outputs,
    };
    let closing = loop {
        tokio::select! {
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => {
                        break Some(Close::BadRequest(
                            "binary messages are not part of graphql-transport-ws; send JSON text".into(),
                        ));
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | None => break None,
                    // Over the size limit, or not a WebSocket frame; if the connection
                    // itself is gone, the close goes nowhere.
                    Some(Err(error)) => {
                        let why = format!("the message could not be read: {error}");
                        break Some(Close::BadRequest(why));
                    }
                };
                match connection.handle(text.as_str()).await {
                    Ok(Some(reply)) => {
                        if socket.send(Message::text(reply)).await.is_err() {
                            break None;
                        }
                    }
                    Ok(None) => {}
                    Err(close) => break Some(close),
                }
            }
            Some(output) = pending.recv() => {
                let current = connection.operations.get(&output.id);
                if current.is_none_or(|operation| operation.key != output.key) {
                    continue; // stopped by the client; its last words are dropped
                }
                if output.last {
                    connection.operations.remove(&output.id);
                }
                if socket.send(Message::text(output.message)).await.is_err() {
                    break None;
                }
            }
            () = &mut init_timeout, if !connection.init_received => {
                break Some(Close::InitTimeout);
            }
        }
    };
    connection.stop_all();
    if let Some(reason) = closing {
        close(&mut socket, reason).await;
    }
}

/// Sends the close frame and waits briefly for the client's answer, so the closing
/// handshake completes and the client sees our code.
async fn close(socket: &mut WebSocket, reason: Close) {
    tracing::debug!(code = reason.code(), reason = %reason.reason(), "closing a graphql-ws socket");
    if socket
        .send(Message::Close(Some(reason.frame())))
        .await
        .is_ok()
    {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while let Some(Ok(_)) = socket.recv().await {}
        })
        .await;
    }
}

impl Connection {
    /// One message from the client: `Ok` with the reply to send, if any, or the close.
    async fn handle(&mut self, text: &str) -> Result<Option<String>, Close> {
        match parse(text).map_err(Close::BadRequest)? {
            Incoming::Init(payload) => self.init(&payload).await.map(Some),
            Incoming::Ping(payload) => Ok(Some(
                match payload {
                    Some(payload) => json!({ "type": "pong", "payload": payload }),
                    None => json!({ "type": "pong" }),
                }
                .to_string(),
            )),
            Incoming::Pong => Ok(None),
            Incoming::Subscribe { id, request } => self.subscribe(id, *request).await,
            Incoming::Complete(id) => {
                self.stop(&id);
                Ok(None)
            }
        }
    }

    async fn init(&mut self, payload: &Map<String, Value>) -> Result<String, Close> {
        if self.init_received {
            return Err(Close::TooManyInits);
        }
        self.init_received = true;
        let credential = Credential::read(payload, self.session.take())?;
        let viewer = credential.viewer(&self.state).await?;
        take_request(&self.state, &viewer).await.map_err(|wait| {
            Close::Forbidden(format!(
                "too many requests for this token; retry in {} s",
                retry_after_secs(wait)
            ))
        })?;
        self.credential = Some(credential);
        Ok(json!({ "type": "connection_ack" }).to_string())
    }

    async fn subscribe(
        &mut self,
        id: String,
        mut request: async_graphql::Request,
    ) -> Result<Option<String>, Close> {
        let Some(credential) = &self.credential else {
            return Err(Close::Unauthorized);
        };
        if self.operations.contains_key(&id) {
            return Err(Close::SubscriberExists(id));
        }
        // Each operation is a request: its caller is checked again (a revoked token, an
        // expired session or a deactivated user ends the socket) and counted.
        let viewer = credential.viewer(&self.state).await?;
        if let Err(wait) = take_request(&self.state, &viewer).await {
            let seconds = retry_after_secs(wait);
            let mut error = ServerError::new(
                format!("too many requests for this token; retry in {seconds} s"),
                None,
            );
            let extensions = error.extensions.get_or_insert_with(Default::default);
            extensions.set("code", "RATE_LIMITED");
            extensions.set("retryAfter", seconds);
            return Ok(Some(error_message(&id, vec![error])));
        }
        let name = request.operation_name.clone();
        let kind = match request.parsed_query() {
            Ok(document) => kind(document, name.as_deref()),
            Err(error) => {
                return Ok(Some(error_message(
                    &id,
                    vec![with_code(error, PARSE_FAILED)],
                )));
            }
        };
        let tenant = viewer.tenant_id;
        let scope = Scope::for_tenant_id(self.state.db.clone(), tenant);
        // Loaders per operation, as per HTTP request: one operation's cache never answers another.
        let request = request
            .data(LazyLoaders::new(&scope))
            .data(scope)
            .data(viewer);
        // Subscriptions need no introspection: in production, nobody gets it here.
        let schema = self
            .state
            .restricted
            .clone()
            .unwrap_or_else(|| self.state.schema.clone());
        self.runs += 1;
        let key = self.runs;
        let operation = run(schema, request, id.clone(), key, self.outputs.clone());
        let task = if kind == Some(OperationType::Mutation) {
            let previews = self.state.pusher.previews.clone();
            tokio::spawn(async move {
                operation.await;
                // The tenant's recent previews may not show what it changed.
                previews.forget(tenant);
            })
        } else {
            tokio::spawn(operation)
        };
        let subscription = kind == Some(OperationType::Subscription);
        self.operations.insert(
            id,
            Operation {
                key,
                task,
                subscription,
            },
        );
        Ok(None)
    }

    /// The client's `complete`. An id not running (it may have just ended) is ignored.
    fn stop(&mut self, id: &str) {
        if let Some(operation) = self.operations.remove(id) {
            // A subscription stops at once. A query or mutation runs to its end, since
            // stopping a write halfway helps no one; its answer is not sent.
            if operation.subscription {
                operation.task.abort();
            }
        }
    }

    /// The socket is gone: subscriptions stop; queries and mutations finish unheard.
    fn stop_all(&mut self) {
        for (_, operation) in self.operations.drain() {
            if operation.subscription {
                operation.task.abort();
            }
        }
    }
}

/// The type of the operation `name` picks (the only one when unnamed); `None` when the
/// document does not say, which execution then reports.
fn kind(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation.node.ty),
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).map(|operation| operation.node.ty)
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations
            .values()
            .next()
            .map(|operation| operation.node.ty),
        _ => None,
    }
}

/// Runs one operation, sending `next` for each result and then `complete`; or one `error`
/// when it never started.
async fn run(
    schema: AppSchema,
    request: async_graphql::Request,
    id: String,
    key: u64,
    outputs: mpsc::Sender<Output>,
) {
    let mut results = schema.execute_stream(request);
    let mut first = true;
    let send = |message: String, last: bool| {
        outputs.send(Output {
            id: id.clone(),
            key,
            message,
            last,
        })
    };
    while let Some(result) = results.next().await {
        if std::mem::take(&mut first) && is_request_error(&result) {
            let _ = send(error_message(&id, result.errors), true).await;
            return;
        }
        let next = next_message(&id, &result);
        if send(next, false).await.is_err() {
            return; // the socket is gone
        }
    }
    let _ = send(json!({ "id": id, "type": "complete" }).to_string(), true).await;
}

/// `next`, with the response written by `json::response` (the selection order
/// `graphql::order` gave it kept, the parts answered at once in place).
fn next_message(id: &str, result: &async_graphql::Response) -> String {
    let text = json::response(result)
        .map_err(|e| e.to_string())
        .and_then(|payload| {
            let mut text = format!(r#"{{"id":{},"type":"next","payload":"#, json!(id));
            text.push_str(std::str::from_utf8(&payload).map_err(|e| e.to_string())?);
            text.push('}');
            Ok(text)
        });
    text.unwrap_or_else(|e| {
        tracing::error!(error = %e, "serializing a GraphQL response");
        let error = with_code(
            ServerError::new("the response could not be serialized", None),
            "INTERNAL",
        );
        json!({ "id": id, "type": "next", "payload": { "errors": [error] } }).to_string()
    })
}

/// `error`: the operation is over. Every error carries `extensions.code`; those without one
/// did not validate.
fn error_message(id: &str, errors: Vec<ServerError>) -> String {
    let errors: Vec<ServerError> = errors
        .into_iter()
        .map(|error| with_code(error, VALIDATION_FAILED))
        .collect();
    json!({ "id": id, "type": "error", "payload": errors }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        match parse(text) {
            Err(reason) => reason,
            Ok(_) => panic!("{text} was accepted"),
        }
    }

    #[test]
    fn messages_outside_the_protocol_are_refused_with_a_reason() {
        for (text, reason) in [
            ("not json", "the message is not JSON"),
            ("[1]", "a message must be a JSON object"),
            (
                r#"{"payload":{}}"#,
                r#"a message must have a string "type""#,
            ),
            (r#"{"type":7}"#, r#"a message must have a string "type""#),
            (r#"{"type":"hello"}"#, r#"unknown message type "hello""#),
            (
                r#"{"type":"connection_init","payload":"token"}"#,
                "the payload of connection_init must be an object",
            ),
            (
                r#"{"type":"ping","payload":[1]}"#,
                "the payload of ping must be an object",
            ),
            (
                r#"{"type":"subscribe","payload":{"query":"{ a }"}}"#,
                r#"subscribe needs a non-empty string "id""#,
            ),
            (
                r#"{"type":"subscribe","id":"","payload":{"query":"{ a }"}}"#,
                r#"subscribe needs a non-empty string "id""#,
            ),
            (
                r#"{"type":"subscribe","id":"1"}"#,
                "subscribe needs a payload",
            ),
            (
                r#"{"type":"subscribe","id":"1","payload":{"query":1}}"#,
                r#"the payload of subscribe must have a string "query""#,
            ),
            (
                r#"{"type":"subscribe","id":"1","payload":{"query":"{ a }","variables":[]}}"#,
                "variables in the payload of subscribe must be an object or null",
            ),
            (
                r#"{"type":"subscribe","id":"1","payload":{"query":"{ a }","operationName":1}}"#,
                "operationName in the payload of subscribe must be a string or null",
            ),
            (
                r#"{"type":"complete"}"#,
                r#"complete needs a non-empty string "id""#,
            ),
            (
                r#"{"type":"next","id":"1","payload":{}}"#,
                "next is sent by the server, never by a client",
            ),
            (
                r#"{"type":"connection_ack"}"#,
                "connection_ack is sent by the server",
            ),
        ] {
            let got = refused(text);
            assert!(got.starts_with(reason), "{text}: {got}");
        }
    }

    #[test]
    fn messages_of_the_protocol_are_read() {
        assert!(matches!(
            parse(r#"{"type":"connection_init"}"#),
            Ok(Incoming::Init(payload)) if payload.is_empty()
        ));
        assert!(matches!(
            parse(r#"{"type":"connection_init","payload":null}"#),
            Ok(Incoming::Init(_))
        ));
        assert!(matches!(
            parse(r#"{"type":"ping","payload":{"n":1}}"#),
            Ok(Incoming::Ping(Some(payload))) if payload == json!({"n": 1})
        ));
        assert!(matches!(parse(r#"{"type":"pong"}"#), Ok(Incoming::Pong)));
        assert!(matches!(
            parse(r#"{"type":"complete","id":"7"}"#),
            Ok(Incoming::Complete(id)) if id == "7"
        ));
        let Ok(Incoming::Subscribe { id, request }) = parse(
            r#"{"type":"subscribe","id":"a","payload":{"query":"query Q($x: Int) { a }","operationName":"Q","variables":{"x":1},"extensions":null}}"#,
        ) else {
            panic!("subscribe not read");
        };
        assert_eq!(id, "a");
        assert_eq!(request.operation_name.as_deref(), Some("Q"));
        assert_eq!(
            request.variables.into_value().into_json().unwrap(),
            json!({"x": 1})
        );
    }

    #[test]
    fn close_reasons_fit_a_frame() {
        let long = Close::SubscriberExists("é".repeat(200)).frame();
        assert_eq!(long.code, 4409);
        assert!(
            long.reason.as_str().len() <= MAX_REASON,
            "{}",
            long.reason.as_str().len()
        );
        assert!(long.reason.as_str().starts_with("Subscriber for éé"));
        assert!(long.reason.as_str().ends_with('…'));
        let short = Close::InitTimeout.frame();
        assert_eq!(
            (short.code, short.reason.as_str()),
            (4408, "Connection initialisation timeout")
        );
        assert_eq!(
            Close::refused(AppError::Unauthenticated("the token has expired".into()))
                .frame()
                .reason
                .as_str(),
            "Forbidden: the token has expired"
        );
        assert_eq!(Close::refused(AppError::Internal).code(), 4500);
    }

    #[test]
    fn the_operation_named_decides_the_kind() {
        let kind_of = |query: &str, name: Option<&str>| {
            kind(&async_graphql::parser::parse_query(query).unwrap(), name)
        };
        assert_eq!(
            kind_of("subscription { a }", None),
            Some(OperationType::Subscription)
        );
        assert_eq!(
            kind_of("{ a }", Some("ignored")),
            Some(OperationType::Query)
        );
        let two = "query A { a } subscription B { b }";
        assert_eq!(kind_of(two, Some("B")), Some(OperationType::Subscription));
        assert_eq!(kind_of(two, Some("A")), Some(OperationType::Query));
        assert_eq!(kind_of(two, None), None);
        assert_eq!(kind_of(two, Some("C")), None);
        assert_eq!(
            kind_of("mutation M { a }", None),
            Some(OperationType::Mutation)
        );
    }

    #[test]
    fn request_errors_are_told_from_field_errors_by_their_path() {
        let request_error = async_graphql::Response::from_errors(vec![ServerError::new(
            "Unknown field \"nope\"",
            None,
        )]);
        assert!(is_request_error(&request_error));
        let field_error = async_graphql::Response::from_errors(vec![
            ServerError::new("push run 9 not found", None).with_path(vec![
                async_graphql::PathSegment::Field("pushRunProgress".into()),
            ]),
        ]);
        assert!(!is_request_error(&field_error));
        let data =
            async_graphql::Response::new(async_graphql::Value::from_json(json!({"a": 1})).unwrap());
        assert!(!is_request_error(&data));
        // Codes are added where missing, never replaced.
        let message: Value = serde_json::from_str(&error_message(
            "1",
            vec![
                ServerError::new("bad", None),
                with_code(ServerError::new("too many fields", None), "MINE"),
            ],
        ))
        .unwrap();
        assert_eq!(message["type"], "error");
        assert_eq!(
            message["payload"][0]["extensions"]["code"],
            "GRAPHQL_VALIDATION_FAILED"
        );
        assert_eq!(message["payload"][1]["extensions"]["code"], "MINE");
    }
}
