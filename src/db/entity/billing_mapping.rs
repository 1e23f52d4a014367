//! The `billing_mappings` table.
use sea_orm::entity::prelude::*;

use super::same_tenant;

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
/// ([`same_tenant`]).
#[derive(Copy, Clone, Debug, EnumIter)]
pub enum Relation {
    Product,
    Plan,
    Level,
}

impl RelationTrait for Relation {
    fn def(&self) -> RelationDef {
        match self {
            Relation::Product => Entity::belongs_to(super::product::Entity)
                .from(Column::ProductId)
                .to(super::product::Column::Id)
                .on_condition(same_tenant)
                .into(),
            Relation::Plan => Entity::belongs_to(super::plan::Entity)
                .from(Column::PlanId)
                .to(super::plan::Column::Id)
                .on_condition(same_tenant)
                .into(),
            Relation::Level => Entity::belongs_to(super::level::Entity)
                .from(Column::LevelId)
                .to(super::level::Column::Id)
                .on_condition(same_tenant)
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

impl Related<super::level::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Level.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
