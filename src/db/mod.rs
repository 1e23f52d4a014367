//! The database: connecting, migrating, and every query billbridge runs.
//!
//! Tenant scoping lives here and only here: tenant-owned tables are reached through a
//! [`Scope`], which adds `tenant_id = ?` to every select, update and delete it builds and
//! sets `tenant_id` on every insert. A test (`scope_is_the_only_way_in`) fails if a query
//! module starts an unscoped query.
//!
//! A scope reaches the pool, or one open transaction (`Scope::begin`): every statement of a
//! change made through a bound scope — its checks too — commits or rolls back together.

pub mod accounts;
pub mod allowances;
pub mod api_tokens;
pub mod audit;
pub mod catalog;
pub mod entity;
pub mod import;
pub mod invalidations;
pub mod levels;
mod like;
pub mod mappings;
pub mod ownership;
pub mod psa;
pub mod push;
pub(crate) mod rows;
pub mod schedules;
pub mod system;
pub mod tenants;
pub mod usage;
pub mod users;
pub mod webhooks;

use sea_orm::prelude::async_trait::async_trait;
use sea_orm::sea_query::{OnConflict, SelectStatement};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    AccessMode, ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectOptions,
    ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    DeleteMany, EntityTrait, ExecResult, Insert, IntoActiveModel, IsolationLevel, PrimaryKeyTrait,
    QueryFilter, QueryResult, QueryTrait, Select, SqliteTransactionMode, Statement,
    TransactionError, TransactionOptions, TransactionTrait, UpdateMany,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};

/// How long a SQLite writer waits for another before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Rows a SQLite connection's thread may send ahead of the task reading them. sqlx's 50
/// parks the thread in the middle of a page's read-ahead (its 300 latest samples) until the
/// task catches up, a thread switch and a wake-up each time.
const SQLITE_ROWS_AHEAD: usize = 1024;

/// A pooled connection idle this long is pinged before it is handed out again.
const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

/// Connection options for `url`: SQLite gets WAL, `synchronous=FULL`, a busy timeout and
/// foreign keys; PostgreSQL is used as configured by its URL.
pub fn options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    // SQLite runs each connection on a thread of its own and writes one at a time: more
    // connections than twice the cores only add threads that wait on each other (and a
    // page cache each). PostgreSQL connections are cheap for us and serve several replicas.
    let connections = if url.starts_with("sqlite:") {
        std::thread::available_parallelism()
            .map_or(4, |n| n.get() as u32 * 2)
            .clamp(4, 10)
    } else {
        10
    };
    options
        .sqlx_logging(false)
        .max_connections(connections)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // sqlx pings a connection (a round trip, or on SQLite a hand-off to its thread)
        // every time it leaves the pool, doubling the cost of a statement. A connection
        // back in use within seconds is not worth checking; one idle longer may have been
        // dropped by the server or a firewall, so it is still pinged (PgBouncer's
        // `server_check_delay` makes the same trade).
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
                .row_buffer_size(SQLITE_ROWS_AHEAD)
        });
    options
}

/// Opens the pool `options` describe (see [`options`]).
pub async fn connect(options: ConnectOptions) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options).await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// One page of rows, whether more follow, and how many match on all pages.
pub struct Page<M> {
    pub rows: Vec<M>,
    pub has_next: bool,
    pub total: u64,
}

/// Reads up to `first` rows of `query` (filtered, ordered and past its cursor): asks for
/// one more to know whether another page follows.
pub(crate) async fn read_page<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    query: Select<E>,
    first: u64,
    total: u64,
) -> Result<Page<E::Model>, DbErr> {
    let statement = limited(&query, db.get_database_backend(), first + 1);
    let rows = query.from_raw_sql(statement).all(db).await?;
    Ok(Page::of(rows, first, total))
}

/// `query` (which must end with its `ORDER BY`) with `LIMIT n` written into its text.
/// A bound limit leaves PostgreSQL no way to cost the statement once for all executions
/// (it assumes a tenth of the table), so it keeps planning it again at every execution;
/// written in, each page size is a statement of its own, whose plan PostgreSQL keeps
/// after a few executions. Page sizes are few (1 to 200, mostly the default), and so
/// are the texts.
pub(crate) fn limited(
    query: &impl QueryTrait<QueryStatement = SelectStatement>,
    backend: DbBackend,
    n: u64,
) -> Statement {
    let mut statement = query.build(backend);
    debug_assert!(!statement.sql.contains(" LIMIT "), "{}", statement.sql);
    statement.sql.push_str(&format!(" LIMIT {n}"));
    statement
}

impl<M> Page<M> {
    /// The page of `first` among `rows`, read with one more than `first` to know whether
    /// another page follows.
    pub(crate) fn of(mut rows: Vec<M>, first: u64, total: u64) -> Self {
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Page {
            rows,
            has_next,
            total,
        }
    }
}

/// A table whose rows belong to one tenant.
pub trait Owned: EntityTrait {
    fn tenant_column() -> Self::Column;
}

macro_rules! owned {
    ($($module:ident),+) => {
        $(impl Owned for entity::$module::Entity {
            fn tenant_column() -> Self::Column {
                entity::$module::Column::TenantId
            }
        })+
    };
}
owned!(
    service,
    product,
    metric,
    plan,
    level,
    billing_mapping,
    account,
    subscription,
    usage_sample,
    latest_usage,
    psa_connection,
    level_cross_reference,
    account_link,
    push_run,
    push_line,
    push_schedule,
    push_settings,
    owned_addition,
    push_slot,
    webhook,
    webhook_delivery,
    webhook_attempt,
    user,
    api_token,
    audit_event,
    import_mapping
);

/// Where a scope's statements go: the pool, or one open transaction that every statement
/// of a change (its checks included) shares, so the change commits or rolls back whole.
#[derive(Clone, Debug)]
pub enum Db {
    Pool(DatabaseConnection),
    /// Shared by the clones of a transaction's scope; committed by [`Transaction::commit`]
    /// once they are gone, rolled back if dropped first.
    Transaction(Arc<DatabaseTransaction>),
}

/// One tenant's view of the database. Built only from an authenticated caller or from a
/// tenant looked up by the CLI.
#[derive(Clone, Debug)]
pub struct Scope {
    db: Db,
    tenant_id: i64,
}

impl Scope {
    /// The scope of `tenant`, on the pool.
    pub fn new(db: DatabaseConnection, tenant: &entity::tenant::Model) -> Self {
        Scope {
            db: Db::Pool(db),
            tenant_id: tenant.id,
        }
    }

    /// For a request whose token named this tenant (already looked up).
    pub fn for_tenant_id(db: DatabaseConnection, tenant_id: i64) -> Self {
        Scope {
            db: Db::Pool(db),
            tenant_id,
        }
    }

    /// Opens a transaction (a savepoint inside one already open) and gives the scope whose
    /// every statement runs in it. On SQLite it starts `IMMEDIATE`: the write lock is taken
    /// (waiting out the busy timeout) before the change reads, so a read-then-write change
    /// never fails on a snapshot another writer moved on from.
    pub async fn begin(&self) -> Result<Transaction, DbErr> {
        let txn = match &self.db {
            Db::Pool(pool) => {
                pool.begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..TransactionOptions::default()
                })
                .await?
            }
            Db::Transaction(open) => open.begin().await?,
        };
        Ok(Transaction {
            scope: Scope {
                db: Db::Transaction(Arc::new(txn)),
                tenant_id: self.tenant_id,
            },
        })
    }

    /// The tenant every query of this scope is limited to.
    pub fn tenant_id(&self) -> i64 {
        self.tenant_id
    }

    /// The connection this scope's statements go to (the pool, or its transaction).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// `SELECT … FROM e WHERE tenant_id = ?`.
    pub fn select<E: Owned>(&self) -> Select<E> {
        E::find().filter(E::tenant_column().eq(self.tenant_id))
    }

    /// One row by id, or `None` when it does not exist *in this tenant*.
    pub async fn get<E, C>(&self, conn: &C, id: i64) -> Result<Option<E::Model>, DbErr>
    where
        E: Owned,
        <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
        C: ConnectionTrait,
    {
        E::find_by_id(id)
            .filter(E::tenant_column().eq(self.tenant_id))
            .one(conn)
            .await
    }

    /// `DELETE FROM e WHERE tenant_id = ?` (narrow it further with `filter`).
    pub fn delete<E: Owned>(&self) -> DeleteMany<E> {
        E::delete_many().filter(E::tenant_column().eq(self.tenant_id))
    }

    /// `UPDATE e SET … WHERE tenant_id = ?` (set columns with `col_expr`, narrow with `filter`).
    pub fn update<E: Owned>(&self) -> UpdateMany<E> {
        E::update_many().filter(E::tenant_column().eq(self.tenant_id))
    }

    /// Inserts `row` as this tenant's.
    pub async fn insert<A, C>(
        &self,
        conn: &C,
        mut row: A,
    ) -> Result<<A::Entity as EntityTrait>::Model, DbErr>
    where
        A: ActiveModelTrait + ActiveModelBehavior + Send,
        A::Entity: Owned,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
        C: ConnectionTrait,
    {
        row.set(A::Entity::tenant_column(), self.tenant_id.into());
        row.insert(conn).await
    }

    /// Inserts many rows as this tenant's, a few hundred per statement.
    pub async fn insert_many<A, C>(&self, conn: &C, rows: Vec<A>) -> Result<(), DbErr>
    where
        A: ActiveModelTrait + Send,
        A::Entity: Owned,
        C: ConnectionTrait,
    {
        // Well under SQLite's and PostgreSQL's limits on bound parameters per statement.
        const CHUNK: usize = 200;
        let mut rows = rows;
        for row in &mut rows {
            row.set(A::Entity::tenant_column(), self.tenant_id.into());
        }
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
            Insert::many(chunk).exec_without_returning(conn).await?;
        }
        Ok(())
    }

    /// Inserts `row` as this tenant's, or resolves a unique-key clash as `on_conflict` says.
    pub async fn upsert<A, C>(
        &self,
        conn: &C,
        mut row: A,
        on_conflict: OnConflict,
    ) -> Result<(), DbErr>
    where
        A: ActiveModelTrait + Send,
        A::Entity: Owned,
        C: ConnectionTrait,
    {
        row.set(A::Entity::tenant_column(), self.tenant_id.into());
        Insert::one(row)
            .on_conflict(on_conflict)
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }
}

impl Scope {
    /// Inserts many rows as this tenant's in one statement, resolving unique-key clashes as
    /// `on_conflict` says (no two rows may clash with each other on PostgreSQL).
    pub async fn upsert_many<A, C>(
        &self,
        conn: &C,
        rows: Vec<A>,
        on_conflict: OnConflict,
    ) -> Result<(), DbErr>
    where
        A: ActiveModelTrait + Send,
        A::Entity: Owned,
        C: ConnectionTrait,
    {
        if rows.is_empty() {
            return Ok(());
        }
        let mut rows = rows;
        for row in &mut rows {
            row.set(A::Entity::tenant_column(), self.tenant_id.into());
        }
        Insert::many(rows)
            .on_conflict(on_conflict)
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }
}

/// One column of [`Scope::insert_arrays`]: its name, its PostgreSQL type, and its values in
/// PostgreSQL's array syntax (`{1,2,3}`, see [`pg_array`]).
pub struct ArrayColumn<'a> {
    pub name: &'a str,
    pub pg_type: &'a str,
    pub values: String,
}

/// `column` is one of `ids`. On PostgreSQL the ids travel as one array parameter
/// (`= ANY($n::bigint[])`) instead of a parameter each: the statement's text is then the
/// same whatever the count, and PostgreSQL can keep one generic plan for it instead of
/// planning every execution anew (a third of its CPU on a page of accounts).
pub(crate) fn one_of<E: EntityTrait>(
    backend: DbBackend,
    column: E::Column,
    ids: &[i64],
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait};
    match backend {
        DbBackend::Postgres => Expr::cust_with_exprs(
            "$1 = ANY(CAST($2 AS bigint[]))",
            [
                Expr::col((E::default(), column)),
                Expr::val(pg_array(ids.iter().map(Some))),
            ],
        ),
        _ => Expr::col((E::default(), column)).is_in(ids.iter().copied()),
    }
}

/// Values in PostgreSQL's array syntax: each quoted (backslash and quote escaped), `None`
/// as `NULL`.
pub fn pg_array<T: std::fmt::Display>(values: impl Iterator<Item = Option<T>>) -> String {
    let mut out = String::from("{");
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.push(',');
        }
        match value {
            None => out.push_str("NULL"),
            Some(v) => {
                out.push('"');
                for c in v.to_string().chars() {
                    if matches!(c, '"' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
        }
    }
    out.push('}');
    out
}

impl Scope {
    /// PostgreSQL only: inserts rows given column by column as arrays, this tenant's, in one
    /// statement (`INSERT … SELECT tenant, * FROM unnest(…) <on_conflict>`): one parameter
    /// per column instead of one per value, so the server parses and plans a short
    /// statement however many rows it carries — many times faster than a long VALUES list.
    pub async fn insert_arrays<C: ConnectionTrait>(
        &self,
        conn: &C,
        table: &str,
        columns: Vec<ArrayColumn<'_>>,
        on_conflict: &str,
    ) -> Result<(), DbErr> {
        let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
        let arrays: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("${}::{}[]", i + 2, c.pg_type))
            .collect();
        let sql = format!(
            "INSERT INTO {table} (tenant_id, {}) SELECT $1, * FROM unnest({}) {on_conflict}",
            names.join(", "),
            arrays.join(", ")
        );
        let mut values: Vec<sea_orm::Value> = vec![self.tenant_id.into()];
        values.extend(columns.into_iter().map(|c| c.values.into()));
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?;
        Ok(())
    }
}

/// An open transaction of one tenant, from [`Scope::begin`].
pub struct Transaction {
    scope: Scope,
}

impl Transaction {
    /// The scope whose statements run in this transaction. Drop every clone before
    /// committing.
    pub fn scope(&self) -> Scope {
        self.scope.clone()
    }

    fn into_inner(self) -> Result<DatabaseTransaction, DbErr> {
        match self.scope.db {
            Db::Transaction(txn) => Arc::try_unwrap(txn).map_err(|_| {
                DbErr::Custom("a transaction's scope is still in use at its end".into())
            }),
            Db::Pool(_) => Err(DbErr::Custom("a transaction without a transaction".into())),
        }
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.into_inner()?.commit().await
    }

    /// Rolls back now (rather than when the last clone of its scope is dropped).
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.into_inner()?.rollback().await
    }
}

// `Db` is a connection like the two it wraps, so queries take `scope.db()` either way.
#[async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Db::Pool(c) => c.get_database_backend(),
            Db::Transaction(t) => t.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Db::Pool(c) => c.execute_raw(stmt).await,
            Db::Transaction(t) => t.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Db::Pool(c) => c.execute_unprepared(sql).await,
            Db::Transaction(t) => t.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Db::Pool(c) => c.query_one_raw(stmt).await,
            Db::Transaction(t) => t.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Db::Pool(c) => c.query_all_raw(stmt).await,
            Db::Transaction(t) => t.query_all_raw(stmt).await,
        }
    }

    fn support_returning(&self) -> bool {
        match self {
            Db::Pool(c) => c.support_returning(),
            Db::Transaction(t) => t.support_returning(),
        }
    }
}

/// `begin()` on a scope's `Db` opens a transaction, or a savepoint when the scope already
/// runs in one: the query modules' own multi-statement writes nest inside a change.
#[async_trait]
impl TransactionTrait for Db {
    type Transaction = DatabaseTransaction;

    async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        match self {
            Db::Pool(c) => c.begin().await,
            Db::Transaction(t) => t.begin().await,
        }
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<DatabaseTransaction, DbErr> {
        match self {
            Db::Pool(c) => c.begin_with_config(isolation_level, access_mode).await,
            Db::Transaction(t) => t.begin_with_config(isolation_level, access_mode).await,
        }
    }

    async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<DatabaseTransaction, DbErr> {
        match self {
            Db::Pool(c) => c.begin_with_options(options).await,
            Db::Transaction(t) => t.begin_with_options(options).await,
        }
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        match self {
            Db::Pool(c) => c.transaction(callback).await,
            Db::Transaction(t) => t.transaction(callback).await,
        }
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        match self {
            Db::Pool(c) => {
                c.transaction_with_config(callback, isolation_level, access_mode)
                    .await
            }
            Db::Transaction(t) => {
                t.transaction_with_config(callback, isolation_level, access_mode)
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn postgres_arrays_quote_everything_and_spell_null() {
        let values = [Some(r#"a "b" \c"#), None, Some("{x,y}")];
        assert_eq!(
            super::pg_array(values.into_iter()),
            r#"{"a \"b\" \\c",NULL,"{x,y}"}"#
        );
    }

    /// Every query module reaches tenant-owned tables through `Scope`; an unscoped
    /// `Entity::find()` (or delete/update) there would leak across tenants.
    #[test]
    fn scope_is_the_only_way_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db");
        let forbidden = [
            "Entity::find(",
            "Entity::find_by_id(",
            "Entity::delete_many(",
            "Entity::update_many(",
            "Entity::delete_by_id(",
            "Entity::insert(",
        ];
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            // tenants.rs queries the root table, which has no tenant; system.rs holds the
            // background workers' deliberately cross-tenant queries (each returns tenant
            // ids, and the work on each is done through a Scope).
            if !name.ends_with(".rs")
                || ["mod.rs", "tenants.rs", "system.rs"].contains(&name.as_str())
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for pattern in forbidden {
                assert!(
                    !text.contains(pattern),
                    "{name} uses {pattern}; go through db::Scope"
                );
            }
            checked += 1;
        }
        assert!(checked >= 5, "expected the query modules, found {checked}");
    }
}
