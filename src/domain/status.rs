//! A service's billing status as the Billing page shows it: how much of what customers
//! subscribe to is covered by a mapping.

use super::billing::{MappingKey, applicable_mapping};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BillingState {
    /// No mapping at all.
    NotSetUp,
    /// Some products or some subscriptions have no applicable mapping.
    PartiallySetUp,
    /// Every product is mapped and every subscription is covered.
    SetUp,
    /// Its mappings live in the legacy platform; shown read-only, not pushed by us.
    ManagedExternally,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BillingStatus {
    pub state: BillingState,
    pub mapped_products: usize,
    pub products: usize,
    pub covered_subscriptions: u64,
    pub subscriptions: u64,
}

/// A mapping as the status sees it.
#[derive(Clone, Copy, Debug)]
pub struct StatusMapping {
    pub key: MappingKey,
    pub managed_externally: bool,
}

/// How many subscriptions a (product, plan) pair has.
#[derive(Clone, Copy, Debug)]
pub struct SubscriptionCount {
    pub product_id: i64,
    pub plan_id: Option<i64>,
    pub count: u64,
}

pub fn billing_status(
    product_ids: &[i64],
    mappings: &[StatusMapping],
    subscriptions: &[SubscriptionCount],
) -> BillingStatus {
    let keys: Vec<MappingKey> = mappings.iter().map(|m| m.key).collect();
    let mapped_products = product_ids
        .iter()
        .filter(|p| keys.iter().any(|k| k.product_id == **p))
        .count();
    let total: u64 = subscriptions.iter().map(|s| s.count).sum();
    let covered: u64 = subscriptions
        .iter()
        .filter(|s| applicable_mapping(&keys, s.product_id, s.plan_id).is_some())
        .map(|s| s.count)
        .sum();
    let state = if mappings.is_empty() {
        BillingState::NotSetUp
    } else if mappings.iter().any(|m| m.managed_externally) {
        BillingState::ManagedExternally
    } else if mapped_products == product_ids.len() && covered == total {
        BillingState::SetUp
    } else {
        BillingState::PartiallySetUp
    };
    BillingStatus {
        state,
        mapped_products,
        products: product_ids.len(),
        covered_subscriptions: covered,
        subscriptions: total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BillingState::*;

    fn mapping(product_id: i64, plan_id: Option<i64>, external: bool) -> StatusMapping {
        StatusMapping {
            key: MappingKey {
                product_id,
                plan_id,
            },
            managed_externally: external,
        }
    }

    fn subs(product_id: i64, plan_id: Option<i64>, count: u64) -> SubscriptionCount {
        SubscriptionCount {
            product_id,
            plan_id,
            count,
        }
    }

    #[test]
    fn states() {
        let products = [1, 2];
        let counts = [subs(1, Some(10), 3), subs(1, Some(11), 2), subs(2, None, 4)];
        let table: Vec<(Vec<StatusMapping>, BillingState, usize, u64)> = vec![
            (vec![], NotSetUp, 0, 0),
            (vec![mapping(1, Some(10), false)], PartiallySetUp, 1, 3),
            (
                vec![mapping(1, None, false), mapping(2, None, false)],
                SetUp,
                2,
                9,
            ),
            (
                vec![mapping(1, Some(10), false), mapping(2, None, false)],
                PartiallySetUp, // plan 11 of product 1 is not covered
                2,
                7,
            ),
            (
                vec![mapping(1, None, true), mapping(2, None, true)],
                ManagedExternally,
                2,
                9,
            ),
        ];
        for (mappings, state, mapped, covered) in table {
            let status = billing_status(&products, &mappings, &counts);
            assert_eq!(status.state, state, "{mappings:?}");
            assert_eq!(status.mapped_products, mapped, "{mappings:?}");
            assert_eq!(status.covered_subscriptions, covered, "{mappings:?}");
            assert_eq!(status.subscriptions, 9);
            assert_eq!(status.products, 2);
        }
    }
}
