//! Importing a vendor's usage export (CSV) through the API: a sample of the file for
//! choosing columns, the saved column mapping per service, the dry run (`previewImport`)
//! and the commit (`commitImport`). The pipeline itself is `db::import`; this translates.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use super::audit::{audited, entry};
use super::guard::MinRole;
use super::services::MetricUnit;
use super::{input, scope};
use crate::auth::Role;
use crate::db::import::{self as pipeline, Report, Source};
use crate::domain::MetricUnit as DomainUnit;
use crate::domain::import::{Mapping, MetricColumn};
use crate::error::{AppError, AppResult};

/// The most rows a report shows in full (`lines`).
const MAX_LINES: i32 = 1_000;
/// The most rows `importSample` shows.
const MAX_SAMPLE: i32 = 50;
/// The most metric columns a mapping names.
const MAX_METRICS: usize = 50;

/// The largest CSV text the API takes, in bytes (`BILLBRIDGE_MAX_IMPORT_BYTES`).
pub(crate) struct ImportLimit(pub usize);

fn limit(ctx: &Context<'_>) -> usize {
    ctx.data_opt::<ImportLimit>().map_or(0, |l| l.0)
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ImportDelimiter {
    Comma,
    Semicolon,
    Tab,
}

impl ImportDelimiter {
    fn char(self) -> char {
        match self {
            ImportDelimiter::Comma => ',',
            ImportDelimiter::Semicolon => ';',
            ImportDelimiter::Tab => '\t',
        }
    }

    fn of(c: char) -> Self {
        match c {
            ';' => ImportDelimiter::Semicolon,
            '\t' => ImportDelimiter::Tab,
            _ => ImportDelimiter::Comma,
        }
    }
}

/// What an import does to an account, a subscription or a usage value.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::ImportOutcome")]
pub enum ImportOutcome {
    /// Not stored yet: created.
    New,
    /// Stored differently: replaced.
    Changed,
    /// Stored as the file says: nothing written.
    Unchanged,
}

/// What is wrong with a row (or the header).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::ImportProblem")]
pub enum ImportProblemKind {
    /// The file cannot be read (not UTF-8, a broken row, no header).
    Unreadable,
    /// The mapping names a column the header lacks, or lacks one it needs.
    MissingColumn,
    /// The mapping names a metric no product of the service reports.
    UnknownMetric,
    /// A required cell is empty.
    MissingValue,
    /// A name too long or with a control character.
    BadName,
    UnknownProduct,
    UnknownPlan,
    /// A value for a metric of another product than the row's.
    WrongProduct,
    NotANumber,
    Negative,
    /// A count with a fraction.
    Fraction,
    TooLarge,
    BadDate,
    FutureDate,
    /// A value for the same account, metric and measured-at as an earlier row.
    Duplicate,
    /// Another plan than an earlier row gives the same account and product.
    ConflictingPlan,
}

/// A column holding one metric's values.
#[derive(InputObject)]
pub struct ImportMetricColumnInput {
    /// The column's header text.
    pub column: String,
    /// The metric's cross-reference type, e.g. `BackupUsage`.
    pub cross_reference_type: String,
}

/// Which column holds what. Columns are named by their header text.
#[derive(InputObject)]
pub struct ImportMappingInput {
    /// Detected from the header row when left out.
    pub delimiter: Option<ImportDelimiter>,
    /// Numbers are written `1.234,5`.
    #[graphql(default)]
    pub decimal_comma: bool,
    pub account: String,
    pub display_name: Option<String>,
    /// May be left out when the service has one product.
    pub product: Option<String>,
    /// The plan's unique ID; an empty cell keeps the account's plan.
    pub plan: Option<String>,
    pub metrics: Vec<ImportMetricColumnInput>,
    /// The measured-at column; or `date` for the whole file.
    pub measured_at: Option<String>,
    /// One measured-at date (`YYYY-MM-DD`) for every row.
    pub date: Option<String>,
    /// A chrono format for the measured-at cells, e.g. `%d/%m/%Y`; ISO 8601 by default.
    pub date_format: Option<String>,
}

fn column(field: &str, value: &str) -> AppResult<String> {
    input::name(field, value)
}

fn optional(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    value.map(|v| column(field, v)).transpose()
}

impl ImportMappingInput {
    fn mapping(self) -> AppResult<Mapping> {
        if self.metrics.len() > MAX_METRICS {
            return Err(AppError::bad_input(
                "mapping.metrics",
                format!("{} given; at most {MAX_METRICS}", self.metrics.len()),
            ));
        }
        let metrics = self
            .metrics
            .iter()
            .enumerate()
            .map(|(i, m)| {
                Ok(MetricColumn {
                    column: column(&format!("mapping.metrics[{i}].column"), &m.column)?,
                    cross_reference_type: input::exact(
                        &format!("mapping.metrics[{i}].crossReferenceType"),
                        &m.cross_reference_type,
                    )?,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let date = match self.date.as_deref() {
            Some(d) => {
                let d = input::text("mapping.date", d, input::SETTING)?.trim();
                Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                    AppError::bad_input(
                        "mapping.date",
                        format!("{d:?} is not a date; write 2026-11-30"),
                    )
                })?)
            }
            None => None,
        };
        let date_format = match self.date_format.as_deref() {
            Some(f) => Some(input::text("mapping.dateFormat", f, input::SETTING)?.to_owned()),
            None => None,
        };
        Ok(Mapping {
            delimiter: self.delimiter.map(ImportDelimiter::char),
            decimal_comma: self.decimal_comma,
            account: column("mapping.account", &self.account)?,
            display_name: optional("mapping.displayName", self.display_name.as_deref())?,
            product: optional("mapping.product", self.product.as_deref())?,
            plan: optional("mapping.plan", self.plan.as_deref())?,
            metrics,
            measured_at: optional("mapping.measuredAt", self.measured_at.as_deref())?,
            date,
            date_format,
        })
    }
}

/// A column holding one metric's values.
#[derive(SimpleObject)]
pub struct ImportMetricColumn {
    pub column: String,
    pub cross_reference_type: String,
}

/// A service's saved column mapping.
#[derive(SimpleObject)]
pub struct ImportMapping {
    pub delimiter: Option<ImportDelimiter>,
    pub decimal_comma: bool,
    pub account: String,
    pub display_name: Option<String>,
    pub product: Option<String>,
    pub plan: Option<String>,
    pub metrics: Vec<ImportMetricColumn>,
    pub measured_at: Option<String>,
    /// `YYYY-MM-DD`
    pub date: Option<String>,
    pub date_format: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl ImportMapping {
    fn new(m: Mapping, updated_at: DateTime<Utc>) -> Self {
        ImportMapping {
            delimiter: m.delimiter.map(ImportDelimiter::of),
            decimal_comma: m.decimal_comma,
            account: m.account,
            display_name: m.display_name,
            product: m.product,
            plan: m.plan,
            metrics: m
                .metrics
                .into_iter()
                .map(|c| ImportMetricColumn {
                    column: c.column,
                    cross_reference_type: c.cross_reference_type,
                })
                .collect(),
            measured_at: m.measured_at,
            date: m.date.map(|d| d.format("%Y-%m-%d").to_string()),
            date_format: m.date_format,
            updated_at,
        }
    }
}

/// The header and first rows of a file, for choosing a mapping.
#[derive(SimpleObject)]
pub struct ImportSample {
    pub delimiter: ImportDelimiter,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(SimpleObject)]
pub struct ImportTally {
    pub new: i32,
    pub changed: i32,
    pub unchanged: i32,
}

/// A problem, where it is, in plain words.
#[derive(SimpleObject)]
pub struct ImportProblem {
    /// The file's line (the header is row 1).
    pub row: i32,
    /// The column's header, when one column is at fault.
    pub column: Option<String>,
    pub kind: ImportProblemKind,
    pub message: String,
}

/// A usage value of a row.
#[derive(SimpleObject)]
pub struct ImportValue {
    pub cross_reference_type: String,
    pub unit: MetricUnit,
    pub quantity: f64,
    /// What is stored at the same measured-at, if anything.
    pub previous: Option<f64>,
    pub outcome: ImportOutcome,
}

/// A row and what it changes.
#[derive(SimpleObject)]
pub struct ImportLine {
    pub row: i32,
    pub account: String,
    pub account_outcome: ImportOutcome,
    pub display_name: Option<String>,
    pub product: String,
    /// The plan's unique ID after the import, and before.
    pub plan: Option<String>,
    pub previous_plan: Option<String>,
    pub subscription: ImportOutcome,
    pub measured_at: DateTime<Utc>,
    pub values: Vec<ImportValue>,
}

/// A dry run, or what a commit wrote.
#[derive(SimpleObject)]
pub struct ImportReport {
    pub file_name: String,
    pub bytes: i32,
    pub sha256: String,
    pub delimiter: ImportDelimiter,
    /// Data rows read.
    pub rows: i32,
    /// Every problem counts; the first 1,000 are listed.
    pub problem_count: i32,
    pub problems: Vec<ImportProblem>,
    /// Distinct accounts: new, display name changed, unchanged.
    pub accounts: ImportTally,
    /// Distinct (account, product): new, plan changed, unchanged.
    pub subscriptions: ImportTally,
    pub usage: ImportTally,
    /// The first rows in full (`lines` of them).
    pub lines: Vec<ImportLine>,
    /// Whether it was written (false for a dry run, and for a file that changed nothing).
    pub committed: bool,
}

fn int(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn tally(t: crate::domain::import::Tally) -> ImportTally {
    ImportTally {
        new: int(t.new),
        changed: int(t.changed),
        unchanged: int(t.unchanged),
    }
}

impl From<Report> for ImportReport {
    fn from(r: Report) -> Self {
        ImportReport {
            file_name: r.file_name,
            bytes: int(r.bytes),
            sha256: r.sha256,
            delimiter: ImportDelimiter::of(r.delimiter),
            rows: int(r.row_count),
            problem_count: int(r.problem_count),
            problems: r
                .problems
                .into_iter()
                .map(|p| ImportProblem {
                    row: int(p.row),
                    column: p.column,
                    kind: p.kind.into(),
                    message: p.message,
                })
                .collect(),
            accounts: tally(r.judged.accounts),
            subscriptions: tally(r.judged.subscriptions),
            usage: tally(r.judged.usage),
            lines: r
                .judged
                .rows
                .into_iter()
                .map(|l| ImportLine {
                    row: int(l.row),
                    account: l.account,
                    account_outcome: l.account_outcome.into(),
                    display_name: l.display_name,
                    product: l.product,
                    plan: l.plan,
                    previous_plan: l.previous_plan,
                    subscription: l.subscription.into(),
                    measured_at: l.measured_at,
                    values: l
                        .values
                        .into_iter()
                        .map(|v| ImportValue {
                            cross_reference_type: v.cross_reference_type,
                            unit: match v.unit {
                                DomainUnit::Gb => MetricUnit::Gb,
                                DomainUnit::Count => MetricUnit::Count,
                            },
                            quantity: v.quantity,
                            previous: v.previous,
                            outcome: v.outcome.into(),
                        })
                        .collect(),
                })
                .collect(),
            committed: r.committed,
        }
    }
}

/// The arguments both the dry run and the commit take, checked.
struct Request {
    service_id: i64,
    source: Source,
    mapping: Option<Mapping>,
    lines: usize,
}

fn request(
    ctx: &Context<'_>,
    service_id: &ID,
    csv: String,
    file_name: Option<String>,
    mapping: Option<ImportMappingInput>,
    lines: i32,
) -> AppResult<Request> {
    let service_id = input::id("serviceId", service_id)?;
    input::file("csv", &csv, limit(ctx))?;
    let name =
        input::note("fileName", file_name.as_deref())?.unwrap_or_else(|| "upload.csv".into());
    if !(0..=MAX_LINES).contains(&lines) {
        return Err(AppError::bad_input(
            "lines",
            format!("give 0 to {MAX_LINES}"),
        ));
    }
    Ok(Request {
        service_id,
        source: Source {
            name,
            reader: Box::new(std::io::Cursor::new(csv.into_bytes())),
        },
        mapping: mapping.map(ImportMappingInput::mapping).transpose()?,
        lines: lines as usize,
    })
}

#[derive(Default)]
pub struct ImportQuery;

#[Object]
impl ImportQuery {
    /// The column mapping saved for a service (by `saveImportMapping` or a commit), or null.
    async fn import_mapping(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
    ) -> Result<Option<ImportMapping>> {
        let service_id = input::id("serviceId", &service_id)?;
        Ok(pipeline::saved_mapping(scope(ctx), service_id)
            .await?
            .map(|(m, at)| ImportMapping::new(m, at)))
    }

    /// The header and first rows of a CSV file (delimiter detected unless given), for
    /// choosing a mapping.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn import_sample(
        &self,
        ctx: &Context<'_>,
        csv: String,
        delimiter: Option<ImportDelimiter>,
        #[graphql(default = 5)] rows: i32,
    ) -> Result<ImportSample> {
        input::file("csv", &csv, limit(ctx))?;
        if !(0..=MAX_SAMPLE).contains(&rows) {
            return Err(AppError::bad_input("rows", format!("give 0 to {MAX_SAMPLE}")).into());
        }
        let sample = crate::domain::import::sample(
            csv.as_bytes(),
            delimiter.map(ImportDelimiter::char),
            rows as usize,
        )
        .map_err(|why| AppError::bad_input("csv", why))?;
        Ok(ImportSample {
            delimiter: ImportDelimiter::of(sample.delimiter),
            columns: sample.columns,
            rows: sample.rows,
        })
    }

    /// The dry run of importing a CSV file into a service: every row's account,
    /// subscription and usage values (new, changed, unchanged) and every problem with its
    /// row and column. Writes nothing. Without `mapping`, the service's saved one is used.
    /// `csv` takes at most `BILLBRIDGE_MAX_IMPORT_BYTES` (768 KiB by default).
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn preview_import(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        csv: String,
        file_name: Option<String>,
        mapping: Option<ImportMappingInput>,
        #[graphql(default = 100)] lines: i32,
    ) -> Result<ImportReport> {
        let request = request(ctx, &service_id, csv, file_name, mapping, lines)?;
        let scope = scope(ctx);
        let mapping =
            pipeline::mapping_or_saved(scope, request.service_id, request.mapping).await?;
        let report = pipeline::dry_run(
            scope,
            request.service_id,
            mapping,
            request.source,
            request.lines,
            Box::new(|_| {}),
        )
        .await?;
        Ok(report.into())
    }
}

#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Saves the column mapping of a service's imports.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn save_import_mapping(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        mapping: ImportMappingInput,
    ) -> Result<ImportMapping> {
        let service_id = input::id("serviceId", &service_id)?;
        let mapping = mapping.mapping()?;
        let saved = mapping.clone();
        audited(ctx, |scope| async move {
            pipeline::save_mapping(&scope, service_id, &saved).await?;
            let note = entry(
                "import",
                "save_mapping",
                Some(service_id),
                format!(
                    "saved the import column mapping (account from {:?})",
                    saved.account
                ),
            );
            Ok(((), note))
        })
        .await?;
        Ok(ImportMapping::new(mapping, Utc::now()))
    }

    /// Imports a CSV file into a service, all or nothing: the dry run again, refused
    /// (`BAD_USER_INPUT`, nothing written) when it has any problem; else every change in
    /// one transaction with its audit-log entry (file name, size, SHA-256). The same file
    /// again changes nothing. A `mapping` given is saved for the service unless
    /// `saveMapping` is false.
    #[graphql(guard = "MinRole(Role::Editor)")]
    #[allow(clippy::too_many_arguments)]
    async fn commit_import(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        csv: String,
        file_name: Option<String>,
        mapping: Option<ImportMappingInput>,
        #[graphql(default = true)] save_mapping: bool,
        #[graphql(default = 100)] lines: i32,
    ) -> Result<ImportReport> {
        let request = request(ctx, &service_id, csv, file_name, mapping, lines)?;
        let report = audited(ctx, |scope| async move {
            let Request {
                service_id,
                source,
                mapping,
                lines,
            } = request;
            let save = mapping.clone().filter(|_| save_mapping);
            let mapping = pipeline::mapping_or_saved(&scope, service_id, mapping).await?;
            let (report, change) =
                pipeline::commit(&scope, service_id, mapping, source, lines, Box::new(|_| {}))
                    .await?;
            let remembered = match &save {
                Some(save) => pipeline::remember_mapping(&scope, service_id, save).await?,
                None => false,
            };
            let change = change.or_else(|| {
                remembered.then(|| {
                    entry(
                        "import",
                        "save_mapping",
                        Some(service_id),
                        "saved the import column mapping".into(),
                    )
                })
            });
            Ok((report, change))
        })
        .await?;
        Ok(report.into())
    }
}
