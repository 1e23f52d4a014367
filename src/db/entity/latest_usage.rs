//! The `latest_usage` table: the newest sample of each (account, metric) that has usage,
//! kept by triggers on `usage_samples` (see the migration `m20261128_000012_latest_usage`).
//! Read-only here: no query module writes it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "latest_usage")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub metric_id: i64,
    pub tenant_id: i64,
    pub sample_id: i64,
    pub measured_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
