//! The `audit_events` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub at: DateTimeUtc,
    /// The user's email or the token's subject.
    pub actor: String,
    /// `<entity>.<verb>`, e.g. `mapping.create`.
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub summary: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
