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
/// ([`super::key_to`]).
#[derive(Copy, Clone, Debug, EnumIter)]
pub enum Relation {
    Product,
    Plan,
}

impl RelationTrait for Relation {
    fn def(&self) -> RelationDef {
        match self {
            Relation::Product => super::key_to::<Entity, super::product::Entity>(
                Column::ProductId,
                super::product::Column::Id,
            ),
            Relation::Plan => super::key_to::<Entity, super::plan::Entity>(
                Column::PlanId,
                super::plan::Column::Id,
            ),
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
