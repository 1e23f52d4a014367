//! ConnectWise as it really is: the codebase `companyinfo` named and the pinned model
//! version per connection; the parent agreement a push line bills through.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        for column in [string_null("codebase"), string_null("api_version")] {
            m.alter_table(
                Table::alter()
                    .table("psa_connections")
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        for column in [
            big_integer_null("parent_agreement_id"),
            string_null("parent_agreement_name"),
        ] {
            m.alter_table(
                Table::alter()
                    .table("push_lines")
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("push_lines", "parent_agreement_name"),
            ("push_lines", "parent_agreement_id"),
            ("psa_connections", "api_version"),
            ("psa_connections", "codebase"),
        ] {
            m.alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
