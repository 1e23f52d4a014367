//! Billing mappings: the cascade's rules, each with an error that names its field.

use billbridge::auth::Role;
use serde_json::{Value, json};

use crate::common::{TestApp, catalogue, id};

const ADD: &str = r#"mutation($input: AddBillingMappingInput!) {
    addBillingMapping(input: $input) {
        mapping { id allPlans plan { uniqueId } level { name } usageValue managedExternally createdBy product { name } }
        warnings } }"#;

const UPDATE: &str = r#"mutation($id: ID!, $input: UpdateBillingMappingInput!) {
    updateBillingMapping(id: $id, input: $input) { mapping { id allPlans plan { uniqueId } level { name } usageValue updatedBy } warnings } }"#;

fn add(product: &str, extra: Value) -> Value {
    let mut input = json!({ "productId": product, "level": "Gold", "usageValue": "TOTAL_USAGE" });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    json!({ "input": input })
}

#[tokio::test]
async fn adding_mappings_follows_the_cascade_rules() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (service, product, p20, p50) = catalogue(&app, &token).await;

    let all = app
        .ok(&token, ADD, add(&product, json!({ "allPlans": true })))
        .await;
    let all = &all["addBillingMapping"];
    assert_eq!(all["mapping"]["allPlans"], true);
    assert_eq!(all["mapping"]["plan"], Value::Null);
    assert_eq!(all["mapping"]["level"]["name"], "Gold");
    assert_eq!(all["mapping"]["createdBy"], "alpha-editor");
    assert_eq!(all["warnings"], json!([]));

    let specific = app
        .ok(
            &token,
            ADD,
            add(
                &product,
                json!({ "planId": p20, "level": "Silver", "usageValue": "ADDITIONAL_USAGE" }),
            ),
        )
        .await;
    assert_eq!(
        specific["addBillingMapping"]["mapping"]["plan"]["uniqueId"],
        "P20"
    );
    assert_eq!(
        specific["addBillingMapping"]["mapping"]["usageValue"],
        "ADDITIONAL_USAGE"
    );

    // (code, field, input) for every rule.
    let cases: Vec<(&str, Option<&str>, Value)> = vec![
        (
            "BAD_USER_INPUT",
            Some("allPlans"),
            add(&product, json!({ "planId": p50, "allPlans": true })),
        ),
        ("BAD_USER_INPUT", Some("planId"), add(&product, json!({}))),
        (
            "BAD_USER_INPUT",
            Some("planId"),
            add(&product, json!({ "allPlans": false })),
        ),
        (
            "BAD_USER_INPUT",
            Some("level"),
            add(&product, json!({ "planId": p50, "level": "" })),
        ),
        (
            "BAD_USER_INPUT",
            Some("level"),
            add(&product, json!({ "planId": p50, "level": "Platinum" })),
        ),
        (
            "BAD_USER_INPUT",
            Some("productId"),
            add("nope", json!({ "allPlans": true })),
        ),
        (
            "NOT_FOUND",
            None,
            add("999999", json!({ "allPlans": true })),
        ),
        (
            "CONFLICT",
            None,
            add(&product, json!({ "allPlans": true, "level": "Silver" })),
        ),
        ("CONFLICT", None, add(&product, json!({ "planId": p20 }))),
    ];
    for (code, field, variables) in cases {
        let error = app.err(&token, ADD, variables.clone()).await;
        assert_eq!(error["extensions"]["code"], code, "{variables}: {error}");
        if let Some(field) = field {
            assert_eq!(error["extensions"]["field"], field, "{variables}");
        }
    }

    // A plan already mapped is named by its unique ID, as people know it, not by its row id.
    let taken = app
        .err(&token, ADD, add(&product, json!({ "planId": p20 })))
        .await;
    assert_eq!(
        taken["message"],
        r#"product "Backup Plan" already has a billing mapping for plan "P20"; update that one instead"#,
        "{taken}"
    );
    let taken = app
        .err(&token, ADD, add(&product, json!({ "allPlans": true })))
        .await;
    assert!(
        taken["message"]
            .as_str()
            .unwrap()
            .contains("already has a billing mapping for (All plans)"),
        "{taken}"
    );
    // A fragment of a message is still led by the field it is about.
    let empty = app
        .err(
            &token,
            ADD,
            add(&product, json!({ "planId": p50, "level": "" })),
        )
        .await;
    assert!(
        empty["message"].as_str().unwrap().starts_with("level: "),
        "{empty}"
    );

    // A plan of another product is refused by name.
    let other = app
        .ok(&token, r#"mutation($s: ID!) { createProduct(input: {serviceId: $s, name: "Other", metrics: []}) { id } }"#, json!({ "s": service }))
        .await;
    let other = id(&other["createProduct"]["id"]);
    let error = app
        .err(&token, ADD, add(&other, json!({ "planId": p50 })))
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "planId");
    assert!(
        error["message"].as_str().unwrap().contains("P50"),
        "{error}"
    );

    // A product without metrics: saved, with a warning.
    let warned = app
        .ok(&token, ADD, add(&other, json!({ "allPlans": true })))
        .await;
    assert_eq!(
        warned["addBillingMapping"]["warnings"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    assert_eq!(app.count("billing_mappings").await, 3);
}

#[tokio::test]
async fn levels_are_matched_exactly_with_a_suggestion() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (_, product, p20, _) = catalogue(&app, &token).await;
    // "Silver" exists; "silver" differs only in case.
    let error = app
        .err(
            &token,
            ADD,
            add(&product, json!({ "planId": p20, "level": "silver" })),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "level");
    // A sentence that names the level itself: no `level: ` before it, one suggestion in it.
    let message = error["message"].as_str().unwrap();
    assert_eq!(
        message,
        r#"level "silver" does not exist (levels are case-sensitive); did you mean "Silver"?"#
    );
    assert_eq!(message.matches("did you mean").count(), 1, "{message}");
    // Clients offer the suggestion without parsing the message.
    assert_eq!(error["extensions"]["suggestion"], "Silver");
    // A typo.
    let error = app
        .err(
            &token,
            ADD,
            add(&product, json!({ "planId": p20, "level": "Slver" })),
        )
        .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(r#"did you mean "Silver"?"#),
        "{error}"
    );
    // Nothing close: the known levels are listed, and nothing is suggested.
    let error = app
        .err(
            &token,
            ADD,
            add(&product, json!({ "planId": p20, "level": "Platinum" })),
        )
        .await;
    assert!(
        error["message"].as_str().unwrap().contains(r#""Gold""#),
        "{error}"
    );
    assert!(error["extensions"]["suggestion"].is_null(), "{error}");
    assert_eq!(app.count("billing_mappings").await, 0);
}

#[tokio::test]
async fn updating_and_deleting() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (service, product, p20, p50) = catalogue(&app, &token).await;
    let first = app
        .ok(&token, ADD, add(&product, json!({ "planId": p20 })))
        .await;
    let first = id(&first["addBillingMapping"]["mapping"]["id"]);
    app.ok(&token, ADD, add(&product, json!({ "planId": p50 })))
        .await;

    let other_editor = app.token("alpha", Role::Admin);
    let updated = app
        .ok(
            &other_editor,
            UPDATE,
            json!({ "id": first, "input": { "allPlans": true, "level": "gold", "usageValue": "ADDITIONAL_USAGE" } }),
        )
        .await;
    let mapping = &updated["updateBillingMapping"]["mapping"];
    assert_eq!(mapping["allPlans"], true);
    assert_eq!(mapping["level"]["name"], "gold");
    assert_eq!(mapping["usageValue"], "ADDITIONAL_USAGE");
    assert_eq!(mapping["updatedBy"], "alpha-admin");

    // Moving onto a (product, plan) that is taken: conflict.
    let error = app
        .code(
            &token,
            UPDATE,
            json!({ "id": first, "input": { "planId": p50 } }),
        )
        .await;
    assert_eq!(error, "CONFLICT");
    // Leaving fields out keeps them.
    let kept = app
        .ok(&token, UPDATE, json!({ "id": first, "input": {} }))
        .await;
    assert_eq!(
        kept["updateBillingMapping"]["mapping"]["level"]["name"],
        "gold"
    );
    assert_eq!(
        kept["updateBillingMapping"]["mapping"]["usageValue"],
        "ADDITIONAL_USAGE"
    );

    let listed = app
        .ok(
            &token,
            "query($s: ID!) { billingMappings(serviceId: $s) { id } }",
            json!({ "s": service }),
        )
        .await;
    assert_eq!(listed["billingMappings"].as_array().unwrap().len(), 2);
    app.ok(
        &token,
        "mutation($id: ID!) { deleteBillingMapping(id: $id) }",
        json!({ "id": first }),
    )
    .await;
    assert_eq!(app.count("billing_mappings").await, 1);
    assert_eq!(
        app.code(
            &token,
            "mutation($id: ID!) { deleteBillingMapping(id: $id) }",
            json!({ "id": first })
        )
        .await,
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn externally_managed_mappings_are_read_only_until_taken_over() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (service, product, _, _) = catalogue(&app, &token).await;
    let legacy = app
        .ok(
            &token,
            ADD,
            add(
                &product,
                json!({ "allPlans": true, "managedExternally": true }),
            ),
        )
        .await;
    let legacy = id(&legacy["addBillingMapping"]["mapping"]["id"]);

    let status = app
        .ok(
            &token,
            "query($s: ID!) { service(id: $s) { readOnly billingStatus { state } } }",
            json!({ "s": service }),
        )
        .await;
    assert_eq!(
        status["service"],
        json!({ "readOnly": true, "billingStatus": { "state": "MANAGED_EXTERNALLY" } })
    );

    assert_eq!(
        app.code(
            &token,
            UPDATE,
            json!({ "id": legacy, "input": { "level": "Silver" } })
        )
        .await,
        "READ_ONLY"
    );
    assert_eq!(
        app.code(
            &token,
            "mutation($id: ID!) { deleteBillingMapping(id: $id) }",
            json!({ "id": legacy })
        )
        .await,
        "READ_ONLY"
    );

    let admin = app.token("alpha", Role::Admin);
    let taken = app
        .ok(
            &admin,
            "mutation($id: ID!) { takeOverBillingMapping(id: $id) { managedExternally } }",
            json!({ "id": legacy }),
        )
        .await;
    assert_eq!(taken["takeOverBillingMapping"]["managedExternally"], false);
    let status = app
        .ok(
            &token,
            "query($s: ID!) { service(id: $s) { readOnly } }",
            json!({ "s": service }),
        )
        .await;
    assert_eq!(status["service"]["readOnly"], false);
    app.ok(
        &token,
        UPDATE,
        json!({ "id": legacy, "input": { "level": "Silver" } }),
    )
    .await;
    app.ok(
        &token,
        "mutation($id: ID!) { deleteBillingMapping(id: $id) }",
        json!({ "id": legacy }),
    )
    .await;
}

#[tokio::test]
async fn billing_status_follows_coverage() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (service, product, p20, p50) = catalogue(&app, &token).await;
    let status = || async {
        app.ok(&token, "query($s: ID!) { service(id: $s) { billingStatus { state mappedProducts products coveredSubscriptions subscriptions } } }", json!({ "s": service }))
            .await["service"]["billingStatus"]
            .clone()
    };
    assert_eq!(status().await["state"], "NOT_SET_UP");
    app.ok(
        &token,
        r#"mutation($p: ID!, $a: ID!, $b: ID!) { upsertAccounts(input: [
            {name: "a", subscriptions: [{productId: $p, planId: $a}]},
            {name: "b", subscriptions: [{productId: $p, planId: $b}]}]) { id } }"#,
        json!({ "p": product, "a": p20, "b": p50 }),
    )
    .await;
    app.ok(&token, ADD, add(&product, json!({ "planId": p20 })))
        .await;
    // Mapped, but a push would skip every covered subscription: no account is linked to a
    // ConnectWise company yet. The status says so rather than "set up".
    assert_eq!(
        status().await,
        json!({ "state": "NEEDS_ATTENTION", "mappedProducts": 1, "products": 1, "coveredSubscriptions": 1, "subscriptions": 2 })
    );
    app.ok(&token, ADD, add(&product, json!({ "allPlans": true })))
        .await;
    let attention = app
        .ok(&token, "query($s: ID!) { service(id: $s) { billingStatus { state coveredSubscriptions readySubscriptions skippedSubscriptions mainSkipReason } } }", json!({ "s": service }))
        .await["service"]["billingStatus"]
        .clone();
    assert_eq!(
        attention,
        json!({ "state": "NEEDS_ATTENTION", "coveredSubscriptions": 2, "readySubscriptions": 0, "skippedSubscriptions": 2, "mainSkipReason": "NOT_LINKED" })
    );
}

/// On the demo (linked, cross-referenced, with usage) the services are set up, partially
/// set up or managed elsewhere — and a subscription a push would skip is counted.
#[tokio::test]
async fn billing_status_counts_what_would_be_pushed() {
    let app = TestApp::start().await;
    let editor = crate::common::demo(&app).await;
    let services = app
        .ok(&editor, "{ services { name billingStatus { state readySubscriptions skippedSubscriptions mainSkipReason } } }", json!({}))
        .await;
    let of = |name: &str| {
        services["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["billingStatus"]
            .clone()
    };
    let backup = of("Intronis Backup");
    assert_eq!(backup["state"], "SET_UP", "{backup}");
    assert!(
        backup["readySubscriptions"].as_i64().unwrap() > 30,
        "{backup}"
    );
    // IB-1TB maps to "premium", which ConnectWise knows only as "Premium"; plus the
    // unlinked and the doubly claimed accounts.
    assert!(
        backup["skippedSubscriptions"].as_i64().unwrap() >= 10,
        "{backup}"
    );
    assert_eq!(backup["mainSkipReason"], "NO_CROSS_REFERENCE", "{backup}");
    assert_eq!(of("Email Protection")["state"], "PARTIALLY_SET_UP");
    assert_eq!(of("Content Shield")["state"], "MANAGED_EXTERNALLY");
}
