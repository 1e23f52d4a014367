//! The `subscriptions` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub account_id: i64,
    pub product_id: i64,
    pub plan_id: Option<i64>,
}

/// A subscription's plan, joined within the subscription's tenant
/// ([`super::same_tenant`]).
#[derive(Copy, Clone, Debug, EnumIter)]
pub enum Relation {
    Plan,
}

impl RelationTrait for Relation {
    fn def(&self) -> RelationDef {
        match self {
            Relation::Plan => Entity::belongs_to(super::plan::Entity)
                .from(Column::PlanId)
                .to(super::plan::Column::Id)
                .on_condition(super::same_tenant)
                .into(),
        }
    }
}

impl Related<super::plan::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Plan.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
