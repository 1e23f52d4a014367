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

    let account = app
        .ok(
            &alpha,
            r#"mutation { upsertAccounts(input: [{name: "alpha-account", subscriptions: []}]) { id } }"#,
            json!({}),
        )
        .await;
    let account = id(&account["upsertAccounts"][0]["id"]);
    let user = app
        .ok(
            &alpha,
            r#"mutation { createUser(input: {email: "ops@alpha.example", displayName: "Ops", role: VIEWER, password: "long enough password"}) { id } }"#,
            json!({}),
        )
        .await;
    let user = id(&user["createUser"]["id"]);
    let token = app
        .ok(
            &alpha,
            r#"mutation { createApiToken(input: {name: "t", role: VIEWER}) { apiToken { id } } }"#,
            json!({}),
        )
        .await;
    let token = id(&token["createApiToken"]["apiToken"]["id"]);
    let webhook = app
        .ok(
            &alpha,
            r#"mutation { createWebhook(input: {url: "https://hooks.example.com/x"}) { webhook { id } } }"#,
            json!({}),
        )
        .await;
    let webhook = id(&webhook["createWebhook"]["webhook"]["id"]);

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
        (
            "query($id: ID!) { account(id: $id) { name } }",
            json!({ "id": account }),
        ),
        (
            "mutation($id: ID!) { updateUserRole(id: $id, role: ADMIN) { id } }",
            json!({ "id": user }),
        ),
        (
            "mutation($id: ID!) { deactivateUser(id: $id) { id } }",
            json!({ "id": user }),
        ),
        (
            "mutation($id: ID!) { revokeApiToken(id: $id) { id } }",
            json!({ "id": token }),
        ),
        (
            "query($id: ID!) { webhookDeliveries(webhookId: $id) { totalCount } }",
            json!({ "id": webhook }),
        ),
        (
            "mutation($id: ID!) { deleteWebhook(id: $id) }",
            json!({ "id": webhook }),
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

    // Runs too.
    let run = app
        .ok(
            &alpha,
            "mutation { pushUsage(dryRun: true) { id } }",
            json!({}),
        )
        .await;
    let run = id(&run["pushUsage"]["id"]);
    for query in [
        "query($id: ID!) { pushRun(id: $id) { id } }",
        "mutation($id: ID!) { cancelPushRun(id: $id) { id } }",
    ] {
        assert_eq!(
            app.code(&beta, query, json!({ "id": run })).await,
            "NOT_FOUND",
            "{query}"
        );
    }

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

/// A mapping's plan and level are read joined to it; the join matches the tenant too, so a
/// row naming another tenant's plan or level (which the API never writes) shows neither.
#[tokio::test]
async fn a_mappings_joined_plan_and_level_stay_in_its_tenant() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::start().await;
    let alpha = app.token("alpha", Role::Admin);
    let beta = app.token("beta", Role::Admin);
    let (_, product, plan, _) = catalogue(&app, &alpha).await;
    app.ok(
        &alpha,
        r#"mutation($p: ID!, $plan: ID!) { addBillingMapping(input: {productId: $p, planId: $plan, level: "Gold", usageValue: TOTAL_USAGE}) { mapping { id } } }"#,
        json!({ "p": product, "plan": plan }),
    )
    .await;
    let (_, _, beta_plan, _) = catalogue(&app, &beta).await;
    let beta_level =
        app.ok(&beta, "{ levels { id name } }", json!({})).await["levels"][0]["id"].clone();
    let shape = "{ services { products { mappings { plan { uniqueId } level { name } } } } }";
    let before = app.ok(&alpha, shape, json!({})).await;
    let mapping = &before["services"][0]["products"][0]["mappings"][0];
    assert_eq!(mapping["plan"]["uniqueId"], "P20", "{before}");
    assert_eq!(mapping["level"]["name"], "Gold", "{before}");

    // Corrupt alpha's mapping to name beta's plan and level.
    app.db
        .execute_unprepared(&format!(
            "UPDATE billing_mappings SET plan_id = {beta_plan}, level_id = {}",
            id(&beta_level)
        ))
        .await
        .unwrap();
    let after = app.post(&alpha, shape, json!({})).await;
    let text = after.to_string();
    assert!(!text.contains("P20") || after["data"].is_null(), "{after}");
    let mapping = &after["data"]["services"][0]["products"][0]["mappings"][0];
    assert!(
        mapping["plan"].is_null(),
        "beta's plan is not alpha's: {after}"
    );
    assert_ne!(mapping["level"]["name"], "Gold", "{after}");
}

/// Every join the read-ahead makes — a service's products, a product's mappings, a
/// subscription's plan, an account's link — matches the tenant as well as the key: rows of
/// beta's that name alpha's records (no code path writes such a row; a bad key would) never
/// show in alpha's answers.
#[tokio::test]
async fn joined_rows_of_another_tenant_stay_out() {
    use billbridge::db::entity::account_link;
    use billbridge::domain::LinkState;
    use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
    let app = TestApp::start().await;
    let alpha = app.token("alpha", Role::Admin);
    let beta = app.token("beta", Role::Admin);
    let (service, product, plan, _) = catalogue(&app, &alpha).await;
    let (_, beta_product, beta_plan, _) = catalogue(&app, &beta).await;
    let mapping = r#"mutation($p: ID!) { addBillingMapping(input: {productId: $p, allPlans: true, level: "Gold", usageValue: TOTAL_USAGE}) { mapping { id } } }"#;
    app.ok(&beta, mapping, json!({ "p": beta_product })).await;
    let upsert = r#"mutation($input: [AccountInput!]!) { upsertAccounts(input: $input) { id } }"#;
    let account = app
        .ok(
            &alpha,
            upsert,
            json!({ "input": [{ "name": "a1", "subscriptions": [{ "productId": product, "planId": plan }] }] }),
        )
        .await;
    let account = id(&account["upsertAccounts"][0]["id"]);
    let beta_tenant: i64 = app
        .scalar(&format!(
            "SELECT tenant_id AS v FROM products WHERE id = {beta_product}"
        ))
        .await;
    let services = "{ services { products { name mappings { id } } } }";
    let accounts = "{ accounts(first: 10) { nodes { name subscriptions { plan { uniqueId } } link { state } } } }";
    let before = app.ok(&alpha, accounts, json!({})).await;
    assert_eq!(
        before["accounts"]["nodes"][0]["subscriptions"][0]["plan"]["uniqueId"], "P20",
        "{before}"
    );

    for statement in [
        format!(
            "UPDATE products SET service_id = {service}, name = 'Beta Plan' WHERE id = {beta_product}"
        ),
        format!(
            "UPDATE billing_mappings SET product_id = {product} WHERE tenant_id = {beta_tenant}"
        ),
        format!("UPDATE subscriptions SET plan_id = {beta_plan} WHERE account_id = {account}"),
    ] {
        app.db.execute_unprepared(&statement).await.unwrap();
    }
    account_link::ActiveModel {
        tenant_id: Set(beta_tenant),
        account_id: Set(account.parse().unwrap()),
        state: Set(LinkState::Linked),
        reason: Set("planted".into()),
        synced_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();

    let catalogue = app.ok(&alpha, services, json!({})).await;
    assert_eq!(
        catalogue["services"][0]["products"],
        json!([{ "name": "Backup Plan", "mappings": [] }]),
        "beta's product and mapping are not alpha's: {catalogue}"
    );
    let after = app.ok(&alpha, accounts, json!({})).await;
    let node = &after["accounts"]["nodes"][0];
    assert!(
        node["subscriptions"][0]["plan"].is_null(),
        "beta's plan is not alpha's: {after}"
    );
    assert!(
        node["link"].is_null(),
        "beta's link is not alpha's: {after}"
    );
}
