//! The `push_runs` table.
use sea_orm::entity::prelude::*;

use crate::domain::{RunStatus, RunTrigger};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "push_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub service_id: Option<i64>,
    pub dry_run: bool,
    pub trigger: RunTrigger,
    pub triggered_by: String,
    pub status: RunStatus,
    pub message: Option<String>,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub total_lines: i32,
    pub done: i32,
    pub unchanged: i32,
    pub skipped: i32,
    pub failed: i32,
    /// `RETIRE` lines written.
    pub retired: i32,
    pub cancel_requested: bool,
    /// The replica executing it, while its lease lasts.
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    pub slot_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
