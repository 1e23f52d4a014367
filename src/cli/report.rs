//! What `billbridge push` prints when its run ends: the counts, the run's message, the first
//! failed lines; and the exit status it ends with (0 succeeded, 2 partial, 1 otherwise).

use anyhow::bail;

use crate::db::entity::push_run;
use crate::db::{self, Scope};
use crate::domain::{LineOutcome, RunStatus};

/// How many failed lines the report lists.
const FAILED_SHOWN: u64 = 20;

/// Prints the report of `run`; a partial run exits the process with status 2, a failed or
/// cancelled one is an error.
pub(super) async fn push_run(scope: &Scope, run: &push_run::Model) -> anyhow::Result<()> {
    println!(
        "push run {}: {} in {:.1}s — {} lines: {} written, {} unchanged, {} skipped, {} failed",
        run.id,
        run.status,
        run.finished_at
            .map_or(0.0, |f| (f - run.started_at).num_milliseconds() as f64
                / 1000.0),
        run.total_lines,
        run.done,
        run.unchanged,
        run.skipped,
        run.failed
    );
    if let Some(message) = &run.message {
        println!("{message}");
    }
    let only_failed = db::push::LineFilter {
        outcome: Some(LineOutcome::Failed),
        ..Default::default()
    };
    let failed = db::push::lines_page(scope, run.id, only_failed, None, FAILED_SHOWN)
        .await
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    for line in failed.rows {
        println!(
            "  failed: {} {} on agreement {}: {}",
            line.accounts,
            line.metric.unwrap_or_default(),
            line.agreement_id.unwrap_or_default(),
            line.error.unwrap_or_default()
        );
    }
    match run.status {
        RunStatus::Succeeded => Ok(()),
        RunStatus::Partial => std::process::exit(2),
        other => bail!("the push ended {}", other.as_str().to_lowercase()),
    }
}
