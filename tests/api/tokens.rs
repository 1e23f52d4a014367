//! API tokens: shown once, listed without the token, used, revoked on the next request.

use billbridge::auth::Role;
use serde_json::json;

use crate::common::TestApp;

const CREATE: &str = "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token apiToken { id name role expiresAt } } }";

#[tokio::test]
async fn tokens_are_shown_once_used_and_revoked() {
    let app = TestApp::start().await;
    let admin = app.token("alpha", Role::Admin);
    let created = app
        .ok(
            &admin,
            CREATE,
            json!({ "i": { "name": "PSA workflow", "role": "EDITOR" } }),
        )
        .await["createApiToken"]
        .clone();
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["apiToken"]["id"].clone();
    assert_eq!(created["apiToken"]["role"], "EDITOR");

    // It works as an editor, and its use is noted.
    app.ok(
        &token,
        r#"mutation { createLevel(input: {name: "By token"}) { id } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        app.code(&token, "{ apiTokens { id } }", json!({})).await,
        "FORBIDDEN",
        "editor, not admin"
    );
    let listed = app
        .post(
            &admin,
            "{ apiTokens { id name lastUsedAt revokedAt } }",
            json!({}),
        )
        .await;
    assert!(
        !listed.to_string().contains(&token),
        "the token is never shown again"
    );
    assert!(listed["data"]["apiTokens"][0]["lastUsedAt"].is_string());

    // Another tenant cannot touch it; an editor cannot create or revoke.
    let other = app.token("beta", Role::Admin);
    assert_eq!(
        app.code(
            &other,
            "mutation($id: ID!) { revokeApiToken(id: $id) { id } }",
            json!({ "id": id })
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.code(
            &app.editor(),
            CREATE,
            json!({ "i": { "name": "x", "role": "VIEWER" } })
        )
        .await,
        "FORBIDDEN"
    );

    // Revoked: refused on the very next request.
    app.ok(
        &admin,
        "mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }",
        json!({ "id": id }),
    )
    .await;
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ levels { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // Expiry must be ahead, and not too far.
    for expires in ["2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z"] {
        let error = app
            .err(
                &admin,
                CREATE,
                json!({ "i": { "name": "x", "role": "VIEWER", "expiresAt": expires } }),
            )
            .await;
        assert_eq!(error["extensions"]["field"], "expiresAt", "{error}");
    }
}
