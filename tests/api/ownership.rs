//! Billing that never double-bills, on the demo: billbridge owns what it wrote, retires what
//! no mapping wants any more, sees a person's edit as drift, and follows the tenant's push
//! settings — checked through the sandbox's own state, not through billbridge.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

use crate::common::{TestApp, demo};

const LINES: &str = "{ previewPush { summary { retire drifted update create } lines(first: 1000) { nodes { accounts companyName metric action reason detail additionId productIdentifier currentQuantity newQuantity lastWrittenQuantity drifted effectiveDate } } } }";

async fn push(app: &TestApp, token: &str) -> Value {
    let started = app
        .ok(token, "mutation { pushUsage { id } }", json!({}))
        .await;
    let id = started["pushUsage"]["id"].clone();
    for _ in 0..600 {
        let run = app
            .ok(
                token,
                "query($id: ID!) { pushRun(id: $id) { status message counts { done retired failed } } }",
                json!({ "id": id }),
            )
            .await["pushRun"]
            .clone();
        if run["status"] != "RUNNING" {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {id} did not finish");
}

async fn state(app: &TestApp) -> Value {
    reqwest::get(format!("{}/_sandbox/state", app.site))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Additions billing now with a quantity above 0, by (agreement, metric family): the
/// product identifier without its level suffix (`IB-STORAGE-GOLD` → `IB-STORAGE`).
fn billing_lines(state: &Value) -> HashMap<(i64, String), Vec<String>> {
    let now = chrono::Utc::now();
    let mut map: HashMap<(i64, String), Vec<String>> = HashMap::new();
    for a in state["additions"].as_array().unwrap() {
        let billing = a["billCustomer"] == "Billable"
            && a["quantity"].as_f64().unwrap() > 0.0
            && crate::common::bills_now(a, now);
        if !billing {
            continue;
        }
        let product = a["product"]["identifier"].as_str().unwrap();
        let family = product.rsplit_once('-').map_or(product, |(f, _)| f);
        map.entry((a["agreementId"].as_i64().unwrap(), family.to_owned()))
            .or_default()
            .push(product.to_owned());
    }
    map
}

pub(crate) async fn ib500_mapping(app: &TestApp, token: &str) -> String {
    let services = app
        .ok(
            token,
            "{ services { name products { mappings { id plan { uniqueId } level { name } } } } }",
            json!({}),
        )
        .await;
    services["services"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["products"].as_array().unwrap().iter())
        .flat_map(|p| p["mappings"].as_array().unwrap().iter())
        .find(|m| m["plan"]["uniqueId"] == "IB-500")
        .expect("the demo maps IB-500")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The issue's own scenario: IB-500 moves from Gold to level 1 after a push. The Gold
/// additions billbridge wrote are retired (to 0), the level-1 ones created, and afterwards
/// every agreement bills each metric on exactly one line.
#[tokio::test]
async fn a_remapped_level_retires_the_old_additions() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let first = push(&app, &editor).await;
    assert_eq!(first["status"], "SUCCEEDED", "{first}");
    let mapping = ib500_mapping(&app, &editor).await;
    app.ok(
        &editor,
        r#"mutation($id: ID!) { updateBillingMapping(id: $id, input: {level: "1"}) { mapping { level { name } } } }"#,
        json!({ "id": mapping }),
    )
    .await;

    let preview = app.ok(&editor, LINES, json!({})).await["previewPush"].clone();
    let lines = preview["lines"]["nodes"].as_array().unwrap();
    let retire: Vec<&Value> = lines.iter().filter(|l| l["action"] == "RETIRE").collect();
    assert!(!retire.is_empty(), "{preview:#}");
    assert_eq!(preview["summary"]["retire"], retire.len());
    for line in &retire {
        assert!(line["additionId"].is_string(), "{line}");
        assert!(line["currentQuantity"].as_f64().unwrap() > 0.0, "{line}");
        assert_eq!(line["newQuantity"], 0.0, "{line}");
        assert!(line["effectiveDate"].is_null(), "ZERO by default: {line}");
        assert!(
            line["detail"]
                .as_str()
                .unwrap()
                .contains("no mapping wants addition"),
            "{line}"
        );
    }
    let before = state(&app).await;
    let gold: Vec<i64> = before["additions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["product"]["identifier"]
                .as_str()
                .unwrap()
                .ends_with("-GOLD")
        })
        .filter(|a| a["quantity"].as_f64().unwrap() > 0.0)
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    let retired: Vec<i64> = retire
        .iter()
        .map(|l| l["additionId"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        gold.iter().all(|id| retired.contains(id)),
        "every Gold line billbridge wrote is retired: {gold:?} vs {retired:?}"
    );

    let second = push(&app, &editor).await;
    assert_eq!(second["status"], "SUCCEEDED", "{second}");
    assert_eq!(second["counts"]["retired"], retire.len(), "{second}");
    let after = state(&app).await;
    let doubled: Vec<_> = billing_lines(&after)
        .into_iter()
        .filter(|(_, products)| products.len() > 1)
        .collect();
    assert!(doubled.is_empty(), "billed twice: {doubled:?}");
    // Retired additions bill nothing and stay (ZERO); a third push has nothing to retire.
    for id in &retired {
        let a = after["additions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == *id)
            .unwrap();
        assert_eq!(a["quantity"], 0.0, "{a}");
    }
    let again = app.ok(&editor, LINES, json!({})).await["previewPush"]["summary"].clone();
    assert_eq!(again["retire"], 0, "{again}");
    assert_eq!(
        (again["update"].clone(), again["create"].clone()),
        (json!(0), json!(0))
    );
}

/// A person edits an addition billbridge wrote: the preview marks it drifted with the three
/// quantities; `onManualEdit: SKIP` leaves it, `OVERWRITE` writes billbridge's quantity.
#[tokio::test]
async fn a_manual_edit_is_drift_and_the_setting_decides() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    assert_eq!(push(&app, &editor).await["status"], "SUCCEEDED");
    // Someone edits one of billbridge's storage lines in ConnectWise.
    let owned = state(&app).await["additions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["product"]["identifier"] == "IB-STORAGE-L1" && a["quantity"].as_f64().unwrap() > 5.0
        })
        .unwrap()
        .clone();
    let id = owned["id"].as_i64().unwrap();
    let wrote = owned["quantity"].as_f64().unwrap();
    app.sandbox
        .with_store(|s| s.change_addition(id, json!({ "quantity": wrote + 7.0 })));

    let settings = app
        .ok(
            &editor,
            "{ pushSettings { retireMode onManualEdit updatedBy } }",
            json!({}),
        )
        .await;
    assert_eq!(
        settings["pushSettings"],
        json!({ "retireMode": "ZERO", "onManualEdit": "OVERWRITE", "updatedBy": null })
    );
    let find = |preview: &Value| -> Value {
        preview["previewPush"]["lines"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["additionId"].as_str() == Some(id.to_string().as_str()))
            .unwrap()
            .clone()
    };
    let preview = app.ok(&editor, LINES, json!({})).await;
    let line = find(&preview);
    assert_eq!(line["action"], "UPDATE", "{line}");
    assert_eq!(line["drifted"], true);
    assert_eq!(line["lastWrittenQuantity"], wrote);
    assert_eq!(line["currentQuantity"], wrote + 7.0);
    assert_eq!(line["newQuantity"], wrote);
    assert_eq!(preview["previewPush"]["summary"]["drifted"], 1);

    app.ok(
        &editor,
        "mutation { updatePushSettings(input: {retireMode: CANCEL, onManualEdit: SKIP}) { onManualEdit } }",
        json!({}),
    )
    .await;
    let line = find(&app.ok(&editor, LINES, json!({})).await);
    assert_eq!(
        (line["action"].clone(), line["reason"].clone()),
        (json!("SKIP"), json!("DRIFTED")),
        "{line}"
    );
    assert_eq!(push(&app, &editor).await["status"], "SUCCEEDED");
    let kept = |state: &Value| {
        state["additions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap()["quantity"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(
        kept(&state(&app).await),
        wrote + 7.0,
        "SKIP leaves the person's quantity"
    );

    app.ok(
        &editor,
        "mutation { updatePushSettings(input: {retireMode: ZERO, onManualEdit: OVERWRITE}) { onManualEdit } }",
        json!({}),
    )
    .await;
    assert_eq!(push(&app, &editor).await["status"], "SUCCEEDED");
    assert_eq!(
        kept(&state(&app).await),
        wrote,
        "OVERWRITE writes billbridge's quantity"
    );
    let line = find(&app.ok(&editor, LINES, json!({})).await);
    assert_eq!(
        (line["action"].clone(), line["drifted"].clone()),
        (json!("UNCHANGED"), json!(false))
    );
    // Both changes are in the audit log.
    let admin = app.token("demo", billbridge::auth::Role::Admin);
    let audit = app
        .ok(
            &admin,
            r#"{ auditEvents(first: 10, entity: "push_settings") { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(audit["auditEvents"]["totalCount"], 2);
}

/// `retireMode: CANCEL` cancels what no mapping wants from the first of next month (it
/// bills the current month), instead of setting it to 0.
#[tokio::test]
async fn cancel_mode_cancels_from_next_month() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    assert_eq!(push(&app, &editor).await["status"], "SUCCEEDED");
    app.ok(
        &editor,
        "mutation { updatePushSettings(input: {retireMode: CANCEL, onManualEdit: OVERWRITE}) { retireMode } }",
        json!({}),
    )
    .await;
    let mapping = ib500_mapping(&app, &editor).await;
    app.ok(
        &editor,
        r#"mutation($id: ID!) { updateBillingMapping(id: $id, input: {level: "1"}) { mapping { id } } }"#,
        json!({ "id": mapping }),
    )
    .await;
    let preview = app.ok(&editor, LINES, json!({})).await["previewPush"].clone();
    let retire: Vec<Value> = preview["lines"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["action"] == "RETIRE")
        .cloned()
        .collect();
    assert!(!retire.is_empty());
    let from = retire[0]["effectiveDate"].as_str().unwrap().to_owned();
    assert!(
        from.contains("-01T00:00:00"),
        "the first of next month: {from}"
    );
    assert_eq!(push(&app, &editor).await["status"], "SUCCEEDED");
    let after = state(&app).await;
    for line in &retire {
        let id: i64 = line["additionId"].as_str().unwrap().parse().unwrap();
        let a = after["additions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap();
        let instant = |d: &str| chrono::DateTime::parse_from_rfc3339(d).unwrap();
        assert_eq!(
            instant(a["cancelledDate"].as_str().unwrap()),
            instant(&from),
            "{a}"
        );
        assert_eq!(
            a["quantity"], line["currentQuantity"],
            "it bills as it was until then: {a}"
        );
    }
    // Cancelled: nothing more to retire, nothing written twice.
    let again = app.ok(&editor, LINES, json!({})).await["previewPush"]["summary"].clone();
    assert_eq!(again["retire"], 0, "{again}");
}

/// Each line says what it means a month (quantity × the addition's unit price, or the
/// catalog price for a new one); the preview and the run add it up overall and per company.
#[tokio::test]
async fn the_money_each_change_means() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    const MONEY: &str = "money { total { before after change } byCompany { companyName monthly { before after change } } unpricedLines }";
    let preview = app
        .ok(
            &editor,
            &format!("{{ previewPush {{ {MONEY} lines(first: 1000) {{ nodes {{ action companyName currentQuantity newQuantity unitPrice monthlyBefore monthlyAfter monthlyChange }} }} }} }}"),
            json!({}),
        )
        .await["previewPush"]
        .clone();
    let lines = preview["lines"]["nodes"].as_array().unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
    let mut sum = 0.0;
    for line in lines {
        let Some(price) = line["unitPrice"].as_f64() else {
            continue;
        };
        let before = line["currentQuantity"].as_f64().unwrap_or(0.0) * price;
        let after = match line["action"].as_str().unwrap() {
            "CREATE" | "UPDATE" | "RETIRE" => line["newQuantity"].as_f64().unwrap() * price,
            _ => before,
        };
        assert!(
            close(line["monthlyBefore"].as_f64().unwrap(), before),
            "{line}"
        );
        assert!(
            close(line["monthlyAfter"].as_f64().unwrap(), after),
            "{line}"
        );
        assert!(
            close(line["monthlyChange"].as_f64().unwrap(), after - before),
            "{line}"
        );
        sum += after - before;
    }
    let money = &preview["money"];
    assert!(
        close(money["total"]["change"].as_f64().unwrap(), sum),
        "{money}"
    );
    assert!(sum > 0.0, "the first push bills more: {money}");
    assert_eq!(
        money["unpricedLines"], 0,
        "the demo's catalog has prices: {money}"
    );
    let companies = money["byCompany"].as_array().unwrap();
    assert!(!companies.is_empty());
    let changes: Vec<f64> = companies
        .iter()
        .map(|c| c["monthly"]["change"].as_f64().unwrap().abs())
        .collect();
    assert!(
        changes.windows(2).all(|w| w[0] >= w[1]),
        "largest change first: {changes:?}"
    );
    let by_company: f64 = companies
        .iter()
        .map(|c| c["monthly"]["change"].as_f64().unwrap())
        .sum();
    assert!(close(by_company, sum), "{by_company} vs {sum}");

    // The run shows the same money; afterwards the preview changes nothing.
    let started = app
        .ok(&editor, "mutation { pushUsage { id } }", json!({}))
        .await;
    let id = started["pushUsage"]["id"].clone();
    let finished = loop {
        let run = app
            .ok(
                &editor,
                &format!("query($id: ID!) {{ pushRun(id: $id) {{ status {MONEY} }} }}"),
                json!({ "id": id }),
            )
            .await["pushRun"]
            .clone();
        if run["status"] != "RUNNING" {
            break run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        close(finished["money"]["total"]["change"].as_f64().unwrap(), sum),
        "{finished}"
    );
    let again = app
        .ok(
            &editor,
            &format!("{{ previewPush {{ {MONEY} }} }}"),
            json!({}),
        )
        .await;
    let total = &again["previewPush"]["money"]["total"];
    assert!(close(total["change"].as_f64().unwrap(), 0.0), "{total}");
    assert!(
        close(
            total["after"].as_f64().unwrap(),
            money["total"]["after"].as_f64().unwrap()
        ),
        "{total}"
    );
}

/// Usage that slipped past the door as infinity (a corrupted row): the planner never turns
/// it into a quantity — the line is skipped as INVALID_QUANTITY, nothing is sent for it,
/// and the run ends PARTIAL rather than SUCCEEDED.
#[tokio::test]
async fn a_quantity_that_is_not_a_number_is_never_sent() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let infinity = match app.db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "'Infinity'::float8",
        _ => "9e999",
    };
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!(
            "UPDATE usage_samples SET quantity = {infinity} WHERE account_id IN (SELECT id FROM accounts WHERE name = 'acme-dental') AND metric_id IN (SELECT id FROM metrics WHERE cross_reference_type = 'BackupUsage')"
        ))
        .await
        .unwrap();
    let preview = app.ok(&editor, LINES, json!({})).await["previewPush"].clone();
    let line = preview["lines"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["accounts"][0] == "acme-dental" && l["metric"] == "BackupUsage")
        .unwrap()
        .clone();
    assert_eq!(
        (line["action"].clone(), line["reason"].clone()),
        (json!("SKIP"), json!("INVALID_QUANTITY")),
        "{line}"
    );
    assert!(line["newQuantity"].is_null(), "{line}");
    let product = line["productIdentifier"].as_str().unwrap().to_owned();
    let run = push(&app, &editor).await;
    assert_eq!(run["status"], "PARTIAL", "{run}");
    assert!(run["counts"]["failed"].as_i64().unwrap() >= 1, "{run}");
    // Nothing was sent for it: no addition of that product on acme's agreements.
    let state = state(&app).await;
    let acme: Vec<i64> = state["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["company"]["identifier"] == "acme-dental")
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    let sent = state["additions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            acme.contains(&a["agreementId"].as_i64().unwrap())
                && a["product"]["identifier"] == product.as_str()
        })
        .count();
    assert_eq!(sent, 0, "nothing was sent for {product}");
    for write in state["writes"].as_array().unwrap() {
        assert!(
            !write["body"]["quantity"].is_null() || write["method"] != "POST",
            "{write}"
        );
    }
}
