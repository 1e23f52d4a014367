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

/// A subscription's product and plan, joined within the subscription's tenant
/// ([`super::same_tenant`]).
#[derive(Copy, Clone, Debug, EnumIter)]
pub enum Relation {
    Product,
    Plan,
}

impl RelationTrait for Relation {
    fn def(&self) -> RelationDef {
        match self {
            Relation::Product => Entity::belongs_to(super::product::Entity)
                .from(Column::ProductId)
                .to(super::product::Column::Id)
                .on_condition(super::same_tenant)
                .into(),
            Relation::Plan => Entity::belongs_to(super::plan::Entity)
                .from(Column::PlanId)
                .to(super::plan::Column::Id)
                .on_condition(super::same_tenant)
                .into(),
        }
    }
}

impl Related<super::product::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Product.def()
    }
}

impl Related<super::plan::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Plan.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
