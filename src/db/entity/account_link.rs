//! The `account_links` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "account_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub account_id: i64,
    /// `LINKED`, `NOT_FOUND` or `AMBIGUOUS`.
    pub state: String,
    /// `COMPANY_ID` or `ECHO_USERNAME` when linked.
    pub via: Option<String>,
    pub company_id: Option<i64>,
    pub company_identifier: Option<String>,
    pub company_name: Option<String>,
    pub reason: String,
    pub synced_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
