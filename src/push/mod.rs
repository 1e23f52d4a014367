//! The usage push: plan from a fresh snapshot, record every line, write only what changes
//! with bounded concurrency inside the tenant's request budget, and record each outcome as
//! it happens. A run holds a lease while it works; a replica that finds the lease expired
//! takes the run over and finishes its pending lines without redoing finished ones.

mod limiter;
pub mod previews;
pub mod scheduler;
mod snapshot;

use chrono::{DateTime, Datelike, Utc};
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, broadcast, mpsc};

pub use limiter::Limiter;

use crate::clock::Clock;
use crate::connectwise::Client;
use crate::connectwise::model::{NewAddition, Reference};
use crate::db::entity::{push_line, push_run};
use crate::db::push::{self as runs, Outcome, Trigger};
use crate::db::{Scope, catalog, ownership};
use crate::domain::push::{Action, Addition, Input, Line, Planner, SkipReason, Stamp, plan};
use crate::domain::{LineAction, LineOutcome, RunStatus};
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;
use crate::psa::Psa;

/// How a push runs: calls in flight, its lease, how often outcomes are written.
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

/// Starts, executes and resumes push runs.
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
    /// Recent previews, shared by this process's clones.
    pub previews: Arc<previews::Previews>,
}

/// How a run's execution ended on this replica.
enum End {
    Finished(RunStatus, Option<String>),
    /// Another replica took the lease over; it finishes the run.
    Abandoned,
}

impl Pusher {
    /// A pusher over `db` and the tenants' ConnectWise (`psa`).
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
            previews: Arc::default(),
        }
    }

    async fn client(&self, scope: &Scope) -> AppResult<(Client, Limiter)> {
        let connected = self.psa.client(scope).await?;
        Ok((
            connected.client,
            Limiter::new(connected.max_requests_per_second),
        ))
    }

    /// What a push would write now, computed now and kept for the next requests.
    pub async fn fresh_preview(
        &self,
        scope: &Scope,
        service_id: Option<i64>,
    ) -> AppResult<Arc<previews::Preview>> {
        let computed_at = self.clock.now();
        let lines = self.preview(scope, service_id).await?;
        let preview = previews::Preview { computed_at, lines };
        let now = self.clock.now();
        Ok(self
            .previews
            .put(scope.tenant_id(), service_id, preview, now))
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
        let new = runs::NewRun {
            service_id,
            dry_run,
            trigger,
            owner: &self.owner,
            now,
            lease_until: now + self.options.lease,
        };
        runs::start(scope, new).await
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
                (RunStatus::Failed, Some(error.message()))
            }
        };
        // Only the lease holder ends a run: a replica that lost it (paused too long) must not
        // finish the run another replica is completing.
        match runs::get(scope, run.id).await {
            Ok(current)
                if current.status == RunStatus::Running
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
                // What it wrote changes the plan.
                self.previews.forget(scope.tenant_id());
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

    /// Plans and writes agreement by agreement, every ConnectWise call of the run — the
    /// additions reads and the writes — sharing one pool of `concurrency` slots: an
    /// agreement's lines are planned and recorded as soon as its additions are read, and
    /// written while other agreements are still being read, so no slot waits for a phase to
    /// end. Each agreement's lines are recorded (one transaction for several agreements)
    /// before any of them is written; the lines skipped whatever ConnectWise holds come last.
    ///
    /// A resumed run keeps the lines its dead owner recorded: an agreement with pending lines
    /// is read again so that a write already made is adopted, not made twice (see
    /// [`Found`]); an agreement the dead owner never planned is planned now, from a fresh
    /// snapshot, like any run's.
    async fn work(
        &self,
        scope: &Scope,
        run: &push_run::Model,
        resumed: bool,
        lost: &Arc<AtomicBool>,
    ) -> AppResult<End> {
        let started = Instant::now();
        let (client, limiter) = self.client(scope).await?;
        let recorded = if resumed {
            runs::all_lines(scope, run.id).await?
        } else {
            Vec::new()
        };
        // ConnectWise's agreements are read while billbridge's accounts and usage load.
        let mut input = snapshot::catalog(scope, run.service_id).await?;
        let timed = |what: &'static str| {
            let from = Instant::now();
            move || {
                tracing::debug!(
                    run = run.id,
                    ms = from.elapsed().as_millis() as u64,
                    "{what}"
                )
            }
        };
        let (people, agreements) = tokio::join!(
            async {
                let done = timed("billbridge's accounts and usage read");
                let read = snapshot::people(scope, &input).await;
                done();
                read
            },
            async {
                let done = timed("ConnectWise's agreements and prices read");
                let read = snapshot::agreements(&input, &client, &limiter).await;
                done();
                read
            }
        );
        people?.add_to(&mut input);
        (input.agreements, input.prices) = agreements?;
        input.now = self.clock.now();
        let input = Arc::new(input);

        // What a dead owner recorded: the agreements it planned, and its unwritten lines.
        let planned: HashSet<i64> = recorded.iter().filter_map(|l| l.agreement_id).collect();
        let skips_recorded = recorded.iter().any(|l| l.agreement_id.is_none());
        let next_seq = recorded.iter().map(|l| l.seq + 1).max().unwrap_or(0);
        let mut earlier: BTreeMap<i64, Vec<push_line::Model>> = BTreeMap::new();
        for line in recorded {
            if let (Some(agreement), LineOutcome::Pending) = (line.agreement_id, line.outcome) {
                earlier.entry(agreement).or_default().push(line);
            }
        }

        let concurrency = self.options.concurrency.max(1);
        let stop = Stop {
            cancelled: Arc::new(AtomicBool::new(false)),
            lost: lost.clone(),
            failed: Arc::new(AtomicBool::new(false)),
        };
        let calls = Arc::new(Calls {
            client,
            limiter,
            slots: Arc::new(Semaphore::new(concurrency)),
            stop: stop.clone(),
            clock: self.clock.clone(),
            made: AtomicU64::new(0),
            busy_us: AtomicU64::new(0),
        });
        let pool_started = Instant::now();
        let (outcomes, outcomes_rx) = mpsc::unbounded_channel::<Outcome>();
        let recorder = AbortOnDrop(tokio::spawn(self.clone().record_outcomes(
            scope.clone(),
            run.id,
            outcomes_rx,
            stop.clone(),
        )));
        // Lines recorded and waiting for a slot: enough that the slots never wait for the
        // next agreements to be planned, few enough to hold little.
        let (jobs, mut jobs_rx) = mpsc::channel::<Job>(concurrency * 64);
        let mut planner = AbortOnDrop(tokio::spawn(self.clone().plan_and_record(
            scope.clone(),
            run.clone(),
            input,
            Recorded {
                skips: skips_recorded,
                next_seq,
                earlier,
                planned,
            },
            calls.clone(),
            jobs,
        )));

        // Writes: each in a task of its own once it has a slot, so that its answer is taken
        // at once, whatever else the run is doing.
        let mut writes = tokio::task::JoinSet::new();
        while let Some(job) = jobs_rx.recv().await {
            while writes.try_join_next().is_some() {}
            if stop.now() {
                continue; // drained: the planner stops once it sees the stop
            }
            let Ok(slot) = calls.slots.clone().acquire_owned().await else {
                break;
            };
            if stop.now() {
                continue;
            }
            let (calls, outcomes) = (calls.clone(), outcomes.clone());
            writes.spawn(async move {
                calls.limiter.acquire().await;
                let from = Instant::now();
                let outcome = write(&calls, &job.line, &job.found).await;
                calls.held(from);
                drop(slot);
                let _ = outcomes.send(outcome);
            });
        }
        while writes.join_next().await.is_some() {}
        let planned = match (&mut planner.0).await {
            Ok(planned) => planned,
            Err(e) => Err(AppError::internal("the push planner stopped", e)),
        };
        let pool_us = pool_started.elapsed().as_micros() as f64;
        let made = calls.made.load(Ordering::Relaxed);
        let busy_us = calls.busy_us.load(Ordering::Relaxed) as f64;
        tracing::debug!(
            run = run.id,
            calls = made,
            mean_call_ms = busy_us / 1000.0 / made.max(1) as f64,
            slots_busy = busy_us / (pool_us * concurrency as f64),
            pool_ms = pool_us / 1000.0,
            before_pool_ms = (pool_started - started).as_millis() as u64,
            "push calls made"
        );
        drop(outcomes);
        let mut recorder = recorder;
        (&mut recorder.0)
            .await
            .map_err(|e| AppError::internal("the outcome recorder stopped", e))??;
        if lost.load(Ordering::SeqCst) {
            return Ok(End::Abandoned);
        }
        if let Err(error) = planned {
            // Nothing more is written: the lines recorded and not written say why. A run
            // that wrote some lines before it stopped is partial, not failed.
            let why = format!("not written: the run stopped ({})", error.message());
            runs::fail_pending(scope, run.id, &why, self.clock.now()).await?;
            let current = runs::get(scope, run.id).await?;
            if current.done == 0 {
                return Err(error);
            }
            return Ok(End::Finished(
                RunStatus::Partial,
                Some(format!(
                    "stopped after {} line(s) were written: {}; push again to finish",
                    current.done,
                    error.message()
                )),
            ));
        }
        if run.dry_run {
            return Ok(End::Finished(
                RunStatus::Succeeded,
                Some("dry run: nothing was written".into()),
            ));
        }
        // Each line's addition was made billbridge's as its outcome was recorded; a dead
        // owner of an older version recorded that only at the end of its runs.
        if resumed {
            ownership::record_run(scope, run.id, self.clock.now()).await?;
        }
        let current = runs::get(scope, run.id).await?;
        if stop.cancelled.load(Ordering::SeqCst) || current.cancel_requested {
            runs::cancel_pending(scope, run.id, self.clock.now()).await?;
            return Ok(End::Finished(
                RunStatus::Cancelled,
                Some("cancelled before every line was written".into()),
            ));
        }
        let status = match (current.failed, current.done + current.unchanged) {
            (0, _) => RunStatus::Succeeded,
            (_, 0) if current.done == 0 => RunStatus::Failed,
            _ => RunStatus::Partial,
        };
        let message = (current.failed > 0).then(|| {
            format!(
                "{} line(s) failed; push again to finish them",
                current.failed
            )
        });
        Ok(End::Finished(status, message))
    }

    /// Reads each agreement's additions (at most a few windows of `concurrency` ahead, in a
    /// slot of the run's pool each), plans and records its lines as they come, several
    /// agreements a transaction, and hands the pending ones to the writers; the skipped lines
    /// come last. A resumed run's agreements with pending lines are read again to finish
    /// those (see [`Found`]); the ones it already planned are not planned again.
    async fn plan_and_record(
        self,
        scope: Scope,
        run: push_run::Model,
        input: Arc<Input>,
        mut recorded: Recorded,
        calls: Arc<Calls>,
        jobs: mpsc::Sender<Job>,
    ) -> AppResult<()> {
        let planned = self
            .plan_until_stopped(&scope, &run, &input, &mut recorded, &calls, &jobs)
            .await;
        if planned.is_err() {
            calls.stop.failed.store(true, Ordering::SeqCst);
        }
        planned
    }

    async fn plan_until_stopped(
        &self,
        scope: &Scope,
        run: &push_run::Model,
        input: &Input,
        recorded: &mut Recorded,
        calls: &Arc<Calls>,
        jobs: &mpsc::Sender<Job>,
    ) -> AppResult<()> {
        let planner = Planner::new(input);
        let visits: Vec<Visit> = recorded
            .earlier
            .keys()
            .map(|a| Visit::Finish(*a))
            .chain(
                planner
                    .agreements()
                    .iter()
                    .filter(|a| !recorded.planned.contains(a))
                    .map(|a| Visit::Plan(*a)),
            )
            .collect();
        let ahead = self.options.concurrency.max(1) * READ_AHEAD;
        let mut batches = futures_util::stream::iter(visits)
            .map(|visit| read(calls, visit))
            .buffered(ahead)
            .ready_chunks(ahead);
        let fresh = Arc::new(Found::default());
        let mut seq = recorded.next_seq;
        while let Some(batch) = batches.next().await {
            let mut rows = Vec::new();
            let mut ready = Vec::new();
            for (visit, read) in batch {
                let read = match read {
                    Ok(Some(read)) => read?,
                    Ok(None) => continue, // stopped before the call
                    Err(e) => return Err(AppError::internal("an additions read stopped", e)),
                };
                match visit {
                    Visit::Plan(agreement) => {
                        let additions: Vec<&Addition> = read.additions.iter().collect();
                        let part =
                            planner.agreement(agreement, &additions, read.unreadable.as_ref());
                        let skips = part.skips.into_iter().map(|(_, line)| line);
                        for line in part.lines.into_iter().chain(skips) {
                            rows.push(line_row(run, seq, line));
                            seq += 1;
                        }
                    }
                    Visit::Finish(agreement) => {
                        let unreadable = read
                            .unreadable
                            .map(|why| HashMap::from([(agreement, why)]))
                            .unwrap_or_default();
                        let found = Found::new(read.additions, unreadable, self.clock.now());
                        let found = Arc::new(found);
                        for line in recorded.earlier.remove(&agreement).unwrap_or_default() {
                            let found = found.clone();
                            ready.push(Job { line, found });
                        }
                    }
                }
            }
            if calls.stop.halted() {
                return Ok(());
            }
            if !rows.is_empty() {
                let (progress, pending) =
                    runs::insert_lines(scope, run.id, rows, run.dry_run).await?;
                let _ = self.progress.send(progress);
                ready.extend(pending.into_iter().map(|line| Job {
                    line,
                    found: fresh.clone(),
                }));
            }
            for job in ready {
                if jobs.send(job).await.is_err() {
                    return Ok(());
                }
            }
        }
        if !recorded.skips && !calls.stop.halted() {
            let rows: Vec<_> = planner
                .skips()
                .iter()
                .map(|line| {
                    seq += 1;
                    line_row(run, seq - 1, line.clone())
                })
                .collect();
            let (progress, _) = runs::insert_lines(scope, run.id, rows, run.dry_run).await?;
            let _ = self.progress.send(progress);
        }
        Ok(())
    }

    /// Writes outcomes in batches as they arrive; notices cancellation between batches.
    async fn record_outcomes(
        self,
        scope: Scope,
        run_id: i64,
        mut rx: mpsc::UnboundedReceiver<Outcome>,
        stop: Stop,
    ) -> AppResult<()> {
        let recorded = self
            .record_until_closed(&scope, run_id, &mut rx, &stop)
            .await;
        if recorded.is_err() {
            // Nothing more is written that could not be recorded.
            stop.failed.store(true, Ordering::SeqCst);
        }
        recorded
    }

    async fn record_until_closed(
        &self,
        scope: &Scope,
        run_id: i64,
        rx: &mut mpsc::UnboundedReceiver<Outcome>,
        stop: &Stop,
    ) -> AppResult<()> {
        let cancelled = &stop.cancelled;
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
                let run = runs::record(scope, run_id, &buffer).await?;
                buffer.clear();
                if run.cancel_requested {
                    cancelled.store(true, Ordering::SeqCst);
                }
                let _ = self.progress.send(run);
            } else if runs::cancel_requested(scope, run_id).await? {
                cancelled.store(true, Ordering::SeqCst);
            }
            if closed {
                return Ok(());
            }
        }
    }
}

/// One write: PATCH the quantity of an existing addition, or POST a new one.
async fn write(calls: &Calls, line: &push_line::Model, adopted: &Found) -> Outcome {
    let (client, clock) = (&calls.client, &calls.clock);
    let at = |outcome: LineOutcome,
              addition: Option<i64>,
              current: Option<f64>,
              error: Option<String>| Outcome {
        line_id: line.id,
        outcome,
        addition_id: addition,
        current_quantity: current,
        error,
        at: clock.now(),
    };
    let (Some(agreement), Some(product), Some(quantity)) =
        (line.agreement_id, line.product_id, line.new_quantity)
    else {
        return at(
            LineOutcome::Failed,
            None,
            None,
            Some("the line lacks its agreement, product or quantity".into()),
        );
    };
    if line.action == LineAction::Retire {
        return retire(calls, line, agreement, adopted).await;
    }
    // Cancelled or set not to bill since the plan: ConnectWise refuses (or a person
    // decided); never written.
    if let Some(id) = line.addition_id
        && let Some(why) = adopted.unadoptable.get(&id)
    {
        return at(
            LineOutcome::Failed,
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
            LineOutcome::Failed,
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
        return at(LineOutcome::Done, Some(id), None, None);
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
                        .unwrap_or_else(|| first_of_month(clock.now())),
                },
            )
            .await
            .map(|a| (a.id, None)),
    };
    match result {
        Ok((id, current)) => at(LineOutcome::Done, Some(id), current, None),
        Err(error) => at(
            LineOutcome::Failed,
            existing.map(|(id, _)| id),
            None,
            Some(error.to_string()),
        ),
    }
}

/// Retires an owned addition no mapping wants: quantity 0, or cancelled from the line's
/// date. On a resumed run, one cancelled or changed since the plan is left alone.
async fn retire(
    calls: &Calls,
    line: &push_line::Model,
    agreement: i64,
    adopted: &Found,
) -> Outcome {
    let (client, clock) = (&calls.client, &calls.clock);
    let outcome = |outcome: LineOutcome, error: Option<String>| Outcome {
        line_id: line.id,
        outcome,
        addition_id: line.addition_id,
        current_quantity: line.current_quantity,
        error,
        at: clock.now(),
    };
    let Some(id) = line.addition_id else {
        return outcome(
            LineOutcome::Failed,
            Some("the line names no addition".into()),
        );
    };
    // Retired already by the run's dead owner: done, not written again.
    if adopted.retired(id, line.effective_date) {
        return outcome(LineOutcome::Done, None);
    }
    if let Some(why) = adopted.unadoptable.get(&id) {
        return outcome(
            LineOutcome::Failed,
            Some(format!("{why} since the plan; not retired")),
        );
    }
    let result = match line.effective_date {
        Some(from) => client.cancel_addition(agreement, id, from).await,
        None => client.set_addition_quantity(agreement, id, 0.0).await,
    };
    match result {
        Ok(_) => outcome(LineOutcome::Done, None),
        Err(error) => outcome(LineOutcome::Failed, Some(error.to_string())),
    }
}

/// Stops a background task when its owner goes away.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How many windows of `concurrency` additions reads the planner lets run ahead of it: the
/// reads go on while it records, and it records what was read meanwhile at once.
const READ_AHEAD: usize = 8;

/// What a resumed run's dead owner recorded.
struct Recorded {
    /// Its skipped lines (the lines without an agreement, recorded last).
    skips: bool,
    next_seq: i32,
    /// Its pending lines by agreement.
    earlier: BTreeMap<i64, Vec<push_line::Model>>,
    /// The agreements it planned.
    planned: HashSet<i64>,
}

/// Why a run stops: cancelled (it writes nothing more, but still plans and records every
/// line, the unwritten ones as cancelled, as a run always did), its lease taken over or a
/// failure (it makes no more calls at all).
#[derive(Clone)]
struct Stop {
    cancelled: Arc<AtomicBool>,
    lost: Arc<AtomicBool>,
    failed: Arc<AtomicBool>,
}

impl Stop {
    /// No more writes.
    fn now(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst) || self.halted()
    }

    /// No more calls of any kind, and nothing more recorded.
    fn halted(&self) -> bool {
        self.lost.load(Ordering::SeqCst) || self.failed.load(Ordering::SeqCst)
    }
}

/// An agreement whose additions a run reads: to plan it, or (resumed) to finish the lines
/// its dead owner recorded there.
#[derive(Clone, Copy)]
enum Visit {
    Plan(i64),
    Finish(i64),
}

impl Visit {
    fn agreement(self) -> i64 {
        match self {
            Visit::Plan(a) | Visit::Finish(a) => a,
        }
    }
}

/// What every ConnectWise call of a run shares: the client, the tenant's request budget,
/// the slots of the run's pool (reads and writes alike) and whether to stop.
struct Calls {
    client: Client,
    limiter: Limiter,
    slots: Arc<Semaphore>,
    stop: Stop,
    clock: Arc<dyn Clock>,
    /// Calls made and the time they held their slots (µs), for the run's debug log.
    made: AtomicU64,
    busy_us: AtomicU64,
}

impl Calls {
    /// Counts a call that held its slot since `from`.
    fn held(&self, from: Instant) {
        self.made.fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(from.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.busy_us.fetch_add(us, Ordering::Relaxed);
    }
}

/// Reads one agreement's additions in a slot of the run's pool, in a task of its own (a
/// read in flight never waits for the planner to take its result while it holds the slot);
/// `None` when the run stopped before the call.
type Read = Result<Option<AppResult<snapshot::Additions>>, tokio::task::JoinError>;

fn read(calls: &Arc<Calls>, visit: Visit) -> impl Future<Output = (Visit, Read)> + Send + 'static {
    let shared = calls.clone();
    let mut task = AbortOnDrop(tokio::spawn(async move {
        let _slot = shared.slots.acquire().await.ok()?;
        if shared.stop.halted() {
            return None;
        }
        shared.limiter.acquire().await;
        let from = Instant::now();
        let read = snapshot::additions_of(&shared.client, visit.agreement()).await;
        shared.held(from);
        Some(read)
    }));
    async move { (visit, (&mut task.0).await) }
}

/// A recorded line to write, with what its agreement's additions showed when read again
/// (only for a resumed run's earlier lines; empty for a line planned by this run).
struct Job {
    line: push_line::Model,
    found: Arc<Found>,
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
fn line_row(run: &push_run::Model, seq: i32, line: Line) -> push_line::ActiveModel {
    use sea_orm::Set;
    let outcome = match line.action {
        // Nothing is sent for it, and the run must not say it all went well.
        Action::Skip(SkipReason::InvalidQuantity) => LineOutcome::Failed,
        Action::Skip(_) => LineOutcome::Skipped,
        Action::Unchanged => LineOutcome::Unchanged,
        Action::Update | Action::Create | Action::Retire if run.dry_run => LineOutcome::Planned,
        Action::Update | Action::Create | Action::Retire => LineOutcome::Pending,
    };
    push_line::ActiveModel {
        run_id: Set(run.id),
        seq: Set(seq),
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
        action: Set(line.action.kind()),
        reason: Set(line.action.reason()),
        detail: Set(line.detail),
        outcome: Set(outcome),
        error: Set(None),
        finished_at: Set(None),
        ..Default::default()
    }
}
