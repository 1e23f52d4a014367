//! Joined rows read by position. SeaORM reads a joined select's columns by name, naming
//! each `<prefix><column>` with a `format!` for every column of every row and then looking
//! the name up: on the read-ahead joins (`catalog::tree`, a page of accounts with links,
//! subscriptions with plans) that was a quarter of the server's CPU. SeaORM selects each
//! entity's columns in its `Column::iter()` order, entity after entity, so a row is read
//! by index instead. [`positional!`] lists a model's fields in that order; a test holds the
//! list to `Column::iter()`, so a column added to an entity cannot shift the others
//! unnoticed.
//!
//! Values are decoded by sqlx itself ([`Cell`]), not through SeaORM's `TryGetable`: on
//! PostgreSQL sqlx checks a column's type against the Rust type on every value it decodes
//! (for a text, against five types, comparing type descriptions), a third of the cost of
//! reading the accounts page. A PostgreSQL column's type belongs to the statement, not the
//! row, so a [`Reading`] checks each column once per result, against the type the row
//! description gives it (what sqlx checks, NULL or not), and decodes its values unchecked.
//! SQLite types each value on its own, so there every value is checked as before.

use chrono::{DateTime, Utc};
use rustc_hash::FxBuildHasher;
use sea_orm::sea_query::SelectStatement;
use sea_orm::sqlx::postgres::PgRow;
use sea_orm::sqlx::sqlite::SqliteRow;
use sea_orm::sqlx::{self, Column as _, Decode, Postgres, Row as _, Type, TypeInfo as _};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, QueryTrait, Statement, Value};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::OnceLock;

use super::entity;

/// Maps and sets keyed by row ids, hashed with FxHash. The ids are the database's own
/// (sequences), not a caller's choice, so SipHash's defence against chosen keys buys
/// nothing here, and at ~140 instructions a key it was 6% of the accounts page (its ~700
/// read-ahead rows grouped, looked up and de-duplicated by id).
pub(crate) type IdMap<V> = HashMap<i64, V, FxBuildHasher>;
pub(crate) type IdSet = HashSet<i64, FxBuildHasher>;

/// A model read from consecutive columns of a row.
pub(crate) trait Positional: Sized {
    /// How many columns it takes.
    const WIDTH: usize;
    /// Reads it from the columns starting at `at`.
    fn read(row: &mut Reading<'_>, at: usize) -> Result<Self, DbErr>;
}

/// One result's rows as sqlx gave them, with the columns whose type was checked.
pub(crate) struct Reading<'a> {
    row: Raw<'a>,
    /// Bit `i`: PostgreSQL column `i` was checked against the type it is read as (columns
    /// past 63 are checked on every row).
    checked: u64,
}

/// A row of either engine.
#[derive(Clone, Copy)]
pub(crate) enum Raw<'a> {
    Postgres(&'a PgRow),
    Sqlite(&'a SqliteRow),
}

impl Reading<'_> {
    /// The value of column `at`.
    pub(crate) fn get<T: Cell>(&mut self, at: usize) -> Result<T, DbErr> {
        let bit = 1u64.checked_shl(at as u32).unwrap_or(0);
        let check = self.checked & bit == 0;
        let value = match self.row {
            Raw::Postgres(row) => T::postgres(row, at, check),
            Raw::Sqlite(row) => T::sqlite(row, at),
        }
        .map_err(|e| DbErr::Type(format!("column {at}: {e}")))?;
        self.checked |= bit;
        Ok(value)
    }
}

/// A type a column is read as.
pub(crate) trait Cell: Sized {
    /// Column `at` of `row`, its type checked first when `check`.
    fn postgres(row: &PgRow, at: usize, check: bool) -> Result<Self, sqlx::Error>;
    /// Column `at` of `row`, its type checked.
    fn sqlite(row: &SqliteRow, at: usize) -> Result<Self, sqlx::Error>;
}

/// Values sqlx decodes as they are, on both engines.
macro_rules! cells {
    ($($ty:ty),+) => {$(
        impl Cell for $ty {
            fn postgres(row: &PgRow, at: usize, check: bool) -> Result<Self, sqlx::Error> {
                postgres(row, at, check)
            }
            fn sqlite(row: &SqliteRow, at: usize) -> Result<Self, sqlx::Error> {
                row.try_get(at)
            }
        }
    )+};
}
cells!(
    i64,
    Option<i64>,
    f64,
    Option<f64>,
    bool,
    String,
    Option<String>
);
cells!(DateTime<Utc>, Option<DateTime<Utc>>);

/// Column `at` decoded as `T`, after checking, when `check`, that the column's type is one
/// `T` decodes: sqlx's own check, made once per column rather than once per value.
fn postgres<'r, T>(row: &'r PgRow, at: usize, check: bool) -> Result<T, sqlx::Error>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    if check {
        let ty = row.try_column(at)?.type_info();
        if !ty.is_null() && !T::compatible(ty) {
            return Err(sqlx::Error::ColumnDecode {
                index: at.to_string(),
                source: format!(
                    "a {} column read as {}",
                    ty.name(),
                    std::any::type_name::<T>()
                )
                .into(),
            });
        }
    }
    row.try_get_unchecked(at)
}

/// A text column read as `T` (one of the domain's enums, `entity::state`): parsed from the
/// row's own bytes, never allocated. `name` names `T` in the error.
pub(crate) fn parsed<T: FromStr>(
    row: Raw<'_>,
    at: usize,
    check: bool,
    name: &str,
) -> Result<Option<T>, sqlx::Error> {
    let text: Option<&str> = match row {
        Raw::Postgres(row) => postgres(row, at, check)?,
        Raw::Sqlite(row) => row.try_get(at)?,
    };
    let Some(text) = text else {
        return Ok(None);
    };
    match text.parse() {
        Ok(value) => Ok(Some(value)),
        Err(_) => Err(sqlx::Error::Decode(
            format!("unexpected value for {name} enum: {text:?}").into(),
        )),
    }
}

/// The error of a NULL where a value must be.
pub(crate) fn null() -> sqlx::Error {
    sqlx::Error::Decode(Box::new(sqlx::error::UnexpectedNullError))
}

/// A row being read, model after model.
pub(crate) struct Row<'a, 'r> {
    row: &'a mut Reading<'r>,
    at: usize,
}

impl Row<'_, '_> {
    /// The next model.
    pub(crate) fn model<M: Positional>(&mut self) -> Result<M, DbErr> {
        let model = M::read(self.row, self.at)?;
        self.at += M::WIDTH;
        Ok(model)
    }

    /// The next column's value.
    pub(crate) fn value<T: Cell>(&mut self) -> Result<T, DbErr> {
        let value = self.row.get(self.at)?;
        self.at += 1;
        Ok(value)
    }

    /// The next model of a left join: absent when its first column, the id, is NULL.
    pub(crate) fn joined<M: Positional>(&mut self) -> Result<Option<M>, DbErr> {
        self.joined_if(|_| true)
    }

    /// The next model when its id is not in `seen` (which then holds it), else absent.
    /// A join repeats a parent's or a shared relation's columns (a plan on each of its
    /// subscriptions) on every row that reaches it; decoding them once per id saves most
    /// of the join's decoding.
    pub(crate) fn first_seen<M: Positional>(
        &mut self,
        seen: &mut IdSet,
    ) -> Result<Option<M>, DbErr> {
        self.joined_if(|id| seen.insert(id))
    }

    fn joined_if<M: Positional>(
        &mut self,
        wanted: impl FnOnce(i64) -> bool,
    ) -> Result<Option<M>, DbErr> {
        let id = self.row.get::<Option<i64>>(self.at)?;
        let model = match id {
            Some(id) if wanted(id) => Some(M::read(self.row, self.at)?),
            _ => None,
        };
        self.at += M::WIDTH;
        Ok(model)
    }
}

/// Runs `query` (a SeaORM select, joins included) and reads every row with `read`.
pub(crate) async fn all<T>(
    db: &impl ConnectionTrait,
    query: impl QueryTrait<QueryStatement = SelectStatement>,
    read: impl FnMut(&mut Row<'_, '_>) -> Result<T, DbErr>,
) -> Result<Vec<T>, DbErr> {
    let statement = query.build(db.get_database_backend());
    of(db, statement, read).await
}

/// Runs `statement` (a SeaORM select, built) and reads every row with `read`.
pub(crate) async fn of<T>(
    db: &impl ConnectionTrait,
    statement: Statement,
    mut read: impl FnMut(&mut Row<'_, '_>) -> Result<T, DbErr>,
) -> Result<Vec<T>, DbErr> {
    let rows = db.query_all_raw(statement).await?;
    let mut checked = 0;
    rows.iter()
        .map(|row| {
            let mut reading = Reading {
                row: raw(row)?,
                checked,
            };
            let read = read(&mut Row {
                row: &mut reading,
                at: 0,
            });
            checked = reading.checked;
            read
        })
        .collect()
}

fn raw(row: &QueryResult) -> Result<Raw<'_>, DbErr> {
    if let Some(row) = row.try_as_pg_row() {
        return Ok(Raw::Postgres(row));
    }
    row.try_as_sqlite_row()
        .map(Raw::Sqlite)
        .ok_or_else(|| DbErr::Custom("a row from neither PostgreSQL nor SQLite".into()))
}

/// Statement texts built once. sea-query formats every identifier, alias and join of a
/// select on each build: 62,000 instructions for the services tree, an eighth of the
/// whole request. A read whose text depends only on the backend and a few shapes
/// (`VARIANTS`) keeps each text here and binds its values afresh.
pub(crate) struct Texts<const VARIANTS: usize> {
    /// Per backend (PostgreSQL, SQLite), per variant.
    texts: [[OnceLock<String>; VARIANTS]; 2],
}

impl<const VARIANTS: usize> Texts<VARIANTS> {
    pub(crate) const fn new() -> Self {
        Texts {
            texts: [
                [const { OnceLock::new() }; VARIANTS],
                [const { OnceLock::new() }; VARIANTS],
            ],
        }
    }

    /// The statement of shape `variant` with `values` bound, its text from `build` the
    /// first time. `values` must be the values `build`'s statement binds, in its order: a
    /// test of each user compares the two.
    pub(crate) fn statement(
        &self,
        backend: DbBackend,
        variant: usize,
        build: impl FnOnce() -> Statement,
        values: Vec<Value>,
    ) -> Statement {
        let per_backend = match backend {
            DbBackend::Postgres => &self.texts[0],
            _ => &self.texts[1],
        };
        let text = per_backend[variant].get_or_init(|| build().sql);
        Statement::from_sql_and_values(backend, text.as_str(), values)
    }
}

/// Implements [`Positional`] for the named entities' models, fields in column order.
macro_rules! positional {
    ($($module:ident { $($field:ident),+ $(,)? })+) => {
        $(impl Positional for entity::$module::Model {
            const WIDTH: usize = [$(stringify!($field)),+].len();
            fn read(row: &mut Reading<'_>, at: usize) -> Result<Self, DbErr> {
                let mut next = at;
                let mut column = || {
                    next += 1;
                    next - 1
                };
                Ok(Self {
                    $($field: row.get(column())?),+
                })
            }
        })+

        /// Each listed entity: its name, the fields as listed, its columns in select order.
        #[cfg(test)]
        fn layouts() -> Vec<(&'static str, Vec<&'static str>, Vec<String>)> {
            use sea_orm::{Iden, Iterable};
            vec![$((
                stringify!($module),
                vec![$(stringify!($field)),+],
                entity::$module::Column::iter().map(|c| c.to_string()).collect(),
            )),+]
        }
    };
}

positional! {
    service { id, tenant_id, name, description, created_at, updated_at }
    product { id, tenant_id, service_id, name }
    billing_mapping {
        id, tenant_id, product_id, plan_id, level_id, usage_value, managed_externally,
        created_by, created_at, updated_by, updated_at,
    }
    plan { id, tenant_id, product_id, unique_id, name, base_size_gb, price, block_size_gb }
    level { id, tenant_id, name, source, created_at }
    account { id, tenant_id, name, link_identifier, display_name, created_at, updated_at }
    account_link {
        id, tenant_id, account_id, state, via, company_id, company_identifier, company_name,
        reason, synced_at,
    }
    subscription { id, tenant_id, account_id, product_id, plan_id }
    usage_sample { id, tenant_id, account_id, metric_id, quantity, measured_at }
    metric { id, tenant_id, product_id, name, cross_reference_type, unit }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::LinkState;
    use sea_orm::Database;

    #[test]
    fn fields_are_listed_in_column_order() {
        for (entity, fields, columns) in super::layouts() {
            assert_eq!(fields, columns, "{entity}: list the fields in column order");
        }
    }

    /// SQLite, and PostgreSQL when `TEST_DATABASE_URL` names one.
    fn databases() -> Vec<String> {
        let mut urls = vec!["sqlite::memory:".to_owned()];
        urls.extend(std::env::var("TEST_DATABASE_URL").ok());
        urls
    }

    /// Two rows: (id, state, note) with the note NULL on the first.
    fn two_rows(backend: DbBackend) -> Statement {
        let sql = match backend {
            DbBackend::Postgres => {
                "SELECT 7::int8, 'LINKED'::text, NULL::text \
                 UNION ALL SELECT 8, 'NOT_FOUND', 'x'"
            }
            _ => "SELECT 7, 'LINKED', NULL UNION ALL SELECT 8, 'NOT_FOUND', 'x'",
        };
        Statement::from_string(backend, sql)
    }

    #[tokio::test]
    async fn every_row_is_read_and_a_mistyped_column_refused() {
        for url in databases() {
            let db = Database::connect(&url).await.unwrap();
            let backend = db.get_database_backend();
            let rows = of(&db, two_rows(backend), |row| {
                Ok((
                    row.row.get::<i64>(0)?,
                    row.row.get::<LinkState>(1)?,
                    row.row.get::<Option<String>>(2)?,
                ))
            })
            .await
            .unwrap();
            assert_eq!(
                rows,
                [
                    (7, LinkState::Linked, None),
                    (8, LinkState::NotFound, Some("x".to_owned()))
                ],
                "{url}"
            );
            // A text read as a number: refused on the first row.
            let error = of(&db, two_rows(backend), |row| row.row.get::<i64>(1))
                .await
                .unwrap_err();
            assert!(error.to_string().contains("column 1"), "{url}: {error}");
            // Checked by its type even where the first row's value is NULL: the second row
            // cannot slip through unchecked.
            let error = of(&db, two_rows(backend), |row| row.row.get::<Option<i64>>(2))
                .await
                .unwrap_err();
            assert!(error.to_string().contains("column 2"), "{url}: {error}");
            // A text that is none of the enum's.
            let error = of(&db, two_rows(backend), |row| {
                row.row.get::<Option<LinkState>>(2)
            })
            .await
            .unwrap_err()
            .to_string();
            assert!(
                error.contains("column 2") && error.contains("unexpected value for"),
                "{url}: {error}"
            );
        }
    }
}
