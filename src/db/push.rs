//! The run log: push runs, their lines and outcomes, and their leases.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::collections::HashSet;

use super::entity::{push_line, push_run};
use super::{Page, Scope, like, read_page};
use crate::domain::{LineAction, LineOutcome, RunStatus, RunTrigger, SkipReason};
use crate::error::{AppError, AppResult};

/// Who or what started a run.
#[derive(Clone, Debug)]
pub struct Trigger {
    pub kind: RunTrigger,
    pub by: String,
    pub slot_at: Option<DateTime<Utc>>,
}

/// A run to start: what it covers, who started it, and the lease its owner takes.
pub struct NewRun<'a> {
    /// One service, or all.
    pub service_id: Option<i64>,
    pub dry_run: bool,
    pub trigger: &'a Trigger,
    /// The replica that executes it (its lease).
    pub owner: &'a str,
    pub now: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
}

/// Starts a run, unless one is running for the tenant: then `CONFLICT` naming it. The
/// partial unique index on running runs settles races between replicas.
pub async fn start(scope: &Scope, new: NewRun<'_>) -> AppResult<push_run::Model> {
    let NewRun {
        service_id,
        dry_run,
        trigger,
        owner,
        now,
        lease_until,
    } = new;
    if let Some(running) = running(scope).await? {
        return Err(conflict(&running));
    }
    let row = push_run::ActiveModel {
        service_id: Set(service_id),
        dry_run: Set(dry_run),
        trigger: Set(trigger.kind),
        triggered_by: Set(trigger.by.clone()),
        status: Set(RunStatus::Running),
        message: Set(None),
        started_at: Set(now),
        finished_at: Set(None),
        total_lines: Set(0),
        done: Set(0),
        unchanged: Set(0),
        skipped: Set(0),
        failed: Set(0),
        cancel_requested: Set(false),
        lease_owner: Set(Some(owner.to_owned())),
        lease_expires_at: Set(Some(lease_until)),
        slot_at: Set(trigger.slot_at),
        ..Default::default()
    };
    match scope.insert(scope.db(), row).await {
        Ok(run) => Ok(run),
        Err(e) => match running(scope).await? {
            Some(running) => Err(conflict(&running)),
            None => Err(e.into()),
        },
    }
}

fn conflict(running: &push_run::Model) -> AppError {
    AppError::Conflict(format!(
        "push run {} is already running (started {} by {}); wait for it or cancel it",
        running.id,
        running.started_at.to_rfc3339(),
        running.triggered_by
    ))
}

/// The tenant's running run, if any.
pub async fn running(scope: &Scope) -> AppResult<Option<push_run::Model>> {
    Ok(scope
        .select::<push_run::Entity>()
        .filter(push_run::Column::Status.eq(RunStatus::Running))
        .one(scope.db())
        .await?)
}

/// One run, or `NOT_FOUND`.
pub async fn get(scope: &Scope, id: i64) -> AppResult<push_run::Model> {
    scope
        .get::<push_run::Entity, _>(scope.db(), id)
        .await?
        .ok_or_else(|| AppError::not_found("push run", id))
}

/// Runs newest first, after the run `after`.
pub async fn page(
    scope: &Scope,
    status: Option<RunStatus>,
    after: Option<i64>,
    first: u64,
) -> AppResult<Page<push_run::Model>> {
    let mut query = scope.select::<push_run::Entity>();
    if let Some(status) = status {
        query = query.filter(push_run::Column::Status.eq(status));
    }
    let total = query.clone().count(scope.db()).await?;
    if let Some(after) = after {
        query = query.filter(push_run::Column::Id.lt(after));
    }
    let query = query.order_by_desc(push_run::Column::Id);
    Ok(read_page(scope.db(), query, first, total).await?)
}

/// Records lines of a run's plan (all of it, or one part as the run goes) and adds them
/// to its counts, in one transaction; returns the run and the lines recorded `PENDING`, to
/// be written. Unless `dry_run`, an unchanged line's addition is owned from now on (adopted
/// as it is recorded).
pub(crate) async fn insert_lines(
    scope: &Scope,
    run_id: i64,
    lines: Vec<push_line::ActiveModel>,
    dry_run: bool,
) -> AppResult<(push_run::Model, Vec<push_line::Model>)> {
    let seqs: Vec<i32> = lines
        .iter()
        .filter_map(|l| l.seq.try_as_ref().copied())
        .collect();
    let (Some(first), Some(last)) = (seqs.iter().min(), seqs.iter().max()) else {
        return Ok((get(scope, run_id).await?, Vec::new()));
    };
    let txn = scope.begin().await?;
    let tx = txn.scope();
    tx.insert_many(tx.db(), lines).await?;
    let recorded = tx
        .select::<push_line::Entity>()
        .filter(push_line::Column::RunId.eq(run_id))
        .filter(push_line::Column::Seq.between(*first, *last))
        .order_by_asc(push_line::Column::Seq)
        .all(tx.db())
        .await?;
    let count =
        |keep: fn(LineOutcome) -> bool| recorded.iter().filter(|l| keep(l.outcome)).count() as i32;
    tx.update::<push_run::Entity>()
        .col_expr(
            push_run::Column::TotalLines,
            Expr::col(push_run::Column::TotalLines).add(recorded.len() as i32),
        )
        .col_expr(
            push_run::Column::Unchanged,
            Expr::col(push_run::Column::Unchanged).add(count(|o| o == LineOutcome::Unchanged)),
        )
        .col_expr(
            push_run::Column::Skipped,
            Expr::col(push_run::Column::Skipped).add(count(LineOutcome::counts_as_skipped)),
        )
        .col_expr(
            push_run::Column::Failed,
            Expr::col(push_run::Column::Failed).add(count(|o| o == LineOutcome::Failed)),
        )
        .filter(push_run::Column::Id.eq(run_id))
        .exec(tx.db())
        .await?;
    if !dry_run {
        let adopted: Vec<&push_line::Model> = recorded
            .iter()
            .filter(|l| l.outcome == LineOutcome::Unchanged)
            .collect();
        super::ownership::own(&tx, &adopted, Utc::now()).await?;
    }
    let run = tx
        .get::<push_run::Entity, _>(tx.db(), run_id)
        .await?
        .ok_or_else(|| AppError::not_found("push run", run_id))?;
    drop(tx);
    txn.commit().await?;
    let pending = recorded
        .into_iter()
        .filter(|l| l.outcome == LineOutcome::Pending)
        .collect();
    Ok((run, pending))
}

/// Every line of a run, in order.
pub async fn all_lines(scope: &Scope, run_id: i64) -> AppResult<Vec<push_line::Model>> {
    Ok(scope
        .select::<push_line::Entity>()
        .filter(push_line::Column::RunId.eq(run_id))
        .order_by_asc(push_line::Column::Seq)
        .all(scope.db())
        .await?)
}

/// Which of a run's lines [`lines_page`] reads: every one, or those with an action, an
/// outcome or a skip reason.
#[derive(Clone, Debug, Default)]
pub struct LineFilter {
    pub action: Option<LineAction>,
    pub outcome: Option<LineOutcome>,
    pub reason: Option<SkipReason>,
    pub company: Company,
    /// Lines of these (billbridge) products: a service's.
    pub products: Option<HashSet<i64>>,
    /// Only lines that write (update, create, retire).
    pub changes_only: bool,
}

/// Which company's lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Company {
    #[default]
    Any,
    Id(i64),
    /// Lines of accounts with no (or no single) ConnectWise company.
    Without,
}

/// A page of a run's lines in order, after the line numbered `after_seq`.
pub(crate) async fn lines_page(
    scope: &Scope,
    run_id: i64,
    filter: LineFilter,
    after_seq: Option<i32>,
    first: u64,
) -> AppResult<Page<push_line::Model>> {
    let mut query = scope
        .select::<push_line::Entity>()
        .filter(push_line::Column::RunId.eq(run_id));
    if let Some(action) = filter.action {
        query = query.filter(push_line::Column::Action.eq(action));
    }
    if let Some(outcome) = filter.outcome {
        query = query.filter(push_line::Column::Outcome.eq(outcome));
    }
    if let Some(reason) = filter.reason {
        query = query.filter(push_line::Column::Reason.eq(reason));
    }
    query = match filter.company {
        Company::Any => query,
        Company::Id(id) => query.filter(push_line::Column::CompanyId.eq(id)),
        Company::Without => query.filter(push_line::Column::CompanyId.is_null()),
    };
    if let Some(products) = filter.products {
        query = query.filter(push_line::Column::LocalProductId.is_in(products));
    }
    if filter.changes_only {
        query = query.filter(push_line::Column::Action.is_in(LineAction::WRITES));
    }
    let total = query.clone().count(scope.db()).await?;
    if let Some(after) = after_seq {
        query = query.filter(push_line::Column::Seq.gt(after));
    }
    let query = query.order_by_asc(push_line::Column::Seq);
    Ok(read_page(scope.db(), query, first, total).await?)
}

/// What happened to one line.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub line_id: i64,
    /// Done (written, or found written by a dead owner and adopted), unchanged, failed or
    /// cancelled.
    pub outcome: LineOutcome,
    pub addition_id: Option<i64>,
    pub current_quantity: Option<f64>,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

/// Writes a batch of outcomes and adds them to the run's counts, in one transaction, with
/// the ownership of what they wrote: an addition a line wrote is billbridge's as soon as the
/// outcome is recorded, whatever becomes of the run. (The counts are added to, not
/// recounted, so recording stays proportional to the batch.)
pub async fn record(
    scope: &Scope,
    run_id: i64,
    outcomes: &[Outcome],
) -> AppResult<push_run::Model> {
    let txn = scope.begin().await?;
    let tx = txn.scope();
    for o in outcomes {
        let mut update = tx
            .update::<push_line::Entity>()
            .col_expr(push_line::Column::Outcome, Expr::value(o.outcome))
            .col_expr(push_line::Column::Error, Expr::value(o.error.clone()))
            .col_expr(push_line::Column::FinishedAt, Expr::value(o.at));
        if let Some(id) = o.addition_id {
            update = update.col_expr(push_line::Column::AdditionId, Expr::value(id));
        }
        if let Some(current) = o.current_quantity {
            update = update.col_expr(push_line::Column::CurrentQuantity, Expr::value(current));
        }
        update
            .filter(push_line::Column::Id.eq(o.line_id))
            .filter(push_line::Column::RunId.eq(run_id))
            .exec(tx.db())
            .await?;
    }
    let count =
        |outcome: LineOutcome| outcomes.iter().filter(|o| o.outcome == outcome).count() as i32;
    tx.update::<push_run::Entity>()
        .col_expr(
            push_run::Column::Done,
            Expr::col(push_run::Column::Done).add(count(LineOutcome::Done)),
        )
        .col_expr(
            push_run::Column::Unchanged,
            Expr::col(push_run::Column::Unchanged).add(count(LineOutcome::Unchanged)),
        )
        .col_expr(
            push_run::Column::Failed,
            Expr::col(push_run::Column::Failed).add(count(LineOutcome::Failed)),
        )
        .filter(push_run::Column::Id.eq(run_id))
        .exec(tx.db())
        .await?;
    let done: Vec<i64> = outcomes
        .iter()
        .filter(|o| o.outcome.settled())
        .map(|o| o.line_id)
        .collect();
    if !done.is_empty() {
        let written = tx
            .select::<push_line::Entity>()
            .filter(push_line::Column::RunId.eq(run_id))
            .filter(push_line::Column::Id.is_in(done))
            .order_by_asc(push_line::Column::Seq)
            .all(tx.db())
            .await?;
        let now = outcomes.iter().map(|o| o.at).max().unwrap_or_else(Utc::now);
        let written: Vec<&push_line::Model> = written.iter().collect();
        super::ownership::own(&tx, &written, now).await?;
    }
    let run = tx
        .get::<push_run::Entity, _>(tx.db(), run_id)
        .await?
        .ok_or_else(|| AppError::not_found("push run", run_id))?;
    drop(tx);
    txn.commit().await?;
    Ok(run)
}

/// Recomputes a run's counts from its lines.
async fn recount<C: sea_orm::ConnectionTrait>(
    scope: &Scope,
    conn: &C,
    run_id: i64,
) -> AppResult<push_run::Model> {
    let counts: Vec<(LineOutcome, i64)> = scope
        .select::<push_line::Entity>()
        .select_only()
        .column(push_line::Column::Outcome)
        .column_as(push_line::Column::Id.count(), "n")
        .filter(push_line::Column::RunId.eq(run_id))
        .group_by(push_line::Column::Outcome)
        .into_tuple()
        .all(conn)
        .await?;
    let of = |keep: fn(LineOutcome) -> bool| -> i32 {
        counts
            .iter()
            .filter(|(o, _)| keep(*o))
            .map(|(_, n)| *n as i32)
            .sum()
    };
    let run = scope
        .get::<push_run::Entity, _>(conn, run_id)
        .await?
        .ok_or_else(|| AppError::not_found("push run", run_id))?;
    let mut row = run.into_active_model();
    row.total_lines = Set(counts.iter().map(|(_, n)| *n as i32).sum());
    row.done = Set(of(|o| o == LineOutcome::Done));
    row.unchanged = Set(of(|o| o == LineOutcome::Unchanged));
    row.skipped = Set(of(LineOutcome::counts_as_skipped));
    row.failed = Set(of(|o| o == LineOutcome::Failed));
    let retired = scope
        .select::<push_line::Entity>()
        .filter(push_line::Column::RunId.eq(run_id))
        .filter(push_line::Column::Action.eq(LineAction::Retire))
        .filter(push_line::Column::Outcome.eq(LineOutcome::Done))
        .count(conn)
        .await?;
    row.retired = Set(i32::try_from(retired).unwrap_or(i32::MAX));
    Ok(row.update(conn).await?)
}

/// Recounts and ends a run.
pub async fn finish(
    scope: &Scope,
    run_id: i64,
    status: RunStatus,
    message: Option<String>,
    at: DateTime<Utc>,
) -> AppResult<push_run::Model> {
    let txn = scope.db().begin().await?;
    let run = recount(scope, &txn, run_id).await?;
    let mut row = run.into_active_model();
    row.status = Set(status);
    row.message = Set(message);
    row.finished_at = Set(Some(at));
    row.lease_owner = Set(None);
    row.lease_expires_at = Set(None);
    let run = row.update(&txn).await?;
    txn.commit().await?;
    Ok(run)
}

/// Extends the lease of a run this replica owns; false when it no longer owns it.
pub(crate) async fn renew_lease(
    scope: &Scope,
    run_id: i64,
    owner: &str,
    until: DateTime<Utc>,
) -> AppResult<bool> {
    let result = scope
        .update::<push_run::Entity>()
        .col_expr(push_run::Column::LeaseExpiresAt, Expr::value(until))
        .filter(push_run::Column::Id.eq(run_id))
        .filter(push_run::Column::LeaseOwner.eq(owner))
        .filter(push_run::Column::Status.eq(RunStatus::Running))
        .exec(scope.db())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Asks a running run to stop; `CONFLICT` when it has ended.
pub(crate) async fn request_cancel(scope: &Scope, run_id: i64) -> AppResult<push_run::Model> {
    let run = get(scope, run_id).await?;
    if run.status != RunStatus::Running {
        return Err(AppError::Conflict(format!(
            "push run {run_id} is {} already",
            run.status.as_str().to_lowercase()
        )));
    }
    let mut row = run.into_active_model();
    row.cancel_requested = Set(true);
    Ok(row.update(scope.db()).await?)
}

/// Whether a cancel was asked for.
pub(crate) async fn cancel_requested(scope: &Scope, run_id: i64) -> AppResult<bool> {
    Ok(get(scope, run_id).await?.cancel_requested)
}

/// Marks the lines a cancelled run never wrote.
pub(crate) async fn cancel_pending(scope: &Scope, run_id: i64, at: DateTime<Utc>) -> AppResult<()> {
    scope
        .update::<push_line::Entity>()
        .col_expr(
            push_line::Column::Outcome,
            Expr::value(LineOutcome::Cancelled),
        )
        .col_expr(push_line::Column::FinishedAt, Expr::value(at))
        .filter(push_line::Column::RunId.eq(run_id))
        .filter(push_line::Column::Outcome.eq(LineOutcome::Pending))
        .exec(scope.db())
        .await?;
    Ok(())
}

/// Marks the lines a run that stopped will not write: failed, with why.
pub(crate) async fn fail_pending(
    scope: &Scope,
    run_id: i64,
    error: &str,
    at: DateTime<Utc>,
) -> AppResult<()> {
    scope
        .update::<push_line::Entity>()
        .col_expr(push_line::Column::Outcome, Expr::value(LineOutcome::Failed))
        .col_expr(push_line::Column::Error, Expr::value(error))
        .col_expr(push_line::Column::FinishedAt, Expr::value(at))
        .filter(push_line::Column::RunId.eq(run_id))
        .filter(push_line::Column::Outcome.eq(LineOutcome::Pending))
        .exec(scope.db())
        .await?;
    Ok(())
}

/// The newest real (not dry) run of each service; `None` keys runs for all services.
pub(crate) async fn latest_by_service(scope: &Scope) -> AppResult<Vec<push_run::Model>> {
    let newest: Vec<Option<i64>> = scope
        .select::<push_run::Entity>()
        .select_only()
        .column_as(push_run::Column::Id.max(), "id")
        .filter(push_run::Column::DryRun.eq(false))
        .group_by(push_run::Column::ServiceId)
        .into_tuple()
        .all(scope.db())
        .await?;
    let ids: Vec<i64> = newest.into_iter().flatten().collect();
    Ok(scope
        .select::<push_run::Entity>()
        .filter(push_run::Column::Id.is_in(ids))
        .all(scope.db())
        .await?)
}

/// How many finished runs `last_pushed_for` looks back through.
const LOOK_BACK_RUNS: u64 = 30;

/// The account's lines in the newest finished, real run that had lines for it (looking
/// back through the last few runs only, so an account page never scans the whole log).
pub(crate) async fn last_pushed_for(
    scope: &Scope,
    account: &str,
) -> AppResult<Vec<push_line::Model>> {
    let runs: Vec<i64> = scope
        .select::<push_run::Entity>()
        .select_only()
        .column(push_run::Column::Id)
        .filter(push_run::Column::DryRun.eq(false))
        .filter(push_run::Column::FinishedAt.is_not_null())
        .order_by_desc(push_run::Column::Id)
        .limit(LOOK_BACK_RUNS)
        .into_tuple()
        .all(scope.db())
        .await?;
    // One read over those runs; LIKE narrows (escaped, or a `\` in a name would hide its
    // lines on PostgreSQL), the exact name check decides.
    let backend = scope.db().get_database_backend();
    let lines: Vec<push_line::Model> = scope
        .select::<push_line::Entity>()
        .filter(push_line::Column::RunId.is_in(runs))
        .filter(like::contains(
            backend,
            push_line::Column::Accounts,
            account,
        ))
        .order_by_desc(push_line::Column::RunId)
        .order_by_asc(push_line::Column::Seq)
        .all(scope.db())
        .await?
        .into_iter()
        .filter(|line| line.accounts.split(", ").any(|name| name == account))
        .collect();
    let newest = lines.first().map(|line| line.run_id);
    Ok(lines
        .into_iter()
        .filter(|line| Some(line.run_id) == newest)
        .collect())
}
