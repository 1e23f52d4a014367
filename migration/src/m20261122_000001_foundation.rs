//! The foundation: tenants and the billing catalogue (services, products, metrics,
//! plans, levels, mappings), accounts with subscriptions, and usage history.
//!
//! Every tenant-owned table carries `tenant_id` directly, even where a parent already
//! implies it, so that every query can be scoped by one column without joins.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A `tenant_id` column with its foreign key, as every tenant-owned table has.
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

fn fk(table: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

fn unique(name: &str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table).unique();
    for col in cols {
        index.col(*col);
    }
    index.to_owned()
}

fn index(name: &str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(*col);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("tenants")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_uniq("slug"))
                .col(string("name"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            owned("services")
                .col(string("name"))
                .col(text_null("description"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "ux_services_name",
            "services",
            &["tenant_id", "name"],
        ))
        .await?;

        m.create_table(
            owned("products")
                .col(big_integer("service_id"))
                .col(string("name"))
                .foreign_key(&mut fk("products", "service_id", "services"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "ux_products_name",
            "products",
            &["service_id", "name"],
        ))
        .await?;

        m.create_table(
            owned("metrics")
                .col(big_integer("product_id"))
                .col(string("name"))
                .col(string("cross_reference_type"))
                .col(string("unit"))
                .foreign_key(&mut fk("metrics", "product_id", "products"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "ux_metrics_type",
            "metrics",
            &["product_id", "cross_reference_type"],
        ))
        .await?;

        m.create_table(
            owned("plans")
                .col(big_integer("product_id"))
                .col(string("unique_id"))
                .col(string("name"))
                .col(double("base_size_gb"))
                .col(double_null("price"))
                .col(double_null("block_size_gb"))
                .foreign_key(&mut fk("plans", "product_id", "products"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "ux_plans_unique_id",
            "plans",
            &["product_id", "unique_id"],
        ))
        .await?;

        m.create_table(
            owned("levels")
                .col(string("name"))
                .col(string("source"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        // Both engines compare text case-sensitively by default, which is what levels need.
        m.create_index(unique("ux_levels_name", "levels", &["tenant_id", "name"]))
            .await?;

        m.create_table(
            owned("billing_mappings")
                .col(big_integer("product_id"))
                .col(big_integer_null("plan_id"))
                .col(big_integer("level_id"))
                .col(string("usage_value"))
                .col(boolean("managed_externally"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("billing_mappings", "product_id", "products"))
                .foreign_key(&mut fk("billing_mappings", "plan_id", "plans"))
                .foreign_key(&mut fk("billing_mappings", "level_id", "levels"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "ux_mappings_plan",
            "billing_mappings",
            &["product_id", "plan_id"],
        ))
        .await?;
        // NULLs are distinct in unique indexes on both engines, so "All plans" (plan_id NULL)
        // needs its own partial index to stay one per product.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_mappings_all_plans ON billing_mappings (product_id) \
                 WHERE plan_id IS NULL",
            )
            .await?;
        m.create_index(index(
            "ix_mappings_level",
            "billing_mappings",
            &["level_id"],
        ))
        .await?;

        m.create_table(
            owned("accounts")
                .col(string("name"))
                .col(string_null("link_identifier"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "ux_accounts_name",
            "accounts",
            &["tenant_id", "name"],
        ))
        .await?;

        m.create_table(
            owned("subscriptions")
                .col(big_integer("account_id"))
                .col(big_integer("product_id"))
                .col(big_integer_null("plan_id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("subscriptions", "account_id")
                        .to("accounts", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut fk("subscriptions", "product_id", "products"))
                .foreign_key(&mut fk("subscriptions", "plan_id", "plans"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "ux_subscriptions",
            "subscriptions",
            &["account_id", "product_id"],
        ))
        .await?;
        m.create_index(index(
            "ix_subscriptions_product",
            "subscriptions",
            &["product_id", "plan_id"],
        ))
        .await?;

        m.create_table(
            owned("usage_samples")
                .col(big_integer("account_id"))
                .col(big_integer("metric_id"))
                .col(double("quantity"))
                .col(timestamp_with_time_zone("measured_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("usage_samples", "account_id")
                        .to("accounts", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(&mut fk("usage_samples", "metric_id", "metrics"))
                .to_owned(),
        )
        .await?;
        // Also the idempotency key of `recordUsage` and the "latest per metric" lookup.
        m.create_index(unique(
            "ux_usage_samples",
            "usage_samples",
            &["account_id", "metric_id", "measured_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_usage_samples_metric",
            "usage_samples",
            &["metric_id"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "usage_samples",
            "subscriptions",
            "accounts",
            "billing_mappings",
            "levels",
            "plans",
            "metrics",
            "products",
            "services",
            "tenants",
        ] {
            m.drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
