//! `billbridge bench push`: pushes N accounts (five metrics each) to an in-process sandbox
//! that answers every call after a fixed latency, and prints what it cost: wall time, calls,
//! calls per changed line, and the ratio to the lower bound
//! (write calls × latency ÷ concurrency). Then pushes again, which must write nothing.

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
pub use api::plain::serve as plain;
pub use api::{ApiArgs, api, shape};

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
                quantity: Set(if m.unit == "GB" {
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
        let started = Instant::now();
        let trigger = Trigger {
            kind: "CLI",
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
        let calls = difference(&before, &sandbox.calls());
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
        let changed = run.done.max(0) as u64;
        let bound = latency.mul_f64(writes as f64 / concurrency as f64);
        println!("\n{label}: run {} {}", run.id, run.status);
        println!(
            "  lines               {} ({} written, {} unchanged, {} skipped, {} failed)",
            run.total_lines, run.done, run.unchanged, run.skipped, run.failed
        );
        println!("  wall time           {:.2}s", wall.as_secs_f64());
        println!(
            "  ConnectWise calls   {} ({reads} reads, {writes} writes)",
            reads + writes
        );
        for (call, n) in &calls {
            println!("    {call:<52} {n}");
        }
        if changed > 0 {
            println!(
                "  calls/changed line  {:.3}",
                (reads + writes) as f64 / changed as f64
            );
            println!(
                "  lower bound         {:.2}s  (writes × {} ms ÷ {concurrency})",
                bound.as_secs_f64(),
                latency.as_millis()
            );
            println!(
                "  wall ÷ bound        {:.2}",
                wall.as_secs_f64() / bound.as_secs_f64()
            );
        } else {
            println!("  writes              {writes} (nothing changed, nothing written)");
        }
        if round == 2 {
            anyhow::ensure!(writes == 0, "the second push wrote {writes} times");
        }
    }
    Ok(())
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
