//! `billbridge bench push`: pushes N accounts (five metrics each) to an in-process sandbox
//! that answers every call after a fixed latency, and prints what it cost: wall time, calls,
//! calls per changed line, CPU, and the ratio to two lower bounds — every call the push
//! made × latency ÷ concurrency (its call bound: the agreement pages, the catalog, one
//! additions read per agreement it touches and the writes), and the writes alone × latency
//! ÷ concurrency. Then pushes again, which must write nothing.

use anyhow::Context;
use chrono::Utc;
use sea_orm::Set;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock::SystemClock;
use crate::connectwise::Settings;
use crate::crypto::MasterKey;
use crate::db::accounts::{AccountInput, SubscriptionInput};
use crate::db::catalog::{MetricSpec, PlanSpec};
use crate::db::entity::usage_sample;
use crate::db::mappings::{NewMapping, PlanChoice};
use crate::db::psa::ConnectionInput;
use crate::db::push::Trigger;
use crate::db::{self, Scope, accounts, catalog, levels, mappings, tenants};
use crate::domain::{LevelSource, MetricUnit, UsageValue};
use crate::metrics::Metrics;
use crate::psa::Psa;
use crate::push::{PushOptions, Pusher};
use crate::sandbox::{self, Sandbox};

mod api;
mod import;
pub use api::plain::serve as plain;
pub use api::{ApiArgs, api, shape};
pub use import::import;

const TYPES: [(&str, MetricUnit); 5] = [
    ("BackupUsage", MetricUnit::Gb),
    ("LocalBackup", MetricUnit::Count),
    ("ImageLicensing", MetricUnit::Count),
    ("Hyper-VHostLicensing", MetricUnit::Count),
    ("VMwareHostLicensing", MetricUnit::Count),
];

pub async fn push(accounts: usize, latency: Duration, concurrency: usize) -> anyhow::Result<()> {
    let file = std::env::temp_dir().join(format!("billbridge-bench-{}.db", rand::random::<u32>()));
    let result = run(&file, accounts, latency, concurrency).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    result
}

fn fail(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!(e.message())
}

async fn run(
    file: &std::path::Path,
    count: usize,
    latency: Duration,
    concurrency: usize,
) -> anyhow::Result<()> {
    println!("setting up {count} accounts × {} metrics …", TYPES.len());
    let setup = Instant::now();
    let db = db::connect(db::options(&format!("sqlite://{}", file.display()))).await?;
    db::migrate(&db).await?;
    let tenant = tenants::create(&db, "bench", "Bench MSP").await?;
    let scope = Scope::new(db.clone(), &tenant);

    let service = catalog::create_service(&scope, "Intronis Backup".into(), None)
        .await
        .map_err(fail)?;
    let specs = TYPES
        .iter()
        .map(|(t, unit)| MetricSpec {
            name: (*t).into(),
            cross_reference_type: (*t).into(),
            unit: *unit,
        })
        .collect();
    let product = catalog::create_product(&scope, service.id, "Intronis Backup Plan".into(), specs)
        .await
        .map_err(fail)?;
    let plan = catalog::create_plan(
        &scope,
        product.id,
        PlanSpec {
            unique_id: Some("IB-100".into()),
            base_size_gb: Some(100.0),
            ..Default::default()
        },
    )
    .await
    .map_err(fail)?;
    levels::create(&scope, "1".into(), LevelSource::Manual)
        .await
        .map_err(fail)?;
    let names: Vec<String> = (0..count).map(|i| format!("acct-{i:06}")).collect();
    for chunk in names.chunks(accounts::MAX_BATCH) {
        let rows = chunk
            .iter()
            .map(|name| AccountInput {
                name: name.clone(),
                link_identifier: None,
                subscriptions: vec![SubscriptionInput {
                    product_id: product.id,
                    plan_id: Some(plan.id),
                }],
            })
            .collect();
        accounts::upsert(&scope, rows).await.map_err(fail)?;
    }
    let ids = psa_accounts(&scope).await?;
    let metrics = catalog::metrics_of_products(&scope, &[product.id])
        .await
        .map_err(fail)?;
    let now = Utc::now();
    let samples: Vec<usage_sample::ActiveModel> = ids
        .iter()
        .enumerate()
        .flat_map(|(i, account)| {
            metrics.iter().map(move |m| usage_sample::ActiveModel {
                account_id: Set(*account),
                metric_id: Set(m.id),
                quantity: Set(if m.unit == crate::domain::MetricUnit::Gb {
                    80.0 + (i % 50) as f64
                } else {
                    (1 + i % 7) as f64
                }),
                measured_at: Set(now),
                ..Default::default()
            })
        })
        .collect();
    scope.insert_many(scope.db(), samples).await?;

    // ConnectWise: a company and a backup agreement per account, the cross-references of
    // level "1" for every type, no additions yet.
    let sandbox = Sandbox::new(&sandbox::Options {
        seed: sandbox::Seed::Empty,
        ..Default::default()
    });
    sandbox.with_store(|store| {
        let agreement_type = store.add_agreement_type(sandbox::BACKUP_AGREEMENT);
        let integration = store.add_integration(sandbox::DEMO_INTEGRATION);
        for (t, _) in TYPES {
            store.add_catalog_item(&format!("IB-{t}"), t);
            store.add_cross_reference(
                integration,
                t,
                "1",
                agreement_type,
                &format!("IB-{t}"),
                false,
            );
        }
        for name in &names {
            let company = store.add_company(name, name, None);
            store.add_agreement(company, agreement_type, &format!("{name} backup"));
        }
    });
    let site = sandbox.spawn(tokio::net::TcpListener::bind("127.0.0.1:0").await?)?;
    let master = MasterKey::generate();
    db::psa::save(
        &scope,
        &master,
        ConnectionInput {
            site,
            company_id: sandbox::DEMO_COMPANY_ID.into(),
            public_key: sandbox::DEMO_PUBLIC_KEY.into(),
            private_key: Some(sandbox::DEMO_PRIVATE_KEY.into()),
            client_id: "bench".into(),
            integration: sandbox::DEMO_INTEGRATION.into(),
            max_requests_per_second: None,
            codebase: None,
            api_version: None,
        },
        "bench",
    )
    .await
    .map_err(fail)?;
    let psa = Psa::new(master, Settings::default());
    psa.sync_levels(&scope).await.map_err(fail)?;
    let links = psa.sync_companies(&scope).await.map_err(fail)?;
    anyhow::ensure!(
        links.linked == count,
        "only {} of {count} accounts linked",
        links.linked
    );
    mappings::add(
        &scope,
        NewMapping {
            product_id: product.id,
            plans: PlanChoice::AllPlans,
            level: "1".into(),
            usage_value: UsageValue::Additional,
            managed_externally: false,
        },
        "bench",
    )
    .await
    .map_err(fail)?;
    println!("set up in {:.1}s", setup.elapsed().as_secs_f64());

    sandbox.set_latency(latency);
    // What a sleep of `latency` really takes here (the runtime's timer rounds up to the
    // next millisecond, and wakes late on a busy machine): no call can answer sooner.
    let slept = measured_sleep(latency, concurrency).await;
    println!(
        "sandbox latency {} ms (a plain sleep of it takes {:.2} ms here; the sandbox makes up for that)",
        latency.as_millis(),
        slept.as_secs_f64() * 1e3
    );
    let options = PushOptions {
        concurrency,
        ..Default::default()
    };
    let pusher = Pusher::new(
        db.clone(),
        psa,
        options,
        Arc::new(SystemClock),
        Arc::new(Metrics::default()),
    );
    for (round, label) in [
        (1, "first push (creates every addition)"),
        (2, "second push (nothing changed)"),
    ] {
        let before = sandbox.calls();
        let waited_before = sandbox.waited();
        let cpu_before = cpu_seconds();
        let started = Instant::now();
        let trigger = Trigger {
            kind: crate::domain::RunTrigger::Cli,
            by: "bench".into(),
            slot_at: None,
        };
        let run = pusher
            .begin(&scope, None, false, &trigger)
            .await
            .map_err(fail)?;
        let run = pusher
            .execute(&scope, run, false)
            .await
            .context("the run did not finish")?;
        let wall = started.elapsed();
        let cpu = cpu_seconds()
            .zip(cpu_before)
            .map(|(after, before)| after - before);
        let calls = difference(&before, &sandbox.calls());
        let waited = sandbox.waited();
        let answered_after =
            (waited.1 - waited_before.1) / (waited.0 - waited_before.0).max(1) as u32;
        let reads: u64 = calls
            .iter()
            .filter(|(k, _)| k.starts_with("GET "))
            .map(|(_, n)| n)
            .sum();
        let writes: u64 = calls
            .iter()
            .filter(|(k, _)| !k.starts_with("GET "))
            .map(|(_, n)| n)
            .sum();
        let all = reads + writes;
        let changed = run.done.max(0) as u64;
        let bound = |n: u64| latency.mul_f64(n as f64 / concurrency as f64);
        println!("\n{label}: run {} {}", run.id, run.status);
        println!(
            "  lines               {} ({} written, {} unchanged, {} skipped, {} failed)",
            run.total_lines, run.done, run.unchanged, run.skipped, run.failed
        );
        println!("  wall time           {:.2}s", wall.as_secs_f64());
        println!("  ConnectWise calls   {all} ({reads} reads, {writes} writes)");
        for (call, n) in &calls {
            println!("    {call:<52} {n}");
        }
        println!(
            "  call bound          {:.2}s  (all {all} calls × {} ms ÷ {concurrency}); wall ÷ bound {:.3}",
            bound(all).as_secs_f64(),
            latency.as_millis(),
            wall.as_secs_f64() / bound(all).as_secs_f64()
        );
        println!(
            "  per call            {:.2} ms  (wall × {concurrency} ÷ calls; the sandbox answered after {:.2} ms)",
            wall.as_secs_f64() * 1e3 * concurrency as f64 / all.max(1) as f64,
            answered_after.as_secs_f64() * 1e3
        );
        if let Some(cpu) = cpu {
            println!(
                "  CPU                 {cpu:.1}s  ({:.2} ms a call; billbridge and the sandbox)",
                cpu * 1e3 / all.max(1) as f64
            );
        }
        if changed > 0 {
            println!(
                "  write bound         {:.2}s  (writes × {} ms ÷ {concurrency}); wall ÷ bound {:.3}",
                bound(writes).as_secs_f64(),
                latency.as_millis(),
                wall.as_secs_f64() / bound(writes).as_secs_f64()
            );
            println!("  calls/changed line  {:.3}", all as f64 / changed as f64);
        } else {
            println!("  writes              {writes} (nothing changed, nothing written)");
        }
        if round == 2 {
            anyhow::ensure!(writes == 0, "the second push wrote {writes} times");
        }
    }
    Ok(())
}

/// The mean time `concurrency` tasks take to sleep `latency`, a few times each.
async fn measured_sleep(latency: Duration, concurrency: usize) -> Duration {
    const TIMES: u32 = 20;
    let sleepers = (0..concurrency.max(1)).map(|_| async move {
        let started = Instant::now();
        for _ in 0..TIMES {
            tokio::time::sleep(latency).await;
        }
        started.elapsed() / TIMES
    });
    let slept = futures_util::future::join_all(sleepers).await;
    slept.iter().sum::<Duration>() / slept.len().max(1) as u32
}

/// CPU time (user + system) this process has spent, from `/proc/self/stat` (Linux; `None`
/// elsewhere). Its clock ticks are `USER_HZ`, 100 a second on every Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    // utime and stime are fields 14 and 15, so 11 and 12 after the state (field 3).
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

async fn psa_accounts(scope: &Scope) -> anyhow::Result<Vec<i64>> {
    let mut ids: Vec<i64> = db::accounts::all(scope)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|a| a.id)
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

fn difference(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    after
        .iter()
        .map(|(k, n)| (k.clone(), n - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}
