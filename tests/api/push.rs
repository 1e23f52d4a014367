//! The usage push against the sandbox, on the demo data: what lands where, what is skipped
//! and why, reruns, faults, conflicts, cancellation, progress and metrics.

use billbridge::auth::Role;
use billbridge::domain::billing::{PlanSize, quantity};
use billbridge::domain::{MetricUnit, UsageValue};
use billbridge::sandbox::{self, Fault};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use crate::common::{TestApp, demo};

const RUN: &str = "query($id: ID!) { pushRun(id: $id) { id status message counts { total done unchanged skipped failed pending } } }";

async fn push(app: &TestApp, token: &str, service: Option<&str>) -> Value {
    let started = app
        .ok(
            token,
            "mutation($s: ID) { pushUsage(serviceId: $s) { id status } }",
            json!({ "s": service }),
        )
        .await;
    let id = started["pushUsage"]["id"].clone();
    wait(app, token, &id).await
}

/// Polls the run until it ends (bounded: a run that never ends fails the test).
pub(crate) async fn wait(app: &TestApp, token: &str, id: &Value) -> Value {
    for _ in 0..600 {
        let run = app.ok(token, RUN, json!({ "id": id })).await["pushRun"].clone();
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

fn writes(app: &TestApp) -> u64 {
    app.sandbox
        .calls()
        .iter()
        .filter(|(k, _)| !k.starts_with("GET "))
        .map(|(_, n)| n)
        .sum()
}

/// (agreement id, product identifier) → quantities of the additions that bill there now
/// (those cancelled from a past date, and successors that start later, are left out; the
/// demo holds both).
fn additions(state: &Value) -> HashMap<(i64, String), Vec<f64>> {
    let mut map: HashMap<(i64, String), Vec<f64>> = HashMap::new();
    let now = chrono::Utc::now();
    for a in state["additions"].as_array().unwrap() {
        if !crate::common::bills_now(a, now) {
            continue;
        }
        map.entry((
            a["agreementId"].as_i64().unwrap(),
            a["product"]["identifier"].as_str().unwrap().to_owned(),
        ))
        .or_default()
        .push(a["quantity"].as_f64().unwrap());
    }
    map
}

fn backup_agreement(state: &Value, company: &str) -> i64 {
    state["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["company"]["identifier"] == company && a["type"]["name"] == sandbox::BACKUP_AGREEMENT
        })
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// The latest usage of an account's metric, as billbridge holds it.
async fn latest(app: &TestApp, token: &str, account: &str, metric: &str) -> f64 {
    let data = app
        .ok(token, "query($q: String) { accounts(search: $q) { edges { node { name latestUsage { quantity metric { crossReferenceType } } } } } }", json!({ "q": account }))
        .await;
    data["accounts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["name"] == account)
        .unwrap()["node"]["latestUsage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["metric"]["crossReferenceType"] == metric)
        .unwrap()["quantity"]
        .as_f64()
        .unwrap()
}

#[tokio::test]
async fn usage_lands_on_the_right_additions_and_a_second_push_writes_nothing() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let run = push(&app, &editor, None).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["counts"]["failed"], 0);
    assert_eq!(run["counts"]["pending"], 0);
    let after = state(&app).await;
    let lines = additions(&after);

    // acme-dental: IB-100, "(All plans)" → level 1, total usage.
    let acme = backup_agreement(&after, "acme-dental");
    let used = latest(&app, &editor, "acme-dental", "BackupUsage").await;
    let expected = quantity(
        MetricUnit::Gb,
        UsageValue::Total,
        used,
        Some(PlanSize {
            base_gb: 100.0,
            block_gb: None,
        }),
    );
    assert_eq!(lines[&(acme, "IB-STORAGE-L1".into())], vec![expected]);
    let local = latest(&app, &editor, "acme-dental", "LocalBackup").await;
    assert_eq!(lines[&(acme, "IB-LOCAL-L1".into())], vec![local]);

    // apex-legal (index 2 → IB-500): Gold, additional usage over 500 GB in 50 GB blocks.
    let apex = backup_agreement(&after, "apex-legal");
    let used = latest(&app, &editor, "apex-legal", "BackupUsage").await;
    let expected = quantity(
        MetricUnit::Gb,
        UsageValue::Additional,
        used,
        Some(PlanSize {
            base_gb: 500.0,
            block_gb: Some(50.0),
        }),
    );
    assert_eq!(lines[&(apex, "IB-STORAGE-GOLD".into())], vec![expected]);

    // Additions that existed already were adopted: never two for one product.
    assert!(
        lines.values().all(|q| q.len() == 1),
        "a duplicate addition was created"
    );
    let alpine_like = backup_agreement(
        &after,
        "alpine-logistics"
            .replace("alpine-logistics", "AlpineLogistics")
            .as_str(),
    );
    assert_eq!(
        lines[&(alpine_like, "IB-STORAGE-L1".into())].len(),
        1,
        "pre-existing addition adopted"
    );

    // Skips, with their reasons.
    let skipped = app
        .ok(&editor, "query($id: ID!) { pushRun(id: $id) { lines(first: 1000, action: SKIP) { edges { node { accounts reason metric level detail } } } } }", json!({ "id": run["id"] }))
        .await;
    let skips: Vec<(String, String)> = skipped["pushRun"]["lines"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["accounts"][0].as_str().unwrap().to_owned(),
                e["node"]["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let has = |account: &str, reason: &str| skips.iter().any(|(a, r)| a == account && r == reason);
    assert!(has(billbridge::demo::NOT_IN_PSA, "NOT_LINKED"));
    assert!(has(billbridge::demo::CLAIMED_TWICE, "AMBIGUOUS_COMPANY"));
    assert!(has(billbridge::demo::TWO_AGREEMENTS, "AMBIGUOUS_AGREEMENT"));
    // IB-1TB accounts (index 3, 8, …) are mapped to "premium", which ConnectWise has only as "Premium".
    assert!(!has("apex-legal", "NO_CROSS_REFERENCE"));
    assert!(has("aspen-clinic", "NO_CROSS_REFERENCE"), "{skips:?}");
    assert!(
        skips.iter().any(|(_, r)| r == "MANAGED_EXTERNALLY"),
        "Content Shield is billed elsewhere"
    );
    assert!(
        skips.iter().any(|(_, r)| r == "NO_MAPPING"),
        "Email Gateway Defense is not mapped"
    );

    // Nothing changed: the second push makes no write call.
    let before = writes(&app);
    let again = push(&app, &editor, None).await;
    assert_eq!(again["status"], "SUCCEEDED");
    assert_eq!(again["counts"]["done"], 0);
    assert_eq!(
        again["counts"]["unchanged"],
        run["counts"]["done"].as_i64().unwrap() + run["counts"]["unchanged"].as_i64().unwrap()
    );
    assert_eq!(writes(&app), before, "no write call");
}

#[tokio::test]
async fn a_missing_addition_is_created_once_then_adopted() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    push(&app, &editor, None).await;
    let acme = backup_agreement(&state(&app).await, "acme-dental");
    app.sandbox.with_store(|store| {
        store
            .additions
            .get_mut(&acme)
            .unwrap()
            .retain(|a| a["product"]["identifier"] != "IB-STORAGE-L1");
    });
    let run = push(&app, &editor, None).await;
    assert_eq!(run["counts"]["done"], 1, "only the missing one is written");
    let posts = app.sandbox.calls()["POST /finance/agreements/{id}/additions"];
    let run = push(&app, &editor, None).await;
    assert_eq!(run["counts"]["done"], 0);
    assert_eq!(
        app.sandbox.calls()["POST /finance/agreements/{id}/additions"],
        posts
    );
    assert_eq!(
        additions(&state(&app).await)[&(acme, "IB-STORAGE-L1".into())].len(),
        1
    );
}

#[tokio::test]
async fn faults_are_ridden_out_or_left_for_a_rerun() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    // Transient 429s and 5xx: retried, the run still succeeds.
    app.sandbox.inject(Fault {
        status: 429,
        count: 2,
        writes_only: true,
    });
    app.sandbox.inject(Fault {
        status: 503,
        count: 3,
        writes_only: false,
    });
    let run = push(&app, &editor, Some("1")).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");

    // Persistent failures on some writes: the run is PARTIAL, failures carry ConnectWise's message.
    let acme = backup_agreement(&state(&app).await, "acme-dental");
    // Every addition the push wrote now holds a wrong quantity.
    let touched: Vec<i64> = app.sandbox.with_store(|store| {
        let mut touched = Vec::new();
        for list in store.additions.values_mut() {
            for a in list
                .iter_mut()
                .filter(|a| a["effectiveDate"] != "2026-01-01T00:00:00Z")
            {
                a["quantity"] = json!(0.5);
                touched.push(a["id"].as_i64().unwrap());
            }
        }
        touched
    });
    assert!(touched.len() > 50);
    // 40 failed answers: a PATCH is tried four times, so about ten lines fail for good.
    app.sandbox.inject(Fault {
        status: 500,
        count: 40,
        writes_only: true,
    });
    let run = push(&app, &editor, Some("1")).await;
    assert_eq!(run["status"], "PARTIAL", "{run}");
    let failed = run["counts"]["failed"].as_i64().unwrap();
    assert!(failed > 0 && failed <= 10, "{run}");
    let lines = app
        .ok(&editor, "query($id: ID!) { pushRun(id: $id) { lines(outcome: FAILED) { totalCount edges { node { error } } } } }", json!({ "id": run["id"] }))
        .await;
    assert!(
        lines["pushRun"]["lines"]["edges"][0]["node"]["error"]
            .as_str()
            .unwrap()
            .contains("500")
    );

    // A rerun finishes what failed and nothing else.
    let rerun = push(&app, &editor, Some("1")).await;
    assert_eq!(rerun["status"], "SUCCEEDED");
    assert_eq!(rerun["counts"]["done"].as_i64().unwrap(), failed);
    let after = state(&app).await;
    let still_wrong: Vec<&Value> = after["additions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| touched.contains(&a["id"].as_i64().unwrap()) && a["quantity"] == 0.5)
        .collect();
    assert!(still_wrong.is_empty(), "{still_wrong:?}");
    let additions = additions(&after);
    assert!(additions.values().all(|q| q.len() == 1), "none twice");
    assert!(additions.contains_key(&(acme, "IB-STORAGE-L1".into())));
}

#[tokio::test]
async fn one_run_at_a_time_and_runs_can_be_cancelled() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    app.sandbox.set_latency(Duration::from_millis(40));
    let first = app
        .ok(&editor, "mutation { pushUsage { id } }", json!({}))
        .await["pushUsage"]["id"]
        .clone();
    let error = app
        .err(&editor, "mutation { pushUsage { id } }", json!({}))
        .await;
    assert_eq!(error["extensions"]["code"], "CONFLICT");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(&format!("push run {}", first.as_str().unwrap())),
        "{error}"
    );
    let viewer = app.token("demo", Role::Viewer);
    assert_eq!(
        app.code(
            &viewer,
            "mutation($id: ID!) { cancelPushRun(id: $id) { id } }",
            json!({ "id": first })
        )
        .await,
        "FORBIDDEN"
    );
    app.ok(
        &editor,
        "mutation($id: ID!) { cancelPushRun(id: $id) { id } }",
        json!({ "id": first }),
    )
    .await;
    let run = wait(&app, &editor, &first).await;
    assert_eq!(run["status"], "CANCELLED", "{run}");
    let cancelled = app
        .ok(
            &editor,
            "query($id: ID!) { pushRun(id: $id) { lines(outcome: CANCELLED) { totalCount } } }",
            json!({ "id": first }),
        )
        .await;
    assert!(
        cancelled["pushRun"]["lines"]["totalCount"]
            .as_i64()
            .unwrap()
            > 0
    );
    assert_eq!(run["counts"]["pending"], 0);
    // Another tenant's run id is not found.
    let other = app.token("alpha", Role::Editor);
    assert_eq!(
        app.code(&other, RUN, json!({ "id": first })).await,
        "NOT_FOUND"
    );
    // Runs are listed newest first, filterable by status.
    let runs = app.ok(&editor, "{ pushRuns(status: CANCELLED) { totalCount edges { node { id trigger triggeredBy } } } }", json!({})).await;
    assert_eq!(runs["pushRuns"]["totalCount"], 1);
    assert_eq!(
        runs["pushRuns"]["edges"][0]["node"]["triggeredBy"],
        "demo-editor"
    );
}

#[tokio::test]
async fn preview_writes_nothing_and_explains_every_line() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let before = writes(&app);
    let preview = app
        .ok(&editor, "{ previewPush { summary { lines update create unchanged skip skippedByReason { reason count } } lines(first: 1000) { nodes { accounts companyName metric action reason currentQuantity newQuantity detail } } } }", json!({}))
        .await["previewPush"]
        .clone();
    assert_eq!(writes(&app), before);
    let summary = &preview["summary"];
    assert!(summary["create"].as_i64().unwrap() > 50, "{summary}");
    assert!(
        summary["update"].as_i64().unwrap() > 0,
        "the pre-existing additions"
    );
    let reasons: Vec<&str> = summary["skippedByReason"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    for reason in [
        "NOT_LINKED",
        "AMBIGUOUS_COMPANY",
        "AMBIGUOUS_AGREEMENT",
        "NO_CROSS_REFERENCE",
        "MANAGED_EXTERNALLY",
        "NO_MAPPING",
    ] {
        assert!(
            reasons.contains(&reason),
            "{reason} missing from {reasons:?}"
        );
    }
    let update = preview["lines"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["action"] == "UPDATE")
        .unwrap();
    assert_eq!(
        update["currentQuantity"], 1.0,
        "the hand-made addition of quantity 1"
    );
    // A dry run records the plan without writing.
    let dry = app
        .ok(
            &editor,
            "mutation { pushUsage(dryRun: true) { id } }",
            json!({}),
        )
        .await["pushUsage"]["id"]
        .clone();
    let run = wait(&app, &editor, &dry).await;
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["counts"]["done"], 0);
    assert_eq!(writes(&app), before);
    let planned = app
        .ok(
            &editor,
            "query($id: ID!) { pushRun(id: $id) { lines(outcome: PLANNED) { totalCount } } }",
            json!({ "id": dry }),
        )
        .await;
    assert_eq!(
        planned["pushRun"]["lines"]["totalCount"].as_i64().unwrap(),
        summary["create"].as_i64().unwrap() + summary["update"].as_i64().unwrap()
    );
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A socket to `/graphql/ws` speaking graphql-transport-ws, not yet initialised.
async fn graphql_ws(app: &TestApp) -> Socket {
    let url = format!("{}/graphql/ws", app.base.replace("http://", "ws://"));
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

#[tokio::test]
async fn progress_streams_over_graphql_ws_to_the_end() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    app.sandbox.set_latency(Duration::from_millis(5));
    let run = app
        .ok(&editor, "mutation { pushUsage { id } }", json!({}))
        .await["pushUsage"]["id"]
        .clone();

    let mut socket = graphql_ws(&app).await;
    use tokio_tungstenite::tungstenite::Message;
    socket
        .send(Message::text(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {editor}") } }).to_string()))
        .await
        .unwrap();
    socket
        .send(Message::text(json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription($id: ID!) { pushRunProgress(runId: $id) { status total done unchanged skipped failed pending finished } }",
            "variables": { "id": run } } }).to_string()))
        .await
        .unwrap();
    let mut updates = Vec::new();
    while let Some(message) = tokio::time::timeout(Duration::from_secs(30), socket.next())
        .await
        .unwrap()
    {
        let text = match message.unwrap() {
            Message::Text(text) => text.to_string(),
            _ => continue,
        };
        let value: Value = serde_json::from_str(&text).unwrap();
        match value["type"].as_str() {
            Some("next") => updates.push(value["payload"]["data"]["pushRunProgress"].clone()),
            Some("complete") => break,
            Some("error") => panic!("{value}"),
            _ => {}
        }
    }
    let last = updates.last().expect("progress messages");
    assert_eq!(last["finished"], true);
    assert_eq!(last["status"], "SUCCEEDED");
    assert_eq!(last["pending"], 0);
    assert!(updates.iter().all(|u| u["total"].as_i64() >= Some(0)));
    // Without a token the socket is refused.
    let mut anonymous = graphql_ws(&app).await;
    anonymous
        .send(Message::text(
            json!({ "type": "connection_init", "payload": {} }).to_string(),
        ))
        .await
        .unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(5), anonymous.next())
        .await
        .unwrap();
    assert!(
        !matches!(reply, Some(Ok(Message::Text(ref t))) if t.contains("connection_ack")),
        "{reply:?}"
    );

    // /metrics counts what happened.
    let metrics = reqwest::get(format!("{}/metrics", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("billbridge_push_runs_total{status=\"SUCCEEDED\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("billbridge_connectwise_calls_total{method=\"POST\",status=\"201\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("billbridge_push_lines_total{outcome=\"DONE\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_schedule_is_validated_and_shows_its_next_run() {
    let app = TestApp::start().await;
    let editor = app.editor();
    let schedule = app
        .ok(
            &editor,
            "{ pushSchedule { enabled timeOfDay timeZone cron nextRunAt } }",
            json!({}),
        )
        .await;
    assert_eq!(
        schedule["pushSchedule"],
        json!({ "enabled": false, "timeOfDay": "02:00", "timeZone": "UTC", "cron": null, "nextRunAt": null })
    );
    let update = "mutation($i: PushScheduleInput!) { updatePushSchedule(input: $i) { enabled timeOfDay timeZone cron nextRunAt } }";
    for (field, input) in [
        (
            "timeZone",
            json!({ "enabled": true, "timeZone": "Atlantis/Capital" }),
        ),
        ("timeOfDay", json!({ "enabled": true, "timeOfDay": "7pm" })),
        ("cron", json!({ "enabled": true, "cron": "every hour" })),
    ] {
        let error = app.err(&editor, update, json!({ "i": input })).await;
        assert_eq!(error["extensions"]["field"], field, "{error}");
    }
    let saved = app
        .ok(
            &editor,
            update,
            json!({ "i": { "enabled": true, "timeOfDay": "23:15", "timeZone": "Europe/Paris" } }),
        )
        .await;
    let next = saved["updatePushSchedule"]["nextRunAt"]
        .as_str()
        .unwrap()
        .to_owned();
    let next = chrono::DateTime::parse_from_rfc3339(&next).unwrap();
    let paris = next.with_timezone(&chrono_tz::Europe::Paris);
    assert_eq!(paris.format("%H:%M").to_string(), "23:15");
    assert!(next > chrono::Utc::now());
    let viewer = app.token("alpha", Role::Viewer);
    assert_eq!(
        app.code(&viewer, update, json!({ "i": { "enabled": false } }))
            .await,
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn services_and_accounts_show_their_last_push() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    const SERVICES: &str = "{ services { id name lastRun { id status } } }";
    let services = app.ok(&editor, SERVICES, json!({})).await["services"].clone();
    assert!(
        services
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["lastRun"].is_null()),
        "{services}"
    );
    let backup = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Intronis Backup")
        .unwrap()["id"]
        .clone();

    // A dry run does not count; a push of one service counts for that service only.
    let dry = app
        .ok(
            &editor,
            "mutation($s: ID) { pushUsage(serviceId: $s, dryRun: true) { id } }",
            json!({ "s": backup }),
        )
        .await;
    wait(&app, &editor, &dry["pushUsage"]["id"]).await;
    let first = push(&app, &editor, backup.as_str()).await;
    let services = app.ok(&editor, SERVICES, json!({})).await["services"].clone();
    for service in services.as_array().unwrap() {
        if service["id"] == backup {
            assert_eq!(service["lastRun"]["id"], first["id"], "{service}");
            assert_eq!(service["lastRun"]["status"], "SUCCEEDED");
        } else {
            assert!(service["lastRun"].is_null(), "{service}");
        }
    }
    // A push of all services counts for every one.
    let second = push(&app, &editor, None).await;
    let services = app.ok(&editor, SERVICES, json!({})).await["services"].clone();
    assert!(
        services
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["lastRun"]["id"] == second["id"]),
        "{services}"
    );

    // An account's page: what was last pushed for it.
    let found = app
        .ok(
            &editor,
            r#"{ accounts(search: "acme-dental") { nodes { id name } } }"#,
            json!({}),
        )
        .await;
    let id = found["accounts"]["nodes"][0]["id"].clone();
    let account = app
        .ok(
            &editor,
            "query($id: ID!) { account(id: $id) { name lastPushed { accounts outcome metric newQuantity } } }",
            json!({ "id": id }),
        )
        .await["account"]
        .clone();
    assert_eq!(account["name"], "acme-dental");
    let lines = account["lastPushed"].as_array().unwrap();
    assert!(!lines.is_empty(), "{account}");
    for line in lines {
        assert!(
            line["accounts"]
                .as_array()
                .unwrap()
                .contains(&json!("acme-dental")),
            "{line}"
        );
        // The second push found everything already right (or skipped it, saying why).
        assert!(
            ["UNCHANGED", "SKIPPED"].contains(&line["outcome"].as_str().unwrap()),
            "{line}"
        );
    }
    assert!(
        lines.iter().any(|l| l["outcome"] == "UNCHANGED"),
        "{account}"
    );
    assert_eq!(
        app.code(
            &editor,
            "query($id: ID!) { account(id: $id) { name } }",
            json!({ "id": "999999" })
        )
        .await,
        "NOT_FOUND"
    );
}

/// The demo's ConnectWise holds agreements and additions in every state: only billable ones
/// receive lines, the others are named in the skip reasons, a child agreement shows its
/// parent, and nothing is written beside an addition billbridge may not take over.
#[tokio::test]
async fn agreements_and_additions_as_they_are() {
    use sandbox::hard_cases::*;
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let preview = app
        .ok(
            &editor,
            "{ previewPush { lines(first: 1000) { nodes { accounts metric action reason detail agreementName parentAgreementName newQuantity effectiveDate } } } }",
            json!({}),
        )
        .await["previewPush"]["lines"]["nodes"]
        .clone();
    let lines = preview.as_array().unwrap();
    let of = |account: &str, metric: &str| -> Value {
        lines
            .iter()
            .find(|l| {
                l["accounts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a == account)
                    && l["metric"] == metric
            })
            .unwrap_or_else(|| panic!("no {metric} line for {account}"))
            .clone()
    };
    let skipped = |line: &Value, reason: &str, words: &str| {
        assert_eq!(line["action"], "SKIP", "{line}");
        assert_eq!(line["reason"], reason, "{line}");
        assert!(
            line["detail"].as_str().unwrap().contains(words),
            "{words}: {line}"
        );
        assert!(line["newQuantity"].is_null(), "{line}");
    };
    skipped(
        &of(EXPIRED_AGREEMENT, "BackupUsage"),
        "NO_AGREEMENT",
        "Managed Backup\" (",
    );
    skipped(
        &of(EXPIRED_AGREEMENT, "BackupUsage"),
        "NO_AGREEMENT",
        "is Expired",
    );
    skipped(
        &of(ENDED_AGREEMENT, "BackupUsage"),
        "NO_AGREEMENT",
        "ended 2026-06-30",
    );
    // Cancelled from next month: its successor starts then, never both billing at once.
    let successor = of(ENDING_ADDITION, "BackupUsage");
    assert_eq!(successor["action"], "CREATE", "{successor}");
    assert!(successor["effectiveDate"].is_string(), "{successor}");
    skipped(
        &of(DO_NOT_BILL_ADDITION, "LocalBackup"),
        "ADDITION_NOT_ADOPTABLE",
        "is DoNotBill",
    );
    // A cancelled agreement beside the current one is no ambiguity; a future end still bills.
    for account in [
        CANCELLED_AGREEMENT,
        FUTURE_ENDING_AGREEMENT,
        CANCELLED_ADDITION,
    ] {
        let line = of(account, "BackupUsage");
        assert!(
            matches!(line["action"].as_str(), Some("CREATE" | "UPDATE")),
            "{account}: {line}"
        );
    }
    let child = of(CHILD_AGREEMENT, "BackupUsage");
    assert_eq!(
        child["parentAgreementName"], "Nimbus Software — Master Services",
        "{child}"
    );

    let run = push(&app, &editor, None).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    let state = state(&app).await;
    // billbridge never attempted a write ConnectWise refuses.
    let refused: Vec<&Value> = state["writes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["status"].as_u64().unwrap() >= 300)
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
    // Nothing went to a closed agreement, and nothing beside the ending or DoNotBill lines.
    let closed: BTreeSet<i64> = state["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["agreementStatus"] != "Active"
                || a["cancelledFlag"] == true
                || a["endDate"] == "2026-06-30T00:00:00Z"
        })
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert!(closed.len() >= 3, "{closed:?}");
    for write in state["writes"].as_array().unwrap() {
        let agreement: i64 = write["path"]
            .as_str()
            .unwrap()
            .split('/')
            .nth(3)
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            !closed.contains(&agreement),
            "a write to closed agreement {agreement}: {write}"
        );
    }
    let ending = backup_agreement(&state, ENDING_ADDITION);
    let do_not_bill = backup_agreement(&state, DO_NOT_BILL_ADDITION);
    let on = |agreement: i64, product: &str| {
        state["additions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["agreementId"] == agreement && a["product"]["identifier"] == product)
            .count()
    };
    // Beside the ending one, exactly one successor, starting when it stops billing.
    let storage: Vec<&Value> = state["additions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["agreementId"] == ending && a["product"]["identifier"] == "IB-STORAGE-L1")
        .collect();
    assert_eq!(storage.len(), 2, "{storage:?}");
    let stops = storage
        .iter()
        .find_map(|a| a["cancelledDate"].as_str())
        .unwrap();
    let starts = storage
        .iter()
        .find(|a| a["cancelledDate"].is_null())
        .unwrap()["effectiveDate"]
        .as_str()
        .unwrap();
    let instant = |d: &str| chrono::DateTime::parse_from_rfc3339(d).unwrap();
    assert_eq!(
        instant(starts),
        instant(stops),
        "the successor starts at the cancellation"
    );
    assert_eq!(
        on(do_not_bill, "IB-LOCAL-L1"),
        1,
        "no billed line beside the DoNotBill one"
    );
}

/// A stored state that is none of its enum's (only a corrupted row holds one) is an
/// `INTERNAL` error naming the enum and the text, never read as some default.
#[tokio::test]
async fn an_unknown_stored_state_is_an_error_not_a_default() {
    use billbridge::db::entity::push_run;
    use billbridge::db::push::Trigger;
    use billbridge::db::{self, Scope};
    use billbridge::domain::RunTrigger;
    use sea_orm::{ConnectionTrait, EntityTrait, Statement};

    let app = TestApp::start().await;
    let tenant = db::tenants::by_slug(&app.db, "alpha")
        .await
        .unwrap()
        .unwrap();
    let scope = Scope::new(app.db.clone(), &tenant);
    let now = chrono::Utc::now();
    let trigger = Trigger {
        kind: RunTrigger::User,
        by: "tests".into(),
        slot_at: None,
    };
    let run = db::push::start(
        &scope,
        db::push::NewRun {
            service_id: None,
            dry_run: false,
            trigger: &trigger,
            owner: "tests",
            now,
            lease_until: now,
        },
    )
    .await
    .unwrap();
    app.db
        .execute_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!(
                "UPDATE push_runs SET status = 'FINISHED' WHERE id = {}",
                run.id
            ),
        ))
        .await
        .unwrap();

    let read = push_run::Entity::find_by_id(run.id).one(&app.db).await;
    let error = read.expect_err("an unknown status is not read").to_string();
    assert!(
        error.contains("RunStatus") && error.contains("FINISHED"),
        "{error}"
    );
    let viewer = app.token("alpha", Role::Viewer);
    let answer = app
        .post(
            &viewer,
            "query($id: ID!) { pushRun(id: $id) { status } }",
            json!({ "id": run.id.to_string() }),
        )
        .await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "INTERNAL",
        "{answer}"
    );
    assert!(!answer.to_string().contains("FINISHED"), "{answer}");
}
