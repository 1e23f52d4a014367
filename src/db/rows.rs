//! Joined rows read by position. SeaORM reads a joined select's columns by name, naming
//! each `<prefix><column>` with a `format!` for every column of every row and then looking
//! the name up: on the read-ahead joins (`catalog::tree`, a page of accounts with links,
//! subscriptions with plans) that was a quarter of the server's CPU. SeaORM selects each
//! entity's columns in its `Column::iter()` order, entity after entity, so a row is read
//! by index instead. [`positional!`] lists a model's fields in that order; a test holds the
//! list to `Column::iter()`, so a column added to an entity cannot shift the others
//! unnoticed.

use rustc_hash::FxBuildHasher;
use sea_orm::sea_query::SelectStatement;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, QueryTrait, Statement, Value};
use std::collections::{HashMap, HashSet};
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
    fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr>;
}

/// A row being read, model after model.
pub(crate) struct Row<'a> {
    row: &'a QueryResult,
    at: usize,
}

impl Row<'_> {
    /// The next model.
    pub(crate) fn model<M: Positional>(&mut self) -> Result<M, DbErr> {
        let model = M::read(self.row, self.at)?;
        self.at += M::WIDTH;
        Ok(model)
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
        let id = self.row.try_get_by_index::<Option<i64>>(self.at)?;
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
    read: impl FnMut(&mut Row<'_>) -> Result<T, DbErr>,
) -> Result<Vec<T>, DbErr> {
    let statement = query.build(db.get_database_backend());
    of(db, statement, read).await
}

/// Runs `statement` (a SeaORM select, built) and reads every row with `read`.
pub(crate) async fn of<T>(
    db: &impl ConnectionTrait,
    statement: Statement,
    mut read: impl FnMut(&mut Row<'_>) -> Result<T, DbErr>,
) -> Result<Vec<T>, DbErr> {
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| read(&mut Row { row, at: 0 }))
        .collect()
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
            fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                let mut next = at;
                let mut column = || {
                    next += 1;
                    next - 1
                };
                Ok(Self {
                    $($field: row.try_get_by_index(column())?),+
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
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_are_listed_in_column_order() {
        for (entity, fields, columns) in super::layouts() {
            assert_eq!(fields, columns, "{entity}: list the fields in column order");
        }
    }
}
