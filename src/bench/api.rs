//! `billbridge bench api`: read throughput of the GraphQL API. Seeds the demo tenant scaled
//! up to N accounts in a fresh SQLite file or PostgreSQL database, starts this binary's
//! `serve` on it as a child process, and drives each read shape with C keep-alive
//! connections for a fixed time. Prints, per shape: requests, rps, p50, p99, the server's
//! CPU per request (from `/proc`), PostgreSQL's (its backends for that database), and
//! statements per request (`billbridge_db_statements_total` on `/metrics`); and the
//! server's resident memory idle and at its peak.
//!
//! `--target URL --query-file F…` only drives load, against any GraphQL endpoint (how
//! `bench/postgraphile/run.sh` measures PostGraphile with the same generator).

use anyhow::{Context, bail};
use clap::Args;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::auth::Role;
use crate::auth::jwt::JwtKeys;
use crate::crypto::MasterKey;
use crate::demo;

mod load;
pub mod plain;
pub(super) mod proc;
pub(super) mod seed;
mod server;

use load::Target;
use server::Server;

/// The shapes, by name: the two nested reads and `__typename` the issue compares with
/// PostGraphile, then the SPA's main pages as it asks for them.
const SHAPES: [(&str, &str); 6] = [
    (
        "services",
        "{ services { products { mappings { plan { uniqueId name } level { name } } } } }",
    ),
    (
        "accounts",
        "{ accounts(first: 50) { edges { node { name subscriptions { plan { uniqueId } } link { state companyName } } } } }",
    ),
    ("typename", "{ __typename }"),
    (
        "billing-page",
        "query BillingServices { services { id name description readOnly \
         lastRun { id status startedAt counts { done failed } } \
         billingStatus { state mappedProducts products coveredSubscriptions subscriptions skippedSubscriptions mainSkipReason } } }",
    ),
    (
        "accounts-page",
        "query Accounts { accounts(first: 50) { totalCount pageInfo { hasNextPage endCursor } \
         nodes { id name subscriptions { id product { name } plan { uniqueId } } \
         link { state companyName reason } \
         latestUsage { quantity measuredAt metric { id crossReferenceType unit } } } } }",
    ),
    (
        "audit-log",
        "query AuditEvents { auditEvents(first: 25) { totalCount pageInfo { hasNextPage endCursor } \
         nodes { id at actor action entity entityId summary } } }",
    ),
];

/// The query of a built-in shape, by name (the statement guard in the tests drives the
/// same text).
pub fn shape(name: &str) -> Option<&'static str> {
    SHAPES.iter().find(|(n, _)| *n == name).map(|(_, q)| *q)
}

/// The shape measured against the plain handler, and that handler's row.
const TYPENAME: &str = "typename";
const PLAIN: &str = "plain-axum";

/// The counter `serve` keeps of the statements it ran.
const STATEMENTS: &str = "billbridge_db_statements_total";

#[derive(Args)]
pub struct ApiArgs {
    /// A PostgreSQL server (`postgres://user@host:port/db`): a fresh database is created on
    /// it for the run and dropped after. Default: a temporary SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Accounts in the demo tenant (at least the demo's 50).
    #[arg(long, default_value_t = 1000)]
    accounts: usize,
    /// Seconds of load per shape.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of load per shape before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Keep-alive connections sending requests at once.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Only this shape (repeat for several): services, accounts, typename, billing-page,
    /// accounts-page, audit-log, or the name of a --query-file. Default: all.
    #[arg(long = "shape")]
    shapes: Vec<String>,
    /// Leave the PostgreSQL database (or SQLite file) in place and print its URL.
    #[arg(long)]
    keep: bool,
    /// Serve with the request-rate limiter off (`BILLBRIDGE_RATE_LIMIT_PER_MINUTE=0`). By
    /// default it is on, set high enough never to refuse, so its cost is measured: on
    /// PostgreSQL it is one statement per request.
    #[arg(long)]
    no_rate_limit: bool,
    /// Only drive load against this GraphQL endpoint (`http://host:port/path`); nothing is
    /// seeded or started. Needs --query-file.
    #[arg(long, requires = "query_files")]
    target: Option<String>,
    /// A GraphQL query to drive as a shape named after the file (`services.graphql` is
    /// `services`). Repeatable. With --target, the only shapes.
    #[arg(long = "query-file")]
    query_files: Vec<PathBuf>,
    /// With --target: a bearer token to send.
    #[arg(long, requires = "target")]
    token: Option<String>,
    /// With --target: the server's process, for its CPU and memory.
    #[arg(long, requires = "target")]
    server_pid: Option<u32>,
    /// With --target: the PostgreSQL database it reads, for its backends' CPU.
    #[arg(long, requires = "target")]
    pg_database: Option<String>,
    /// With --target: what to call the system in the report.
    #[arg(long, requires = "target")]
    label: Option<String>,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// One shape's figures.
#[derive(Serialize)]
struct Row {
    shape: String,
    requests: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    server_cpu_us: Option<f64>,
    postgres_cpu_us: Option<f64>,
    statements: Option<f64>,
    failed: u64,
    /// A few failures as answered.
    errors: Vec<String>,
}

/// Everything one run measured, as printed and as `--json` writes it.
#[derive(Serialize)]
struct Report {
    system: String,
    engine: Option<String>,
    accounts: Option<usize>,
    connections: usize,
    duration_s: u64,
    idle_rss_mb: Option<f64>,
    peak_rss_mb: Option<f64>,
    rows: Vec<Row>,
    /// Whether billbridge's request-rate limiter was on (`None` for another system).
    rate_limiter: Option<bool>,
    /// The database left in place by --keep.
    kept: Option<String>,
}

/// What is measured besides the load: the server's process, the PostgreSQL database, and
/// whether the server counts its statements.
struct Probe<'a> {
    server_pid: Option<u32>,
    postgres: Option<&'a str>,
    server: Option<&'a Server>,
}

struct Reading {
    server_ticks: Option<u64>,
    postgres_ticks: Option<u64>,
    statements: Option<u64>,
}

impl Probe<'_> {
    async fn read(&self) -> Reading {
        let statements = match self.server {
            Some(server) => server.counter(STATEMENTS).await.ok(),
            None => None,
        };
        Reading {
            server_ticks: self.server_pid.and_then(proc::cpu_ticks),
            postgres_ticks: self.postgres.and_then(proc::backends_cpu_ticks),
            statements,
        }
    }
}

pub async fn api(args: ApiArgs) -> anyhow::Result<()> {
    if args.connections == 0 || args.duration == 0 {
        bail!("--connections and --duration must be at least 1");
    }
    let shapes = shapes(&args)?;
    let report = match &args.target {
        Some(url) => {
            let target = Target::new(url, args.token.as_deref())?;
            let probe = Probe {
                server_pid: args.server_pid,
                postgres: args.pg_database.as_deref(),
                server: None,
            };
            let idle = args.server_pid.and_then(proc::memory_kb);
            let mut report = measure(&args, &target, &probe, &shapes).await?;
            report.system = args.label.clone().unwrap_or_else(|| url.clone());
            report.idle_rss_mb = idle.map(|(rss, _)| mb(rss));
            report.peak_rss_mb = args
                .server_pid
                .and_then(proc::memory_kb)
                .map(|(_, hwm)| mb(hwm));
            report
        }
        None => own_server(&args, &shapes).await?,
    };
    print!("{}", render(&report));
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if report.rows.iter().any(|r| r.failed > 0) {
        bail!("some shapes FAILED (see above)");
    }
    Ok(())
}

/// The shapes to drive: the built-in ones (unless --target) and the query files, filtered
/// by --shape.
fn shapes(args: &ApiArgs) -> anyhow::Result<Vec<(String, String)>> {
    let mut all: Vec<(String, String)> = if args.target.is_some() {
        Vec::new()
    } else {
        SHAPES
            .iter()
            .map(|(name, query)| ((*name).to_owned(), (*query).to_owned()))
            .collect()
    };
    for path in &args.query_files {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("--query-file {}: no file name", path.display()))?
            .to_owned();
        let query = std::fs::read_to_string(path)
            .with_context(|| format!("reading --query-file {}", path.display()))?;
        all.retain(|(n, _)| *n != name);
        all.push((name, query));
    }
    if args.shapes.is_empty() {
        return Ok(all);
    }
    args.shapes
        .iter()
        .map(|wanted| {
            all.iter()
                .find(|(name, _)| name == wanted)
                .cloned()
                .with_context(|| {
                    let known: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
                    format!("--shape {wanted:?}: known shapes are {}", known.join(", "))
                })
        })
        .collect()
}

/// Seeds, serves, measures, and tidies up (unless --keep).
async fn own_server(args: &ApiArgs, shapes: &[(String, String)]) -> anyhow::Result<Report> {
    let database = seed::Database::create(args.database_url.as_deref()).await?;
    let result = seeded_run(args, shapes, &database).await;
    // Kept only when there is something to look at: a run that stopped halfway is removed.
    if args.keep && result.is_ok() {
        eprintln!("kept the database: {}", database.url);
        return result.map(|report| Report {
            kept: Some(database.url.clone()),
            ..report
        });
    }
    if let Err(e) = database.remove().await {
        eprintln!("warning: the benchmark's database was not removed: {e:#}");
    }
    result
}

async fn seeded_run(
    args: &ApiArgs,
    shapes: &[(String, String)],
    database: &seed::Database,
) -> anyhow::Result<Report> {
    let master = MasterKey::generate();
    let started = Instant::now();
    eprintln!(
        "seeding the demo tenant with {} accounts on {} …",
        args.accounts.max(demo::ACCOUNTS.len()),
        database.engine()
    );
    let seeded = seed::fill(&database.url, args.accounts, &master).await?;
    eprintln!(
        "seeded in {:.1}s: {} accounts, {} subscriptions, {} usage samples, {} audit events; {}",
        started.elapsed().as_secs_f64(),
        seeded.accounts,
        seeded.subscriptions,
        seeded.samples,
        seeded.audit_events,
        seeded.linked
    );
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let token = JwtKeys::new(secret.as_bytes())?.issue(
        demo::TENANT,
        Role::Admin,
        "bench",
        Duration::from_secs(24 * 3600),
    )?;
    let server = Server::start(&database.url, &secret, &master, !args.no_rate_limit)?;
    let idle = proc::memory_kb(server.pid);
    let target = Target::new(&format!("{}/graphql", server.base), Some(&token))?;
    let probe = Probe {
        server_pid: Some(server.pid),
        postgres: database.postgres_name.as_deref(),
        server: Some(&server),
    };
    let mut report = measure(args, &target, &probe, shapes).await?;
    report.system = "billbridge".into();
    report.engine = Some(database.engine().into());
    report.accounts = Some(seeded.accounts);
    report.rate_limiter = Some(!args.no_rate_limit);
    report.idle_rss_mb = idle.map(|(rss, _)| mb(rss));
    report.peak_rss_mb = proc::memory_kb(server.pid).map(|(_, hwm)| mb(hwm));
    drop(server);
    if shapes.iter().any(|(name, _)| name == TYPENAME) {
        // The same load at the floor: a handler that only answers.
        let plain = Server::plain()?;
        let target = Target::new(&format!("{}/graphql", plain.base), None)?;
        let probe = Probe {
            server_pid: Some(plain.pid),
            postgres: None,
            server: None,
        };
        let floor = [(PLAIN.to_owned(), "{ __typename }".to_owned())];
        report
            .rows
            .extend(measure(args, &target, &probe, &floor).await?.rows);
    }
    Ok(report)
}

/// Each shape in turn: one checked request, the warm-up, then the measured load between
/// two readings of the probe.
async fn measure(
    args: &ApiArgs,
    target: &Target,
    probe: &Probe<'_>,
    shapes: &[(String, String)],
) -> anyhow::Result<Report> {
    let mut rows = Vec::new();
    for (name, query) in shapes {
        let body = load::body(query);
        if let Some(problem) = load::check(target, &body).await? {
            eprintln!("{name}: FAILED at the first request: {problem}");
            rows.push(Row {
                shape: name.clone(),
                requests: 1,
                rps: 0.0,
                p50_ms: 0.0,
                p99_ms: 0.0,
                server_cpu_us: None,
                postgres_cpu_us: None,
                statements: None,
                failed: 1,
                errors: vec![problem],
            });
            continue;
        }
        eprintln!(
            "{name}: warming up {} s, measuring {} s …",
            args.warmup, args.duration
        );
        if args.warmup > 0 {
            load::drive(
                target,
                &body,
                args.connections,
                Duration::from_secs(args.warmup),
            )
            .await;
        }
        let before = probe.read().await;
        let outcome = load::drive(
            target,
            &body,
            args.connections,
            Duration::from_secs(args.duration),
        )
        .await;
        let after = probe.read().await;
        let requests = outcome.requests().max(1) as f64;
        let per_request_us = |b: Option<u64>, a: Option<u64>| {
            Some(a?.saturating_sub(b?) as f64 * 1e6 / proc::TICKS_PER_SECOND as f64 / requests)
        };
        rows.push(Row {
            shape: name.clone(),
            requests: outcome.requests(),
            rps: outcome.per_second(),
            p50_ms: outcome.quantile_ms(0.50),
            p99_ms: outcome.quantile_ms(0.99),
            server_cpu_us: per_request_us(before.server_ticks, after.server_ticks),
            postgres_cpu_us: per_request_us(before.postgres_ticks, after.postgres_ticks),
            statements: before
                .statements
                .zip(after.statements)
                .map(|(b, a)| a.saturating_sub(b) as f64 / requests),
            failed: outcome.failures,
            errors: outcome.examples,
        });
    }
    Ok(Report {
        system: String::new(),
        engine: None,
        accounts: None,
        connections: args.connections,
        duration_s: args.duration,
        idle_rss_mb: None,
        peak_rss_mb: None,
        rows,
        rate_limiter: None,
        kept: None,
    })
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// The report as a Markdown table with a heading line, ready for the README.
fn render(report: &Report) -> String {
    let mut out = String::new();
    let mut title = report.system.clone();
    if let Some(engine) = &report.engine {
        let _ = write!(title, " on {engine}");
    }
    if let Some(accounts) = report.accounts {
        let _ = write!(title, ", {} accounts", thousands(accounts as f64));
    }
    let _ = write!(
        title,
        ", {} connections, {} s per shape",
        report.connections, report.duration_s
    );
    if report.rate_limiter == Some(false) {
        title.push_str(", rate limiter off");
    }
    if let (Some(idle), Some(peak)) = (report.idle_rss_mb, report.peak_rss_mb) {
        let _ = write!(title, "; server RSS {idle:.1} MB idle, {peak:.1} MB peak");
    }
    let _ = writeln!(out, "\n{title}\n");
    let _ = writeln!(
        out,
        "| shape | requests | rps | p50 | p99 | server CPU/request | PostgreSQL CPU/request | statements/request | result |"
    );
    let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|---|");
    for row in &report.rows {
        let dash = || "–".to_owned();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} ms | {:.1} ms | {} | {} | {} | {} |",
            row.shape,
            thousands(row.requests as f64),
            thousands(row.rps),
            row.p50_ms,
            row.p99_ms,
            row.server_cpu_us
                .map_or_else(dash, |us| format!("{} µs", thousands(us))),
            row.postgres_cpu_us
                .map_or_else(dash, |us| format!("{} µs", thousands(us))),
            row.statements.map_or_else(dash, |n| format!("{n:.2}")),
            if row.failed == 0 {
                "ok".to_owned()
            } else {
                format!("FAILED ({} of {})", row.failed, row.requests)
            }
        );
    }
    let rps = |name: &str| report.rows.iter().find(|r| r.shape == name).map(|r| r.rps);
    if let (Some(typename), Some(plain)) = (rps(TYPENAME), rps(PLAIN)) {
        let _ = writeln!(
            out,
            "\n`{{ __typename }}` with a token: {} rps, {:.2}× the plain axum JSON handler's {} rps",
            thousands(typename),
            typename / plain.max(f64::EPSILON),
            thousands(plain)
        );
    }
    for row in report.rows.iter().filter(|r| r.failed > 0) {
        for error in &row.errors {
            let _ = writeln!(out, "\n{}: {error}", row.shape);
        }
    }
    out
}

/// `12345.6` → `12,346`.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1234.5), "1,234");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }

    #[test]
    fn a_failed_shape_says_so() {
        let report = Report {
            system: "billbridge".into(),
            engine: Some("SQLite".into()),
            accounts: Some(1000),
            connections: 16,
            duration_s: 10,
            idle_rss_mb: Some(12.0),
            peak_rss_mb: Some(30.5),
            rows: vec![Row {
                shape: "services".into(),
                requests: 2000,
                rps: 200.0,
                p50_ms: 1.0,
                p99_ms: 2.0,
                server_cpu_us: Some(1500.0),
                postgres_cpu_us: None,
                statements: Some(5.0),
                failed: 3,
                errors: vec!["HTTP 500: boom".into()],
            }],
            rate_limiter: Some(true),
            kept: None,
        };
        let text = render(&report);
        assert!(text.contains("billbridge on SQLite, 1,000 accounts, 16 connections, 10 s per shape; server RSS 12.0 MB idle, 30.5 MB peak"), "{text}");
        assert!(text.contains("| services | 2,000 | 200 | 1.0 ms | 2.0 ms | 1,500 µs | – | 5.00 | FAILED (3 of 2000) |"), "{text}");
        assert!(text.contains("services: HTTP 500: boom"), "{text}");
    }
}
