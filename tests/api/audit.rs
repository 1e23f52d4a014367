//! The audit log: every change to the billing setup, schedule, connection, users, tokens
//! and webhooks is recorded with who and when; only admins read it, per tenant.

use billbridge::auth::Role;
use serde_json::{Value, json};

use crate::common::{TestApp, catalogue, id};

const EVENTS: &str = "query($e: String, $after: String) { auditEvents(first: 100, entity: $e, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id at actor action entity entityId summary } } }";

async fn events(app: &TestApp, admin: &str, entity: Option<&str>) -> Vec<Value> {
    app.ok(admin, EVENTS, json!({ "e": entity })).await["auditEvents"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn changes_are_recorded_with_who_and_when() {
    let app = TestApp::start().await;
    let editor = app.editor();
    let admin = app.token("alpha", Role::Admin);
    let (_, product, plan20, _) = catalogue(&app, &editor).await;

    let mapping = app
        .ok(
            &editor,
            r#"mutation($p: ID!, $plan: ID!) { addBillingMapping(input: {productId: $p, planId: $plan, level: "Gold", usageValue: TOTAL_USAGE}) { mapping { id } } }"#,
            json!({ "p": product, "plan": plan20 }),
        )
        .await;
    let mapping = id(&mapping["addBillingMapping"]["mapping"]["id"]);
    app.ok(
        &editor,
        "mutation($id: ID!) { deleteBillingMapping(id: $id) }",
        json!({ "id": mapping }),
    )
    .await;
    app.ok(
        &editor,
        r#"mutation { updatePushSchedule(input: {enabled: true, timeOfDay: "02:30", timeZone: "Europe/Berlin"}) { enabled } }"#,
        json!({}),
    )
    .await;
    let token = app
        .ok(
            &admin,
            r#"mutation { createApiToken(input: {name: "PSA workflow", role: VIEWER}) { token apiToken { id } } }"#,
            json!({}),
        )
        .await["createApiToken"]
        .clone();
    app.ok(
        &admin,
        "mutation($id: ID!) { revokeApiToken(id: $id) { id } }",
        json!({ "id": token["apiToken"]["id"] }),
    )
    .await;
    // A refused change leaves no trace.
    app.err(
        &editor,
        r#"mutation($p: ID!) { addBillingMapping(input: {productId: $p, allPlans: true, level: "Platinum", usageValue: TOTAL_USAGE}) { mapping { id } } }"#,
        json!({ "p": product }),
    )
    .await;

    let all = events(&app, &admin, None).await;
    let actions: Vec<&str> = all.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "api_token.revoke",
            "api_token.create",
            "schedule.update",
            "mapping.delete",
            "mapping.create",
            "level.create",
            "level.create",
            "level.create",
            "plan.create",
            "plan.create",
            "product.create",
            "service.create",
        ],
        "newest first"
    );
    let added = &all[4];
    assert_eq!(added["actor"], "alpha-editor");
    assert_eq!(added["entity"], "mapping");
    assert_eq!(added["entityId"], mapping.as_str());
    assert!(
        added["summary"].as_str().unwrap().contains("TOTAL_USAGE"),
        "{added}"
    );
    assert!(added["at"].is_string());
    assert_eq!(all[0]["actor"], "alpha-admin");
    assert!(
        all[2]["summary"]
            .as_str()
            .unwrap()
            .contains("02:30 Europe/Berlin")
    );
    // The token itself is never in the log.
    let secret = token["token"].as_str().unwrap();
    assert!(!serde_json::to_string(&all).unwrap().contains(secret));

    // Filtered by entity, paged by cursor.
    let mappings = events(&app, &admin, Some("mapping")).await;
    assert_eq!(mappings.len(), 2);
    let page = app
        .ok(
            &admin,
            "{ auditEvents(first: 5) { totalCount pageInfo { hasNextPage endCursor } } }",
            json!({}),
        )
        .await["auditEvents"]
        .clone();
    assert_eq!(page["totalCount"], 12);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let rest = app
        .ok(
            &admin,
            EVENTS,
            json!({ "after": page["pageInfo"]["endCursor"] }),
        )
        .await["auditEvents"]["nodes"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(rest, 7);
    assert_eq!(
        app.code(&admin, EVENTS, json!({ "e": "mappings" })).await,
        "BAD_USER_INPUT"
    );

    // Admins only, and per tenant.
    assert_eq!(app.code(&editor, EVENTS, json!({})).await, "FORBIDDEN");
    let other = app.token("beta", Role::Admin);
    assert!(events(&app, &other, None).await.is_empty());
}
