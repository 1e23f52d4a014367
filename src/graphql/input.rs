//! Checks on input values that do not need the database. Every error names its field.

use async_graphql::connection::{CursorType, OpaqueCursor};
use async_graphql::{ID, SimpleObject};

use crate::db::mappings::PlanChoice;
use crate::error::{AppError, AppResult};

const MAX_TEXT: usize = 200;

/// An id argument as our integer key. Something that cannot be an id is bad input.
pub fn id(field: &str, id: &ID) -> AppResult<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::bad_input(field, format!("{:?} is not an id", id.as_str())))
}

pub fn ids(field: &str, ids: Option<&ID>) -> AppResult<Option<i64>> {
    ids.map(|v| id(field, v)).transpose()
}

/// A name: surrounding spaces removed, not empty, at most 200 characters.
pub fn name(field: &str, value: &str) -> AppResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::bad_input(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_TEXT {
        return Err(AppError::bad_input(
            field,
            format!("is longer than {MAX_TEXT} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A level exactly as typed: case and inner spaces matter to ConnectWise, so nothing is
/// changed; leading or trailing spaces are refused rather than silently dropped.
pub fn exact(field: &str, value: &str) -> AppResult<String> {
    if value.trim().is_empty() {
        return Err(AppError::bad_input(field, "is required"));
    }
    if value.trim() != value {
        return Err(AppError::bad_input(
            field,
            format!("{value:?} starts or ends with spaces; ConnectWise would not match it"),
        ));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(AppError::bad_input(
            field,
            format!("is longer than {MAX_TEXT} characters"),
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

/// Longest URL accepted (well inside what servers and proxies take).
const MAX_URL: usize = 2000;

/// An absolute http(s) URL with a host, as given (surrounding spaces removed).
pub fn web_url(field: &str, value: &str) -> AppResult<String> {
    let value = value.trim();
    if value.len() > MAX_URL {
        return Err(AppError::bad_input(
            field,
            format!("is longer than {MAX_URL} characters"),
        ));
    }
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

/// Optional free text: surrounding spaces removed, empty is none, at most 200 characters.
pub fn note(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(text) => name(field, text).map(Some),
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

    #[test]
    fn levels_are_kept_exactly() {
        assert_eq!(exact("level", "Gold tier"), Ok("Gold tier".into()));
        assert_eq!(exact("level", "gold"), Ok("gold".into()));
        assert!(exact("level", " Gold").is_err());
        assert!(exact("level", "   ").is_err());
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
