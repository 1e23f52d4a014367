//! Gathering what the planner needs: billbridge's side from the database in a handful of
//! queries, ConnectWise's side in bulk (paged agreement lists and the catalog prices, then
//! one additions list per agreement the plan touches).

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use std::collections::{HashMap, HashSet};

use super::limiter::Limiter;
use crate::connectwise::conditions::Condition;
use crate::connectwise::{Client, ListQuery, model};
use crate::db::entity::level_cross_reference;
use crate::db::{Scope, accounts, catalog, levels, mappings, ownership, psa, usage};
use crate::domain::LinkState;
use crate::domain::billing::PlanSize;
use crate::domain::push::{self as plan, AccountLink, Input, Stamp};
use crate::error::{AppError, AppResult};

/// billbridge's side of the plan, for one service or all of them.
pub async fn local(scope: &Scope, service_id: Option<i64>) -> AppResult<Input> {
    let mut input = catalog(scope, service_id).await?;
    people(scope, &input).await?.add_to(&mut input);
    Ok(input)
}

/// The catalog part of billbridge's side (products, metrics, mappings, plans, levels with
/// their cross-references): all that reading ConnectWise's agreements needs, so a push reads
/// those while it loads [`people`].
pub async fn catalog(scope: &Scope, service_id: Option<i64>) -> AppResult<Input> {
    let product_rows = match service_id {
        Some(id) => {
            catalog::service(scope, id).await?;
            catalog::products_of_services(scope, &[id]).await?
        }
        None => {
            let services: Vec<i64> = catalog::services(scope)
                .await?
                .iter()
                .map(|s| s.id)
                .collect();
            catalog::products_of_services(scope, &services).await?
        }
    };
    let products: Vec<i64> = product_rows.iter().map(|p| p.id).collect();
    let product_names = product_rows.into_iter().map(|p| (p.id, p.name)).collect();
    let metrics = catalog::metrics_of_products(scope, &products)
        .await?
        .into_iter()
        .map(|m| plan::Metric {
            unit: m.unit,
            id: m.id,
            product_id: m.product_id,
            cross_reference_type: m.cross_reference_type,
        })
        .collect();
    let mapping_rows = mappings::of_products(scope, &products).await?;
    let mappings = mapping_rows
        .iter()
        .map(|m| plan::Mapping {
            id: m.id,
            product_id: m.product_id,
            plan_id: m.plan_id,
            level_id: m.level_id,
            usage_value: m.usage_value,
            managed_externally: m.managed_externally,
        })
        .collect();
    let plan_rows = catalog::plans_of_products(scope, &products).await?;
    let plan_names = plan_rows
        .iter()
        .map(|p| (p.id, p.unique_id.clone()))
        .collect();
    let plans = plan_rows
        .into_iter()
        .map(|p| {
            (
                p.id,
                PlanSize {
                    base_gb: p.base_size_gb,
                    block_gb: p.block_size_gb,
                },
            )
        })
        .collect();
    let level_ids: HashSet<i64> = mapping_rows.iter().map(|m| m.level_id).collect();
    let level_ids: Vec<i64> = level_ids.into_iter().collect();
    let mut references: HashMap<i64, Vec<level_cross_reference::Model>> = HashMap::new();
    for x in psa::cross_references_of_levels(scope, &level_ids).await? {
        references.entry(x.level_id).or_default().push(x);
    }
    let levels = levels::by_ids(scope, &level_ids)
        .await?
        .into_iter()
        .map(|l| {
            let cross_references = references
                .remove(&l.id)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|x| {
                    Some(plan::CrossReference {
                        agreement_type_id: x.agreement_type_id?,
                        product_id: x.product_id?,
                        product_identifier: x.product_identifier.unwrap_or_default(),
                        vendor_type: x.vendor_type,
                        inactive: x.inactive,
                    })
                })
                .collect();
            (
                l.id,
                plan::Level {
                    name: l.name,
                    cross_references,
                },
            )
        })
        .collect();
    Ok(Input {
        metrics,
        mappings,
        plans,
        product_names,
        plan_names,
        levels,
        scope: service_id.map(|_| products.iter().copied().collect()),
        now: chrono::Utc::now(),
        ..Input::default()
    })
}

/// The rest of billbridge's side: accounts and their links, the subscriptions of the
/// catalog's products, the latest usage, the owned additions and the push settings.
pub(crate) struct People {
    accounts: Vec<plan::Account>,
    subscriptions: Vec<plan::Subscription>,
    usage: HashMap<(i64, i64), f64>,
    owned: Vec<plan::Owned>,
    settings: plan::Settings,
}

impl People {
    /// Puts what was read into the planner's input.
    pub fn add_to(self, input: &mut Input) {
        input.accounts = self.accounts;
        input.subscriptions = self.subscriptions;
        input.usage = self.usage;
        input.owned = self.owned;
        input.settings = self.settings;
    }
}

/// Reads [`People`] for the products of `catalog` (from [`catalog`]).
pub async fn people(scope: &Scope, catalog: &Input) -> AppResult<People> {
    let products: Vec<i64> = catalog.product_names.keys().copied().collect();
    let all_accounts = accounts::all(scope).await?;
    let links: HashMap<i64, _> = psa::all_links(scope)
        .await?
        .into_iter()
        .map(|l| (l.account_id, l))
        .collect();
    let accounts = all_accounts
        .into_iter()
        .map(|a| plan::Account {
            link: match links.get(&a.id) {
                None => AccountLink::Unknown,
                Some(l) if l.state == LinkState::Linked => AccountLink::Linked {
                    company_id: l.company_id.unwrap_or_default(),
                    company_name: l.company_name.clone().unwrap_or_default(),
                },
                Some(l) if l.state == LinkState::Ambiguous => AccountLink::Ambiguous {
                    reason: l.reason.clone(),
                },
                Some(l) => AccountLink::NotFound {
                    reason: l.reason.clone(),
                },
            },
            id: a.id,
            name: a.name,
        })
        .collect();
    let subscriptions = accounts::subscriptions_of_products(scope, &products)
        .await?
        .into_iter()
        .map(|s| plan::Subscription {
            account_id: s.account_id,
            product_id: s.product_id,
            plan_id: s.plan_id,
        })
        .collect();
    let usage = usage::latest_all(scope)
        .await?
        .into_iter()
        .map(|u| ((u.account_id, u.metric_id), u.quantity))
        .collect();
    Ok(People {
        accounts,
        subscriptions,
        usage,
        owned: ownership::all(scope).await?,
        settings: ownership::settings(scope).await?.0,
    })
}

/// ConnectWise's side: the agreements and prices (see [`agreements`]), then the additions
/// of each agreement the plan touches (one list each, concurrently). A push reads those
/// additions itself, as it writes; a preview reads them all here.
pub(crate) async fn remote(
    input: &mut Input,
    client: &Client,
    limiter: &Limiter,
    concurrency: usize,
    now: DateTime<Utc>,
) -> AppResult<()> {
    input.now = now;
    (input.agreements, input.prices) = agreements(input, client, limiter).await?;
    let touched = plan::agreements_touched(input);
    (input.additions, input.unreadable) =
        additions(client, limiter, concurrency, touched.into_iter().collect()).await?;
    Ok(())
}

/// Every agreement of the cross-referenced types (forward-only pages), whatever its state —
/// the planner decides which may bill, and names the others in its skip reasons — and,
/// alongside, the catalog prices of the products the levels bill. Needs only the catalog
/// part of the input ([`catalog`]).
pub async fn agreements(
    input: &Input,
    client: &Client,
    limiter: &Limiter,
) -> AppResult<(Vec<plan::Agreement>, HashMap<i64, f64>)> {
    let mut types: Vec<i64> = input
        .levels
        .values()
        .flat_map(|l| l.cross_references.iter())
        .filter(|x| !x.inactive)
        .map(|x| x.agreement_type_id)
        .collect();
    types.sort_unstable();
    types.dedup();
    if types.is_empty() {
        return Ok((Vec::new(), HashMap::new()));
    }
    let listed = async {
        limiter.acquire().await;
        client
            .agreements(ListQuery::conditions(Condition::is_in("type/id", types)))
            .await
    };
    let (agreements, prices) = tokio::join!(listed, prices(client, limiter, input));
    let agreements = agreements?.into_iter().filter_map(agreement).collect();
    Ok((agreements, prices))
}

/// ConnectWise's agreement as the planner sees it; one without a company or type cannot be
/// billed through and is left out (with a warning).
fn agreement(a: model::Agreement) -> Option<plan::Agreement> {
    let (Some(company), Some(agreement_type)) = (&a.company, &a.agreement_type) else {
        tracing::warn!(
            agreement = a.id,
            "ConnectWise agreement without a company or type left out"
        );
        return None;
    };
    Some(plan::Agreement {
        id: a.id,
        company_id: company.id,
        type_id: agreement_type.id,
        status: a.agreement_status,
        cancelled: a.cancelled_flag,
        end_date: Stamp::parse(a.end_date.as_deref()),
        no_ending_date: a.no_ending_date_flag,
        parent: a.parent_agreement.map(|p| {
            let name = p.name.unwrap_or_else(|| format!("agreement {}", p.id));
            (p.id, name)
        }),
        name: a.name,
    })
}

/// Every addition of the given agreements, in whatever state (the planner and the executor
/// decide what may be adopted or written), and for each agreement with rows that could not
/// be read, what they were: nothing is written beside a line billbridge cannot see.
pub async fn additions(
    client: &Client,
    limiter: &Limiter,
    concurrency: usize,
    agreements: Vec<i64>,
) -> AppResult<(Vec<plan::Addition>, HashMap<i64, Vec<String>>)> {
    let lists: Vec<(i64, Additions)> = futures_util::stream::iter(agreements)
        .map(|agreement| async move {
            limiter.acquire().await;
            Ok::<_, AppError>((agreement, additions_of(client, agreement).await?))
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut additions = Vec::new();
    let mut unreadable: HashMap<i64, Vec<String>> = HashMap::new();
    for (agreement, listed) in lists {
        additions.extend(listed.additions);
        if let Some(why) = listed.unreadable {
            unreadable.insert(agreement, why);
        }
    }
    Ok((additions, unreadable))
}

/// One agreement's additions as read.
pub struct Additions {
    pub additions: Vec<plan::Addition>,
    /// What could not be read there, if anything.
    pub unreadable: Option<Vec<String>>,
}

/// Every addition of one agreement (one list call, its pages), as [`additions`] reads them.
pub(crate) async fn additions_of(client: &Client, agreement: i64) -> AppResult<Additions> {
    let listed = client.additions(agreement, ListQuery::default()).await?;
    let mut additions = Vec::with_capacity(listed.items.len());
    let mut unreadable: Vec<String> = Vec::new();
    for warning in &listed.warnings {
        tracing::warn!(agreement, %warning, "ConnectWise addition left out");
    }
    unreadable.extend(listed.warnings);
    for a in listed.items {
        let Some(product) = a.product else {
            unreadable.push(format!("addition {} names no product", a.id));
            continue;
        };
        additions.push(plan::Addition {
            id: a.id,
            agreement_id: agreement,
            product_id: product.id,
            quantity: a.quantity,
            bill_customer: a.bill_customer,
            cancelled: Stamp::parse(a.cancelled_date.as_deref()),
            unit_price: a.unit_price,
            product_identifier: product.identifier,
        });
    }
    Ok(Additions {
        additions,
        unreadable: (!unreadable.is_empty()).then_some(unreadable),
    })
}

/// The catalog prices of the products the levels bill (one paged read), for the money a
/// line means. A member not allowed to read the catalog gets a plan without prices for new
/// lines (logged), not a failed push: money is shown, never needed to bill.
async fn prices(client: &Client, limiter: &Limiter, input: &Input) -> HashMap<i64, f64> {
    let mut products: Vec<i64> = input
        .levels
        .values()
        .flat_map(|l| l.cross_references.iter())
        .filter(|x| !x.inactive)
        .map(|x| x.product_id)
        .collect();
    products.sort_unstable();
    products.dedup();
    if products.is_empty() {
        return HashMap::new();
    }
    limiter.acquire().await;
    match client
        .catalog(ListQuery::conditions(Condition::is_in("id", products)))
        .await
    {
        Ok(items) => items
            .into_iter()
            .filter_map(|i| Some((i.id, i.price?)))
            .collect(),
        Err(error) => {
            tracing::warn!(%error, "catalog prices not read; new lines show no money");
            HashMap::new()
        }
    }
}
