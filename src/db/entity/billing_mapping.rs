//! The `billing_mappings` table.
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{ExprTrait, IntoCondition};

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

/// A mapping's plan and level, joined within the mapping's tenant (the join also matches
/// `tenant_id`, so a join can never reach another tenant's row).
#[derive(Copy, Clone, Debug, EnumIter)]
pub enum Relation {
    Plan,
    Level,
}

impl RelationTrait for Relation {
    fn def(&self) -> RelationDef {
        match self {
            Relation::Plan => Entity::belongs_to(super::plan::Entity)
                .from(Column::PlanId)
                .to(super::plan::Column::Id)
                .on_condition(|mapping, plan| {
                    Expr::col((plan, super::plan::Column::TenantId))
                        .equals((mapping, Column::TenantId))
                        .into_condition()
                })
                .into(),
            Relation::Level => Entity::belongs_to(super::level::Entity)
                .from(Column::LevelId)
                .to(super::level::Column::Id)
                .on_condition(|mapping, level| {
                    Expr::col((level, super::level::Column::TenantId))
                        .equals((mapping, Column::TenantId))
                        .into_condition()
                })
                .into(),
        }
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
