//! The `psa_connections` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "psa_connections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub site: String,
    pub company_id: String,
    pub public_key: String,
    /// Sealed by `crypto::MasterKey`; never leaves `db::psa` unopened.
    pub private_key_sealed: String,
    pub client_id: String,
    /// The managed devices integration, by name.
    pub integration: String,
    pub levels_synced_at: Option<DateTimeUtc>,
    pub companies_synced_at: Option<DateTimeUtc>,
    /// The tenant's ConnectWise request budget; `None` is unlimited.
    pub max_requests_per_second: Option<i32>,
    /// The codebase `companyinfo` named when connecting (`v2025_1`); `None` before it was asked.
    pub codebase: Option<String>,
    /// The model version pinned in `Accept`; `None` uses the client's default.
    pub api_version: Option<String>,
    pub updated_by: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
