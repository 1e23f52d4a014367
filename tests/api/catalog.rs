//! Services, products with metrics, plans and levels: their rules and error messages.

use serde_json::json;

use crate::common::{TestApp, catalogue, id};

#[tokio::test]
async fn services_are_unique_and_refused_deletion_while_in_use() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (service, product, _, _) = catalogue(&app, &token).await;

    let dup = app
        .err(
            &token,
            r#"mutation { createService(input: {name: " Backup "}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(dup["extensions"]["code"], "CONFLICT");
    let empty = app
        .err(
            &token,
            r#"mutation { createService(input: {name: "  "}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(empty["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(empty["extensions"]["field"], "name");

    let updated = app
        .ok(
            &token,
            r#"mutation($id: ID!) { updateService(id: $id, input: {name: "Cloud Backup", description: "Offsite"}) { name description } }"#,
            json!({ "id": service }),
        )
        .await;
    assert_eq!(
        updated["updateService"],
        json!({ "name": "Cloud Backup", "description": "Offsite" })
    );
    let cleared = app
        .ok(&token, r#"mutation($id: ID!) { updateService(id: $id, input: {description: null}) { description } }"#, json!({ "id": service }))
        .await;
    assert_eq!(cleared["updateService"]["description"], json!(null));

    let in_use = app
        .err(
            &token,
            "mutation($id: ID!) { deleteService(id: $id) }",
            json!({ "id": service }),
        )
        .await;
    assert_eq!(in_use["extensions"]["code"], "CONFLICT");
    assert!(
        in_use["message"].as_str().unwrap().contains("product"),
        "{in_use}"
    );

    app.ok(
        &token,
        "mutation($id: ID!) { deleteProduct(id: $id) }",
        json!({ "id": product }),
    )
    .await;
    app.ok(
        &token,
        "mutation($id: ID!) { deleteService(id: $id) }",
        json!({ "id": service }),
    )
    .await;
    assert_eq!(app.count("services").await, 0);
    assert_eq!(app.count("plans").await, 0, "plans go with their product");
    assert_eq!(
        app.count("metrics").await,
        0,
        "metrics go with their product"
    );
}

#[tokio::test]
async fn products_and_their_metrics() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (service, product, plan, _) = catalogue(&app, &token).await;

    let twice = app
        .err(
            &token,
            r#"mutation($s: ID!) { createProduct(input: {serviceId: $s, name: "Other", metrics: [
                {name: "A", crossReferenceType: "Seats", unit: COUNT}, {name: "B", crossReferenceType: "Seats", unit: COUNT}]}) { id } }"#,
            json!({ "s": service }),
        )
        .await;
    assert_eq!(twice["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(
        twice["extensions"]["field"],
        "metrics[1].crossReferenceType"
    );
    let same_name = app
        .code(&token, r#"mutation($s: ID!) { createProduct(input: {serviceId: $s, name: "Backup Plan", metrics: []}) { id } }"#, json!({ "s": service }))
        .await;
    assert_eq!(same_name, "CONFLICT");

    // Replace the metrics: Seats goes, LocalBackup comes, BackupUsage is renamed.
    let updated = app
        .ok(
            &token,
            r#"mutation($p: ID!) { updateProduct(id: $p, input: {name: "Backup Plan+", metrics: [
                {name: "Cloud storage", crossReferenceType: "BackupUsage", unit: GB},
                {name: "Local", crossReferenceType: "LocalBackup", unit: COUNT}]}) { name metrics { name crossReferenceType unit } } }"#,
            json!({ "p": product }),
        )
        .await;
    assert_eq!(
        updated["updateProduct"],
        json!({ "name": "Backup Plan+", "metrics": [
            { "name": "Cloud storage", "crossReferenceType": "BackupUsage", "unit": "GB" },
            { "name": "Local", "crossReferenceType": "LocalBackup", "unit": "COUNT" }] })
    );

    // A metric with usage history cannot be removed.
    let metrics = app
        .ok(
            &token,
            "query($s: ID!) { service(id: $s) { products { metrics { id crossReferenceType } } } }",
            json!({ "s": service }),
        )
        .await;
    let storage = id(&metrics["service"]["products"][0]["metrics"][0]["id"]);
    app.ok(
        &token,
        r#"mutation($p: ID!, $pl: ID!) { upsertAccounts(input: [{name: "acme", subscriptions: [{productId: $p, planId: $pl}]}]) { id } }"#,
        json!({ "p": product, "pl": plan }),
    )
    .await;
    app.ok(
        &token,
        r#"mutation($m: ID!) { recordUsage(input: [{account: "acme", metricId: $m, quantity: 3.5, measuredAt: "2026-01-01T00:00:00Z"}]) { recorded } }"#,
        json!({ "m": storage }),
    )
    .await;
    let error = app
        .err(
            &token,
            r#"mutation($p: ID!) { updateProduct(id: $p, input: {metrics: []}) { id } }"#,
            json!({ "p": product }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "CONFLICT");
    assert!(
        error["message"].as_str().unwrap().contains("BackupUsage"),
        "{error}"
    );
    assert_eq!(app.count("metrics").await, 2, "nothing removed");

    // In use by a subscription: refused.
    assert_eq!(
        app.code(
            &token,
            "mutation($p: ID!) { deleteProduct(id: $p) }",
            json!({ "p": product })
        )
        .await,
        "CONFLICT"
    );
}

#[tokio::test]
async fn plans_rules() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (service, product, plan, _) = catalogue(&app, &token).await;

    let dup = app
        .code(&token, r#"mutation($p: ID!) { createPlan(input: {productId: $p, uniqueId: "P20", baseSizeGb: 5}) { id } }"#, json!({ "p": product }))
        .await;
    assert_eq!(dup, "CONFLICT");
    for (field, input) in [
        (
            "baseSizeGb",
            r#"{productId: $p, uniqueId: "N", baseSizeGb: -1}"#,
        ),
        (
            "blockSizeGb",
            r#"{productId: $p, uniqueId: "N", baseSizeGb: 1, blockSizeGb: 0}"#,
        ),
        (
            "price",
            r#"{productId: $p, uniqueId: "N", baseSizeGb: 1, price: -2}"#,
        ),
        (
            "uniqueId",
            r#"{productId: $p, uniqueId: " ", baseSizeGb: 1}"#,
        ),
    ] {
        let error = app
            .err(
                &token,
                &format!("mutation($p: ID!) {{ createPlan(input: {input}) {{ id }} }}"),
                json!({ "p": product }),
            )
            .await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{field}");
        assert_eq!(error["extensions"]["field"], field);
    }
    let bad_id = app
        .err(&token, r#"{ plans(productId: "abc") { id } }"#, json!({}))
        .await;
    assert_eq!(bad_id["extensions"]["field"], "productId");

    let updated = app
        .ok(
            &token,
            r#"mutation($id: ID!) { updatePlan(id: $id, input: {name: "Twenty", price: 9.5, blockSizeGb: 10}) { uniqueId name baseSizeGb price blockSizeGb } }"#,
            json!({ "id": plan }),
        )
        .await;
    assert_eq!(
        updated["updatePlan"],
        json!({ "uniqueId": "P20", "name": "Twenty", "baseSizeGb": 20.0, "price": 9.5, "blockSizeGb": 10.0 })
    );
    let cleared = app
        .ok(&token, r#"mutation($id: ID!) { updatePlan(id: $id, input: {price: null}) { price blockSizeGb } }"#, json!({ "id": plan }))
        .await;
    assert_eq!(
        cleared["updatePlan"],
        json!({ "price": null, "blockSizeGb": 10.0 })
    );

    // A mapped plan cannot be deleted; unmapped it can.
    app.ok(
        &token,
        r#"mutation($p: ID!, $pl: ID!) { addBillingMapping(input: {productId: $p, planId: $pl, level: "Gold", usageValue: TOTAL_USAGE}) { mapping { id } } }"#,
        json!({ "p": product, "pl": plan }),
    )
    .await;
    let mapped = app
        .err(
            &token,
            "mutation($id: ID!) { deletePlan(id: $id) }",
            json!({ "id": plan }),
        )
        .await;
    assert_eq!(mapped["extensions"]["code"], "CONFLICT");
    assert!(
        mapped["message"].as_str().unwrap().contains("mapped"),
        "{mapped}"
    );
    let plans = app
        .ok(
            &token,
            "query($p: ID!) { plans(productId: $p) { uniqueId } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(
        plans["plans"],
        json!([{ "uniqueId": "P20" }, { "uniqueId": "P50" }])
    );
    let _ = service;
}

#[tokio::test]
async fn levels_are_case_sensitive_and_protected_while_used() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (_, product, _, _) = catalogue(&app, &token).await;

    let levels = app
        .ok(&token, "{ levels { name source } }", json!({}))
        .await;
    assert_eq!(
        levels["levels"],
        json!([{ "name": "Gold", "source": "MANUAL" }, { "name": "Silver", "source": "MANUAL" }, { "name": "gold", "source": "MANUAL" }])
    );
    assert_eq!(
        app.code(
            &token,
            r#"mutation { createLevel(input: {name: "Gold"}) { id } }"#,
            json!({})
        )
        .await,
        "CONFLICT"
    );
    let spaced = app
        .err(
            &token,
            r#"mutation { createLevel(input: {name: "Gold "}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(spaced["extensions"]["field"], "name");

    let mapping = app
        .ok(
            &token,
            r#"mutation($p: ID!) { addBillingMapping(input: {productId: $p, allPlans: true, level: "gold", usageValue: TOTAL_USAGE}) { mapping { level { id name } } } }"#,
            json!({ "p": product }),
        )
        .await;
    let level = &mapping["addBillingMapping"]["mapping"]["level"];
    assert_eq!(
        level["name"], "gold",
        "kept exactly as typed, not matched to Gold"
    );
    let in_use = app
        .code(
            &token,
            "mutation($id: ID!) { deleteLevel(id: $id) }",
            json!({ "id": level["id"] }),
        )
        .await;
    assert_eq!(in_use, "CONFLICT");
    let all = app.ok(&token, "{ levels { id name } }", json!({})).await;
    let silver = all["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "Silver")
        .unwrap()["id"]
        .clone();
    app.ok(
        &token,
        "mutation($id: ID!) { deleteLevel(id: $id) }",
        json!({ "id": silver }),
    )
    .await;
    assert_eq!(app.count("levels").await, 2);
}

/// The services tree is answered at once from what `services` read ahead
/// (`graphql::now`); behind fragments or a directive it takes async-graphql's own
/// resolution. Both must answer the same, field for field and in order.
#[tokio::test]
async fn a_services_tree_answered_at_once_matches_the_executor() {
    let app = TestApp::start().await;
    let token = crate::common::demo(&app).await;
    let plain = r#"{ services { __typename id name description createdAt updatedAt
        products { __typename id name mappings { __typename id allPlans usageValue managedExternally createdBy createdAt updatedBy updatedAt
            plan { __typename id uniqueId name baseSizeGb price blockSizeGb } level { __typename id name createdAt } } } } }"#;
    let through_executor = r#"{ services { ... on Service { __typename id name description createdAt updatedAt
        products { ... on Product { __typename id name mappings { __typename @include(if: true) id allPlans usageValue managedExternally createdBy createdAt updatedBy updatedAt
            plan { ... on Plan { __typename id uniqueId name baseSizeGb price blockSizeGb } } level { __typename @skip(if: false) id name createdAt } } } } } } }"#;
    // Byte for byte: the same keys in the same order, numbers and dates written alike.
    let executed = app.text(&token, through_executor, json!({})).await;
    assert_eq!(app.text(&token, plain, json!({})).await, executed);
    let at_once = app.ok(&token, plain, json!({})).await;
    // The data has what the comparison needs to mean something.
    let mappings: Vec<&serde_json::Value> = at_once["services"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["products"].as_array().unwrap())
        .flat_map(|p| p["mappings"].as_array().unwrap())
        .collect();
    assert!(
        mappings
            .iter()
            .any(|m| m["plan"].is_null() && m["allPlans"] == true)
    );
    assert!(mappings.iter().any(|m| m["plan"]["uniqueId"].is_string()));
    assert!(mappings.iter().any(|m| m["level"]["name"].is_string()));
}
