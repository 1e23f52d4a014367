//! Gathering what the planner needs: billbridge's side from the database in a handful of
//! queries, ConnectWise's side in bulk (paged agreement lists, then one additions list per
//! agreement the plan touches).

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use std::collections::{HashMap, HashSet};

use super::limiter::Limiter;
use crate::connectwise::conditions::Condition;
use crate::connectwise::{Client, ListQuery, Listed, model};
use crate::db::entity::level_cross_reference;
use crate::db::{Scope, accounts, catalog, levels, mappings, ownership, psa, usage};
use crate::domain::billing::PlanSize;
use crate::domain::push::{self as plan, AccountLink, Input, Stamp};
use crate::domain::{MetricUnit, UsageValue};
use crate::error::{AppError, AppResult};

/// billbridge's side of the plan, for one service or all of them.
pub async fn local(scope: &Scope, service_id: Option<i64>) -> AppResult<Input> {
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
                Some(l) if l.state == "LINKED" => AccountLink::Linked {
                    company_id: l.company_id.unwrap_or_default(),
                    company_name: l.company_name.clone().unwrap_or_default(),
                },
                Some(l) if l.state == "AMBIGUOUS" => AccountLink::Ambiguous {
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
    let metrics = catalog::metrics_of_products(scope, &products)
        .await?
        .into_iter()
        .map(|m| plan::Metric {
            unit: m.unit.parse().unwrap_or(MetricUnit::Count),
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
            usage_value: m.usage_value.parse().unwrap_or(UsageValue::Total),
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
    let usage = usage::latest_all(scope)
        .await?
        .into_iter()
        .map(|u| ((u.account_id, u.metric_id), u.quantity))
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
        accounts,
        subscriptions,
        metrics,
        mappings,
        plans,
        product_names,
        plan_names,
        usage,
        levels,
        agreements: Vec::new(),
        additions: Vec::new(),
        unreadable: HashMap::new(),
        owned: ownership::all(scope).await?,
        prices: HashMap::new(),
        settings: ownership::settings(scope).await?.0,
        scope: service_id.map(|_| products.iter().copied().collect()),
        now: chrono::Utc::now(),
    })
}

/// ConnectWise's side: every agreement of the cross-referenced types (forward-only pages),
/// whatever its state — the planner decides which may bill, and names the others in its
/// skip reasons — then the additions of each agreement the plan touches (one list each,
/// concurrently).
pub async fn remote(
    input: &mut Input,
    client: &Client,
    limiter: &Limiter,
    concurrency: usize,
    now: DateTime<Utc>,
) -> AppResult<()> {
    input.now = now;
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
        return Ok(());
    }
    limiter.acquire().await;
    let agreements = client
        .agreements(ListQuery::conditions(Condition::is_in("type/id", types)))
        .await?;
    input.agreements = agreements.into_iter().filter_map(agreement).collect();
    input.prices = prices(client, limiter, input).await;
    let touched = plan::agreements_touched(input);
    (input.additions, input.unreadable) =
        additions(client, limiter, concurrency, touched.into_iter().collect()).await?;
    Ok(())
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
    let lists: Vec<(i64, Listed<model::Addition>)> = futures_util::stream::iter(agreements)
        .map(|agreement| async move {
            limiter.acquire().await;
            let listed = client.additions(agreement, ListQuery::default()).await?;
            Ok::<_, AppError>((agreement, listed))
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut additions = Vec::new();
    let mut unreadable: HashMap<i64, Vec<String>> = HashMap::new();
    for (agreement, listed) in lists {
        if !listed.warnings.is_empty() {
            for warning in &listed.warnings {
                tracing::warn!(agreement, %warning, "ConnectWise addition left out");
            }
            unreadable.insert(agreement, listed.warnings);
        }
        for a in listed.items {
            let Some(product) = a.product else {
                let why = format!("addition {} names no product", a.id);
                unreadable.entry(agreement).or_default().push(why);
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
    }
    Ok((additions, unreadable))
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
