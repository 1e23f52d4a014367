//! The data `bench api` reads: a fresh database (a SQLite file, or a PostgreSQL database
//! created for the run beside the one the URL names) holding the demo tenant scaled up to N
//! accounts — the demo's catalogue, levels and mappings, its 50 accounts, and more made the
//! same way (subscriptions, twelve weeks of usage, a ConnectWise company each, linked by the
//! real company sync against a sandbox), plus an audit log to page through.

use anyhow::{Context, bail};
use chrono::{Duration as Days, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Set};
use std::path::PathBuf;

use crate::connectwise::Settings;
use crate::crypto::MasterKey;
use crate::db::accounts;
use crate::db::entity::audit_event;
use crate::db::{self, Scope, tenants};
use crate::demo;
use crate::psa::Psa;
use crate::sandbox::{self, Sandbox};

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
    let names = demo::more::accounts(&scope, count).await?;
    let audit_events = audit_log(&scope).await?;

    // ConnectWise: the demo's, with a company for every account added.
    let sandbox = Sandbox::new(&sandbox::Options::default());
    sandbox.with_store(|store| sandbox::more_customers(store, &names));
    let site = sandbox.spawn(tokio::net::TcpListener::bind("127.0.0.1:0").await?)?;
    let psa = Psa::new(master.clone(), Settings::default());
    let linked = demo::connect_sandbox(&db, &psa, &site)
        .await
        .context("linking the accounts")?;

    // Planner statistics, as a running PostgreSQL's autovacuum would have gathered after
    // such a load (and has not, on a server where it is off): without them the planner
    // guesses three rows a tenant and sorts every account for a page of fifty.
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("ANALYZE").await?;
    }
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
            seeded.samples >= 120 * 5 * demo::more::WEEKS as usize,
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
