//! The demo tenant is complete, realistic and created once.

use billbridge::{db, demo};
use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn demo_tenant_is_created_once_and_browsable() {
    let app = TestApp::start().await;
    assert!(demo::seed(&app.db).await.unwrap());
    assert!(
        !demo::seed(&app.db).await.unwrap(),
        "a second seed must do nothing"
    );
    assert!(
        db::tenants::by_slug(&app.db, "demo")
            .await
            .unwrap()
            .is_some()
    );

    let token = app.token("demo", billbridge::auth::Role::Viewer);
    let data = app
        .ok(
            &token,
            "{ services { name readOnly billingStatus { state } products { name metrics { crossReferenceType unit } plans { uniqueId baseSizeGb } } }
               accounts(first: 1) { totalCount edges { node { latestUsage { quantity } usageHistory(last: 500) { quantity } } } } }",
            json!({}),
        )
        .await;
    let services = data["services"].as_array().unwrap();
    let by_name = |name: &str| services.iter().find(|s| s["name"] == name).unwrap();
    assert_eq!(by_name("Content Shield")["readOnly"], true);
    assert_eq!(
        by_name("Content Shield")["billingStatus"]["state"],
        "MANAGED_EXTERNALLY"
    );
    assert_eq!(by_name("Intronis Backup")["readOnly"], false);
    let backup = &by_name("Intronis Backup")["products"][0];
    let types: Vec<&str> = backup["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["crossReferenceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "BackupUsage",
            "LocalBackup",
            "ImageLicensing",
            "Hyper-VHostLicensing",
            "VMwareHostLicensing"
        ]
    );
    assert!(backup["plans"].as_array().unwrap().len() >= 4);
    assert!(by_name("Email Protection")["products"][0]["name"].is_string());
    assert_eq!(data["accounts"]["totalCount"], 50);
    let account = &data["accounts"]["edges"][0]["node"];
    assert!(!account["latestUsage"].as_array().unwrap().is_empty());
    // History is kept: twelve weekly samples per metric.
    let history = account["usageHistory"].as_array().unwrap().len();
    let metrics = account["latestUsage"].as_array().unwrap().len();
    assert_eq!(history, metrics * 12);
}
