//! Browser sessions: sign-in, the cookie's attributes, CSRF rules, audiences kept apart,
//! identical slow failures, throttling, sign-out.

use billbridge::auth::Role;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::common::TestApp;

const PASSWORD: &str = "correct horse battery";

async fn user(app: &TestApp, email: &str, role: &str) -> String {
    let admin = app.token("alpha", Role::Admin);
    let created = app
        .ok(&admin, "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }", json!({ "i": { "email": email, "displayName": email, "role": role, "password": PASSWORD } }))
        .await;
    created["createUser"]["id"].as_str().unwrap().to_owned()
}

async fn login(app: &TestApp, tenant: &str, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/auth/login", app.base))
        .json(&json!({ "tenant": tenant, "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

/// The `billbridge_session=…` pair of a response's Set-Cookie.
fn cookie(response: &reqwest::Response) -> String {
    let set = response.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

async fn graphql(app: &TestApp, cookie: &str, csrf: bool, query: &str) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("cookie", cookie)
        .json(&json!({ "query": query }));
    if csrf {
        request = request.header("x-billbridge-csrf", "1");
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_cookie_that_works_with_the_csrf_header() {
    let app = TestApp::start().await;
    user(&app, "ann@msp.example", "EDITOR").await;
    let response = login(&app, "alpha", "Ann@MSP.example", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let set = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in [
        "billbridge_session=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=3600",
    ] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Secure"), "plain http in tests");
    let session = cookie(&response);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ann@msp.example");

    let me: Value = graphql(
        &app,
        &session,
        true,
        "{ me { subject role tenant user { email lastLoginAt } } }",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(me["data"]["me"]["subject"], "ann@msp.example");
    assert_eq!(me["data"]["me"]["role"], "EDITOR");
    assert!(me["data"]["me"]["user"]["lastLoginAt"].is_string());
    let created: Value = graphql(
        &app,
        &session,
        true,
        r#"mutation { createLevel(input: {name: "Via session"}) { id } }"#,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(created["errors"].is_null(), "{created}");

    // Behind TLS the cookie is Secure.
    let tls = app
        .client
        .post(format!("{}/auth/login", app.base))
        .header("x-forwarded-proto", "https")
        .json(&json!({ "tenant": "alpha", "email": "ann@msp.example", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert!(
        tls.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );

    // Sign-out clears it.
    let out = app
        .client
        .post(format!("{}/auth/logout", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

#[tokio::test]
async fn csrf_rules_hold_for_sessions() {
    let app = TestApp::start().await;
    user(&app, "ann@msp.example", "ADMIN").await;
    let session = cookie(&login(&app, "alpha", "ann@msp.example", PASSWORD).await);
    let mutation = r#"mutation { createLevel(input: {name: "Forged"}) { id } }"#;

    // No custom header: refused, nothing written.
    let response = graphql(&app, &session, false, mutation).await;
    assert_eq!(response.status(), 403);
    // A text/plain body (what a cross-site form can send): 415, nothing written.
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("cookie", &session)
        .header("x-billbridge-csrf", "1")
        .header("content-type", "text/plain")
        .body(json!({ "query": mutation }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    // GET with a session: 405, even for a query.
    let response = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[("query", "{ levels { id } }")])
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(app.count("levels").await, 0);
    // Bearer tokens are not subject to the header rule.
    app.ok(&app.editor(), mutation, json!({})).await;
    assert_eq!(app.count("levels").await, 1);
}

#[tokio::test]
async fn audiences_are_kept_apart_and_sessions_follow_the_user() {
    let app = TestApp::start().await;
    let id = user(&app, "ann@msp.example", "ADMIN").await;
    user(&app, "boss@msp.example", "ADMIN").await;
    let session = cookie(&login(&app, "alpha", "ann@msp.example", PASSWORD).await);
    let token = session.trim_start_matches("billbridge_session=").to_owned();

    // A session token is not an API token…
    let as_bearer = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { role } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(as_bearer.status(), 401);
    // …and an API token is not a session.
    let api = app.token("alpha", Role::Admin);
    let as_cookie = graphql(
        &app,
        &format!("billbridge_session={api}"),
        true,
        "{ me { role } }",
    )
    .await;
    assert_eq!(as_cookie.status(), 401);

    // Role changes apply at once; deactivation ends the session.
    let boss = app.token("alpha", Role::Admin);
    app.ok(
        &boss,
        "mutation($id: ID!) { updateUserRole(id: $id, role: VIEWER) { role } }",
        json!({ "id": id }),
    )
    .await;
    let body: Value = graphql(
        &app,
        &session,
        true,
        r#"mutation { createLevel(input: {name: "X"}) { id } }"#,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    app.ok(
        &boss,
        "mutation($id: ID!) { deactivateUser(id: $id) { active } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        graphql(&app, &session, true, "{ me { role } }")
            .await
            .status(),
        401
    );
    assert_eq!(
        login(&app, "alpha", "ann@msp.example", PASSWORD)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn wrong_credentials_look_the_same_and_are_throttled() {
    let app = TestApp::start().await;
    user(&app, "ann@msp.example", "VIEWER").await;
    let mut answers = Vec::new();
    for (tenant, email, password) in [
        ("alpha", "ann@msp.example", "wrong password!!"),
        ("alpha", "nobody@msp.example", "wrong password!!"),
        ("nowhere", "ann@msp.example", PASSWORD),
    ] {
        let started = Instant::now();
        let response = login(&app, tenant, email, password).await;
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(400), "{took:?}");
        answers.push((response.status(), response.text().await.unwrap()));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(answers[0].0, 401);

    // Five failures for one account, then even the right password waits.
    for _ in 0..4 {
        login(&app, "alpha", "ann@msp.example", "wrong password!!").await;
    }
    let blocked = login(&app, "alpha", "ann@msp.example", PASSWORD).await;
    assert_eq!(blocked.status(), 429);
    let wait: u64 = blocked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 900);
}

/// Sign-in fields are bounded and printable like the API's free text: a NUL (which
/// PostgreSQL text cannot hold) or an endless value is bad input naming the field, never
/// an internal error.
#[tokio::test]
async fn malformed_sign_in_fields_are_bad_input() {
    let app = TestApp::start().await;
    user(&app, "ann@msp.example", "VIEWER").await;
    let long = "a".repeat(10_000);
    for (tenant, email, password, field) in [
        ("alpha", "ann\0@msp.example", PASSWORD, "email"),
        ("al\u{7f}pha", "ann@msp.example", PASSWORD, "tenant"),
        (long.as_str(), "ann@msp.example", PASSWORD, "tenant"),
        ("alpha", long.as_str(), PASSWORD, "email"),
        ("alpha", "ann@msp.example", long.as_str(), "password"),
    ] {
        let response = login(&app, tenant, email, password).await;
        assert_eq!(response.status(), 400, "{field}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{field}:")),
            "{body}"
        );
    }
    // A password may hold any character: it is only hashed.
    assert_eq!(
        login(
            &app,
            "alpha",
            "ann@msp.example",
            "tab\there and NUL\0 there"
        )
        .await
        .status(),
        401
    );
}
