//! Scheduled pushes across replicas sharing one database: each slot runs once, and a run
//! whose replica died is finished by another without writing anything twice. Time is a
//! manual clock; nothing waits for luck.

use billbridge::clock::{Clock, ManualClock};
use billbridge::db::push::Trigger;
use billbridge::db::{self, Scope};
use billbridge::domain::RunTrigger;
use billbridge::push::Pusher;
use billbridge::push::scheduler::Scheduler;
use chrono::{Duration as Minutes, Timelike, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::common::{TestApp, demo};

fn replica(app: &TestApp, name: &str, clock: &ManualClock) -> Pusher {
    let mut pusher = app.pusher.clone();
    pusher.owner = name.into();
    pusher.clock = Arc::new(clock.clone());
    pusher
}

async fn demo_scope(app: &TestApp) -> Scope {
    let tenant = db::tenants::by_slug(&app.db, "demo")
        .await
        .unwrap()
        .unwrap();
    Scope::new(app.db.clone(), &tenant)
}

#[tokio::test]
async fn every_slot_runs_once_across_two_replicas() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    app.ok(
        &editor,
        r#"mutation { updatePushSchedule(input: {enabled: true, cron: "* * * * *"}) { nextRunAt } }"#,
        json!({}),
    )
    .await;
    // Start on a minute boundary after the schedule was saved.
    let start = Utc::now()
        .with_second(0)
        .unwrap()
        .with_nanosecond(0)
        .unwrap()
        + Minutes::minutes(1);
    let clock = ManualClock::new(start);
    let replicas = [
        Scheduler {
            pusher: replica(&app, "replica-a", &clock),
            tick: Duration::from_secs(1),
        },
        Scheduler {
            pusher: replica(&app, "replica-b", &clock),
            tick: Duration::from_secs(1),
        },
    ];
    let minutes = 5;
    for _ in 0..minutes {
        // Both replicas tick at the same moment, twice, as they would within a minute.
        for _ in 0..2 {
            let (a, b) = tokio::join!(replicas[0].tick_once(), replicas[1].tick_once());
            for handle in a.into_iter().chain(b) {
                handle.await.unwrap();
            }
        }
        clock.advance(Minutes::minutes(1));
    }
    let scope = demo_scope(&app).await;
    let slots = db::schedules::slots(&scope).await.unwrap();
    assert_eq!(slots.len(), minutes, "{slots:?}");
    let mut times: Vec<_> = slots.iter().map(|s| s.slot_at).collect();
    times.dedup();
    assert_eq!(times.len(), minutes, "each slot once");
    assert!(
        slots.iter().all(|s| s.run_id.is_some()),
        "every slot started its run"
    );
    let runs = app
        .ok(
            &editor,
            "{ pushRuns(first: 50) { totalCount edges { node { status trigger slotAt } } } }",
            json!({}),
        )
        .await;
    assert_eq!(runs["pushRuns"]["totalCount"], minutes);
    for edge in runs["pushRuns"]["edges"].as_array().unwrap() {
        assert_eq!(edge["node"]["trigger"], "SCHEDULE");
        assert_eq!(edge["node"]["status"], "SUCCEEDED", "{edge}");
    }
    let owners: std::collections::HashSet<&str> =
        slots.iter().map(|s| s.claimed_by.as_str()).collect();
    assert!(
        owners.iter().all(|o| o.starts_with("replica-")),
        "{owners:?}"
    );
}

#[tokio::test]
async fn a_dead_replicas_run_is_finished_by_another_without_duplicate_writes() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let scope = demo_scope(&app).await;
    let clock = ManualClock::new(Utc::now());
    let mut dying = replica(&app, "replica-a", &clock);
    dying.options.concurrency = 1;
    app.sandbox.set_latency(Duration::from_millis(15));

    let trigger = Trigger {
        kind: RunTrigger::User,
        by: "test".into(),
        slot_at: None,
    };
    let run = dying.begin(&scope, None, false, &trigger).await.unwrap();
    let run_id = run.id;
    let (worker, worker_scope) = (dying.clone(), scope.clone());
    let handle = tokio::spawn(async move {
        worker.execute(&worker_scope, run, false).await;
    });
    // Let it write some lines, then kill it mid-run.
    let mut done = 0;
    for _ in 0..1000 {
        done = db::push::get(&scope, run_id).await.unwrap().done;
        if done >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(done >= 10, "the run never got going");
    handle.abort();
    let _ = handle.await;
    let stalled = db::push::get(&scope, run_id).await.unwrap();
    assert_eq!(stalled.status, "RUNNING");
    assert!(
        stalled.done < stalled.total_lines - stalled.skipped - stalled.unchanged,
        "killed mid-run"
    );

    // The other replica does nothing while the lease holds, then takes over.
    let survivor = Scheduler {
        pusher: replica(&app, "replica-b", &clock),
        tick: Duration::from_secs(1),
    };
    assert!(
        survivor.tick_once().await.is_empty(),
        "the lease still holds"
    );
    clock.advance(Minutes::minutes(2));
    let handles = survivor.tick_once().await;
    assert_eq!(handles.len(), 1);
    for handle in handles {
        handle.await.unwrap();
    }
    let run = app
        .ok(&editor, "query($id: ID!) { pushRun(id: $id) { status counts { total done unchanged skipped failed pending } } }", json!({ "id": run_id.to_string() }))
        .await["pushRun"]
        .clone();
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["counts"]["pending"], 0);

    // Nothing was written twice: one addition per (agreement, product), and exactly one
    // write call per line that needed writing.
    let state: Value = reqwest::get(format!("{}/_sandbox/state", app.site))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut seen: HashMap<(i64, i64), u32> = HashMap::new();
    let now = chrono::Utc::now();
    for a in state["additions"].as_array().unwrap() {
        // The demo holds an addition cancelled last quarter (no longer billing) and one
        // cancelled from next month, whose successor starts then.
        if !crate::common::bills_now(a, now) {
            continue;
        }
        *seen
            .entry((
                a["agreementId"].as_i64().unwrap(),
                a["product"]["id"].as_i64().unwrap(),
            ))
            .or_default() += 1;
    }
    assert!(seen.values().all(|n| *n == 1), "a duplicate addition");
    let calls = app.sandbox.calls();
    let writes: u64 = calls
        .iter()
        .filter(|(k, _)| !k.starts_with("GET "))
        .map(|(_, n)| n)
        .sum();
    let planned = app
        .ok(
            &editor,
            "query($id: ID!) { pushRun(id: $id) { u: lines(action: UPDATE) { totalCount } c: lines(action: CREATE) { totalCount } } }",
            json!({ "id": run_id.to_string() }),
        )
        .await;
    let to_write = planned["pushRun"]["u"]["totalCount"].as_u64().unwrap()
        + planned["pushRun"]["c"]["totalCount"].as_u64().unwrap();
    assert_eq!(
        writes, to_write,
        "each line that needed writing was written exactly once"
    );
    // …and counts as written, whichever replica made the write: a write in flight when the
    // first one died is adopted by the second, not counted as unchanged.
    assert_eq!(run["counts"]["done"], to_write, "{run}");
}

/// What a run wrote is billbridge's from the moment its outcome is recorded, not from the
/// end of the run: a replica that dies mid-run leaves every write it recorded owned, with
/// the quantity it wrote (so a later plan never mistakes billbridge's own line for a
/// person's), and the replica that finishes the run owns the rest.
#[tokio::test]
async fn what_a_run_wrote_is_owned_as_it_is_recorded() {
    let app = TestApp::start().await;
    demo(&app).await;
    let scope = demo_scope(&app).await;
    let clock = ManualClock::new(Utc::now());
    let mut dying = replica(&app, "replica-a", &clock);
    dying.options.concurrency = 1;
    dying.options.flush_lines = 1;
    app.sandbox.set_latency(Duration::from_millis(15));
    let owned_before = db::ownership::all(&scope).await.unwrap();
    assert!(owned_before.is_empty(), "{owned_before:?}");

    let trigger = Trigger {
        kind: RunTrigger::User,
        by: "test".into(),
        slot_at: None,
    };
    let run = dying.begin(&scope, None, false, &trigger).await.unwrap();
    let run_id = run.id;
    let (worker, worker_scope) = (dying.clone(), scope.clone());
    let handle = tokio::spawn(async move {
        worker.execute(&worker_scope, run, false).await;
    });
    let mut done = 0;
    for _ in 0..1000 {
        done = db::push::get(&scope, run_id).await.unwrap().done;
        if done >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(done >= 3, "the run never got going");
    handle.abort();
    let _ = handle.await;
    let stalled = db::push::get(&scope, run_id).await.unwrap();
    assert_eq!(stalled.status, "RUNNING", "killed before its end");

    // Every write recorded is owned, as written; nothing else is.
    let owned = |owned: Vec<billbridge::domain::push::Owned>| -> HashMap<i64, f64> {
        owned
            .into_iter()
            .map(|o| (o.addition_id, o.last_quantity))
            .collect()
    };
    let lines = db::push::all_lines(&scope, run_id).await.unwrap();
    let adopted_or_written = |lines: &[billbridge::db::entity::push_line::Model]| {
        lines
            .iter()
            .filter(|l| l.outcome == "DONE" || l.outcome == "UNCHANGED")
            .map(|l| {
                let id = l.addition_id.expect("a written line names its addition");
                (id, l.new_quantity.unwrap())
            })
            .collect::<HashMap<i64, f64>>()
    };
    let written = adopted_or_written(&lines);
    assert!(lines.iter().filter(|l| l.outcome == "DONE").count() >= 3);
    assert_eq!(
        owned(db::ownership::all(&scope).await.unwrap()),
        written,
        "owned exactly as recorded when the replica died"
    );

    // The replica that takes the run over finishes it, and owns what it wrote too.
    let survivor = Scheduler {
        pusher: replica(&app, "replica-b", &clock),
        tick: Duration::from_secs(1),
    };
    clock.advance(Minutes::minutes(2));
    for handle in survivor.tick_once().await {
        handle.await.unwrap();
    }
    let finished = db::push::get(&scope, run_id).await.unwrap();
    assert_eq!(finished.status, "SUCCEEDED", "{finished:?}");
    let lines = db::push::all_lines(&scope, run_id).await.unwrap();
    assert!(lines.iter().all(|l| l.outcome != "PENDING"));
    let written = adopted_or_written(&lines);
    assert!(written.len() > done as usize);
    assert_eq!(owned(db::ownership::all(&scope).await.unwrap()), written);
}

/// Puts a finished run back as a crash between its writes and the recording of their
/// outcomes leaves it: every write made in ConnectWise, none recorded (lines `PENDING`, a
/// created addition's id unknown), the run `RUNNING` under a lease its dead owner no longer
/// renews. (The owned additions, recorded after the writes, are recorded again by the
/// resumed run whatever they were, so they are left as they are.)
async fn crash_after_the_writes(
    scope: &Scope,
    run_id: i64,
    owner: &str,
    at: chrono::DateTime<Utc>,
) {
    use billbridge::db::entity::{push_line, push_run};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};
    // Which additions the dead owner created, it never got to record.
    scope
        .update::<push_line::Entity>()
        .col_expr(
            push_line::Column::AdditionId,
            Expr::value(Option::<i64>::None),
        )
        .filter(push_line::Column::RunId.eq(run_id))
        .filter(push_line::Column::Outcome.eq("DONE"))
        .filter(push_line::Column::Action.eq("CREATE"))
        .exec(scope.db())
        .await
        .unwrap();
    scope
        .update::<push_line::Entity>()
        .col_expr(push_line::Column::Outcome, Expr::value("PENDING"))
        .col_expr(
            push_line::Column::Error,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            push_line::Column::FinishedAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(push_line::Column::RunId.eq(run_id))
        .filter(push_line::Column::Outcome.eq("DONE"))
        .exec(scope.db())
        .await
        .unwrap();
    scope
        .update::<push_run::Entity>()
        .col_expr(push_run::Column::Status, Expr::value("RUNNING"))
        .col_expr(
            push_run::Column::Message,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            push_run::Column::FinishedAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .col_expr(push_run::Column::Done, Expr::value(0))
        .col_expr(push_run::Column::Retired, Expr::value(0))
        .col_expr(push_run::Column::LeaseOwner, Expr::value(owner))
        .col_expr(push_run::Column::LeaseExpiresAt, Expr::value(at))
        .filter(push_run::Column::Id.eq(run_id))
        .exec(scope.db())
        .await
        .unwrap();
}

const COUNTS: &str = "query($id: ID!) { pushRun(id: $id) { status message counts { total done retired unchanged skipped failed pending } } }";

/// Calls that wrote to the sandbox so far.
fn write_calls(app: &TestApp) -> u64 {
    app.sandbox
        .calls()
        .iter()
        .filter(|(k, _)| !k.starts_with("GET "))
        .map(|(_, n)| n)
        .sum()
}

/// `billbridge_push_lines_total{outcome}` as `/metrics` shows it.
fn lines_metric(pusher: &Pusher, outcome: &str) -> u64 {
    let prefix = format!("billbridge_push_lines_total{{outcome=\"{outcome}\"}} ");
    pusher
        .metrics
        .render()
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(|n| n.parse().unwrap()))
        .unwrap_or(0)
}

/// A write the dead replica made but never recorded is found in ConnectWise by the replica
/// that takes the run over, adopted, not made again — and counted as written, with its own
/// outcome (created, updated or retired), in the run's counts, `/metrics` and the webhook
/// event, exactly as if the run had never stopped. Both retire modes: zeroing and cancelling.
#[tokio::test]
async fn writes_made_before_a_crash_count_as_written() {
    for retire_mode in ["ZERO", "CANCEL"] {
        let app = TestApp::start().await;
        let editor = demo(&app).await;
        let admin = app.token("demo", billbridge::auth::Role::Admin);
        let scope = demo_scope(&app).await;
        let clock = ManualClock::new(Utc::now());
        let dying = replica(&app, "replica-a", &clock);
        let survivor = Scheduler {
            pusher: replica(&app, "replica-b", &clock),
            tick: Duration::from_secs(1),
        };
        app.ok(
            &editor,
            "mutation($m: RetireMode!) { updatePushSettings(input: {retireMode: $m, onManualEdit: OVERWRITE}) { retireMode } }",
            json!({ "m": retire_mode }),
        )
        .await;
        let trigger = Trigger {
            kind: RunTrigger::User,
            by: "test".into(),
            slot_at: None,
        };
        // The first push creates and updates; the second, after IB-500 moves from Gold to
        // level 1, retires the Gold additions and writes level 1's.
        for push in ["first", "second"] {
            if push == "second" {
                let mapping = crate::ownership::ib500_mapping(&app, &editor).await;
                app.ok(
                    &editor,
                    r#"mutation($id: ID!) { updateBillingMapping(id: $id, input: {level: "1"}) { mapping { id } } }"#,
                    json!({ "id": mapping }),
                )
                .await;
            }
            let run = dying.begin(&scope, None, false, &trigger).await.unwrap();
            let run_id = run.id;
            let whole = dying.execute(&scope, run, false).await.unwrap();
            assert_eq!(whole.status, "SUCCEEDED", "{push}: {whole:?}");
            let ran = app
                .ok(&editor, COUNTS, json!({ "id": run_id.to_string() }))
                .await["pushRun"]
                .clone();
            let (done, retired) = (whole.done, whole.retired);
            assert!(done > 0, "{push}: {ran}");
            assert_eq!(retired > 0, push == "second", "{push}: {ran}");

            crash_after_the_writes(&scope, run_id, "replica-a", clock.now()).await;
            let webhook = app
                .ok(
                    &admin,
                    r#"mutation { createWebhook(input: {url: "http://127.0.0.1:9/hooks"}) { webhook { id } } }"#,
                    json!({}),
                )
                .await["createWebhook"]["webhook"]["id"]
                .clone();
            let writes_before = write_calls(&app);
            let metric_before = (
                lines_metric(&survivor.pusher, "DONE"),
                lines_metric(&survivor.pusher, "UNCHANGED"),
            );
            clock.advance(Minutes::minutes(2));
            let handles = survivor.tick_once().await;
            assert_eq!(handles.len(), 1, "{push}: taken over");
            for handle in handles {
                handle.await.unwrap();
            }

            let resumed = app
                .ok(&editor, COUNTS, json!({ "id": run_id.to_string() }))
                .await["pushRun"]
                .clone();
            assert_eq!(resumed, ran, "{push}: counted as if it had never stopped");
            assert_eq!(
                write_calls(&app),
                writes_before,
                "{push}: nothing written twice"
            );
            assert_eq!(
                (
                    lines_metric(&survivor.pusher, "DONE"),
                    lines_metric(&survivor.pusher, "UNCHANGED")
                ),
                (metric_before.0 + done as u64, metric_before.1),
                "{push}: /metrics counts the adopted writes as done"
            );
            let body = loop {
                let data = app
                    .ok(
                        &admin,
                        "query($id: ID!) { webhookDeliveries(webhookId: $id) { nodes { body } } }",
                        json!({ "id": webhook }),
                    )
                    .await;
                if let Some(node) = data["webhookDeliveries"]["nodes"].get(0) {
                    break node["body"].as_str().unwrap().to_owned();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            let event: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(event["status"], "SUCCEEDED", "{push}: {event}");
            assert_eq!(event["counts"]["done"], done, "{push}: {event}");
            assert_eq!(event["counts"]["retired"], retired, "{push}: {event}");
            assert_eq!(
                event["counts"]["unchanged"], ran["counts"]["unchanged"],
                "{push}: {event}"
            );
            app.ok(
                &admin,
                "mutation($id: ID!) { deleteWebhook(id: $id) }",
                json!({ "id": webhook }),
            )
            .await;
        }
    }
}
