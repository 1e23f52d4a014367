//! Every state billbridge stores, each one enum with the text it is stored as. This file is
//! the only place that text is written: the database reads and writes it through
//! `db::entity::state` (SeaORM active enums), GraphQL maps each enum by an exhaustive
//! `match`, and a test fails when one of these words appears as a string literal anywhere
//! else in `src/` (the sandbox, which speaks ConnectWise's own vocabulary, aside).

use std::fmt;
use std::str::FromStr;

/// A stored enum value that is not one of ours: only a corrupted row can produce it.
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownValue(pub String);

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown stored value {:?}", self.0)
    }
}

/// Stored text form of a state enum, one table per enum: `as_str`, `FromStr` (an unknown
/// text is an [`UnknownValue`] naming it), `ALL` (every variant) and `NAME`.
macro_rules! stored_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The enum's name, for errors about a stored value.
            pub const NAME: &'static str = stringify!($ty);
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The text it is stored (and reported) as.
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
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        /// Equal to its stored text: for tests that read rows and name what they expect
        /// (in `src/`, the literal check below keeps the text to this file).
        impl PartialEq<&str> for $ty {
            fn eq(&self, text: &&str) -> bool {
                self.as_str() == *text
            }
        }
    };
}

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
    /// Leave it as the person set it (the line is skipped as drifted).
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

/// What a caller may do. Ordered: a higher role can do everything a lower one can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads everything of its tenant.
    Viewer,
    /// Also manages mappings, plans, levels, accounts and usage.
    Editor,
    /// Also manages the tenant's people, tokens and connections.
    Admin,
}

impl Role {
    /// The enum's name, for errors about a stored value.
    pub const NAME: &'static str = "Role";
    /// Every role, the highest first (as the command line lists them).
    pub const ALL: &'static [Role] = &[Role::Admin, Role::Editor, Role::Viewer];

    /// The text it is stored (and written in tokens) as.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Case-insensitive, for people typing it; the error lists what is accepted.
impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}; accepted: admin, editor, viewer"
            )),
        }
    }
}

/// Where a push run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// Executing (or waiting for a replica to take over its lease).
    Running,
    /// Every line written, unchanged or skipped.
    Succeeded,
    /// Some lines failed (or a stop after some were written); a rerun finishes it.
    Partial,
    /// Nothing was written.
    Failed,
    /// Stopped on request; the unwritten lines are cancelled.
    Cancelled,
}

/// Who or what started a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunTrigger {
    /// A person or an integrator, through the API.
    User,
    /// The tenant's schedule.
    Schedule,
    /// `billbridge push`.
    Cli,
}

/// What a line does, as recorded (a skipped line's reason is stored beside it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineAction {
    Update,
    Create,
    Unchanged,
    /// An owned addition no mapping wants any more: set to 0, or cancelled.
    Retire,
    Skip,
}

impl LineAction {
    /// The actions that write to ConnectWise ("changes only").
    pub const WRITES: [LineAction; 3] =
        [LineAction::Update, LineAction::Create, LineAction::Retire];
}

/// Why a line writes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    NotLinked,
    AmbiguousCompany,
    NoMapping,
    ManagedExternally,
    NoCrossReference,
    NoAgreement,
    AmbiguousAgreement,
    NoUsage,
    AdditionNotAdoptable,
    InvalidQuantity,
    Drifted,
}

/// What became of a recorded line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineOutcome {
    /// Still to write.
    Pending,
    /// Written (or found written by a dead owner and adopted).
    Done,
    /// Already right in ConnectWise.
    Unchanged,
    Skipped,
    Failed,
    /// Would be written (dry run).
    Planned,
    /// Not written: the run was cancelled.
    Cancelled,
}

impl LineOutcome {
    /// Counted in a run's `skipped`: skipped, planned (dry run) or cancelled.
    pub fn counts_as_skipped(self) -> bool {
        matches!(
            self,
            LineOutcome::Skipped | LineOutcome::Planned | LineOutcome::Cancelled
        )
    }

    /// The line's addition is as planned in ConnectWise (written or already right), so
    /// billbridge owns it.
    pub fn settled(self) -> bool {
        matches!(self, LineOutcome::Done | LineOutcome::Unchanged)
    }
}

/// What the last company sync found for an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkState {
    /// One company claims it.
    Linked,
    /// No company has the account's key as Company ID or `echo_username`.
    NotFound,
    /// Several companies claim it; billbridge will not guess.
    Ambiguous,
}

/// How a linked account's company was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkVia {
    /// The company's Company ID is the account's key.
    CompanyId,
    /// The company's `echo_username` custom field is.
    EchoUsername,
}

/// Where a webhook delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Not yet delivered; retried until the attempts run out.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Gave up after the last attempt.
    Failed,
}

/// What an import does to an account, a subscription or a usage value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImportOutcome {
    /// Not stored yet: created.
    New,
    /// Stored differently: replaced.
    Changed,
    /// Stored as the file says: nothing written.
    Unchanged,
}

/// What is wrong with a row (or the header) of an import.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImportProblem {
    /// The file cannot be read (not UTF-8, a broken row, no header).
    Unreadable,
    /// The mapping names a column the header lacks, or lacks one it needs.
    MissingColumn,
    /// The mapping names a metric no product of the service reports.
    UnknownMetric,
    /// A required cell is empty.
    MissingValue,
    /// A name too long or with a control character.
    BadName,
    UnknownProduct,
    UnknownPlan,
    /// A value for a metric of another product than the row's.
    WrongProduct,
    NotANumber,
    Negative,
    /// A count with a fraction.
    Fraction,
    TooLarge,
    BadDate,
    FutureDate,
    /// A value for the same account, metric and measured-at as an earlier row.
    Duplicate,
    /// Another plan than an earlier row gives the same account and product.
    ConflictingPlan,
}

stored_enum!(UsageValue { Total => "TOTAL_USAGE", Additional => "ADDITIONAL_USAGE" });
stored_enum!(MetricUnit { Gb => "GB", Count => "COUNT" });
stored_enum!(LevelSource { Manual => "MANUAL", ConnectWise => "CONNECTWISE" });
stored_enum!(RetireMode { Zero => "ZERO", Cancel => "CANCEL" });
stored_enum!(OnManualEdit { Overwrite => "OVERWRITE", Skip => "SKIP" });
stored_enum!(RunStatus {
    Running => "RUNNING",
    Succeeded => "SUCCEEDED",
    Partial => "PARTIAL",
    Failed => "FAILED",
    Cancelled => "CANCELLED",
});
stored_enum!(RunTrigger { User => "USER", Schedule => "SCHEDULE", Cli => "CLI" });
stored_enum!(LineAction {
    Update => "UPDATE",
    Create => "CREATE",
    Unchanged => "UNCHANGED",
    Retire => "RETIRE",
    Skip => "SKIP",
});
stored_enum!(SkipReason {
    NotLinked => "NOT_LINKED",
    AmbiguousCompany => "AMBIGUOUS_COMPANY",
    NoMapping => "NO_MAPPING",
    ManagedExternally => "MANAGED_EXTERNALLY",
    NoCrossReference => "NO_CROSS_REFERENCE",
    NoAgreement => "NO_AGREEMENT",
    AmbiguousAgreement => "AMBIGUOUS_AGREEMENT",
    NoUsage => "NO_USAGE",
    AdditionNotAdoptable => "ADDITION_NOT_ADOPTABLE",
    InvalidQuantity => "INVALID_QUANTITY",
    Drifted => "DRIFTED",
});
stored_enum!(LineOutcome {
    Pending => "PENDING",
    Done => "DONE",
    Unchanged => "UNCHANGED",
    Skipped => "SKIPPED",
    Failed => "FAILED",
    Planned => "PLANNED",
    Cancelled => "CANCELLED",
});
stored_enum!(LinkState { Linked => "LINKED", NotFound => "NOT_FOUND", Ambiguous => "AMBIGUOUS" });
stored_enum!(LinkVia { CompanyId => "COMPANY_ID", EchoUsername => "ECHO_USERNAME" });
stored_enum!(DeliveryStatus { Pending => "PENDING", Delivered => "DELIVERED", Failed => "FAILED" });
stored_enum!(ImportOutcome { New => "NEW", Changed => "CHANGED", Unchanged => "UNCHANGED" });
stored_enum!(ImportProblem {
    Unreadable => "UNREADABLE",
    MissingColumn => "MISSING_COLUMN",
    UnknownMetric => "UNKNOWN_METRIC",
    MissingValue => "MISSING_VALUE",
    BadName => "BAD_NAME",
    UnknownProduct => "UNKNOWN_PRODUCT",
    UnknownPlan => "UNKNOWN_PLAN",
    WrongProduct => "WRONG_PRODUCT",
    NotANumber => "NOT_A_NUMBER",
    Negative => "NEGATIVE",
    Fraction => "FRACTION",
    TooLarge => "TOO_LARGE",
    BadDate => "BAD_DATE",
    FutureDate => "FUTURE_DATE",
    Duplicate => "DUPLICATE",
    ConflictingPlan => "CONFLICTING_PLAN",
});

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T>(all: &[T])
    where
        T: Copy + PartialEq + fmt::Debug + FromStr<Err = UnknownValue> + fmt::Display,
    {
        for v in all {
            assert_eq!(v.to_string().parse::<T>(), Ok(*v));
        }
    }

    #[test]
    fn stored_enums_round_trip_and_reject_strangers() {
        round_trip(UsageValue::ALL);
        round_trip(MetricUnit::ALL);
        round_trip(LevelSource::ALL);
        round_trip(RetireMode::ALL);
        round_trip(OnManualEdit::ALL);
        round_trip(RunStatus::ALL);
        round_trip(RunTrigger::ALL);
        round_trip(LineAction::ALL);
        round_trip(SkipReason::ALL);
        round_trip(LineOutcome::ALL);
        round_trip(DeliveryStatus::ALL);
        round_trip(LinkState::ALL);
        round_trip(LinkVia::ALL);
        round_trip(ImportOutcome::ALL);
        round_trip(ImportProblem::ALL);
        assert_eq!(
            "total_usage".parse::<UsageValue>(),
            Err(UnknownValue("total_usage".into()))
        );
        assert_eq!(
            "succeeded".parse::<RunStatus>(),
            Err(UnknownValue("succeeded".into()))
        );
        assert_eq!(SkipReason::ALL.len(), 11);
        assert_eq!(LineOutcome::ALL.len(), 7);
    }

    /// Every stored word, with the enum it belongs to.
    fn words() -> Vec<(&'static str, &'static str)> {
        fn of<T: Copy>(
            name: &'static str,
            all: &[T],
            text: fn(T) -> &'static str,
        ) -> Vec<(&'static str, &'static str)> {
            all.iter().map(|v| (name, text(*v))).collect()
        }
        [
            of(UsageValue::NAME, UsageValue::ALL, UsageValue::as_str),
            of(MetricUnit::NAME, MetricUnit::ALL, MetricUnit::as_str),
            of(LevelSource::NAME, LevelSource::ALL, LevelSource::as_str),
            of(RetireMode::NAME, RetireMode::ALL, RetireMode::as_str),
            of(OnManualEdit::NAME, OnManualEdit::ALL, OnManualEdit::as_str),
            of(RunStatus::NAME, RunStatus::ALL, RunStatus::as_str),
            of(RunTrigger::NAME, RunTrigger::ALL, RunTrigger::as_str),
            of(LineAction::NAME, LineAction::ALL, LineAction::as_str),
            of(SkipReason::NAME, SkipReason::ALL, SkipReason::as_str),
            of(LineOutcome::NAME, LineOutcome::ALL, LineOutcome::as_str),
            of(
                DeliveryStatus::NAME,
                DeliveryStatus::ALL,
                DeliveryStatus::as_str,
            ),
            of(LinkState::NAME, LinkState::ALL, LinkState::as_str),
            of(LinkVia::NAME, LinkVia::ALL, LinkVia::as_str),
            of(
                ImportOutcome::NAME,
                ImportOutcome::ALL,
                ImportOutcome::as_str,
            ),
            of(
                ImportProblem::NAME,
                ImportProblem::ALL,
                ImportProblem::as_str,
            ),
        ]
        .concat()
    }

    /// Words that are a state's text by coincidence, each with why it may stay.
    const COINCIDENCES: &[(&str, &str, &str)] = &[
        // The environment variable naming who runs `billbridge push`.
        ("src/cli.rs", "USER", "std::env::var"),
        // How people write the unit (`MetricUnit::label`), which happens to be its text.
        ("src/domain/mod.rs", "GB", "MetricUnit::Gb =>"),
        // The GraphQL error code, not an account's link state.
        ("src/error.rs", "NOT_FOUND", "AppError::NotFound"),
    ];

    /// A state is spelt only here: anywhere else a string literal naming one would be a
    /// second source of truth (or a comparison the compiler cannot check). The sandbox
    /// speaks ConnectWise's vocabulary and test modules may spell what they expect.
    #[test]
    fn no_state_is_spelt_outside_this_file() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("src")];
        let mut found = Vec::new();
        let mut checked = 0;
        while let Some(path) = files.pop() {
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if relative == "src/sandbox" || relative == "src/domain/state.rs" {
                continue;
            }
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap_or_default();
            checked += 1;
            for (number, line) in code.lines().enumerate() {
                for (name, word) in words() {
                    if !line.contains(&format!("\"{word}\"")) {
                        continue;
                    }
                    let excused = COINCIDENCES.iter().any(|(file, w, context)| {
                        *file == relative && *w == word && line.contains(context)
                    });
                    if !excused {
                        found.push(format!("{relative}:{}: \"{word}\" ({name})", number + 1));
                    }
                }
            }
        }
        assert!(checked > 50, "expected the crate's sources, read {checked}");
        assert!(
            found.is_empty(),
            "use the enum, not its text:\n{}",
            found.join("\n")
        );
    }
}
