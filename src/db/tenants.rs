//! Tenants: the root of everything else, so the only unscoped table.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set,
};

use super::entity::tenant;

/// The tenant with this slug, if any.
pub async fn by_slug(db: &DatabaseConnection, slug: &str) -> Result<Option<tenant::Model>, DbErr> {
    tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(slug))
        .one(db)
        .await
}

/// The tenant a scope or a background job names by id.
pub(crate) async fn by_id(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<tenant::Model>, DbErr> {
    tenant::Entity::find_by_id(id).one(db).await
}

/// Adds a tenant.
pub async fn create(
    db: &DatabaseConnection,
    slug: &str,
    name: &str,
) -> Result<tenant::Model, DbErr> {
    tenant::ActiveModel {
        slug: Set(slug.to_owned()),
        name: Set(name.to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Every tenant.
pub async fn all(db: &DatabaseConnection) -> Result<Vec<tenant::Model>, DbErr> {
    tenant::Entity::find().all(db).await
}
