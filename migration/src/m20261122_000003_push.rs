//! The usage push: runs and their lines (the run log), per-tenant schedules with one row per
//! scheduled slot (so each slot runs once across replicas), webhooks and their deliveries,
//! and the tenant's ConnectWise request budget.

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

fn cascade(table: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("psa_connections")
                .add_column(integer_null("max_requests_per_second"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            owned("push_runs")
                .col(big_integer_null("service_id"))
                .col(boolean("dry_run"))
                .col(string("trigger"))
                .col(string("triggered_by"))
                .col(string("status"))
                .col(text_null("message"))
                .col(timestamp_with_time_zone("started_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .col(integer("total_lines"))
                .col(integer("done"))
                .col(integer("unchanged"))
                .col(integer("skipped"))
                .col(integer("failed"))
                .col(boolean("cancel_requested"))
                .col(string_null("lease_owner"))
                .col(timestamp_with_time_zone_null("lease_expires_at"))
                .col(timestamp_with_time_zone_null("slot_at"))
                .to_owned(),
        )
        .await?;
        // One running push per tenant, whatever the replica that starts it.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_push_runs_running ON push_runs (tenant_id) WHERE status = 'RUNNING'",
            )
            .await?;
        m.create_index(
            Index::create()
                .name("ix_push_runs_tenant")
                .table("push_runs")
                .col("tenant_id")
                .col("id")
                .to_owned(),
        )
        .await?;

        m.create_table(
            owned("push_lines")
                .col(big_integer("run_id"))
                .col(integer("seq"))
                .col(text("accounts"))
                .col(big_integer_null("company_id"))
                .col(string_null("company_name"))
                .col(string_null("metric"))
                .col(string_null("level"))
                .col(big_integer_null("agreement_id"))
                .col(string_null("agreement_name"))
                .col(big_integer_null("addition_id"))
                .col(big_integer_null("product_id"))
                .col(string_null("product_identifier"))
                .col(double_null("current_quantity"))
                .col(double_null("new_quantity"))
                .col(string("action"))
                .col(string_null("reason"))
                .col(text("detail"))
                .col(string("outcome"))
                .col(text_null("error"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .foreign_key(&mut cascade("push_lines", "run_id", "push_runs"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_push_lines_run")
                .table("push_lines")
                .col("run_id")
                .col("seq")
                .to_owned(),
        )
        .await?;

        m.create_table(
            owned("push_schedules")
                .col(boolean("enabled"))
                .col(string("time_of_day"))
                .col(string("time_zone"))
                .col(string_null("cron"))
                .col(string("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_push_schedules_tenant")
                .table("push_schedules")
                .col("tenant_id")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            owned("push_slots")
                .col(timestamp_with_time_zone("slot_at"))
                .col(big_integer_null("run_id"))
                .col(string("claimed_by"))
                .col(text_null("note"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        // The slot record: whichever replica inserts it first runs that slot.
        m.create_index(
            Index::create()
                .name("ux_push_slots")
                .table("push_slots")
                .col("tenant_id")
                .col("slot_at")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            owned("webhooks")
                .col(string("url"))
                .col(text("secret_sealed"))
                .col(string_null("description"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            owned("webhook_deliveries")
                .col(big_integer("webhook_id"))
                .col(big_integer("run_id"))
                .col(text("body"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone_null("next_attempt_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut cascade("webhook_deliveries", "webhook_id", "webhooks"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_due")
                .table("webhook_deliveries")
                .col("status")
                .col("next_attempt_at")
                .to_owned(),
        )
        .await?;
        m.create_table(
            owned("webhook_attempts")
                .col(big_integer("delivery_id"))
                .col(integer("attempt"))
                .col(timestamp_with_time_zone("attempted_at"))
                .col(integer_null("response_status"))
                .col(text_null("error"))
                .col(integer("duration_ms"))
                .foreign_key(&mut cascade(
                    "webhook_attempts",
                    "delivery_id",
                    "webhook_deliveries",
                ))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "webhook_attempts",
            "webhook_deliveries",
            "webhooks",
            "push_slots",
            "push_schedules",
            "push_lines",
            "push_runs",
        ] {
            m.drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        m.alter_table(
            Table::alter()
                .table("psa_connections")
                .drop_column("max_requests_per_second")
                .to_owned(),
        )
        .await
    }
}
