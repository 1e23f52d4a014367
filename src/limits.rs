//! The limits that keep one caller from hurting the others: GraphQL depth, complexity and
//! directives, request size and time, and request rates per caller and per address.
//!
//! Rates are counted where every replica sees them: in the database on PostgreSQL (several
//! replicas share one allowance), in the process on SQLite (which has one server process).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use sea_orm::{DatabaseConnection, DbBackend};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::allowances;
use crate::error::refuse;

use crate::auth::cache::MAX_TTL as MAX_AUTH_CACHE;

/// The longest a stopping server waits for requests in flight.
pub(crate) const MAX_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// hyper refuses a request target longer than this itself (414 with no body), before the
/// query-string limit can answer in JSON; the limit stays below it.
pub(crate) const MAX_QUERY_STRING_BYTES: usize = 60_000;

/// Every limit, with the defaults README documents. `BILLBRIDGE_*` variables override them
/// (see `from_env`).
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Deepest selection nesting.
    pub depth: usize,
    /// Fields counted over the whole operation (lists count by their page size).
    pub complexity: usize,
    /// Fields of an operation once its fragments are spread, counted before validation.
    pub fields: usize,
    /// Directives on one field.
    pub directives: usize,
    /// Request body, in bytes.
    pub body_bytes: usize,
    /// The CSV text `previewImport` and `commitImport` take, in bytes (at most the body).
    pub import_bytes: usize,
    /// A GET's query string, in bytes (at most [`MAX_QUERY_STRING_BYTES`]).
    pub query_string_bytes: usize,
    /// Longest a request may take.
    pub timeout: Duration,
    /// GraphQL requests per minute per caller (token or signed-in user); 0 turns it off.
    pub requests_per_minute: u32,
    /// Sign-in attempts per minute per client address; 0 turns it off.
    pub logins_per_minute: u32,
    /// ConnectWise calls per minute per tenant made by reads (preview, connection test,
    /// syncs); pushes are not counted. 0 turns it off.
    pub connectwise_reads_per_minute: u32,
    /// How long a stopping server waits for requests in flight before it exits anyway.
    pub shutdown_grace: Duration,
    /// How long a new `/graphql/ws` socket may wait before sending `connection_init`.
    pub ws_init_timeout: Duration,
    /// How long authentication state (tenant, API token, user) is trusted from the cache
    /// without a notice of change (at most `auth::cache::MAX_TTL`); zero turns it off.
    pub auth_cache: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            depth: 12,
            complexity: 5_000,
            fields: 5_000,
            directives: 16,
            body_bytes: 1024 * 1024,
            import_bytes: 768 * 1024,
            query_string_bytes: 16 * 1024,
            timeout: Duration::from_secs(30),
            requests_per_minute: 600,
            logins_per_minute: 30,
            connectwise_reads_per_minute: 2_400,
            shutdown_grace: Duration::from_secs(10),
            ws_init_timeout: Duration::from_secs(10),
            auth_cache: crate::auth::cache::DEFAULT_TTL,
        }
    }
}

impl Limits {
    /// The defaults, overridden by `BILLBRIDGE_MAX_DEPTH`, `BILLBRIDGE_MAX_COMPLEXITY`,
    /// `BILLBRIDGE_MAX_FIELDS`,
    /// `BILLBRIDGE_MAX_DIRECTIVES`, `BILLBRIDGE_MAX_BODY_BYTES`, `BILLBRIDGE_MAX_IMPORT_BYTES`,
    /// `BILLBRIDGE_MAX_QUERY_STRING_BYTES`,
    /// `BILLBRIDGE_REQUEST_TIMEOUT_SECS`, `BILLBRIDGE_RATE_LIMIT_PER_MINUTE`,
    /// `BILLBRIDGE_LOGIN_LIMIT_PER_MINUTE`, `BILLBRIDGE_CONNECTWISE_READS_PER_MINUTE`,
    /// `BILLBRIDGE_SHUTDOWN_GRACE_SECS` (at most 10), `BILLBRIDGE_WS_INIT_TIMEOUT_SECS` and
    /// `BILLBRIDGE_AUTH_CACHE_SECS` (at most 300) where `var` finds them.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        fn number<T>(
            var: &impl Fn(&str) -> Option<String>,
            name: &str,
            min: T,
            current: T,
        ) -> anyhow::Result<T>
        where
            T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
        {
            let Some(text) = var(name) else {
                return Ok(current);
            };
            match text.trim().parse::<T>() {
                Ok(value) if value >= min => Ok(value),
                _ => anyhow::bail!("{name} must be a whole number of at least {min}; got {text:?}"),
            }
        }
        let d = Limits::default();
        let body_bytes = number(&var, "BILLBRIDGE_MAX_BODY_BYTES", 1024, d.body_bytes)?;
        // The CSV travels inside a request body (JSON-escaped), so it can be no larger.
        let import_bytes = number(
            &var,
            "BILLBRIDGE_MAX_IMPORT_BYTES",
            1024,
            d.import_bytes.min(body_bytes),
        )?;
        if import_bytes > body_bytes {
            anyhow::bail!(
                "BILLBRIDGE_MAX_IMPORT_BYTES ({import_bytes}) must be at most BILLBRIDGE_MAX_BODY_BYTES ({body_bytes}): the file is sent inside a request body"
            );
        }
        Ok(Limits {
            depth: number(&var, "BILLBRIDGE_MAX_DEPTH", 2, d.depth)?,
            complexity: number(&var, "BILLBRIDGE_MAX_COMPLEXITY", 10, d.complexity)?,
            fields: number(&var, "BILLBRIDGE_MAX_FIELDS", 10, d.fields)?,
            directives: number(&var, "BILLBRIDGE_MAX_DIRECTIVES", 1, d.directives)?,
            body_bytes,
            import_bytes,
            query_string_bytes: match number(
                &var,
                "BILLBRIDGE_MAX_QUERY_STRING_BYTES",
                1024,
                d.query_string_bytes,
            )? {
                n if n > MAX_QUERY_STRING_BYTES => anyhow::bail!(
                    "BILLBRIDGE_MAX_QUERY_STRING_BYTES must be at most {MAX_QUERY_STRING_BYTES} (the HTTP server's own bound on a request line); got {n}"
                ),
                n => n,
            },
            timeout: Duration::from_secs(number(
                &var,
                "BILLBRIDGE_REQUEST_TIMEOUT_SECS",
                1,
                d.timeout.as_secs(),
            )?),
            requests_per_minute: number(
                &var,
                "BILLBRIDGE_RATE_LIMIT_PER_MINUTE",
                0,
                d.requests_per_minute,
            )?,
            logins_per_minute: number(
                &var,
                "BILLBRIDGE_LOGIN_LIMIT_PER_MINUTE",
                0,
                d.logins_per_minute,
            )?,
            connectwise_reads_per_minute: number(
                &var,
                "BILLBRIDGE_CONNECTWISE_READS_PER_MINUTE",
                0,
                d.connectwise_reads_per_minute,
            )?,
            shutdown_grace: Duration::from_secs(number(
                &var,
                "BILLBRIDGE_SHUTDOWN_GRACE_SECS",
                0,
                d.shutdown_grace.as_secs(),
            )?)
            .min(MAX_SHUTDOWN_GRACE),
            ws_init_timeout: Duration::from_secs(number(
                &var,
                "BILLBRIDGE_WS_INIT_TIMEOUT_SECS",
                1,
                d.ws_init_timeout.as_secs(),
            )?),
            auth_cache: match number(
                &var,
                "BILLBRIDGE_AUTH_CACHE_SECS",
                0,
                d.auth_cache.as_secs(),
            )? {
                n if n > MAX_AUTH_CACHE.as_secs() => anyhow::bail!(
                    "BILLBRIDGE_AUTH_CACHE_SECS must be at most {} (how long a revocation may take to reach a replica that missed its notice); got {n}",
                    MAX_AUTH_CACHE.as_secs()
                ),
                n => Duration::from_secs(n),
            },
        })
    }
}

/// How much a key may spend: `burst` at once, refilled evenly over `per`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub burst: u32,
    pub per: Duration,
}

impl Rate {
    pub fn per_minute(n: u32) -> Rate {
        Rate {
            burst: n,
            per: Duration::from_secs(60),
        }
    }

    fn per_second(&self) -> f64 {
        f64::from(self.burst) / self.per.as_secs_f64()
    }

    /// The largest lease a replica takes of one caller's allowance: a fiftieth of it, at
    /// most 1,024 (12 of the default 600 a minute; 1, exact, for small allowances). A lease
    /// must outlast the round trip that takes the next one: at 40,000 requests a second,
    /// 64 lasted under two milliseconds.
    pub fn most_leased(&self) -> u32 {
        (self.burst / 50).clamp(1, 1024)
    }
}

/// Token buckets by key: each holds up to `burst` and refills continuously, so a caller may
/// burst to the limit and then goes at the sustained rate. On PostgreSQL the buckets live in
/// the database and every replica spends from the same ones; otherwise in this process.
pub struct RateLimiter {
    rate: Rate,
    store: Store,
}

enum Store {
    Memory(Mutex<HashMap<String, Bucket>>),
    /// Keys are stored as `<name>:<key>`.
    Database {
        db: DatabaseConnection,
        name: &'static str,
        takes: AtomicU64,
        /// What this replica has taken ahead for busy callers (see [`Lease`]).
        leases: Mutex<HashMap<String, Lease>>,
    },
}

/// Part of a caller's shared allowance this replica has already taken from the database
/// and hands out without asking it again. A caller who comes back within [`LEASE_WINDOW`]
/// of the last lease gets one twice as large (up to [`Rate::most_leased`]); one who does
/// not, one at a time, so a quiet caller's allowance is spent exactly. Leased tokens are
/// taken from the shared bucket when leased: replicas together never grant more than the
/// allowance, and a caller switching replicas may be refused early, by what the other
/// replica still holds.
///
/// A busy caller's next lease is taken in the background once half of the current one is
/// spent, so its requests do not wait for the database: waiting one request in fifty cost
/// `{ __typename }` a third of its throughput (its p99 went from 0.7 to 3.6 ms) with
/// sixteen connections. A replica then holds at most a lease and a half of a caller's
/// allowance. A refused refill only stops the refilling: the requests spend what is left,
/// then ask the database themselves and are told how long to wait.
struct Lease {
    left: u32,
    size: u32,
    at: Instant,
    /// The next lease is being taken.
    refilling: bool,
}

impl Lease {
    /// Adds `tokens` of a lease of `size` just taken to `key`'s. What is left of one taken
    /// meanwhile (by a concurrent request of the same caller) is kept too.
    fn add(leases: &mut HashMap<String, Lease>, key: String, size: u32, tokens: u32, now: Instant) {
        let lease = leases.entry(key).or_insert(Lease {
            left: 0,
            size,
            at: now,
            refilling: false,
        });
        lease.left += tokens;
        lease.size = size;
        lease.at = now;
    }

    /// The size of the next lease to take ahead now, if one is due.
    fn refill_due(&self, now: Instant, most: u32) -> Option<u32> {
        let busy = self.size > 1 && now.duration_since(self.at) < LEASE_WINDOW;
        (busy && !self.refilling && self.left <= self.size / 2).then(|| (self.size * 2).min(most))
    }
}

/// A lease used up sooner than this after it was taken makes the next one larger.
const LEASE_WINDOW: Duration = Duration::from_secs(1);

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets idle this long past a full refill are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(120);

/// The shared buckets are swept of idle keys once every this many takes.
const SWEEP_EVERY: u64 = 1024;

/// The bucket refilled after `idle` seconds, then `cost` taken when it holds `need`:
/// (tokens, granted). `db::allowances::take` does the same in SQL.
fn refill_take(
    tokens: f64,
    idle: f64,
    burst: f64,
    per_second: f64,
    need: f64,
    cost: f64,
) -> (f64, bool) {
    let refilled = (tokens + idle.max(0.0) * per_second).min(burst);
    if refilled >= need {
        ((refilled - cost).max(-burst), true)
    } else {
        (refilled, false)
    }
}

impl RateLimiter {
    /// Buckets in this process.
    pub(crate) fn in_memory(rate: Rate) -> Self {
        RateLimiter {
            rate,
            store: Store::Memory(Mutex::new(HashMap::new())),
        }
    }

    /// Buckets every replica on `db` shares when it is PostgreSQL (under `name`); in this
    /// process otherwise (SQLite has one server process).
    pub fn for_database(db: &DatabaseConnection, name: &'static str, rate: Rate) -> Self {
        match db.get_database_backend() {
            DbBackend::Postgres => RateLimiter {
                rate,
                store: Store::Database {
                    db: db.clone(),
                    name,
                    takes: AtomicU64::new(0),
                    leases: Mutex::new(HashMap::new()),
                },
            },
            _ => RateLimiter::in_memory(rate),
        }
    }

    /// Whether the buckets are shared through the database.
    pub fn shared(&self) -> bool {
        matches!(self.store, Store::Database { .. })
    }

    /// Takes one from `key`'s allowance, or says how long until one is free. On the shared
    /// buckets a busy caller's requests are taken in leases, so most of them cost no
    /// statement.
    pub async fn check(self: &Arc<Self>, key: &str) -> Result<(), Duration> {
        let Store::Database { leases, .. } = &self.store else {
            return self.take(key, 1.0, 1.0).await;
        };
        if self.rate.burst == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let size = {
            let mut leases = leases.lock().unwrap_or_else(|p| p.into_inner());
            match leases.get_mut(key) {
                Some(lease) if lease.left > 0 => {
                    lease.left -= 1;
                    if let Some(size) = lease.refill_due(now, self.rate.most_leased()) {
                        lease.refilling = true;
                        self.refill(key.to_owned(), size);
                    }
                    return Ok(());
                }
                Some(lease) if now.duration_since(lease.at) < LEASE_WINDOW => {
                    (lease.size * 2).min(self.rate.most_leased())
                }
                _ => 1,
            }
        };
        let mut granted = self
            .take(key, f64::from(size), f64::from(size))
            .await
            .map(|()| size);
        if granted.is_err() && size > 1 {
            // Less than a lease is left: spend it one at a time.
            granted = self.take(key, 1.0, 1.0).await.map(|()| 1);
        }
        let size = granted?;
        let mut leases = leases.lock().unwrap_or_else(|p| p.into_inner());
        if leases.len() > 10_000 {
            let idle = self.rate.per + FORGET_AFTER;
            leases.retain(|_, l| now.duration_since(l.at) < idle);
        }
        // This request spends one of the lease.
        Lease::add(&mut leases, key.to_owned(), size, size - 1, now);
        Ok(())
    }

    /// Takes `key`'s next lease of `size` in the background (see [`Lease`]).
    fn refill(self: &Arc<Self>, key: String, size: u32) {
        let limiter = self.clone();
        tokio::spawn(async move {
            let granted = limiter
                .take(&key, f64::from(size), f64::from(size))
                .await
                .is_ok();
            let Store::Database { leases, .. } = &limiter.store else {
                return;
            };
            let mut leases = leases.lock().unwrap_or_else(|p| p.into_inner());
            if granted {
                Lease::add(&mut leases, key.clone(), size, size, Instant::now());
            }
            if let Some(lease) = leases.get_mut(&key) {
                lease.refilling = false;
            }
        });
    }

    /// Whether `key` has one to spend, without spending it.
    pub async fn ready(&self, key: &str) -> Result<(), Duration> {
        self.take(key, 1.0, 0.0).await
    }

    /// Spends `n` from `key`'s allowance whatever it holds: what a piece of work turned out
    /// to cost, once done. The debt (at most one whole burst) delays the next `ready`.
    pub async fn charge(&self, key: &str, n: u64) {
        if n > 0 {
            let _ = self.take(key, f64::NEG_INFINITY, n as f64).await;
        }
    }

    /// Gives `key` its whole allowance back.
    pub async fn forget(&self, key: &str) {
        match &self.store {
            Store::Memory(buckets) => {
                buckets
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(key);
            }
            Store::Database {
                db, name, leases, ..
            } => {
                leases.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
                if let Err(error) = allowances::forget(db, &format!("{name}:{key}")).await {
                    tracing::warn!(%error, "could not reset a shared allowance");
                }
            }
        }
    }

    async fn take(&self, key: &str, need: f64, cost: f64) -> Result<(), Duration> {
        if self.rate.burst == 0 {
            return Ok(());
        }
        match &self.store {
            Store::Memory(_) => self.take_at(key, Instant::now(), need, cost),
            Store::Database {
                db, name, takes, ..
            } => {
                let (burst, per_second) = (f64::from(self.rate.burst), self.rate.per_second());
                if takes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
                    let idle = self.rate.per + FORGET_AFTER;
                    if let Err(error) = allowances::forget_idle(db, idle).await {
                        tracing::warn!(%error, "could not sweep shared allowances");
                    }
                }
                let key = format!("{name}:{key}");
                match allowances::take(db, &key, burst, per_second, need, cost).await {
                    Ok(taken) if taken.granted => Ok(()),
                    Ok(taken) => Err(Duration::from_secs_f64(
                        ((need - taken.tokens) / per_second).max(0.001),
                    )),
                    // A limit must not take the API down with the database: let it through.
                    Err(error) => {
                        tracing::warn!(%error, key, "shared allowance unavailable; not limiting");
                        Ok(())
                    }
                }
            }
        }
    }

    fn take_at(&self, key: &str, now: Instant, need: f64, cost: f64) -> Result<(), Duration> {
        let Store::Memory(buckets) = &self.store else {
            return Ok(());
        };
        let (burst, per_second) = (f64::from(self.rate.burst), self.rate.per_second());
        let mut buckets = buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 10_000 {
            let idle = self.rate.per + FORGET_AFTER;
            buckets.retain(|_, b| now.duration_since(b.at) < idle);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let idle = now.saturating_duration_since(bucket.at).as_secs_f64();
        let (tokens, granted) = refill_take(bucket.tokens, idle, burst, per_second, need, cost);
        bucket.tokens = tokens;
        bucket.at = now;
        if granted {
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                ((need - tokens) / per_second).max(0.001),
            ))
        }
    }
}

/// Whole seconds for `Retry-After`, never 0.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// 429 `RATE_LIMITED` with `Retry-After`.
pub fn too_many(wait: Duration, message: &str) -> Response {
    let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", message);
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after_secs(wait)),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_to_the_limit_then_refills_at_the_rate() {
        let limiter = RateLimiter::in_memory(Rate::per_minute(60));
        let check = |key, at| limiter.take_at(key, at, 1.0, 1.0);
        let start = Instant::now();
        for _ in 0..60 {
            assert!(check("a", start).is_ok());
        }
        let wait = check("a", start).unwrap_err();
        assert!((wait.as_secs_f64() - 1.0).abs() < 0.01, "{wait:?}");
        assert_eq!(retry_after_secs(wait), 1);
        // Another key has its own allowance.
        assert!(check("b", start).is_ok());
        // One second later one request is free again, not two.
        let later = start + Duration::from_secs(1);
        assert!(check("a", later).is_ok());
        assert!(check("a", later).is_err());
    }

    #[test]
    fn work_is_charged_after_it_is_done() {
        let limiter = RateLimiter::in_memory(Rate::per_minute(60));
        let start = Instant::now();
        let ready = |at| limiter.take_at("t", at, 1.0, 0.0);
        assert!(ready(start).is_ok());
        assert!(
            ready(start).is_ok(),
            "asking whether it is ready spends nothing"
        );
        // A read that made 100 calls: 60 - 100 leaves a debt of 40, so the next read waits
        // for 41 calls' refill.
        limiter
            .take_at("t", start, f64::NEG_INFINITY, 100.0)
            .unwrap();
        let wait = ready(start).unwrap_err();
        assert!((wait.as_secs_f64() - 41.0).abs() < 0.01, "{wait:?}");
        // The debt is capped at one burst: never more than 61 s away.
        limiter
            .take_at("t", start, f64::NEG_INFINITY, 500.0)
            .unwrap();
        let wait = ready(start).unwrap_err();
        assert!((wait.as_secs_f64() - 61.0).abs() < 0.01, "{wait:?}");
        assert!(ready(start + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn the_next_lease_is_taken_once_half_is_spent() {
        let now = Instant::now();
        let lease = |left, size, refilling| Lease {
            left,
            size,
            at: now,
            refilling,
        };
        // Half of 8 left: the next, twice as large, is due.
        assert_eq!(lease(5, 8, false).refill_due(now, 12), None);
        assert_eq!(lease(4, 8, false).refill_due(now, 12), Some(12));
        assert_eq!(lease(0, 12, false).refill_due(now, 12), Some(12));
        // Not twice while one is being taken.
        assert_eq!(lease(4, 8, true).refill_due(now, 12), None);
        // A caller taken from one at a time is not busy: nothing is taken ahead for it.
        assert_eq!(lease(0, 1, false).refill_due(now, 12), None);
        // Nor for one that did not come back within the window.
        let later = now + LEASE_WINDOW;
        assert_eq!(lease(4, 8, false).refill_due(later, 12), None);
    }

    #[tokio::test]
    async fn off_when_zero() {
        let off = Arc::new(RateLimiter::in_memory(Rate::per_minute(0)));
        for _ in 0..10_000 {
            assert!(off.check("a").await.is_ok());
        }
    }

    #[test]
    fn refill_never_exceeds_the_burst() {
        assert_eq!(refill_take(3.0, 1e9, 5.0, 1.0, 1.0, 1.0), (4.0, true));
        assert_eq!(refill_take(0.0, 0.5, 5.0, 1.0, 1.0, 1.0), (0.5, false));
        assert_eq!(refill_take(-5.0, 0.0, 5.0, 1.0, 1.0, 0.0), (-5.0, false));
    }

    /// An environment of these variables only.
    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn limits_from_the_environment() {
        assert_eq!(Limits::from_env(env(&[])).unwrap(), Limits::default());
        let set = Limits::from_env(env(&[
            ("BILLBRIDGE_MAX_DEPTH", "8"),
            ("BILLBRIDGE_RATE_LIMIT_PER_MINUTE", "0"),
            ("BILLBRIDGE_REQUEST_TIMEOUT_SECS", "5"),
            ("BILLBRIDGE_WS_INIT_TIMEOUT_SECS", "3"),
        ]))
        .unwrap();
        assert_eq!(
            (
                set.depth,
                set.requests_per_minute,
                set.timeout,
                set.ws_init_timeout
            ),
            (8, 0, Duration::from_secs(5), Duration::from_secs(3))
        );
        let err = Limits::from_env(env(&[("BILLBRIDGE_MAX_DEPTH", "deep")])).unwrap_err();
        assert!(err.to_string().contains("BILLBRIDGE_MAX_DEPTH"), "{err}");
        assert!(Limits::from_env(env(&[("BILLBRIDGE_MAX_BODY_BYTES", "10")])).is_err());
        assert!(Limits::from_env(env(&[("BILLBRIDGE_WS_INIT_TIMEOUT_SECS", "0")])).is_err());
        assert!(Limits::from_env(env(&[("BILLBRIDGE_MAX_QUERY_STRING_BYTES", "100000")])).is_err());
    }

    #[test]
    fn an_import_fits_in_a_request_body() {
        let set = Limits::from_env(env(&[
            ("BILLBRIDGE_MAX_BODY_BYTES", "8000000"),
            ("BILLBRIDGE_MAX_IMPORT_BYTES", "6000000"),
        ]))
        .unwrap();
        assert_eq!((set.body_bytes, set.import_bytes), (8_000_000, 6_000_000));
        // A smaller body lowers the default import limit with it.
        let small = Limits::from_env(env(&[("BILLBRIDGE_MAX_BODY_BYTES", "4096")])).unwrap();
        assert_eq!(small.import_bytes, 4096);
        let err = Limits::from_env(env(&[("BILLBRIDGE_MAX_IMPORT_BYTES", "2000000")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("must be at most BILLBRIDGE_MAX_BODY_BYTES (1048576)"),
            "{err}"
        );
    }

    #[test]
    fn the_auth_cache_is_bounded_and_can_be_turned_off() {
        let limits = |value: &str| {
            let value = value.to_owned();
            Limits::from_env(move |name: &str| {
                (name == "BILLBRIDGE_AUTH_CACHE_SECS").then(|| value.clone())
            })
        };
        assert_eq!(limits("0").unwrap().auth_cache, Duration::ZERO);
        assert_eq!(limits("300").unwrap().auth_cache, Duration::from_secs(300));
        let err = limits("301").unwrap_err().to_string();
        assert!(
            err.contains("BILLBRIDGE_AUTH_CACHE_SECS must be at most 300"),
            "{err}"
        );
    }
}
