//! Webhooks: when a push run finishes, every webhook of its tenant gets a signed JSON event.
//!
//! The run's end only *enqueues* (one `PENDING` delivery per webhook, stored with the exact
//! body that will be signed and sent), in a task of its own so the pusher never waits on
//! it. The [`worker`] in each server replica POSTs due deliveries, records every attempt
//! and retries with capped backoff; a delivery is claimed with a lease so two replicas never
//! send the same attempt.

pub mod worker;

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Serialize;
use sha2::Sha256;
use std::sync::Arc;

pub use worker::{Retry, Settings, Worker};

use crate::clock::Clock;
use crate::db::entity::push_run;
use crate::db::{Scope, tenants, webhooks};
use crate::error::{AppError, AppResult};
use crate::push::FinishedHook;

/// The only event so far; also sent as `X-Billbridge-Event`.
pub const EVENT: &str = "push_run.finished";
pub const EVENT_HEADER: &str = "X-Billbridge-Event";
pub const DELIVERY_HEADER: &str = "X-Billbridge-Delivery";
pub const SIGNATURE_HEADER: &str = "X-Billbridge-Signature";

/// Random bytes in a new secret (shown as twice as many hex digits).
const SECRET_BYTES: usize = 32;

/// A fresh signing secret: 32 random bytes as 64 hex digits. The HMAC key is this text.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `sha256=<hex HMAC-SHA256 of body under secret>`, the `X-Billbridge-Signature` value.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this branch is never taken.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The `push_run.finished` event. Field order is the order written.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    event: &'static str,
    /// A string, like every id in the GraphQL API (`pushRun(id:)` takes it).
    run_id: String,
    /// The tenant's slug.
    tenant: &'a str,
    status: &'static str,
    dry_run: bool,
    trigger: &'static str,
    message: Option<&'a str>,
    counts: Counts,
    started_at: String,
    finished_at: Option<String>,
    /// The run in the web app.
    link: String,
}

#[derive(Serialize)]
struct Counts {
    total: i32,
    done: i32,
    /// Of `done`, the owned additions retired (no mapping wants them any more).
    retired: i32,
    unchanged: i32,
    skipped: i32,
    failed: i32,
}

/// As the GraphQL API writes times, so a receiver can compare them with `pushRun`'s.
fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// The event body for a finished run of `tenant`, linking to the run under `public_url`.
pub fn body(run: &push_run::Model, tenant: &str, public_url: &str) -> AppResult<String> {
    let event = Event {
        event: EVENT,
        run_id: run.id.to_string(),
        tenant,
        status: run.status.as_str(),
        dry_run: run.dry_run,
        trigger: run.trigger.as_str(),
        message: run.message.as_deref(),
        counts: Counts {
            total: run.total_lines,
            done: run.done,
            retired: run.retired,
            unchanged: run.unchanged,
            skipped: run.skipped,
            failed: run.failed,
        },
        started_at: time(run.started_at),
        finished_at: run.finished_at.map(time),
        link: format!("{}/history/{}", public_url.trim_end_matches('/'), run.id),
    };
    serde_json::to_string(&event).map_err(|e| AppError::internal("cannot write a webhook event", e))
}

/// Enqueues one delivery of the run's event per webhook of the scope's tenant, due `now`.
/// Returns how many were enqueued (none when the tenant has no webhooks).
pub async fn enqueue(
    scope: &Scope,
    run: &push_run::Model,
    public_url: &str,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let hooks = webhooks::list(scope).await?;
    if hooks.is_empty() {
        return Ok(0);
    }
    let tenant = tenants::by_id(scope.db(), scope.tenant_id())
        .await?
        .ok_or_else(|| AppError::not_found("tenant", scope.tenant_id()))?;
    let body = body(run, &tenant.slug, public_url)?;
    let created = webhooks::enqueue(scope, &hooks, run.id, &body, now).await?;
    Ok(created.len())
}

/// The pusher's `on_finished`: enqueues the run's deliveries in a task of its own, so a slow
/// database never holds up the end of a run.
pub fn hook(public_url: String, clock: Arc<dyn Clock>) -> FinishedHook {
    Arc::new(move |scope: Scope, run: push_run::Model| {
        let (public_url, clock) = (public_url.clone(), clock.clone());
        tokio::spawn(async move {
            if let Err(error) = enqueue(&scope, &run, &public_url, clock.now()).await {
                tracing::warn!(run = run.id, error = ?error, "could not enqueue webhook deliveries");
            }
        });
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test case 2.
    #[test]
    fn signs_with_hmac_sha256() {
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn secrets_are_long_and_fresh() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn the_event_names_the_run_and_links_to_it() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T03:00:00Z")
            .unwrap()
            .to_utc();
        let run = push_run::Model {
            id: 42,
            tenant_id: 1,
            service_id: None,
            dry_run: false,
            trigger: crate::domain::RunTrigger::User,
            triggered_by: "someone".into(),
            status: crate::domain::RunStatus::Partial,
            message: Some("1 line(s) failed; push again to finish them".into()),
            started_at: at,
            finished_at: Some(at + chrono::Duration::milliseconds(1500)),
            total_lines: 10,
            done: 6,
            retired: 0,
            unchanged: 2,
            skipped: 1,
            failed: 1,
            cancel_requested: false,
            lease_owner: None,
            lease_expires_at: None,
            slot_at: None,
        };
        let text = body(&run, "acme", "https://billing.example/").unwrap();
        assert_eq!(
            text,
            r#"{"event":"push_run.finished","runId":"42","tenant":"acme","status":"PARTIAL","dryRun":false,"trigger":"USER","message":"1 line(s) failed; push again to finish them","counts":{"total":10,"done":6,"retired":0,"unchanged":2,"skipped":1,"failed":1},"startedAt":"2026-11-22T03:00:00+00:00","finishedAt":"2026-11-22T03:00:01.500+00:00","link":"https://billing.example/history/42"}"#
        );
    }
}
