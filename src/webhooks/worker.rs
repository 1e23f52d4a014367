//! The delivery worker, in the server process of every replica. Each tick it claims the
//! deliveries that are due (across tenants, each with a lease so one replica sends each
//! attempt), POSTs them signed, records every attempt, and marks the delivery `DELIVERED`
//! on a 2xx, otherwise schedules the next attempt with capped exponential backoff until the
//! attempts run out (`FAILED`).

use chrono::Duration;
use futures_util::StreamExt;
use reqwest::header::CONTENT_TYPE;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use super::{DELIVERY_HEADER, EVENT, EVENT_HEADER, SIGNATURE_HEADER, sign};
use crate::clock::Clock;
use crate::crypto::MasterKey;
use crate::db::entity::webhook_delivery;
use crate::db::webhooks::{self, Attempt, Next};
use crate::db::{Scope, system};
use crate::error::AppError;

/// When to try again after a failed attempt.
#[derive(Clone, Debug)]
pub struct Retry {
    /// The wait after the first failure…
    pub first: Duration,
    /// …multiplied by this after each further one…
    pub factor: i32,
    /// …but never longer than this.
    pub max_wait: Duration,
    /// Attempts in all, the first included; then the delivery is `FAILED`.
    pub attempts: i32,
}

impl Default for Retry {
    /// 30 s, 2 min, 8 min, 32 min, then hourly: eight attempts within about four hours.
    fn default() -> Self {
        Retry {
            first: Duration::seconds(30),
            factor: 4,
            max_wait: Duration::hours(1),
            attempts: 8,
        }
    }
}

impl Retry {
    /// The wait after attempt `number` (from 1) failed; `None` when it was the last.
    pub fn after(&self, number: i32) -> Option<Duration> {
        if number >= self.attempts {
            return None;
        }
        let mut wait = self.first;
        for _ in 1..number {
            wait = wait * self.factor;
            if wait >= self.max_wait {
                break;
            }
        }
        Some(wait.min(self.max_wait))
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// How often the worker looks for due deliveries.
    pub tick: StdDuration,
    pub connect_timeout: StdDuration,
    /// The whole exchange with a receiver, connection included.
    pub request_timeout: StdDuration,
    /// How long a claimed delivery stays invisible to other workers. Longer than a request
    /// can take, so an attempt in flight is never claimed again.
    pub lease: Duration,
    /// Deliveries POSTed at once.
    pub concurrency: usize,
    /// Deliveries claimed per tick at most.
    pub batch: u64,
    pub retry: Retry,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            tick: StdDuration::from_secs(5),
            connect_timeout: StdDuration::from_secs(5),
            request_timeout: StdDuration::from_secs(15),
            lease: Duration::minutes(2),
            concurrency: 8,
            batch: 100,
            retry: Retry::default(),
        }
    }
}

pub struct Worker {
    db: DatabaseConnection,
    master_key: Arc<MasterKey>,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    settings: Settings,
}

/// Longest error text kept for an attempt.
const MAX_ERROR: usize = 500;

impl Worker {
    pub fn new(
        db: DatabaseConnection,
        master_key: Arc<MasterKey>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> reqwest::Result<Worker> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            // A receiver answers; it does not send us elsewhere (and a redirect could point
            // anywhere, our own network included).
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("billbridge-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Worker {
            db,
            master_key,
            clock,
            http,
            settings,
        })
    }

    /// Ticks until the process ends.
    pub async fn run(self) {
        loop {
            self.tick_once().await;
            tokio::time::sleep(self.settings.tick).await;
        }
    }

    /// One pass over the due deliveries; returns how many attempts it made.
    pub async fn tick_once(&self) -> usize {
        let now = self.clock.now();
        let due = match system::due_deliveries(&self.db, now, self.settings.batch).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(%error, "cannot look for due webhook deliveries");
                return 0;
            }
        };
        let until = now + self.settings.lease;
        futures_util::stream::iter(due)
            .map(|delivery| async move {
                match system::claim_delivery(&self.db, &delivery, now, until).await {
                    Ok(true) => {
                        self.attempt(delivery).await;
                        1
                    }
                    Ok(false) => 0,
                    Err(error) => {
                        tracing::warn!(%error, "cannot claim a webhook delivery");
                        0
                    }
                }
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .fold(0, |sum, n| async move { sum + n })
            .await
    }

    /// One POST of a claimed delivery, recorded with what follows it.
    async fn attempt(&self, delivery: webhook_delivery::Model) {
        let scope = Scope::for_tenant_id(self.db.clone(), delivery.tenant_id);
        let hook = match webhooks::get(&scope, delivery.webhook_id).await {
            Ok(hook) => hook,
            // Deleted since it was claimed; its deliveries went with it.
            Err(AppError::NotFound { .. }) => return,
            Err(error) => {
                tracing::warn!(delivery = delivery.id, error = ?error, "cannot read a webhook");
                return;
            }
        };
        let at = self.clock.now();
        let started = Instant::now();
        let result = match webhooks::secret(&scope, &self.master_key, &hook) {
            Ok(secret) => self.post(&hook.url, &delivery, &secret).await,
            Err(_) => {
                Err("the webhook's secret cannot be opened (was the master key changed?)".into())
            }
        };
        let attempt = Attempt {
            at,
            response_status: result.as_ref().ok().map(|code| i32::from(*code)),
            error: result.as_ref().err().cloned(),
            duration_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
        };
        let number = delivery.attempts + 1;
        let next = match result {
            Ok(code) if (200..300).contains(&code) => Next::Delivered,
            _ => match self.settings.retry.after(number) {
                Some(wait) => Next::RetryAt(self.clock.now() + jitter(wait)),
                None => Next::GiveUp,
            },
        };
        match webhooks::record_attempt(&scope, &delivery, attempt, next).await {
            Ok(true) if next == Next::GiveUp => tracing::warn!(
                delivery = delivery.id,
                webhook = hook.id,
                tenant = delivery.tenant_id,
                attempts = number,
                "webhook delivery failed; no attempts left"
            ),
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                delivery = delivery.id,
                "another worker recorded this webhook delivery first"
            ),
            Err(error) => {
                tracing::warn!(delivery = delivery.id, error = ?error, "cannot record a webhook attempt")
            }
        }
    }

    /// The receiver's status code, or why there was none.
    async fn post(
        &self,
        url: &str,
        delivery: &webhook_delivery::Model,
        secret: &[u8],
    ) -> Result<u16, String> {
        let response = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, EVENT)
            .header(DELIVERY_HEADER, delivery.id.to_string())
            .header(SIGNATURE_HEADER, sign(secret, delivery.body.as_bytes()))
            .body(delivery.body.clone())
            .send()
            .await
            .map_err(describe)?;
        Ok(response.status().as_u16())
    }
}

/// Up to a tenth more, so receivers that failed together are not retried together.
fn jitter(wait: Duration) -> Duration {
    let spread = wait.num_milliseconds() / 10;
    if spread <= 0 {
        return wait;
    }
    wait + Duration::milliseconds(rand::random_range(0..spread))
}

/// A transport error as an admin can act on it, without the URL (it may carry a token).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = String::from(if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    });
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if text.len() > MAX_ERROR {
        let mut end = MAX_ERROR;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_caps_then_gives_up() {
        let retry = Retry::default();
        let waits: Vec<Option<i64>> = (1..=9)
            .map(|n| retry.after(n).map(|d| d.num_seconds()))
            .collect();
        assert_eq!(
            waits,
            [
                Some(30),
                Some(120),
                Some(480),
                Some(1920),
                Some(3600),
                Some(3600),
                Some(3600),
                None,
                None
            ]
        );
    }

    #[test]
    fn jitter_only_adds_a_little() {
        let wait = Duration::seconds(30);
        for _ in 0..100 {
            let jittered = jitter(wait);
            assert!(jittered >= wait && jittered < Duration::seconds(33));
        }
        assert_eq!(jitter(Duration::zero()), Duration::zero());
    }
}
