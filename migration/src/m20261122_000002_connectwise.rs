//! ConnectWise: each tenant's PSA connection (private key sealed), the cross-references
//! synced for each level, and each account's link to a ConnectWise company.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn tenant_fk(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, "tenant_id")
        .to("tenants", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("psa_connections")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("tenant_id"))
                .col(string("site"))
                .col(string("company_id"))
                .col(string("public_key"))
                // AES-256-GCM under the master key, the tenant bound as associated data.
                .col(text("private_key_sealed"))
                .col(string("client_id"))
                .col(string("integration"))
                .col(timestamp_with_time_zone_null("levels_synced_at"))
                .col(timestamp_with_time_zone_null("companies_synced_at"))
                .col(string("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut tenant_fk("psa_connections"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("level_cross_references")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("level_id"))
                .col(big_integer("connectwise_id"))
                .col(string("vendor_type"))
                .col(big_integer_null("agreement_type_id"))
                .col(string_null("agreement_type_name"))
                .col(big_integer_null("product_id"))
                .col(string_null("product_identifier"))
                .col(boolean("inactive"))
                .col(timestamp_with_time_zone("synced_at"))
                .foreign_key(&mut tenant_fk("level_cross_references"))
                .foreign_key(
                    ForeignKey::create()
                        .from("level_cross_references", "level_id")
                        .to("levels", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_level_cross_references_level")
                .table("level_cross_references")
                .col("level_id")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("account_links")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer_uniq("account_id"))
                .col(string("state"))
                .col(string_null("via"))
                .col(big_integer_null("company_id"))
                .col(string_null("company_identifier"))
                .col(string_null("company_name"))
                .col(text("reason"))
                .col(timestamp_with_time_zone("synced_at"))
                .foreign_key(&mut tenant_fk("account_links"))
                .foreign_key(
                    ForeignKey::create()
                        .from("account_links", "account_id")
                        .to("accounts", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["account_links", "level_cross_references", "psa_connections"] {
            m.drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
