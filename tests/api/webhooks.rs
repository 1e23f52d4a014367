//! Webhooks over real HTTP: a receiver on 127.0.0.1:0 gets one signed event per finished
//! run and webhook; failures are retried on the backoff schedule (driven by a manual clock,
//! not by sleeping); the secret is shown once; only admins, and only their tenant's.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use billbridge::auth::Role;
use billbridge::clock::{Clock, ManualClock, SystemClock};
use billbridge::db::push::Trigger;
use billbridge::db::{self, Scope};
use billbridge::domain::{RunStatus, RunTrigger};
use billbridge::sandbox;
use billbridge::webhooks::{self, Retry, Settings, Worker};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;
use tokio::sync::mpsc;

use crate::common::{TestApp, id};

/// How long a test waits for something the server does in the background.
const PATIENCE: StdDuration = StdDuration::from_secs(30);
const POLL: StdDuration = StdDuration::from_millis(25);

const CREATE: &str = r#"mutation($url: String!, $d: String) { createWebhook(input: {url: $url, description: $d}) { secret webhook { id url description createdBy createdAt } } }"#;
const DELIVERIES: &str = r#"query($id: ID!) { webhookDeliveries(webhookId: $id) { totalCount edges { node {
    id runId status attemptCount nextAttemptAt createdAt body
    attempts { attempt attemptedAt responseStatus error durationMs } } } } }"#;

struct Received {
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone)]
struct Receiver {
    /// Statuses to answer, in order; 200 once they run out.
    answers: Arc<Mutex<VecDeque<u16>>>,
    got: mpsc::UnboundedSender<Received>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let status = r.answers.lock().unwrap().pop_front().unwrap_or(200);
    r.got.send(Received { headers, body }).unwrap();
    StatusCode::from_u16(status).unwrap()
}

/// A receiver answering `answers` then 200s; its URL and what it receives.
async fn receiver(answers: &[u16]) -> (String, mpsc::UnboundedReceiver<Received>) {
    let (got, received) = mpsc::unbounded_channel();
    let state = Receiver {
        answers: Arc::new(Mutex::new(answers.iter().copied().collect())),
        got,
    };
    let router = Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, received)
}

/// Creates a webhook; its id and secret.
async fn create(app: &TestApp, token: &str, url: &str) -> (String, String) {
    let data = app
        .ok(token, CREATE, json!({ "url": url, "d": "billing team" }))
        .await;
    (
        id(&data["createWebhook"]["webhook"]["id"]),
        data["createWebhook"]["secret"].as_str().unwrap().to_owned(),
    )
}

/// The demo tenant, connected to the sandbox and synced: ready to push. Its admin token.
async fn demo(app: &TestApp) -> String {
    billbridge::demo::seed(&app.db).await.unwrap();
    app.connect_psa("demo", sandbox::DEMO_PUBLIC_KEY, sandbox::DEMO_PRIVATE_KEY)
        .await;
    let admin = app.token("demo", Role::Admin);
    app.ok(
        &admin,
        "mutation { syncLevels { created } syncCompanies { linked } }",
        json!({}),
    )
    .await;
    admin
}

/// Pushes and waits for the run to end; the run.
async fn finished_push(app: &TestApp, token: &str, dry_run: bool) -> Value {
    let started = app
        .ok(
            token,
            "mutation($d: Boolean!) { pushUsage(dryRun: $d) { id } }",
            json!({ "d": dry_run }),
        )
        .await;
    let run = id(&started["pushUsage"]["id"]);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let data = app
            .ok(
                token,
                "query($id: ID!) { pushRun(id: $id) { id status dryRun trigger message startedAt finishedAt counts { total done retired unchanged skipped failed } } }",
                json!({ "id": run }),
            )
            .await;
        if data["pushRun"]["status"] != "RUNNING" {
            return data["pushRun"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run never ended"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// The webhook's deliveries once there are `n` of them (enqueueing runs in its own task).
async fn deliveries(app: &TestApp, token: &str, webhook: &str, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let data = app.ok(token, DELIVERIES, json!({ "id": webhook })).await;
        let edges = data["webhookDeliveries"]["edges"].as_array().unwrap();
        if edges.len() >= n {
            assert_eq!(edges.len(), n, "{data:#}");
            return edges.iter().map(|e| e["node"].clone()).collect();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {n} deliveries: {data:#}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// The only delivery of a webhook.
async fn delivery(app: &TestApp, token: &str, webhook: &str) -> Value {
    deliveries(app, token, webhook, 1).await.remove(0)
}

fn worker(app: &TestApp, clock: Arc<dyn Clock>, settings: Settings) -> Worker {
    Worker::new(
        app.db.clone(),
        app.pusher.psa.master_key.clone(),
        clock,
        settings,
    )
    .unwrap()
}

fn header<'a>(received: &'a Received, name: &str) -> &'a str {
    received
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// Verifies the signature as a receiver would, with the hmac crate, not with billbridge's code.
fn verifies(secret: &str, body: &[u8], signature: &str) -> bool {
    let Some(hex_mac) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_mac) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .to_utc()
}

#[tokio::test]
async fn a_finished_run_is_delivered_once_signed_with_the_secret() {
    let app = TestApp::start().await;
    let admin = demo(&app).await;
    let (url, mut received) = receiver(&[]).await;
    let (webhook, secret) = create(&app, &admin, &url).await;
    // Another tenant's webhook hears nothing of demo's runs.
    let alpha = app.token("alpha", Role::Admin);
    let (other_url, mut other_received) = receiver(&[]).await;
    let (other, _) = create(&app, &alpha, &other_url).await;

    let run = finished_push(&app, &admin, false).await;
    assert!(
        ["SUCCEEDED", "PARTIAL"].contains(&run["status"].as_str().unwrap()),
        "{run:#}"
    );
    let queued = delivery(&app, &admin, &webhook).await;
    assert_eq!(queued["status"], "PENDING");
    assert_eq!(queued["runId"], run["id"]);

    // The server's worker, ticking fast with the real clock.
    let settings = Settings {
        tick: StdDuration::from_millis(20),
        ..Settings::default()
    };
    let running = tokio::spawn(worker(&app, Arc::new(SystemClock), settings).run());
    let got = tokio::time::timeout(PATIENCE, received.recv())
        .await
        .expect("an event within the patience")
        .unwrap();
    assert_eq!(header(&got, "content-type"), "application/json");
    assert_eq!(header(&got, "x-billbridge-event"), "push_run.finished");
    assert_eq!(header(&got, "x-billbridge-delivery"), queued["id"]);
    let signature = header(&got, "x-billbridge-signature");
    assert!(verifies(&secret, &got.body, signature), "{signature}");
    assert!(!verifies("another-secret", &got.body, signature));
    let mut tampered = got.body.to_vec();
    tampered.push(b' ');
    assert!(!verifies(&secret, &tampered, signature));
    assert_eq!(std::str::from_utf8(&got.body).unwrap(), queued["body"]);

    let event: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(event["event"], "push_run.finished");
    assert_eq!(event["runId"], run["id"]);
    assert_eq!(event["tenant"], "demo");
    assert_eq!(event["status"], run["status"]);
    assert_eq!(event["dryRun"], false);
    assert_eq!(event["trigger"], "USER");
    assert_eq!(event["counts"], run["counts"]);
    assert_eq!(event["startedAt"], run["startedAt"]);
    assert_eq!(event["finishedAt"], run["finishedAt"]);
    assert_eq!(
        event["link"],
        format!("{}/history/{}", app.base, id(&run["id"]))
    );

    // Recorded as delivered at the first attempt.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let done = loop {
        let d = delivery(&app, &admin, &webhook).await;
        if d["status"] != "PENDING" {
            break d;
        }
        assert!(tokio::time::Instant::now() < deadline, "never recorded");
        tokio::time::sleep(POLL).await;
    };
    running.abort();
    assert_eq!(done["status"], "DELIVERED");
    assert_eq!(done["attemptCount"], 1);
    assert_eq!(done["nextAttemptAt"], Value::Null);
    let attempts = done["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["responseStatus"], 200);
    assert_eq!(attempts[0]["error"], Value::Null);

    // Nothing is left to send, even days later; the event came exactly once.
    let later = ManualClock::new(Utc::now() + Duration::days(3));
    assert_eq!(
        worker(&app, Arc::new(later), Settings::default())
            .tick_once()
            .await,
        0
    );
    assert!(received.try_recv().is_err(), "a second event was sent");
    assert!(other_received.try_recv().is_err());
    let theirs = app.ok(&alpha, DELIVERIES, json!({ "id": other })).await;
    assert_eq!(theirs["webhookDeliveries"]["totalCount"], 0);
}

#[tokio::test]
async fn failed_attempts_are_retried_on_the_backoff_until_delivered() {
    let app = TestApp::start().await;
    let admin = demo(&app).await;
    let (url, mut received) = receiver(&[500, 500]).await;
    let (webhook, secret) = create(&app, &admin, &url).await;
    let run = finished_push(&app, &admin, true).await;
    let queued = delivery(&app, &admin, &webhook).await;

    // Time stands still unless the test moves it.
    let clock = ManualClock::new(Utc::now());
    let worker = worker(&app, Arc::new(clock.clone()), Settings::default());

    let mut bodies = Vec::new();
    let mut waits = Vec::new();
    for (attempt, answer) in [(1, 500), (2, 500), (3, 200)] {
        assert_eq!(worker.tick_once().await, 1, "attempt {attempt}");
        let got = received
            .try_recv()
            .expect("the attempt reached the receiver");
        assert_eq!(header(&got, "x-billbridge-delivery"), queued["id"]);
        assert!(verifies(
            &secret,
            &got.body,
            header(&got, "x-billbridge-signature")
        ));
        bodies.push(got.body);
        let now = delivery(&app, &admin, &webhook).await;
        assert_eq!(now["attemptCount"], attempt);
        let last = now["attempts"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["attempt"], attempt);
        assert_eq!(last["responseStatus"], answer);
        if answer == 200 {
            assert_eq!(now["status"], "DELIVERED");
            assert_eq!(now["nextAttemptAt"], Value::Null);
            break;
        }
        assert_eq!(now["status"], "PENDING");
        let next = time(&now["nextAttemptAt"]);
        waits.push((next - time(&last["attemptedAt"])).num_milliseconds());
        // Not due before its time, even a second before.
        clock.set(next - Duration::seconds(1));
        assert_eq!(worker.tick_once().await, 0, "retried early");
        assert!(received.try_recv().is_err());
        clock.set(next);
    }
    // 30 s then 2 min, each with up to a tenth of jitter.
    assert_eq!(waits.len(), 2);
    assert!((30_000..33_000).contains(&waits[0]), "{waits:?}");
    assert!((120_000..132_000).contains(&waits[1]), "{waits:?}");
    // Every attempt sent the same bytes.
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    let event: Value = serde_json::from_slice(&bodies[0]).unwrap();
    assert_eq!(event["runId"], run["id"]);
    assert_eq!(event["dryRun"], true);

    let done = delivery(&app, &admin, &webhook).await;
    let statuses: Vec<&Value> = done["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["responseStatus"])
        .collect();
    assert_eq!(statuses, [&json!(500), &json!(500), &json!(200)]);
    clock.advance(Duration::days(3));
    assert_eq!(worker.tick_once().await, 0);
    assert!(received.try_recv().is_err());
}

/// A run finished in `tenant` without ConnectWise (the run log only), as the pusher would
/// hand it to the hook.
async fn recorded_run(
    app: &TestApp,
    tenant: &str,
) -> (Scope, billbridge::db::entity::push_run::Model) {
    let row = db::tenants::by_slug(&app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    let scope = Scope::new(app.db.clone(), &row);
    let now = Utc::now();
    let trigger = Trigger {
        kind: RunTrigger::Cli,
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
    let run = db::push::finish(
        &scope,
        run.id,
        RunStatus::Failed,
        Some("for the test".into()),
        now,
    )
    .await
    .unwrap();
    (scope, run)
}

#[tokio::test]
async fn a_delivery_is_enqueued_once_and_given_up_after_its_last_attempt() {
    let app = TestApp::start().await;
    let admin = app.token("alpha", Role::Admin);
    // Nothing listens there: every attempt fails to connect.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let (webhook, _) = create(&app, &admin, &url).await;
    let (scope, run) = recorded_run(&app, "alpha").await;
    assert_eq!(
        webhooks::enqueue(&scope, &run, &app.base, Utc::now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        webhooks::enqueue(&scope, &run, &app.base, Utc::now())
            .await
            .unwrap(),
        0,
        "a run is enqueued once per webhook"
    );

    let clock = ManualClock::new(Utc::now() + Duration::seconds(1));
    let settings = Settings {
        retry: Retry {
            attempts: 2,
            ..Retry::default()
        },
        ..Settings::default()
    };
    // Two replicas ticking at once send the attempt once.
    let one = worker(&app, Arc::new(clock.clone()), settings.clone());
    let two = worker(&app, Arc::new(clock.clone()), settings);
    let (a, b) = tokio::join!(one.tick_once(), two.tick_once());
    assert_eq!(a + b, 1);
    let now = delivery(&app, &admin, &webhook).await;
    assert_eq!(now["status"], "PENDING");
    assert_eq!(now["attemptCount"], 1);
    let attempt = &now["attempts"][0];
    assert_eq!(attempt["responseStatus"], Value::Null);
    assert!(
        attempt["error"]
            .as_str()
            .unwrap()
            .starts_with("could not connect"),
        "{attempt}"
    );
    assert!(!attempt["error"].as_str().unwrap().contains(&url));

    clock.set(time(&now["nextAttemptAt"]));
    assert_eq!(one.tick_once().await + two.tick_once().await, 1);
    let given_up = delivery(&app, &admin, &webhook).await;
    assert_eq!(given_up["status"], "FAILED");
    assert_eq!(given_up["attemptCount"], 2);
    assert_eq!(given_up["nextAttemptAt"], Value::Null);
    clock.advance(Duration::days(3));
    assert_eq!(one.tick_once().await, 0);

    // Deleting the webhook takes its deliveries and attempts with it.
    app.ok(
        &admin,
        "mutation($id: ID!) { deleteWebhook(id: $id) }",
        json!({ "id": webhook }),
    )
    .await;
    assert_eq!(app.count("webhook_deliveries").await, 0);
    assert_eq!(app.count("webhook_attempts").await, 0);
}

#[tokio::test]
async fn the_secret_is_shown_once_and_webhooks_are_admins_own() {
    let app = TestApp::start().await;
    let admin = app.token("alpha", Role::Admin);
    let created = app
        .ok(
            &admin,
            CREATE,
            json!({ "url": " https://example.com/hooks/billbridge ", "d": " billing team " }),
        )
        .await["createWebhook"]
        .clone();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
    let webhook = id(&created["webhook"]["id"]);
    assert_eq!(
        created["webhook"]["url"],
        "https://example.com/hooks/billbridge"
    );
    assert_eq!(created["webhook"]["description"], "billing team");
    assert_eq!(created["webhook"]["createdBy"], "alpha-admin");
    let second = app
        .ok(&admin, CREATE, json!({ "url": "http://127.0.0.1:9/x" }))
        .await;
    assert_ne!(second["createWebhook"]["secret"], secret.as_str());

    // Never again: not in the listing, not in the database.
    let listed = app
        .post(
            &admin,
            "{ webhooks { id url description createdBy createdAt } }",
            json!({}),
        )
        .await;
    assert!(!listed.to_string().contains(&secret), "{listed}");
    assert_eq!(listed["data"]["webhooks"][0]["id"], webhook.as_str());
    assert_eq!(listed["data"]["webhooks"].as_array().unwrap().len(), 2);
    let sdl = billbridge::graphql::sdl();
    let webhook_type = sdl.split("type Webhook {").nth(1).unwrap();
    let webhook_type = webhook_type.split('}').next().unwrap();
    assert!(!webhook_type.contains("secret"), "{webhook_type}");
    use sea_orm::EntityTrait;
    let rows = db::entity::webhook::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(rows.iter().all(|r| !r.secret_sealed.contains(&secret)));

    // URLs are checked.
    for bad in ["example.com/hook", "ftp://example.com/hook", "https://", ""] {
        let error = app.err(&admin, CREATE, json!({ "url": bad })).await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{bad}");
        assert_eq!(error["extensions"]["field"], "url", "{bad}");
    }

    // Admins only.
    let operations = [
        (CREATE, json!({ "url": "https://example.com/x" })),
        ("{ webhooks { id } }", json!({})),
        (DELIVERIES, json!({ "id": webhook })),
        (
            "mutation($id: ID!) { deleteWebhook(id: $id) }",
            json!({ "id": webhook }),
        ),
    ];
    for role in [Role::Viewer, Role::Editor] {
        let token = app.token("alpha", role);
        for (query, variables) in &operations {
            assert_eq!(
                app.code(&token, query, variables.clone()).await,
                "FORBIDDEN",
                "{role} {query}"
            );
        }
    }

    // Another tenant's admin: nothing to see, and alpha's ids are NOT_FOUND.
    let beta = app.token("beta", Role::Admin);
    assert_eq!(
        app.ok(&beta, "{ webhooks { id } }", json!({})).await,
        json!({ "webhooks": [] })
    );
    for (query, variables) in &operations[2..] {
        assert_eq!(
            app.code(&beta, query, variables.clone()).await,
            "NOT_FOUND",
            "{query}"
        );
    }

    // Alpha deletes its own, once.
    let deleted = app
        .ok(
            &admin,
            "mutation($id: ID!) { deleteWebhook(id: $id) }",
            json!({ "id": webhook }),
        )
        .await;
    assert_eq!(deleted["deleteWebhook"], webhook.as_str());
    assert_eq!(
        app.code(
            &admin,
            "mutation($id: ID!) { deleteWebhook(id: $id) }",
            json!({ "id": webhook })
        )
        .await,
        "NOT_FOUND"
    );
    let left = app.ok(&admin, "{ webhooks { id } }", json!({})).await;
    assert_eq!(left["webhooks"].as_array().unwrap().len(), 1);
}
