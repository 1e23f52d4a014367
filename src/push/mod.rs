//! The usage push: plan from a fresh snapshot, record every line, write only what changes
//! with bounded concurrency inside the tenant's request budget, and record each outcome as
//! it happens. A run holds a lease while it works; a replica that finds the lease expired
//! takes the run over and finishes its pending lines without redoing finished ones.

mod limiter;
pub mod scheduler;
mod snapshot;

use chrono::{DateTime, Datelike, Utc};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};

pub use limiter::Limiter;

use crate::clock::Clock;
use crate::connectwise::Client;
use crate::connectwise::model::{NewAddition, Reference};
use crate::db::entity::{push_line, push_run};
use crate::db::push::{self as runs, Outcome, Trigger};
use crate::db::{Scope, catalog, ownership};
use crate::domain::push::{Action, Line, SkipReason, Stamp, plan};
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;
use crate::psa::Psa;

#[derive(Clone, Debug)]
pub struct PushOptions {
    /// ConnectWise calls in flight at once, per run.
    pub concurrency: usize,
    /// How long a run's owner may go without renewing before another replica takes over.
    pub lease: chrono::Duration,
    /// Outcomes are written at least this often…
    pub flush_every: Duration,
    /// …or when this many are waiting.
    pub flush_lines: usize,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            concurrency: 8,
            lease: chrono::Duration::seconds(60),
            flush_every: Duration::from_millis(250),
            flush_lines: 200,
        }
    }
}

/// Called with every finished run (webhooks hang here).
pub type FinishedHook = Arc<dyn Fn(Scope, push_run::Model) + Send + Sync>;

#[derive(Clone)]
pub struct Pusher {
    pub db: sea_orm::DatabaseConnection,
    pub psa: Psa,
    pub options: PushOptions,
    /// This replica's name in leases and slot records.
    pub owner: String,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// Every progress change of runs executing in this process.
    pub progress: broadcast::Sender<push_run::Model>,
    pub on_finished: Option<FinishedHook>,
}

/// How a run's execution ended on this replica.
enum End {
    Finished(&'static str, Option<String>),
    /// Another replica took the lease over; it finishes the run.
    Abandoned,
}

impl Pusher {
    pub fn new(
        db: sea_orm::DatabaseConnection,
        psa: Psa,
        options: PushOptions,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Self {
        // host:pid:nonce — an operator (or a test) can tell which process holds a lease.
        let owner = format!(
            "{}:{}:{:08x}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "billbridge".into()),
            std::process::id(),
            rand::random::<u32>()
        );
        // Every ConnectWise exchange of this process is counted.
        let mut psa = psa;
        let counter = metrics.clone();
        psa.observer = Some(Arc::new(move |method, _path, status| {
            counter.call(method.as_str(), status)
        }));
        Pusher {
            db,
            psa,
            options,
            owner,
            clock,
            metrics,
            progress: broadcast::channel(256).0,
            on_finished: None,
        }
    }

    async fn client(&self, scope: &Scope) -> AppResult<(Client, Limiter)> {
        let connected = self.psa.client(scope).await?;
        Ok((
            connected.client,
            Limiter::new(connected.max_requests_per_second),
        ))
    }

    /// What a push would write now, without writing anything.
    pub async fn preview(&self, scope: &Scope, service_id: Option<i64>) -> AppResult<Vec<Line>> {
        let (client, limiter) = self.client(scope).await?;
        let mut input = snapshot::local(scope, service_id).await?;
        snapshot::remote(
            &mut input,
            &client,
            &limiter,
            self.options.concurrency,
            self.clock.now(),
        )
        .await?;
        Ok(plan(&input))
    }

    /// Starts a run and returns it at once; the work goes on in the background.
    pub async fn start(
        &self,
        scope: &Scope,
        service_id: Option<i64>,
        dry_run: bool,
        trigger: Trigger,
    ) -> AppResult<push_run::Model> {
        let run = self.begin(scope, service_id, dry_run, &trigger).await?;
        let this = self.clone();
        let (scope, started) = (scope.clone(), run.clone());
        tokio::spawn(async move { this.execute(&scope, started, false).await });
        Ok(run)
    }

    /// Records a new running run (refusing a second one), without executing it.
    pub async fn begin(
        &self,
        scope: &Scope,
        service_id: Option<i64>,
        dry_run: bool,
        trigger: &Trigger,
    ) -> AppResult<push_run::Model> {
        if let Some(id) = service_id {
            catalog::service(scope, id).await?;
        }
        self.psa.require_connection(scope).await?;
        let now = self.clock.now();
        runs::start(
            scope,
            service_id,
            dry_run,
            trigger,
            &self.owner,
            now,
            now + self.options.lease,
        )
        .await
    }

    /// Executes (or, `resumed`, finishes) a run to its end, recording everything. Failures
    /// end the run as `FAILED` with the reason; they are not returned.
    pub async fn execute(
        &self,
        scope: &Scope,
        run: push_run::Model,
        resumed: bool,
    ) -> Option<push_run::Model> {
        let started = Instant::now();
        let lost = Arc::new(AtomicBool::new(false));
        // Dropped (and so stopped) with this future, even when the future itself is dropped.
        let lease = AbortOnDrop(self.keep_lease(scope, run.id, lost.clone()));
        let end = self.work(scope, &run, resumed, &lost).await;
        drop(lease);
        let (status, message) = match end {
            Ok(End::Finished(status, message)) => (status, message),
            Ok(End::Abandoned) => {
                tracing::warn!(run = run.id, "lease lost; another replica finishes the run");
                return None;
            }
            Err(error) => {
                tracing::warn!(run = run.id, error = ?error, "push run failed");
                ("FAILED", Some(error.message()))
            }
        };
        // Only the lease holder ends a run: a replica that lost it (paused too long) must not
        // finish the run another replica is completing.
        match runs::get(scope, run.id).await {
            Ok(current)
                if current.status == runs::RUNNING
                    && current.lease_owner.as_deref() == Some(self.owner.as_str()) => {}
            Ok(_) => {
                tracing::warn!(run = run.id, "the run is no longer ours to finish");
                return None;
            }
            Err(error) => {
                tracing::error!(run = run.id, error = ?error, "could not read the run before finishing it");
                return None;
            }
        }
        match runs::finish(scope, run.id, status, message, self.clock.now()).await {
            Ok(done) => {
                self.metrics.run_finished(status, started.elapsed());
                let _ = self.progress.send(done.clone());
                if let Some(hook) = &self.on_finished {
                    hook(scope.clone(), done.clone());
                }
                Some(done)
            }
            Err(error) => {
                tracing::error!(run = run.id, error = ?error, "could not record the end of a push run");
                None
            }
        }
    }

    /// Renews the run's lease while it executes; flags `lost` when another replica has it.
    fn keep_lease(
        &self,
        scope: &Scope,
        run_id: i64,
        lost: Arc<AtomicBool>,
    ) -> tokio::task::JoinHandle<()> {
        let (this, scope) = (self.clone(), scope.clone());
        let every = (self.options.lease / 3)
            .to_std()
            .unwrap_or(Duration::from_secs(10));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let until = this.clock.now() + this.options.lease;
                match runs::renew_lease(&scope, run_id, &this.owner, until).await {
                    Ok(true) => {}
                    Ok(false) => {
                        lost.store(true, Ordering::SeqCst);
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(run = run_id, error = ?error, "could not renew the lease")
                    }
                }
            }
        })
    }

    async fn work(
        &self,
        scope: &Scope,
        run: &push_run::Model,
        resumed: bool,
        lost: &AtomicBool,
    ) -> AppResult<End> {
        let (client, limiter) = self.client(scope).await?;
        // A run taken over before its owner recorded any line is planned afresh.
        let planned = resumed && runs::has_lines(scope, run.id).await?;
        if !planned {
            let mut input = snapshot::local(scope, run.service_id).await?;
            snapshot::remote(
                &mut input,
                &client,
                &limiter,
                self.options.concurrency,
                self.clock.now(),
            )
            .await?;
            let lines = plan(&input);
            let rows = lines
                .into_iter()
                .enumerate()
                .map(|(seq, line)| line_row(run, seq, line))
                .collect();
            runs::insert_lines(scope, run.id, rows).await?;
        }
        if run.dry_run {
            return Ok(End::Finished(
                "SUCCEEDED",
                Some("dry run: nothing was written".into()),
            ));
        }
        let pending = runs::pending_lines(scope, run.id).await?;
        // A resumed run's writes may have reached ConnectWise before its owner died without
        // being recorded: read those agreements again, so a write already made is adopted
        // and counted as done (it was this run's write) — nothing is written twice.
        let adopted = if resumed {
            let mut agreements: Vec<i64> = pending.iter().filter_map(|l| l.agreement_id).collect();
            agreements.sort_unstable();
            agreements.dedup();
            let (found, unreadable) =
                snapshot::additions(&client, &limiter, self.options.concurrency, agreements)
                    .await?;
            Found::new(found, unreadable, self.clock.now())
        } else {
            Found::default()
        };

        let cancelled = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::unbounded_channel::<Outcome>();
        let recorder = tokio::spawn(self.clone().record_outcomes(
            scope.clone(),
            run.id,
            rx,
            cancelled.clone(),
        ));
        futures_util::stream::iter(pending)
            .for_each_concurrent(self.options.concurrency.max(1), |line| {
                let (client, limiter, tx, adopted, cancelled) =
                    (&client, &limiter, tx.clone(), &adopted, &cancelled);
                async move {
                    if cancelled.load(Ordering::SeqCst) || lost.load(Ordering::SeqCst) {
                        return;
                    }
                    limiter.acquire().await;
                    let outcome = self.write(client, &line, adopted).await;
                    let _ = tx.send(outcome);
                }
            })
            .await;
        drop(tx);
        recorder
            .await
            .map_err(|e| AppError::internal("the outcome recorder stopped", e))??;
        if lost.load(Ordering::SeqCst) {
            return Ok(End::Abandoned);
        }
        // What was written or adopted is billbridge's from now on (a resumed run records
        // the lines its dead owner wrote too).
        ownership::record_run(scope, run.id, self.clock.now()).await?;
        let current = runs::get(scope, run.id).await?;
        if cancelled.load(Ordering::SeqCst) || current.cancel_requested {
            runs::cancel_pending(scope, run.id, self.clock.now()).await?;
            return Ok(End::Finished(
                "CANCELLED",
                Some("cancelled before every line was written".into()),
            ));
        }
        let status = match (current.failed, current.done + current.unchanged) {
            (0, _) => "SUCCEEDED",
            (_, 0) if current.done == 0 => "FAILED",
            _ => "PARTIAL",
        };
        let message = (current.failed > 0).then(|| {
            format!(
                "{} line(s) failed; push again to finish them",
                current.failed
            )
        });
        Ok(End::Finished(status, message))
    }

    /// One write: PATCH the quantity of an existing addition, or POST a new one.
    async fn write(&self, client: &Client, line: &push_line::Model, adopted: &Found) -> Outcome {
        let at = |outcome: &'static str,
                  addition: Option<i64>,
                  current: Option<f64>,
                  error: Option<String>| Outcome {
            line_id: line.id,
            outcome,
            addition_id: addition,
            current_quantity: current,
            error,
            at: self.clock.now(),
        };
        let (Some(agreement), Some(product), Some(quantity)) =
            (line.agreement_id, line.product_id, line.new_quantity)
        else {
            return at(
                "FAILED",
                None,
                None,
                Some("the line lacks its agreement, product or quantity".into()),
            );
        };
        if line.action == "RETIRE" {
            return self.retire(client, line, agreement, adopted).await;
        }
        // Cancelled or set not to bill since the plan: ConnectWise refuses (or a person
        // decided); never written.
        if let Some(id) = line.addition_id
            && let Some(why) = adopted.unadoptable.get(&id)
        {
            return at(
                "FAILED",
                Some(id),
                None,
                Some(format!("{why} since the plan; not changed")),
            );
        }
        let now_there = adopted.billable.get(&(agreement, product)).copied();
        if line.addition_id.is_none()
            && now_there.is_none()
            && let Some(why) = adopted
                .blocking
                .get(&(agreement, product))
                .cloned()
                .or_else(|| adopted.unreadable.get(&agreement).map(|w| w.join("; ")))
                .or_else(|| {
                    let undated = line.effective_date.is_none();
                    undated
                        .then(|| adopted.ending.get(&(agreement, product)).cloned())
                        .flatten()
                })
        {
            return at(
                "FAILED",
                None,
                None,
                Some(format!("{why}; not adding a second line beside it")),
            );
        }
        // Only a resumed run finds anything here, and a pending line was planned because
        // ConnectWise differed: finding it right now means the dead owner wrote it. It is
        // this run's write, so it counts as done, and the line keeps its planned "before".
        if let Some((id, current)) = now_there
            && (current - quantity).abs() < 1e-9
        {
            return at("DONE", Some(id), None, None);
        }
        let existing = line
            .addition_id
            .map(|id| (id, line.current_quantity))
            .or_else(|| now_there.map(|(id, q)| (id, Some(q))));
        let result = match existing {
            Some((id, current)) => client
                .set_addition_quantity(agreement, id, quantity)
                .await
                .map(|a| (a.id, current)),
            None => client
                .create_addition(
                    agreement,
                    &NewAddition {
                        product: Reference::id(product),
                        quantity,
                        bill_customer: "Billable".into(),
                        // A successor starts when its predecessor stops billing.
                        effective_date: line
                            .effective_date
                            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                            .unwrap_or_else(|| first_of_month(self.clock.now())),
                    },
                )
                .await
                .map(|a| (a.id, None)),
        };
        match result {
            Ok((id, current)) => at("DONE", Some(id), current, None),
            Err(error) => at(
                "FAILED",
                existing.map(|(id, _)| id),
                None,
                Some(error.to_string()),
            ),
        }
    }

    /// Retires an owned addition no mapping wants: quantity 0, or cancelled from the line's
    /// date. On a resumed run, one cancelled or changed since the plan is left alone.
    async fn retire(
        &self,
        client: &Client,
        line: &push_line::Model,
        agreement: i64,
        adopted: &Found,
    ) -> Outcome {
        let outcome = |outcome: &'static str, error: Option<String>| Outcome {
            line_id: line.id,
            outcome,
            addition_id: line.addition_id,
            current_quantity: line.current_quantity,
            error,
            at: self.clock.now(),
        };
        let Some(id) = line.addition_id else {
            return outcome("FAILED", Some("the line names no addition".into()));
        };
        // Retired already by the run's dead owner: done, not written again.
        if adopted.retired(id, line.effective_date) {
            return outcome("DONE", None);
        }
        if let Some(why) = adopted.unadoptable.get(&id) {
            return outcome("FAILED", Some(format!("{why} since the plan; not retired")));
        }
        let result = match line.effective_date {
            Some(from) => client.cancel_addition(agreement, id, from).await,
            None => client.set_addition_quantity(agreement, id, 0.0).await,
        };
        match result {
            Ok(_) => outcome("DONE", None),
            Err(error) => outcome("FAILED", Some(error.to_string())),
        }
    }

    /// Writes outcomes in batches as they arrive; notices cancellation between batches.
    async fn record_outcomes(
        self,
        scope: Scope,
        run_id: i64,
        mut rx: mpsc::UnboundedReceiver<Outcome>,
        cancelled: Arc<AtomicBool>,
    ) -> AppResult<()> {
        let mut buffer: Vec<Outcome> = Vec::new();
        let mut tick = tokio::time::interval(self.options.flush_every);
        loop {
            let closed = tokio::select! {
                received = rx.recv() => match received {
                    Some(outcome) => {
                        buffer.push(outcome);
                        if buffer.len() < self.options.flush_lines {
                            continue;
                        }
                        false
                    }
                    None => true,
                },
                _ = tick.tick() => false,
            };
            if !buffer.is_empty() {
                for o in &buffer {
                    self.metrics.lines(o.outcome, 1);
                }
                let run = runs::record(&scope, run_id, &buffer).await?;
                buffer.clear();
                if run.cancel_requested {
                    cancelled.store(true, Ordering::SeqCst);
                }
                let _ = self.progress.send(run);
            } else if runs::cancel_requested(&scope, run_id).await? {
                cancelled.store(true, Ordering::SeqCst);
            }
            if closed {
                return Ok(());
            }
        }
    }
}

/// Stops a background task when its owner goes away.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn first_of_month(now: DateTime<Utc>) -> String {
    format!("{:04}-{:02}-01T00:00:00Z", now.year(), now.month())
}

/// What a resumed run found in ConnectWise before writing: the billable addition per
/// (agreement, product) it may adopt, and the additions it must no longer touch.
#[derive(Default)]
struct Found {
    billable: HashMap<(i64, i64), (i64, f64)>,
    unadoptable: HashMap<i64, String>,
    /// (agreement, product) with a line that still bills but is not billbridge's to change:
    /// creating beside it would bill twice.
    blocking: HashMap<(i64, i64), String>,
    /// Agreements with additions that could not be read: nothing is created there.
    unreadable: HashMap<i64, Vec<String>>,
    /// (agreement, product) with a Billable addition cancelled from a later date: only a
    /// successor dated from then may be created beside it.
    ending: HashMap<(i64, i64), String>,
    /// Every addition read, by id: its quantity and when it is cancelled from (how a retire
    /// already made is recognised).
    states: HashMap<i64, (f64, Stamp)>,
}

impl Found {
    fn new(
        additions: Vec<crate::domain::push::Addition>,
        unreadable: HashMap<i64, Vec<String>>,
        now: DateTime<Utc>,
    ) -> Found {
        let mut found = Found {
            unreadable,
            ..Found::default()
        };
        for a in additions {
            found.states.insert(a.id, (a.quantity, a.cancelled.clone()));
            match a.unadoptable() {
                None => {
                    let key = (a.agreement_id, a.product_id);
                    let keep = found.billable.get(&key).is_none_or(|(id, _)| a.id < *id);
                    if keep {
                        found.billable.insert(key, (a.id, a.quantity));
                    }
                }
                Some(why) if a.live(now) => {
                    let key = (a.agreement_id, a.product_id);
                    // Billable until a later cancellation: a successor dated then may follow.
                    let ending = a.bill_customer.as_deref() == Some("Billable")
                        && matches!(a.cancelled, Stamp::At(_));
                    if ending {
                        found.ending.insert(key, why.clone());
                    } else {
                        found.blocking.insert(key, why.clone());
                    }
                    found.unadoptable.insert(a.id, why);
                }
                Some(_) => {
                    let why = format!("addition {} was cancelled", a.id);
                    found.unadoptable.insert(a.id, why);
                }
            }
        }
        found
    }

    /// Whether addition `id` is already retired as a retire line dated `from` would do it:
    /// cancelled from that day, or (no date: retire by zeroing) at quantity 0 and not
    /// cancelled.
    fn retired(&self, id: i64, from: Option<DateTime<Utc>>) -> bool {
        match (self.states.get(&id), from) {
            (Some((_, Stamp::At(at))), Some(from)) => at.date_naive() == from.date_naive(),
            (Some((quantity, Stamp::Absent)), None) => quantity.abs() < 1e-9,
            _ => false,
        }
    }
}

/// A planned line as recorded: writes start `PENDING` (`PLANNED` in a dry run).
fn line_row(run: &push_run::Model, seq: usize, line: Line) -> push_line::ActiveModel {
    use sea_orm::Set;
    let (reason, outcome) = match line.action {
        // Nothing is sent for it, and the run must not say it all went well.
        Action::Skip(reason @ SkipReason::InvalidQuantity) => {
            (Some(reason.as_str().to_owned()), "FAILED")
        }
        Action::Skip(reason) => (Some(reason.as_str().to_owned()), "SKIPPED"),
        Action::Unchanged => (None, "UNCHANGED"),
        Action::Update | Action::Create | Action::Retire if run.dry_run => (None, "PLANNED"),
        Action::Update | Action::Create | Action::Retire => (None, "PENDING"),
    };
    push_line::ActiveModel {
        run_id: Set(run.id),
        seq: Set(i32::try_from(seq).unwrap_or(i32::MAX)),
        accounts: Set(line.accounts.join(", ")),
        subscription: Set(line.subscription),
        company_id: Set(line.company_id),
        company_name: Set(line.company_name),
        metric: Set(line.metric),
        level: Set(line.level),
        agreement_id: Set(line.agreement_id),
        agreement_name: Set(line.agreement_name),
        parent_agreement_id: Set(line.parent_agreement_id),
        parent_agreement_name: Set(line.parent_agreement_name),
        local_product_id: Set(line.local_product_id),
        mapping_id: Set(line.mapping_id),
        last_written_quantity: Set(line.last_written_quantity),
        drifted: Set(line.drifted),
        effective_date: Set(line.effective_date),
        unit_price: Set(line.unit_price),
        addition_id: Set(line.addition_id),
        product_id: Set(line.product_id),
        product_identifier: Set(line.product_identifier),
        current_quantity: Set(line.current_quantity),
        new_quantity: Set(line.new_quantity),
        action: Set(line.action.as_str().to_owned()),
        reason: Set(reason),
        detail: Set(line.detail),
        outcome: Set(outcome.to_owned()),
        error: Set(None),
        finished_at: Set(None),
        ..Default::default()
    }
}
