//! The authentication cache: an authenticated request that needs no data runs no statement,
//! and every change of what is cached holds at once on the server that made it and, on
//! PostgreSQL, on every replica as soon as its notice arrives; a dropped listener empties
//! the cache. Replica waits are polled, never slept for a fixed time.

use billbridge::auth::Role;
use billbridge::limits::Limits;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use std::future::Future;
use std::time::{Duration, Instant};

use crate::common::TestApp;

const PASSWORD: &str = "correct horse battery";
const TYPENAME: &str = "{ __typename }";

/// Default limits but the request allowance: on PostgreSQL it is shared through the
/// database, a statement of its own per request (see `limits`), which is not what these
/// tests count.
async fn start() -> TestApp {
    let limits = Limits {
        requests_per_minute: 0,
        ..Limits::default()
    };
    TestApp::start_with(limits, false).await
}

fn postgres(app: &TestApp) -> bool {
    app.db.get_database_backend() == DbBackend::Postgres
}

/// A revocable API token of `alpha` with `role`, and its id.
async fn api_token(app: &TestApp, role: &str) -> (String, String) {
    let admin = app.token("alpha", Role::Admin);
    let created = app
        .ok(
            &admin,
            "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token apiToken { id } } }",
            json!({ "i": { "name": "cached", "role": role } }),
        )
        .await;
    (
        created["createApiToken"]["token"]
            .as_str()
            .unwrap()
            .to_owned(),
        created["createApiToken"]["apiToken"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

/// A user of `alpha` signed in on `app`: their id and session cookie.
async fn signed_in(app: &TestApp, email: &str, role: &str) -> (String, String) {
    let admin = app.token("alpha", Role::Admin);
    let created = app
        .ok(
            &admin,
            "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
            json!({ "i": { "email": email, "displayName": email, "role": role, "password": PASSWORD } }),
        )
        .await;
    let response = app
        .client
        .post(format!("{}/auth/login", app.base))
        .json(&json!({ "tenant": "alpha", "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set = response.headers()["set-cookie"].to_str().unwrap();
    let cookie = set.split(';').next().unwrap().to_owned();
    (
        created["createUser"]["id"].as_str().unwrap().to_owned(),
        cookie,
    )
}

/// An operation sent with a session cookie, as the web app sends it.
async fn with_session(app: &TestApp, cookie: &str, query: &str) -> Value {
    app.client
        .post(format!("{}/graphql", app.base))
        .header("cookie", cookie)
        .header("x-billbridge-csrf", "1")
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The statements `request` made `app` run, and its answer.
async fn counted<F: Future<Output = Value>>(app: &TestApp, request: F) -> (usize, Value) {
    let before = app.statements();
    let answer = request.await;
    (app.statements() - before, answer)
}

fn code(answer: &Value) -> Option<&str> {
    answer["errors"][0]["extensions"]["code"].as_str()
}

/// Asks until `done` holds of the answer, for at most 10 s (a replica hears a notice in
/// milliseconds; the cache's own bound is a minute); prints how long it took.
async fn eventually<F, Fut>(what: &str, mut ask: F, done: impl Fn(&Value) -> bool)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Value>,
{
    let started = Instant::now();
    loop {
        let answer = ask().await;
        if done(&answer) {
            println!("{what}: after {:?}", started.elapsed());
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what}: still {answer}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_second_request_with_the_same_credential_runs_no_statement() {
    let app = start().await;
    let (token, _) = api_token(&app, "EDITOR").await;
    let (_, cookie) = signed_in(&app, "ann@msp.example", "EDITOR").await;
    let operator = app.token("beta", Role::Viewer);

    // API token (tenant, token row), operator token (tenant), session (tenant, user).
    let (first, _) = counted(&app, app.ok(&token, TYPENAME, json!({}))).await;
    assert!(
        first > 0,
        "the first request reads what it authenticates with"
    );
    let (second, data) = counted(&app, app.ok(&token, TYPENAME, json!({}))).await;
    assert_eq!(data["__typename"], "Query");
    assert_eq!(second, 0, "an API token, the second time");

    app.ok(&operator, TYPENAME, json!({})).await;
    let (second, _) = counted(&app, app.ok(&operator, TYPENAME, json!({}))).await;
    assert_eq!(second, 0, "an operator's token, the second time");

    with_session(&app, &cookie, TYPENAME).await;
    let (second, answer) = counted(&app, with_session(&app, &cookie, "{ me { role } }")).await;
    assert_eq!(answer["data"]["me"]["role"], "EDITOR", "{answer}");
    assert_eq!(second, 0, "a session, the second time");
}

#[tokio::test]
async fn the_cache_can_be_turned_off() {
    let limits = Limits {
        requests_per_minute: 0,
        auth_cache: Duration::ZERO,
        ..Limits::default()
    };
    let app = TestApp::start_with(limits, false).await;
    assert!(!app.auth.serving());
    let editor = app.editor();
    app.ok(&editor, TYPENAME, json!({})).await;
    let (second, _) = counted(&app, app.ok(&editor, TYPENAME, json!({}))).await;
    assert_eq!(second, 1, "the tenant is read every time");
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_once_on_every_replica() {
    let app = start().await;
    let replica = if postgres(&app) {
        Some(app.replica().await)
    } else {
        None
    };
    let (token, id) = api_token(&app, "VIEWER").await;
    // Cached on both servers before the revocation.
    for server in std::iter::once(&app).chain(&replica) {
        server.ok(&token, TYPENAME, json!({})).await;
        let (again, _) = counted(server, server.ok(&token, TYPENAME, json!({}))).await;
        assert_eq!(again, 0, "cached on {}", server.base);
    }

    let admin = app.token("alpha", Role::Admin);
    app.ok(
        &admin,
        "mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }",
        json!({ "id": id }),
    )
    .await;

    // The server that revoked it: the very next request.
    let refused = app.post(&token, TYPENAME, json!({})).await;
    assert_eq!(code(&refused), Some("UNAUTHENTICATED"), "{refused}");
    // Another replica: as soon as it hears the notice.
    if let Some(replica) = &replica {
        eventually(
            "the replica refuses the revoked token",
            || replica.post(&token, TYPENAME, json!({})),
            |answer| code(answer) == Some("UNAUTHENTICATED"),
        )
        .await;
    }

    // The refusal is remembered too. (On PostgreSQL the revoking server's own notice comes
    // back a moment later and evicts it once more, so there it is checked on the replica,
    // which refused only after its notice.)
    let server = replica.as_ref().unwrap_or(&app);
    let (again, refused) = counted(server, server.post(&token, TYPENAME, json!({}))).await;
    assert_eq!(code(&refused), Some("UNAUTHENTICATED"), "{refused}");
    assert_eq!(again, 0, "the refusal is remembered");
}

#[tokio::test]
async fn role_changes_and_deactivation_reach_sessions_at_once_on_every_replica() {
    let app = start().await;
    let replica = if postgres(&app) {
        Some(app.replica().await)
    } else {
        None
    };
    let (id, cookie) = signed_in(&app, "ben@msp.example", "EDITOR").await;
    const ME: &str = "{ me { role } }";
    for server in std::iter::once(&app).chain(&replica) {
        with_session(server, &cookie, ME).await;
        let (again, answer) = counted(server, with_session(server, &cookie, ME)).await;
        assert_eq!(answer["data"]["me"]["role"], "EDITOR", "{answer}");
        assert_eq!(again, 0, "cached on {}", server.base);
    }
    let admin = app.token("alpha", Role::Admin);

    app.ok(
        &admin,
        "mutation($id: ID!) { updateUserRole(id: $id, role: VIEWER) { role } }",
        json!({ "id": id }),
    )
    .await;
    let answer = with_session(&app, &cookie, ME).await;
    assert_eq!(answer["data"]["me"]["role"], "VIEWER", "{answer}");
    if let Some(replica) = &replica {
        eventually(
            "the replica sees the new role",
            || with_session(replica, &cookie, ME),
            |answer| answer["data"]["me"]["role"] == "VIEWER",
        )
        .await;
    }

    app.ok(
        &admin,
        "mutation($id: ID!) { deactivateUser(id: $id) { active } }",
        json!({ "id": id }),
    )
    .await;
    let answer = with_session(&app, &cookie, ME).await;
    assert_eq!(code(&answer), Some("UNAUTHENTICATED"), "{answer}");
    if let Some(replica) = &replica {
        eventually(
            "the replica ends the session",
            || with_session(replica, &cookie, ME),
            |answer| code(answer) == Some("UNAUTHENTICATED"),
        )
        .await;
    }
}

/// PostgreSQL only (SQLite has no listener): notices sent while the listener was down are
/// lost, so a reconnect must start from an empty cache.
#[tokio::test]
async fn a_dropped_listener_empties_the_cache() {
    let app = start().await;
    if !postgres(&app) {
        return;
    }
    let editor = app.editor();
    app.ok(&editor, TYPENAME, json!({})).await;
    let (again, _) = counted(&app, app.ok(&editor, TYPENAME, json!({}))).await;
    assert_eq!(again, 0, "cached");

    let pid = app.auth.listener_pid().expect("a listener");
    let terminated = app
        .db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_terminate_backend(pid) AS gone FROM pg_stat_activity \
             WHERE pid = $1 AND query LIKE 'LISTEN%'",
            [i32::try_from(pid).unwrap().into()],
        ))
        .await
        .unwrap();
    assert_eq!(terminated.len(), 1, "the listener's backend, LISTENing");
    assert!(terminated[0].try_get::<bool>("", "gone").unwrap());

    let started = Instant::now();
    while app.auth.listener_pid().is_none_or(|now| now == pid) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the listener did not come back"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!("listener back after {:?}", started.elapsed());
    let (after, _) = counted(&app, app.ok(&editor, TYPENAME, json!({}))).await;
    assert!(after > 0, "the reconnected cache starts empty");
    let (again, _) = counted(&app, app.ok(&editor, TYPENAME, json!({}))).await;
    assert_eq!(again, 0, "and serves again");
}
