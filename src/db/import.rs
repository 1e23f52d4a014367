//! Imports of a vendor's usage export: the one pipeline the API, the web app and the CLI
//! share. [`dry_run`] reads the whole file (`domain::import`), loads what is stored for the
//! accounts and dates it names, and says what would change; [`commit`] does the same inside
//! the caller's audited transaction and writes it, all or nothing, in multi-row statements.
//! Column mappings are saved per tenant and service ([`save_mapping`]).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, QueryFilter, QuerySelect, Set};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use super::audit::Change;
use super::entity::{account, import_mapping, subscription, usage_sample};
use super::{ArrayColumn, Scope, accounts, catalog, pg_array, usage};
use crate::domain::import::{
    self, Catalog, CatalogMetric, CatalogProduct, Judged, Mapping, Problem, Stored,
};
use crate::error::{AppError, AppResult};

/// Rows per multi-row statement: well under SQLite's and PostgreSQL's bound parameters.
const CHUNK: usize = 500;
/// Rows per PostgreSQL array insert (a few parameters each, whatever the rows).
const ARRAY_CHUNK: usize = 10_000;

/// A file to import: its name (for the report and the audit log) and its bytes.
pub struct Source {
    pub name: String,
    pub reader: Box<dyn Read + Send>,
}

/// Told the data rows read so far, from the thread that reads them.
pub type Progress = Box<dyn FnMut(u64) + Send>;

/// A dry run (or a commit): the file's facts, its problems, and what it changes.
#[derive(Debug)]
pub struct Report {
    pub file_name: String,
    pub bytes: u64,
    pub sha256: String,
    pub delimiter: char,
    pub row_count: u64,
    /// The first problems (`domain::import::MAX_PROBLEMS`), and how many there are.
    pub problems: Vec<Problem>,
    pub problem_count: u64,
    pub judged: Judged,
    /// The accounts the file names, which `judged.writes.samples` refer to by index.
    names: Vec<String>,
    /// Whether it was written.
    pub committed: bool,
}

impl Report {
    /// Whether committing would write anything.
    pub fn changes(&self) -> bool {
        !self.judged.writes.is_empty()
    }

    /// The audit log's sentence.
    fn summary(&self) -> String {
        let t = |t: &import::Tally| format!("{} new, {} changed", t.new, t.changed);
        format!(
            "imported {:?} ({} bytes, SHA-256 {}): {} rows; accounts {}; subscriptions {}; usage values {}",
            self.file_name,
            self.bytes,
            self.sha256,
            self.row_count,
            t(&self.judged.accounts),
            t(&self.judged.subscriptions),
            t(&self.judged.usage)
        )
    }
}

/// The service's products, plans and metrics, as an import reads them.
pub async fn catalog(scope: &Scope, service_id: i64) -> AppResult<Catalog> {
    let service = catalog::service(scope, service_id).await?;
    let products = catalog::products_of_services(scope, &[service.id]).await?;
    let ids: Vec<i64> = products.iter().map(|p| p.id).collect();
    let plans = catalog::plans_of_products(scope, &ids).await?;
    let metrics = catalog::metrics_of_products(scope, &ids).await?;
    Ok(Catalog {
        products: products
            .into_iter()
            .map(|p| CatalogProduct {
                id: p.id,
                plans: plans
                    .iter()
                    .filter(|plan| plan.product_id == p.id)
                    .map(|plan| (plan.id, plan.unique_id.clone()))
                    .collect(),
                metrics: metrics
                    .iter()
                    .filter(|m| m.product_id == p.id)
                    .map(|m| CatalogMetric {
                        id: m.id,
                        cross_reference_type: m.cross_reference_type.clone(),
                        unit: m.unit,
                    })
                    .collect(),
                name: p.name,
            })
            .collect(),
    })
}

/// The service's saved mapping and when it was saved, if any.
pub async fn saved_mapping(
    scope: &Scope,
    service_id: i64,
) -> AppResult<Option<(Mapping, DateTime<Utc>)>> {
    catalog::service(scope, service_id).await?;
    let Some(row) = scope
        .select::<import_mapping::Entity>()
        .filter(import_mapping::Column::ServiceId.eq(service_id))
        .one(scope.db())
        .await?
    else {
        return Ok(None);
    };
    let mapping = serde_json::from_str(&row.mapping)
        .map_err(|e| AppError::internal("reading a saved import mapping", e))?;
    Ok(Some((mapping, row.updated_at)))
}

/// Saves (replaces) the service's mapping.
pub async fn save_mapping(scope: &Scope, service_id: i64, mapping: &Mapping) -> AppResult<()> {
    catalog::service(scope, service_id).await?;
    let text = serde_json::to_string(mapping)
        .map_err(|e| AppError::internal("writing an import mapping", e))?;
    let row = import_mapping::ActiveModel {
        service_id: Set(service_id),
        mapping: Set(text),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let on_conflict = OnConflict::columns([
        import_mapping::Column::TenantId,
        import_mapping::Column::ServiceId,
    ])
    .update_columns([
        import_mapping::Column::Mapping,
        import_mapping::Column::UpdatedAt,
    ])
    .to_owned();
    scope.upsert(scope.db(), row, on_conflict).await?;
    Ok(())
}

/// Saves the mapping unless the service's saved one is the same; answers whether it did.
/// (A re-import that sends the mapping again changes nothing.)
pub async fn remember_mapping(
    scope: &Scope,
    service_id: i64,
    mapping: &Mapping,
) -> AppResult<bool> {
    let saved = saved_mapping(scope, service_id).await?;
    if saved.is_some_and(|(m, _)| &m == mapping) {
        return Ok(false);
    }
    save_mapping(scope, service_id, mapping).await?;
    Ok(true)
}

/// The mapping given, or else the one saved for the service.
pub async fn mapping_or_saved(
    scope: &Scope,
    service_id: i64,
    given: Option<Mapping>,
) -> AppResult<Mapping> {
    match given {
        Some(mapping) => Ok(mapping),
        None => saved_mapping(scope, service_id)
            .await?
            .map(|(m, _)| m)
            .ok_or_else(|| {
                AppError::bad_input(
                    "mapping",
                    "no column mapping is saved for this service yet; give one",
                )
            }),
    }
}

/// Reads and judges the whole file; writes nothing. `shown`: rows reported in full.
pub async fn dry_run(
    scope: &Scope,
    service_id: i64,
    mapping: Mapping,
    source: Source,
    shown: usize,
    mut progress: Progress,
) -> AppResult<Report> {
    let catalog = catalog(scope, service_id).await?;
    let latest = Utc::now() + usage::FUTURE_TOLERANCE;
    let Source { name, reader } = source;
    // Parsing is CPU work over the whole file: off the async workers.
    let (parsed, catalog) = tokio::task::spawn_blocking(move || {
        let parsed = import::read(reader, &mapping, &catalog, latest, &mut progress);
        (parsed, catalog)
    })
    .await
    .map_err(|e| AppError::internal("reading an import", e))?;
    let stored = stored(scope, &catalog, &parsed.times()).await?;
    let judged = import::judge(&parsed, &catalog, &stored, shown);
    Ok(Report {
        file_name: name,
        bytes: parsed.bytes,
        sha256: parsed.sha256,
        delimiter: parsed.delimiter,
        row_count: parsed.row_count,
        problems: parsed.problems,
        problem_count: parsed.problem_count,
        judged,
        names: parsed.accounts,
        committed: false,
    })
}

/// What is stored for the service's products at the given times.
async fn stored(scope: &Scope, catalog: &Catalog, times: &[DateTime<Utc>]) -> AppResult<Stored> {
    let mut stored = Stored::default();
    let rows: Vec<(i64, String, Option<String>)> = scope
        .select::<account::Entity>()
        .select_only()
        .columns([
            account::Column::Id,
            account::Column::Name,
            account::Column::DisplayName,
        ])
        .into_tuple()
        .all(scope.db())
        .await?;
    stored.accounts = rows
        .into_iter()
        .map(|(id, name, display)| (name, (id, display)))
        .collect();
    let products: Vec<i64> = catalog.products.iter().map(|p| p.id).collect();
    stored.subscriptions = accounts::subscriptions_of_products(scope, &products)
        .await?
        .into_iter()
        .map(|s| ((s.account_id, s.product_id), s.plan_id))
        .collect();
    let metrics: Vec<i64> = catalog
        .products
        .iter()
        .flat_map(|p| p.metrics.iter().map(|m| m.id))
        .collect();
    for chunk in times.chunks(CHUNK) {
        let samples: Vec<(i64, i64, DateTime<Utc>, f64)> = scope
            .select::<usage_sample::Entity>()
            .select_only()
            .columns([
                usage_sample::Column::AccountId,
                usage_sample::Column::MetricId,
                usage_sample::Column::MeasuredAt,
                usage_sample::Column::Quantity,
            ])
            .filter(usage_sample::Column::MetricId.is_in(metrics.iter().copied()))
            .filter(usage_sample::Column::MeasuredAt.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(scope.db())
            .await?;
        stored
            .samples
            .extend(samples.into_iter().map(|(a, m, t, q)| ((a, m, t), q)));
    }
    Ok(stored)
}

/// Reads, judges and — when the file has no problem — writes it through `scope`, which must
/// be an audited transaction's (`db::audit::audited`): the writes and the audit row commit
/// together. A file with problems is refused whole. Answers the report and the audit entry
/// (none when nothing changed: a re-import writes nothing).
pub async fn commit(
    scope: &Scope,
    service_id: i64,
    mapping: Mapping,
    source: Source,
    shown: usize,
    progress: Progress,
) -> AppResult<(Report, Option<Change>)> {
    let mut report = dry_run(scope, service_id, mapping, source, shown, progress).await?;
    if let Some(first) = report.problems.first() {
        return Err(AppError::bad_input(
            "csv",
            format!(
                "the file has {} problem(s), so nothing was imported; the first: row {}{}: {}",
                report.problem_count,
                first.row,
                first
                    .column
                    .as_deref()
                    .map(|c| format!(", column {c:?}"))
                    .unwrap_or_default(),
                first.message
            ),
        ));
    }
    if !report.changes() {
        return Ok((report, None));
    }
    write(scope, &report).await?;
    report.committed = true;
    let change = Change {
        entity: "import",
        verb: "commit",
        entity_id: Some(service_id.to_string()),
        summary: report.summary(),
    };
    Ok((report, Some(change)))
}

/// Writes a judged file: accounts, subscriptions, plan changes, then usage, each in
/// multi-row statements.
async fn write(scope: &Scope, report: &Report) -> AppResult<()> {
    let writes = &report.judged.writes;
    let db = scope.db();
    let now = Utc::now();
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    if postgres {
        for chunk in writes.accounts.chunks(ARRAY_CHUNK) {
            let columns = vec![
                ArrayColumn {
                    name: "name",
                    pg_type: "text",
                    values: pg_array(chunk.iter().map(|(name, _)| Some(name))),
                },
                ArrayColumn {
                    name: "display_name",
                    pg_type: "text",
                    values: pg_array(chunk.iter().map(|(_, display)| display.as_ref())),
                },
                ArrayColumn {
                    name: "created_at",
                    pg_type: "timestamptz",
                    values: pg_array(chunk.iter().map(|_| Some(now.to_rfc3339()))),
                },
                ArrayColumn {
                    name: "updated_at",
                    pg_type: "timestamptz",
                    values: pg_array(chunk.iter().map(|_| Some(now.to_rfc3339()))),
                },
            ];
            let on_conflict = "ON CONFLICT (tenant_id, name) DO UPDATE SET display_name = EXCLUDED.display_name, updated_at = EXCLUDED.updated_at";
            scope
                .insert_arrays(db, "accounts", columns, on_conflict)
                .await?;
        }
    } else {
        for chunk in writes.accounts.chunks(CHUNK) {
            let rows = chunk
                .iter()
                .map(|(name, display)| account::ActiveModel {
                    name: Set(name.clone()),
                    display_name: Set(display.clone()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .collect();
            let on_conflict =
                OnConflict::columns([account::Column::TenantId, account::Column::Name])
                    .update_columns([account::Column::DisplayName, account::Column::UpdatedAt])
                    .to_owned();
            scope.upsert_many(db, rows, on_conflict).await?;
        }
    }
    // Ids of every account, the new ones included.
    let ids: HashMap<String, i64> = scope
        .select::<account::Entity>()
        .select_only()
        .columns([account::Column::Name, account::Column::Id])
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let id = |name: &str| {
        ids.get(name)
            .copied()
            .ok_or_else(|| AppError::internal("importing", format!("account {name:?} vanished")))
    };
    let subscriptions = writes
        .subscriptions
        .iter()
        .map(|(name, product_id, plan_id)| {
            Ok(subscription::ActiveModel {
                account_id: Set(id(name)?),
                product_id: Set(*product_id),
                plan_id: Set(*plan_id),
                ..Default::default()
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    scope.insert_many(db, subscriptions).await?;
    // Plan changes, one statement per (product, plan) and chunk of accounts.
    let mut by_plan: BTreeMap<(i64, Option<i64>), Vec<i64>> = BTreeMap::new();
    for (account_id, product_id, plan_id) in &writes.plans {
        by_plan
            .entry((*product_id, *plan_id))
            .or_default()
            .push(*account_id);
    }
    for ((product_id, plan_id), accounts) in by_plan {
        for chunk in accounts.chunks(CHUNK) {
            scope
                .update::<subscription::Entity>()
                .col_expr(subscription::Column::PlanId, Expr::value(plan_id))
                .filter(subscription::Column::ProductId.eq(product_id))
                .filter(subscription::Column::AccountId.is_in(chunk.iter().copied()))
                .exec(db)
                .await?;
        }
    }
    if postgres {
        for chunk in writes.samples.chunks(ARRAY_CHUNK) {
            let ids = chunk
                .iter()
                .map(|(account, ..)| id(&report.names[*account as usize]).map(Some))
                .collect::<AppResult<Vec<_>>>()?;
            let columns = vec![
                ArrayColumn {
                    name: "account_id",
                    pg_type: "bigint",
                    values: pg_array(ids.into_iter()),
                },
                ArrayColumn {
                    name: "metric_id",
                    pg_type: "bigint",
                    values: pg_array(chunk.iter().map(|(_, metric, ..)| Some(metric))),
                },
                ArrayColumn {
                    name: "quantity",
                    pg_type: "float8",
                    // `{:?}` writes every f64 so that it reads back the same.
                    values: pg_array(chunk.iter().map(|(.., q)| Some(format!("{q:?}")))),
                },
                ArrayColumn {
                    name: "measured_at",
                    pg_type: "timestamptz",
                    values: pg_array(chunk.iter().map(|(_, _, t, _)| Some(t.to_rfc3339()))),
                },
            ];
            let on_conflict = "ON CONFLICT (account_id, metric_id, measured_at) DO UPDATE SET quantity = EXCLUDED.quantity";
            scope
                .insert_arrays(db, "usage_samples", columns, on_conflict)
                .await?;
        }
        return Ok(());
    }
    for chunk in writes.samples.chunks(CHUNK) {
        let rows = chunk
            .iter()
            .map(|(account, metric_id, measured_at, quantity)| {
                Ok(usage_sample::ActiveModel {
                    account_id: Set(id(&report.names[*account as usize])?),
                    metric_id: Set(*metric_id),
                    quantity: Set(*quantity),
                    measured_at: Set(*measured_at),
                    ..Default::default()
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let on_conflict = OnConflict::columns([
            usage_sample::Column::AccountId,
            usage_sample::Column::MetricId,
            usage_sample::Column::MeasuredAt,
        ])
        .update_column(usage_sample::Column::Quantity)
        .to_owned();
        scope.upsert_many(db, rows, on_conflict).await?;
    }
    Ok(())
}
