//! The limits that keep one caller from hurting the others: GraphQL depth, complexity and
//! directives, request size and time, and request rates per caller and per address.
//!
//! Rates are counted in each process's memory: with several replicas behind a balancer a
//! caller gets up to the limit on each replica.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::refuse;

/// hyper refuses a request target longer than this itself (414 with no body), before the
/// query-string limit can answer in JSON; the limit stays below it.
pub const MAX_QUERY_STRING_BYTES: usize = 60_000;

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
    /// A GET's query string, in bytes (at most [`MAX_QUERY_STRING_BYTES`]).
    pub query_string_bytes: usize,
    /// Longest a request may take.
    pub timeout: Duration,
    /// GraphQL requests per minute per caller (token or signed-in user); 0 turns it off.
    pub requests_per_minute: u32,
    /// Sign-in attempts per minute per client address; 0 turns it off.
    pub logins_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            depth: 12,
            complexity: 5_000,
            fields: 5_000,
            directives: 16,
            body_bytes: 1024 * 1024,
            query_string_bytes: 16 * 1024,
            timeout: Duration::from_secs(30),
            requests_per_minute: 600,
            logins_per_minute: 30,
        }
    }
}

impl Limits {
    /// The defaults, overridden by `BILLBRIDGE_MAX_DEPTH`, `BILLBRIDGE_MAX_COMPLEXITY`,
    /// `BILLBRIDGE_MAX_FIELDS`,
    /// `BILLBRIDGE_MAX_DIRECTIVES`, `BILLBRIDGE_MAX_BODY_BYTES`,
    /// `BILLBRIDGE_MAX_QUERY_STRING_BYTES`,
    /// `BILLBRIDGE_REQUEST_TIMEOUT_SECS`, `BILLBRIDGE_RATE_LIMIT_PER_MINUTE` and
    /// `BILLBRIDGE_LOGIN_LIMIT_PER_MINUTE` where `var` finds them.
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
        Ok(Limits {
            depth: number(&var, "BILLBRIDGE_MAX_DEPTH", 2, d.depth)?,
            complexity: number(&var, "BILLBRIDGE_MAX_COMPLEXITY", 10, d.complexity)?,
            fields: number(&var, "BILLBRIDGE_MAX_FIELDS", 10, d.fields)?,
            directives: number(&var, "BILLBRIDGE_MAX_DIRECTIVES", 1, d.directives)?,
            body_bytes: number(&var, "BILLBRIDGE_MAX_BODY_BYTES", 1024, d.body_bytes)?,
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
        })
    }
}

/// Token buckets by key: each holds up to a minute's allowance and refills continuously,
/// so a caller may burst to the limit and then goes at the sustained rate.
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets idle this long are full again and can be forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(120);

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s allowance, or says how long until one is free.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| now.duration_since(b.at) < FORGET_AFTER);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
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
        let limiter = RateLimiter::new(60);
        let start = Instant::now();
        for _ in 0..60 {
            assert!(limiter.check_at("a", start).is_ok());
        }
        let wait = limiter.check_at("a", start).unwrap_err();
        assert!((wait.as_secs_f64() - 1.0).abs() < 0.01, "{wait:?}");
        assert_eq!(retry_after_secs(wait), 1);
        // Another key has its own allowance.
        assert!(limiter.check_at("b", start).is_ok());
        // One second later one request is free again, not two.
        let later = start + Duration::from_secs(1);
        assert!(limiter.check_at("a", later).is_ok());
        assert!(limiter.check_at("a", later).is_err());
        // Off when 0.
        let off = RateLimiter::new(0);
        assert!((0..10_000).all(|_| off.check_at("a", start).is_ok()));
    }

    #[test]
    fn limits_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Limits::from_env(env(&[])).unwrap(), Limits::default());
        let set = Limits::from_env(env(&[
            ("BILLBRIDGE_MAX_DEPTH", "8"),
            ("BILLBRIDGE_RATE_LIMIT_PER_MINUTE", "0"),
            ("BILLBRIDGE_REQUEST_TIMEOUT_SECS", "5"),
        ]))
        .unwrap();
        assert_eq!(
            (set.depth, set.requests_per_minute, set.timeout),
            (8, 0, Duration::from_secs(5))
        );
        let err = Limits::from_env(env(&[("BILLBRIDGE_MAX_DEPTH", "deep")])).unwrap_err();
        assert!(err.to_string().contains("BILLBRIDGE_MAX_DEPTH"), "{err}");
        assert!(Limits::from_env(env(&[("BILLBRIDGE_MAX_BODY_BYTES", "10")])).is_err());
        assert!(Limits::from_env(env(&[("BILLBRIDGE_MAX_QUERY_STRING_BYTES", "100000")])).is_err());
    }
}
