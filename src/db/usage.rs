//! Usage samples: what each account's metric measured, and when. History is kept.

use chrono::{DateTime, Duration, DurationRound, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use std::collections::{HashMap, HashSet};

use super::entity::{latest_usage, metric, usage_sample};
use super::{Scope, accounts, catalog};
use crate::domain::MetricUnit;
use crate::error::{AppError, AppResult};

/// How far ahead of our clock a measurement may be stamped (the vendor's clock may run fast).
pub(crate) const FUTURE_TOLERANCE: Duration = Duration::minutes(5);

/// One measurement of an account's metric.
#[derive(Clone, Debug)]
pub struct UsageInput {
    pub account: String,
    pub metric_id: i64,
    pub quantity: f64,
    pub measured_at: DateTime<Utc>,
}

/// Records a batch of samples, all or nothing. Idempotent: the same (account, metric,
/// measured at) again replaces the quantity instead of adding a sample. Measurement times
/// are kept to the second.
pub async fn record(scope: &Scope, rows: Vec<UsageInput>) -> AppResult<usize> {
    if rows.len() > accounts::MAX_BATCH {
        return Err(AppError::bad_input(
            "input",
            format!(
                "{} rows given; at most {} per call",
                rows.len(),
                accounts::MAX_BATCH
            ),
        ));
    }
    let names: Vec<String> = rows.iter().map(|r| r.account.clone()).collect();
    let account_ids: HashMap<String, i64> = accounts::by_names(scope, &names)
        .await?
        .into_iter()
        .map(|a| (a.name, a.id))
        .collect();
    let metric_ids: Vec<i64> = rows.iter().map(|r| r.metric_id).collect();
    let metrics: HashMap<i64, metric::Model> = catalog::metrics_by_id(scope, &metric_ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let ids: Vec<i64> = account_ids.values().copied().collect();
    let subscribed: HashSet<(i64, i64)> = accounts::subscriptions_of_accounts(scope, &ids)
        .await?
        .into_iter()
        .map(|s| (s.account_id, s.product_id))
        .collect();
    let now = Utc::now();
    let mut keys = HashSet::new();
    let mut samples = Vec::with_capacity(rows.len());
    for (index, row) in rows.into_iter().enumerate() {
        let bad = |field: &str, message: String| {
            AppError::bad_input(field, message).at_row("input", index)
        };
        let Some(&account_id) = account_ids.get(&row.account) else {
            return Err(bad(
                "account",
                format!(
                    "account {:?} does not exist (upsertAccounts first)",
                    row.account
                ),
            ));
        };
        let Some(metric) = metrics.get(&row.metric_id) else {
            return Err(bad(
                "metricId",
                format!("metric {} does not exist", row.metric_id),
            ));
        };
        if !subscribed.contains(&(account_id, metric.product_id)) {
            return Err(bad(
                "metricId",
                format!(
                    "account {:?} does not subscribe to the product that reports {:?}",
                    row.account, metric.cross_reference_type
                ),
            ));
        }
        if !row.quantity.is_finite() || row.quantity < 0.0 {
            return Err(bad(
                "quantity",
                format!("{} is not a quantity; give a number ≥ 0", row.quantity),
            ));
        }
        let unit: MetricUnit = metric.unit;
        if row.quantity > unit.max_measurement() {
            return Err(bad(
                "quantity",
                format!(
                    "{} is more than the largest {:?} measurement billbridge accepts ({} {})",
                    row.quantity,
                    metric.cross_reference_type,
                    unit.max_measurement(),
                    unit.label()
                ),
            ));
        }
        if unit == MetricUnit::Count && row.quantity.fract() != 0.0 {
            return Err(bad(
                "quantity",
                format!(
                    "{:?} is a count; give a whole number, not {}",
                    metric.cross_reference_type, row.quantity
                ),
            ));
        }
        if row.measured_at > now + FUTURE_TOLERANCE {
            return Err(bad(
                "measuredAt",
                format!("{} is in the future", row.measured_at.to_rfc3339()),
            ));
        }
        let measured_at = row
            .measured_at
            .duration_trunc(TimeDelta::seconds(1))
            .unwrap_or(row.measured_at);
        if !keys.insert((account_id, metric.id, measured_at)) {
            return Err(bad(
                "measuredAt",
                "the same account, metric and time appear twice in this batch".into(),
            ));
        }
        samples.push(usage_sample::ActiveModel {
            account_id: Set(account_id),
            metric_id: Set(metric.id),
            quantity: Set(row.quantity),
            measured_at: Set(measured_at),
            ..Default::default()
        });
    }
    let count = samples.len();
    let txn = scope.db().begin().await?;
    for sample in samples {
        let on_conflict = OnConflict::columns([
            usage_sample::Column::AccountId,
            usage_sample::Column::MetricId,
            usage_sample::Column::MeasuredAt,
        ])
        .update_column(usage_sample::Column::Quantity)
        .to_owned();
        scope.upsert(&txn, sample, on_conflict).await?;
    }
    txn.commit().await?;
    Ok(count)
}

/// An account's latest sample of one metric: what the API and the push read of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub account_id: i64,
    pub metric_id: i64,
    pub quantity: f64,
    pub measured_at: DateTime<Utc>,
}

impl From<usage_sample::Model> for Sample {
    fn from(row: usage_sample::Model) -> Self {
        Sample {
            account_id: row.account_id,
            metric_id: row.metric_id,
            quantity: row.quantity,
            measured_at: row.measured_at,
        }
    }
}

/// The latest sample of every metric of every account, by account, then metric.
pub(crate) async fn latest_all(scope: &Scope) -> AppResult<Vec<Sample>> {
    latest(scope, None).await
}

/// The latest sample of every metric of the given accounts, by account, then metric.
pub(crate) async fn latest_for_accounts(
    scope: &Scope,
    account_ids: &[i64],
) -> AppResult<Vec<Sample>> {
    latest(scope, Some(account_ids)).await
}

async fn latest(scope: &Scope, account_ids: Option<&[i64]>) -> AppResult<Vec<Sample>> {
    // `latest_usage` names each pair's newest sample (triggers keep it, see its migration),
    // so the latest samples are a primary-key read each, however long the history.
    let mut newest = Query::select();
    newest
        .column(latest_usage::Column::SampleId)
        .from(latest_usage::Entity)
        .and_where(latest_usage::Column::TenantId.eq(scope.tenant_id()));
    let backend = scope.db().get_database_backend();
    if let Some(ids) = account_ids {
        newest.and_where(super::one_of::<latest_usage::Entity>(
            backend,
            latest_usage::Column::AccountId,
            ids,
        ));
    }
    let query = scope.select::<usage_sample::Entity>().select_only();
    let column = |c: usage_sample::Column| Expr::col((usage_sample::Entity, c));
    if backend != DbBackend::Postgres {
        // SQLite looks the ids of an `IN` up by rowid.
        let query = query
            .columns([
                usage_sample::Column::AccountId,
                usage_sample::Column::MetricId,
                usage_sample::Column::Quantity,
                usage_sample::Column::MeasuredAt,
            ])
            .filter(column(usage_sample::Column::Id).in_subquery(newest))
            .order_by_asc(usage_sample::Column::AccountId)
            .order_by_asc(usage_sample::Column::MetricId);
        return Ok(super::rows::all(scope.db(), query, |row| {
            Ok(Sample {
                account_id: row.value()?,
                metric_id: row.value()?,
                quantity: row.value()?,
                measured_at: row.value()?,
            })
        })
        .await?);
    }
    // PostgreSQL turns a join or `IN (subquery)` over a whole tenant into a hash join over a
    // scan of every sample (63 ms instead of 11 ms for 4,000 pairs over 400,000 samples):
    // given the ids as one array, it can only look each up by primary key.
    let newest = Expr::SubQuery(None, Box::new(newest.into()));
    let is_newest = Expr::cust_with_exprs(
        "$1 = ANY(ARRAY $2)",
        [column(usage_sample::Column::Id), newest],
    );
    // One row, the samples' columns as arrays: a row costs some 2,000 instructions to
    // receive and read beyond its values, and a page of 50 accounts has ~300 samples. An
    // aggregate without groups needs no sort (grouping by account cost PostgreSQL more than
    // it saved), and the arrays are built in one pass, so their elements line up. Over no
    // samples it is NULL, hence the empty array.
    let agg = |c| Expr::cust_with_exprs("coalesce(array_agg($1), '{}')", [column(c)]);
    let query = query
        .expr(agg(usage_sample::Column::AccountId))
        .expr(agg(usage_sample::Column::MetricId))
        .expr(agg(usage_sample::Column::Quantity))
        .expr(agg(usage_sample::Column::MeasuredAt))
        .filter(is_newest);
    let mut samples = Vec::new();
    super::rows::all(scope.db(), query, |row| {
        let accounts: Vec<i64> = row.value()?;
        let metrics: Vec<i64> = row.value()?;
        let quantities: Vec<f64> = row.value()?;
        let times: Vec<DateTime<Utc>> = row.value()?;
        let n = accounts.len();
        if metrics.len() != n || quantities.len() != n || times.len() != n {
            return Err(sea_orm::DbErr::Type(format!(
                "{n} accounts, {} metrics, {} quantities and {} times",
                metrics.len(),
                quantities.len(),
                times.len()
            )));
        }
        samples = accounts
            .into_iter()
            .zip(metrics)
            .zip(quantities.into_iter().zip(times))
            .map(
                |((account_id, metric_id), (quantity, measured_at))| Sample {
                    account_id,
                    metric_id,
                    quantity,
                    measured_at,
                },
            )
            .collect();
        Ok(())
    })
    .await?;
    // In the order SQLite's statement gives them (the aggregate's is unspecified).
    samples.sort_unstable_by_key(|s| (s.account_id, s.metric_id));
    Ok(samples)
}

/// (account, metric) of every metric the given accounts have reported at least once: a
/// pair has usage exactly when it has a `latest_usage` row.
pub async fn reported(scope: &Scope, account_ids: &[i64]) -> AppResult<HashSet<(i64, i64)>> {
    let pairs: Vec<(i64, i64)> = scope
        .select::<latest_usage::Entity>()
        .filter(latest_usage::Column::AccountId.is_in(account_ids.iter().copied()))
        .select_only()
        .column(latest_usage::Column::AccountId)
        .column(latest_usage::Column::MetricId)
        .into_tuple()
        .all(scope.db())
        .await?;
    Ok(pairs.into_iter().collect())
}

/// An account's history, newest first.
pub async fn history(
    scope: &Scope,
    account_id: i64,
    metric_id: Option<i64>,
    limit: u64,
) -> AppResult<Vec<usage_sample::Model>> {
    let mut query = scope
        .select::<usage_sample::Entity>()
        .filter(usage_sample::Column::AccountId.eq(account_id));
    if let Some(metric_id) = metric_id {
        query = query.filter(usage_sample::Column::MetricId.eq(metric_id));
    }
    Ok(query
        .order_by_desc(usage_sample::Column::MeasuredAt)
        .limit(limit)
        .all(scope.db())
        .await?)
}
