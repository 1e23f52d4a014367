//! The `products` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub service_id: i64,
    pub name: String,
}

/// A product's service, joined within the product's tenant ([`super::same_tenant`]).
#[derive(Copy, Clone, Debug, EnumIter)]
pub enum Relation {
    Service,
}

impl RelationTrait for Relation {
    fn def(&self) -> RelationDef {
        match self {
            Relation::Service => Entity::belongs_to(super::service::Entity)
                .from(Column::ServiceId)
                .to(super::service::Column::Id)
                .on_condition(super::same_tenant)
                .into(),
        }
    }
}

impl Related<super::service::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Service.def()
    }
}

/// A product's mappings, joined within the tenant (`has_many` drops the reverse
/// relation's condition, so it is given again).
impl Related<super::billing_mapping::Entity> for Entity {
    fn to() -> RelationDef {
        Entity::has_many(super::billing_mapping::Entity)
            .on_condition(super::same_tenant)
            .into()
    }
}

impl ActiveModelBehavior for ActiveModel {}
