//! `/graphql/ws` by the graphql-transport-ws protocol, in raw frames: every close code the
//! server uses, `error` for operations that never start, `next`… `complete` for those that
//! do, the client's `complete`, ping/pong, the caller checked and counted per operation; and
//! the real `graphql-ws` client (the web app's, from `frontend/node_modules`) driven by
//! `ws_client.mjs`.

use billbridge::auth::Role;
use billbridge::db::push::Trigger;
use billbridge::db::{self, Scope};
use billbridge::domain::RunTrigger;
use billbridge::limits::Limits;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::{TestApp, demo};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const PROTOCOL: &str = "graphql-transport-ws";
const PROGRESS: &str =
    "subscription($id: ID!) { pushRunProgress(runId: $id) { status done pending finished } }";

/// What the server sent: a protocol message, or the close frame.
#[derive(Debug)]
enum Frame {
    Message(Value),
    Closed(u16, String),
}

struct Ws(Socket);

impl Ws {
    async fn open(app: &TestApp) -> Ws {
        Ws::open_with(app, Some(PROTOCOL), None).await
    }

    async fn open_with(app: &TestApp, protocol: Option<&str>, cookie: Option<&str>) -> Ws {
        let url = format!("{}/graphql/ws", app.base.replace("http://", "ws://"));
        let mut request = url.into_client_request().unwrap();
        if let Some(protocol) = protocol {
            request
                .headers_mut()
                .insert("sec-websocket-protocol", protocol.parse().unwrap());
        }
        if let Some(cookie) = cookie {
            request
                .headers_mut()
                .insert("cookie", cookie.parse().unwrap());
        }
        Ws(tokio_tungstenite::connect_async(request).await.unwrap().0)
    }

    async fn send(&mut self, message: Value) {
        self.0
            .send(Message::text(message.to_string()))
            .await
            .unwrap();
    }

    async fn next(&mut self) -> Frame {
        loop {
            // A guard against hanging forever, not a measurement.
            let frame = tokio::time::timeout(Duration::from_secs(30), self.0.next())
                .await
                .expect("the server sent nothing for 30 s");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return Frame::Message(serde_json::from_str(text.as_str()).unwrap());
                }
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Frame::Closed(u16::from(frame.code), frame.reason.to_string());
                }
                Some(Ok(Message::Close(None))) => return Frame::Closed(1005, String::new()),
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("socket error: {e}"),
                None => panic!("the socket ended without a close frame"),
            }
        }
    }

    async fn message(&mut self) -> Value {
        match self.next().await {
            Frame::Message(message) => message,
            Frame::Closed(code, reason) => panic!("closed {code} {reason}"),
        }
    }

    async fn closed(&mut self) -> (u16, String) {
        match self.next().await {
            Frame::Closed(code, reason) => (code, reason),
            Frame::Message(message) => panic!("expected the close, got {message}"),
        }
    }

    async fn init(&mut self, payload: Value) {
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        assert_eq!(self.message().await, json!({ "type": "connection_ack" }));
    }

    async fn init_with(&mut self, token: &str) {
        self.init(json!({ "Authorization": format!("Bearer {token}") }))
            .await;
    }

    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// Every message up to and including the `complete` or `error` of `id`.
    async fn until_done(&mut self, id: &str) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let message = self.message().await;
            let done = message["id"] == id
                && ["complete", "error"].contains(&message["type"].as_str().unwrap_or(""));
            seen.push(message);
            if done {
                return seen;
            }
        }
    }
}

/// The messages of `id` among `messages`.
fn of<'a>(messages: &'a [Value], id: &str) -> Vec<&'a Value> {
    messages.iter().filter(|m| m["id"] == id).collect()
}

fn types(messages: &[&Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["type"].as_str().unwrap().to_owned())
        .collect()
}

async fn demo_scope(app: &TestApp) -> Scope {
    let tenant = db::tenants::by_slug(&app.db, "demo")
        .await
        .unwrap()
        .unwrap();
    Scope::new(app.db.clone(), &tenant)
}

/// A demo push run that stays RUNNING until `execute` is called on it: its progress
/// subscription stays open meanwhile.
async fn held_run(app: &TestApp) -> (Scope, billbridge::db::entity::push_run::Model) {
    let scope = demo_scope(app).await;
    let trigger = Trigger {
        kind: RunTrigger::User,
        by: "test".into(),
        slot_at: None,
    };
    let run = app
        .pusher
        .begin(&scope, None, false, &trigger)
        .await
        .unwrap();
    (scope, run)
}

#[tokio::test]
async fn a_subscription_streams_next_until_complete_beside_a_query() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let (scope, run) = held_run(&app).await;
    let mut ws = Ws::open(&app).await;
    // Ping is answered at any time, its payload echoed.
    ws.send(json!({ "type": "ping", "payload": { "at": 1 } }))
        .await;
    assert_eq!(
        ws.message().await,
        json!({ "type": "pong", "payload": { "at": 1 } })
    );
    ws.init_with(&editor).await;
    ws.subscribe("progress", PROGRESS, json!({ "id": run.id.to_string() }))
        .await;
    let first = ws.message().await;
    assert_eq!(first["id"], "progress");
    assert_eq!(first["type"], "next");
    assert_eq!(
        first["payload"]["data"]["pushRunProgress"]["status"],
        "RUNNING"
    );
    // A query on the same socket meanwhile: one next, then complete.
    ws.subscribe("levels", "{ levels { name } }", json!({}))
        .await;
    let query = ws.until_done("levels").await;
    assert_eq!(types(&of(&query, "levels")), ["next", "complete"]);
    assert!(of(&query, "levels")[0]["payload"]["data"]["levels"].is_array());
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.message().await, json!({ "type": "pong" }));

    // The run goes on: progress until the final status, then the server's complete.
    let pusher = app.pusher.clone();
    tokio::spawn(async move { pusher.execute(&scope, run, false).await });
    let rest = ws.until_done("progress").await;
    let progress = of(&rest, "progress");
    assert_eq!(progress.last().unwrap()["type"], "complete");
    assert!(
        progress[..progress.len() - 1]
            .iter()
            .all(|m| m["type"] == "next")
    );
    let last = &progress[progress.len() - 2]["payload"]["data"]["pushRunProgress"];
    assert_eq!(last["finished"], true, "{last}");
    assert_eq!(last["status"], "SUCCEEDED");
    assert_eq!(last["pending"], 0);
    assert!(last["done"].as_i64().unwrap() > 0, "{last}");
}

#[tokio::test]
async fn complete_from_the_client_stops_a_subscription_and_frees_its_id() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let (scope, run) = held_run(&app).await;
    let variables = json!({ "id": run.id.to_string() });
    let mut ws = Ws::open(&app).await;
    ws.init_with(&editor).await;
    for id in ["a", "b"] {
        ws.subscribe(id, PROGRESS, variables.clone()).await;
        assert_eq!(ws.message().await["id"], id);
    }
    ws.send(json!({ "id": "a", "type": "complete" })).await;
    // The id is free again (a running one would close the socket with 4409).
    ws.subscribe("a", PROGRESS, variables.clone()).await;
    let again = ws.message().await;
    assert_eq!(
        (&again["id"], &again["type"]),
        (&json!("a"), &json!("next"))
    );
    ws.send(json!({ "id": "a", "type": "complete" })).await;
    // Completing what is not running is no error.
    ws.send(json!({ "id": "never-started", "type": "complete" }))
        .await;

    // The run finishes: "b" hears all of it, "a" nothing more.
    let pusher = app.pusher.clone();
    tokio::spawn(async move { pusher.execute(&scope, run, false).await });
    let rest = ws.until_done("b").await;
    assert!(of(&rest, "a").is_empty(), "{rest:?}");
    assert!(of(&rest, "b").len() >= 2, "{rest:?}");
    assert!(of(&rest, "never-started").is_empty());
}

#[tokio::test]
async fn a_subscribe_with_a_running_id_closes_4409() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let (_scope, run) = held_run(&app).await;
    let mut ws = Ws::open(&app).await;
    ws.init_with(&editor).await;
    ws.subscribe("1", PROGRESS, json!({ "id": run.id.to_string() }))
        .await;
    assert_eq!(ws.message().await["type"], "next");
    // Whatever the operation, the id is taken while the subscription runs.
    ws.subscribe("1", "{ levels { name } }", json!({})).await;
    assert_eq!(
        ws.closed().await,
        (4409, "Subscriber for 1 already exists".to_owned())
    );
}

#[tokio::test]
async fn subscribe_before_the_ack_closes_4401() {
    let app = TestApp::start().await;
    let mut ws = Ws::open(&app).await;
    ws.subscribe("1", "{ levels { name } }", json!({})).await;
    assert_eq!(ws.closed().await, (4401, "Unauthorized".to_owned()));
}

#[tokio::test]
async fn a_missing_or_bad_credential_closes_4403() {
    let app = TestApp::start().await;
    let forbidden = |payload: Value| {
        let app = &app;
        async move {
            let mut ws = Ws::open(app).await;
            ws.send(json!({ "type": "connection_init", "payload": payload }))
                .await;
            ws.closed().await
        }
    };
    let (code, reason) = forbidden(json!({})).await;
    assert_eq!(code, 4403);
    assert!(
        reason.starts_with("Forbidden: send {\"Authorization\""),
        "{reason}"
    );
    let (code, reason) = forbidden(json!({ "Authorization": "Bearer not-a-token" })).await;
    assert_eq!(
        (code, reason.as_str()),
        (4403, "Forbidden: the token is not valid here")
    );
    let elsewhere = app.token("nowhere", Role::Editor);
    let (code, reason) = forbidden(json!({ "Authorization": format!("Bearer {elsewhere}") })).await;
    assert_eq!(
        (code, reason.as_str()),
        (4403, "Forbidden: the token's tenant does not exist")
    );
}

#[tokio::test]
async fn a_token_revoked_while_the_socket_is_open_closes_it_at_the_next_subscribe() {
    let app = TestApp::start().await;
    let admin = app.token("alpha", Role::Admin);
    let created = app
        .ok(
            &admin,
            "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token apiToken { id } } }",
            json!({ "i": { "name": "socket", "role": "VIEWER" } }),
        )
        .await["createApiToken"]
        .clone();
    let token = created["token"].as_str().unwrap();
    let mut ws = Ws::open(&app).await;
    ws.init_with(token).await;
    ws.subscribe("1", "{ me { subject role } }", json!({}))
        .await;
    let answered = ws.until_done("1").await;
    assert_eq!(answered[0]["payload"]["data"]["me"]["role"], "VIEWER");
    app.ok(
        &admin,
        "mutation($id: ID!) { revokeApiToken(id: $id) { id } }",
        json!({ "id": created["apiToken"]["id"] }),
    )
    .await;
    ws.subscribe("2", "{ me { subject } }", json!({})).await;
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 4403, "{reason}");
    assert!(reason.starts_with("Forbidden: "), "{reason}");
}

#[tokio::test]
async fn the_session_cookie_of_the_upgrade_signs_the_socket_in() {
    let app = TestApp::start().await;
    let admin = app.token("alpha", Role::Admin);
    let user = app
        .ok(
            &admin,
            "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
            json!({ "i": { "email": "ann@msp.example", "displayName": "Ann", "role": "EDITOR", "password": "correct horse battery" } }),
        )
        .await["createUser"]["id"]
        .clone();
    let login = app
        .client
        .post(format!("{}/auth/login", app.base))
        .json(&json!({ "tenant": "alpha", "email": "ann@msp.example", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mut ws = Ws::open_with(&app, Some(PROTOCOL), Some(&cookie)).await;
    ws.init(json!({})).await;
    ws.subscribe("1", "{ me { subject role } }", json!({}))
        .await;
    let answered = ws.until_done("1").await;
    assert_eq!(
        answered[0]["payload"]["data"]["me"],
        json!({ "subject": "ann@msp.example", "role": "EDITOR" })
    );
    // A deactivated user is out at the next operation.
    app.ok(
        &admin,
        "mutation($id: ID!) { deactivateUser(id: $id) { id } }",
        json!({ "id": user }),
    )
    .await;
    ws.subscribe("2", "{ me { subject } }", json!({})).await;
    assert_eq!(
        ws.closed().await,
        (
            4403,
            "Forbidden: this account can no longer sign in".to_owned()
        )
    );
}

#[tokio::test]
async fn messages_outside_the_protocol_close_4400_with_the_reason() {
    let app = TestApp::start().await;
    let editor = app.editor();
    for (message, reason) in [
        (Message::text("{not json"), "the message is not JSON"),
        (
            Message::text(
                json!({ "type": "subscribe", "payload": { "query": "{ levels { name } }" } })
                    .to_string(),
            ),
            "subscribe needs a non-empty string \"id\"",
        ),
        (
            Message::text(json!({ "type": "start", "id": "1" }).to_string()),
            "unknown message type \"start\"",
        ),
        (
            Message::text(json!({ "type": "next", "id": "1", "payload": {} }).to_string()),
            "next is sent by the server",
        ),
        (
            Message::binary(b"{}".to_vec()),
            "binary messages are not part of graphql-transport-ws",
        ),
    ] {
        let mut ws = Ws::open(&app).await;
        ws.init_with(&editor).await;
        ws.0.send(message).await.unwrap();
        let (code, got) = ws.closed().await;
        assert_eq!(code, 4400, "{got}");
        assert!(got.starts_with(reason), "{got}");
    }
}

#[tokio::test]
async fn a_message_over_the_body_limit_closes_4400() {
    let limits = Limits {
        body_bytes: 4096,
        ..Limits::default()
    };
    let app = TestApp::start_with(limits, false).await;
    let mut ws = Ws::open(&app).await;
    ws.init_with(&app.editor()).await;
    let padding = " ".repeat(4096);
    ws.subscribe("1", &format!("{{ levels {{ name }} }}{padding}"), json!({}))
        .await;
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 4400, "{reason}");
    assert!(reason.contains("too long"), "{reason}");
}

#[tokio::test]
async fn no_connection_init_in_time_closes_4408() {
    let limits = Limits {
        ws_init_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let app = TestApp::start_with(limits, false).await;
    let mut ws = Ws::open(&app).await;
    // A ping does not count as the init.
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.message().await, json!({ "type": "pong" }));
    assert_eq!(
        ws.closed().await,
        (4408, "Connection initialisation timeout".to_owned())
    );
    // In time, the socket stays: a ping after the timeout is still answered.
    let mut ws = Ws::open(&app).await;
    ws.init_with(&app.editor()).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.message().await, json!({ "type": "pong" }));
}

#[tokio::test]
async fn a_second_connection_init_closes_4429() {
    let app = TestApp::start().await;
    let mut ws = Ws::open(&app).await;
    ws.init_with(&app.editor()).await;
    ws.send(json!({ "type": "connection_init", "payload": {} }))
        .await;
    assert_eq!(
        ws.closed().await,
        (4429, "Too many initialisation requests".to_owned())
    );
}

#[tokio::test]
async fn only_graphql_transport_ws_is_spoken() {
    let app = TestApp::start().await;
    let mut ws = Ws::open_with(&app, None, None).await;
    assert_eq!(
        ws.closed().await,
        (4406, "Subprotocol not acceptable".to_owned())
    );
}

#[tokio::test]
async fn operations_that_never_start_get_error_and_nothing_else() {
    let app = TestApp::start().await;
    let editor = app.editor();
    let mut ws = Ws::open(&app).await;
    ws.init_with(&editor).await;
    for (query, code) in [
        ("subscription { nope }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ levels { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        (
            "subscription { pushRunProgress(runId: 1) { nope } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("subscription {", "GRAPHQL_PARSE_FAILED"),
    ] {
        ws.subscribe("1", query, json!({})).await;
        let seen = ws.until_done("1").await;
        assert_eq!(types(&of(&seen, "1")), ["error"], "{query}: {seen:?}");
        let errors = seen.last().unwrap()["payload"].as_array().unwrap().clone();
        assert!(!errors.is_empty(), "{query}");
        for error in &errors {
            assert_eq!(error["extensions"]["code"], code, "{query}: {error}");
            assert!(error["message"].is_string());
        }
        // The id is free at once: the error ended the operation.
    }
    // An unknown operation name is a request error too.
    ws.send(json!({ "id": "2", "type": "subscribe", "payload": { "query": "query A { levels { name } }", "operationName": "B" } }))
        .await;
    let seen = ws.until_done("2").await;
    assert_eq!(types(&of(&seen, "2")), ["error"]);
    // A subscription that starts and fails in its resolver is an execution result: next
    // with the error and its path, then complete.
    ws.subscribe("3", PROGRESS, json!({ "id": "999999" })).await;
    let seen = of(&ws.until_done("3").await, "3")
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(
        types(&seen.iter().collect::<Vec<_>>()),
        ["next", "complete"]
    );
    let error = &seen[0]["payload"]["errors"][0];
    assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{error}");
    assert_eq!(error["path"], json!(["pushRunProgress"]));
}

#[tokio::test]
async fn http_and_the_socket_share_the_callers_allowance() {
    let limits = Limits {
        requests_per_minute: 4,
        ..Limits::default()
    };
    let app = TestApp::start_with(limits, false).await;
    let editor = app.editor();
    for _ in 0..2 {
        app.ok(&editor, "{ levels { name } }", json!({})).await;
    }
    let mut ws = Ws::open(&app).await;
    ws.init_with(&editor).await; // the third
    ws.subscribe("1", "{ levels { name } }", json!({})).await; // the fourth
    assert_eq!(
        types(&of(&ws.until_done("1").await, "1")),
        ["next", "complete"]
    );
    ws.subscribe("2", "{ levels { name } }", json!({})).await;
    let refused = ws.until_done("2").await;
    let error = &refused.last().unwrap()["payload"][0];
    assert_eq!(refused.last().unwrap()["type"], "error");
    assert_eq!(error["extensions"]["code"], "RATE_LIMITED", "{error}");
    assert!(error["extensions"]["retryAfter"].as_u64().unwrap() >= 1);
    // The socket stays open; a new one is refused at its init.
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.message().await, json!({ "type": "pong" }));
    let mut second = Ws::open(&app).await;
    second
        .send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {editor}") } }))
        .await;
    let (code, reason) = second.closed().await;
    assert_eq!(code, 4403);
    assert!(
        reason.starts_with("Forbidden: too many requests"),
        "{reason}"
    );
    // HTTP is refused as well: one allowance.
    let status = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&editor)
        .json(&json!({ "query": "{ levels { name } }" }))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 429);
}

/// The web app's own client (`graphql-ws` from `frontend/node_modules`, run by Node) against
/// the server: a subscription to its end, a query, a validation failure as an `error`, and a
/// bad token as close 4403.
#[tokio::test]
async fn the_graphql_ws_client_of_the_web_app_works_against_the_server() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let (scope, run) = held_run(&app).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/ws_client.mjs");
    let url = format!("{}/graphql/ws", app.base.replace("http://", "ws://"));
    let client = tokio::process::Command::new("node")
        .args([script, &url, &editor, &run.id.to_string()])
        .kill_on_drop(true)
        .output();
    // The run finishes while the client listens (or before it subscribes: then it hears the
    // final state only; either way the stream ends with it).
    let pusher = app.pusher.clone();
    tokio::spawn(async move { pusher.execute(&scope, run, false).await });
    let output = tokio::time::timeout(Duration::from_secs(60), client)
        .await
        .expect("the node client did not finish in 60 s")
        .expect("node runs (it also builds the web app)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let seen: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));

    let progress = &seen["progress"];
    assert_eq!(progress["complete"], true, "{progress}");
    assert!(progress["error"].is_null(), "{progress}");
    let updates = progress["next"].as_array().unwrap();
    let last = &updates.last().expect("progress")["data"]["pushRunProgress"];
    assert_eq!(
        (&last["status"], &last["finished"]),
        (&json!("SUCCEEDED"), &json!(true))
    );

    let query = &seen["query"];
    assert_eq!(query["complete"], true, "{query}");
    assert_eq!(query["next"].as_array().unwrap().len(), 1);
    assert!(query["next"][0]["data"]["levels"].is_array());

    let invalid = &seen["invalid"];
    assert!(invalid["next"].as_array().unwrap().is_empty(), "{invalid}");
    assert_eq!(invalid["complete"], false);
    let errors = invalid["error"]["errors"]
        .as_array()
        .expect("an error array");
    assert_eq!(errors[0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");

    let forbidden = &seen["forbidden"];
    assert_eq!(forbidden["error"]["close"]["code"], 4403, "{forbidden}");
    assert_eq!(
        forbidden["error"]["close"]["reason"],
        "Forbidden: the token is not valid here"
    );
}
