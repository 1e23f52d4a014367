//! The latest sample of every (account, metric), kept by the database itself.
//!
//! Reading "the newest sample of each pair" from `usage_samples` costs a backward index
//! seek per pair at best, and PostgreSQL's planner, once it has statistics, prefers a hash
//! join over a scan of every sample of the tenant. `latest_usage` holds one row per pair
//! that has usage, pointing at its newest sample; triggers on `usage_samples` keep it right
//! whichever code path writes (`recordUsage`, the CSV import, the demo and bench seeds, a
//! cascade from an account, an operator's hand-written SQL):
//!
//! - an inserted sample becomes the pair's latest when it is newer than the current one
//!   (an import back-filling older history changes nothing);
//! - a deleted sample that was the pair's latest hands over to the newest one left, or the
//!   row goes when none is left;
//! - an update may change a sample's quantity only (the upserts' `DO UPDATE SET quantity`
//!   keep the sample, hence its id): changing what identifies it is refused, so no update
//!   can move a sample away from the row that points at it.
//!
//! SQLite fires row triggers as each row changes; PostgreSQL gets statement-level triggers
//! over transition tables, so an import's 10,000-row `INSERT … SELECT FROM unnest(…)` or a
//! product's deletion updates `latest_usage` in one set-based statement instead of calling
//! a function per row.
//!
//! `sample_id` has no foreign key: PostgreSQL checks constraints before these triggers have
//! moved the row off a deleted sample, and a cascade would delete the row instead of moving it.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn cascade(col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from("latest_usage", col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

// On SQLite `measured_at` compares as the text every writer stores (sqlx's one RFC 3339
// form, UTC), which is also how the history's unique index orders it.
const SQLITE_TRIGGERS: [&str; 3] = [
    "CREATE TRIGGER latest_usage_insert AFTER INSERT ON usage_samples BEGIN
        INSERT INTO latest_usage (account_id, metric_id, tenant_id, sample_id, measured_at)
        VALUES (NEW.account_id, NEW.metric_id, NEW.tenant_id, NEW.id, NEW.measured_at)
        ON CONFLICT (account_id, metric_id) DO UPDATE
            SET sample_id = excluded.sample_id, measured_at = excluded.measured_at
            WHERE excluded.measured_at > latest_usage.measured_at;
    END",
    // Only a deleted latest sample moves the row (a primary-key seek for any other). An
    // account's deletion cascades row by row here; the row is gone with the last sample.
    "CREATE TRIGGER latest_usage_delete AFTER DELETE ON usage_samples BEGIN
        UPDATE latest_usage
            SET (sample_id, measured_at) = (
                SELECT id, measured_at FROM usage_samples
                WHERE account_id = OLD.account_id AND metric_id = OLD.metric_id
                ORDER BY measured_at DESC LIMIT 1)
            WHERE account_id = OLD.account_id AND metric_id = OLD.metric_id
                AND sample_id = OLD.id
                AND EXISTS (SELECT 1 FROM usage_samples
                    WHERE account_id = OLD.account_id AND metric_id = OLD.metric_id);
        DELETE FROM latest_usage
            WHERE account_id = OLD.account_id AND metric_id = OLD.metric_id
                AND sample_id = OLD.id;
    END",
    "CREATE TRIGGER usage_samples_fixed BEFORE UPDATE ON usage_samples
        WHEN NEW.id IS NOT OLD.id OR NEW.tenant_id IS NOT OLD.tenant_id
            OR NEW.account_id IS NOT OLD.account_id OR NEW.metric_id IS NOT OLD.metric_id
            OR NEW.measured_at IS NOT OLD.measured_at
    BEGIN
        SELECT RAISE(ABORT, 'usage samples change only their quantity: delete one and record another');
    END",
];

const POSTGRES_TRIGGERS: [&str; 6] = [
    // One row per pair of the statement's new samples (its newest), upserted: concurrent
    // writers of one pair serialise on the row, and each keeps the newer sample.
    "CREATE FUNCTION latest_usage_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO latest_usage (account_id, metric_id, tenant_id, sample_id, measured_at)
        SELECT DISTINCT ON (account_id, metric_id)
            account_id, metric_id, tenant_id, id, measured_at
        FROM added
        ORDER BY account_id, metric_id, measured_at DESC
        ON CONFLICT (account_id, metric_id) DO UPDATE
            SET sample_id = EXCLUDED.sample_id, measured_at = EXCLUDED.measured_at
            WHERE EXCLUDED.measured_at > latest_usage.measured_at;
        RETURN NULL;
    END $$",
    // `INSERT … ON CONFLICT DO UPDATE` puts only the rows it inserted in `added`.
    "CREATE TRIGGER latest_usage_insert AFTER INSERT ON usage_samples
        REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION latest_usage_after_insert()",
    // The rows of the pairs whose latest sample went are locked first: a writer of the same
    // pairs (the insert trigger's upsert locks the row too) commits before the statements
    // below take their snapshots, so under READ COMMITTED the newest remaining sample they
    // find includes its sample. Those pairs are then found again (`gone`, materialised), so
    // the search for the newest remaining sample runs for them only, not for every deleted
    // row; the rows with none left still point at a deleted sample and are deleted last.
    "CREATE FUNCTION latest_usage_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM latest_usage l
        JOIN removed r ON r.account_id = l.account_id AND r.metric_id = l.metric_id
            AND r.id = l.sample_id
        FOR UPDATE OF l;
        WITH gone AS MATERIALIZED (
            SELECT l.account_id, l.metric_id, l.sample_id
            FROM latest_usage l
            JOIN removed r ON r.account_id = l.account_id AND r.metric_id = l.metric_id
                AND r.id = l.sample_id
        )
        UPDATE latest_usage l SET sample_id = n.id, measured_at = n.measured_at
        FROM gone g
        CROSS JOIN LATERAL (
            SELECT s.id, s.measured_at FROM usage_samples s
            WHERE s.account_id = g.account_id AND s.metric_id = g.metric_id
            ORDER BY s.measured_at DESC LIMIT 1
        ) n
        WHERE l.account_id = g.account_id AND l.metric_id = g.metric_id
            AND l.sample_id = g.sample_id;
        DELETE FROM latest_usage l
        USING removed r
        WHERE r.account_id = l.account_id AND r.metric_id = l.metric_id
            AND r.id = l.sample_id;
        RETURN NULL;
    END $$",
    "CREATE TRIGGER latest_usage_delete AFTER DELETE ON usage_samples
        REFERENCING OLD TABLE AS removed
        FOR EACH STATEMENT EXECUTE FUNCTION latest_usage_after_delete()",
    "CREATE FUNCTION usage_samples_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'usage samples change only their quantity: delete one and record another' USING ERRCODE = 'integrity_constraint_violation';
    END $$",
    // The WHEN is checked without calling the function: an upsert of quantities pays a
    // comparison per row.
    "CREATE TRIGGER usage_samples_fixed BEFORE UPDATE ON usage_samples FOR EACH ROW
        WHEN (NEW.id IS DISTINCT FROM OLD.id OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id
            OR NEW.account_id IS DISTINCT FROM OLD.account_id
            OR NEW.metric_id IS DISTINCT FROM OLD.metric_id
            OR NEW.measured_at IS DISTINCT FROM OLD.measured_at)
        EXECUTE FUNCTION usage_samples_fixed()",
];

/// Every pair's newest sample (the unique (account, metric, time) index makes it one).
const BACK_FILL: &str =
    "INSERT INTO latest_usage (account_id, metric_id, tenant_id, sample_id, measured_at)
    SELECT s.account_id, s.metric_id, s.tenant_id, s.id, s.measured_at
    FROM usage_samples s
    WHERE NOT EXISTS (
        SELECT 1 FROM usage_samples n
        WHERE n.account_id = s.account_id AND n.metric_id = s.metric_id
            AND n.measured_at > s.measured_at)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// On SQLite too (PostgreSQL's default): the table, its triggers and its back-fill
    /// appear together or not at all, and no sample is written between the fill and them.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("latest_usage")
                .if_not_exists()
                .col(big_integer("account_id"))
                .col(big_integer("metric_id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("sample_id"))
                .col(timestamp_with_time_zone("measured_at"))
                .primary_key(Index::create().col("account_id").col("metric_id"))
                .foreign_key(&mut cascade("account_id", "accounts"))
                .foreign_key(&mut cascade("metric_id", "metrics"))
                .foreign_key(&mut cascade("tenant_id", "tenants"))
                .to_owned(),
        )
        .await?;
        // The push reads a whole tenant (the primary key serves a page's accounts); a
        // tenant's deletion cascades through it too.
        m.create_index(
            Index::create()
                .name("ix_latest_usage_tenant")
                .table("latest_usage")
                .col("tenant_id")
                .col("account_id")
                .to_owned(),
        )
        .await?;
        // A metric's deletion cascades by it.
        m.create_index(
            Index::create()
                .name("ix_latest_usage_metric")
                .table("latest_usage")
                .col("metric_id")
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let triggers: &[&str] = match m.get_database_backend() {
            DbBackend::Sqlite => &SQLITE_TRIGGERS,
            _ => &POSTGRES_TRIGGERS,
        };
        for sql in triggers {
            db.execute_unprepared(sql).await?;
        }
        // After the triggers, in the migration's transaction: creating them locks out
        // writers of samples until it commits, so none lands between the fill and them.
        db.execute_unprepared(BACK_FILL).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let sql = match m.get_database_backend() {
            DbBackend::Sqlite => {
                "DROP TRIGGER IF EXISTS latest_usage_insert;
                 DROP TRIGGER IF EXISTS latest_usage_delete;
                 DROP TRIGGER IF EXISTS usage_samples_fixed"
            }
            _ => {
                "DROP TRIGGER IF EXISTS latest_usage_insert ON usage_samples;
                 DROP TRIGGER IF EXISTS latest_usage_delete ON usage_samples;
                 DROP TRIGGER IF EXISTS usage_samples_fixed ON usage_samples;
                 DROP FUNCTION IF EXISTS latest_usage_after_insert();
                 DROP FUNCTION IF EXISTS latest_usage_after_delete();
                 DROP FUNCTION IF EXISTS usage_samples_fixed()"
            }
        };
        for statement in sql.split(';') {
            db.execute_unprepared(statement).await?;
        }
        m.drop_table(Table::drop().table("latest_usage").if_exists().to_owned())
            .await
    }
}
