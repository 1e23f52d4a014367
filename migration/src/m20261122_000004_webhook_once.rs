//! Webhook deliveries once per run: a run's end can be recorded by two replicas (the lease
//! changed hands as it finished), and each would enqueue its deliveries; the unique index
//! makes the second enqueue a no-op. Attempts get an index for listing them per delivery.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ux_webhook_deliveries_run")
                .table("webhook_deliveries")
                .col("webhook_id")
                .col("run_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_attempts_delivery")
                .table("webhook_attempts")
                .col("delivery_id")
                .col("attempt")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_webhook_attempts_delivery")
                .table("webhook_attempts")
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ux_webhook_deliveries_run")
                .table("webhook_deliveries")
                .to_owned(),
        )
        .await
    }
}
