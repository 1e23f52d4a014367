//! A service's billing status as the Billing page shows it: how much of what customers
//! subscribe to is covered by a mapping.

use super::billing::{MappingKey, applicable_mapping};
use super::push::SkipReason;

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
    /// Mapped, but every covered subscription would be skipped by a push (see
    /// [`Readiness`]): the billing status counts what would really be pushed.
    NeedsAttention,
}

/// How many covered subscriptions a push could bill, and why the others would be skipped,
/// as far as billbridge knows without asking ConnectWise (links, cross-references, usage).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    pub ready: u64,
    pub stuck: u64,
    /// The most frequent reason among the stuck ones.
    pub main_reason: Option<SkipReason>,
}

impl Readiness {
    /// From each covered subscription's reason (`None`: it would be pushed).
    pub fn of(reasons: impl IntoIterator<Item = Option<SkipReason>>) -> Readiness {
        let mut readiness = Readiness::default();
        let mut counts: Vec<(SkipReason, u64)> = Vec::new();
        for reason in reasons {
            match reason {
                None => readiness.ready += 1,
                Some(reason) => {
                    readiness.stuck += 1;
                    match counts.iter_mut().find(|(r, _)| *r == reason) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((reason, 1)),
                    }
                }
            }
        }
        // Most frequent first; ties go to the reason that comes first in a push's checks.
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        readiness.main_reason = counts.first().map(|(r, _)| *r);
        readiness
    }
}

/// What keeps one covered subscription from being pushed, without asking ConnectWise: its
/// account's link, then whether some metric has an active cross-reference and usage.
/// `metrics` holds (has an active cross-reference, has usage) per metric of the product.
pub fn stuck_reason(
    linked: Result<(), SkipReason>,
    metrics: &[(bool, bool)],
) -> Option<SkipReason> {
    if let Err(reason) = linked {
        return Some(reason);
    }
    if metrics.iter().any(|(xref, usage)| *xref && *usage) {
        None
    } else if metrics.iter().any(|(xref, _)| *xref) {
        Some(SkipReason::NoUsage)
    } else {
        Some(SkipReason::NoCrossReference)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BillingStatus {
    pub state: BillingState,
    pub mapped_products: usize,
    pub products: usize,
    pub covered_subscriptions: u64,
    pub subscriptions: u64,
    pub readiness: Readiness,
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
    readiness: Readiness,
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
    } else if covered > 0 && readiness.ready == 0 && readiness.stuck > 0 {
        BillingState::NeedsAttention
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
        readiness,
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
            let ready = Readiness::of([None]);
            let status = billing_status(&products, &mappings, &counts, ready);
            assert_eq!(status.state, state, "{mappings:?}");
            assert_eq!(status.mapped_products, mapped, "{mappings:?}");
            assert_eq!(status.covered_subscriptions, covered, "{mappings:?}");
            assert_eq!(status.subscriptions, 9);
            assert_eq!(status.products, 2);
        }
    }

    #[test]
    fn mapped_but_nothing_would_be_pushed_needs_attention() {
        let products = [1];
        let counts = [subs(1, None, 3)];
        let mappings = [mapping(1, None, false)];
        let stuck = Readiness::of([
            Some(SkipReason::NotLinked),
            Some(SkipReason::NoUsage),
            Some(SkipReason::NotLinked),
        ]);
        assert_eq!((stuck.ready, stuck.stuck), (0, 3));
        assert_eq!(stuck.main_reason, Some(SkipReason::NotLinked));
        let status = billing_status(&products, &mappings, &counts, stuck);
        assert_eq!(status.state, NeedsAttention);
        // One that would be pushed is enough to be set up.
        let one = Readiness::of([None, Some(SkipReason::NotLinked)]);
        assert_eq!(
            billing_status(&products, &mappings, &counts, one).state,
            SetUp
        );
        // Managed elsewhere stays so whatever billbridge could push.
        let external = [mapping(1, None, true)];
        assert_eq!(
            billing_status(&products, &external, &counts, stuck).state,
            ManagedExternally
        );
    }

    #[test]
    fn why_a_subscription_would_be_skipped() {
        use SkipReason::*;
        /// (the account's link, (cross-reference, usage) per metric, expected reason)
        type Row<'a> = (
            Result<(), SkipReason>,
            &'a [(bool, bool)],
            Option<SkipReason>,
        );
        let table: &[Row] = &[
            (Ok(()), &[(true, true), (false, false)], None),
            (Ok(()), &[(true, false), (false, true)], Some(NoUsage)),
            (Ok(()), &[(false, true)], Some(NoCrossReference)),
            (Ok(()), &[], Some(NoCrossReference)),
            (
                Err(AmbiguousCompany),
                &[(true, true)],
                Some(AmbiguousCompany),
            ),
        ];
        for (link, metrics, expected) in table {
            assert_eq!(
                stuck_reason(*link, metrics),
                *expected,
                "{link:?} {metrics:?}"
            );
        }
    }
}
