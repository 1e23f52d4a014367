//! Billing that never double-bills: the additions billbridge owns (created or adopted), the
//! tenant's push settings (what to do with an addition no mapping wants, and with one edited
//! by hand), and what a push line needs to record ownership, drift, a successor's date and
//! the money it means.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn owned(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .if_not_exists()
        .col(big_pk_auto("id"))
        .col(big_integer("tenant_id"))
        .foreign_key(
            ForeignKey::create()
                .from(name, "tenant_id")
                .to("tenants", "id")
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // ConnectWise ids (agreement, addition, catalog product, company) are kept as found;
        // billbridge's own product and mapping are kept without foreign keys, since an
        // addition stays owned (and must be retired) after its mapping is deleted.
        m.create_table(
            owned("owned_additions")
                .col(big_integer("agreement_id"))
                .col(big_integer("addition_id"))
                .col(big_integer("product_id"))
                .col(big_integer("company_id"))
                .col(big_integer_null("local_product_id"))
                .col(big_integer_null("mapping_id"))
                .col(string("metric"))
                .col(double("last_quantity"))
                .col(timestamp_with_time_zone("last_written_at"))
                .col(timestamp_with_time_zone_null("retired_at"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_owned_additions")
                .table("owned_additions")
                .col("tenant_id")
                .col("addition_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            owned("push_settings")
                .col(string("retire_mode"))
                .col(string("on_manual_edit"))
                .col(string("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_push_settings_tenant")
                .table("push_settings")
                .col("tenant_id")
                .unique()
                .to_owned(),
        )
        .await?;
        for column in [
            big_integer_null("local_product_id"),
            big_integer_null("mapping_id"),
            double_null("last_written_quantity"),
            boolean("drifted").default(false).to_owned(),
            timestamp_with_time_zone_null("effective_date"),
            double_null("unit_price"),
            text_null("subscription"),
        ] {
            m.alter_table(
                Table::alter()
                    .table("push_lines")
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table("push_runs")
                .add_column(integer("retired").default(0).to_owned())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("push_runs")
                .drop_column("retired")
                .to_owned(),
        )
        .await?;
        for column in [
            "subscription",
            "unit_price",
            "effective_date",
            "drifted",
            "last_written_quantity",
            "mapping_id",
            "local_product_id",
        ] {
            m.alter_table(
                Table::alter()
                    .table("push_lines")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.drop_table(Table::drop().table("push_settings").if_exists().to_owned())
            .await?;
        m.drop_table(
            Table::drop()
                .table("owned_additions")
                .if_exists()
                .to_owned(),
        )
        .await
    }
}
