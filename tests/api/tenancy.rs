//! A tenant never sees or touches another tenant's rows: their ids are NOT_FOUND.

use billbridge::auth::Role;
use serde_json::json;

use crate::common::{TestApp, catalogue, id};

#[tokio::test]
async fn other_tenants_ids_are_not_found() {
    let app = TestApp::start().await;
    let alpha = app.token("alpha", Role::Admin);
    let (service, product, plan, _) = catalogue(&app, &alpha).await;
    let mapping = app
        .ok(
            &alpha,
            r#"mutation($p: ID!) { addBillingMapping(input: {productId: $p, allPlans: true, level: "Gold", usageValue: TOTAL_USAGE, managedExternally: true}) { mapping { id level { id } } } }"#,
            json!({ "p": product }),
        )
        .await;
    let mapping_id = id(&mapping["addBillingMapping"]["mapping"]["id"]);
    let level = id(&mapping["addBillingMapping"]["mapping"]["level"]["id"]);

    let beta = app.token("beta", Role::Admin);
    // Beta sees nothing of alpha's.
    let data = app
        .ok(
            &beta,
            "{ services { id } levels { id } accounts { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data,
        json!({ "services": [], "levels": [], "accounts": { "totalCount": 0 } })
    );

    let operations: Vec<(&str, serde_json::Value)> = vec![
        (
            "query($id: ID!) { service(id: $id) { id } }",
            json!({ "id": service }),
        ),
        (
            "query($id: ID!) { plans(productId: $id) { id } }",
            json!({ "id": product }),
        ),
        (
            "query($id: ID!) { billingMappings(serviceId: $id) { id } }",
            json!({ "id": service }),
        ),
        (
            "query($id: ID!) { accounts(serviceId: $id) { totalCount } }",
            json!({ "id": service }),
        ),
        (
            "query($id: ID!) { accounts(productId: $id) { totalCount } }",
            json!({ "id": product }),
        ),
        (
            "query($id: ID!) { accounts(planId: $id) { totalCount } }",
            json!({ "id": plan }),
        ),
        (
            r#"mutation($id: ID!) { updateService(id: $id, input: {name: "Mine"}) { id } }"#,
            json!({ "id": service }),
        ),
        (
            "mutation($id: ID!) { deleteService(id: $id) }",
            json!({ "id": service }),
        ),
        (
            r#"mutation($id: ID!) { createProduct(input: {serviceId: $id, name: "P", metrics: []}) { id } }"#,
            json!({ "id": service }),
        ),
        (
            r#"mutation($id: ID!) { updateProduct(id: $id, input: {name: "Mine"}) { id } }"#,
            json!({ "id": product }),
        ),
        (
            "mutation($id: ID!) { deleteProduct(id: $id) }",
            json!({ "id": product }),
        ),
        (
            r#"mutation($id: ID!) { createPlan(input: {productId: $id, uniqueId: "X", baseSizeGb: 1}) { id } }"#,
            json!({ "id": product }),
        ),
        (
            r#"mutation($id: ID!) { updatePlan(id: $id, input: {name: "Mine"}) { id } }"#,
            json!({ "id": plan }),
        ),
        (
            "mutation($id: ID!) { deletePlan(id: $id) }",
            json!({ "id": plan }),
        ),
        (
            "mutation($id: ID!) { deleteLevel(id: $id) }",
            json!({ "id": level }),
        ),
        (
            r#"mutation($id: ID!) { addBillingMapping(input: {productId: $id, allPlans: true, level: "Gold", usageValue: TOTAL_USAGE}) { warnings } }"#,
            json!({ "id": product }),
        ),
        (
            r#"mutation($id: ID!) { updateBillingMapping(id: $id, input: {usageValue: ADDITIONAL_USAGE}) { warnings } }"#,
            json!({ "id": mapping_id }),
        ),
        (
            "mutation($id: ID!) { deleteBillingMapping(id: $id) }",
            json!({ "id": mapping_id }),
        ),
        (
            "mutation($id: ID!) { takeOverBillingMapping(id: $id) { id } }",
            json!({ "id": mapping_id }),
        ),
    ];
    for (query, variables) in &operations {
        assert_eq!(
            app.code(&beta, query, variables.clone()).await,
            "NOT_FOUND",
            "{query}"
        );
    }
    // Batch rows naming alpha's product are refused by index, as not found in beta.
    let error = app
        .err(
            &beta,
            r#"mutation($p: ID!) { upsertAccounts(input: [{name: "a", subscriptions: [{productId: $p}]}]) { id } }"#,
            json!({ "p": product }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{error}"
    );

    // Connections are per tenant too.
    app.connect_psa(
        "alpha",
        billbridge::sandbox::DEMO_PUBLIC_KEY,
        billbridge::sandbox::DEMO_PRIVATE_KEY,
    )
    .await;
    let theirs = app.ok(&beta, "{ psaConnection { site } }", json!({})).await;
    assert_eq!(theirs["psaConnection"], serde_json::Value::Null);
    assert_eq!(
        app.code(&beta, "mutation { syncLevels { created } }", json!({}))
            .await,
        "CONFLICT"
    );

    // Alpha's data is untouched and still its own.
    let data = app
        .ok(
            &alpha,
            "query($id: ID!) { service(id: $id) { name mappings { id } } }",
            json!({ "id": service }),
        )
        .await;
    assert_eq!(data["service"]["name"], "Backup");
    assert_eq!(data["service"]["mappings"].as_array().unwrap().len(), 1);
}
