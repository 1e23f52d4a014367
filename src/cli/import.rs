//! `billbridge import usage FILE`: the dry run printed, then — with `--commit` and a file
//! without problems — the import, through the same pipeline as the API (`db::import`).

use anyhow::{Context, bail};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::db::import::{self as pipeline, Progress, Report, Source};
use crate::db::{self, Scope, catalog};
use crate::domain::import::Mapping;

/// Rows read between two progress lines when standard error is not a terminal.
const PROGRESS_LINES_EVERY: u64 = 10_000;

pub struct Options {
    pub file: PathBuf,
    pub service: String,
    /// `saved`, or a JSON file.
    pub mapping: String,
    pub commit: bool,
    pub lines: usize,
    pub actor: &'static str,
}

/// The service by id or by name.
async fn service(scope: &Scope, wanted: &str) -> anyhow::Result<i64> {
    let services = catalog::services(scope).await.map_err(fail)?;
    services
        .iter()
        .find(|s| s.id.to_string() == wanted || s.name == wanted)
        .map(|s| s.id)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--service {wanted:?}: no such service; give an id or a name: {}",
                services
                    .iter()
                    .map(|s| format!("{} ({:?})", s.id, s.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

fn fail(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!(e.message())
}

/// A JSON mapping file (README: Imports).
fn mapping_file(path: &Path) -> anyhow::Result<Mapping> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the mapping {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "--mapping {}: not a mapping (JSON with account, metrics [{{column, crossReferenceType}}], measuredAt or date, …)",
            path.display()
        )
    })
}

fn source(path: &Path) -> anyhow::Result<Source> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(Source {
        name: path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        reader: Box::new(file),
    })
}

/// Progress on standard error: a bar on a terminal, else a line every 10,000 rows.
fn progress() -> (Progress, indicatif::ProgressBar) {
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} rows read ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        let shown = bar.clone();
        (Box::new(move |rows| shown.set_position(rows)), bar)
    } else {
        let mut last = 0;
        let report = Box::new(move |rows: u64| {
            if rows / PROGRESS_LINES_EVERY > last / PROGRESS_LINES_EVERY {
                eprintln!("{rows} rows read");
            }
            last = rows;
        });
        (report, indicatif::ProgressBar::hidden())
    }
}

pub async fn usage(scope: &Scope, options: Options) -> anyhow::Result<()> {
    let service_id = service(scope, &options.service).await?;
    let given = match options.mapping.as_str() {
        "saved" => None,
        path => Some(mapping_file(Path::new(path))?),
    };
    let mapping = pipeline::mapping_or_saved(scope, service_id, given.clone())
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "no column mapping is saved for this service yet; give one with --mapping FILE (README: Imports)"
            )
        })?;
    let (report_progress, bar) = progress();
    let report = pipeline::dry_run(
        scope,
        service_id,
        mapping.clone(),
        source(&options.file)?,
        options.lines,
        report_progress,
    )
    .await
    .map_err(fail)?;
    bar.finish_and_clear();
    print!("{}", describe(&report));
    if report.problem_count > 0 {
        bail!(
            "the file has {} problem(s); nothing was imported",
            report.problem_count
        );
    }
    if !options.commit {
        println!("dry run: nothing written (add --commit to import)");
        return Ok(());
    }
    let (report_progress, bar) = progress();
    let file = source(&options.file)?;
    let report = db::audit::audited(scope, options.actor, |scope| async move {
        let (report, change) =
            pipeline::commit(&scope, service_id, mapping, file, 0, report_progress).await?;
        let remembered = match &given {
            Some(given) => pipeline::remember_mapping(&scope, service_id, given).await?,
            None => false,
        };
        let change = change.or_else(|| {
            remembered.then(|| db::audit::Change {
                entity: "import",
                verb: "save_mapping",
                entity_id: Some(service_id.to_string()),
                summary: "saved the import column mapping".into(),
            })
        });
        Ok((report, change))
    })
    .await
    .map_err(fail)?;
    bar.finish_and_clear();
    if report.committed {
        println!("committed: {} rows imported", report.row_count);
    } else {
        println!("nothing to change: the stored data already says what the file says");
    }
    Ok(())
}

/// The dry run as text.
pub fn describe(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let judged = &report.judged;
    let tally = |t: &crate::domain::import::Tally| {
        format!(
            "{} new, {} changed, {} unchanged",
            t.new, t.changed, t.unchanged
        )
    };
    let _ = writeln!(
        out,
        "{}: {} bytes, SHA-256 {}, delimiter {:?}, {} rows",
        report.file_name, report.bytes, report.sha256, report.delimiter, report.row_count
    );
    let _ = writeln!(out, "accounts:      {}", tally(&judged.accounts));
    let _ = writeln!(out, "subscriptions: {}", tally(&judged.subscriptions));
    let _ = writeln!(out, "usage values:  {}", tally(&judged.usage));
    for line in &judged.rows {
        let plan = match (&line.previous_plan, &line.plan) {
            (Some(before), Some(after)) if before != after => format!("plan {before} → {after}"),
            (_, Some(plan)) => format!("plan {plan}"),
            _ => "no plan".into(),
        };
        let _ = writeln!(
            out,
            "  row {}: {} ({}), {} {} ({}), measured {}",
            line.row,
            line.account,
            line.account_outcome.as_str().to_lowercase(),
            line.product,
            plan,
            line.subscription.as_str().to_lowercase(),
            line.measured_at.to_rfc3339()
        );
        for value in &line.values {
            let before = value
                .previous
                .filter(|p| *p != value.quantity)
                .map(|p| format!(", was {p}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "      {} {} {} ({}{before})",
                value.cross_reference_type,
                value.quantity,
                value.unit.label(),
                value.outcome.as_str().to_lowercase()
            );
        }
    }
    if report.problem_count > 0 {
        let _ = writeln!(out, "problems: {}", report.problem_count);
        for p in &report.problems {
            let column = p
                .column
                .as_deref()
                .map(|c| format!(", column {c:?}"))
                .unwrap_or_default();
            let _ = writeln!(out, "  row {}{column}: {} ({})", p.row, p.message, p.kind);
        }
        if report.problem_count > report.problems.len() as u64 {
            let _ = writeln!(
                out,
                "  … and {} more",
                report.problem_count - report.problems.len() as u64
            );
        }
    }
    out
}
