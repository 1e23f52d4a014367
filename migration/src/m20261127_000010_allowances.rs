//! Allowances shared by replicas: one token bucket per key (a caller's request rate, an
//! address's or an account's failed sign-ins, a tenant's ConnectWise reads). Used on
//! PostgreSQL, where several replicas share the database; SQLite keeps them in memory.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("allowances")
                .if_not_exists()
                // `<limit>:<who>`, e.g. `requests:3/ann@msp.example`.
                .col(string("key").primary_key())
                .col(double("tokens"))
                .col(timestamp_with_time_zone("at"))
                // Whether the last take was granted (read back by the same statement).
                .col(boolean("granted"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("allowances").to_owned())
            .await
    }
}
