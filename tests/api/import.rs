//! Imports of a vendor's usage export over the API: a realistic file (BOM, semicolons,
//! quoted commas and quotes, decimal commas, CRLF) previewed, committed and imported again
//! as a no-op; every problem with its row and column; all or nothing (a file with problems
//! is refused whole, and a failure in the middle of the writes leaves nothing); the size
//! limit named in the refusal; the CLI on the demo's shipped file.

use billbridge::limits::Limits;
use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::{Value, json};

use crate::common::{TestApp, catalogue};

const FIXTURE: &str = include_str!("fixtures/vendor-export.csv");

const REPORT: &str = "fileName bytes sha256 delimiter rows problemCount problems { row column kind message } accounts { new changed unchanged } subscriptions { new changed unchanged } usage { new changed unchanged } lines { row account accountOutcome displayName product plan previousPlan subscription measuredAt values { crossReferenceType unit quantity previous outcome } } committed";

fn preview_query() -> String {
    format!(
        "query($s: ID!, $csv: String!, $m: ImportMappingInput) {{ previewImport(serviceId: $s, csv: $csv, fileName: \"october.csv\", mapping: $m) {{ {REPORT} }} }}"
    )
}

fn commit_query() -> String {
    format!(
        "mutation($s: ID!, $csv: String!, $m: ImportMappingInput) {{ commitImport(serviceId: $s, csv: $csv, fileName: \"october.csv\", mapping: $m) {{ {REPORT} }} }}"
    )
}

fn mapping() -> Value {
    json!({
        "decimalComma": true,
        "account": "Customer",
        "displayName": "Company name",
        "product": "Product",
        "plan": "Plan",
        "metrics": [
            { "column": "Storage used (GB)", "crossReferenceType": "BackupUsage" },
            { "column": "Seats", "crossReferenceType": "Seats" }
        ],
        "measuredAt": "Report date"
    })
}

const STATE: &str = "{ accounts(first: 50) { nodes { name displayName subscriptions { plan { uniqueId } } latestUsage { quantity measuredAt metric { crossReferenceType } } } } }";

async fn import_events(app: &TestApp) -> Vec<Value> {
    let admin = app.token("alpha", billbridge::auth::Role::Admin);
    let data = app
        .ok(
            &admin,
            "{ auditEvents(entity: \"import\") { nodes { action entityId summary actor } } }",
            json!({}),
        )
        .await;
    data["auditEvents"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_vendor_export_is_previewed_committed_and_reimported_as_a_no_op() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (service, _, _, _) = catalogue(&app, &token).await;
    let vars = json!({ "s": service, "csv": FIXTURE, "m": mapping() });

    // The dry run says everything and writes nothing.
    let preview = app.ok(&token, &preview_query(), vars.clone()).await["previewImport"].clone();
    assert_eq!(preview["problemCount"], 0, "{preview:#}");
    assert_eq!(preview["delimiter"], "SEMICOLON");
    assert_eq!(preview["rows"], 3);
    assert_eq!(preview["bytes"], FIXTURE.len());
    assert_eq!(preview["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(
        preview["accounts"],
        json!({ "new": 3, "changed": 0, "unchanged": 0 })
    );
    assert_eq!(
        preview["subscriptions"],
        json!({ "new": 3, "changed": 0, "unchanged": 0 })
    );
    assert_eq!(
        preview["usage"],
        json!({ "new": 5, "changed": 0, "unchanged": 0 })
    );
    let first = &preview["lines"][0];
    assert_eq!(first["row"], 2);
    assert_eq!(first["account"], "acme-dental");
    assert_eq!(first["displayName"], "Acme Dental, Inc.");
    assert_eq!(first["plan"], "P20");
    assert_eq!(first["measuredAt"], "2026-10-31T00:00:00+00:00");
    assert_eq!(
        first["values"],
        json!([
            { "crossReferenceType": "BackupUsage", "unit": "GB", "quantity": 1234.56, "previous": null, "outcome": "NEW" },
            { "crossReferenceType": "Seats", "unit": "COUNT", "quantity": 3.0, "previous": null, "outcome": "NEW" }
        ])
    );
    assert_eq!(preview["lines"][1]["account"], "beacon; realty");
    assert_eq!(
        preview["lines"][2]["displayName"],
        "Coral \"Rx\" Pharmacy, LLC"
    );
    assert_eq!(
        preview["lines"][2]["row"], 4,
        "rows are the file's lines, CRLF or not"
    );
    assert_eq!(preview["committed"], false);
    assert_eq!(app.count("accounts").await, 0);
    assert_eq!(app.count("usage_samples").await, 0);
    assert_eq!(app.count("import_mappings").await, 0);

    // The commit writes it all, with one audit entry naming the file.
    let committed = app.ok(&token, &commit_query(), vars.clone()).await["commitImport"].clone();
    assert_eq!(committed["committed"], true);
    assert_eq!(committed["usage"], preview["usage"]);
    assert_eq!(app.count("accounts").await, 3);
    assert_eq!(app.count("subscriptions").await, 3);
    assert_eq!(app.count("usage_samples").await, 5);
    let events = import_events(&app).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let summary = events[0]["summary"].as_str().unwrap_or_default();
    assert_eq!(events[0]["action"], "import.commit");
    assert_eq!(events[0]["entityId"], service.as_str());
    assert!(summary.contains("\"october.csv\""), "{summary}");
    assert!(
        summary.contains(&format!("{} bytes", FIXTURE.len())),
        "{summary}"
    );
    assert!(
        summary.contains(preview["sha256"].as_str().unwrap_or("?")),
        "{summary}"
    );
    let state = app.ok(&token, STATE, json!({})).await;
    let acme = &state["accounts"]["nodes"][0];
    assert_eq!(acme["name"], "acme-dental");
    assert_eq!(acme["subscriptions"][0]["plan"]["uniqueId"], "P20");
    assert_eq!(
        state["accounts"]["nodes"][2]["displayName"], "Coral \"Rx\" Pharmacy, LLC",
        "stored as written, quotes and all"
    );

    // The mapping was saved: the same file again, without one, changes nothing.
    let saved = app
        .ok(
            &token,
            "query($s: ID!) { importMapping(serviceId: $s) { account decimalComma metrics { column crossReferenceType } measuredAt } }",
            json!({ "s": service }),
        )
        .await;
    assert_eq!(saved["importMapping"]["account"], "Customer");
    assert_eq!(saved["importMapping"]["decimalComma"], true);
    let again = json!({ "s": service, "csv": FIXTURE });
    let repeat = app.ok(&token, &commit_query(), again).await["commitImport"].clone();
    assert_eq!(repeat["committed"], false, "{repeat:#}");
    assert_eq!(
        repeat["accounts"],
        json!({ "new": 0, "changed": 0, "unchanged": 3 })
    );
    assert_eq!(
        repeat["subscriptions"],
        json!({ "new": 0, "changed": 0, "unchanged": 3 })
    );
    assert_eq!(
        repeat["usage"],
        json!({ "new": 0, "changed": 0, "unchanged": 5 })
    );
    assert_eq!(app.count("usage_samples").await, 5);
    assert_eq!(
        import_events(&app).await.len(),
        1,
        "a no-op is not a change"
    );
    assert_eq!(app.ok(&token, STATE, json!({})).await, state);
    // Sent with the same mapping again (as the web app does): still nothing.
    let repeat = app.ok(&token, &commit_query(), vars.clone()).await["commitImport"].clone();
    assert_eq!(repeat["committed"], false, "{repeat:#}");
    assert_eq!(
        import_events(&app).await.len(),
        1,
        "nor is the same mapping again"
    );

    // Next month: a plan changes, a value changes at the same date, a new date adds one.
    let next = FIXTURE
        .replace(
            "acme-dental;\"Acme Dental, Inc.\";Backup Plan;P20",
            "acme-dental;\"Acme Dental, Inc.\";Backup Plan;P50",
        )
        .replace("0,5;12", "0,75;12")
        .replace("98,25;;2026-10-31", "99;;2026-11-15");
    let changed = app
        .ok(
            &token,
            &commit_query(),
            json!({ "s": service, "csv": next }),
        )
        .await["commitImport"]
        .clone();
    assert_eq!(
        changed["subscriptions"],
        json!({ "new": 0, "changed": 1, "unchanged": 2 })
    );
    assert_eq!(
        changed["usage"],
        json!({ "new": 1, "changed": 1, "unchanged": 3 })
    );
    assert_eq!(changed["lines"][0]["previousPlan"], "P20");
    assert_eq!(changed["lines"][0]["plan"], "P50");
    assert_eq!(changed["lines"][1]["values"][0]["previous"], 0.5);
    assert_eq!(app.count("usage_samples").await, 6);

    // Another tenant sees none of it, and cannot use the service.
    let other = app.token("beta", billbridge::auth::Role::Editor);
    let code = app
        .code(
            &other,
            &preview_query(),
            json!({ "s": service, "csv": FIXTURE, "m": mapping() }),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
}

#[tokio::test]
async fn every_problem_is_reported_with_its_row_and_column_and_nothing_is_written() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (service, _, _, _) = catalogue(&app, &token).await;
    let future = (chrono::Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%d");
    let csv = format!(
        "Customer,Company name,Product,Plan,Storage used (GB),Seats,Report date\n\
         ok,,Backup Plan,P20,1,1,2026-10-31\n\
         a,,Backup Plan,GOLD,1,1,2026-10-31\n\
         b,,Backup Plan,P20,-4,1,2026-10-31\n\
         c,,Backup Plan,P20,lots,1,2026-10-31\n\
         d,,Backup Plan,P20,1,2.5,2026-10-31\n\
         e,,Backup Plan,P20,1,1,{future}\n\
         ok,,Backup Plan,P20,1,1,2026-10-31\n\
         f,,Backup Plan,P20,1,1,31 October\n\
         g,,Email,,1,1,2026-10-31\n"
    );
    let mut plain = mapping();
    plain["decimalComma"] = json!(false);
    let vars = json!({ "s": service, "csv": csv, "m": plain });
    let preview = app.ok(&token, &preview_query(), vars.clone()).await["previewImport"].clone();
    let found: Vec<(i64, String, String)> = preview["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["row"].as_i64().unwrap_or(0),
                p["column"].as_str().unwrap_or("").to_owned(),
                p["kind"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(i64, String, String)> = [
        (3, "Plan", "UNKNOWN_PLAN"),
        (4, "Storage used (GB)", "NEGATIVE"),
        (5, "Storage used (GB)", "NOT_A_NUMBER"),
        (6, "Seats", "FRACTION"),
        (7, "Report date", "FUTURE_DATE"),
        (8, "Storage used (GB)", "DUPLICATE"),
        (9, "Report date", "BAD_DATE"),
        (10, "Product", "UNKNOWN_PRODUCT"),
    ]
    .into_iter()
    .map(|(r, c, k)| (r, c.to_owned(), k.to_owned()))
    .collect();
    assert_eq!(found, expected, "{preview:#}");
    assert_eq!(preview["problemCount"], 8);
    let messages: Vec<&str> = preview["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["message"].as_str())
        .collect();
    assert!(
        messages[0].contains("unknown plan \"GOLD\"") && messages[0].contains("\"P20\""),
        "{messages:?}"
    );
    assert!(messages[1].contains("negative"), "{messages:?}");
    assert!(messages[3].contains("count"), "{messages:?}");
    assert!(messages[4].contains("future"), "{messages:?}");
    assert!(messages[5].contains("row 2"), "{messages:?}");

    // A mapping that does not fit the header: problems on row 1.
    let mut wrong = mapping();
    wrong["account"] = json!("Account");
    wrong["metrics"][1]["crossReferenceType"] = json!("Mailboxes");
    let header = app
        .ok(
            &token,
            &preview_query(),
            json!({ "s": service, "csv": csv, "m": wrong }),
        )
        .await["previewImport"]["problems"]
        .clone();
    assert_eq!(header[0]["row"], 1);
    assert_eq!(header[0]["kind"], "MISSING_COLUMN");
    assert_eq!(header[0]["column"], "Account");
    assert_eq!(header[1]["kind"], "UNKNOWN_METRIC");

    // The commit refuses the whole file, naming the first problem; nothing is written.
    let error = app.err(&token, &commit_query(), vars).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error:#}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("8 problem(s)") && message.contains("row 3, column \"Plan\""),
        "{message}"
    );
    assert_eq!(app.count("accounts").await, 0);
    assert_eq!(app.count("subscriptions").await, 0);
    assert_eq!(app.count("usage_samples").await, 0);
    assert_eq!(app.count("import_mappings").await, 0);
    assert!(import_events(&app).await.is_empty());
}

/// Makes every usage insert fail, after the accounts and subscriptions of the same commit
/// were written.
async fn refuse_usage_rows(app: &TestApp, refuse: bool) {
    let sql = match (app.db.get_database_backend(), refuse) {
        (DbBackend::Sqlite, true) => {
            "CREATE TRIGGER usage_refused BEFORE INSERT ON usage_samples BEGIN SELECT RAISE(ABORT, 'usage refused'); END"
        }
        (DbBackend::Sqlite, false) => "DROP TRIGGER usage_refused",
        (_, true) => {
            "CREATE FUNCTION usage_refused() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'usage refused'; END $$; CREATE TRIGGER usage_refused BEFORE INSERT ON usage_samples FOR EACH ROW EXECUTE FUNCTION usage_refused()"
        }
        (_, false) => "DROP TRIGGER usage_refused ON usage_samples",
    };
    app.db.execute_unprepared(sql).await.expect("trigger");
}

#[tokio::test]
async fn a_failure_in_the_middle_of_a_commit_leaves_nothing() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (service, _, _, _) = catalogue(&app, &token).await;
    let vars = json!({ "s": service, "csv": FIXTURE, "m": mapping() });
    refuse_usage_rows(&app, true).await;
    let error = app.err(&token, &commit_query(), vars.clone()).await;
    assert_eq!(error["extensions"]["code"], "INTERNAL", "{error:#}");
    assert_eq!(app.count("accounts").await, 0);
    assert_eq!(app.count("subscriptions").await, 0);
    assert_eq!(app.count("import_mappings").await, 0);
    assert!(import_events(&app).await.is_empty());
    refuse_usage_rows(&app, false).await;
    let committed = app.ok(&token, &commit_query(), vars).await;
    assert_eq!(committed["commitImport"]["committed"], true);
    assert_eq!(app.count("usage_samples").await, 5);
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_naming_it_and_a_sample_shows_the_columns() {
    let limits = Limits {
        import_bytes: 2048,
        ..Limits::default()
    };
    let app = TestApp::start_with(limits, false).await;
    let token = app.editor();
    let (service, _, _, _) = catalogue(&app, &token).await;
    let big = format!("{}{}", FIXTURE, "x;y\n".repeat(600));
    let error = app
        .err(
            &token,
            &preview_query(),
            json!({ "s": service, "csv": big, "m": mapping() }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("at most 2048") && message.contains("BILLBRIDGE_MAX_IMPORT_BYTES"),
        "{message}"
    );

    let sample = app
        .ok(
            &token,
            "query($csv: String!) { importSample(csv: $csv, rows: 2) { delimiter columns rows } }",
            json!({ "csv": FIXTURE }),
        )
        .await;
    assert_eq!(sample["importSample"]["delimiter"], "SEMICOLON");
    assert_eq!(sample["importSample"]["columns"][0], "Customer");
    assert_eq!(sample["importSample"]["rows"][1][0], "beacon; realty");
    assert_eq!(
        sample["importSample"]["rows"].as_array().map(Vec::len),
        Some(2)
    );

    // No saved mapping yet: a clear refusal.
    let error = app
        .err(
            &token,
            &preview_query(),
            json!({ "s": service, "csv": FIXTURE }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no column mapping")
    );

    // Viewers may read the mapping but not import.
    let viewer = app.token("alpha", billbridge::auth::Role::Viewer);
    let code = app
        .code(
            &viewer,
            &commit_query(),
            json!({ "s": service, "csv": FIXTURE, "m": mapping() }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
}

/// The demo's shipped export through the CLI: the dry run exits 0 and names the new
/// accounts; `--commit` writes; a broken file exits 1 with its problems.
#[tokio::test]
async fn the_cli_imports_the_demo_export() {
    let app = TestApp::start().await;
    let Some(dir) = app.data_dir() else {
        return; // The CLI opens its own SQLite file; the pipeline is the same on PostgreSQL.
    };
    billbridge::demo::seed(&app.db).await.expect("demo");
    let url = format!("sqlite://{}", dir.join("test.db").display());
    let root = env!("CARGO_MANIFEST_DIR");
    let run = |file: &str, commit: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_billbridge"));
        command.args([
            "import",
            "usage",
            file,
            "--tenant",
            "demo",
            "--service",
            "Intronis Backup",
        ]);
        command.args([
            "--mapping",
            &format!("{root}/demo/usage-import.mapping.json"),
        ]);
        command.args([
            "--database-url",
            &url,
            "--data-dir",
            &dir.display().to_string(),
        ]);
        if commit {
            command.arg("--commit");
        }
        command.output().expect("billbridge ran")
    };
    let demo = format!("{root}/demo/usage-import.csv");
    let output = run(&demo, false);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("accounts:      2 new"), "{stdout}");
    assert!(stdout.contains("dry run: nothing written"), "{stdout}");
    let before = app.count("usage_samples").await;
    let output = run(&demo, true);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("committed"), "{stdout}");
    assert!(app.count("usage_samples").await > before);

    let broken = dir.join("broken.csv");
    let text = std::fs::read_to_string(&demo)
        .expect("demo file")
        .replacen("IB-250", "IB-999", 1);
    std::fs::write(&broken, text).expect("write");
    let output = run(&broken.display().to_string(), false);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("unknown plan \"IB-999\""), "{stdout}");
}

/// `billbridge bench import` as a user runs it (small): every phase reported, the second
/// commit changing nothing; on PostgreSQL too when `TEST_DATABASE_URL` is set.
#[test]
fn bench_import_reports_every_phase() {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_billbridge"));
    command.args(["bench", "import", "--rows", "500"]);
    if let Ok(url) = std::env::var("TEST_DATABASE_URL")
        && !url.is_empty()
    {
        command.args(["--database-url", &url]);
    }
    let output = command.output().expect("bench import ran");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("500 rows (100 accounts × 5 metrics)"),
        "{stdout}"
    );
    for (phase, counts) in [
        ("| dry run | ", "| 500 | 0 | 0 |"),
        ("| commit | ", "| 500 | 0 | 0 |"),
        ("| dry run again | ", "| 0 | 0 | 500 |"),
        ("| commit again | ", "| 0 | 0 | 500 |"),
    ] {
        let line = stdout.lines().find(|l| l.starts_with(phase));
        assert!(
            line.is_some_and(|l| l.ends_with(counts)),
            "{phase}{counts}\n{stdout}"
        );
    }
    assert!(stdout.contains("peak RSS: "), "{stdout}");
}
