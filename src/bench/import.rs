//! `billbridge bench import`: a generated vendor export of N rows — N/5 accounts × the five
//! metrics of the demo's backup product, one value a row, with plans, display names and
//! quoted cells — imported into a fresh database (SQLite, or PostgreSQL with
//! `--database-url`) holding the demo tenant: the dry run, the commit, and the same file
//! again (dry run and commit, which must change nothing), each timed, with the process's
//! peak resident memory.

use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use std::io::Write;
use std::time::Instant;

use super::api::proc::memory_kb;
use super::api::seed::Database;
use crate::db::import::{self as pipeline, Source};
use crate::db::{self, Scope, audit, catalog, tenants};
use crate::domain::import::{Mapping, MetricColumn};

/// The demo's backup product's metrics, as the generated file's columns.
const METRICS: [(&str, &str); 5] = [
    ("Storage (GB)", "BackupUsage"),
    ("Local backup", "LocalBackup"),
    ("Image licences", "ImageLicensing"),
    ("Hyper-V hosts", "Hyper-VHostLicensing"),
    ("VMware hosts", "VMwareHostLicensing"),
];
const PLANS: [&str; 5] = ["IB-100", "IB-250", "IB-500", "IB-1TB", "IB-PAYG"];

pub async fn import(rows: usize, database_url: Option<&str>) -> anyhow::Result<()> {
    if rows < METRICS.len() {
        bail!("--rows {rows}: give at least {}", METRICS.len());
    }
    let database = Database::create(database_url).await?;
    let result = run(&database, rows).await;
    database.remove().await?;
    result
}

fn fail(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!(e.message())
}

/// Writes the export: `rows` lines, account by account, one metric a line.
fn write_file(path: &std::path::Path, rows: usize, day: &str) -> anyhow::Result<u64> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    write!(out, "\u{feff}Customer;Company;Plan")?;
    for (column, _) in METRICS {
        write!(out, ";{column}")?;
    }
    writeln!(out, ";Date")?;
    for row in 0..rows {
        let account = row / METRICS.len();
        let metric = row % METRICS.len();
        write!(
            out,
            "bench-{account:06};\"Customer {account}; Ltd\";{}",
            PLANS[account % PLANS.len()]
        )?;
        for m in 0..METRICS.len() {
            if m != metric {
                write!(out, ";")?;
            } else if m == 0 {
                write!(out, ";{},{:02}", 10 + account % 900, account % 100)?;
            } else {
                write!(out, ";{}", 1 + (account + m) % 20)?;
            }
        }
        writeln!(out, ";{day}")?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

async fn run(database: &Database, rows: usize) -> anyhow::Result<()> {
    let conn = db::connect(db::options(&database.url)).await?;
    db::migrate(&conn).await?;
    let tenant = tenants::create(&conn, "bench", "Bench MSP").await?;
    let scope = Scope::new(conn.clone(), &tenant);
    crate::demo::fill(&scope, Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("seeding the demo catalogue: {e}"))?;
    let service = catalog::services(&scope)
        .await
        .map_err(fail)?
        .into_iter()
        .find(|s| s.name == "Intronis Backup")
        .context("the demo's backup service")?;
    let day = (Utc::now() - Duration::days(1)).date_naive();
    let folder =
        std::env::temp_dir().join(format!("billbridge-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    let path = folder.join("usage.csv");
    let bytes = write_file(&path, rows, &day.format("%Y-%m-%d").to_string())?;
    let mapping = Mapping {
        decimal_comma: true,
        account: "Customer".into(),
        display_name: Some("Company".into()),
        plan: Some("Plan".into()),
        metrics: METRICS
            .iter()
            .map(|(column, kind)| MetricColumn {
                column: (*column).into(),
                cross_reference_type: (*kind).into(),
            })
            .collect(),
        measured_at: Some("Date".into()),
        ..Mapping::default()
    };
    let open = || -> anyhow::Result<Source> {
        Ok(Source {
            name: "usage.csv".into(),
            reader: Box::new(std::fs::File::open(&path)?),
        })
    };
    println!(
        "bench import: {rows} rows ({} accounts × {} metrics), {:.1} MB, {}",
        rows.div_ceil(METRICS.len()),
        METRICS.len(),
        bytes as f64 / 1e6,
        database.engine()
    );
    println!("| phase | seconds | rows/s | new | changed | unchanged |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut outcome = Ok(());
    for (phase, commit) in [
        ("dry run", false),
        ("commit", true),
        ("dry run again", false),
        ("commit again", true),
    ] {
        let started = Instant::now();
        let report = if commit {
            let (mapping, source) = (mapping.clone(), open()?);
            audit::audited(&scope, "bench", |scope| async move {
                pipeline::commit(&scope, service.id, mapping, source, 0, Box::new(|_| {})).await
            })
            .await
            .map_err(fail)?
        } else {
            pipeline::dry_run(
                &scope,
                service.id,
                mapping.clone(),
                open()?,
                0,
                Box::new(|_| {}),
            )
            .await
            .map_err(fail)?
        };
        let seconds = started.elapsed().as_secs_f64();
        let usage = report.judged.usage;
        println!(
            "| {phase} | {seconds:.2} | {:.0} | {} | {} | {} |",
            report.row_count as f64 / seconds,
            usage.new,
            usage.changed,
            usage.unchanged
        );
        if report.problem_count > 0 {
            outcome = Err(anyhow::anyhow!(
                "the generated file has {} problems, the first: {:?}",
                report.problem_count,
                report.problems.first()
            ));
            break;
        }
        if phase == "commit again" && report.committed {
            outcome = Err(anyhow::anyhow!(
                "the same file imported twice changed something"
            ));
        }
    }
    if let Some((_, peak)) = memory_kb(std::process::id()) {
        println!("peak RSS: {:.1} MB", peak as f64 / 1024.0);
    }
    std::fs::remove_dir_all(&folder).ok();
    conn.close().await.ok();
    outcome
}
