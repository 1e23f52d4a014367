//! Webhooks, for admins only: create one (its signing secret is shown once, in the
//! answer), list and delete them, and follow each delivery with its attempts.

use async_graphql::connection::{Connection, OpaqueCursor};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::audit;
use super::guard::MinRole;
use super::input::Totals;
use super::{input, psa_context, pusher, scope, viewer};
use crate::auth::Role;
use crate::db::entity::{webhook, webhook_attempt, webhook_delivery};
use crate::db::webhooks::{self as hooks, NewWebhook};
use crate::domain::DeliveryStatus;
use crate::webhooks::new_secret;

/// A URL that receives a signed `push_run.finished` event when a push run ends. Its secret
/// is not here: it is shown once, by `createWebhook`.
pub struct Webhook(pub webhook::Model);

#[Object]
impl Webhook {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// Where events are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Who created it (a token's subject).
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(SimpleObject)]
pub(crate) struct CreateWebhookPayload {
    pub webhook: Webhook,
    /// The key of the `X-Billbridge-Signature` HMAC, exactly this text. Shown only here:
    /// billbridge keeps it sealed and never shows it again.
    pub secret: String,
}

#[derive(InputObject)]
pub struct CreateWebhookInput {
    /// An http or https URL.
    pub url: String,
    pub description: Option<String>,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WebhookDeliveryStatus {
    /// Not delivered yet; the next attempt is due at `nextAttemptAt`.
    Pending,
    /// A 2xx answer came.
    Delivered,
    /// Every attempt failed; no more will be made.
    Failed,
}

/// One POST of a delivery.
#[derive(SimpleObject)]
pub(crate) struct WebhookAttempt {
    /// 1 for the first.
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; null when no answer came.
    pub response_status: Option<i32>,
    /// Why no answer came (could not connect, timed out…).
    pub error: Option<String>,
    pub duration_ms: i32,
}

impl From<webhook_attempt::Model> for WebhookAttempt {
    fn from(a: webhook_attempt::Model) -> Self {
        WebhookAttempt {
            attempt: a.attempt,
            attempted_at: a.attempted_at,
            response_status: a.response_status,
            error: a.error,
            duration_ms: a.duration_ms,
        }
    }
}

/// One event for one webhook, with every attempt to deliver it.
pub(crate) struct WebhookDelivery {
    row: webhook_delivery::Model,
    attempts: Vec<webhook_attempt::Model>,
}

#[Object]
impl WebhookDelivery {
    /// Also sent as `X-Billbridge-Delivery`, so receivers can ignore a repeat.
    async fn id(&self) -> ID {
        self.row.id.into()
    }
    /// The push run whose end this announces.
    async fn run_id(&self) -> ID {
        self.row.run_id.into()
    }
    async fn status(&self) -> WebhookDeliveryStatus {
        match self.row.status {
            DeliveryStatus::Pending => WebhookDeliveryStatus::Pending,
            DeliveryStatus::Delivered => WebhookDeliveryStatus::Delivered,
            DeliveryStatus::Failed => WebhookDeliveryStatus::Failed,
        }
    }
    /// Attempts made so far.
    async fn attempt_count(&self) -> i32 {
        self.row.attempts
    }
    /// When the next attempt is due (while one is in flight: when it is retried if it
    /// never reports back); null once delivered or failed.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.row.next_attempt_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// The JSON sent, byte for byte as signed.
    async fn body(&self) -> &str {
        &self.row.body
    }
    /// Every attempt, first to last.
    async fn attempts(&self) -> Vec<WebhookAttempt> {
        self.attempts.iter().cloned().map(Into::into).collect()
    }
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The tenant's webhooks, oldest first.
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<Webhook>> {
        Ok(hooks::list(scope(ctx))
            .await?
            .into_iter()
            .map(Webhook)
            .collect())
    }

    /// A webhook's deliveries, newest first, each with its attempts.
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        webhook_id: ID,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> Result<Connection<OpaqueCursor<i64>, WebhookDelivery, Totals>> {
        let webhook_id = input::id("webhookId", &webhook_id)?;
        let first = input::page_size(first, 100)?;
        let after = input::cursor::<i64>(after)?;
        let page = hooks::deliveries(scope(ctx), webhook_id, after, first).await?;
        Ok(input::connection(
            page,
            after.is_some(),
            |(row, attempts)| (row.id, WebhookDelivery { row, attempts }),
        ))
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Adds a webhook and answers with its signing secret, the only time it is shown.
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookInput,
    ) -> Result<CreateWebhookPayload> {
        let new = NewWebhook {
            url: input::web_url("url", &input.url)?,
            description: input::note("description", input.description.as_deref())?,
        };
        let secret = new_secret();
        let (master_key, shown, who, now) = (
            &psa_context(ctx).master_key,
            secret.as_str(),
            &viewer(ctx).subject,
            pusher(ctx).clock.now(),
        );
        let webhook = audit::audited(ctx, |scope| async move {
            let webhook = hooks::create(&scope, master_key, new, shown, who, now).await?;
            let summary = format!("added webhook to {}", webhook.url);
            let entry = audit::entry("webhook", "create", Some(webhook.id), summary);
            Ok((webhook, entry))
        })
        .await?;
        Ok(CreateWebhookPayload {
            webhook: Webhook(webhook),
            secret,
        })
    }

    /// Deletes a webhook with its deliveries; a delivery in flight is not retried.
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn delete_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let key = input::id("id", &id)?;
        audit::audited(ctx, |scope| async move {
            hooks::delete(&scope, key).await?;
            let summary = format!("deleted webhook {key}");
            Ok(((), audit::entry("webhook", "delete", Some(key), summary)))
        })
        .await?;
        Ok(id)
    }
}
