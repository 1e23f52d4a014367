//! The `services` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

/// A service's products, joined within the tenant.
impl Related<super::product::Entity> for Entity {
    fn to() -> RelationDef {
        super::many::<Entity, super::product::Entity>()
    }
}

impl ActiveModelBehavior for ActiveModel {}
