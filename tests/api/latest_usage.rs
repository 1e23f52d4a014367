//! `latest_usage`, kept by triggers on `usage_samples`: after every kind of write billbridge
//! (or an operator) makes — shuffled recordings, an import with newer and older history,
//! quantity corrections, deletions of samples, an account and a product — it names exactly
//! the newest sample of every pair, as computed from scratch; an update that would move a
//! sample is refused; the migration back-fills a database that has history.

use billbridge::auth::Role;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use serde_json::{Value, json};

use crate::common::{TestApp, catalogue, id, metric_id};

const RECORD: &str =
    r#"mutation($input: [UsageInput!]!) { recordUsage(input: $input) { recorded } }"#;
const UPSERT: &str =
    r#"mutation($input: [AccountInput!]!) { upsertAccounts(input: $input) { id } }"#;
const COMMIT: &str = r#"mutation($s: ID!, $csv: String!, $m: ImportMappingInput) { commitImport(serviceId: $s, csv: $csv, fileName: "usage.csv", mapping: $m) { committed usage { new changed unchanged } } }"#;

/// (account, metric, tenant, sample) of every pair, by account and metric.
type Pairs = Vec<(i64, i64, i64, i64)>;

/// Every pair's newest sample, from the history alone.
const FROM_SCRATCH: &str = "SELECT s.account_id, s.metric_id, s.tenant_id, s.id AS sample_id \
    FROM usage_samples s \
    WHERE s.measured_at = (SELECT MAX(n.measured_at) FROM usage_samples n \
        WHERE n.account_id = s.account_id AND n.metric_id = s.metric_id) \
    ORDER BY s.account_id, s.metric_id";

const MAINTAINED: &str = "SELECT account_id, metric_id, tenant_id, sample_id FROM latest_usage \
    ORDER BY account_id, metric_id";

/// Rows of `latest_usage` whose copy of the sample's time or key is not the sample's.
const MISCOPIED: &str = "SELECT COUNT(*) AS v FROM latest_usage l \
    LEFT JOIN usage_samples s ON s.id = l.sample_id \
    WHERE s.id IS NULL OR s.measured_at <> l.measured_at OR s.account_id <> l.account_id \
        OR s.metric_id <> l.metric_id OR s.tenant_id <> l.tenant_id";

async fn pairs(app: &TestApp, sql: &str) -> Pairs {
    app.db
        .query_all_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .expect(sql)
        .iter()
        .map(|row| {
            let get = |column: &str| row.try_get::<i64>("", column).expect(column);
            (
                get("account_id"),
                get("metric_id"),
                get("tenant_id"),
                get("sample_id"),
            )
        })
        .collect()
}

async fn tenant_id(app: &TestApp, slug: &str) -> i64 {
    app.scalar(&format!(
        "SELECT id AS v FROM tenants WHERE slug = '{slug}'"
    ))
    .await
}

/// The quantity and day of the sample `latest_usage` names for an account's metric.
async fn latest_of(app: &TestApp, account: &str, metric: &str) -> (f64, String) {
    let from = format!(
        "FROM latest_usage l JOIN usage_samples s ON s.id = l.sample_id \
         JOIN accounts a ON a.id = l.account_id \
         WHERE a.name = '{account}' AND a.tenant_id = l.tenant_id AND l.metric_id = {metric}"
    );
    let quantity = app.scalar(&format!("SELECT s.quantity AS v {from}")).await;
    let at: chrono::DateTime<chrono::Utc> = app
        .scalar(&format!("SELECT s.measured_at AS v {from}"))
        .await;
    (quantity, at.format("%Y-%m-%d").to_string())
}

async fn execute(app: &TestApp, sql: &str) {
    app.db.execute_unprepared(sql).await.expect(sql);
}

/// Asserts `latest_usage` is the history's latest, and returns it.
async fn assert_latest(app: &TestApp, step: &str) -> Pairs {
    let expected = pairs(app, FROM_SCRATCH).await;
    let maintained = pairs(app, MAINTAINED).await;
    assert_eq!(maintained, expected, "after {step}");
    assert_eq!(app.scalar::<i64>(MISCOPIED).await, 0, "after {step}");
    maintained
}

/// A deterministic shuffle (xorshift), so a failure replays.
struct Shuffle(u64);

impl Shuffle {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

fn usage(account: &str, metric: &str, quantity: f64, day: &str) -> Value {
    json!({ "account": account, "metricId": metric, "quantity": quantity,
            "measuredAt": format!("{day}T00:00:00Z") })
}

/// The catalogue with `names` subscribed to its product; returns its BackupUsage and Seats
/// metric ids.
async fn subscribed(app: &TestApp, token: &str, names: &[String]) -> (String, String) {
    let (service, product, p20, _) = catalogue(app, token).await;
    let accounts: Vec<Value> = names
        .iter()
        .map(|name| json!({ "name": name, "subscriptions": [{ "productId": product, "planId": p20 }] }))
        .collect();
    app.ok(token, UPSERT, json!({ "input": accounts })).await;
    (
        metric_id(app, token, &service, "BackupUsage").await,
        metric_id(app, token, &service, "Seats").await,
    )
}

fn account_name(i: usize) -> String {
    format!("acct-{i:02}")
}

/// The import's columns: account, product, plan, the two metrics, the date.
fn import_mapping() -> Value {
    json!({
        "account": "Customer", "product": "Product", "plan": "Plan",
        "metrics": [
            { "column": "Storage", "crossReferenceType": "BackupUsage" },
            { "column": "Seats", "crossReferenceType": "Seats" }
        ],
        "measuredAt": "Date"
    })
}

/// Writes through every path that changes samples, in a shuffled order, and compares
/// `latest_usage` with the latest computed from the history after each step.
#[tokio::test]
async fn latest_usage_follows_every_write() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (service, backup, p20, _) = catalogue(&app, &token).await;
    let archive = app
        .ok(
            &token,
            r#"mutation($s: ID!) { createProduct(input: {serviceId: $s, name: "Archive", metrics: [{name: "Archive", crossReferenceType: "ArchiveUsage", unit: GB}]}) { id } }"#,
            json!({ "s": service }),
        )
        .await;
    let archive = id(&archive["createProduct"]["id"]);
    let metrics = [
        metric_id(&app, &token, &service, "BackupUsage").await,
        metric_id(&app, &token, &service, "Seats").await,
        metric_id(&app, &token, &service, "ArchiveUsage").await,
    ];
    const ACCOUNTS: usize = 20;
    let both = json!([{ "productId": backup, "planId": p20 }, { "productId": archive }]);
    let accounts: Vec<Value> = (0..ACCOUNTS)
        .map(|i| json!({ "name": account_name(i), "subscriptions": both }))
        .collect();
    app.ok(&token, UPSERT, json!({ "input": accounts })).await;

    // Another tenant's pairs, which nothing below may disturb.
    let beta = app.token("beta", Role::Editor);
    let (beta_storage, _) = subscribed(&app, &beta, &[account_name(0)]).await;
    app.ok(
        &beta,
        RECORD,
        json!({ "input": [
            usage("acct-00", &beta_storage, 1.0, "2026-05-01"),
            usage("acct-00", &beta_storage, 2.0, "2026-04-01")] }),
    )
    .await;

    // 1. Nine months of every pair, recorded in a shuffled order, batch by batch.
    let mut shuffle = Shuffle(0x2545_f491_4f6c_dd1d);
    let mut samples = Vec::new();
    for account in 0..ACCOUNTS {
        for metric in &metrics {
            for month in 1..=9 {
                let quantity = (shuffle.next() % 500) as f64;
                samples.push(usage(
                    &account_name(account),
                    metric,
                    quantity,
                    &format!("2026-0{month}-15"),
                ));
            }
        }
    }
    shuffle.shuffle(&mut samples);
    for (batch, rows) in samples.chunks(45).enumerate() {
        app.ok(&token, RECORD, json!({ "input": rows })).await;
        assert_latest(&app, &format!("recorded batch {batch}")).await;
    }
    let pairs_of_alpha = ACCOUNTS * metrics.len();
    assert_eq!(
        assert_latest(&app, "the recordings").await.len(),
        pairs_of_alpha + 1
    );

    // 2. An import: newer months for some accounts, older history for others, and two
    //    accounts it creates.
    let mut csv = String::from("Customer,Product,Plan,Storage,Seats,Date\n");
    let mut lines = Vec::new();
    for account in 0..ACCOUNTS + 2 {
        for date in ["2026-10-01", "2025-12-01", "2026-09-30"] {
            if !shuffle.next().is_multiple_of(3) {
                lines.push(format!(
                    "{},Backup Plan,P20,{},{},{date}\n",
                    account_name(account),
                    shuffle.next() % 900,
                    shuffle.next() % 40
                ));
            }
        }
    }
    shuffle.shuffle(&mut lines);
    csv.extend(lines);
    let vars = json!({ "s": service, "csv": csv, "m": import_mapping() });
    let committed = app.ok(&token, COMMIT, vars).await;
    assert_eq!(committed["commitImport"]["committed"], true, "{committed}");
    let after_import = assert_latest(&app, "the import").await;
    assert!(
        after_import.len() > pairs_of_alpha + 1,
        "the import added pairs"
    );

    // 3. History older than every latest sample changes nothing.
    let mut old = Vec::new();
    for account in 0..ACCOUNTS {
        for metric in &metrics {
            old.push(usage(&account_name(account), metric, 1.0, "2024-03-01"));
        }
    }
    shuffle.shuffle(&mut old);
    app.ok(&token, RECORD, json!({ "input": old })).await;
    assert_eq!(
        assert_latest(&app, "older history").await,
        after_import,
        "older history leaves every latest sample where it was"
    );

    // 4. A correction of a latest sample's quantity keeps the sample (recordUsage's upsert,
    //    then the import's upsert), and reads see the new quantity through it.
    let (_, day) = latest_of(&app, "acct-01", &metrics[1]).await;
    app.ok(
        &token,
        RECORD,
        json!({ "input": [usage("acct-01", &metrics[1], 321.0, &day)] }),
    )
    .await;
    assert_eq!(latest_of(&app, "acct-01", &metrics[1]).await.0, 321.0);
    assert_eq!(
        assert_latest(&app, "recordUsage's correction").await,
        after_import
    );
    let csv =
        format!("Customer,Product,Plan,Storage,Seats,Date\nacct-01,Backup Plan,P20,,77,{day}\n");
    let vars = json!({ "s": service, "csv": csv, "m": import_mapping() });
    let committed = app.ok(&token, COMMIT, vars).await;
    assert_eq!(
        committed["commitImport"]["usage"]["changed"], 1,
        "{committed}"
    );
    assert_eq!(latest_of(&app, "acct-01", &metrics[1]).await.0, 77.0);
    assert_eq!(
        assert_latest(&app, "the import's correction").await,
        after_import
    );

    // 5. Samples deleted by hand: a pair's latest (the row moves to the one before), the two
    //    newest of another pair in one statement, every sample of a third (the row goes),
    //    and the latest of many pairs at once.
    let (a, m, _, latest) = after_import[0];
    execute(
        &app,
        &format!("DELETE FROM usage_samples WHERE id = {latest}"),
    )
    .await;
    let moved = assert_latest(&app, "deleting a latest sample").await;
    assert!(
        moved.iter().any(|p| p.0 == a && p.1 == m && p.3 != latest),
        "the pair keeps a row, on an older sample"
    );
    let (a, m, ..) = after_import[1];
    execute(
        &app,
        &format!(
            "DELETE FROM usage_samples WHERE id IN (SELECT id FROM usage_samples \
             WHERE account_id = {a} AND metric_id = {m} ORDER BY measured_at DESC LIMIT 2)"
        ),
    )
    .await;
    assert_latest(&app, "deleting a pair's two newest samples").await;
    let (a, m, ..) = after_import[2];
    execute(
        &app,
        &format!("DELETE FROM usage_samples WHERE account_id = {a} AND metric_id = {m}"),
    )
    .await;
    let emptied = assert_latest(&app, "deleting a pair's every sample").await;
    assert!(
        !emptied.iter().any(|p| p.0 == a && p.1 == m),
        "its row went"
    );
    let ids: Vec<String> = emptied
        .iter()
        .skip(3)
        .step_by(4)
        .map(|p| p.3.to_string())
        .collect();
    execute(
        &app,
        &format!("DELETE FROM usage_samples WHERE id IN ({})", ids.join(", ")),
    )
    .await;
    assert_latest(&app, "deleting the latest of many pairs at once").await;

    // 6. An account's deletion (its samples cascade).
    app.ok(
        &token,
        r#"mutation { deleteAccounts(names: ["acct-04"]) { deleted } }"#,
        json!({}),
    )
    .await;
    assert_latest(&app, "deleting an account").await;

    // 7. A product's deletion (its metrics' samples go with it), once nobody subscribes.
    let backup_only: Vec<Value> = (0..ACCOUNTS + 2)
        .filter(|&i| i != 4)
        .map(|i| json!({ "name": account_name(i), "subscriptions": [{ "productId": backup, "planId": p20 }] }))
        .collect();
    app.ok(&token, UPSERT, json!({ "input": backup_only }))
        .await;
    app.ok(
        &token,
        "mutation($id: ID!) { deleteProduct(id: $id) }",
        json!({ "id": archive }),
    )
    .await;
    let last = assert_latest(&app, "deleting a product").await;
    let archive_usage = metrics[2].parse::<i64>().expect("metric id");
    assert!(!last.iter().any(|p| p.1 == archive_usage));
    let beta_tenant = tenant_id(&app, "beta").await;
    assert_eq!(
        last.iter().filter(|p| p.2 == beta_tenant).count(),
        1,
        "the other tenant's pair is still there"
    );

    // The accounts page shows the history's latest.
    let alpha = tenant_id(&app, "alpha").await;
    let page = app
        .ok(
            &token,
            "{ accounts(first: 50) { nodes { id latestUsage { metric { id } quantity } } } }",
            json!({}),
        )
        .await;
    let mut shown: Vec<(i64, i64, f64)> = Vec::new();
    for node in page["accounts"]["nodes"].as_array().expect("nodes") {
        let account: i64 = id(&node["id"]).parse().expect("account id");
        for u in node["latestUsage"].as_array().expect("latest usage") {
            let metric: i64 = id(&u["metric"]["id"]).parse().expect("metric id");
            shown.push((account, metric, u["quantity"].as_f64().expect("quantity")));
        }
    }
    shown.sort_by_key(|u| (u.0, u.1));
    let mut expected = Vec::new();
    for (account, metric, tenant, sample) in last {
        if tenant == alpha {
            let quantity = app
                .scalar::<f64>(&format!(
                    "SELECT quantity AS v FROM usage_samples WHERE id = {sample}"
                ))
                .await;
            expected.push((account, metric, quantity));
        }
    }
    assert_eq!(shown, expected);
}

/// A sample's quantity may change (and its pair's row stays on it); what identifies it may
/// not, since the pair's row would keep pointing at a sample that moved.
#[tokio::test]
async fn a_sample_changes_only_its_quantity() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (storage, seats) = subscribed(&app, &token, &["acme".into(), "bravo".into()]).await;
    app.ok(
        &token,
        RECORD,
        json!({ "input": [
            usage("acme", &storage, 1.0, "2026-09-01"),
            usage("acme", &storage, 2.0, "2026-10-01"),
            usage("bravo", &storage, 3.0, "2026-10-01")] }),
    )
    .await;
    let before = assert_latest(&app, "recording").await;

    execute(&app, "UPDATE usage_samples SET quantity = quantity + 1").await;
    assert_eq!(assert_latest(&app, "a quantity update").await, before);

    let bravo = "(SELECT id FROM accounts WHERE name = 'bravo')";
    for change in [
        "measured_at = (SELECT MAX(measured_at) FROM usage_samples)".to_owned(),
        format!("account_id = {bravo}"),
        format!("metric_id = {seats}"),
        "tenant_id = (SELECT id FROM tenants WHERE slug = 'beta')".to_owned(),
        "id = id + 1000".to_owned(),
    ] {
        let sql = format!(
            "UPDATE usage_samples SET {change} WHERE measured_at = \
             (SELECT MIN(measured_at) FROM usage_samples)"
        );
        let error = app
            .db
            .execute_unprepared(&sql)
            .await
            .expect_err(&format!("{change} is refused"));
        assert!(
            error.to_string().contains("change only their quantity"),
            "{change}: {error}"
        );
    }
    assert_eq!(assert_latest(&app, "refused updates").await, before);
}

/// PostgreSQL runs writers side by side (READ COMMITTED): a pair's last sample deleted while
/// another transaction adds older history to the same pair must leave the pair its row.
/// The deletion's trigger waits for the writer (both lock the pair's row) and then sees its
/// sample. SQLite writes one transaction at a time, so there is nothing to race there.
#[tokio::test]
async fn a_deletion_waits_for_a_concurrent_writer_of_the_pair() {
    let app = TestApp::start().await;
    if app.db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let token = app.editor();
    let (storage, _) = subscribed(&app, &token, &["acme".into()]).await;
    app.ok(
        &token,
        RECORD,
        json!({ "input": [usage("acme", &storage, 1.0, "2026-02-01")] }),
    )
    .await;

    // The writer adds a month older than the pair's only sample, and holds its transaction.
    let writer = app.db.begin().await.expect("writer");
    writer
        .execute_unprepared(
            "INSERT INTO usage_samples (tenant_id, account_id, metric_id, quantity, measured_at) \
             SELECT tenant_id, account_id, metric_id, 0.5, measured_at - interval '31 days' \
             FROM usage_samples",
        )
        .await
        .expect("older sample");
    // The deleter removes the pair's only committed sample; its trigger must wait.
    let deleter = app.db.begin().await.expect("deleter");
    let pid: i32 = deleter
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_backend_pid() AS v",
        ))
        .await
        .expect("pid")
        .expect("a row")
        .try_get("", "v")
        .expect("v");
    let deleting = tokio::spawn(async move {
        deleter
            .execute_unprepared("DELETE FROM usage_samples WHERE quantity = 1")
            .await
            .expect("delete");
        deleter.commit().await.expect("commit the deletion");
    });
    let waited = std::time::Instant::now();
    while app
        .scalar::<i64>(&format!(
            "SELECT COUNT(*) AS v FROM pg_locks WHERE pid = {pid} AND NOT granted"
        ))
        .await
        == 0
    {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(10),
            "the deletion's trigger did not wait for the writer of the pair"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    writer.commit().await.expect("commit the older sample");
    deleting.await.expect("deletion");
    let left = assert_latest(&app, "the deletion and the writer").await;
    assert_eq!(left.len(), 1, "the older sample is the pair's latest");
}

/// The migration fills `latest_usage` from the history a database already has.
#[tokio::test]
async fn the_migration_back_fills_existing_history() {
    let app = TestApp::start().await;
    let token = app.editor();
    let names: Vec<String> = (0..6).map(account_name).collect();
    let (storage, seats) = subscribed(&app, &token, &names).await;

    // Back to the schema before `latest_usage`, then history written without it.
    Migrator::down(&app.db, Some(1)).await.expect("down");
    assert!(
        app.db
            .execute_unprepared("SELECT 1 FROM latest_usage")
            .await
            .is_err(),
        "the last migration is the one that made latest_usage"
    );
    let mut shuffle = Shuffle(0x9e37_79b9_7f4a_7c15);
    let mut samples = Vec::new();
    for account in 0..6 {
        for metric in [&storage, &seats] {
            for month in 1..=5 {
                samples.push(usage(
                    &account_name(account),
                    metric,
                    (shuffle.next() % 50) as f64,
                    &format!("2026-0{month}-01"),
                ));
            }
        }
    }
    shuffle.shuffle(&mut samples);
    app.ok(&token, RECORD, json!({ "input": samples })).await;
    execute(
        &app,
        "DELETE FROM usage_samples WHERE measured_at = (SELECT MAX(measured_at) FROM usage_samples)",
    )
    .await;

    Migrator::up(&app.db, None).await.expect("up");
    assert_eq!(assert_latest(&app, "the migration").await.len(), 12);
}
