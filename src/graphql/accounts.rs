//! Accounts (the MSP's customers at the vendor), their subscriptions and usage, and the
//! batch mutations integrators feed them with.

use async_graphql::connection::{Connection, OpaqueCursor};
use async_graphql::{
    Context, ContextSelectionSet, Enum, ID, InputObject, Object, Result, SimpleObject,
};
use chrono::{DateTime, Utc};
use std::sync::Arc;

use super::guard::MinRole;
use super::input::Totals;
use super::now::{self, Json, Now, Plain};
use super::plans::{Plan, PlanFields};
use super::prefetch::{self, AccountsAhead};
use super::push::PushLine;
use super::services::{Metric, MetricFields, Product, ProductFields};
use super::{input, loaders, scope};
use crate::auth::Role;
use crate::db::accounts::{
    self, AccountFilter, AccountInput as NewAccount, SubscriptionInput as NewSubscription,
};
use crate::db::entity::{account, account_link, subscription};
use crate::db::push as runs;
use crate::db::usage::{self, UsageInput as NewUsage};
use crate::domain::{LinkState as StoredState, LinkVia as StoredVia};
use crate::error::{AppError, AppResult};

const DEFAULT_PAGE: i32 = 50;
const MAX_PAGE: i32 = 200;
const MAX_HISTORY: i32 = 1000;

/// An account, with what its page read ahead (`prefetch::accounts`) when it came in one.
pub struct Account(pub account::Model, pub Ahead);

/// What the account's page read ahead; `None` for an account read alone.
pub type Ahead = Option<Arc<AccountsAhead>>;

impl Account {
    pub fn alone(model: account::Model) -> Self {
        Account(model, None)
    }
}

/// An account read in a page is plain as far as its page read ahead: its own columns,
/// subscriptions with their products and plans, link and latest usage (`now`).
impl Plain for Account {
    type Of = Self;

    fn field(&self, name: &str, ctx: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
        let account = &self.0;
        match name {
            "id" => out.id(account.id),
            "name" => out.str(&account.name),
            "displayName" => out.opt_str(account.display_name.as_deref()),
            "linkIdentifier" => out.opt_str(account.link_identifier.as_deref()),
            "createdAt" => out.time(&account.created_at),
            "updatedAt" => out.time(&account.updated_at),
            "subscriptions" => {
                let rows = self.1.as_ref()?.subscriptions(account.id)?;
                now::list(out, rows, |s, out| {
                    now::object(&SubscriptionFields(s, &self.1), ctx, out)
                })
            }
            "latestUsage" => {
                let rows = self.1.as_ref()?.usage(account.id)?;
                now::list(out, rows, |u, out| {
                    now::object(&SampleFields(u, &self.1), ctx, out)
                })
            }
            "link" => match self.1.as_ref()?.link(account.id)? {
                Some(link) => now::object(&AccountLink::from(link.clone()), ctx, out),
                None => out.null(),
            },
            _ => None,
        }
    }
}

#[Object]
impl Account {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// The account's name at the vendor; also what ConnectWise is searched for.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The name the vendor's export shows, when an import gave one.
    async fn display_name(&self) -> Option<&str> {
        self.0.display_name.as_deref()
    }
    /// What to look for in ConnectWise instead of the name, when set.
    async fn link_identifier(&self) -> Option<&str> {
        self.0.link_identifier.as_deref()
    }
    async fn subscriptions(&self, ctx: &Context<'_>) -> Result<Vec<Subscription>> {
        if let Some(rows) = self.1.as_ref().and_then(|a| a.subscriptions(self.0.id)) {
            return Ok(rows
                .iter()
                .map(|s| Subscription(s.clone(), self.1.clone()))
                .collect());
        }
        Ok(loaders(ctx)
            .subscriptions_of_account
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|s| Subscription(s, None))
            .collect())
    }
    /// The latest sample of each metric.
    async fn latest_usage(&self, ctx: &Context<'_>) -> Result<Vec<Now<UsageSample>>> {
        if let Some(rows) = self.1.as_ref().and_then(|a| a.usage(self.0.id)) {
            return Ok(rows
                .iter()
                .map(|u| Now(UsageSample(u.clone(), self.1.clone())))
                .collect());
        }
        Ok(loaders(ctx)
            .latest_usage_of_account
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|u| Now(UsageSample(u, None)))
            .collect())
    }
    /// Past samples, newest first (for one metric when given).
    async fn usage_history(
        &self,
        ctx: &Context<'_>,
        metric_id: Option<ID>,
        #[graphql(default = 100)] last: i32,
    ) -> Result<Vec<UsageSample>> {
        let metric = input::ids("metricId", metric_id.as_ref())?;
        if !(1..=MAX_HISTORY).contains(&last) {
            return Err(AppError::bad_input("last", format!("give 1 to {MAX_HISTORY}")).into());
        }
        Ok(usage::history(scope(ctx), self.0.id, metric, last as u64)
            .await?
            .into_iter()
            .map(|u| UsageSample(u.into(), None))
            .collect())
    }
    /// Its ConnectWise company, as the last `syncCompanies` found it; `null` before.
    async fn link(&self, ctx: &Context<'_>) -> Result<Option<AccountLink>> {
        let link = match self.1.as_ref().and_then(|a| a.link(self.0.id)) {
            Some(link) => link.cloned(),
            None => {
                let links = loaders(ctx).link_of_account.load_one(self.0.id).await?;
                links.and_then(|l| l.into_iter().next())
            }
        };
        Ok(link.map(AccountLink::from))
    }
    /// Its lines in the newest finished, real push that had lines for it (among the last
    /// 30 runs): what was last written, found unchanged, or skipped and why.
    async fn last_pushed(&self, ctx: &Context<'_>) -> Result<Vec<PushLine>> {
        Ok(runs::last_pushed_for(scope(ctx), &self.0.name)
            .await?
            .into_iter()
            .map(PushLine::from)
            .collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Exactly one ConnectWise company matches.
    Linked,
    /// No company has the account's key as Company ID or `echo_username`.
    NotFound,
    /// Several companies claim it; billbridge will not guess.
    Ambiguous,
}

impl LinkState {
    fn stored(self) -> StoredState {
        match self {
            LinkState::Linked => StoredState::Linked,
            LinkState::NotFound => StoredState::NotFound,
            LinkState::Ambiguous => StoredState::Ambiguous,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LinkVia {
    /// The company's Company ID (identifier) is the account's key.
    CompanyId,
    /// The company's `echo_username` custom field holds the account's key.
    EchoUsername,
}

impl From<account_link::Model> for AccountLink {
    fn from(link: account_link::Model) -> Self {
        AccountLink {
            state: match link.state {
                StoredState::Linked => LinkState::Linked,
                StoredState::NotFound => LinkState::NotFound,
                StoredState::Ambiguous => LinkState::Ambiguous,
            },
            via: match link.via {
                Some(StoredVia::CompanyId) => Some(LinkVia::CompanyId),
                Some(StoredVia::EchoUsername) => Some(LinkVia::EchoUsername),
                None => None,
            },
            company_id: link.company_id.map(ID::from),
            company_identifier: link.company_identifier,
            company_name: link.company_name,
            reason: link.reason,
            synced_at: link.synced_at,
        }
    }
}

impl Plain for AccountLink {
    type Of = Self;

    fn field(&self, name: &str, _: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
        match name {
            "state" => out.item(self.state),
            "via" => match self.via {
                Some(via) => out.item(via),
                None => out.null(),
            },
            "companyId" => out.opt_str(self.company_id.as_deref().map(String::as_str)),
            "companyIdentifier" => out.opt_str(self.company_identifier.as_deref()),
            "companyName" => out.opt_str(self.company_name.as_deref()),
            "reason" => out.str(&self.reason),
            "syncedAt" => out.time(&self.synced_at),
            _ => None,
        }
    }
}

/// Which ConnectWise company an account bills to, and why.
#[derive(SimpleObject)]
pub struct AccountLink {
    pub state: LinkState,
    pub via: Option<LinkVia>,
    pub company_id: Option<ID>,
    pub company_identifier: Option<String>,
    pub company_name: Option<String>,
    /// How it was linked, or why it was not.
    pub reason: String,
    pub synced_at: DateTime<Utc>,
}

/// An account's subscription to a product, on a plan (with its account's page's reading
/// ahead).
pub struct Subscription(pub subscription::Model, Ahead);

/// A subscription's fields, plain when its page read its product and plan ahead (`now`).
struct SubscriptionFields<'a>(&'a subscription::Model, &'a Ahead);

impl Plain for SubscriptionFields<'_> {
    type Of = Subscription;

    fn field(&self, name: &str, ctx: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
        let (subscription, ahead) = (self.0, self.1.as_ref()?);
        match name {
            "id" => out.id(subscription.id),
            "product" => {
                let product = ahead.product(subscription.product_id)?;
                now::object(&ProductFields(product), ctx, out)
            }
            "plan" => match subscription.plan_id {
                Some(id) => now::object(&PlanFields(ahead.plan(id)?), ctx, out),
                None => out.null(),
            },
            _ => None,
        }
    }
}

#[Object(name = "AccountSubscription")]
impl Subscription {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn product(&self, ctx: &Context<'_>) -> Result<Product> {
        let id = self.0.product_id;
        match self.1.as_ref().and_then(|a| a.product(id)) {
            Some(product) => Ok(Product(product.clone())),
            None => Product::load(ctx, id).await,
        }
    }
    async fn plan(&self, ctx: &Context<'_>) -> Result<Option<Plan>> {
        let ahead = self.1.as_ref().zip(self.0.plan_id);
        match ahead.and_then(|(a, id)| a.plan(id)) {
            Some(plan) => Ok(Some(Plan(plan.clone()))),
            None => Plan::load(ctx, self.0.plan_id).await,
        }
    }
}

/// A sample (with its account's page's reading ahead).
pub(crate) struct UsageSample(pub usage::Sample, pub Ahead);

impl Plain for UsageSample {
    type Of = Self;

    fn field(&self, name: &str, ctx: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
        SampleFields(&self.0, &self.1).field(name, ctx, out)
    }
}

/// A sample's fields are plain when its metric was read ahead: a page's 300 samples are
/// answered at once (`now`).
struct SampleFields<'a>(&'a usage::Sample, &'a Ahead);

impl Plain for SampleFields<'_> {
    type Of = UsageSample;

    fn field(&self, name: &str, ctx: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
        let sample = self.0;
        match name {
            "quantity" => out.float(sample.quantity),
            "measuredAt" => out.time(&sample.measured_at),
            "metric" => {
                let metric = self.1.as_ref()?.metric(sample.metric_id)?;
                now::object(&MetricFields(metric), ctx, out)
            }
            _ => None,
        }
    }
}

#[Object]
impl UsageSample {
    async fn metric(&self, ctx: &Context<'_>) -> Result<Metric> {
        if let Some(metric) = self.1.as_ref().and_then(|a| a.metric(self.0.metric_id)) {
            return Ok(Metric(metric.clone()));
        }
        loaders(ctx)
            .metric
            .load_one(self.0.metric_id)
            .await?
            .map(Metric)
            .ok_or_else(|| AppError::not_found("metric", self.0.metric_id).into())
    }
    /// In the metric's unit.
    async fn quantity(&self) -> f64 {
        self.0.quantity
    }
    async fn measured_at(&self) -> DateTime<Utc> {
        self.0.measured_at
    }
}

pub(crate) type AccountConnection = Connection<OpaqueCursor<String>, Now<Account>, Totals>;

#[derive(InputObject)]
pub struct AccountInput {
    /// The account's unique name at the vendor; an existing account is updated.
    pub name: String,
    pub link_identifier: Option<String>,
    /// Replaces the account's subscriptions.
    pub subscriptions: Vec<SubscriptionInput>,
}

#[derive(InputObject)]
pub struct SubscriptionInput {
    pub product_id: ID,
    pub plan_id: Option<ID>,
}

#[derive(InputObject)]
pub struct UsageInput {
    /// The account's name.
    pub account: String,
    pub metric_id: ID,
    /// In the metric's unit; counts must be whole numbers.
    pub quantity: f64,
    /// When the vendor measured it; kept to the second.
    pub measured_at: DateTime<Utc>,
}

#[derive(SimpleObject)]
pub(crate) struct DeleteAccountsPayload {
    /// Accounts that existed and were deleted.
    pub deleted: i32,
}

#[derive(SimpleObject)]
pub(crate) struct RecordUsagePayload {
    /// Samples written (new or replacing one with the same account, metric and time).
    pub recorded: i32,
}

fn account_row(index: usize, row: AccountInput) -> AppResult<NewAccount> {
    let at = |e: AppError| e.at_row("input", index);
    let subscriptions = row
        .subscriptions
        .iter()
        .enumerate()
        .map(|(s, sub)| {
            Ok(NewSubscription {
                product_id: input::id(&format!("subscriptions[{s}].productId"), &sub.product_id)?,
                plan_id: input::ids(&format!("subscriptions[{s}].planId"), sub.plan_id.as_ref())?,
            })
        })
        .collect::<AppResult<_>>()
        .map_err(at)?;
    Ok(NewAccount {
        name: input::name("name", &row.name).map_err(at)?,
        link_identifier: input::note("linkIdentifier", row.link_identifier.as_deref())
            .map_err(at)?,
        subscriptions,
    })
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    async fn account(&self, ctx: &Context<'_>, id: ID) -> Result<Account> {
        let id = input::id("id", &id)?;
        loaders(ctx)
            .account
            .load_one(id)
            .await?
            .map(Account::alone)
            .ok_or_else(|| AppError::not_found("account", id).into())
    }
    /// Accounts by name, a page at a time, optionally only those subscribed to a service,
    /// product or plan, or whose name or link identifier contains `search`.
    #[allow(clippy::too_many_arguments)]
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
        service_id: Option<ID>,
        product_id: Option<ID>,
        plan_id: Option<ID>,
        search: Option<String>,
        link_state: Option<LinkState>,
    ) -> Result<AccountConnection> {
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(AppError::bad_input(
                "first",
                format!("give 1 to {MAX_PAGE} (default {DEFAULT_PAGE})"),
            )
            .into());
        }
        let after = input::cursor::<String>(after)?;
        // Our cursors hold an account name; anything else (a NUL PostgreSQL cannot even
        // compare) was not handed out by us.
        if after
            .as_deref()
            .is_some_and(|name| input::text("after", name, input::NAME).is_err())
        {
            return Err(AppError::bad_input("after", "is not a cursor from this API").into());
        }
        let filter = AccountFilter {
            service_id: input::ids("serviceId", service_id.as_ref())?,
            product_id: input::ids("productId", product_id.as_ref())?,
            plan_id: input::ids("planId", plan_id.as_ref())?,
            search: input::note("search", search.as_deref())?,
            link_state: link_state.map(LinkState::stored),
        };
        // `totalCount` is the only reader of the count; unasked, it is not worked out.
        let count = ctx.look_ahead().field("totalCount").exists();
        let links = prefetch::accounts_links(ctx);
        let (page, links) = accounts::page(
            scope(ctx),
            &filter,
            after.as_deref(),
            first as u64,
            count,
            links,
        )
        .await?;
        let ahead = Some(prefetch::accounts(ctx, &page.rows, links).await?);
        Ok(input::connection(page, after.is_some(), |a| {
            (a.name.clone(), Now(Account(a, ahead.clone())))
        }))
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates or updates up to 1,000 accounts by name with their subscriptions. A bad row
    /// is reported by index (`extensions.index`) and nothing of the batch is written.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn upsert_accounts(
        &self,
        ctx: &Context<'_>,
        input: Vec<AccountInput>,
    ) -> Result<Vec<Account>> {
        let rows = input
            .into_iter()
            .enumerate()
            .map(|(i, row)| account_row(i, row))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(accounts::upsert(scope(ctx), rows)
            .await?
            .into_iter()
            .map(Account::alone)
            .collect())
    }

    /// Deletes accounts by name, with their subscriptions and usage history (for
    /// customers who left). Unknown names are ignored.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn delete_accounts(
        &self,
        ctx: &Context<'_>,
        names: Vec<String>,
    ) -> Result<DeleteAccountsPayload> {
        for (i, name) in names.iter().enumerate() {
            input::text("", name, input::NAME).map_err(|e| e.at_row("names", i))?;
        }
        let deleted = accounts::delete(scope(ctx), &names).await?;
        Ok(DeleteAccountsPayload {
            deleted: i32::try_from(deleted).unwrap_or(i32::MAX),
        })
    }

    /// Records up to 1,000 usage samples. Idempotent on (account, metric, measuredAt): a
    /// repeat replaces the quantity. A bad row is reported by index and nothing of the
    /// batch is written.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn record_usage(
        &self,
        ctx: &Context<'_>,
        input: Vec<UsageInput>,
    ) -> Result<RecordUsagePayload> {
        let rows = input
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                let at = |e: AppError| e.at_row("input", i);
                input::text("account", &row.account, input::NAME).map_err(at)?;
                Ok(NewUsage {
                    account: row.account,
                    metric_id: input::id("metricId", &row.metric_id).map_err(at)?,
                    quantity: row.quantity,
                    measured_at: row.measured_at,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let recorded = usage::record(scope(ctx), rows).await?;
        Ok(RecordUsagePayload {
            recorded: i32::try_from(recorded).unwrap_or(i32::MAX),
        })
    }
}
