//! More accounts than the demo's 50, made the way the demo's are: named after them
//! (`acme-dental-001`, …), subscribed with the demo's odds, with twelve weeks of usage. For
//! `bench api` and `serve --demo --demo-accounts N` (the Push page at MSP scale); the
//! sandbox gives each a company and agreements (`sandbox::more_customers`).

use chrono::{Duration as Days, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::Set;

use crate::db::accounts::{self, AccountInput, SubscriptionInput};
use crate::db::entity::usage_sample;
use crate::db::{Scope, catalog};

/// Chance in percent that an account subscribes to each product, by the order the demo
/// creates them (backup, mailbox protection, gateway, web filtering): the demo's own odds.
const SUBSCRIBE_PERCENT: [u32; 4] = [100, 60, 30, 25];
/// Weeks of usage per metric, as in the demo.
pub const WEEKS: i64 = 12;

/// The names of the accounts beyond the demo's, for `count` accounts in all.
pub fn names(count: usize) -> Vec<String> {
    let extra = count.saturating_sub(super::ACCOUNTS.len());
    (0..extra)
        .map(|i| {
            let base = super::ACCOUNTS[i % super::ACCOUNTS.len()];
            format!("{base}-{:03}", i / super::ACCOUNTS.len() + 1)
        })
        .collect()
}

fn fail(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!(e.message())
}

/// Accounts beyond the demo's, named after them (`acme-dental-001`, …), subscribed and
/// measured the way the demo's are. Returns their names.
pub async fn accounts(scope: &Scope, count: usize) -> anyhow::Result<Vec<String>> {
    let names = names(count);
    if names.is_empty() {
        return Ok(names);
    }
    let services = catalog::services(scope).await.map_err(fail)?;
    let service_ids: Vec<i64> = services.iter().map(|s| s.id).collect();
    let mut products = catalog::products_of_services(scope, &service_ids)
        .await
        .map_err(fail)?;
    products.sort_by_key(|p| p.id);
    let product_ids: Vec<i64> = products.iter().map(|p| p.id).collect();
    let mut plans = catalog::plans_of_products(scope, &product_ids)
        .await
        .map_err(fail)?;
    plans.sort_by_key(|p| p.id);
    let metrics = catalog::metrics_of_products(scope, &product_ids)
        .await
        .map_err(fail)?;

    let mut dice = StdRng::seed_from_u64(0xb111_b71d_6e00_5eed);
    let rows: Vec<AccountInput> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let subscriptions = products
                .iter()
                .zip(SUBSCRIBE_PERCENT)
                .filter(|(_, percent)| dice.random_range(0..100) < *percent)
                .map(|(product, _)| {
                    let offered: Vec<_> = plans
                        .iter()
                        .filter(|p| p.product_id == product.id)
                        .collect();
                    SubscriptionInput {
                        product_id: product.id,
                        plan_id: (!offered.is_empty()).then(|| offered[i % offered.len()].id),
                    }
                })
                .collect();
            AccountInput {
                name: name.clone(),
                link_identifier: None,
                subscriptions,
            }
        })
        .collect();
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(accounts::MAX_BATCH) {
        let saved = accounts::upsert(scope, chunk.to_vec())
            .await
            .map_err(fail)?;
        ids.extend(saved.into_iter().map(|a| (a.name, a.id)));
    }
    let id_of: std::collections::HashMap<String, i64> = ids.into_iter().collect();

    // Twelve weekly samples per metric of every subscription: storage near the plan's
    // size and growing, counts drifting.
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or_else(Utc::now, |midnight| midnight.and_utc());
    let mut samples = Vec::new();
    for row in &rows {
        let account = id_of[&row.name];
        for subscription in &row.subscriptions {
            let base = plans
                .iter()
                .find(|p| Some(p.id) == subscription.plan_id)
                .map_or(50.0, |p| p.base_size_gb.max(40.0));
            for metric in metrics
                .iter()
                .filter(|m| m.product_id == subscription.product_id)
            {
                let gb = metric.unit == crate::domain::MetricUnit::Gb;
                let mut level = if gb {
                    base * dice.random_range(0.5..1.3)
                } else {
                    dice.random_range(1.0_f64..40.0).floor()
                };
                for week in (0..WEEKS).rev() {
                    samples.push(usage_sample::ActiveModel {
                        account_id: Set(account),
                        metric_id: Set(metric.id),
                        quantity: Set(if gb {
                            (level * 100.0).round() / 100.0
                        } else {
                            level.floor()
                        }),
                        measured_at: Set(today - Days::weeks(week)),
                        ..Default::default()
                    });
                    level = if gb {
                        level * dice.random_range(1.0..1.04)
                    } else {
                        (level + dice.random_range(-1.0..2.0)).max(0.0)
                    };
                }
            }
        }
    }
    let txn = scope.begin().await?;
    txn.scope().insert_many(txn.scope().db(), samples).await?;
    txn.commit().await?;
    Ok(names)
}
