//! Imports of a vendor's usage export: the column mapping saved per tenant and service (so
//! next month's file needs none), and the account's display name the export may carry.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("import_mappings")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("service_id"))
                // The mapping as JSON (`domain::import::Mapping`).
                .col(text("mapping"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("import_mappings", "tenant_id")
                        .to("tenants", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("import_mappings", "service_id")
                        .to("services", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_import_mappings_service")
                .table("import_mappings")
                .col("tenant_id")
                .col("service_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("accounts")
                .add_column(string_null("display_name"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("accounts")
                .drop_column("display_name")
                .to_owned(),
        )
        .await?;
        m.drop_table(
            Table::drop()
                .table("import_mappings")
                .if_exists()
                .to_owned(),
        )
        .await
    }
}
