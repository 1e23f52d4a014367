//! Checks on input values that do not need the database. Every error names its field.
//!
//! Every free-text argument of the API goes through [`text`] before anything else looks at
//! it: a documented maximum length and no control characters. README's "Input limits" table
//! lists the maxima; `tests/api/input.rs` walks the schema and sends every String and ID
//! argument one character too many, and a control character, so a new field cannot be
//! forgotten.

use async_graphql::connection::{Connection, CursorType, Edge, OpaqueCursor};
use async_graphql::{ID, OutputType, SimpleObject};

use crate::db::Page;
use crate::db::mappings::PlanChoice;
use crate::error::{AppError, AppResult};

/// Names of things (services, products, plans and their unique IDs, metrics, levels,
/// accounts, link identifiers, tokens, people), descriptions, searches, and the ConnectWise
/// company ID, keys, client ID and integration.
pub const NAME: usize = 200;
/// An email address (the longest a mail path may be).
pub const EMAIL: usize = 254;
/// A ConnectWise site: a host name (DNS allows 253), optionally with scheme and API path.
pub const SITE: usize = 255;
/// A webhook URL (well inside what servers and proxies take).
pub const URL: usize = 2000;
/// Short settings: a cron expression, a time of day, a time zone, an API version, an audit
/// entity.
pub const SETTING: usize = 100;
/// An `after` cursor (an encoded account name is the longest this API hands out).
pub(crate) const CURSOR: usize = 2000;
/// An `ID` (ids are integers; 19 digits hold any of them).
pub(crate) const ID_LENGTH: usize = 20;

/// The one check every free-text argument goes through: at most `max` characters (Unicode
/// scalar values, counted as sent) and no control character — C0 (NUL, tab, newline, …),
/// DEL or C1. Every free-text field is one line; PostgreSQL text cannot hold NUL; and a
/// control character in a name is invisible in the app and in ConnectWise.
pub fn text<'a>(field: &str, value: &'a str, max: usize) -> AppResult<&'a str> {
    // Bytes bound characters from above, so the count is only needed near the limit.
    if value.len() > max {
        let length = value.chars().count();
        if length > max {
            return Err(AppError::bad_input(
                field,
                format!("is {length} characters long; at most {max} are accepted"),
            ));
        }
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(AppError::bad_input(
            field,
            format!(
                "contains the control character U+{:04X}; give printable text on one line",
                c as u32
            ),
        ));
    }
    Ok(value)
}

/// A whole file sent as text (an import's CSV): at most `max` bytes (the configurable
/// `BILLBRIDGE_MAX_IMPORT_BYTES`, named in the refusal), and no control character but the
/// tab, carriage return and line feed a file is made of.
pub fn file<'a>(field: &str, value: &'a str, max: usize) -> AppResult<&'a str> {
    if value.len() > max {
        return Err(AppError::bad_input(
            field,
            format!(
                "is {} bytes long; at most {max} are accepted (BILLBRIDGE_MAX_IMPORT_BYTES); import a larger file with `billbridge import usage`",
                value.len()
            ),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
    {
        return Err(AppError::bad_input(
            field,
            format!(
                "contains the control character U+{:04X}; give the file's text",
                c as u32
            ),
        ));
    }
    Ok(value)
}

/// An id argument as our integer key. Something that cannot be an id is bad input.
pub fn id(field: &str, id: &ID) -> AppResult<i64> {
    let value = text(field, id.as_str(), ID_LENGTH)?;
    value
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::bad_input(field, format!("{value:?} is not an id")))
}

pub fn ids(field: &str, ids: Option<&ID>) -> AppResult<Option<i64>> {
    ids.map(|v| id(field, v)).transpose()
}

/// A name: surrounding spaces removed, not empty, at most [`NAME`] characters.
pub fn name(field: &str, value: &str) -> AppResult<String> {
    let trimmed = text(field, value, NAME)?.trim();
    if trimmed.is_empty() {
        return Err(AppError::bad_input(field, "must not be empty"));
    }
    Ok(trimmed.to_owned())
}

/// A level (or cross-reference type) exactly as typed: case, inner spaces, quotes, accents
/// and emoji matter to ConnectWise, so nothing is changed; leading or trailing spaces are
/// refused rather than silently dropped, and control characters like everywhere.
pub fn exact(field: &str, value: &str) -> AppResult<String> {
    let value = text(field, value, NAME)?;
    if value.trim().is_empty() {
        return Err(AppError::bad_input(field, "is required"));
    }
    if value.trim() != value {
        return Err(AppError::bad_input(
            field,
            format!("{value:?} starts or ends with spaces; ConnectWise would not match it"),
        ));
    }
    Ok(value.to_owned())
}

pub fn non_negative(field: &str, value: f64) -> AppResult<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            field,
            format!("{value} is not allowed; give a number ≥ 0"),
        ))
    }
}

pub fn positive(field: &str, value: f64) -> AppResult<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            field,
            format!("{value} is not allowed; give a number > 0"),
        ))
    }
}

/// An absolute http(s) URL with a host, as given (surrounding spaces removed).
pub fn web_url(field: &str, value: &str) -> AppResult<String> {
    let value = text(field, value, URL)?.trim();
    let refuse = || {
        AppError::bad_input(
            field,
            format!(
                "{value:?} is not an http or https URL with a host, e.g. https://example.com/hooks/billbridge"
            ),
        )
    };
    let url = reqwest::Url::parse(value).map_err(|_| refuse())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(refuse());
    }
    Ok(value.to_owned())
}

/// Optional free text (a description, a search): surrounding spaces removed, empty is
/// none, at most [`NAME`] characters — a search longer than any name could match nothing.
pub fn note(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    match value {
        Some(v) => Ok(Some(text(field, v, NAME)?.trim())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)),
        None => Ok(None),
    }
}

/// The count beside a page of a connection.
#[derive(SimpleObject)]
pub struct Totals {
    /// Items matching the filter, on all pages.
    pub total_count: i32,
}

impl Totals {
    pub fn of(total: u64) -> Self {
        Totals {
            total_count: i32::try_from(total).unwrap_or(i32::MAX),
        }
    }
}

/// A page read by `db` as a GraphQL connection: `after` (a cursor was given) says a page
/// precedes it, and `edge` turns each row into its cursor and node.
pub fn connection<K, R, N>(
    page: Page<R>,
    after: bool,
    mut edge: impl FnMut(R) -> (K, N),
) -> Connection<OpaqueCursor<K>, N, Totals>
where
    OpaqueCursor<K>: CursorType + Send + Sync,
    N: OutputType,
{
    let mut connection =
        Connection::with_additional_fields(after, page.has_next, Totals::of(page.total));
    connection.edges.extend(page.rows.into_iter().map(|row| {
        let (cursor, node) = edge(row);
        Edge::new(OpaqueCursor(cursor), node)
    }));
    connection
}

/// A page size `first` from 1 to `max`.
pub fn page_size(first: i32, max: i32) -> AppResult<u64> {
    if (1..=max).contains(&first) {
        Ok(first as u64)
    } else {
        Err(AppError::bad_input("first", format!("give 1 to {max}")))
    }
}

/// The position an `after` cursor from this API names.
pub fn cursor<T>(after: Option<String>) -> AppResult<Option<T>>
where
    T: serde::de::DeserializeOwned + serde::Serialize + Send + Sync,
{
    after
        .map(|c| {
            text("after", &c, CURSOR)?;
            OpaqueCursor::<T>::decode_cursor(&c)
                .map(|c| c.0)
                .map_err(|_| AppError::bad_input("after", "is not a cursor from this API"))
        })
        .transpose()
}

/// `planId` and `allPlans` are two ways of saying one thing; exactly one must be given.
/// `None` when neither is (an update that leaves the plans alone).
pub fn plan_choice(plan_id: Option<&ID>, all_plans: Option<bool>) -> AppResult<Option<PlanChoice>> {
    match (plan_id, all_plans) {
        (Some(_), Some(true)) => Err(AppError::bad_input(
            "allPlans",
            "give either planId or allPlans: true, not both",
        )),
        (Some(plan), _) => Ok(Some(PlanChoice::Plan(id("planId", plan)?))),
        (None, Some(true)) => Ok(Some(PlanChoice::AllPlans)),
        (None, Some(false)) => Err(AppError::bad_input(
            "planId",
            "allPlans is false, so a planId is required",
        )),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_choices() {
        let plan = ID::from("7");
        assert_eq!(
            plan_choice(Some(&plan), None),
            Ok(Some(PlanChoice::Plan(7)))
        );
        assert_eq!(
            plan_choice(Some(&plan), Some(false)),
            Ok(Some(PlanChoice::Plan(7)))
        );
        assert_eq!(
            plan_choice(None, Some(true)),
            Ok(Some(PlanChoice::AllPlans))
        );
        assert_eq!(plan_choice(None, None), Ok(None));
        assert!(matches!(
            plan_choice(Some(&plan), Some(true)),
            Err(AppError::BadInput { field, .. }) if field == "allPlans"
        ));
        assert!(matches!(
            plan_choice(None, Some(false)),
            Err(AppError::BadInput { field, .. }) if field == "planId"
        ));
    }

    fn refused_field(result: AppResult<impl std::fmt::Debug>) -> (String, String) {
        match result {
            Err(AppError::BadInput { field, message, .. }) => (field, message),
            other => panic!("expected bad input, got {other:?}"),
        }
    }

    #[test]
    fn text_is_bounded_in_characters_not_bytes() {
        assert_eq!(
            text("name", &"a".repeat(NAME), NAME),
            Ok("a".repeat(NAME).as_str())
        );
        // 200 emoji are 800 bytes, and 200 characters.
        let emoji = "🦀".repeat(NAME);
        assert_eq!(text("name", &emoji, NAME), Ok(emoji.as_str()));
        let (field, message) = refused_field(text("name", &"é".repeat(NAME + 1), NAME));
        assert_eq!(field, "name");
        assert_eq!(message, "is 201 characters long; at most 200 are accepted");
        let (_, message) = refused_field(text("search", &"x".repeat(50_000), NAME));
        assert!(message.contains("at most 200"), "{message}");
    }

    #[test]
    fn control_characters_are_refused_everywhere_in_text() {
        for bad in [
            "a\0b",
            "\0",
            "tab\there",
            "line\nbreak",
            "cr\r",
            "esc\u{1b}",
            "del\u{7f}",
            "nel\u{85}",
            "c1\u{9f}",
            "\u{80}",
        ] {
            let (field, message) = refused_field(text("name", bad, NAME));
            assert_eq!(field, "name");
            assert!(
                message.contains("control character U+"),
                "{bad:?}: {message}"
            );
            assert!(name("name", bad).is_err(), "{bad:?}");
            assert!(exact("level", bad).is_err(), "{bad:?}");
            assert!(note("description", Some(bad)).is_err(), "{bad:?}");
        }
        let (_, message) = refused_field(text("name", "a\0b", NAME));
        assert!(message.contains("U+0000"), "{message}");
        // Not control characters: format characters, non-breaking and other spaces, emoji.
        for good in [
            "zero\u{200b}width",
            "nb\u{a0}sp",
            "👩\u{200d}💻",
            "e\u{301}",
            "«»“”",
        ] {
            assert_eq!(text("name", good, NAME), Ok(good));
        }
    }

    #[test]
    fn levels_are_kept_exactly() {
        for level in [
            "Gold tier",
            "gold",
            "Gold  tier",
            "Ünïcödé 级别",
            "Platinum ✨ “Plus”",
            r#"It's "quoted" <b>&amp;</b> \ %_"#,
            "e\u{301}",
            "nb\u{a0}sp",
        ] {
            assert_eq!(exact("level", level), Ok(level.to_owned()), "{level:?}");
        }
        assert!(exact("level", " Gold").is_err());
        assert!(exact("level", "Gold ").is_err());
        assert!(exact("level", "\u{a0}Gold").is_err());
        assert!(exact("level", "   ").is_err());
        assert_eq!(refused_field(exact("level", "Gold\0")).0, "level");
        assert_eq!(
            refused_field(exact("level", &"g".repeat(NAME + 1))).0,
            "level"
        );
    }

    #[test]
    fn ids_and_cursors_are_bounded() {
        let (field, message) = refused_field(id("productId", &ID::from("1".repeat(50_000))));
        assert_eq!(field, "productId");
        assert!(message.contains("at most 20"), "{message}");
        assert!(id("productId", &ID::from("9223372036854775807")).is_ok());
        let (field, message) = refused_field(cursor::<i64>(Some("a".repeat(CURSOR + 1))));
        assert_eq!(field, "after");
        assert!(message.contains("at most 2000"), "{message}");
    }

    #[test]
    fn web_urls() {
        for good in [
            "https://example.com/hooks/billbridge",
            "http://127.0.0.1:9000/x?token=abc",
            " https://example.com ",
        ] {
            assert!(web_url("url", good).is_ok(), "{good}");
        }
        assert_eq!(
            web_url("url", " https://example.com "),
            Ok("https://example.com".into())
        );
        for bad in [
            "",
            "example.com/hook",
            "ftp://example.com/hook",
            "file:///etc/passwd",
            "mailto:ops@example.com",
            "https://",
            "javascript:alert(1)",
        ] {
            assert!(
                matches!(web_url("url", bad), Err(AppError::BadInput { field, .. }) if field == "url"),
                "{bad}"
            );
        }
        assert!(web_url("url", &format!("https://example.com/{}", "a".repeat(2000))).is_err());
    }

    #[test]
    fn notes() {
        assert_eq!(note("description", None), Ok(None));
        assert_eq!(note("description", Some("  ")), Ok(None));
        assert_eq!(
            note("description", Some(" Billing team ")),
            Ok(Some("Billing team".into()))
        );
        assert!(note("description", Some(&"x".repeat(201))).is_err());
        assert_eq!(note("search", Some(" 100%_ ")), Ok(Some("100%_".into())));
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(name("name", "  Backup "), Ok("Backup".into()));
        assert!(name("name", "").is_err());
        assert!(non_negative("baseSizeGb", -1.0).is_err());
        assert!(non_negative("baseSizeGb", f64::NAN).is_err());
        assert!(positive("blockSizeGb", 0.0).is_err());
        assert_eq!(id("productId", &ID::from("12")), Ok(12));
        assert!(id("productId", &ID::from("x")).is_err());
        assert!(id("productId", &ID::from("-3")).is_err());
    }
}
