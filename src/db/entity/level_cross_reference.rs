//! The `level_cross_references` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "level_cross_references")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub level_id: i64,
    /// The cross-reference row id in ConnectWise.
    pub connectwise_id: i64,
    pub vendor_type: String,
    pub agreement_type_id: Option<i64>,
    pub agreement_type_name: Option<String>,
    pub product_id: Option<i64>,
    pub product_identifier: Option<String>,
    pub inactive: bool,
    pub synced_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
