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

/// A product's service, joined within the product's tenant ([`super::key_to`]).
#[derive(Copy, Clone, Debug, EnumIter)]
pub enum Relation {
    Service,
}

impl RelationTrait for Relation {
    fn def(&self) -> RelationDef {
        match self {
            Relation::Service => super::key_to::<Entity, super::service::Entity>(
                Column::ServiceId,
                super::service::Column::Id,
            ),
        }
    }
}

impl Related<super::service::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Service.def()
    }
}

/// A product's mappings, joined within the tenant.
impl Related<super::billing_mapping::Entity> for Entity {
    fn to() -> RelationDef {
        super::many::<Entity, super::billing_mapping::Entity>()
    }
}

impl ActiveModelBehavior for ActiveModel {}
