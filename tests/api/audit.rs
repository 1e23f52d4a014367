//! The audit log: every change to the billing setup, schedule, connection, users, tokens
//! and webhooks is recorded with who and when; only admins read it, per tenant.

use billbridge::auth::Role;
use billbridge::sandbox::{DEMO_COMPANY_ID, DEMO_INTEGRATION, DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY};
use sea_orm::{ConnectionTrait, DbBackend};
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

/// Everything the audited mutations below can change, as an admin of `alpha` reads it.
const WORLD: &str = "{ services { name description products { name metrics { name crossReferenceType unit } plans { uniqueId name baseSizeGb } } } levels { name source crossReferences { vendorType } } psaConnection { site publicKey } pushSchedule { enabled timeOfDay cron } pushSettings { retireMode onManualEdit } users { email role active } apiTokens { name revokedAt } webhooks { url } }";

/// Makes every insert into the audit log fail, as a full disk or a broken table would.
async fn refuse_audit_rows(app: &TestApp) {
    let sql = match app.db.get_database_backend() {
        DbBackend::Sqlite => {
            "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'the audit log refuses rows'); END"
        }
        _ => {
            "CREATE FUNCTION audit_refused() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the audit log refuses rows'; END $$; CREATE TRIGGER audit_refused BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_refused()"
        }
    };
    app.db.execute_unprepared(sql).await.expect("trigger");
}

async fn accept_audit_rows(app: &TestApp) {
    let sql = match app.db.get_database_backend() {
        DbBackend::Sqlite => "DROP TRIGGER audit_refused",
        _ => "DROP TRIGGER audit_refused ON audit_events",
    };
    app.db.execute_unprepared(sql).await.expect("drop trigger");
}

#[tokio::test]
async fn a_change_and_its_audit_row_commit_or_roll_back_together() {
    let app = TestApp::start().await;
    let editor = app.editor();
    let admin = app.token("alpha", Role::Admin);
    let (service, product, _, _) = catalogue(&app, &editor).await;
    app.connect_psa("alpha", DEMO_PUBLIC_KEY, DEMO_PRIVATE_KEY)
        .await;
    let silver = app.ok(&editor, "{ levels { id name } }", json!({})).await["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "Silver")
        .unwrap()["id"]
        .clone();
    // Each audited mutation, the nested transactions of the query modules among them
    // (a product's metrics, a level sync, a disconnect).
    let changes: Vec<(&str, &str, Value)> = vec![
        (
            &editor,
            r#"mutation { createService(input: {name: "Atomic"}) { id } }"#,
            json!({}),
        ),
        (
            &editor,
            r#"mutation($s: ID!) { updateService(id: $s, input: {name: "Renamed", description: "new"}) { id } }"#,
            json!({ "s": service }),
        ),
        (
            &editor,
            r#"mutation($s: ID!) { createProduct(input: {serviceId: $s, name: "Second", metrics: [{name: "Storage", crossReferenceType: "BackupUsage", unit: GB}, {name: "Seats", crossReferenceType: "Seats", unit: COUNT}]}) { id } }"#,
            json!({ "s": service }),
        ),
        (
            &editor,
            r#"mutation($p: ID!) { updateProduct(id: $p, input: {name: "Renamed", metrics: [{name: "Devices", crossReferenceType: "Devices", unit: COUNT}]}) { id } }"#,
            json!({ "p": product }),
        ),
        (
            &editor,
            r#"mutation($p: ID!) { createPlan(input: {productId: $p, uniqueId: "P100", baseSizeGb: 100}) { id } }"#,
            json!({ "p": product }),
        ),
        (
            &editor,
            r#"mutation { createLevel(input: {name: "Platinum"}) { id } }"#,
            json!({}),
        ),
        (
            &editor,
            "mutation($l: ID!) { deleteLevel(id: $l) }",
            json!({ "l": silver }),
        ),
        (
            &editor,
            r#"mutation { updatePushSchedule(input: {enabled: true, cron: "0 3 * * *"}) { enabled } }"#,
            json!({}),
        ),
        (
            &editor,
            "mutation { updatePushSettings(input: {retireMode: CANCEL, onManualEdit: SKIP}) { retireMode } }",
            json!({}),
        ),
        (&editor, "mutation { syncLevels { created } }", json!({})),
        (
            &admin,
            r#"mutation { createUser(input: {email: "new@alpha.example", displayName: "New", role: VIEWER, password: "a long enough password"}) { id } }"#,
            json!({}),
        ),
        (
            &admin,
            r#"mutation { createApiToken(input: {name: "robot", role: VIEWER}) { token } }"#,
            json!({}),
        ),
        (
            &admin,
            r#"mutation { createWebhook(input: {url: "https://hooks.example.com/billbridge"}) { secret } }"#,
            json!({}),
        ),
        (
            &admin,
            r#"mutation($c: ConnectPsaInput!) { connectPsa(input: $c) { site } }"#,
            json!({ "c": {
            "site": app.site, "companyId": DEMO_COMPANY_ID, "publicKey": "another-public-key",
            "clientId": "tests", "integration": DEMO_INTEGRATION } }),
        ),
        (&admin, "mutation { disconnectPsa }", json!({})),
    ];
    let logged = app.count("audit_events").await;

    refuse_audit_rows(&app).await;
    for (token, mutation, variables) in &changes {
        let before = app.ok(&admin, WORLD, json!({})).await;
        let answer = app.post(token, mutation, variables.clone()).await;
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "INTERNAL",
            "{mutation}: {answer}"
        );
        assert!(answer["data"].is_null(), "{mutation}: {answer}");
        assert_eq!(
            app.ok(&admin, WORLD, json!({})).await,
            before,
            "{mutation}: rolled back with its audit row"
        );
    }
    assert_eq!(app.count("audit_events").await, logged, "no row got in");

    // With the log working, each change is made and recorded exactly once.
    accept_audit_rows(&app).await;
    for (token, mutation, variables) in &changes {
        let before = app.ok(&admin, WORLD, json!({})).await;
        let rows = app.count("audit_events").await;
        app.ok(token, mutation, variables.clone()).await;
        assert_ne!(
            app.ok(&admin, WORLD, json!({})).await,
            before,
            "{mutation}: made"
        );
        assert_eq!(
            app.count("audit_events").await,
            rows + 1,
            "{mutation}: one audit row"
        );
    }
}
