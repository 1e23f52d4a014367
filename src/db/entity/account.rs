//! The `accounts` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    /// What to look for in ConnectWise when it differs from the name.
    pub link_identifier: Option<String>,
    /// The name the vendor's export shows (imports set it).
    pub display_name: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

/// An account's link, joined within the tenant.
impl Related<super::account_link::Entity> for Entity {
    fn to() -> RelationDef {
        super::one::<Entity, super::account_link::Entity>()
    }
}

impl ActiveModelBehavior for ActiveModel {}
