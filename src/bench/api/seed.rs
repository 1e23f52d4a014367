//! The data `bench api` reads: a fresh database (a SQLite file, or a PostgreSQL database
//! created for the run beside the one the URL names) holding the demo tenant scaled up to N
//! accounts — the demo's catalogue, levels and mappings, its 50 accounts, and more made the
//! same way (subscriptions, twelve weeks of usage, a ConnectWise company each, linked by the
//! real company sync against a sandbox), plus an audit log to page through.

use anyhow::{Context, bail};
use chrono::{Duration as Days, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DatabaseConnection, Set};
use std::path::PathBuf;

use crate::connectwise::Settings;
use crate::crypto::MasterKey;
use crate::db::accounts::{self, AccountInput, SubscriptionInput};
use crate::db::entity::{audit_event, usage_sample};
use crate::db::{self, Scope, catalog, tenants};
use crate::demo;
use crate::psa::Psa;
use crate::sandbox::{self, Sandbox};

/// Chance in percent that an account subscribes to each product, by the order the demo
/// creates them (backup, mailbox protection, gateway, web filtering): the demo's own odds.
const SUBSCRIBE_PERCENT: [u32; 4] = [100, 60, 30, 25];
/// Weeks of usage per metric, as in the demo.
const WEEKS: i64 = 12;
/// Audit events, so the audit log's page is full.
const AUDIT_EVENTS: usize = 200;

/// Where the run's data lives, and how to tidy it away.
pub struct Database {
    /// What `serve --database-url` is given.
    pub url: String,
    /// The PostgreSQL database's name, to find its backends; `None` on SQLite.
    pub postgres_name: Option<String>,
    tidy: Tidy,
}

enum Tidy {
    /// The folder holding the SQLite file.
    Folder(PathBuf),
    /// Drop this database through the admin URL.
    Drop { admin: String, name: String },
}

impl Database {
    pub fn engine(&self) -> &'static str {
        if self.postgres_name.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }

    /// A fresh database: a SQLite file in a new temporary folder when `url` is `None`, or a
    /// new database on the PostgreSQL server of `url` (whose own database is only used to
    /// create and later drop it).
    pub async fn create(url: Option<&str>) -> anyhow::Result<Database> {
        let tag = format!("{}_{}", std::process::id(), rand::random::<u32>());
        match url {
            None => {
                let folder = std::env::temp_dir().join(format!("billbridge-bench-{tag}"));
                std::fs::create_dir_all(&folder)
                    .with_context(|| format!("creating {}", folder.display()))?;
                Ok(Database {
                    url: format!("sqlite://{}", folder.join("bench.db").display()),
                    postgres_name: None,
                    tidy: Tidy::Folder(folder),
                })
            }
            Some(admin)
                if admin.starts_with("postgres://") || admin.starts_with("postgresql://") =>
            {
                let name = format!("bb_bench_{tag}");
                let url = with_database(admin, &name)?;
                let server = db::connect(db::options(admin))
                    .await
                    .context("connecting to PostgreSQL with --database-url")?;
                server
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .with_context(|| format!("creating the database {name}"))?;
                server.close().await.ok();
                Ok(Database {
                    url,
                    postgres_name: Some(name.clone()),
                    tidy: Tidy::Drop {
                        admin: admin.to_owned(),
                        name,
                    },
                })
            }
            Some(other) => bail!(
                "--database-url {other:?}: give a postgres:// URL (a fresh database is created on that server), or leave it out for a temporary SQLite file"
            ),
        }
    }

    /// Removes the file or drops the database (after the server has stopped).
    pub async fn remove(self) -> anyhow::Result<()> {
        match self.tidy {
            Tidy::Folder(folder) => std::fs::remove_dir_all(&folder)
                .with_context(|| format!("removing {}", folder.display())),
            Tidy::Drop { admin, name } => {
                let server = db::connect(db::options(&admin)).await?;
                server
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .with_context(|| format!("dropping the database {name}"))?;
                server.close().await.ok();
                Ok(())
            }
        }
    }
}

/// `url` with its database name replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    if server.len() <= authority {
        bail!("--database-url {url:?}: no server in it");
    }
    Ok(match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    })
}

/// What was made.
pub(crate) struct Seeded {
    pub accounts: usize,
    pub subscriptions: usize,
    pub samples: usize,
    pub linked: String,
    pub audit_events: usize,
}

/// Migrates `url` and fills it: the demo tenant, then accounts up to `count` (at least the
/// demo's 50), linked through a sandbox whose private key is sealed under `master`.
pub async fn fill(url: &str, count: usize, master: &MasterKey) -> anyhow::Result<Seeded> {
    let db = db::connect(db::options(url)).await?;
    db::migrate(&db).await.context("applying migrations")?;
    demo::seed(&db).await.context("creating the demo tenant")?;
    let tenant = tenants::by_slug(&db, demo::TENANT)
        .await?
        .context("the demo tenant is missing")?;
    let scope = Scope::new(db.clone(), &tenant);
    let names = more_accounts(&scope, count).await?;
    let audit_events = audit_log(&scope).await?;

    // ConnectWise: the demo's, with a company for every account added.
    let sandbox = Sandbox::new(&sandbox::Options::default());
    sandbox.with_store(|store| {
        for name in &names {
            store.add_company(name, &demo::company_name(name), None);
        }
    });
    let site = sandbox.spawn(tokio::net::TcpListener::bind("127.0.0.1:0").await?)?;
    let psa = Psa::new(master.clone(), Settings::default());
    let linked = demo::connect_sandbox(&db, &psa, &site)
        .await
        .context("linking the accounts")?;

    let seeded = Seeded {
        accounts: accounts::all(&scope).await.map_err(fail)?.len(),
        subscriptions: count_rows(&db, "subscriptions").await?,
        samples: count_rows(&db, "usage_samples").await?,
        linked,
        audit_events,
    };
    db.close().await.ok();
    Ok(seeded)
}

fn fail(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!(e.message())
}

async fn count_rows(db: &DatabaseConnection, table: &str) -> anyhow::Result<usize> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await?
        .context("no count")?;
    Ok(usize::try_from(row.try_get::<i64>("", "n")?)?)
}

/// Accounts beyond the demo's, named after them (`acme-dental-001`, …), subscribed and
/// measured the way the demo's are. Returns their names.
async fn more_accounts(scope: &Scope, count: usize) -> anyhow::Result<Vec<String>> {
    let extra = count.saturating_sub(demo::ACCOUNTS.len());
    let names: Vec<String> = (0..extra)
        .map(|i| {
            let base = demo::ACCOUNTS[i % demo::ACCOUNTS.len()];
            format!("{base}-{:03}", i / demo::ACCOUNTS.len() + 1)
        })
        .collect();
    if names.is_empty() {
        return Ok(names);
    }
    let services = catalog::services(scope).await.map_err(fail)?;
    let service_ids: Vec<i64> = services.iter().map(|s| s.id).collect();
    let mut products = catalog::products_of_services(scope, &service_ids)
        .await
        .map_err(fail)?;
    products.sort_by_key(|p| p.id);
    let product_ids: Vec<i64> = products.iter().map(|p| p.id).collect();
    let mut plans = catalog::plans_of_products(scope, &product_ids)
        .await
        .map_err(fail)?;
    plans.sort_by_key(|p| p.id);
    let metrics = catalog::metrics_of_products(scope, &product_ids)
        .await
        .map_err(fail)?;

    let mut dice = StdRng::seed_from_u64(0xb111_b71d_6e00_5eed);
    let rows: Vec<AccountInput> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let subscriptions = products
                .iter()
                .zip(SUBSCRIBE_PERCENT)
                .filter(|(_, percent)| dice.random_range(0..100) < *percent)
                .map(|(product, _)| {
                    let offered: Vec<_> = plans
                        .iter()
                        .filter(|p| p.product_id == product.id)
                        .collect();
                    SubscriptionInput {
                        product_id: product.id,
                        plan_id: (!offered.is_empty()).then(|| offered[i % offered.len()].id),
                    }
                })
                .collect();
            AccountInput {
                name: name.clone(),
                link_identifier: None,
                subscriptions,
            }
        })
        .collect();
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(accounts::MAX_BATCH) {
        let saved = accounts::upsert(scope, chunk.to_vec())
            .await
            .map_err(fail)?;
        ids.extend(saved.into_iter().map(|a| (a.name, a.id)));
    }
    let id_of: std::collections::HashMap<String, i64> = ids.into_iter().collect();

    // Twelve weekly samples per metric of every subscription: storage near the plan's
    // size and growing, counts drifting.
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or_else(Utc::now, |midnight| midnight.and_utc());
    let mut samples = Vec::new();
    for row in &rows {
        let account = id_of[&row.name];
        for subscription in &row.subscriptions {
            let base = plans
                .iter()
                .find(|p| Some(p.id) == subscription.plan_id)
                .map_or(50.0, |p| p.base_size_gb.max(40.0));
            for metric in metrics
                .iter()
                .filter(|m| m.product_id == subscription.product_id)
            {
                let gb = metric.unit == crate::domain::MetricUnit::Gb;
                let mut level = if gb {
                    base * dice.random_range(0.5..1.3)
                } else {
                    dice.random_range(1.0_f64..40.0).floor()
                };
                for week in (0..WEEKS).rev() {
                    samples.push(usage_sample::ActiveModel {
                        account_id: Set(account),
                        metric_id: Set(metric.id),
                        quantity: Set(if gb {
                            (level * 100.0).round() / 100.0
                        } else {
                            level.floor()
                        }),
                        measured_at: Set(today - Days::weeks(week)),
                        ..Default::default()
                    });
                    level = if gb {
                        level * dice.random_range(1.0..1.04)
                    } else {
                        (level + dice.random_range(-1.0..2.0)).max(0.0)
                    };
                }
            }
        }
    }
    let txn = scope.begin().await?;
    txn.scope().insert_many(txn.scope().db(), samples).await?;
    txn.commit().await?;
    Ok(names)
}

/// Audit events as changes to the catalogue would leave them.
async fn audit_log(scope: &Scope) -> anyhow::Result<usize> {
    let now = Utc::now();
    let rows: Vec<audit_event::ActiveModel> = (0..AUDIT_EVENTS)
        .map(|i| {
            let (entity, verb) = [
                ("mapping", "update"),
                ("plan", "create"),
                ("level", "create"),
            ][i % 3];
            audit_event::ActiveModel {
                at: Set(now - Days::minutes((AUDIT_EVENTS - i) as i64)),
                actor: Set("bench".into()),
                action: Set(format!("{entity}.{verb}")),
                entity: Set(entity.into()),
                entity_id: Set(Some((i + 1).to_string())),
                summary: Set(format!("{verb}d {entity} {}", i + 1)),
                ..Default::default()
            }
        })
        .collect();
    scope.insert_many(scope.db(), rows).await?;
    Ok(AUDIT_EVENTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "bb").expect("url"),
            "postgres://postgres@127.0.0.1:5432/bb"
        );
        assert_eq!(
            with_database("postgres://u:p@db.example/app?sslmode=require", "bb").expect("url"),
            "postgres://u:p@db.example/bb?sslmode=require"
        );
        assert_eq!(
            with_database("postgres://db.example", "bb").expect("url"),
            "postgres://db.example/bb"
        );
        assert!(with_database("postgres://", "bb").is_err());
    }

    /// The demo scaled to 120 accounts: every one subscribed to backup, measured for twelve
    /// weeks, and linked — the 70 added and the demo's 48 (one of its 50 has no company, one
    /// is claimed twice).
    #[tokio::test]
    async fn the_demo_is_scaled_up() {
        let database = Database::create(None).await.expect("database");
        let seeded = fill(&database.url, 120, &MasterKey::generate())
            .await
            .expect("seeded");
        assert_eq!(seeded.accounts, 120);
        assert!(seeded.subscriptions >= 120, "{}", seeded.subscriptions);
        assert!(
            seeded.samples >= 120 * 5 * WEEKS as usize,
            "{}",
            seeded.samples
        );
        assert!(
            seeded
                .linked
                .contains("118 accounts linked, 1 not found, 1 ambiguous"),
            "{}",
            seeded.linked
        );
        assert_eq!(seeded.audit_events, AUDIT_EVENTS);
        database.remove().await.expect("removed");
    }
}
