//! Which mapping bills a subscription, and what quantity each metric sends.
//!
//! Rounding rule — exact per account, rounded once on the sum: each account's part is
//! computed exactly ([`exact`]): its total GB, or the GB over *its own* plan's base size, in
//! whole blocks of *its own* plan when the plan has a block size (blocks belong to a plan).
//! The parts of the accounts that share an addition are added, and the sum is rounded to
//! whole units once ([`round_once`]): ConnectWise bills a started gigabyte, so GB round *up*
//! (two accounts using 100.2 and 10.2 GB bill 110.4 → 111 GB, where rounding each first
//! would bill 101 + 11 = 112).
//! Values are first settled to thousandths of a GB so that floating-point noise
//! (25.000000001) never costs a customer a whole GB. Counts are whole numbers (recording a
//! fractional count is refused) and are sent as counted. A measurement that is not a finite
//! number yields a non-finite quantity, which the planner refuses to send.

use super::{MetricUnit, UsageValue};

/// The part of a mapping that decides precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MappingKey {
    pub product_id: i64,
    /// `None` is "(All plans)".
    pub plan_id: Option<i64>,
}

/// The mapping that bills a subscription to `product_id` on `plan_id`: the plan's own
/// mapping wins over the product's "(All plans)" one. Returns the index into `mappings`.
pub fn applicable_mapping(
    mappings: &[MappingKey],
    product_id: i64,
    plan_id: Option<i64>,
) -> Option<usize> {
    let of_product = || {
        mappings
            .iter()
            .enumerate()
            .filter(move |(_, m)| m.product_id == product_id)
    };
    let specific = plan_id.and_then(|plan| {
        of_product()
            .find(|(_, m)| m.plan_id == Some(plan))
            .map(|(i, _)| i)
    });
    specific.or_else(|| {
        of_product()
            .find(|(_, m)| m.plan_id.is_none())
            .map(|(i, _)| i)
    })
}

/// The sizes of the plan a subscription is on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanSize {
    pub base_gb: f64,
    pub block_gb: Option<f64>,
}

/// One account's exact part of a quantity, before rounding (see the module's rule). A
/// measurement that is not finite gives NaN, so the sum it joins is refused, never sent.
pub fn exact(unit: MetricUnit, usage: UsageValue, measured: f64, plan: Option<PlanSize>) -> f64 {
    if !measured.is_finite() {
        return f64::NAN;
    }
    let measured = settle(measured.max(0.0));
    match unit {
        MetricUnit::Count => measured,
        MetricUnit::Gb => match usage {
            UsageValue::Total => measured,
            UsageValue::Additional => {
                let base = plan.map_or(0.0, |p| p.base_gb);
                let over = settle(measured - base).max(0.0);
                match plan.and_then(|p| p.block_gb).filter(|b| *b > 0.0) {
                    Some(block) => (over / block).ceil() * block,
                    None => over,
                }
            }
        },
    }
}

/// The quantity that goes on an addition: the sum of the accounts' exact parts, rounded to
/// whole units once (GB up, counts to the nearest).
pub fn round_once(unit: MetricUnit, sum: f64) -> f64 {
    match unit {
        MetricUnit::Count => sum.round(),
        MetricUnit::Gb => settle(sum).ceil(),
    }
}

/// The quantity one account alone would send for a metric.
pub fn quantity(unit: MetricUnit, usage: UsageValue, measured: f64, plan: Option<PlanSize>) -> f64 {
    round_once(unit, exact(unit, usage, measured, plan))
}

/// Rounds to thousandths of a GB, removing floating-point noise before rounding up.
fn settle(gb: f64) -> f64 {
    (gb * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Option<i64> = None;

    #[test]
    fn plan_mapping_wins_over_all_plans() {
        let mappings = [
            MappingKey {
                product_id: 1,
                plan_id: ALL,
            },
            MappingKey {
                product_id: 1,
                plan_id: Some(10),
            },
            MappingKey {
                product_id: 2,
                plan_id: Some(20),
            },
        ];
        // (product, plan) → expected mapping index
        let table: &[(i64, Option<i64>, Option<usize>)] = &[
            (1, Some(10), Some(1)), // its own plan mapping
            (1, Some(11), Some(0)), // another plan falls back to All plans
            (1, None, Some(0)),     // no plan: All plans
            (2, Some(20), Some(2)),
            (2, Some(21), None), // no All plans mapping for product 2
            (3, Some(10), None), // plan 10 belongs to product 1's mapping only
        ];
        for &(product, plan, expected) in table {
            assert_eq!(
                applicable_mapping(&mappings, product, plan),
                expected,
                "product {product} plan {plan:?}"
            );
        }
    }

    #[test]
    fn quantities_follow_the_usage_value_and_rounding_rule() {
        use MetricUnit::*;
        use UsageValue::*;
        let p20 = Some(PlanSize {
            base_gb: 20.0,
            block_gb: None,
        });
        let p20_blocks = Some(PlanSize {
            base_gb: 20.0,
            block_gb: Some(50.0),
        });
        let table: &[(MetricUnit, UsageValue, f64, Option<PlanSize>, f64)] = &[
            // the seed's example: 20 GB plan
            (Gb, Additional, 25.0, p20, 5.0),
            (Gb, Additional, 15.0, p20, 0.0),
            (Gb, Additional, 20.0, p20, 0.0),
            (Gb, Total, 25.0, p20, 25.0),
            (Gb, Total, 15.0, p20, 15.0),
            // a started GB is billed, noise is not
            (Gb, Total, 25.2, p20, 26.0),
            (Gb, Total, 25.000_000_1, p20, 25.0),
            (Gb, Additional, 20.4, p20, 1.0),
            (Gb, Additional, 20.000_000_1, p20, 0.0),
            // blocks
            (Gb, Additional, 25.0, p20_blocks, 50.0),
            (Gb, Additional, 71.0, p20_blocks, 100.0),
            (Gb, Additional, 19.0, p20_blocks, 0.0),
            // no plan: all of it is additional
            (Gb, Additional, 7.5, None, 8.0),
            // counts are sent as counted, whatever the usage value
            (Count, Additional, 3.0, p20, 3.0),
            (Count, Total, 42.0, None, 42.0),
            // negative measurements never produce negative bills
            (Gb, Total, -4.0, None, 0.0),
        ];
        for &(unit, usage, measured, plan, expected) in table {
            assert_eq!(
                quantity(unit, usage, measured, plan),
                expected,
                "{unit:?} {usage:?} {measured} {plan:?}"
            );
        }
    }

    #[test]
    fn rounded_once_on_the_sum() {
        use MetricUnit::*;
        use UsageValue::*;
        let p100 = Some(PlanSize {
            base_gb: 100.0,
            block_gb: None,
        });
        let p20_blocks = Some(PlanSize {
            base_gb: 20.0,
            block_gb: Some(50.0),
        });
        /// (unit, usage, [(measured, plan)] of the accounts, expected on the addition)
        type Row<'a> = (MetricUnit, UsageValue, &'a [(f64, Option<PlanSize>)], f64);
        let table: &[Row] = &[
            (Gb, Total, &[(100.4, p100), (10.7, p100)], 112.0),
            // 100.2 + 10.2 = 110.4 → 111, where one by one gave 101 + 11 = 112
            (Gb, Total, &[(100.2, p100), (10.2, p100)], 111.0),
            // additional usage over each account's own base: 0.3 + 0.3 over → 1, not 2
            (Gb, Additional, &[(100.3, p100), (100.3, p100)], 1.0),
            // blocks per account, since blocks belong to a plan: 50 + 50
            (
                Gb,
                Additional,
                &[(25.0, p20_blocks), (21.0, p20_blocks)],
                100.0,
            ),
            (Count, Total, &[(3.0, None), (4.0, None)], 7.0),
        ];
        for &(unit, usage, accounts, expected) in table {
            let sum: f64 = accounts
                .iter()
                .map(|&(measured, plan)| exact(unit, usage, measured, plan))
                .sum();
            assert_eq!(
                round_once(unit, sum),
                expected,
                "{unit:?} {usage:?} {accounts:?}"
            );
        }
    }

    #[test]
    fn a_measurement_that_is_not_a_number_never_becomes_one() {
        for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            let q = quantity(MetricUnit::Gb, UsageValue::Total, bad, None);
            assert!(!q.is_finite(), "{bad} gave {q}");
        }
        assert!(
            MetricUnit::Gb.max_measurement() < 1e15,
            "sums stay exact in whole units"
        );
    }
}
