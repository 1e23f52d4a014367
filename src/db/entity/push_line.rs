//! The `push_lines` table.
use sea_orm::entity::prelude::*;

use crate::domain::{LineAction, LineOutcome, SkipReason};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "push_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub run_id: i64,
    pub seq: i32,
    /// The account names the line adds up, comma-separated.
    pub accounts: String,
    /// The subscriptions (product / plan) it serves, comma-separated.
    pub subscription: Option<String>,
    pub company_id: Option<i64>,
    pub company_name: Option<String>,
    pub metric: Option<String>,
    pub level: Option<String>,
    pub agreement_id: Option<i64>,
    pub agreement_name: Option<String>,
    /// The agreement this one bills through, if it is a child agreement.
    pub parent_agreement_id: Option<i64>,
    pub parent_agreement_name: Option<String>,
    /// billbridge's product and the mapping the line serves (recorded with ownership).
    pub local_product_id: Option<i64>,
    pub mapping_id: Option<i64>,
    /// What billbridge last wrote to the addition, when it owns it.
    pub last_written_quantity: Option<f64>,
    /// ConnectWise's quantity differs from what billbridge last wrote (edited by hand).
    pub drifted: bool,
    /// A new addition's start (a successor starts when its predecessor's cancellation
    /// does); for a `CANCEL` retire, the cancellation date.
    pub effective_date: Option<DateTimeUtc>,
    /// What one unit bills a month (the addition's price, or the catalog's for a new one).
    pub unit_price: Option<f64>,
    pub addition_id: Option<i64>,
    pub product_id: Option<i64>,
    pub product_identifier: Option<String>,
    pub current_quantity: Option<f64>,
    pub new_quantity: Option<f64>,
    pub action: LineAction,
    /// Why a `Skip` line writes nothing.
    pub reason: Option<SkipReason>,
    pub detail: String,
    pub outcome: LineOutcome,
    pub error: Option<String>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
