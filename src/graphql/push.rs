//! Preview and push, the run log, progress over graphql-ws, and the schedule.

use async_graphql::connection::{Connection, OpaqueCursor};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

use super::guard::MinRole;
use super::input::Totals;
use super::lines::{self, CompanyLines, Facts, PushMoney, PushSummary};
use super::services::Service;
use super::{audit, budget};
use super::{input, loaders, pusher, scope, viewer};
use crate::auth::Role;
use crate::db::Scope;
use crate::db::entity::{push_line, push_run, push_schedule, push_settings};
use crate::db::ownership;
use crate::db::push::{self as runs, LineFilter, Trigger};
use crate::db::schedules::{self, ScheduleInput};
use crate::domain;
use crate::domain::push::SkipReason as PlanSkip;
use crate::domain::push::{Action, Line};
use crate::domain::schedule::Schedule;
use crate::domain::{
    LineAction as StoredAction, LineOutcome as StoredOutcome, RunStatus, RunTrigger,
};
use crate::error::AppError;
use crate::push::previews::{self, Preview};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
#[graphql(remote = "crate::domain::RunStatus")]
pub(crate) enum PushStatus {
    Running,
    Succeeded,
    Partial,
    Failed,
    Cancelled,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::LineAction")]
pub(crate) enum PushAction {
    Update,
    Create,
    Unchanged,
    /// An addition billbridge owns that no mapping wants any more: set to 0, or cancelled
    /// from next month (`retireMode`).
    Retire,
    Skip,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::SkipReason")]
pub enum SkipReason {
    /// The account has no ConnectWise company (or was never synced).
    NotLinked,
    /// Several companies claim the account.
    AmbiguousCompany,
    /// No mapping covers the account's product and plan.
    NoMapping,
    /// The mapping is billed by the legacy platform.
    ManagedExternally,
    /// The level has no active cross-reference for the metric.
    NoCrossReference,
    /// The company has no active agreement of the cross-referenced type.
    NoAgreement,
    /// The company has two or more such agreements; billbridge will not guess.
    AmbiguousAgreement,
    /// No usage was recorded for the metric.
    NoUsage,
    /// An addition for the product still bills on the agreement but is not billbridge's to
    /// change (not `Billable`, or cancelled from a later date), or ConnectWise returned an
    /// addition there that billbridge cannot read: nothing is written beside it.
    AdditionNotAdoptable,
    /// The usage adds up to something that is not a quantity (not a finite number ≥ 0):
    /// nothing is sent, and the run ends `PARTIAL`.
    InvalidQuantity,
    /// A person changed the addition in ConnectWise since billbridge wrote it, and the
    /// tenant's `onManualEdit` is `SKIP`.
    Drifted,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::LineOutcome")]
pub enum LineOutcome {
    /// Still to write.
    Pending,
    /// Written.
    Done,
    /// Already right in ConnectWise.
    Unchanged,
    Skipped,
    Failed,
    /// Would be written (dry run).
    Planned,
    /// Not written: the run was cancelled.
    Cancelled,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::RunTrigger")]
pub(crate) enum PushTrigger {
    User,
    Schedule,
    Cli,
}

/// One line of a plan or of a run: what is (or would be) written where, or why not.
#[derive(SimpleObject)]
pub struct PushLine {
    /// Position in the run (null in a preview).
    pub seq: Option<i32>,
    /// The accounts whose usage adds up on this line.
    pub accounts: Vec<String>,
    /// The subscriptions it serves: product / plan (`Intronis Backup Plan / IB-500`).
    pub subscription: Option<String>,
    pub company_id: Option<ID>,
    pub company_name: Option<String>,
    /// The metric's cross-reference type, e.g. `BackupUsage`.
    pub metric: Option<String>,
    pub level: Option<String>,
    pub agreement_id: Option<ID>,
    pub agreement_name: Option<String>,
    /// The agreement this one bills through, when it is a child agreement.
    pub parent_agreement_id: Option<ID>,
    pub parent_agreement_name: Option<String>,
    /// The addition written (or to update); null when one is to be created.
    pub addition_id: Option<ID>,
    pub product_id: Option<ID>,
    pub product_identifier: Option<String>,
    pub current_quantity: Option<f64>,
    pub new_quantity: Option<f64>,
    pub action: PushAction,
    pub reason: Option<SkipReason>,
    pub detail: String,
    /// What billbridge last wrote to the addition, when it owns it.
    pub last_written_quantity: Option<f64>,
    /// ConnectWise holds another quantity than billbridge last wrote: a person edited it
    /// (`currentQuantity` is theirs, `lastWrittenQuantity` billbridge's, `newQuantity` what
    /// the push would write).
    pub drifted: bool,
    /// When a new addition starts (a successor starts when the addition it follows is
    /// cancelled from), or when a retired one is cancelled from.
    pub effective_date: Option<DateTime<Utc>>,
    /// What one unit bills a month: the addition's `unitPrice`, or the catalog item's
    /// price for a new one; null when ConnectWise did not say.
    pub unit_price: Option<f64>,
    /// The monthly amount on the addition now, and after the line (a skipped line changes
    /// nothing); null without a unit price.
    pub monthly_before: Option<f64>,
    pub monthly_after: Option<f64>,
    pub monthly_change: Option<f64>,
    /// Null in a preview.
    pub outcome: Option<LineOutcome>,
    /// ConnectWise's error, for failed lines.
    pub error: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// (before, after, change) of a line's monthly amount.
fn money(m: Option<(f64, f64)>) -> (Option<f64>, Option<f64>, Option<f64>) {
    match m {
        Some((before, after)) => (Some(before), Some(after), Some(after - before)),
        None => (None, None, None),
    }
}

/// A planned action as the API names it, with its skip reason.
pub(crate) fn action_of(action: Action) -> (PushAction, Option<SkipReason>) {
    match action {
        Action::Update => (PushAction::Update, None),
        Action::Create => (PushAction::Create, None),
        Action::Unchanged => (PushAction::Unchanged, None),
        Action::Retire => (PushAction::Retire, None),
        Action::Skip(r) => (PushAction::Skip, Some(SkipReason::from(r))),
    }
}

impl From<Line> for PushLine {
    fn from(line: Line) -> Self {
        let (monthly_before, monthly_after, monthly_change) = money(line.money());
        let (action, reason) = action_of(line.action);
        PushLine {
            seq: None,
            accounts: line.accounts,
            subscription: line.subscription,
            company_id: line.company_id.map(ID::from),
            company_name: line.company_name,
            metric: line.metric,
            level: line.level,
            agreement_id: line.agreement_id.map(ID::from),
            agreement_name: line.agreement_name,
            parent_agreement_id: line.parent_agreement_id.map(ID::from),
            parent_agreement_name: line.parent_agreement_name,
            addition_id: line.addition_id.map(ID::from),
            product_id: line.product_id.map(ID::from),
            product_identifier: line.product_identifier,
            current_quantity: line.current_quantity,
            new_quantity: line.new_quantity,
            action,
            reason,
            detail: line.detail,
            last_written_quantity: line.last_written_quantity,
            drifted: line.drifted,
            effective_date: line.effective_date,
            unit_price: line.unit_price,
            monthly_before,
            monthly_after,
            monthly_change,
            outcome: None,
            error: None,
            finished_at: None,
        }
    }
}

impl From<push_line::Model> for PushLine {
    fn from(line: push_line::Model) -> Self {
        let action = PushAction::from(line.action);
        let (monthly_before, monthly_after, monthly_change) = money(domain::push::monthly(
            lines::writes(action),
            line.current_quantity,
            line.new_quantity,
            line.unit_price,
        ));
        PushLine {
            seq: Some(line.seq),
            accounts: line.accounts.split(", ").map(str::to_owned).collect(),
            subscription: line.subscription,
            company_id: line.company_id.map(ID::from),
            company_name: line.company_name,
            metric: line.metric,
            level: line.level,
            agreement_id: line.agreement_id.map(ID::from),
            agreement_name: line.agreement_name,
            parent_agreement_id: line.parent_agreement_id.map(ID::from),
            parent_agreement_name: line.parent_agreement_name,
            addition_id: line.addition_id.map(ID::from),
            product_id: line.product_id.map(ID::from),
            product_identifier: line.product_identifier,
            current_quantity: line.current_quantity,
            new_quantity: line.new_quantity,
            action,
            reason: line.reason.map(SkipReason::from),
            detail: line.detail,
            last_written_quantity: line.last_written_quantity,
            drifted: line.drifted,
            effective_date: line.effective_date,
            unit_price: line.unit_price,
            monthly_before,
            monthly_after,
            monthly_change,
            outcome: Some(line.outcome.into()),
            error: line.error,
            finished_at: line.finished_at,
        }
    }
}

/// A plan: what a push would write now. It is computed once and reused for a minute
/// (`computedAt`, `freshUntil`), so paging through its lines reads ConnectWise once.
/// Cursors are positions among the lines (or companies) the same filter selects.
pub(crate) struct PushPreview(Arc<Preview>);

#[Object]
impl PushPreview {
    /// When ConnectWise was read for this plan.
    async fn computed_at(&self) -> DateTime<Utc> {
        self.0.computed_at
    }
    /// Until when `previewPush` answers with this plan (unless asked to `refresh`).
    async fn fresh_until(&self) -> DateTime<Utc> {
        self.0.computed_at + previews::FRESH_FOR
    }
    /// Counts over all the plan's lines, per action and skip reason.
    async fn summary(&self) -> PushSummary {
        lines::summarize(self.0.lines.iter().map(Facts::from))
    }
    /// The monthly amounts the lines mean, overall and per company.
    async fn money(&self) -> PushMoney {
        lines::tally(self.0.lines.iter().map(Facts::from))
    }
    /// The companies with lines matching the filter, by name (lines without a company
    /// last), each with those lines counted.
    #[allow(clippy::too_many_arguments)]
    async fn companies(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
        action: Option<PushAction>,
        reason: Option<SkipReason>,
        service_id: Option<ID>,
        #[graphql(default = false)] changes_only: bool,
    ) -> Result<Connection<OpaqueCursor<i32>, CompanyLines, Totals>> {
        let args = lines::Args {
            action,
            reason,
            service_id: service_id.as_ref(),
            changes_only,
            ..Default::default()
        };
        let all = self.0.lines.iter().map(Facts::from);
        Ok(lines::company_page(scope(ctx), all, (first, after), args).await?)
    }
    /// The plan's lines in order, those matching every filter given.
    #[allow(clippy::too_many_arguments)]
    async fn lines(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
        after: Option<String>,
        action: Option<PushAction>,
        reason: Option<SkipReason>,
        company_id: Option<ID>,
        #[graphql(default = false)] without_company: bool,
        service_id: Option<ID>,
        #[graphql(default = false)] changes_only: bool,
    ) -> Result<Connection<OpaqueCursor<i32>, PushLine, Totals>> {
        let (first, after) = (input::page_size(first, 1000)?, input::cursor(after)?);
        let filter = lines::Args {
            action,
            reason,
            company_id: company_id.as_ref(),
            without_company,
            service_id: service_id.as_ref(),
            changes_only,
        }
        .filter(scope(ctx))
        .await?;
        let matching = self
            .0
            .lines
            .iter()
            .filter(|l| filter.matches(&Facts::from(*l)));
        let page = lines::page(matching, after, first);
        Ok(input::connection(page, after.is_some(), |(i, l)| {
            (i, PushLine::from(l.clone()))
        }))
    }
}

#[derive(SimpleObject)]
pub(crate) struct PushCounts {
    pub total: i32,
    /// Lines written (retired ones included).
    pub done: i32,
    /// `RETIRE` lines written.
    pub retired: i32,
    pub unchanged: i32,
    /// Skipped, planned (dry run) or cancelled lines.
    pub skipped: i32,
    pub failed: i32,
    /// Lines still to write.
    pub pending: i32,
}

fn counts(run: &push_run::Model) -> PushCounts {
    PushCounts {
        total: run.total_lines,
        done: run.done,
        retired: run.retired,
        unchanged: run.unchanged,
        skipped: run.skipped,
        failed: run.failed,
        pending: (run.total_lines - run.done - run.unchanged - run.skipped - run.failed).max(0),
    }
}

/// A run, with its lines read once for whichever of `money`, `summary` and `companies` an
/// operation selects.
pub struct PushRun(pub push_run::Model, OnceCell<Vec<push_line::Model>>);

impl From<push_run::Model> for PushRun {
    fn from(run: push_run::Model) -> Self {
        PushRun(run, OnceCell::new())
    }
}

impl PushRun {
    async fn all_lines(&self, ctx: &Context<'_>) -> Result<&[push_line::Model]> {
        let lines = self
            .1
            .get_or_try_init(|| runs::all_lines(scope(ctx), self.0.id))
            .await?;
        Ok(lines)
    }
}

#[Object]
impl PushRun {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn status(&self) -> PushStatus {
        self.0.status.into()
    }
    async fn trigger(&self) -> PushTrigger {
        self.0.trigger.into()
    }
    /// Who started it (a token's subject), or `schedule`.
    async fn triggered_by(&self) -> &str {
        &self.0.triggered_by
    }
    /// The service pushed; null for all services.
    async fn service(&self, ctx: &Context<'_>) -> Result<Option<Service>> {
        let Some(id) = self.0.service_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).service.load_one(id).await?.map(Service::alone))
    }
    async fn dry_run(&self) -> bool {
        self.0.dry_run
    }
    /// The scheduled slot it ran for.
    async fn slot_at(&self) -> Option<DateTime<Utc>> {
        self.0.slot_at
    }
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
    async fn duration_ms(&self) -> Option<i64> {
        self.0
            .finished_at
            .map(|f| (f - self.0.started_at).num_milliseconds())
    }
    /// Why it failed, or what to do next.
    async fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }
    async fn counts(&self) -> PushCounts {
        counts(&self.0)
    }
    /// What the run's lines mean a month (before → after), overall and per company.
    async fn money(&self, ctx: &Context<'_>) -> Result<PushMoney> {
        let all = self.all_lines(ctx).await?;
        Ok(lines::tally(all.iter().map(Facts::from)))
    }
    /// Counts over all the run's lines, per action and skip reason.
    async fn summary(&self, ctx: &Context<'_>) -> Result<PushSummary> {
        let all = self.all_lines(ctx).await?;
        Ok(lines::summarize(all.iter().map(Facts::from)))
    }
    /// The companies with lines matching the filter, by name (lines without a company
    /// last), each with those lines counted.
    #[allow(clippy::too_many_arguments)]
    async fn companies(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
        action: Option<PushAction>,
        reason: Option<SkipReason>,
        service_id: Option<ID>,
        #[graphql(default = false)] changes_only: bool,
    ) -> Result<Connection<OpaqueCursor<i32>, CompanyLines, Totals>> {
        let args = lines::Args {
            action,
            reason,
            service_id: service_id.as_ref(),
            changes_only,
            ..Default::default()
        };
        let all = self.all_lines(ctx).await?;
        let all = all.iter().map(Facts::from);
        Ok(lines::company_page(scope(ctx), all, (first, after), args).await?)
    }
    /// The run's lines in order, those matching every filter given.
    #[allow(clippy::too_many_arguments)]
    async fn lines(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
        after: Option<String>,
        action: Option<PushAction>,
        outcome: Option<LineOutcome>,
        reason: Option<SkipReason>,
        company_id: Option<ID>,
        #[graphql(default = false)] without_company: bool,
        service_id: Option<ID>,
        #[graphql(default = false)] changes_only: bool,
    ) -> Result<Connection<OpaqueCursor<i32>, PushLine, Totals>> {
        let first = input::page_size(first, 1000)?;
        let after = input::cursor::<i32>(after)?;
        let filter = lines::Args {
            action,
            reason,
            company_id: company_id.as_ref(),
            without_company,
            service_id: service_id.as_ref(),
            changes_only,
        }
        .filter(scope(ctx))
        .await?;
        let stored = LineFilter {
            action: filter.action.map(StoredAction::from),
            outcome: outcome.map(StoredOutcome::from),
            reason: filter.reason.map(PlanSkip::from),
            company: filter.company,
            products: filter.products,
            changes_only: filter.changes_only,
        };
        let page = runs::lines_page(scope(ctx), self.0.id, stored, after, first).await?;
        Ok(input::connection(page, after.is_some(), |l| {
            (l.seq, PushLine::from(l))
        }))
    }
}

/// When scheduled pushes run.
pub(crate) struct PushSchedule {
    row: Option<push_schedule::Model>,
    last_slot: Option<DateTime<Utc>>,
}

const DEFAULT_TIME: &str = "02:00";
const DEFAULT_ZONE: &str = "UTC";

#[Object]
impl PushSchedule {
    /// Off until an admin or editor turns it on.
    async fn enabled(&self) -> bool {
        self.row.as_ref().is_some_and(|r| r.enabled)
    }
    /// Daily at this time (HH:MM) in `timeZone`, unless `cron` is set.
    async fn time_of_day(&self) -> &str {
        self.row.as_ref().map_or(DEFAULT_TIME, |r| &r.time_of_day)
    }
    async fn time_zone(&self) -> &str {
        self.row.as_ref().map_or(DEFAULT_ZONE, |r| &r.time_zone)
    }
    /// A five-field cron expression in `timeZone`, used instead of the daily time.
    async fn cron(&self) -> Option<&str> {
        self.row.as_ref().and_then(|r| r.cron.as_deref())
    }
    /// When the next scheduled push starts; null while disabled.
    async fn next_run_at(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        let row = self.row.as_ref().filter(|r| r.enabled)?;
        let schedule =
            Schedule::parse(&row.time_of_day, &row.time_zone, row.cron.as_deref()).ok()?;
        schedule.next_after(pusher(ctx).clock.now())
    }
    /// The last slot that fired.
    async fn last_slot_at(&self) -> Option<DateTime<Utc>> {
        self.last_slot
    }
    async fn updated_by(&self) -> Option<&str> {
        self.row.as_ref().map(|r| r.updated_by.as_str())
    }
    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.row.as_ref().map(|r| r.updated_at)
    }
}

async fn schedule_of(scope: &Scope) -> Result<PushSchedule> {
    Ok(PushSchedule {
        row: schedules::get(scope).await?,
        last_slot: schedules::last_slot(scope).await?.map(|s| s.slot_at),
    })
}

#[derive(InputObject)]
pub struct PushScheduleInput {
    pub enabled: bool,
    /// HH:MM, default 02:00.
    pub time_of_day: Option<String>,
    /// An IANA time zone, default UTC.
    pub time_zone: Option<String>,
    /// Five fields (minute hour day-of-month month day-of-week); overrides the daily time.
    pub cron: Option<String>,
}

#[derive(Default)]
pub struct PushQuery;

#[Object]
impl PushQuery {
    /// What a push would write now (reads ConnectWise, writes nothing); all services when
    /// `serviceId` is left out. A plan computed in the last minute on this server is
    /// answered again, so paging through it reads ConnectWise once; `refresh` reads anew.
    async fn preview_push(
        &self,
        ctx: &Context<'_>,
        service_id: Option<ID>,
        #[graphql(default = false)] refresh: bool,
    ) -> Result<PushPreview> {
        let service = input::ids("serviceId", service_id.as_ref())?;
        let pusher = pusher(ctx);
        let recent = (!refresh)
            .then(|| {
                let tenant = scope(ctx).tenant_id();
                pusher.previews.get(tenant, service, pusher.clock.now())
            })
            .flatten();
        let preview = match recent {
            Some(preview) => preview,
            None => {
                budget::read(ctx, |counted| async move {
                    counted.fresh_preview(scope(ctx), service).await
                })
                .await?
            }
        };
        Ok(PushPreview(preview))
    }

    async fn push_run(&self, ctx: &Context<'_>, id: ID) -> Result<PushRun> {
        Ok(PushRun::from(
            runs::get(scope(ctx), input::id("id", &id)?).await?,
        ))
    }

    /// Runs, newest first.
    async fn push_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
        status: Option<PushStatus>,
    ) -> Result<Connection<OpaqueCursor<i64>, PushRun, Totals>> {
        let first = input::page_size(first, 100)?;
        let after = input::cursor::<i64>(after)?;
        let page = runs::page(scope(ctx), status.map(RunStatus::from), after, first).await?;
        Ok(input::connection(page, after.is_some(), |r| {
            (r.id, PushRun::from(r))
        }))
    }

    async fn push_schedule(&self, ctx: &Context<'_>) -> Result<PushSchedule> {
        schedule_of(scope(ctx)).await
    }

    /// How pushes treat owned additions no mapping wants and additions edited by hand.
    async fn push_settings(&self, ctx: &Context<'_>) -> Result<PushSettings> {
        let (settings, row) = ownership::settings(scope(ctx)).await?;
        Ok(PushSettings::of(settings, row))
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum RetireMode {
    /// Set its quantity to 0 (the line stays, billing nothing).
    Zero,
    /// Cancel it from the first of next month (it bills the current month).
    Cancel,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum OnManualEdit {
    /// Write the computed quantity; the preview marks the line drifted.
    Overwrite,
    /// Leave the person's quantity; the line is skipped as `DRIFTED`.
    Skip,
}

#[derive(SimpleObject)]
pub(crate) struct PushSettings {
    /// What a push does with an addition billbridge owns that no mapping wants any more.
    pub retire_mode: RetireMode,
    /// What a push does with an owned addition a person changed since billbridge wrote it.
    pub on_manual_edit: OnManualEdit,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl PushSettings {
    fn of(settings: domain::push::Settings, row: Option<push_settings::Model>) -> Self {
        PushSettings {
            retire_mode: match settings.retire_mode {
                domain::RetireMode::Zero => RetireMode::Zero,
                domain::RetireMode::Cancel => RetireMode::Cancel,
            },
            on_manual_edit: match settings.on_manual_edit {
                domain::OnManualEdit::Overwrite => OnManualEdit::Overwrite,
                domain::OnManualEdit::Skip => OnManualEdit::Skip,
            },
            updated_by: row.as_ref().map(|r| r.updated_by.clone()),
            updated_at: row.map(|r| r.updated_at),
        }
    }
}

#[derive(InputObject)]
pub(crate) struct PushSettingsInput {
    pub retire_mode: RetireMode,
    pub on_manual_edit: OnManualEdit,
}

#[derive(Default)]
pub struct PushMutation;

#[Object]
impl PushMutation {
    /// Starts a push and returns the run at once (follow it with `pushRunProgress` or
    /// `pushRun`). `CONFLICT` while another run of the tenant is running.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn push_usage(
        &self,
        ctx: &Context<'_>,
        service_id: Option<ID>,
        #[graphql(default = false)] dry_run: bool,
    ) -> Result<PushRun> {
        let service = input::ids("serviceId", service_id.as_ref())?;
        let trigger = Trigger {
            kind: RunTrigger::User,
            by: viewer(ctx).subject.clone(),
            slot_at: None,
        };
        Ok(PushRun::from(
            pusher(ctx)
                .start(scope(ctx), service, dry_run, trigger)
                .await?,
        ))
    }

    /// Stops a running push after the writes in flight; the rest are marked cancelled.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn cancel_push_run(&self, ctx: &Context<'_>, id: ID) -> Result<PushRun> {
        Ok(PushRun::from(
            runs::request_cancel(scope(ctx), input::id("id", &id)?).await?,
        ))
    }

    /// Sets how pushes treat owned additions no mapping wants (`retireMode`) and additions
    /// a person edited (`onManualEdit`).
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn update_push_settings(
        &self,
        ctx: &Context<'_>,
        input: PushSettingsInput,
    ) -> Result<PushSettings> {
        let settings = domain::push::Settings {
            retire_mode: match input.retire_mode {
                RetireMode::Zero => domain::RetireMode::Zero,
                RetireMode::Cancel => domain::RetireMode::Cancel,
            },
            on_manual_edit: match input.on_manual_edit {
                OnManualEdit::Overwrite => domain::OnManualEdit::Overwrite,
                OnManualEdit::Skip => domain::OnManualEdit::Skip,
            },
        };
        let (who, now) = (&viewer(ctx).subject, pusher(ctx).clock.now());
        let row = audit::audited(ctx, |scope| async move {
            let row = ownership::save_settings(&scope, settings, who, now).await?;
            let summary = format!(
                "push settings: retire {}, manual edits {}",
                settings.retire_mode.as_str(),
                settings.on_manual_edit.as_str()
            );
            let entry = audit::entry("push_settings", "update", Some(row.id), summary);
            Ok((row, entry))
        })
        .await?;
        Ok(PushSettings::of(settings, Some(row)))
    }

    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn update_push_schedule(
        &self,
        ctx: &Context<'_>,
        input: PushScheduleInput,
    ) -> Result<PushSchedule> {
        let setting = |field, value: Option<String>, default: &str| match value {
            Some(v) => input::text(field, &v, input::SETTING).map(str::to_owned),
            None => Ok(default.to_owned()),
        };
        let time_of_day = setting("timeOfDay", input.time_of_day, DEFAULT_TIME)?;
        let time_zone = setting("timeZone", input.time_zone, DEFAULT_ZONE)?;
        let cron = input
            .cron
            .map(|c| input::text("cron", &c, input::SETTING).map(|c| c.trim().to_owned()))
            .transpose()?
            .filter(|c| !c.is_empty());
        Schedule::parse(&time_of_day, &time_zone, cron.as_deref())
            .and_then(|s| s.check_fires(pusher(ctx).clock.now()))
            .map_err(|e| AppError::bad_input(e.field, e.message))?;
        let saved = ScheduleInput {
            enabled: input.enabled,
            time_of_day: time_of_day.trim().to_owned(),
            time_zone: time_zone.trim().to_owned(),
            cron,
        };
        let summary = match &saved.cron {
            Some(cron) => format!("schedule: cron {cron:?} in {}", saved.time_zone),
            None => format!(
                "schedule: daily at {} {}",
                saved.time_of_day, saved.time_zone
            ),
        } + if saved.enabled {
            ", enabled"
        } else {
            ", disabled"
        };
        let (who, now) = (&viewer(ctx).subject, pusher(ctx).clock.now());
        audit::audited(ctx, |scope| async move {
            let row = schedules::save(&scope, saved, who, now).await?;
            Ok((
                (),
                audit::entry("schedule", "update", Some(row.id), summary),
            ))
        })
        .await?;
        schedule_of(scope(ctx)).await
    }
}

/// A run's progress as it goes.
#[derive(SimpleObject, Clone, PartialEq)]
pub(crate) struct PushRunProgress {
    pub run_id: ID,
    pub status: PushStatus,
    pub total: i32,
    pub done: i32,
    pub unchanged: i32,
    pub skipped: i32,
    pub failed: i32,
    pub pending: i32,
    /// True on the last message: the run has ended.
    pub finished: bool,
}

fn progress(run: &push_run::Model) -> PushRunProgress {
    let c = counts(run);
    let status = PushStatus::from(run.status);
    PushRunProgress {
        run_id: run.id.into(),
        status,
        total: c.total,
        done: c.done,
        unchanged: c.unchanged,
        skipped: c.skipped,
        failed: c.failed,
        pending: c.pending,
        finished: status != PushStatus::Running,
    }
}

/// How often a progress stream looks at the run (it may execute on another replica).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

#[derive(Default)]
pub struct PushSubscription;

#[Subscription]
impl PushSubscription {
    /// Lines done of total and the counts, each time they change, ending with the final
    /// status.
    async fn push_run_progress(
        &self,
        ctx: &Context<'_>,
        run_id: ID,
    ) -> Result<impl Stream<Item = PushRunProgress>> {
        let scope = scope(ctx).clone();
        let id = input::id("runId", &run_id)?;
        let first = runs::get(&scope, id).await?;
        let state = (scope, id, Some(first), None::<PushRunProgress>);
        Ok(futures_util::stream::unfold(
            state,
            |(scope, id, mut next, mut last)| async move {
                loop {
                    let run = match next.take() {
                        Some(run) => run,
                        None => {
                            if last.as_ref().is_some_and(|l| l.finished) {
                                return None;
                            }
                            tokio::time::sleep(PROGRESS_EVERY).await;
                            runs::get(&scope, id).await.ok()?
                        }
                    };
                    let current = progress(&run);
                    if last.as_ref() != Some(&current) {
                        last = Some(current.clone());
                        return Some((current, (scope, id, None, last)));
                    }
                }
            },
        ))
    }
}
