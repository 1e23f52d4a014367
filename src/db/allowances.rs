//! Token buckets in the database, for the limits that replicas share (PostgreSQL): one row
//! per key, refilled and taken from in one statement, so replicas racing on a key queue on
//! its row lock and never both spend the same token. Not tenant-owned: keys name their
//! tenant themselves.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use std::time::Duration;

/// The bucket after a take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Taken {
    pub granted: bool,
    pub tokens: f64,
}

/// `LEAST(burst, tokens + seconds idle × rate)`: the bucket refilled up to now. The same
/// arithmetic as `limits::refill`, which the in-memory buckets use.
const REFILLED: &str =
    "LEAST($2, a.tokens + GREATEST(EXTRACT(EPOCH FROM now() - a.at)::float8, 0) * $3)";

/// Refills `key`'s bucket (up to `burst`, at `per_second`), then, when it holds at least
/// `need`, takes `cost` from it (never below `-burst`, so a debt is paid off within one
/// refill of the whole bucket). A new key starts full.
pub async fn take(
    db: &DatabaseConnection,
    key: &str,
    burst: f64,
    per_second: f64,
    need: f64,
    cost: f64,
) -> Result<Taken, DbErr> {
    let sql = format!(
        "INSERT INTO allowances AS a (key, tokens, at, granted) \
         VALUES ($1, CASE WHEN $2 >= $4 THEN GREATEST($2 - $5, -$2) ELSE $2 END, now(), $2 >= $4) \
         ON CONFLICT (key) DO UPDATE SET \
           tokens = CASE WHEN {REFILLED} >= $4 THEN GREATEST({REFILLED} - $5, -$2) ELSE {REFILLED} END, \
           granted = {REFILLED} >= $4, \
           at = now() \
         RETURNING tokens, granted"
    );
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [
            key.into(),
            burst.into(),
            per_second.into(),
            need.into(),
            cost.into(),
        ],
    );
    let row = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("allowances: no row returned".into()))?;
    Ok(Taken {
        tokens: row.try_get("", "tokens")?,
        granted: row.try_get("", "granted")?,
    })
}

/// Forgets `key`: its bucket is full again.
pub async fn forget(db: &DatabaseConnection, key: &str) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "DELETE FROM allowances WHERE key = $1",
        [key.into()],
    ))
    .await?;
    Ok(())
}

/// Forgets buckets untouched for `idle` (they have refilled by then).
pub(crate) async fn forget_idle(db: &DatabaseConnection, idle: Duration) -> Result<u64, DbErr> {
    let done = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "DELETE FROM allowances WHERE at < now() - make_interval(secs => $1)",
            [idle.as_secs_f64().into()],
        ))
        .await?;
    Ok(done.rows_affected())
}
