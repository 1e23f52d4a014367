//! SeaORM entities, one per table. They mirror `migration/`; they are not the API.

pub mod account;
pub mod account_link;
pub mod api_token;
pub mod audit_event;
pub mod billing_mapping;
pub mod import_mapping;
pub mod latest_usage;
pub mod level;
pub mod level_cross_reference;
pub mod metric;
pub mod owned_addition;
pub mod plan;
pub mod product;
pub mod psa_connection;
pub mod push_line;
pub mod push_run;
pub mod push_schedule;
pub mod push_settings;
pub mod push_slot;
pub mod service;
pub mod state;
pub mod subscription;
pub mod tenant;
pub mod usage_sample;
pub mod user;
pub mod webhook;
pub mod webhook_attempt;
pub mod webhook_delivery;

use sea_orm::sea_query::{Condition, DynIden, Expr, ExprTrait, IntoCondition};
use sea_orm::{EntityTrait, Related, RelationDef};

/// `E`'s `key` names a row of `R` by `id`, joined within `E`'s tenant ([`same_tenant`]).
pub(crate) fn key_to<E: EntityTrait, R: EntityTrait>(key: E::Column, id: R::Column) -> RelationDef {
    E::belongs_to(R::default())
        .from(key)
        .to(id)
        .on_condition(same_tenant)
        .into()
}

/// `E`'s rows of `R` (the reverse of `R`'s key to `E`), joined within the tenant:
/// SeaORM's `has_many` drops the reversed relation's condition, so it is given again.
pub(crate) fn many<E: EntityTrait, R: EntityTrait + Related<E>>() -> RelationDef {
    E::has_many(R::default()).on_condition(same_tenant).into()
}

/// `E`'s one row of `R`, as [`many`] (`has_one` drops the condition too).
pub(crate) fn one<E: EntityTrait, R: EntityTrait + Related<E>>() -> RelationDef {
    E::has_one(R::default()).on_condition(same_tenant).into()
}

/// The condition every join between tenant-owned tables adds to its keys: both rows are of
/// the same tenant, so a join can never reach another tenant's row even if a key were wrong.
pub(crate) fn same_tenant(left: DynIden, right: DynIden) -> Condition {
    Expr::col((left, TenantId))
        .equals((right, TenantId))
        .into_condition()
}

/// The `tenant_id` column every tenant-owned table has.
#[derive(Clone, Copy)]
struct TenantId;

impl sea_orm::sea_query::Iden for TenantId {
    fn unquoted(&self) -> &str {
        "tenant_id"
    }
}
