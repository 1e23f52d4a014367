//! The `billing_mappings` table.
use sea_orm::entity::prelude::*;

use crate::domain::UsageValue;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "billing_mappings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub product_id: i64,
    /// `None` is "(All plans)".
    pub plan_id: Option<i64>,
    pub level_id: i64,
    pub usage_value: UsageValue,
    pub managed_externally: bool,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_by: String,
    pub updated_at: DateTimeUtc,
}

/// A mapping's product, plan and level, joined within the mapping's tenant
/// ([`super::key_to`]).
#[derive(Copy, Clone, Debug, EnumIter)]
pub enum Relation {
    Product,
    Plan,
    Level,
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
            Relation::Level => super::key_to::<Entity, super::level::Entity>(
                Column::LevelId,
                super::level::Column::Id,
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

impl Related<super::level::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Level.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
