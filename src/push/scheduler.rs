//! Scheduled pushes, in the server process of every replica. Each tick: for every enabled
//! schedule, the latest due slot is claimed by inserting its slot record (a unique row per
//! tenant and time, so exactly one replica wins it) and the winner starts the run; and
//! every running run whose lease expired is claimed by one replica and finished.

use chrono::Duration;
use std::time::Duration as StdDuration;
use tokio::task::JoinHandle;

use super::Pusher;
use crate::db::push::Trigger;
use crate::db::{Scope, schedules, system};
use crate::domain::schedule::Schedule;
use crate::error::AppError;

/// Slots older than this when first noticed are not run (every replica was down).
const HORIZON: i64 = 2;

/// Each replica's loop that starts scheduled runs and takes over abandoned ones.
#[derive(Clone)]
pub struct Scheduler {
    pub pusher: Pusher,
    pub tick: StdDuration,
}

impl Scheduler {
    /// Ticks until the process ends.
    pub async fn run(self) {
        loop {
            for handle in self.tick_once().await {
                drop(handle);
            }
            tokio::time::sleep(self.tick).await;
        }
    }

    /// One pass; returns the executions it started so tests can wait for them.
    pub async fn tick_once(&self) -> Vec<JoinHandle<()>> {
        let mut started = Vec::new();
        let db = &self.pusher.db;
        let now = self.pusher.clock.now();
        match system::enabled_schedules(db).await {
            Ok(enabled) => {
                for schedule in enabled {
                    let scope = Scope::for_tenant_id(db.clone(), schedule.tenant_id);
                    let parsed = match Schedule::parse(
                        &schedule.time_of_day,
                        &schedule.time_zone,
                        schedule.cron.as_deref(),
                    ) {
                        Ok(parsed) => parsed,
                        Err(e) => {
                            tracing::warn!(
                                tenant = schedule.tenant_id,
                                error = e.message,
                                "unusable schedule"
                            );
                            continue;
                        }
                    };
                    let Some(slot) = parsed.latest_at_or_before(now, Duration::hours(HORIZON))
                    else {
                        continue;
                    };
                    // A slot before the schedule was set is not this schedule's to run.
                    if slot < schedule.updated_at {
                        continue;
                    }
                    if let Some(handle) = self.run_slot(&scope, slot).await {
                        started.push(handle);
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot read the schedules"),
        }
        match system::expired_runs(db, now).await {
            Ok(expired) => {
                for run in expired {
                    let until = now + self.pusher.options.lease;
                    match system::claim(db, &run, &self.pusher.owner, now, until).await {
                        Ok(true) => {
                            tracing::info!(
                                run = run.id,
                                tenant = run.tenant_id,
                                "taking over a push run whose lease expired"
                            );
                            let scope = Scope::for_tenant_id(db.clone(), run.tenant_id);
                            let pusher = self.pusher.clone();
                            started.push(tokio::spawn(async move {
                                pusher.execute(&scope, run, true).await;
                            }));
                        }
                        Ok(false) => {}
                        Err(error) => tracing::warn!(%error, "cannot claim an expired run"),
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot look for expired runs"),
        }
        started
    }

    async fn run_slot(
        &self,
        scope: &Scope,
        slot: chrono::DateTime<chrono::Utc>,
    ) -> Option<JoinHandle<()>> {
        let now = self.pusher.clock.now();
        let claimed = match schedules::claim_slot(scope, slot, &self.pusher.owner, now).await {
            Ok(Some(claimed)) => claimed,
            Ok(None) => return None,
            Err(error) => {
                tracing::warn!(error = ?error, "cannot claim a schedule slot");
                return None;
            }
        };
        let trigger = Trigger {
            kind: crate::domain::RunTrigger::Schedule,
            by: "schedule".into(),
            slot_at: Some(slot),
        };
        match self.pusher.begin(scope, None, false, &trigger).await {
            Ok(run) => {
                let _ = schedules::settle_slot(scope, claimed, Some(run.id), None).await;
                let (pusher, scope) = (self.pusher.clone(), scope.clone());
                Some(tokio::spawn(async move {
                    pusher.execute(&scope, run, false).await;
                }))
            }
            Err(error) => {
                let note = match &error {
                    AppError::Conflict(message) => format!("not run: {message}"),
                    other => format!("not run: {}", other.message()),
                };
                tracing::warn!(slot = %slot, note, "scheduled push not started");
                let _ = schedules::settle_slot(scope, claimed, None, Some(note)).await;
                None
            }
        }
    }
}
