//! The `push_settings` table: how a tenant's pushes treat additions no mapping wants and
//! additions edited by hand.
use sea_orm::entity::prelude::*;

use crate::domain::{OnManualEdit, RetireMode};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "push_settings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub retire_mode: RetireMode,
    pub on_manual_edit: OnManualEdit,
    pub updated_by: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
