//! Filtering and totals of push lines, the same for a preview (lines in memory) and for a
//! run (lines in the database): what a line is for the filters and the totals is its
//! [`Facts`], read from either.

use async_graphql::connection::{Connection, OpaqueCursor};
use async_graphql::{ID, SimpleObject};
use std::collections::HashSet;

use super::input::{self, Totals};
use super::push::{PushAction, SkipReason, action_of};
use crate::db::entity::push_line;
use crate::db::push::Company;
use crate::db::{Page, Scope, catalog};
use crate::domain::LineAction;
use crate::domain::push::{Line, monthly};
use crate::error::{AppError, AppResult};

/// What the filters and totals look at in a line.
pub(crate) struct Facts<'a> {
    pub action: PushAction,
    pub reason: Option<SkipReason>,
    pub company_id: Option<i64>,
    pub company_name: Option<&'a str>,
    /// billbridge's product, which says the service.
    pub product: Option<i64>,
    pub drifted: bool,
    /// The monthly amount before and after, when priced.
    pub monthly: Option<(f64, f64)>,
}

impl<'a> From<&'a Line> for Facts<'a> {
    fn from(line: &'a Line) -> Self {
        let (action, reason) = action_of(line.action);
        Facts {
            action,
            reason,
            company_id: line.company_id,
            company_name: line.company_name.as_deref(),
            product: line.local_product_id,
            drifted: line.drifted,
            monthly: line.money(),
        }
    }
}

impl<'a> From<&'a push_line::Model> for Facts<'a> {
    fn from(line: &'a push_line::Model) -> Self {
        let action = PushAction::from(line.action);
        Facts {
            action,
            reason: line.reason.map(SkipReason::from),
            company_id: line.company_id,
            company_name: line.company_name.as_deref(),
            product: line.local_product_id,
            drifted: line.drifted,
            monthly: monthly(
                writes(action),
                line.current_quantity,
                line.new_quantity,
                line.unit_price,
            ),
        }
    }
}

/// The actions that write to ConnectWise.
pub(crate) fn writes(action: PushAction) -> bool {
    LineAction::WRITES.contains(&action.into())
}

/// `companyId` or `withoutCompany`, as a filter.
fn company(company_id: Option<&ID>, without_company: bool) -> AppResult<Company> {
    match (input::ids("companyId", company_id)?, without_company) {
        (Some(_), true) => Err(AppError::bad_input(
            "withoutCompany",
            "give either companyId or withoutCompany: true, not both",
        )),
        (Some(id), false) => Ok(Company::Id(id)),
        (None, true) => Ok(Company::Without),
        (None, false) => Ok(Company::Any),
    }
}

/// The lines asked for.
#[derive(Default)]
pub(crate) struct Filter {
    pub action: Option<PushAction>,
    pub reason: Option<SkipReason>,
    pub company: Company,
    /// The service's products, when a service is asked for.
    pub products: Option<HashSet<i64>>,
    /// Only lines that write (update, create, retire).
    pub changes_only: bool,
}

impl Filter {
    pub fn matches(&self, line: &Facts) -> bool {
        self.action.is_none_or(|a| a == line.action)
            && self.reason.is_none_or(|r| Some(r) == line.reason)
            && match self.company {
                Company::Any => true,
                Company::Id(id) => line.company_id == Some(id),
                Company::Without => line.company_id.is_none(),
            }
            && self
                .products
                .as_ref()
                .is_none_or(|p| line.product.is_some_and(|id| p.contains(&id)))
            && (!self.changes_only || writes(line.action))
    }
}

#[derive(SimpleObject)]
pub(crate) struct ReasonCount {
    pub reason: SkipReason,
    pub count: i32,
}

#[derive(SimpleObject)]
pub(crate) struct PushSummary {
    pub lines: i32,
    pub update: i32,
    pub create: i32,
    pub unchanged: i32,
    /// Owned additions no mapping wants any more.
    pub retire: i32,
    pub skip: i32,
    pub skipped_by_reason: Vec<ReasonCount>,
    /// Lines whose addition a person changed since billbridge wrote it.
    pub drifted: i32,
}

impl PushSummary {
    fn empty() -> Self {
        PushSummary {
            lines: 0,
            update: 0,
            create: 0,
            unchanged: 0,
            retire: 0,
            skip: 0,
            skipped_by_reason: Vec::new(),
            drifted: 0,
        }
    }

    fn add(&mut self, line: &Facts) {
        self.lines += 1;
        match line.action {
            PushAction::Update => self.update += 1,
            PushAction::Create => self.create += 1,
            PushAction::Unchanged => self.unchanged += 1,
            PushAction::Retire => self.retire += 1,
            PushAction::Skip => self.skip += 1,
        }
        if let Some(reason) = line.reason {
            match self
                .skipped_by_reason
                .iter_mut()
                .find(|r| r.reason == reason)
            {
                Some(entry) => entry.count += 1,
                None => self
                    .skipped_by_reason
                    .push(ReasonCount { reason, count: 1 }),
            }
        }
        self.drifted += i32::from(line.drifted);
    }
}

/// Counts per action and per skip reason.
pub(crate) fn summarize<'a>(lines: impl IntoIterator<Item = Facts<'a>>) -> PushSummary {
    let mut summary = PushSummary::empty();
    for line in lines {
        summary.add(&line);
    }
    summary
}

/// What a plan or a run means a month, in the agreements' currency: the amounts on the
/// additions before and after it, over the lines whose unit price ConnectWise gave.
#[derive(SimpleObject, Default, Clone, Copy)]
pub(crate) struct MonthlyAmount {
    pub before: f64,
    pub after: f64,
    pub change: f64,
}

impl MonthlyAmount {
    fn add(&mut self, (before, after): (f64, f64)) {
        self.before += before;
        self.after += after;
        self.change = self.after - self.before;
    }
}

#[derive(SimpleObject)]
pub(crate) struct CompanyMoney {
    pub company_id: Option<ID>,
    pub company_name: Option<String>,
    pub monthly: MonthlyAmount,
}

#[derive(SimpleObject)]
pub(crate) struct PushMoney {
    pub total: MonthlyAmount,
    /// Companies whose monthly amount changes, largest change first.
    pub by_company: Vec<CompanyMoney>,
    /// Lines with no unit price: not in the amounts.
    pub unpriced_lines: i32,
}

/// The monthly amounts, overall and per company.
pub(crate) fn tally<'a>(lines: impl IntoIterator<Item = Facts<'a>>) -> PushMoney {
    let mut total = MonthlyAmount::default();
    let mut by_company: Vec<CompanyMoney> = Vec::new();
    let mut unpriced = 0;
    for line in lines {
        let Some(amounts) = line.monthly else {
            if line.action != PushAction::Skip {
                unpriced += 1;
            }
            continue;
        };
        total.add(amounts);
        let company_id = line.company_id.map(ID::from);
        let entry = match by_company.iter().position(|c| c.company_id == company_id) {
            Some(i) => &mut by_company[i],
            None => {
                by_company.push(CompanyMoney {
                    company_id,
                    company_name: line.company_name.map(str::to_owned),
                    monthly: MonthlyAmount::default(),
                });
                by_company.last_mut().expect("just pushed")
            }
        };
        entry.monthly.add(amounts);
    }
    by_company.retain(|c| c.monthly.change.abs() > 1e-9);
    by_company.sort_by(|a, b| {
        b.monthly
            .change
            .abs()
            .total_cmp(&a.monthly.change.abs())
            .then_with(|| a.company_name.cmp(&b.company_name))
    });
    PushMoney {
        total,
        by_company,
        unpriced_lines: unpriced,
    }
}

/// One company's lines, counted: a group of the Push page.
#[derive(SimpleObject)]
pub(crate) struct CompanyLines {
    /// Null for the lines of accounts with no (or no single) company.
    pub company_id: Option<ID>,
    pub company_name: Option<String>,
    /// The company's lines that match the filter, per action and reason.
    pub summary: PushSummary,
    /// What those lines mean a month (priced lines only).
    pub monthly: MonthlyAmount,
}

/// The companies with lines matching `filter`, by name (lines without a company last),
/// each with its matching lines counted.
pub(crate) fn companies<'a>(
    lines: impl IntoIterator<Item = Facts<'a>>,
    filter: &Filter,
) -> Vec<CompanyLines> {
    let mut groups: Vec<CompanyLines> = Vec::new();
    let mut index: std::collections::HashMap<Option<i64>, usize> = Default::default();
    for line in lines.into_iter().filter(|l| filter.matches(l)) {
        let i = *index.entry(line.company_id).or_insert_with(|| {
            groups.push(CompanyLines {
                company_id: line.company_id.map(ID::from),
                company_name: line.company_name.map(str::to_owned),
                summary: PushSummary::empty(),
                monthly: MonthlyAmount::default(),
            });
            groups.len() - 1
        });
        let group = &mut groups[i];
        group.summary.add(&line);
        if let Some(amounts) = line.monthly {
            group.monthly.add(amounts);
        }
    }
    groups.sort_by(|a, b| {
        a.company_id
            .is_none()
            .cmp(&b.company_id.is_none())
            .then_with(|| {
                let name = |c: &CompanyLines| c.company_name.as_deref().map(str::to_lowercase);
                name(a).cmp(&name(b))
            })
            .then_with(|| a.company_id.as_deref().cmp(&b.company_id.as_deref()))
    });
    groups
}

/// A page of `items` after the position `after` (a cursor from the same filter), each item
/// with its position.
pub(crate) fn page<T>(
    items: impl Iterator<Item = T>,
    after: Option<i32>,
    first: u64,
) -> Page<(i32, T)> {
    let start = after.map_or(0, |a| u64::try_from(a).map_or(0, |a| a + 1));
    let mut rows = Vec::new();
    let mut total = 0u64;
    for (i, item) in (0i32..).zip(items) {
        total += 1;
        if i as u64 >= start && (rows.len() as u64) < first {
            rows.push((i, item));
        }
    }
    Page {
        has_next: total > start + rows.len() as u64,
        rows,
        total,
    }
}

/// The filter arguments of a preview's and a run's lines and companies.
#[derive(Default)]
pub(crate) struct Args<'a> {
    pub action: Option<PushAction>,
    pub reason: Option<SkipReason>,
    pub company_id: Option<&'a ID>,
    pub without_company: bool,
    pub service_id: Option<&'a ID>,
    pub changes_only: bool,
}

impl Args<'_> {
    /// The filter, with the service's products read.
    pub async fn filter(self, scope: &Scope) -> AppResult<Filter> {
        let company = company(self.company_id, self.without_company)?;
        let products = match input::ids("serviceId", self.service_id)? {
            Some(id) => {
                catalog::service(scope, id).await?;
                let products = catalog::products_of_services(scope, &[id]).await?;
                Some(products.into_iter().map(|p| p.id).collect())
            }
            None => None,
        };
        Ok(Filter {
            action: self.action,
            reason: self.reason,
            company,
            products,
            changes_only: self.changes_only,
        })
    }
}

/// A page of the companies with lines matching `args`, each with those lines counted.
pub(crate) async fn company_page<'a>(
    scope: &Scope,
    lines: impl Iterator<Item = Facts<'a>>,
    (first, after): (i32, Option<String>),
    args: Args<'_>,
) -> AppResult<Connection<OpaqueCursor<i32>, CompanyLines, Totals>> {
    let (first, after) = (input::page_size(first, 1000)?, input::cursor(after)?);
    let filter = args.filter(scope).await?;
    let groups = companies(lines, &filter);
    let page = page(groups.into_iter(), after, first);
    Ok(input::connection(page, after.is_some(), |row| row))
}
