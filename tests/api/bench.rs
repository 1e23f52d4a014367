//! `billbridge bench api` end to end, as a user runs it: it seeds, serves in a child
//! process, drives the shapes and reports each — its server's CPU and statements read from
//! `/proc` and `/metrics` — and a shape whose answers carry errors fails the command.
//! On PostgreSQL too when `TEST_DATABASE_URL` is set (a fresh database beside that one).

use serde_json::Value;
use std::process::Command;

#[test]
fn bench_api_reports_every_shape_and_fails_on_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.graphql");
    std::fs::write(&broken, "{ noSuchField }").expect("query file");
    let report = dir.path().join("report.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_billbridge"));
    command.args([
        "bench",
        "api",
        "--accounts",
        "60",
        "--duration",
        "1",
        "--warmup",
        "0",
        "--connections",
        "2",
        "--shape",
        "services",
        "--shape",
        "accounts-page",
        "--shape",
        "typename",
        "--shape",
        "broken",
        "--query-file",
    ]);
    command.arg(&broken).arg("--json").arg(&report);
    let postgres = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if let Some(url) = &postgres {
        command.args(["--database-url", url]);
    }
    let output = command.output().expect("bench api ran");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "a failing shape fails the command\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("| broken |") && stdout.contains("FAILED"),
        "{stdout}\n{stderr}"
    );

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report written"))
            .expect("JSON");
    assert_eq!(report["accounts"], 60);
    let engine = if postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    assert_eq!(report["engine"], engine);
    let rows = report["rows"].as_array().expect("rows");
    let names: Vec<&str> = rows.iter().filter_map(|r| r["shape"].as_str()).collect();
    // The plain axum handler is measured after the shapes, under the same load.
    assert_eq!(
        names,
        [
            "services",
            "accounts-page",
            "typename",
            "broken",
            "plain-axum"
        ]
    );
    let plain = &rows[4];
    assert_eq!(plain["failed"], 0, "{plain}");
    assert!(plain["requests"].as_u64() > Some(0), "{plain}");
    assert!(plain["statements"].is_null(), "{plain}");
    assert!(
        stdout.contains("× the plain axum JSON handler's"),
        "{stdout}"
    );
    for row in &rows[..3] {
        assert_eq!(row["failed"], 0, "{row}");
        assert!(row["requests"].as_u64() > Some(0), "{row}");
        // Read from the server's own `/metrics` and `/proc` entry: the data shapes read
        // the database, `{ __typename }` with a cached token does not.
        let least = if row["shape"] == "typename" { 0.0 } else { 1.0 };
        assert!(row["statements"].as_f64() >= Some(least), "{row}");
        assert!(row["server_cpu_us"].is_number(), "{row}");
    }
    assert!(report["peak_rss_mb"].as_f64() >= report["idle_rss_mb"].as_f64());
    let broken = &rows[3];
    assert_eq!(broken["failed"], 1, "{broken}");
    assert!(
        broken["errors"][0]
            .as_str()
            .is_some_and(|e| e.contains("noSuchField")),
        "{broken}"
    );
}
