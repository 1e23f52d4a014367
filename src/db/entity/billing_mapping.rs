//! The `billing_mappings` table.
use sea_orm::entity::prelude::*;

use crate::domain::UsageValue;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "billing_mappings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub product_id: i64,
    /// `None` is "(All plans)".
    pub plan_id: Option<i64>,
    pub level_id: i64,
    pub usage_value: UsageValue,
    pub managed_externally: bool,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_by: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
