//! Every request needs a valid token; viewers read, editors write; GET never mutates.

use billbridge::auth::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::common::{SECRET, TestApp, catalogue};

fn claims(overrides: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": "billbridge", "aud": "billbridge-api", "sub": "t", "tenant": "alpha",
        "role": "admin", "iat": now, "nbf": now, "exp": now + 600,
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

fn sign(claims: &Value, secret: &[u8]) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// An unsigned token, as an attacker would send it.
fn unsigned(claims: &Value) -> String {
    use base64::Engine;
    let encode_url = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    format!(
        "{}.{}.",
        encode_url(br#"{"alg":"none","typ":"JWT"}"#),
        encode_url(claims.to_string().as_bytes())
    )
}

#[tokio::test]
async fn bad_tokens_are_unauthenticated() {
    let app = TestApp::start().await;
    let now = chrono::Utc::now().timestamp();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("malformed", Some("not-a-jwt".into())),
        (
            "expired",
            Some(sign(
                &claims(json!({"exp": now - 120, "iat": now - 900, "nbf": now - 900})),
                SECRET,
            )),
        ),
        ("no exp", Some(sign(&claims(json!({"exp": null})), SECRET))),
        (
            "wrong audience",
            Some(sign(&claims(json!({"aud": "someone-else"})), SECRET)),
        ),
        (
            "wrong issuer",
            Some(sign(&claims(json!({"iss": "evil"})), SECRET)),
        ),
        (
            "wrong key",
            Some(sign(
                &claims(json!({})),
                b"another-secret-another-secret-another",
            )),
        ),
        ("alg none", Some(unsigned(&claims(json!({}))))),
        (
            "future nbf",
            Some(sign(&claims(json!({"nbf": now + 3600})), SECRET)),
        ),
        (
            "unknown tenant",
            Some(sign(&claims(json!({"tenant": "nobody"})), SECRET)),
        ),
        (
            "unknown role",
            Some(sign(&claims(json!({"role": "owner"})), SECRET)),
        ),
    ];
    for (name, token) in cases {
        let mut request = app
            .client
            .post(format!("{}/graphql", app.base))
            .json(&json!({ "query": "{ services { id } }" }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{name}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{name}: {body}"
        );
        assert!(body.get("data").is_none(), "{name}");
    }
    // The control: a good token works.
    let good = sign(&claims(json!({})), SECRET);
    app.ok(&good, "{ services { id } }", json!({})).await;
}

#[tokio::test]
async fn expired_token_says_so() {
    let app = TestApp::start().await;
    let now = chrono::Utc::now().timestamp();
    let token = sign(&claims(json!({"exp": now - 120})), SECRET);
    let error = app.err(&token, "{ levels { id } }", json!({})).await;
    assert!(
        error["message"].as_str().unwrap().contains("expired"),
        "{error}"
    );
}

/// Every mutation with arguments that would otherwise be valid enough to reach the guard.
const MUTATIONS: &[&str] = &[
    r#"mutation { createService(input: {name: "X"}) { id } }"#,
    r#"mutation { updateService(id: "1", input: {name: "X"}) { id } }"#,
    r#"mutation { deleteService(id: "1") }"#,
    r#"mutation { createProduct(input: {serviceId: "1", name: "X", metrics: []}) { id } }"#,
    r#"mutation { updateProduct(id: "1", input: {name: "X"}) { id } }"#,
    r#"mutation { deleteProduct(id: "1") }"#,
    r#"mutation { createPlan(input: {productId: "1", uniqueId: "X", baseSizeGb: 1}) { id } }"#,
    r#"mutation { updatePlan(id: "1", input: {name: "X"}) { id } }"#,
    r#"mutation { deletePlan(id: "1") }"#,
    r#"mutation { createLevel(input: {name: "X"}) { id } }"#,
    r#"mutation { deleteLevel(id: "1") }"#,
    r#"mutation { addBillingMapping(input: {productId: "1", allPlans: true, level: "Gold", usageValue: TOTAL_USAGE}) { warnings } }"#,
    r#"mutation { updateBillingMapping(id: "1", input: {level: "Gold"}) { warnings } }"#,
    r#"mutation { deleteBillingMapping(id: "1") }"#,
    r#"mutation { takeOverBillingMapping(id: "1") { id } }"#,
    r#"mutation { upsertAccounts(input: [{name: "a", subscriptions: []}]) { id } }"#,
    r#"mutation { deleteAccounts(names: ["a"]) { deleted } }"#,
    r#"mutation { connectPsa(input: {site: "cw.example.com", companyId: "c", publicKey: "p", privateKey: "s", clientId: "x", integration: "i"}) { site } }"#,
    r#"mutation { testPsaConnection { ok } }"#,
    r#"mutation { createUser(input: {email: "u@x.example", displayName: "U", role: VIEWER, password: "long enough password"}) { id } }"#,
    r#"mutation { updateUserRole(id: "1", role: VIEWER) { id } }"#,
    r#"mutation { deactivateUser(id: "1") { id } }"#,
    r#"mutation { createApiToken(input: {name: "t", role: VIEWER}) { token } }"#,
    r#"mutation { revokeApiToken(id: "1") { id } }"#,
    r#"mutation { disconnectPsa }"#,
    r#"mutation { syncLevels { created } }"#,
    r#"mutation { syncCompanies { linked } }"#,
    r#"mutation { recordUsage(input: [{account: "a", metricId: "1", quantity: 1, measuredAt: "2026-01-01T00:00:00Z"}]) { recorded } }"#,
];

#[tokio::test]
async fn viewers_cannot_mutate_and_editors_cannot_take_over() {
    let app = TestApp::start().await;
    let editor = app.editor();
    catalogue(&app, &editor).await;
    let viewer = app.token("alpha", Role::Viewer);
    let services_before = app.count("services").await;
    for mutation in MUTATIONS {
        assert_eq!(
            app.code(&viewer, mutation, json!({})).await,
            "FORBIDDEN",
            "{mutation}"
        );
    }
    assert_eq!(
        app.count("services").await,
        services_before,
        "nothing written"
    );
    // Viewers read.
    app.ok(&viewer, "{ services { id } levels { name } }", json!({}))
        .await;
    // Editors pass the guard everywhere but on the admin-only take-over.
    for mutation in MUTATIONS {
        let body = app.post(&editor, mutation, json!({})).await;
        let code = &body["errors"][0]["extensions"]["code"];
        let admin_only = [
            "takeOver",
            "connectPsa",
            "disconnectPsa",
            "createUser",
            "updateUserRole",
            "deactivateUser",
            "ApiToken",
            "Webhook",
        ];
        if admin_only.iter().any(|m| mutation.contains(m)) {
            assert_eq!(code, "FORBIDDEN");
        } else {
            assert_ne!(code, "FORBIDDEN", "{mutation}");
        }
    }
}

#[tokio::test]
async fn http_rules_get_post_and_batches() {
    let app = TestApp::start().await;
    let token = app.editor();
    let url = format!("{}/graphql", app.base);

    // GET runs queries.
    let response = app
        .client
        .get(&url)
        .query(&[("query", "{ levels { name } }")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["data"]["levels"].is_array(), "{body}");

    // GET never runs a mutation, even with a valid token.
    let response = app
        .client
        .get(&url)
        .query(&[(
            "query",
            r#"mutation { createLevel(input: {name: "Via GET"}) { id } }"#,
        )])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(app.count("levels").await, 0);

    // Only JSON bodies.
    let response = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(r#"{"query":"mutation { createLevel(input: {name: \"Plain\"}) { id } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    assert_eq!(app.count("levels").await, 0);

    // No batches.
    let response = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .json(&json!([{ "query": "{ levels { id } }" }, { "query": "{ services { id } }" }]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // Oversized bodies are refused before they are read.
    let response = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"query":"{{ levels {{ id }} }}","pad":"{}"}}"#,
            "x".repeat(2 * 1024 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    // Depth is limited.
    let deep = format!(
        "{{ services {} }}",
        "{ products { service ".repeat(8) + "{ id }" + &" } }".repeat(8)
    );
    let body = app.post(&token, &deep, json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("nested"),
        "{body}"
    );
}
