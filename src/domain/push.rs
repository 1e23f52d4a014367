//! The push planner: from what billbridge knows (subscriptions, mappings, plans, latest usage,
//! levels with their cross-references, account links) and a snapshot of the ConnectWise
//! agreements and additions involved, the lines a push would write — or why it would not.
//!
//! Rules: accounts linked to one company add up per (agreement, product); an existing
//! billable addition for the product on that agreement is adopted, never duplicated; two or
//! more billable agreements of the cross-referenced type are reported, never guessed between.
//! Whether an agreement or an addition may be billed is decided here from its fields, whatever
//! the query that found it narrowed: ConnectWise's own filters are not trusted with money.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::billing::{MappingKey, PlanSize, applicable_mapping, exact, round_once};
use super::state::LineAction;
pub use super::state::SkipReason;
use super::{MetricUnit, OnManualEdit, RetireMode, UsageValue};

/// Quantities closer than this are the same quantity.
const SAME: f64 = 1e-9;

#[derive(Clone, Debug, PartialEq)]
pub enum AccountLink {
    Linked {
        company_id: i64,
        company_name: String,
    },
    NotFound {
        reason: String,
    },
    Ambiguous {
        reason: String,
    },
    /// Never synced.
    Unknown,
}

#[derive(Clone, Debug)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub link: AccountLink,
}

#[derive(Clone, Copy, Debug)]
pub struct Subscription {
    pub account_id: i64,
    pub product_id: i64,
    pub plan_id: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Metric {
    pub id: i64,
    pub product_id: i64,
    pub cross_reference_type: String,
    pub unit: MetricUnit,
}

#[derive(Clone, Debug)]
pub struct Mapping {
    pub id: i64,
    pub product_id: i64,
    pub plan_id: Option<i64>,
    pub level_id: i64,
    pub usage_value: UsageValue,
    pub managed_externally: bool,
}

/// A cross-reference: (vendor type, level) → (agreement type, catalog product). Inactive
/// ones are kept only to say so when a metric has nothing else.
#[derive(Clone, Debug)]
pub struct CrossReference {
    pub vendor_type: String,
    pub agreement_type_id: i64,
    pub product_id: i64,
    pub product_identifier: String,
    pub inactive: bool,
}

#[derive(Clone, Debug)]
pub struct Level {
    pub name: String,
    pub cross_references: Vec<CrossReference>,
}

/// A date ConnectWise gave (ISO 8601), or did not, or gave in a form we cannot read.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Stamp {
    #[default]
    Absent,
    At(DateTime<Utc>),
    Unreadable(String),
}

impl Stamp {
    pub fn parse(text: Option<&str>) -> Stamp {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => Stamp::Absent,
            Some(t) => DateTime::parse_from_rfc3339(t)
                .map(|d| Stamp::At(d.with_timezone(&Utc)))
                .unwrap_or_else(|_| Stamp::Unreadable(t.to_owned())),
        }
    }
}

/// The statuses ConnectWise publishes for an agreement; any other is kept as given.
pub(crate) const AGREEMENT_STATUSES: [&str; 4] = ["Active", "Cancelled", "Expired", "Inactive"];

/// A ConnectWise agreement as found, whatever its state.
#[derive(Clone, Debug)]
pub struct Agreement {
    pub id: i64,
    pub name: String,
    pub company_id: i64,
    pub type_id: i64,
    /// `agreementStatus` as given (`None` when absent).
    pub status: Option<String>,
    pub cancelled: bool,
    pub end_date: Stamp,
    pub no_ending_date: bool,
    /// The agreement this one bills through (id, name).
    pub parent: Option<(i64, String)>,
}

impl Agreement {
    /// `None` when it may receive additions (Active, not cancelled, and no ending date or
    /// one in the future); otherwise why not, in words that name what was found.
    pub(crate) fn unbillable(&self, now: DateTime<Utc>) -> Option<String> {
        let who = format!("{:?} ({})", self.name, self.id);
        match self.status.as_deref() {
            Some("Active") => {}
            Some(other) if AGREEMENT_STATUSES.contains(&other) => {
                return Some(format!("{who} is {other}"));
            }
            Some(other) => {
                return Some(format!(
                    "{who} has status {other:?}, which ConnectWise does not publish; billbridge bills only Active agreements"
                ));
            }
            None => return Some(format!("{who} has no status")),
        }
        if self.cancelled {
            return Some(format!("{who} is cancelled"));
        }
        if self.no_ending_date {
            return None;
        }
        match &self.end_date {
            Stamp::Absent => None,
            Stamp::At(end) if *end > now => None,
            Stamp::At(end) => Some(format!("{who} ended {}", end.format("%Y-%m-%d"))),
            Stamp::Unreadable(text) => Some(format!("{who} has an unreadable end date {text:?}")),
        }
    }
}

/// The `billCustomer` values ConnectWise publishes for an addition.
pub(crate) const BILL_CUSTOMER: [&str; 3] = ["Billable", "DoNotBill", "NoCharge"];

/// A ConnectWise agreement addition as found, whatever its state.
#[derive(Clone, Debug)]
pub struct Addition {
    pub id: i64,
    pub agreement_id: i64,
    pub product_id: i64,
    pub quantity: f64,
    /// `billCustomer` as given.
    pub bill_customer: Option<String>,
    pub cancelled: Stamp,
    /// What one unit bills (`unitPrice`), when ConnectWise says.
    pub unit_price: Option<f64>,
    /// The catalog product's identifier, as the addition names it.
    pub product_identifier: Option<String>,
}

impl Addition {
    /// Still billing at `now`: not cancelled, or cancelled from a later date.
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        match &self.cancelled {
            Stamp::Absent => true,
            Stamp::At(at) => *at > now,
            // Cannot tell: treat as billing, so nothing is added beside it.
            Stamp::Unreadable(_) => true,
        }
    }

    /// `None` when billbridge may take it over: `Billable` and not cancelled at all.
    /// Otherwise (if it still bills) why not.
    pub fn unadoptable(&self) -> Option<String> {
        match (&self.cancelled, self.bill_customer.as_deref()) {
            (Stamp::Absent, Some("Billable")) => None,
            (Stamp::At(at), _) => Some(format!(
                "addition {} is cancelled from {} and bills until then",
                self.id,
                at.format("%Y-%m-%d")
            )),
            (Stamp::Unreadable(text), _) => Some(format!(
                "addition {} has an unreadable cancelled date {text:?}",
                self.id
            )),
            (Stamp::Absent, Some(other)) if BILL_CUSTOMER.contains(&other) => Some(format!(
                "addition {} is {other}: someone chose not to bill it this way",
                self.id
            )),
            (Stamp::Absent, Some(other)) => Some(format!(
                "addition {} has billCustomer {other:?}, which ConnectWise does not publish",
                self.id
            )),
            (Stamp::Absent, None) => Some(format!("addition {} has no billCustomer", self.id)),
        }
    }
}

/// An addition billbridge created or adopted, as it last wrote it.
#[derive(Clone, Debug)]
pub struct Owned {
    pub addition_id: i64,
    pub agreement_id: i64,
    /// ConnectWise's catalog product.
    pub product_id: i64,
    pub company_id: i64,
    /// billbridge's product it served (`None` when unknown).
    pub local_product_id: Option<i64>,
    pub metric: String,
    /// What billbridge last wrote: ConnectWise holding anything else means a person edited it.
    pub last_quantity: f64,
    /// Already retired by billbridge (set to 0 or cancelled): left alone unless wanted again.
    pub retired: bool,
}

/// How a tenant's pushes treat what no mapping wants and what a person edited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub retire_mode: RetireMode,
    pub on_manual_edit: OnManualEdit,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            retire_mode: RetireMode::Zero,
            on_manual_edit: OnManualEdit::Overwrite,
        }
    }
}

/// Everything the planner reads.
#[derive(Default)]
pub struct Input {
    pub accounts: Vec<Account>,
    pub subscriptions: Vec<Subscription>,
    pub metrics: Vec<Metric>,
    pub mappings: Vec<Mapping>,
    pub plans: HashMap<i64, PlanSize>,
    /// billbridge's product names and plan unique IDs, to name a line's subscription.
    pub product_names: HashMap<i64, String>,
    pub plan_names: HashMap<i64, String>,
    /// Latest measurement per (account, metric).
    pub usage: HashMap<(i64, i64), f64>,
    pub levels: HashMap<i64, Level>,
    pub agreements: Vec<Agreement>,
    pub additions: Vec<Addition>,
    /// Agreements with additions ConnectWise returned that could not be read, with what was
    /// wrong: a line there might be one of them, so nothing is written there.
    pub unreadable: HashMap<i64, Vec<String>>,
    /// The additions billbridge owns.
    pub owned: Vec<Owned>,
    /// Catalog prices by ConnectWise product: what a new addition's unit will bill.
    pub prices: HashMap<i64, f64>,
    pub settings: Settings,
    /// billbridge products the plan covers (a push of one service); `None` for all. Owned
    /// additions of other products are neither retired nor touched.
    pub scope: Option<HashSet<i64>>,
    /// When the plan is made: decides which agreements and additions still bill.
    pub now: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Update,
    Create,
    Unchanged,
    /// An owned addition no mapping wants any more: set to 0, or cancelled at the end of
    /// the month (the tenant's `retireMode`).
    Retire,
    Skip(SkipReason),
}

impl Action {
    /// What the line does, without the reason a skip carries (stored beside it).
    pub fn kind(self) -> LineAction {
        match self {
            Action::Update => LineAction::Update,
            Action::Create => LineAction::Create,
            Action::Unchanged => LineAction::Unchanged,
            Action::Retire => LineAction::Retire,
            Action::Skip(_) => LineAction::Skip,
        }
    }

    /// The reason, for a skip.
    pub fn reason(self) -> Option<SkipReason> {
        match self {
            Action::Skip(reason) => Some(reason),
            _ => None,
        }
    }

    /// The stored text of [`Action::kind`].
    pub fn as_str(self) -> &'static str {
        self.kind().as_str()
    }

    /// Whether the line writes to ConnectWise (creates, updates or retires an addition).
    pub fn writes(self) -> bool {
        matches!(self, Action::Update | Action::Create | Action::Retire)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub accounts: Vec<String>,
    /// The subscriptions (product / plan) the line serves.
    pub subscription: Option<String>,
    pub company_id: Option<i64>,
    pub company_name: Option<String>,
    pub metric: Option<String>,
    pub level: Option<String>,
    pub agreement_id: Option<i64>,
    pub agreement_name: Option<String>,
    /// The agreement this one bills through (a child agreement's parent).
    pub parent_agreement_id: Option<i64>,
    pub parent_agreement_name: Option<String>,
    /// The addition to update (or adopted and unchanged); `None` when one is to be created.
    pub addition_id: Option<i64>,
    pub product_id: Option<i64>,
    pub product_identifier: Option<String>,
    pub current_quantity: Option<f64>,
    pub new_quantity: Option<f64>,
    pub action: Action,
    /// For people: what the line does, or why it does not.
    pub detail: String,
    /// billbridge's product and the mapping the line serves.
    pub local_product_id: Option<i64>,
    pub mapping_id: Option<i64>,
    /// What billbridge last wrote to the addition, when it owns it.
    pub last_written_quantity: Option<f64>,
    /// ConnectWise holds another quantity than billbridge last wrote: a person edited it.
    pub drifted: bool,
    /// When a new addition starts (a successor, when its predecessor's cancellation does),
    /// or when a retired one is cancelled from.
    pub effective_date: Option<DateTime<Utc>>,
    /// What one unit bills a month: the addition's `unitPrice`, or for a new one the
    /// catalog item's price; `None` when ConnectWise did not say.
    pub unit_price: Option<f64>,
}

impl Line {
    /// The monthly amount before and after the push, when the unit price is known: the
    /// quantity on the addition now, and the one the line leaves (a skipped line changes
    /// nothing).
    pub fn money(&self) -> Option<(f64, f64)> {
        monthly(
            self.action.writes(),
            self.current_quantity,
            self.new_quantity,
            self.unit_price,
        )
    }
}

/// The monthly amount before and after a line (see [`Line::money`]), from its parts:
/// `writes` is whether the line changes the addition (see [`Action::writes`]).
pub fn monthly(
    writes: bool,
    current: Option<f64>,
    new: Option<f64>,
    price: Option<f64>,
) -> Option<(f64, f64)> {
    let price = price?;
    let before = current.unwrap_or(0.0) * price;
    let after = if writes {
        new.unwrap_or(0.0) * price
    } else {
        before
    };
    Some((before, after))
}

impl Line {
    fn skip(account: &Account, reason: SkipReason, detail: String) -> Line {
        let (company_id, company_name) = match &account.link {
            AccountLink::Linked {
                company_id,
                company_name,
            } => (Some(*company_id), Some(company_name.clone())),
            _ => (None, None),
        };
        Line {
            accounts: vec![account.name.clone()],
            subscription: None,
            company_id,
            company_name,
            metric: None,
            level: None,
            agreement_id: None,
            agreement_name: None,
            parent_agreement_id: None,
            parent_agreement_name: None,
            addition_id: None,
            product_id: None,
            product_identifier: None,
            current_quantity: None,
            new_quantity: None,
            action: Action::Skip(reason),
            detail,
            local_product_id: None,
            mapping_id: None,
            last_written_quantity: None,
            drifted: false,
            effective_date: None,
            unit_price: None,
        }
    }
}

/// The first instant of the month after `now`: a `CANCEL` retire bills to the end of the
/// current month.
pub fn next_month(now: DateTime<Utc>) -> DateTime<Utc> {
    let (year, month) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

/// A quantity for one (agreement, catalog product), before additions are consulted.
#[derive(Clone)]
struct Target {
    accounts: Vec<String>,
    subscriptions: Vec<String>,
    company_id: i64,
    company_name: String,
    metric: String,
    level: String,
    agreement: Agreement,
    product_identifier: String,
    local_product_id: i64,
    mapping_id: i64,
    unit: MetricUnit,
    /// The accounts' exact parts added up; rounded once when the line is made.
    exact: f64,
}

/// The agreements a plan would write to, and those holding owned additions it may retire:
/// the ones whose additions must be read first.
pub fn agreements_touched(input: &Input) -> BTreeSet<i64> {
    Planner::new(input).agreements().iter().copied().collect()
}

impl Input {
    /// How people name a subscription: `Intronis Backup Plan / IB-500`.
    fn subscription_name(&self, sub: &Subscription) -> String {
        let product = self
            .product_names
            .get(&sub.product_id)
            .cloned()
            .unwrap_or_else(|| format!("product {}", sub.product_id));
        match sub.plan_id.map(|p| self.plan_names.get(&p)) {
            Some(Some(plan)) => format!("{product} / {plan}"),
            Some(None) => format!("{product} / plan {}", sub.plan_id.unwrap_or_default()),
            None => product,
        }
    }
}

fn in_scope(input: &Input, owned: &Owned) -> bool {
    match (&input.scope, owned.local_product_id) {
        (None, _) => true,
        (Some(scope), Some(product)) => scope.contains(&product),
        (Some(_), None) => false,
    }
}

/// The plan, split by agreement. What does not depend on ConnectWise's additions — the
/// quantity per (agreement, product), the skipped lines, the owned additions no mapping
/// wants — is gathered once from the input (whose `additions` it ignores); each agreement's
/// lines are then planned from that agreement's additions alone. A push can so write to one
/// agreement while it still reads another's; [`plan`] is every agreement's lines at once.
pub struct Planner<'a> {
    input: &'a Input,
    /// By agreement: its (product, quantity) targets, in product order.
    targets: HashMap<i64, Vec<(i64, Target)>>,
    /// By agreement: the owned additions no mapping wants any more (in `input.owned` order,
    /// with their position there), retired unless a target adopts them.
    retirable: HashMap<i64, Vec<(usize, &'a Owned)>>,
    /// The lines skipped whatever ConnectWise's additions are (no agreement), in order.
    skips: Vec<Line>,
    uncertain: HashMap<i64, String>,
    owned: HashMap<i64, &'a Owned>,
    /// Company names by company, as the linked accounts know them.
    names: HashMap<i64, &'a str>,
    agreements: HashMap<i64, &'a Agreement>,
    /// Every agreement with a target or a retirable addition, in the order its lines are
    /// listed: by company name, then agreement.
    order: Vec<i64>,
}

/// One agreement's part of a plan: its lines by product, and the skipped retires (listed
/// with the other skipped lines in a whole plan), each with its owned addition's position.
pub struct AgreementLines {
    pub lines: Vec<Line>,
    pub skips: Vec<(usize, Line)>,
}

impl<'a> Planner<'a> {
    pub fn new(input: &'a Input) -> Planner<'a> {
        let Gathered {
            targets: gathered,
            mut skips,
            wanted,
            uncertain,
        } = targets(input);
        let agreements: HashMap<i64, &Agreement> =
            input.agreements.iter().map(|a| (a.id, a)).collect();
        let names: HashMap<i64, &str> = input
            .accounts
            .iter()
            .filter_map(|a| match &a.link {
                AccountLink::Linked {
                    company_id,
                    company_name,
                } => Some((*company_id, company_name.as_str())),
                _ => None,
            })
            .collect();
        let mut company_of: HashMap<i64, Option<String>> = HashMap::new();
        let mut targets: HashMap<i64, Vec<(i64, Target)>> = HashMap::new();
        for ((agreement_id, product_id), target) in gathered {
            company_of
                .entry(agreement_id)
                .or_insert_with(|| Some(target.company_name.clone()));
            targets
                .entry(agreement_id)
                .or_default()
                .push((product_id, target));
        }
        let mut retirable: HashMap<i64, Vec<(usize, &Owned)>> = HashMap::new();
        for (position, o) in input.owned.iter().enumerate() {
            if o.retired || !in_scope(input, o) {
                continue;
            }
            // Wanted on an agreement of this one's type: the same product moved to another
            // agreement type is not, so the old line is retired rather than billed twice.
            let type_id = agreements.get(&o.agreement_id).map(|a| a.type_id);
            if type_id.is_some_and(|t| wanted.contains(&(o.company_id, t, o.product_id))) {
                // Still wanted, but not written this time (no usage, agreement unclear, …):
                // the skip lines say why; retiring it would stop billing what is owed.
                continue;
            }
            company_of
                .entry(o.agreement_id)
                .or_insert_with(|| names.get(&o.company_id).map(|n| (*n).to_owned()));
            retirable
                .entry(o.agreement_id)
                .or_default()
                .push((position, o));
        }
        let mut order: Vec<(Option<String>, i64)> = company_of
            .into_iter()
            .map(|(agreement, company)| (company, agreement))
            .collect();
        order.sort();
        skips.sort_by(|a, b| (&a.accounts, &a.metric).cmp(&(&b.accounts, &b.metric)));
        Planner {
            input,
            targets,
            retirable,
            skips,
            uncertain,
            owned: input.owned.iter().map(|o| (o.addition_id, o)).collect(),
            names,
            agreements,
            order: order.into_iter().map(|(_, agreement)| agreement).collect(),
        }
    }

    /// The agreements whose additions the plan needs, in the order their lines are listed.
    pub fn agreements(&self) -> &[i64] {
        &self.order
    }

    /// The lines skipped whatever the additions are: listed after every agreement's.
    pub fn skips(&self) -> &[Line] {
        &self.skips
    }

    /// One agreement's lines from its additions (every addition ConnectWise lists on it),
    /// and what could not be read there (then nothing is written there).
    pub fn agreement(
        &self,
        agreement_id: i64,
        additions: &[&Addition],
        unreadable: Option<&Vec<String>>,
    ) -> AgreementLines {
        let input = self.input;
        let mut lines = Vec::new();
        for (product_id, target) in self.targets.get(&agreement_id).into_iter().flatten() {
            lines.push(line(
                input,
                &self.owned,
                additions,
                unreadable,
                agreement_id,
                *product_id,
                target.clone(),
            ));
        }
        let chosen: HashSet<i64> = lines.iter().filter_map(|l| l.addition_id).collect();
        let mut skips = Vec::new();
        for (position, o) in self.retirable.get(&agreement_id).into_iter().flatten() {
            if chosen.contains(&o.addition_id) {
                continue;
            }
            let agreement = self.agreements.get(&o.agreement_id).copied();
            let name = self.names.get(&o.company_id).copied();
            if let Some(line) = retire(input, o, additions, agreement, &self.uncertain, name) {
                if matches!(line.action, Action::Skip(_)) {
                    skips.push((*position, line));
                } else {
                    lines.push(line);
                }
            }
        }
        // Stable: a product's target line stays before the retire of the same product.
        lines.sort_by(|a, b| a.product_identifier.cmp(&b.product_identifier));
        AgreementLines { lines, skips }
    }
}

/// The lines a push would write, in a stable order: writes, unchanged and retire lines by
/// company, agreement and product, then skipped lines by account.
pub fn plan(input: &Input) -> Vec<Line> {
    let planner = Planner::new(input);
    let mut by_agreement: HashMap<i64, Vec<&Addition>> = HashMap::new();
    for a in &input.additions {
        by_agreement.entry(a.agreement_id).or_default().push(a);
    }
    let mut lines = Vec::new();
    let mut retire_skips = Vec::new();
    for agreement in planner.agreements() {
        let additions = by_agreement.get(agreement).map(Vec::as_slice);
        let part = planner.agreement(
            *agreement,
            additions.unwrap_or_default(),
            input.unreadable.get(agreement),
        );
        lines.extend(part.lines);
        retire_skips.extend(part.skips);
    }
    lines.sort_by(|a, b| {
        (&a.company_name, a.agreement_id, &a.product_identifier).cmp(&(
            &b.company_name,
            b.agreement_id,
            &b.product_identifier,
        ))
    });
    // The target skips first, then the retires' in the owned additions' order (a stable
    // sort keeps that order between equal keys).
    retire_skips.sort_by_key(|(position, _)| *position);
    let mut skips = planner.skips;
    skips.extend(retire_skips.into_iter().map(|(_, line)| line));
    skips.sort_by(|a, b| (&a.accounts, &a.metric).cmp(&(&b.accounts, &b.metric)));
    lines.extend(skips);
    lines
}

/// The line for one (agreement, product): adopt, update, create (or a successor), or why not.
fn line(
    input: &Input,
    owned: &HashMap<i64, &Owned>,
    additions: &[&Addition],
    unreadable: Option<&Vec<String>>,
    agreement_id: i64,
    product_id: i64,
    target: Target,
) -> Line {
    let quantity = round_once(target.unit, target.exact);
    let (parent_agreement_id, parent_agreement_name) = match &target.agreement.parent {
        Some((id, name)) => (Some(*id), Some(name.clone())),
        None => (None, None),
    };
    let mut line = Line {
        accounts: target.accounts,
        subscription: Some(target.subscriptions.join(", ")),
        company_id: Some(target.company_id),
        company_name: Some(target.company_name),
        metric: Some(target.metric),
        level: Some(target.level),
        agreement_id: Some(agreement_id),
        agreement_name: Some(target.agreement.name),
        parent_agreement_id,
        parent_agreement_name,
        addition_id: None,
        product_id: Some(product_id),
        product_identifier: Some(target.product_identifier.clone()),
        current_quantity: None,
        new_quantity: None,
        action: Action::Create,
        detail: String::new(),
        local_product_id: Some(target.local_product_id),
        mapping_id: Some(target.mapping_id),
        last_written_quantity: None,
        drifted: false,
        effective_date: None,
        unit_price: input.prices.get(&product_id).copied(),
    };
    // Never send what nobody can explain: a quantity that is not a finite number ≥ 0.
    if !quantity.is_finite() || quantity < 0.0 {
        line.action = Action::Skip(SkipReason::InvalidQuantity);
        line.detail = format!(
            "the usage adds up to {quantity}, which is not a quantity; nothing is sent (check the recorded usage)"
        );
        return line;
    }
    // An addition billbridge could not read may bill this very product.
    if let Some(unreadable) = unreadable {
        line.action = Action::Skip(SkipReason::AdditionNotAdoptable);
        line.detail = format!(
            "ConnectWise returned additions on this agreement that billbridge cannot read ({}); nothing is written there until they are fixed",
            unreadable.join("; ")
        );
        return line;
    }
    let for_product: Vec<&Addition> = additions
        .iter()
        .copied()
        .filter(|a| a.agreement_id == agreement_id && a.product_id == product_id)
        .filter(|a| a.live(input.now))
        .collect();
    // Adopt a billable addition for the product: the one billbridge owns, else the oldest
    // (with duplicates already in ConnectWise, that one is kept up to date).
    let existing = for_product
        .iter()
        .filter(|a| a.unadoptable().is_none())
        .min_by_key(|a| (!owned.contains_key(&a.id), a.id));
    line.new_quantity = Some(quantity);
    let Some(addition) = existing else {
        return create(
            input,
            line,
            &for_product,
            quantity,
            &target.product_identifier,
        );
    };
    line.addition_id = Some(addition.id);
    line.current_quantity = Some(addition.quantity);
    line.unit_price = addition.unit_price.or(line.unit_price);
    if (addition.quantity - quantity).abs() < SAME {
        line.action = Action::Unchanged;
        line.detail = format!("addition {} already bills {quantity}", addition.id);
        return line;
    }
    let by_us = owned.get(&addition.id).filter(|o| !o.retired);
    if let Some(o) = by_us {
        line.last_written_quantity = Some(o.last_quantity);
        line.drifted = (addition.quantity - o.last_quantity).abs() >= SAME;
    }
    if line.drifted && input.settings.on_manual_edit == OnManualEdit::Skip {
        line.action = Action::Skip(SkipReason::Drifted);
        line.detail = format!(
            "addition {} was changed in ConnectWise from {} (written by billbridge) to {}; not overwritten with {quantity} (onManualEdit: SKIP)",
            addition.id,
            line.last_written_quantity.unwrap_or_default(),
            addition.quantity
        );
        return line;
    }
    line.action = Action::Update;
    line.detail = if line.drifted {
        format!(
            "addition {} was changed in ConnectWise from {} (written by billbridge) to {}; set it to {quantity}",
            addition.id,
            line.last_written_quantity.unwrap_or_default(),
            addition.quantity
        )
    } else {
        format!(
            "set addition {} from {} to {quantity}",
            addition.id, addition.quantity
        )
    };
    line
}

/// No billable addition to adopt: create one — after the one that still bills until its
/// cancellation date, when that is all there is — or say why not.
fn create(
    input: &Input,
    mut line: Line,
    for_product: &[&Addition],
    quantity: f64,
    product: &str,
) -> Line {
    let ending: Vec<(&Addition, DateTime<Utc>)> = for_product
        .iter()
        .filter_map(|a| match (&a.cancelled, a.bill_customer.as_deref()) {
            (Stamp::At(at), Some("Billable")) if *at > input.now => Some((*a, *at)),
            _ => None,
        })
        .collect();
    let blocking: Vec<String> = for_product
        .iter()
        .filter(|a| !ending.iter().any(|(e, _)| e.id == a.id))
        .filter_map(|a| a.unadoptable())
        .collect();
    if !blocking.is_empty() {
        // One still bills that billbridge may not take over: a second line beside it would
        // bill twice, so nothing is written until a person decides.
        line.action = Action::Skip(SkipReason::AdditionNotAdoptable);
        line.new_quantity = None;
        line.detail = format!(
            "{}; billbridge will not add a second {product} line beside it (make it Billable, or remove it, to let billbridge bill {quantity})",
            blocking.join("; ")
        );
        return line;
    }
    line.action = Action::Create;
    match ending.iter().max_by_key(|(_, at)| *at) {
        // The successor starts when its predecessor stops billing: never both at once.
        Some((predecessor, at)) => {
            line.effective_date = Some(*at);
            line.detail = format!(
                "add {quantity} × {product} from {}, when addition {} (cancelled from then) stops billing",
                at.format("%Y-%m-%d"),
                predecessor.id
            );
        }
        None => line.detail = format!("add {quantity} × {product} to the agreement"),
    }
    line
}

/// The line for an owned addition no mapping wants any more, if it still bills: set it to
/// 0 (or cancel it from next month), or say why it is left as it is.
fn retire(
    input: &Input,
    o: &Owned,
    additions: &[&Addition],
    agreement: Option<&Agreement>,
    uncertain: &HashMap<i64, String>,
    company_name: Option<&str>,
) -> Option<Line> {
    // Gone from ConnectWise, cancelled, or set not to bill by a person: nothing to retire.
    let addition = additions.iter().find(|a| a.id == o.addition_id)?;
    if !addition.live(input.now) || addition.unadoptable().is_some() {
        return None;
    }
    if agreement.is_some_and(|a| a.unbillable(input.now).is_some()) {
        return None; // a closed agreement bills nothing
    }
    let cancel = input.settings.retire_mode == RetireMode::Cancel;
    if addition.quantity.abs() < SAME {
        return None; // it bills nothing already
    }
    let mut line = Line {
        accounts: Vec::new(),
        subscription: None,
        company_id: Some(o.company_id),
        company_name: company_name.map(str::to_owned),
        metric: Some(o.metric.clone()),
        level: None,
        agreement_id: Some(o.agreement_id),
        agreement_name: agreement.map(|a| a.name.clone()),
        parent_agreement_id: agreement.and_then(|a| a.parent.as_ref().map(|p| p.0)),
        parent_agreement_name: agreement.and_then(|a| a.parent.as_ref().map(|p| p.1.clone())),
        addition_id: Some(o.addition_id),
        product_id: Some(o.product_id),
        product_identifier: addition.product_identifier.clone(),
        current_quantity: Some(addition.quantity),
        new_quantity: Some(0.0),
        action: Action::Retire,
        detail: String::new(),
        local_product_id: o.local_product_id,
        mapping_id: None,
        last_written_quantity: Some(o.last_quantity),
        drifted: (addition.quantity - o.last_quantity).abs() >= SAME,
        effective_date: cancel.then(|| next_month(input.now)),
        unit_price: addition
            .unit_price
            .or_else(|| input.prices.get(&o.product_id).copied()),
    };
    // When unsure, skip: an account whose company is not known may still want it.
    if let Some(account) = uncertain.get(&o.product_id) {
        line.action = Action::Skip(SkipReason::AmbiguousCompany);
        line.accounts = vec![account.clone()];
        line.detail = format!(
            "no mapping wants addition {} for this company, but account {account:?} (whose company is not known) may; not retired until it is linked",
            o.addition_id
        );
        return Some(line);
    }
    if line.drifted && input.settings.on_manual_edit == OnManualEdit::Skip {
        line.action = Action::Skip(SkipReason::Drifted);
        line.detail = format!(
            "no mapping wants addition {} any more, but it was changed in ConnectWise from {} (written by billbridge) to {}; not retired (onManualEdit: SKIP)",
            o.addition_id, o.last_quantity, addition.quantity
        );
        return Some(line);
    }
    line.detail = match line.effective_date {
        Some(from) => format!(
            "no mapping wants addition {} ({}) any more: cancel it from {} (retireMode: CANCEL)",
            o.addition_id,
            o.metric,
            from.format("%Y-%m-%d")
        ),
        None => format!(
            "no mapping wants addition {} ({}) any more: set it from {} to 0",
            o.addition_id, o.metric, addition.quantity
        ),
    };
    Some(line)
}

/// What the subscriptions ask for: the quantities per (agreement, product), the skipped
/// lines, every (company, agreement type, ConnectWise product) some mapping still wants
/// (whether or not it can be written this time), and the products wanted by accounts whose
/// company is unknown.
struct Gathered {
    targets: Targets,
    skips: Vec<Line>,
    wanted: HashSet<(i64, i64, i64)>,
    /// ConnectWise product → an account whose company is not known that wants it.
    uncertain: HashMap<i64, String>,
}

type Targets = BTreeMap<(i64, i64), Target>;

/// Every (agreement, product) quantity, every skipped line, and what is wanted.
fn targets(input: &Input) -> Gathered {
    let keys: Vec<MappingKey> = input
        .mappings
        .iter()
        .map(|m| MappingKey {
            product_id: m.product_id,
            plan_id: m.plan_id,
        })
        .collect();
    let accounts: HashMap<i64, &Account> = input.accounts.iter().map(|a| (a.id, a)).collect();
    let mut agreements_of: HashMap<(i64, i64), Vec<&Agreement>> = HashMap::new();
    // Agreements of the type that may not bill, with why: named when nothing else is found.
    let mut unbillable_of: HashMap<(i64, i64), Vec<String>> = HashMap::new();
    for agreement in &input.agreements {
        let key = (agreement.company_id, agreement.type_id);
        match agreement.unbillable(input.now) {
            None => agreements_of.entry(key).or_default().push(agreement),
            Some(why) => unbillable_of.entry(key).or_default().push(why),
        }
    }
    let mut targets: Targets = BTreeMap::new();
    let mut skips = Vec::new();
    let mut wanted = HashSet::new();
    let mut uncertain = HashMap::new();

    for sub in &input.subscriptions {
        let Some(account) = accounts.get(&sub.account_id) else {
            continue;
        };
        let mapping = applicable_mapping(&keys, sub.product_id, sub.plan_id)
            .map(|index| &input.mappings[index]);
        let level = mapping.and_then(|m| input.levels.get(&m.level_id));
        let level_name = level.map(|l| l.name.clone());
        let subscription = input.subscription_name(sub);
        let metrics: Vec<&Metric> = input
            .metrics
            .iter()
            .filter(|m| m.product_id == sub.product_id)
            .collect();
        // The active cross-reference of each metric at the mapping's level, if any.
        let xref_of = |metric: &Metric| {
            level?
                .cross_references
                .iter()
                .find(|x| !x.inactive && x.vendor_type == metric.cross_reference_type)
        };
        if mapping.is_some_and(|m| !m.managed_externally) {
            // The ConnectWise products this subscription's mapping asks for, whatever
            // happens below: an owned addition one of them names is never retired.
            let xrefs = metrics.iter().filter_map(|m| xref_of(m));
            match &account.link {
                AccountLink::Linked { company_id, .. } => {
                    wanted.extend(xrefs.map(|x| (*company_id, x.agreement_type_id, x.product_id)));
                }
                AccountLink::Ambiguous { .. } | AccountLink::Unknown => {
                    for x in xrefs {
                        uncertain
                            .entry(x.product_id)
                            .or_insert_with(|| account.name.clone());
                    }
                }
                AccountLink::NotFound { .. } => {}
            }
        }
        // Why nothing of the subscription can be billed, whatever the metric.
        let early: Option<(SkipReason, String)> = match (mapping, &account.link) {
            (None, _) => Some((
                SkipReason::NoMapping,
                "no billing mapping covers this product and plan".into(),
            )),
            (Some(m), _) if m.managed_externally => Some((
                SkipReason::ManagedExternally,
                "the mapping is managed externally (ECHOplatform) and billed there".into(),
            )),
            (_, AccountLink::Linked { .. }) => None,
            (_, AccountLink::Ambiguous { reason }) => {
                Some((SkipReason::AmbiguousCompany, reason.clone()))
            }
            (_, AccountLink::NotFound { reason }) => Some((SkipReason::NotLinked, reason.clone())),
            (_, AccountLink::Unknown) => Some((
                SkipReason::NotLinked,
                "not linked yet; run syncCompanies".into(),
            )),
        };
        if metrics.is_empty() {
            if let Some((reason, detail)) = early {
                let mut line = Line::skip(account, reason, detail);
                line.subscription = Some(subscription.clone());
                line.local_product_id = Some(sub.product_id);
                line.level = level_name.clone();
                skips.push(line);
            }
            continue;
        }
        for metric in metrics {
            let xref = xref_of(metric);
            // Every line names its account, subscription, metric, level and product, so
            // no two lines look alike.
            let skip = |reason: SkipReason, detail: String| {
                let mut line = Line::skip(account, reason, detail);
                line.subscription = Some(subscription.clone());
                line.local_product_id = Some(sub.product_id);
                line.metric = Some(metric.cross_reference_type.clone());
                line.level = level_name.clone();
                line.mapping_id = mapping.map(|m| m.id);
                line.product_id = xref.map(|x| x.product_id);
                line.product_identifier = xref.map(|x| x.product_identifier.clone());
                line
            };
            if let Some((reason, detail)) = &early {
                skips.push(skip(*reason, detail.clone()));
                continue;
            }
            let (
                Some(mapping),
                AccountLink::Linked {
                    company_id,
                    company_name,
                },
            ) = (mapping, &account.link)
            else {
                continue; // `early` said why
            };
            let (company_id, company_name) = (*company_id, company_name.clone());
            let level_name = level_name.clone().unwrap_or_default();
            let Some(xref) = xref else {
                let inactive = level.is_some_and(|l| {
                    l.cross_references
                        .iter()
                        .any(|x| x.inactive && x.vendor_type == metric.cross_reference_type)
                });
                let detail = if inactive {
                    format!(
                        "the cross-reference for {:?} at level {level_name:?} is inactive in ConnectWise",
                        metric.cross_reference_type
                    )
                } else {
                    format!(
                        "ConnectWise has no cross-reference for {:?} at level {level_name:?}",
                        metric.cross_reference_type
                    )
                };
                skips.push(skip(SkipReason::NoCrossReference, detail));
                continue;
            };
            let Some(measured) = input.usage.get(&(account.id, metric.id)) else {
                skips.push(skip(
                    SkipReason::NoUsage,
                    format!("no usage recorded for {:?}", metric.cross_reference_type),
                ));
                continue;
            };
            let candidates = agreements_of
                .get(&(company_id, xref.agreement_type_id))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let agreement = match candidates {
                [] => {
                    let found = unbillable_of
                        .get(&(company_id, xref.agreement_type_id))
                        .map(|why| format!(": {}", why.join("; ")))
                        .unwrap_or_default();
                    skips.push(skip(
                        SkipReason::NoAgreement,
                        format!(
                            "{company_name} has no billable agreement of the cross-referenced type{found}"
                        ),
                    ));
                    continue;
                }
                [one] => *one,
                many => {
                    let names: Vec<String> = many
                        .iter()
                        .map(|a| format!("{} ({})", a.name, a.id))
                        .collect();
                    skips.push(skip(
                        SkipReason::AmbiguousAgreement,
                        format!(
                            "{company_name} has {} billable agreements of the type: {}",
                            many.len(),
                            names.join(", ")
                        ),
                    ));
                    continue;
                }
            };
            let plan = sub.plan_id.and_then(|p| input.plans.get(&p)).copied();
            let part = exact(metric.unit, mapping.usage_value, *measured, plan);
            let target = targets
                .entry((agreement.id, xref.product_id))
                .or_insert_with(|| Target {
                    accounts: Vec::new(),
                    subscriptions: Vec::new(),
                    company_id,
                    company_name: company_name.clone(),
                    metric: metric.cross_reference_type.clone(),
                    level: level_name.clone(),
                    agreement: agreement.clone(),
                    product_identifier: xref.product_identifier.clone(),
                    local_product_id: sub.product_id,
                    mapping_id: mapping.id,
                    unit: metric.unit,
                    exact: 0.0,
                });
            target.exact += part;
            if !target.accounts.contains(&account.name) {
                target.accounts.push(account.name.clone());
            }
            if !target.subscriptions.contains(&subscription) {
                target.subscriptions.push(subscription.clone());
            }
        }
    }
    Gathered {
        targets,
        skips,
        wanted,
        uncertain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OnManualEdit, RetireMode};

    const BACKUP: i64 = 1; // product
    const MAIL: i64 = 2; // product without mapping
    const STORAGE: i64 = 10; // metric BackupUsage (GB)
    const LOCAL: i64 = 11; // metric LocalBackup (count)
    const P20: i64 = 100; // plan, 20 GB
    const GOLD: i64 = 1000; // level with both cross-references
    const SILVER: i64 = 1001; // level with storage only
    const BACKUP_TYPE: i64 = 7; // agreement type
    const STORAGE_PRODUCT: i64 = 501;
    const LOCAL_PRODUCT: i64 = 502;

    fn account(id: i64, name: &str, link: AccountLink) -> Account {
        Account {
            id,
            name: name.into(),
            link,
        }
    }

    fn linked(company_id: i64) -> AccountLink {
        AccountLink::Linked {
            company_id,
            company_name: format!("Company {company_id}"),
        }
    }

    fn sub(account_id: i64, product_id: i64) -> Subscription {
        Subscription {
            account_id,
            product_id,
            plan_id: Some(P20),
        }
    }

    fn agreement(id: i64, company_id: i64) -> Agreement {
        Agreement {
            id,
            name: format!("Agreement {id}"),
            company_id,
            type_id: BACKUP_TYPE,
            status: Some("Active".into()),
            cancelled: false,
            end_date: Stamp::Absent,
            no_ending_date: true,
            parent: None,
        }
    }

    fn addition(id: i64, product_id: i64, quantity: f64) -> Addition {
        Addition {
            id,
            agreement_id: 201,
            product_id,
            quantity,
            bill_customer: Some("Billable".into()),
            cancelled: Stamp::Absent,
            unit_price: None,
            product_identifier: None,
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn xref(vendor_type: &str, product_id: i64) -> CrossReference {
        CrossReference {
            vendor_type: vendor_type.into(),
            agreement_type_id: BACKUP_TYPE,
            product_id,
            product_identifier: format!("P{product_id}"),
            inactive: false,
        }
    }

    /// Companies: 1..=4 have one agreement each (ids 201..), company 5 has two, company 6
    /// none. Every account on the 20 GB plan with 25 GB and 3 local backups unless told.
    fn input(accounts: Vec<Account>, usage_value: UsageValue) -> Input {
        let mut usage = HashMap::new();
        for a in &accounts {
            usage.insert((a.id, STORAGE), 25.0);
            usage.insert((a.id, LOCAL), 3.0);
        }
        Input {
            subscriptions: accounts.iter().map(|a| sub(a.id, BACKUP)).collect(),
            accounts,
            metrics: vec![
                Metric {
                    id: STORAGE,
                    product_id: BACKUP,
                    cross_reference_type: "BackupUsage".into(),
                    unit: MetricUnit::Gb,
                },
                Metric {
                    id: LOCAL,
                    product_id: BACKUP,
                    cross_reference_type: "LocalBackup".into(),
                    unit: MetricUnit::Count,
                },
            ],
            mappings: vec![Mapping {
                id: 1,
                product_id: BACKUP,
                plan_id: None,
                level_id: GOLD,
                usage_value,
                managed_externally: false,
            }],
            plans: HashMap::from([(
                P20,
                PlanSize {
                    base_gb: 20.0,
                    block_gb: None,
                },
            )]),
            product_names: HashMap::from([(BACKUP, "Backup".into()), (MAIL, "Mail".into())]),
            plan_names: HashMap::from([(P20, "P-20".into())]),
            usage,
            levels: HashMap::from([
                (
                    GOLD,
                    Level {
                        name: "Gold".into(),
                        cross_references: vec![
                            xref("BackupUsage", STORAGE_PRODUCT),
                            xref("LocalBackup", LOCAL_PRODUCT),
                        ],
                    },
                ),
                (
                    SILVER,
                    Level {
                        name: "Silver".into(),
                        cross_references: vec![xref("BackupUsage", STORAGE_PRODUCT)],
                    },
                ),
            ]),
            agreements: vec![
                agreement(201, 1),
                agreement(202, 2),
                agreement(203, 3),
                agreement(204, 4),
                agreement(205, 5),
                agreement(206, 5),
            ],
            additions: Vec::new(),
            unreadable: HashMap::new(),
            owned: Vec::new(),
            prices: HashMap::new(),
            settings: Settings::default(),
            scope: None,
            now: at("2026-11-27T12:00:00Z"),
        }
    }

    /// (accounts, metric, action, skip reason, new quantity) of each line.
    type Summary = (
        String,
        Option<String>,
        &'static str,
        Option<&'static str>,
        Option<f64>,
    );

    fn actions(lines: &[Line]) -> Vec<Summary> {
        lines
            .iter()
            .map(|l| {
                let reason = match l.action {
                    Action::Skip(r) => Some(r.as_str()),
                    _ => None,
                };
                (
                    l.accounts.join("+"),
                    l.metric.clone(),
                    l.action.as_str(),
                    reason,
                    l.new_quantity,
                )
            })
            .collect()
    }

    #[test]
    fn creates_updates_and_leaves_unchanged() {
        let mut input = input(vec![account(1, "a", linked(1))], UsageValue::Total);
        let lines = plan(&input);
        assert_eq!(
            actions(&lines),
            [
                (
                    "a".into(),
                    Some("BackupUsage".into()),
                    "CREATE",
                    None,
                    Some(25.0)
                ),
                (
                    "a".into(),
                    Some("LocalBackup".into()),
                    "CREATE",
                    None,
                    Some(3.0)
                ),
            ]
        );
        assert_eq!(lines[0].agreement_id, Some(201));
        assert_eq!(lines[0].product_id, Some(STORAGE_PRODUCT));
        // Existing additions are adopted: one changes, one does not.
        input.additions = vec![
            addition(9, STORAGE_PRODUCT, 20.0),
            addition(8, LOCAL_PRODUCT, 3.0),
        ];
        let lines = plan(&input);
        assert_eq!(lines[0].action, Action::Update);
        assert_eq!(
            (lines[0].addition_id, lines[0].current_quantity),
            (Some(9), Some(20.0))
        );
        assert_eq!(lines[1].action, Action::Unchanged);
        assert_eq!(lines[1].addition_id, Some(8));
        // A duplicate already in ConnectWise: the oldest is kept up to date, none is added.
        input.additions.push(addition(3, STORAGE_PRODUCT, 1.0));
        assert_eq!(plan(&input)[0].addition_id, Some(3));
        assert_eq!(agreements_touched(&input), BTreeSet::from([201]));
    }

    #[test]
    fn additional_usage_and_accounts_of_one_company_add_up() {
        let input = input(
            vec![
                account(1, "a", linked(1)),
                account(2, "b", linked(1)),
                account(3, "c", linked(2)),
            ],
            UsageValue::Additional,
        );
        let lines = plan(&input);
        assert_eq!(
            actions(&lines),
            [
                (
                    "a+b".into(),
                    Some("BackupUsage".into()),
                    "CREATE",
                    None,
                    Some(10.0)
                ), // 5 + 5 over 20 GB
                (
                    "a+b".into(),
                    Some("LocalBackup".into()),
                    "CREATE",
                    None,
                    Some(6.0)
                ), // counts are counts
                (
                    "c".into(),
                    Some("BackupUsage".into()),
                    "CREATE",
                    None,
                    Some(5.0)
                ),
                (
                    "c".into(),
                    Some("LocalBackup".into()),
                    "CREATE",
                    None,
                    Some(3.0)
                ),
            ]
        );
    }

    #[test]
    fn every_skip_reason() {
        let mut input = input(
            vec![
                account(1, "linked", linked(1)),
                account(
                    2,
                    "not-found",
                    AccountLink::NotFound {
                        reason: "no company".into(),
                    },
                ),
                account(3, "never-synced", AccountLink::Unknown),
                account(
                    4,
                    "ambiguous",
                    AccountLink::Ambiguous {
                        reason: "two companies".into(),
                    },
                ),
                account(5, "two-agreements", linked(5)),
                account(6, "no-agreement", linked(6)),
                account(7, "no-usage", linked(3)),
                account(8, "silver", linked(4)),
                account(9, "mail", linked(2)),
            ],
            UsageValue::Total,
        );
        input.usage.remove(&(7, STORAGE));
        // Account 8 is on a plan mapped to Silver, which has no LocalBackup cross-reference.
        input.plans.insert(
            101,
            PlanSize {
                base_gb: 0.0,
                block_gb: None,
            },
        );
        input.mappings.push(Mapping {
            id: 2,
            product_id: BACKUP,
            plan_id: Some(101),
            level_id: SILVER,
            usage_value: UsageValue::Total,
            managed_externally: false,
        });
        input
            .subscriptions
            .iter_mut()
            .find(|s| s.account_id == 8)
            .unwrap()
            .plan_id = Some(101);
        // Account 9 subscribes to a product nobody mapped.
        input
            .subscriptions
            .iter_mut()
            .find(|s| s.account_id == 9)
            .unwrap()
            .product_id = MAIL;
        let lines = plan(&input);
        let skipped: Vec<(String, Option<String>, &str)> = lines
            .iter()
            .filter_map(|l| match l.action {
                Action::Skip(r) => Some((l.accounts[0].clone(), l.metric.clone(), r.as_str())),
                _ => None,
            })
            .collect();
        let expect =
            |a: &str, m: Option<&str>, r: &'static str| (a.to_owned(), m.map(str::to_owned), r);
        assert_eq!(
            skipped,
            [
                expect("ambiguous", Some("BackupUsage"), "AMBIGUOUS_COMPANY"),
                expect("ambiguous", Some("LocalBackup"), "AMBIGUOUS_COMPANY"),
                expect("mail", None, "NO_MAPPING"), // a product that reports no metric
                expect("never-synced", Some("BackupUsage"), "NOT_LINKED"),
                expect("never-synced", Some("LocalBackup"), "NOT_LINKED"),
                expect("no-agreement", Some("BackupUsage"), "NO_AGREEMENT"),
                expect("no-agreement", Some("LocalBackup"), "NO_AGREEMENT"),
                expect("no-usage", Some("BackupUsage"), "NO_USAGE"),
                expect("not-found", Some("BackupUsage"), "NOT_LINKED"),
                expect("not-found", Some("LocalBackup"), "NOT_LINKED"),
                expect("silver", Some("LocalBackup"), "NO_CROSS_REFERENCE"),
                expect("two-agreements", Some("BackupUsage"), "AMBIGUOUS_AGREEMENT"),
                expect("two-agreements", Some("LocalBackup"), "AMBIGUOUS_AGREEMENT"),
            ]
        );
        let two = lines
            .iter()
            .find(|l| l.accounts[0] == "two-agreements")
            .unwrap();
        assert!(
            two.detail.contains("205") && two.detail.contains("206"),
            "{}",
            two.detail
        );
        // Every line names its account, subscription, metric, level and product where known:
        // no two lines are alike.
        let mut seen = HashSet::new();
        for l in &lines {
            let key = (
                l.accounts.clone(),
                l.subscription.clone(),
                l.metric.clone(),
                l.product_identifier.clone(),
                l.agreement_id,
            );
            assert!(seen.insert(key), "two lines alike: {l:?}");
            assert!(l.subscription.is_some(), "{l:?}");
        }
        let ambiguous = lines.iter().find(|l| l.accounts[0] == "ambiguous").unwrap();
        assert_eq!(ambiguous.subscription.as_deref(), Some("Backup / P-20"));
        assert_eq!(ambiguous.level.as_deref(), Some("Gold"));
        assert_eq!(ambiguous.product_identifier.as_deref(), Some("P501"));
        // What was not skipped was planned: linked (2 metrics), no-usage's LocalBackup, silver's storage.
        let writes = lines.iter().filter(|l| l.action == Action::Create).count();
        assert_eq!(writes, 4);

        // The mapping managed externally skips everything it covers.
        input
            .mappings
            .iter_mut()
            .for_each(|m| m.managed_externally = true);
        let lines = plan(&input);
        assert!(
            lines
                .iter()
                .filter(|l| l.accounts[0] == "linked")
                .all(|l| l.action == Action::Skip(SkipReason::ManagedExternally))
        );
    }

    #[test]
    fn which_agreements_bill() {
        let now = at("2026-11-27T12:00:00Z");
        let base = agreement(201, 1);
        let with = |f: &dyn Fn(&mut Agreement)| {
            let mut a = base.clone();
            f(&mut a);
            a.unbillable(now)
        };
        let cases: Vec<(&str, Option<String>, Option<&str>)> = vec![
            ("active, no end", with(&|_| {}), None),
            (
                "ends later",
                with(&|a| {
                    a.no_ending_date = false;
                    a.end_date = Stamp::parse(Some("2026-12-31T00:00:00Z"));
                }),
                None,
            ),
            (
                "no flag, no date",
                with(&|a| a.no_ending_date = false),
                None,
            ),
            (
                "ended",
                with(&|a| {
                    a.no_ending_date = false;
                    a.end_date = Stamp::parse(Some("2026-10-31T00:00:00Z"));
                }),
                Some("ended 2026-10-31"),
            ),
            (
                "flag wins over a past date",
                with(&|a| a.end_date = Stamp::parse(Some("2026-10-31T00:00:00Z"))),
                None,
            ),
            (
                "expired",
                with(&|a| a.status = Some("Expired".into())),
                Some("is Expired"),
            ),
            (
                "inactive",
                with(&|a| a.status = Some("Inactive".into())),
                Some("is Inactive"),
            ),
            (
                "status cancelled",
                with(&|a| a.status = Some("Cancelled".into())),
                Some("is Cancelled"),
            ),
            (
                "active but flagged cancelled",
                with(&|a| a.cancelled = true),
                Some("is cancelled"),
            ),
            (
                "unknown status",
                with(&|a| a.status = Some("Pending".into())),
                Some("\"Pending\", which ConnectWise does not publish"),
            ),
            (
                "no status",
                with(&|a| a.status = None),
                Some("has no status"),
            ),
            (
                "unreadable end",
                with(&|a| {
                    a.no_ending_date = false;
                    a.end_date = Stamp::parse(Some("31/12/2026"));
                }),
                Some("unreadable end date"),
            ),
        ];
        for (name, got, expected) in cases {
            match (got, expected) {
                (None, None) => {}
                (Some(why), Some(part)) => assert!(why.contains(part), "{name}: {why}"),
                (got, expected) => panic!("{name}: got {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn only_billable_agreements_receive_lines_and_the_rest_are_named() {
        let mut input = input(
            vec![account(1, "a", linked(1)), account(6, "f", linked(6))],
            UsageValue::Total,
        );
        let mut expired = agreement(207, 6);
        expired.status = Some("Expired".into());
        let mut ended = agreement(208, 6);
        ended.no_ending_date = false;
        ended.end_date = Stamp::parse(Some("2026-06-30T00:00:00Z"));
        let mut cancelled = agreement(209, 1);
        cancelled.cancelled = true;
        input.agreements.extend([expired, ended, cancelled]);
        // Company 1's child agreement bills through its parent.
        input.agreements[0].parent = Some((200, "Acme master".into()));
        let lines = plan(&input);
        let a: Vec<&Line> = lines.iter().filter(|l| l.accounts[0] == "a").collect();
        assert!(
            a.iter()
                .all(|l| l.action == Action::Create && l.agreement_id == Some(201))
        );
        assert_eq!(a[0].parent_agreement_id, Some(200));
        assert_eq!(a[0].parent_agreement_name.as_deref(), Some("Acme master"));
        let f = lines.iter().find(|l| l.accounts[0] == "f").unwrap();
        assert_eq!(f.action, Action::Skip(SkipReason::NoAgreement));
        assert!(
            f.detail.contains("\"Agreement 207\" (207) is Expired")
                && f.detail
                    .contains("\"Agreement 208\" (208) ended 2026-06-30"),
            "{}",
            f.detail
        );
        // An expired agreement alone is named as well.
        input.agreements[1].status = Some("Expired".into());
        input.accounts[1].link = linked(2);
        input.subscriptions[1].account_id = 6;
        let lines = plan(&input);
        assert!(
            lines
                .iter()
                .filter(|l| l.accounts[0] == "f")
                .all(|l| l.action == Action::Skip(SkipReason::NoAgreement))
        );
    }

    #[test]
    fn additions_billbridge_may_not_take_over_are_never_doubled() {
        let mut input = input(vec![account(1, "a", linked(1))], UsageValue::Total);
        let now = input.now;
        let mut past = addition(5, STORAGE_PRODUCT, 7.0);
        past.cancelled = Stamp::At(now - chrono::Duration::days(30));
        let mut not_billed = addition(6, LOCAL_PRODUCT, 1.0);
        not_billed.bill_customer = Some("DoNotBill".into());
        input.additions = vec![past, not_billed];
        let lines = plan(&input);
        // The addition cancelled in the past no longer bills: a new line is created.
        assert_eq!(lines[0].metric.as_deref(), Some("BackupUsage"));
        assert_eq!(lines[0].action, Action::Create);
        // DoNotBill: someone chose not to bill; billbridge neither adopts nor adds beside it.
        assert_eq!(
            lines[1].action,
            Action::Skip(SkipReason::AdditionNotAdoptable)
        );
        assert_eq!(lines[1].new_quantity, None);
        assert!(
            lines[1].detail.contains("addition 6 is DoNotBill"),
            "{}",
            lines[1].detail
        );

        // Cancelled from a later date: it bills until then, so its successor starts then,
        // never overlapping it.
        let mut ending = addition(7, STORAGE_PRODUCT, 7.0);
        let until = now + chrono::Duration::days(4);
        ending.cancelled = Stamp::At(until);
        input.additions.push(ending);
        let lines = plan(&input);
        assert_eq!(lines[0].action, Action::Create);
        assert_eq!(lines[0].effective_date, Some(until));
        assert!(
            lines[0].detail.contains("from 2026-12-01, when addition 7"),
            "{}",
            lines[0].detail
        );
        // But beside one someone chose not to bill, nothing is added.
        let mut not_billed = addition(8, STORAGE_PRODUCT, 1.0);
        not_billed.bill_customer = Some("NoCharge".into());
        input.additions.push(not_billed);
        assert_eq!(
            plan(&input)[0].action,
            Action::Skip(SkipReason::AdditionNotAdoptable)
        );
        input.additions.pop();
        // A value ConnectWise does not publish is reported, not fatal.
        input.additions[1].bill_customer = Some("Sometimes".into());
        assert!(
            plan(&input)[1]
                .detail
                .contains("billCustomer \"Sometimes\", which ConnectWise does not publish"),
            "{}",
            plan(&input)[1].detail
        );
        // An addition ConnectWise returned that could not be read: nothing is written there.
        input
            .unreadable
            .insert(201, vec!["row 12 left out: invalid type".into()]);
        assert!(plan(&input).iter().all(|l| l.action
            == Action::Skip(SkipReason::AdditionNotAdoptable)
            && l.detail.contains("row 12 left out")));
        input.unreadable.clear();
        // A Billable live one beside them is adopted as usual.
        input.additions.push(addition(9, STORAGE_PRODUCT, 25.0));
        assert_eq!(plan(&input)[0].action, Action::Unchanged);
        assert_eq!(plan(&input)[0].addition_id, Some(9));
    }

    #[test]
    fn a_quantity_that_is_not_a_number_is_never_sent() {
        let mut input = input(
            vec![account(1, "a", linked(1)), account(2, "b", linked(1))],
            UsageValue::Total,
        );
        input.usage.insert((2, STORAGE), f64::INFINITY);
        let lines = plan(&input);
        let storage = lines
            .iter()
            .find(|l| l.metric.as_deref() == Some("BackupUsage"))
            .unwrap();
        assert_eq!(storage.action, Action::Skip(SkipReason::InvalidQuantity));
        assert_eq!(storage.new_quantity, None);
        assert_eq!(storage.accounts, ["a", "b"]);
        // The other metric of the same accounts is unaffected.
        let local = lines
            .iter()
            .find(|l| l.metric.as_deref() == Some("LocalBackup"))
            .unwrap();
        assert_eq!(
            (local.action, local.new_quantity),
            (Action::Create, Some(6.0))
        );
        input.usage.insert((2, STORAGE), f64::NAN);
        assert_eq!(
            plan(&input)[0].action,
            Action::Skip(SkipReason::InvalidQuantity)
        );
    }

    #[test]
    fn accounts_of_one_company_are_rounded_once() {
        let mut input = input(
            vec![account(1, "a", linked(1)), account(2, "b", linked(1))],
            UsageValue::Total,
        );
        input.usage.insert((1, STORAGE), 100.2);
        input.usage.insert((2, STORAGE), 10.2);
        let lines = plan(&input);
        // 110.4 GB → 111, where rounding each account first would bill 101 + 11 = 112.
        assert_eq!(lines[0].new_quantity, Some(111.0));
    }

    fn owned(addition_id: i64, product_id: i64, last_quantity: f64) -> Owned {
        Owned {
            addition_id,
            agreement_id: 201,
            product_id,
            company_id: 1,
            local_product_id: Some(BACKUP),
            metric: "BackupUsage".into(),
            last_quantity,
            retired: false,
        }
    }

    /// A push plans each agreement as its additions are read: an agreement's lines depend on
    /// its own additions only, each agreement is named once in line order, and the lines of
    /// every agreement, then the skipped lines, are the whole plan.
    #[test]
    fn each_agreement_is_planned_from_its_own_additions() {
        let accounts = (1..=6)
            .map(|c| account(c, &format!("acct-{c}"), linked(c)))
            .collect();
        let mut input = input(accounts, UsageValue::Total);
        let on = |agreement_id: i64, a: Addition| Addition { agreement_id, ..a };
        input.additions = vec![
            on(201, addition(9, STORAGE_PRODUCT, 20.0)),
            on(202, addition(8, LOCAL_PRODUCT, 3.0)),
            on(203, addition(7, STORAGE_PRODUCT, 25.0)),
            // Owned, on an agreement no target names any more: retired there.
            on(204, addition(6, 599, 4.0)),
        ];
        input.owned = vec![Owned {
            agreement_id: 204,
            company_id: 4,
            ..owned(6, 599, 4.0)
        }];
        input.unreadable = HashMap::from([(203, vec!["addition 5 names no product".into()])]);
        let whole = plan(&input);
        let planner = Planner::new(&input);
        let order = planner.agreements().to_vec();
        assert_eq!(
            order,
            [201, 202, 203, 204],
            "company 5's two agreements: skipped"
        );
        let mut split = Vec::new();
        for agreement in &order {
            let own: Vec<&Addition> = input
                .additions
                .iter()
                .filter(|a| a.agreement_id == *agreement)
                .collect();
            let part = planner.agreement(*agreement, &own, input.unreadable.get(agreement));
            assert!(part.skips.is_empty());
            assert!(
                part.lines
                    .iter()
                    .all(|l| l.agreement_id == Some(*agreement)),
                "{part:?}",
                part = part.lines
            );
            // Another agreement's additions change nothing here.
            let all: Vec<&Addition> = input.additions.iter().collect();
            let crowded = planner.agreement(*agreement, &all, input.unreadable.get(agreement));
            assert_eq!(crowded.lines, part.lines);
            split.extend(part.lines);
        }
        split.extend(planner.skips().iter().cloned());
        assert_eq!(split, whole);
        assert_eq!(
            actions(&whole[..5])
                .iter()
                .map(|(_, _, action, reason, _)| (*action, *reason))
                .collect::<Vec<_>>(),
            [
                ("UPDATE", None),
                ("CREATE", None),
                ("CREATE", None),
                ("UNCHANGED", None),
                ("SKIP", Some("ADDITION_NOT_ADOPTABLE")),
            ]
        );
        assert!(
            whole
                .iter()
                .any(|l| l.action == Action::Retire && l.addition_id == Some(6))
        );
    }

    #[test]
    fn owned_additions_no_mapping_wants_are_retired() {
        const OLD_PRODUCT: i64 = 599; // what a level billed before it was remapped
        let mut input = input(vec![account(1, "a", linked(1))], UsageValue::Total);
        input.additions = vec![
            addition(9, STORAGE_PRODUCT, 25.0),
            addition(40, OLD_PRODUCT, 30.0),
            addition(41, OLD_PRODUCT + 1, 0.0),
        ];
        input.owned = vec![
            owned(9, STORAGE_PRODUCT, 25.0),
            owned(40, OLD_PRODUCT, 30.0),
            owned(41, OLD_PRODUCT + 1, 5.0),
        ];
        let lines = plan(&input);
        let retire: Vec<&Line> = lines
            .iter()
            .filter(|l| l.action == Action::Retire)
            .collect();
        // 41 already bills nothing: nothing to retire in ZERO mode.
        assert_eq!(retire.len(), 1, "{lines:#?}");
        assert_eq!(retire[0].addition_id, Some(40));
        assert_eq!(
            (retire[0].current_quantity, retire[0].new_quantity),
            (Some(30.0), Some(0.0))
        );
        assert_eq!(retire[0].effective_date, None);
        assert!(
            retire[0].detail.contains("no mapping wants addition 40"),
            "{}",
            retire[0].detail
        );
        // The adopted, still wanted one is not retired.
        assert_eq!(
            lines
                .iter()
                .find(|l| l.addition_id == Some(9))
                .unwrap()
                .action,
            Action::Unchanged
        );

        // CANCEL: from the first of next month.
        input.settings.retire_mode = RetireMode::Cancel;
        let lines = plan(&input);
        let cancel: Vec<&Line> = lines
            .iter()
            .filter(|l| l.action == Action::Retire)
            .collect();
        assert_eq!(
            cancel.len(),
            1,
            "a line already at 0 bills nothing: left alone"
        );
        assert!(
            cancel
                .iter()
                .all(|l| l.effective_date == Some(at("2026-12-01T00:00:00Z")))
        );
        input.settings.retire_mode = RetireMode::Zero;

        // Edited by hand since billbridge wrote it: SKIP leaves it, OVERWRITE retires it.
        input.owned[1].last_quantity = 12.0;
        let line = |input: &Input| {
            plan(input)
                .into_iter()
                .find(|l| l.addition_id == Some(40))
                .unwrap()
        };
        assert_eq!(line(&input).action, Action::Retire);
        assert!(line(&input).drifted);
        input.settings.on_manual_edit = OnManualEdit::Skip;
        assert_eq!(line(&input).action, Action::Skip(SkipReason::Drifted));
        input.settings.on_manual_edit = OnManualEdit::Overwrite;

        // Never: one already retired, one of another service, one someone cancelled or set
        // not to bill, one that is gone from ConnectWise.
        let untouched = |input: &Input| plan(input).iter().all(|l| l.action != Action::Retire);
        input.owned[1].retired = true;
        assert!(untouched(&input));
        input.owned[1].retired = false;
        input.scope = Some(HashSet::from([MAIL]));
        assert!(untouched(&input));
        input.scope = None;
        input.additions[1].bill_customer = Some("DoNotBill".into());
        assert!(untouched(&input));
        input.additions[1].bill_customer = Some("Billable".into());
        input.additions[1].cancelled = Stamp::At(input.now - chrono::Duration::days(1));
        assert!(untouched(&input));
        input.additions.remove(1);
        assert!(untouched(&input));
    }

    #[test]
    fn still_wanted_or_unsure_is_never_retired() {
        let mut input = input(
            vec![
                account(1, "a", linked(1)),
                account(
                    2,
                    "claimed-twice",
                    AccountLink::Ambiguous {
                        reason: "two companies".into(),
                    },
                ),
            ],
            UsageValue::Total,
        );
        // a's storage usage is missing this time: the mapping still wants the addition.
        input.usage.remove(&(1, STORAGE));
        input.additions = vec![addition(9, STORAGE_PRODUCT, 25.0)];
        input.owned = vec![owned(9, STORAGE_PRODUCT, 25.0)];
        let lines = plan(&input);
        assert!(
            lines.iter().all(|l| l.action != Action::Retire),
            "{lines:#?}"
        );
        // Unlinked from company 1 for good: no longer wanted there — but the account whose
        // company is unknown may want the same product, so it is skipped, not retired.
        input.accounts[0].link = AccountLink::NotFound {
            reason: "gone".into(),
        };
        let lines = plan(&input);
        let kept = lines.iter().find(|l| l.addition_id == Some(9)).unwrap();
        assert_eq!(kept.action, Action::Skip(SkipReason::AmbiguousCompany));
        assert!(kept.detail.contains("claimed-twice"), "{}", kept.detail);
        // Once nobody may want it, it is retired.
        input.subscriptions.retain(|s| s.account_id != 2);
        let lines = plan(&input);
        assert_eq!(
            lines
                .iter()
                .find(|l| l.addition_id == Some(9))
                .unwrap()
                .action,
            Action::Retire
        );
    }

    #[test]
    fn a_person_s_edit_is_seen_as_drift() {
        let mut input = input(vec![account(1, "a", linked(1))], UsageValue::Total);
        // billbridge wrote 20; someone set 22; usage now says 25.
        input.additions = vec![addition(9, STORAGE_PRODUCT, 22.0)];
        input.owned = vec![owned(9, STORAGE_PRODUCT, 20.0)];
        let storage = |input: &Input| plan(input).into_iter().next().unwrap();
        let line = storage(&input);
        assert_eq!(line.action, Action::Update);
        assert!(line.drifted);
        assert_eq!(
            (
                line.last_written_quantity,
                line.current_quantity,
                line.new_quantity
            ),
            (Some(20.0), Some(22.0), Some(25.0))
        );
        input.settings.on_manual_edit = OnManualEdit::Skip;
        let line = storage(&input);
        assert_eq!(line.action, Action::Skip(SkipReason::Drifted));
        assert_eq!(
            line.new_quantity,
            Some(25.0),
            "the preview still shows what it would write"
        );
        // Not owned: adopted as it is, no drift.
        input.owned.clear();
        let line = storage(&input);
        assert_eq!((line.action, line.drifted), (Action::Update, false));
        // With a duplicate, the owned one is kept up to date, whatever its id.
        input.additions.push(addition(3, STORAGE_PRODUCT, 1.0));
        input.owned = vec![owned(9, STORAGE_PRODUCT, 22.0)];
        assert_eq!(storage(&input).addition_id, Some(9));
    }

    #[test]
    fn each_line_says_what_it_means_a_month() {
        let mut input = input(vec![account(1, "a", linked(1))], UsageValue::Total);
        input.prices = HashMap::from([(STORAGE_PRODUCT, 0.10), (LOCAL_PRODUCT, 2.0)]);
        let mut storage = addition(9, STORAGE_PRODUCT, 20.0);
        storage.unit_price = Some(0.12); // the addition's own price wins over the catalog's
        input.additions = vec![storage];
        let lines = plan(&input);
        type Money<'a> = (Option<&'a str>, Option<(f64, f64)>);
        let money: Vec<Money> = lines
            .iter()
            .map(|l| (l.metric.as_deref(), l.money()))
            .collect();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        let (before, after) = money[0].1.unwrap();
        assert!(
            close(before, 2.4) && close(after, 3.0),
            "20 → 25 GB at 0.12: {money:?}"
        );
        let (before, after) = money[1].1.unwrap();
        assert!(
            close(before, 0.0) && close(after, 6.0),
            "a new line at the catalog price: {money:?}"
        );
        // A retire bills nothing after; a skipped line changes nothing; no price, no money.
        let mut retired = lines[0].clone();
        retired.action = Action::Retire;
        retired.new_quantity = Some(0.0);
        assert_eq!(retired.money().map(|m| close(m.1, 0.0)), Some(true));
        let mut skipped = lines[0].clone();
        skipped.action = Action::Skip(SkipReason::Drifted);
        let (b, a) = skipped.money().unwrap();
        assert!(close(b, a));
        skipped.unit_price = None;
        assert_eq!(skipped.money(), None);
    }

    #[test]
    fn an_inactive_cross_reference_is_named_as_such() {
        let mut input = input(vec![account(1, "a", linked(1))], UsageValue::Total);
        let mut local = xref("LocalBackup", LOCAL_PRODUCT);
        local.inactive = true;
        input.levels.get_mut(&GOLD).unwrap().cross_references[1] = local;
        let lines = plan(&input);
        let line = lines
            .iter()
            .find(|l| l.metric.as_deref() == Some("LocalBackup"))
            .unwrap();
        assert_eq!(line.action, Action::Skip(SkipReason::NoCrossReference));
        assert!(
            line.detail.contains("is inactive in ConnectWise"),
            "{}",
            line.detail
        );
    }

    #[test]
    fn a_product_moved_to_another_agreement_type_is_retired_on_the_old_one() {
        const OTHER_TYPE: i64 = 8;
        let mut input = input(vec![account(1, "a", linked(1))], UsageValue::Total);
        // billbridge billed storage on agreement 201 (type 7); the level now sends the same
        // product to agreement type 8, which company 1 has as agreement 301.
        let mut other = agreement(301, 1);
        other.type_id = OTHER_TYPE;
        input.agreements.push(other);
        for x in &mut input.levels.get_mut(&GOLD).unwrap().cross_references {
            x.agreement_type_id = OTHER_TYPE;
        }
        input.additions = vec![addition(9, STORAGE_PRODUCT, 25.0)];
        input.owned = vec![owned(9, STORAGE_PRODUCT, 25.0)];
        let lines = plan(&input);
        let old = lines.iter().find(|l| l.addition_id == Some(9)).unwrap();
        assert_eq!(old.action, Action::Retire, "{lines:#?}");
        let new = lines
            .iter()
            .find(|l| l.agreement_id == Some(301) && l.metric.as_deref() == Some("BackupUsage"))
            .unwrap();
        assert_eq!(new.action, Action::Create);
    }
}
