//! Every request needs a valid token; viewers read, editors write; GET never mutates.

use billbridge::auth::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use billbridge::auth::jwt::JwtKeys;
use std::time::Duration;

use crate::common::{RETIRED, ROTATED, SECRET, TestApp, catalogue};

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
        (
            "rotated key after its grace period",
            Some(
                JwtKeys::new(RETIRED)
                    .unwrap()
                    .issue("alpha", Role::Admin, "t", Duration::from_secs(600))
                    .unwrap(),
            ),
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
    // The controls: a good token works, and so does one signed with the key rotated out
    // an hour ago, during its grace period.
    let good = sign(&claims(json!({})), SECRET);
    app.ok(&good, "{ services { id } }", json!({})).await;
    let rotated = JwtKeys::new(ROTATED)
        .unwrap()
        .issue("alpha", Role::Admin, "t", Duration::from_secs(600))
        .unwrap();
    app.ok(&rotated, "{ services { id } }", json!({})).await;
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

use Role::{Admin, Editor, Viewer};

/// Every mutation, the least role allowed to run it, and arguments valid enough to reach
/// the guard.
const MUTATIONS: &[(&str, Role, &str)] = &[
    (
        "createService",
        Editor,
        r#"mutation { createService(input: {name: "X"}) { id } }"#,
    ),
    (
        "updateService",
        Editor,
        r#"mutation { updateService(id: "1", input: {name: "X"}) { id } }"#,
    ),
    (
        "deleteService",
        Editor,
        r#"mutation { deleteService(id: "1") }"#,
    ),
    (
        "createProduct",
        Editor,
        r#"mutation { createProduct(input: {serviceId: "1", name: "X", metrics: []}) { id } }"#,
    ),
    (
        "updateProduct",
        Editor,
        r#"mutation { updateProduct(id: "1", input: {name: "X"}) { id } }"#,
    ),
    (
        "deleteProduct",
        Editor,
        r#"mutation { deleteProduct(id: "1") }"#,
    ),
    (
        "createPlan",
        Editor,
        r#"mutation { createPlan(input: {productId: "1", uniqueId: "X", baseSizeGb: 1}) { id } }"#,
    ),
    (
        "updatePlan",
        Editor,
        r#"mutation { updatePlan(id: "1", input: {name: "X"}) { id } }"#,
    ),
    ("deletePlan", Editor, r#"mutation { deletePlan(id: "1") }"#),
    (
        "createLevel",
        Editor,
        r#"mutation { createLevel(input: {name: "X"}) { id } }"#,
    ),
    (
        "deleteLevel",
        Editor,
        r#"mutation { deleteLevel(id: "1") }"#,
    ),
    (
        "addBillingMapping",
        Editor,
        r#"mutation { addBillingMapping(input: {productId: "1", allPlans: true, level: "Gold", usageValue: TOTAL_USAGE}) { warnings } }"#,
    ),
    (
        "updateBillingMapping",
        Editor,
        r#"mutation { updateBillingMapping(id: "1", input: {level: "Gold"}) { warnings } }"#,
    ),
    (
        "deleteBillingMapping",
        Editor,
        r#"mutation { deleteBillingMapping(id: "1") }"#,
    ),
    (
        "takeOverBillingMapping",
        Admin,
        r#"mutation { takeOverBillingMapping(id: "1") { id } }"#,
    ),
    (
        "commitImport",
        Editor,
        r#"mutation { commitImport(serviceId: "1", csv: "account\nacme\n") { committed } }"#,
    ),
    (
        "saveImportMapping",
        Editor,
        r#"mutation { saveImportMapping(serviceId: "1", mapping: {account: "account", metrics: []}) { account } }"#,
    ),
    (
        "upsertAccounts",
        Editor,
        r#"mutation { upsertAccounts(input: [{name: "a", subscriptions: []}]) { id } }"#,
    ),
    (
        "deleteAccounts",
        Editor,
        r#"mutation { deleteAccounts(names: ["a"]) { deleted } }"#,
    ),
    (
        "recordUsage",
        Editor,
        r#"mutation { recordUsage(input: [{account: "a", metricId: "1", quantity: 1, measuredAt: "2026-01-01T00:00:00Z"}]) { recorded } }"#,
    ),
    (
        "connectPsa",
        Admin,
        r#"mutation { connectPsa(input: {site: "cw.example.com", companyId: "c", publicKey: "p", privateKey: "s", clientId: "x", integration: "i"}) { site } }"#,
    ),
    (
        "testPsaConnection",
        Editor,
        r#"mutation { testPsaConnection { ok } }"#,
    ),
    ("disconnectPsa", Admin, r#"mutation { disconnectPsa }"#),
    (
        "syncLevels",
        Editor,
        r#"mutation { syncLevels { created } }"#,
    ),
    (
        "syncCompanies",
        Editor,
        r#"mutation { syncCompanies { linked } }"#,
    ),
    (
        "pushUsage",
        Editor,
        r#"mutation { pushUsage(dryRun: true) { id } }"#,
    ),
    (
        "cancelPushRun",
        Editor,
        r#"mutation { cancelPushRun(id: "1") { id } }"#,
    ),
    (
        "updatePushSchedule",
        Editor,
        r#"mutation { updatePushSchedule(input: {enabled: false}) { enabled } }"#,
    ),
    (
        "updatePushSettings",
        Editor,
        r#"mutation { updatePushSettings(input: {retireMode: ZERO, onManualEdit: OVERWRITE}) { retireMode } }"#,
    ),
    (
        "createUser",
        Admin,
        r#"mutation { createUser(input: {email: "u@x.example", displayName: "U", role: VIEWER, password: "long enough password"}) { id } }"#,
    ),
    (
        "updateUserRole",
        Admin,
        r#"mutation { updateUserRole(id: "1", role: VIEWER) { id } }"#,
    ),
    (
        "deactivateUser",
        Admin,
        r#"mutation { deactivateUser(id: "1") { id } }"#,
    ),
    (
        "createApiToken",
        Admin,
        r#"mutation { createApiToken(input: {name: "t", role: VIEWER}) { token } }"#,
    ),
    (
        "revokeApiToken",
        Admin,
        r#"mutation { revokeApiToken(id: "1") { id } }"#,
    ),
    (
        "createWebhook",
        Admin,
        r#"mutation { createWebhook(input: {url: "https://hooks.example.com/x"}) { secret } }"#,
    ),
    (
        "deleteWebhook",
        Admin,
        r#"mutation { deleteWebhook(id: "1") }"#,
    ),
];

/// The mutations the schema has, from its SDL (field lines, not their descriptions).
fn schema_mutations() -> Vec<String> {
    let sdl = billbridge::graphql::sdl();
    let body = sdl.split("type Mutation {").nth(1).unwrap();
    let body = &body[..body.find("\n}").unwrap()];
    let mut in_description = false;
    let mut names = Vec::new();
    for line in body.lines().map(str::trim) {
        if line == "\"\"\"" {
            in_description = !in_description;
        } else if !in_description
            && !line.starts_with('"')
            && let Some(name) = line.split(['(', ':']).next().filter(|n| !n.is_empty())
        {
            names.push(name.to_owned());
        }
    }
    names
}

#[tokio::test]
async fn every_role_against_every_mutation() {
    // The table covers the whole schema: a new mutation must say who may run it.
    let mut listed: Vec<&str> = MUTATIONS.iter().map(|(name, ..)| *name).collect();
    let mut schema = schema_mutations();
    listed.sort_unstable();
    schema.sort_unstable();
    assert_eq!(listed, schema, "MUTATIONS must list every mutation");

    let app = TestApp::start().await;
    let editor = app.editor();
    catalogue(&app, &editor).await;
    let services_before = app.count("services").await;
    for role in [Viewer, Editor, Admin] {
        let token = app.token("alpha", role);
        for (name, least, mutation) in MUTATIONS {
            let body = app.post(&token, mutation, json!({})).await;
            let code = &body["errors"][0]["extensions"]["code"];
            if role < *least {
                assert_eq!(code, "FORBIDDEN", "{role:?} {name}: {body}");
            } else {
                assert_ne!(code, "FORBIDDEN", "{role:?} {name}: {body}");
            }
        }
        if role == Viewer {
            assert_eq!(
                app.count("services").await,
                services_before,
                "viewers wrote nothing"
            );
            // Viewers read.
            app.ok(&token, "{ services { id } levels { name } }", json!({}))
                .await;
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
