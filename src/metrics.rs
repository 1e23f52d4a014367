//! Counters for `/metrics` in the Prometheus text format: push runs by status, lines by
//! outcome, ConnectWise calls by status, push durations, and database statements executed.

use sea_orm::DatabaseConnection;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::domain::{LineOutcome, RunStatus};

/// Upper bounds of the push-duration histogram, in seconds.
const DURATION_BUCKETS: [f64; 10] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    /// Statements the server's database connection executed, once `serve` has wired it
    /// (`report_statements`); an atomic, not in `inner`, because it is bumped on every
    /// statement of every request.
    statements: OnceLock<Arc<AtomicU64>>,
}

/// Counts every statement `db` executes — through it and through the clones made of it
/// afterwards (SeaORM keeps the callback per value, so call this before cloning it).
pub fn count_statements(db: &mut DatabaseConnection) -> Arc<AtomicU64> {
    let counter = Arc::new(AtomicU64::new(0));
    let bump = counter.clone();
    db.set_metric_callback(move |_| {
        bump.fetch_add(1, Ordering::Relaxed);
    });
    counter
}

#[derive(Default)]
struct Inner {
    runs: BTreeMap<String, u64>,
    lines: BTreeMap<String, u64>,
    calls: BTreeMap<(String, String), u64>,
    durations: [u64; DURATION_BUCKETS.len()],
    duration_count: u64,
    duration_sum: f64,
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A run ended with `status` after `took`.
    pub fn run_finished(&self, status: RunStatus, took: Duration) {
        self.with(|m| {
            *m.runs.entry(status.as_str().to_owned()).or_default() += 1;
            let seconds = took.as_secs_f64();
            for (bucket, bound) in m.durations.iter_mut().zip(DURATION_BUCKETS) {
                if seconds <= bound {
                    *bucket += 1;
                }
            }
            m.duration_count += 1;
            m.duration_sum += seconds;
        });
    }

    /// `count` lines ended with `outcome`.
    pub fn lines(&self, outcome: LineOutcome, count: u64) {
        self.with(|m| *m.lines.entry(outcome.as_str().to_owned()).or_default() += count);
    }

    /// A ConnectWise exchange: its method and HTTP status (`0` when there was no answer).
    pub fn call(&self, method: &str, status: u16) {
        let status = if status == 0 {
            "none".to_owned()
        } else {
            status.to_string()
        };
        self.with(|m| *m.calls.entry((method.to_owned(), status)).or_default() += 1);
    }

    /// Serve `counter` (from [`count_statements`]) as `billbridge_db_statements_total`.
    pub fn report_statements(&self, counter: Arc<AtomicU64>) {
        let _ = self.statements.set(counter);
    }

    pub fn render(&self) -> String {
        let statements = self.statements.get().map(|c| c.load(Ordering::Relaxed));
        self.with(|m| {
            let mut out = String::new();
            if let Some(n) = statements {
                let _ = writeln!(out, "# HELP billbridge_db_statements_total Database statements executed.");
                let _ = writeln!(out, "# TYPE billbridge_db_statements_total counter");
                let _ = writeln!(out, "billbridge_db_statements_total {n}");
            }
            let _ = writeln!(out, "# HELP billbridge_push_runs_total Push runs finished, by status.");
            let _ = writeln!(out, "# TYPE billbridge_push_runs_total counter");
            for (status, n) in &m.runs {
                let _ = writeln!(out, "billbridge_push_runs_total{{status=\"{status}\"}} {n}");
            }
            let _ = writeln!(out, "# HELP billbridge_push_lines_total Push lines, by outcome.");
            let _ = writeln!(out, "# TYPE billbridge_push_lines_total counter");
            for (outcome, n) in &m.lines {
                let _ = writeln!(out, "billbridge_push_lines_total{{outcome=\"{outcome}\"}} {n}");
            }
            let _ = writeln!(out, "# HELP billbridge_connectwise_calls_total ConnectWise calls, by method and HTTP status (none: no answer).");
            let _ = writeln!(out, "# TYPE billbridge_connectwise_calls_total counter");
            for ((method, status), n) in &m.calls {
                let _ = writeln!(out, "billbridge_connectwise_calls_total{{method=\"{method}\",status=\"{status}\"}} {n}");
            }
            let _ = writeln!(out, "# HELP billbridge_push_duration_seconds How long push runs took.");
            let _ = writeln!(out, "# TYPE billbridge_push_duration_seconds histogram");
            for (bound, n) in DURATION_BUCKETS.iter().zip(m.durations) {
                let _ = writeln!(out, "billbridge_push_duration_seconds_bucket{{le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "billbridge_push_duration_seconds_bucket{{le=\"+Inf\"}} {}", m.duration_count);
            let _ = writeln!(out, "billbridge_push_duration_seconds_sum {}", m.duration_sum);
            let _ = writeln!(out, "billbridge_push_duration_seconds_count {}", m.duration_count);
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.run_finished(RunStatus::Succeeded, Duration::from_secs(3));
        m.lines(LineOutcome::Done, 5);
        m.call("PATCH", 200);
        m.call("GET", 0);
        let text = m.render();
        assert!(text.contains("billbridge_push_runs_total{status=\"SUCCEEDED\"} 1"));
        assert!(text.contains("billbridge_push_lines_total{outcome=\"DONE\"} 5"));
        assert!(
            text.contains("billbridge_connectwise_calls_total{method=\"PATCH\",status=\"200\"} 1")
        );
        assert!(
            text.contains("billbridge_connectwise_calls_total{method=\"GET\",status=\"none\"} 1")
        );
        assert!(text.contains("billbridge_push_duration_seconds_bucket{le=\"1\"} 0"));
        assert!(text.contains("billbridge_push_duration_seconds_bucket{le=\"5\"} 1"));
        assert!(text.contains("billbridge_push_duration_seconds_count 1"));
        assert!(!text.contains("billbridge_db_statements_total"));
    }

    #[tokio::test]
    async fn counts_the_statements_of_the_connection_and_its_clones() {
        use sea_orm::{ConnectionTrait, Statement};
        let mut db = crate::db::connect(crate::db::options("sqlite::memory:"))
            .await
            .expect("connect");
        let counter = count_statements(&mut db);
        let m = Metrics::default();
        m.report_statements(counter);
        let clone = db.clone();
        for conn in [&db, &clone] {
            conn.query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT 1",
            ))
            .await
            .expect("select");
        }
        assert!(m.render().contains("billbridge_db_statements_total 2\n"));
    }
}
