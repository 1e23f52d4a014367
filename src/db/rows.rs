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
use sea_orm::sqlx::postgres::{PgHasArrayType, PgRow, PgValueFormat};
use sea_orm::sqlx::sqlite::SqliteRow;
use sea_orm::sqlx::{
    self, Column as _, Decode, Postgres, Row as _, Type, TypeInfo as _, ValueRef as _,
};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, QueryTrait, Statement, Value};
use std::any::type_name;
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
cells!(bool, String, Option<String>);

/// Values PostgreSQL sends as eight bytes ([`Wide`]), decoded from them here; on SQLite by
/// sqlx.
macro_rules! wide {
    ($($ty:ty),+) => {$(
        impl Cell for $ty {
            fn postgres(row: &PgRow, at: usize, check: bool) -> Result<Self, sqlx::Error> {
                wide(row, at, check)?.ok_or_else(null)
            }
            fn sqlite(row: &SqliteRow, at: usize) -> Result<Self, sqlx::Error> {
                row.try_get(at)
            }
        }
        impl Cell for Option<$ty> {
            fn postgres(row: &PgRow, at: usize, check: bool) -> Result<Self, sqlx::Error> {
                wide(row, at, check)
            }
            fn sqlite(row: &SqliteRow, at: usize) -> Result<Self, sqlx::Error> {
                row.try_get(at)
            }
        }
        /// PostgreSQL's arrays (SQLite has none): a group's values in one column.
        impl Cell for Vec<$ty> {
            fn postgres(row: &PgRow, at: usize, check: bool) -> Result<Self, sqlx::Error> {
                array(row, at, check)
            }
            fn sqlite(_: &SqliteRow, at: usize) -> Result<Self, sqlx::Error> {
                Err(sqlx::Error::ColumnDecode {
                    index: at.to_string(),
                    source: "SQLite has no arrays".into(),
                })
            }
        }
    )+};
}
wide!(i64, f64, DateTime<Utc>);

/// A type PostgreSQL sends in eight bytes in its binary format. sqlx decodes them through
/// general readers (a timestamp as an epoch plus a duration, by calendar arithmetic; an
/// array element by element, each with its type cloned): some 430 instructions a timestamp
/// and 190 an integer, where these take a few dozen.
trait Wide: Sized + for<'r> Decode<'r, Postgres> + Type<Postgres> + PgHasArrayType {
    /// The type's OID, as an array names its elements' type.
    const OID: u32;
    /// The value of its eight bytes; `None` when they name none (a timestamp out of range).
    fn from_bytes(bytes: [u8; 8]) -> Option<Self>;
}

impl Wide for i64 {
    const OID: u32 = 20;
    fn from_bytes(bytes: [u8; 8]) -> Option<Self> {
        Some(i64::from_be_bytes(bytes))
    }
}

impl Wide for f64 {
    const OID: u32 = 701;
    fn from_bytes(bytes: [u8; 8]) -> Option<Self> {
        Some(f64::from_be_bytes(bytes))
    }
}

/// PostgreSQL counts a timestamp in microseconds from 2000-01-01 00:00:00 UTC.
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl Wide for DateTime<Utc> {
    const OID: u32 = 1184;
    fn from_bytes(bytes: [u8; 8]) -> Option<Self> {
        let micros = i64::from_be_bytes(bytes).checked_add(POSTGRES_EPOCH_MICROS)?;
        DateTime::from_timestamp_micros(micros)
    }
}

/// Checks, when `check`, that column `at`'s type is one `T` decodes: sqlx's own check,
/// made once per column rather than once per value.
fn checked<T: Type<Postgres>>(row: &PgRow, at: usize, check: bool) -> Result<(), sqlx::Error> {
    if check {
        let ty = row.try_column(at)?.type_info();
        if !ty.is_null() && !T::compatible(ty) {
            return Err(sqlx::Error::ColumnDecode {
                index: at.to_string(),
                source: format!("a {} column read as {}", ty.name(), type_name::<T>()).into(),
            });
        }
    }
    Ok(())
}

/// Column `at` decoded as `T` by sqlx, its type checked first when `check`.
fn postgres<'r, T>(row: &'r PgRow, at: usize, check: bool) -> Result<T, sqlx::Error>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    checked::<T>(row, at, check)?;
    row.try_get_unchecked(at)
}

/// Column `at` (`None`: NULL), its type checked first when `check`, read by `read` from
/// its bytes in PostgreSQL's binary format; a value in text (a statement sent unprepared)
/// is left to sqlx.
fn binary<D>(
    row: &PgRow,
    at: usize,
    check: bool,
    read: impl FnOnce(&[u8]) -> Result<D, String>,
) -> Result<Option<D>, sqlx::Error>
where
    D: for<'r> Decode<'r, Postgres> + Type<Postgres>,
{
    checked::<D>(row, at, check)?;
    let value = row.try_get_raw(at)?;
    if value.is_null() {
        return Ok(None);
    }
    let read = match value.format() {
        PgValueFormat::Text => D::decode(value),
        PgValueFormat::Binary => value.as_bytes().and_then(|b| Ok(read(b)?)),
    };
    read.map(Some).map_err(|source| sqlx::Error::ColumnDecode {
        index: at.to_string(),
        source,
    })
}

/// Column `at` as a [`Wide`] value (`None`: NULL).
fn wide<T: Wide>(row: &PgRow, at: usize, check: bool) -> Result<Option<T>, sqlx::Error> {
    binary(row, at, check, eight::<T>)
}

fn eight<T: Wide>(bytes: &[u8]) -> Result<T, String> {
    let bytes: [u8; 8] = bytes
        .try_into()
        .map_err(|_| format!("{} bytes where {} takes 8", bytes.len(), type_name::<T>()))?;
    T::from_bytes(bytes).ok_or_else(|| format!("{bytes:?} is no {}", type_name::<T>()))
}

/// Column `at` as a one-dimensional array of [`Wide`] values without NULLs. PostgreSQL's
/// binary array: the dimensions, a flags word and the elements' type, then each
/// dimension's length and lower bound, then each element as its length and bytes (`-1`:
/// NULL).
fn array<T: Wide>(row: &PgRow, at: usize, check: bool) -> Result<Vec<T>, sqlx::Error> {
    binary(row, at, check, elements::<T>)?.ok_or_else(null)
}

fn elements<T: Wide>(bytes: &[u8]) -> Result<Vec<T>, String> {
    let word = |at: usize| -> Result<i32, String> {
        let word = bytes.get(at..at + 4).ok_or("the array ends early")?;
        Ok(i32::from_be_bytes(word.try_into().unwrap_or_default()))
    };
    match word(0)? {
        0 => return Ok(Vec::new()),
        1 => {}
        n => return Err(format!("an array of {n} dimensions where one was expected")),
    }
    let oid = word(8)? as u32;
    if oid != T::OID {
        return Err(format!(
            "an array of type {oid} read as {}",
            type_name::<Vec<T>>()
        ));
    }
    let len = usize::try_from(word(12)?).map_err(|_| "a negative array length")?;
    let mut values = Vec::with_capacity(len.min(bytes.len() / 12));
    let mut at = 20;
    for _ in 0..len {
        match word(at)? {
            8 => {}
            -1 => return Err("a NULL element".into()),
            n => return Err(format!("an element of {n} bytes where 8 were expected")),
        }
        let element = bytes.get(at + 4..at + 12).ok_or("the array ends early")?;
        values.push(eight(element)?);
        at += 12;
    }
    if at != bytes.len() {
        return Err(format!(
            "{} bytes after the array's last element",
            bytes.len() - at
        ));
    }
    Ok(values)
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

    /// A binary array of eight-byte elements of type `oid`, as PostgreSQL sends it.
    fn binary(oid: u32, elements: &[[u8; 8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for word in [1, 0, oid as i32, elements.len() as i32, 1] {
            out.extend(word.to_be_bytes());
        }
        for element in elements {
            out.extend(8i32.to_be_bytes());
            out.extend(element);
        }
        out
    }

    #[test]
    fn arrays_are_decoded_and_a_malformed_one_refused() {
        let ints = binary(20, &[7i64.to_be_bytes(), (-2i64).to_be_bytes()]);
        assert_eq!(elements::<i64>(&ints), Ok(vec![7, -2]));
        assert_eq!(
            elements::<i64>(&0i32.to_be_bytes()),
            Ok(vec![]),
            "no dimensions"
        );
        let floats = binary(701, &[1.5f64.to_be_bytes()]);
        assert_eq!(elements::<f64>(&floats), Ok(vec![1.5]));
        // 2000-01-01 plus one second and a microsecond, and 1970-01-01 (before PostgreSQL's
        // epoch).
        let times = binary(
            1184,
            &[
                1_000_001i64.to_be_bytes(),
                (-POSTGRES_EPOCH_MICROS).to_be_bytes(),
            ],
        );
        let times = elements::<DateTime<Utc>>(&times).unwrap();
        assert_eq!(times[0].to_rfc3339(), "2000-01-01T00:00:01.000001+00:00");
        assert_eq!(times[1].timestamp(), 0);

        let refused = |bytes: &[u8], why: &str| {
            let error = elements::<i64>(bytes).unwrap_err();
            assert!(error.contains(why), "{why:?} in {error:?}");
        };
        refused(&floats, "an array of type 701");
        refused(&ints[..ints.len() - 1], "ends early");
        refused(&[ints.as_slice(), &[0]].concat(), "1 bytes after");
        let mut null = ints.clone();
        null[20..24].copy_from_slice(&(-1i32).to_be_bytes());
        refused(&null, "a NULL element");
        let mut short = ints.clone();
        short[20..24].copy_from_slice(&4i32.to_be_bytes());
        refused(&short, "4 bytes where 8");
        let mut square = ints.clone();
        square[0..4].copy_from_slice(&2i32.to_be_bytes());
        refused(&square, "2 dimensions");
        let infinity = binary(1184, &[i64::MAX.to_be_bytes()]);
        assert!(
            elements::<DateTime<Utc>>(&infinity).is_err(),
            "infinity is no time"
        );
    }

    /// What PostgreSQL sends is decoded as sqlx decodes it: integers, floats and
    /// timestamps on both sides of its epoch, alone and in arrays, NULL where allowed.
    #[tokio::test]
    async fn eight_byte_values_read_as_sqlx_reads_them() {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            return;
        };
        let db = Database::connect(&url).await.unwrap();
        let sql = "SELECT n, n * 1.25::float8, \
                   '1970-01-01 00:00:00+00'::timestamptz + n * interval '1234567.891 seconds', \
                   NULLIF(n, 0), \
                   ARRAY[n, -n], ARRAY[n * 0.5::float8], \
                   ARRAY['1999-12-31 23:59:59.999999+00'::timestamptz + n * interval '1 day'] \
                   FROM generate_series(-3000::int8, 3000, 7) AS n";
        let statement = Statement::from_string(DbBackend::Postgres, sql);
        let rows = of(&db, statement, |row| {
            let Raw::Postgres(pg) = row.row.row else {
                unreachable!("a PostgreSQL row");
            };
            let sqlx = |at: usize| pg.try_get_unchecked::<DateTime<Utc>, _>(at).unwrap();
            assert_eq!(row.row.get::<i64>(0)?, pg.try_get::<i64, _>(0).unwrap());
            assert_eq!(row.row.get::<f64>(1)?, pg.try_get::<f64, _>(1).unwrap());
            assert_eq!(row.row.get::<DateTime<Utc>>(2)?, sqlx(2));
            assert_eq!(row.row.get::<Option<i64>>(3)?, pg.try_get(3).unwrap());
            assert_eq!(
                row.row.get::<Vec<i64>>(4)?,
                pg.try_get::<Vec<i64>, _>(4).unwrap()
            );
            assert_eq!(
                row.row.get::<Vec<f64>>(5)?,
                pg.try_get::<Vec<f64>, _>(5).unwrap()
            );
            let times: Vec<DateTime<Utc>> = pg.try_get(6).unwrap();
            assert_eq!(row.row.get::<Vec<DateTime<Utc>>>(6)?, times);
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(rows.len(), 858);
        // An array of integers read as floats, and a NULL where a value must be.
        let wrong =
            Statement::from_string(DbBackend::Postgres, "SELECT ARRAY[1::int8], NULL::int8");
        let error = of(&db, wrong.clone(), |row| row.row.get::<Vec<f64>>(0))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("column 0"), "{error}");
        let error = of(&db, wrong, |row| row.row.get::<i64>(1))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("column 1"), "{error}");
    }
}
