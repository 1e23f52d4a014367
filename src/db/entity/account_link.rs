//! The `account_links` table.
use sea_orm::entity::prelude::*;

use crate::domain::{LinkState, LinkVia};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "account_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub account_id: i64,
    pub state: LinkState,
    /// When linked.
    pub via: Option<LinkVia>,
    pub company_id: Option<i64>,
    pub company_identifier: Option<String>,
    pub company_name: Option<String>,
    pub reason: String,
    pub synced_at: DateTimeUtc,
}

/// A link's account, joined within the link's tenant ([`super::key_to`]).
#[derive(Copy, Clone, Debug, EnumIter)]
pub enum Relation {
    Account,
}

impl RelationTrait for Relation {
    fn def(&self) -> RelationDef {
        match self {
            Relation::Account => super::key_to::<Entity, super::account::Entity>(
                Column::AccountId,
                super::account::Column::Id,
            ),
        }
    }
}

impl Related<super::account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Account.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
