//! The `owned_additions` table: ConnectWise additions billbridge created or adopted.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "owned_additions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    /// ConnectWise's ids, as found.
    pub agreement_id: i64,
    pub addition_id: i64,
    pub product_id: i64,
    pub company_id: i64,
    /// billbridge's product and mapping it served when last written (no foreign keys: it
    /// stays owned, to be retired, after they are deleted).
    pub local_product_id: Option<i64>,
    pub mapping_id: Option<i64>,
    /// The metric's cross-reference type.
    pub metric: String,
    /// What billbridge last wrote (the drift reference).
    #[sea_orm(column_type = "Double")]
    pub last_quantity: f64,
    pub last_written_at: DateTimeUtc,
    /// When billbridge retired it (set to 0 or cancelled); `None` while it bills for us.
    pub retired_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
