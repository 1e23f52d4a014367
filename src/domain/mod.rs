//! Billing rules as plain Rust: no HTTP, GraphQL, database or ConnectWise types here, so
//! the maths and the precedence rules are tested with plain tables.

pub mod billing;
pub mod import;
pub mod levels;
pub mod links;
pub mod push;
pub mod schedule;
pub mod state;
pub mod status;

pub use state::{
    DeliveryStatus, ImportOutcome, ImportProblem, LevelSource, LineAction, LineOutcome, LinkState,
    LinkVia, MetricUnit, OnManualEdit, RetireMode, Role, RunStatus, RunTrigger, SkipReason,
    UnknownValue, UsageValue,
};

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
