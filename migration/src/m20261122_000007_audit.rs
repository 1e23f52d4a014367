//! The audit log: who changed what, and when. Rows are only ever added.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("audit_events")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(timestamp_with_time_zone("at"))
                .col(string("actor"))
                .col(string("action"))
                .col(string("entity"))
                .col(string_null("entity_id"))
                .col(text("summary"))
                .foreign_key(
                    ForeignKey::create()
                        .from("audit_events", "tenant_id")
                        .to("tenants", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // Newest first, per tenant, optionally of one kind of entity.
        m.create_index(
            Index::create()
                .name("audit_events_tenant_entity")
                .table("audit_events")
                .col("tenant_id")
                .col("entity")
                .col("id")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("audit_events").if_exists().to_owned())
            .await
    }
}
