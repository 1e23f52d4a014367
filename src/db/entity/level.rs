//! The `levels` table.
use sea_orm::entity::prelude::*;

use crate::domain::LevelSource;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "levels")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    /// Case-sensitive, exactly as typed or as ConnectWise holds it.
    pub name: String,
    pub source: LevelSource,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
