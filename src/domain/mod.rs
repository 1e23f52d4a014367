//! Billing rules as plain Rust: no HTTP, GraphQL, database or ConnectWise types here, so
//! the maths and the precedence rules are tested with plain tables.

pub mod billing;
pub mod levels;
pub mod links;
pub mod push;
pub mod schedule;
pub mod status;

use std::fmt;
use std::str::FromStr;

/// What a mapping sends for a product's GB metrics (count metrics always send the count).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UsageValue {
    /// "Update total usage": the GB the account uses.
    Total,
    /// "Update additional usage": only the GB over the plan's base size.
    Additional,
}

/// What a push does with an owned addition no mapping wants any more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetireMode {
    /// Set its quantity to 0 (the line stays, billing nothing).
    Zero,
    /// Cancel it from the first of next month (it bills the current month).
    Cancel,
}

/// What a push does with an owned addition a person edited since billbridge wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OnManualEdit {
    /// Write the quantity billbridge computes (the preview shows the line as drifted).
    Overwrite,
    /// Leave it as the person set it (the line is skipped as `DRIFTED`).
    Skip,
}

/// The unit a metric reports in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricUnit {
    Gb,
    Count,
}

/// Where a level came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LevelSource {
    /// Typed in by a user.
    Manual,
    /// Read from the ConnectWise cross-references.
    ConnectWise,
}

/// A stored enum value that is not one of ours: only a corrupted row can produce it.
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownValue(pub String);

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown stored value {:?}", self.0)
    }
}

/// Stored text form of the small domain enums, one table per enum.
macro_rules! stored_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }
        impl FromStr for $ty {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s { $($text => Ok($ty::$variant),)+ other => Err(UnknownValue(other.to_owned())) }
            }
        }
    };
}

stored_enum!(UsageValue { Total => "TOTAL_USAGE", Additional => "ADDITIONAL_USAGE" });
stored_enum!(MetricUnit { Gb => "GB", Count => "COUNT" });
stored_enum!(LevelSource { Manual => "MANUAL", ConnectWise => "CONNECTWISE" });
stored_enum!(RetireMode { Zero => "ZERO", Cancel => "CANCEL" });
stored_enum!(OnManualEdit { Overwrite => "OVERWRITE", Skip => "SKIP" });

impl MetricUnit {
    /// The largest measurement of one account accepted: far above any real account (10 PB;
    /// a million devices or seats) and far below where sums of `f64` lose whole units, so
    /// no recorded value can make a quantity nobody can explain.
    pub fn max_measurement(self) -> f64 {
        match self {
            MetricUnit::Gb => 10_000_000.0,
            MetricUnit::Count => 1_000_000.0,
        }
    }

    /// How people write the unit.
    pub fn label(self) -> &'static str {
        match self {
            MetricUnit::Gb => "GB",
            MetricUnit::Count => "count",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_enums_round_trip_and_reject_strangers() {
        for v in [UsageValue::Total, UsageValue::Additional] {
            assert_eq!(v.as_str().parse::<UsageValue>(), Ok(v));
        }
        for v in [MetricUnit::Gb, MetricUnit::Count] {
            assert_eq!(v.as_str().parse::<MetricUnit>(), Ok(v));
        }
        for v in [LevelSource::Manual, LevelSource::ConnectWise] {
            assert_eq!(v.as_str().parse::<LevelSource>(), Ok(v));
        }
        assert_eq!(
            "total_usage".parse::<UsageValue>(),
            Err(UnknownValue("total_usage".into()))
        );
    }
}
