//! The only place that defines billbridge's tables. Every migration runs on SQLite and
//! PostgreSQL alike; `billbridge migrate` and `billbridge serve` apply them.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_foundation;
mod m20261122_000002_connectwise;
mod m20261122_000003_push;
mod m20261122_000004_webhook_once;
mod m20261122_000005_users;
mod m20261122_000006_api_tokens;
mod m20261122_000007_audit;
mod m20261127_000008_connectwise_contract;
mod m20261127_000009_ownership;
mod m20261127_000010_allowances;
mod m20261127_000011_imports;
mod m20261128_000012_latest_usage;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_connectwise::Migration),
            Box::new(m20261122_000003_push::Migration),
            Box::new(m20261122_000004_webhook_once::Migration),
            Box::new(m20261122_000005_users::Migration),
            Box::new(m20261122_000006_api_tokens::Migration),
            Box::new(m20261122_000007_audit::Migration),
            Box::new(m20261127_000008_connectwise_contract::Migration),
            Box::new(m20261127_000009_ownership::Migration),
            Box::new(m20261127_000010_allowances::Migration),
            Box::new(m20261127_000011_imports::Migration),
            Box::new(m20261128_000012_latest_usage::Migration),
        ]
    }
}
