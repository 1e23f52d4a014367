//! Building ConnectWise `conditions` strings.
//!
//! ConnectWise Manage filters list endpoints with a `conditions` query parameter such as
//! `company/id = 250 and cancelledFlag = false`. [`Condition`] builds those strings from
//! typed [`Value`]s so that they are always correctly quoted:
//!
//! * strings are double-quoted, with `"` and `\` escaped by a backslash
//!   (`name = "Bob \"The\" Builder"`, `path = "C:\\temp"`);
//! * dates render as `[2026-01-01T00:00:00Z]` (RFC 3339, whole seconds, `Z`; any
//!   sub-second part is dropped);
//! * integers, decimals, `true`/`false` and `null` render bare.
//!
//! [`Condition::and`] and [`Condition::or`] parenthesise an operand only where precedence
//! requires it (`and` binds tighter than `or`), so `a.or(b).and(c)` renders as
//! `(a or b) and c` while `a.and(b).or(c)` renders as `a and b or c`.
//!
//! Field names are code constants (`company/id`, `type/name`); they are checked with
//! `debug_assert!` to contain only ASCII letters, digits, `_`, `-` and `/`.

use std::fmt::{self, Write as _};

use chrono::{DateTime, SecondsFormat, Utc};

/// A literal on the right-hand side of a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string, rendered double-quoted with `"` and `\` escaped.
    Str(String),
    Int(i64),
    /// A decimal, rendered in plain decimal notation (`12.5`, never an exponent). It must be
    /// finite: NaN and infinities trip a `debug_assert!` and render as `null` in release.
    Num(f64),
    Bool(bool),
    Null,
    /// A point in time, rendered `[2026-01-01T00:00:00Z]` (whole seconds).
    Date(DateTime<Utc>),
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Str(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Str(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Int(value)
    }
}

impl From<i32> for Value {
    fn from(value: i32) -> Self {
        Value::Int(value.into())
    }
}

impl From<u32> for Value {
    fn from(value: u32) -> Self {
        Value::Int(value.into())
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Self {
        Value::Num(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Bool(value)
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(value: DateTime<Utc>) -> Self {
        Value::Date(value)
    }
}

impl Value {
    /// Appends the literal as ConnectWise expects it.
    fn write_to(&self, out: &mut String) {
        match self {
            Value::Str(text) => {
                out.push('"');
                for c in text.chars() {
                    if matches!(c, '"' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Num(n) => {
                debug_assert!(n.is_finite(), "a condition value must be finite, got {n}");
                if n.is_finite() {
                    // `f64`'s Display never uses an exponent: 1e20 is `100000000000000000000`.
                    let _ = write!(out, "{n}");
                } else {
                    out.push_str("null");
                }
            }
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Null => out.push_str("null"),
            Value::Date(date) => {
                out.push('[');
                out.push_str(&date.to_rfc3339_opts(SecondsFormat::Secs, true));
                out.push(']');
            }
        }
    }
}

/// A ConnectWise `conditions` expression, always well-formed and correctly quoted.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition(String);

impl Condition {
    /// `field = value`
    pub fn eq(field: &str, value: impl Into<Value>) -> Self {
        Self::compare(field, "=", &value.into())
    }

    /// `field != value`
    pub fn ne(field: &str, value: impl Into<Value>) -> Self {
        Self::compare(field, "!=", &value.into())
    }

    /// `field < value`
    pub fn lt(field: &str, value: impl Into<Value>) -> Self {
        Self::compare(field, "<", &value.into())
    }

    /// `field <= value`
    pub fn le(field: &str, value: impl Into<Value>) -> Self {
        Self::compare(field, "<=", &value.into())
    }

    /// `field > value`
    pub fn gt(field: &str, value: impl Into<Value>) -> Self {
        Self::compare(field, ">", &value.into())
    }

    /// `field >= value`
    pub fn ge(field: &str, value: impl Into<Value>) -> Self {
        Self::compare(field, ">=", &value.into())
    }

    /// `field contains "text"` (case-insensitive substring on the server).
    pub fn contains(field: &str, text: &str) -> Self {
        Self::compare(field, "contains", &Value::from(text))
    }

    /// `field like "pattern"`, where `*` in `pattern` matches any run of characters.
    /// The pattern is quoted like any other string.
    pub fn like(field: &str, pattern: &str) -> Self {
        Self::compare(field, "like", &Value::from(pattern))
    }

    /// `field not contains "text"`: the field is a string that does not contain `text`.
    pub fn not_contains(field: &str, text: &str) -> Self {
        Self::compare(field, "not contains", &Value::from(text))
    }

    /// `field not like "pattern"`: the field is a string that does not match `pattern`
    /// (`*` matches any run of characters).
    pub fn not_like(field: &str, pattern: &str) -> Self {
        Self::compare(field, "not like", &Value::from(pattern))
    }

    /// `field in (v1, v2, …)`.
    ///
    /// ConnectWise has no syntax for an empty list, so an empty `values` renders the
    /// contradiction `field = null and field != null`, which is valid and matches no record.
    pub fn is_in<V: Into<Value>>(field: &str, values: impl IntoIterator<Item = V>) -> Self {
        Self::list(field, "in", values)
            .unwrap_or_else(|| Self::eq(field, Value::Null).and(Self::ne(field, Value::Null)))
    }

    /// `field not in (v1, v2, …)`.
    ///
    /// An empty `values` excludes nothing, so it renders the tautology
    /// `field = null or field != null`, which matches every record.
    pub fn not_in<V: Into<Value>>(field: &str, values: impl IntoIterator<Item = V>) -> Self {
        Self::list(field, "not in", values)
            .unwrap_or_else(|| Self::eq(field, Value::Null).or(Self::ne(field, Value::Null)))
    }

    /// Both conditions hold. An operand that is an `or` at its top level is parenthesised.
    pub fn and(self, other: Condition) -> Self {
        let mut out = String::with_capacity(self.0.len() + other.0.len() + 9);
        for (i, operand) in [self, other].into_iter().enumerate() {
            if i > 0 {
                out.push_str(" and ");
            }
            if operand.is_disjunction() {
                out.push('(');
                out.push_str(&operand.0);
                out.push(')');
            } else {
                out.push_str(&operand.0);
            }
        }
        Condition(out)
    }

    /// Either condition holds. `or` binds loosest, so no operand needs parentheses.
    pub fn or(self, other: Condition) -> Self {
        let mut out = self.0;
        out.push_str(" or ");
        out.push_str(&other.0);
        Condition(out)
    }

    /// The condition as sent in the `conditions` query parameter.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn check_field(field: &str) {
        debug_assert!(
            !field.is_empty()
                && field
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/')),
            "invalid ConnectWise field name {field:?}"
        );
    }

    fn compare(field: &str, op: &str, value: &Value) -> Self {
        Self::check_field(field);
        let mut out = format!("{field} {op} ");
        value.write_to(&mut out);
        Condition(out)
    }

    /// `field op (v1, v2, …)`, or `None` for an empty list.
    fn list<V: Into<Value>>(
        field: &str,
        op: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Option<Self> {
        Self::check_field(field);
        let mut out = format!("{field} {op} (");
        let mut empty = true;
        for value in values {
            if !empty {
                out.push_str(", ");
            }
            value.into().write_to(&mut out);
            empty = false;
        }
        out.push(')');
        (!empty).then_some(Condition(out))
    }

    /// Whether the text has an `or` connective outside parentheses, strings and dates, i.e.
    /// whether it needs parentheses to be an operand of `and`.
    ///
    /// Outside strings, dates and parenthesised groups the text is a sequence of
    /// space-separated words: `field op value (connective field op value)*`. A word `and` or
    /// `or` is a connective unless it directly follows the start or another connective, in
    /// which case it is a field name; values are literals and never bare `and`/`or`.
    fn is_disjunction(&self) -> bool {
        let bytes = self.0.as_bytes();
        let mut depth = 0usize;
        let mut expecting_operand = true;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b' ' => i += 1,
                b'"' => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                    if depth == 0 {
                        expecting_operand = false;
                    }
                }
                b'[' => {
                    while i < bytes.len() && bytes[i] != b']' {
                        i += 1;
                    }
                    i += 1;
                    if depth == 0 {
                        expecting_operand = false;
                    }
                }
                b'(' => {
                    depth += 1;
                    i += 1;
                }
                b')' => {
                    depth = depth.saturating_sub(1);
                    i += 1;
                    if depth == 0 {
                        expecting_operand = false;
                    }
                }
                _ => {
                    let start = i;
                    while i < bytes.len() && !matches!(bytes[i], b' ' | b'"' | b'[' | b'(' | b')') {
                        i += 1;
                    }
                    if depth == 0 {
                        let word = &self.0[start..i];
                        let connective = !expecting_operand && (word == "and" || word == "or");
                        if connective && word == "or" {
                            return true;
                        }
                        expecting_operand = connective;
                    }
                }
            }
        }
        false
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn new_year() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn each_operator_renders_exactly() {
        let with_millis = Utc.timestamp_opt(1_767_225_600, 500_000_000).unwrap();
        let cases: Vec<(Condition, &str)> = vec![
            (Condition::eq("company/id", 250), "company/id = 250"),
            (
                Condition::ne("cancelledFlag", true),
                "cancelledFlag != true",
            ),
            (Condition::lt("quantity", 12.5), "quantity < 12.5"),
            (Condition::le("balance", -3_i64), "balance <= -3"),
            (Condition::gt("id", 7_u32), "id > 7"),
            (Condition::ge("price", 3.0), "price >= 3"),
            (Condition::eq("ratio", 0.000_1), "ratio = 0.0001"),
            (Condition::eq("big", 1e20), "big = 100000000000000000000"),
            (
                Condition::gt("lastUpdated", new_year()),
                "lastUpdated > [2026-01-01T00:00:00Z]",
            ),
            (
                Condition::le("lastUpdated", with_millis),
                "lastUpdated <= [2026-01-01T00:00:00Z]",
            ),
            (
                Condition::eq("identifier", "acme-dental"),
                r#"identifier = "acme-dental""#,
            ),
            (
                Condition::eq("name", String::from("Zoë")),
                r#"name = "Zoë""#,
            ),
            (Condition::eq("parentId", Value::Null), "parentId = null"),
            (Condition::ne("parentId", Value::Null), "parentId != null"),
            (Condition::eq("inactiveFlag", false), "inactiveFlag = false"),
            (
                Condition::contains("name", "Dental"),
                r#"name contains "Dental""#,
            ),
            (Condition::like("name", "Acme*"), r#"name like "Acme*""#),
            (
                Condition::not_contains("name", "test"),
                r#"name not contains "test""#,
            ),
            (
                Condition::not_like("name", r#"Bob "*"#),
                r#"name not like "Bob \"*""#,
            ),
            (
                Condition::is_in("type/name", ["Managed Backup", "Email"]),
                r#"type/name in ("Managed Backup", "Email")"#,
            ),
            (Condition::is_in("id", [5]), "id in (5)"),
            (Condition::not_in("id", [1, 2]), "id not in (1, 2)"),
            (
                Condition::is_in("x", vec![Value::Null, Value::Bool(true), Value::Num(1.5)]),
                "x in (null, true, 1.5)",
            ),
            (
                Condition::eq("agreement/type/name", "MSP"),
                r#"agreement/type/name = "MSP""#,
            ),
        ];
        for (condition, expected) in cases {
            assert_eq!(condition.as_str(), expected);
            assert_eq!(condition.to_string(), expected);
        }
    }

    #[test]
    fn strings_escape_quotes_and_backslashes() {
        let cases: Vec<(Condition, &str)> = vec![
            (
                Condition::eq("company/name", r#"Bob "The" Builder \ Sons"#),
                r#"company/name = "Bob \"The\" Builder \\ Sons""#,
            ),
            (Condition::eq("path", r"C:\temp"), r#"path = "C:\\temp""#),
            (Condition::eq("q", r#"\""#), r#"q = "\\\"""#),
            (
                Condition::contains("name", r#"5" drive"#),
                r#"name contains "5\" drive""#,
            ),
            (
                Condition::like("name", r#"Bob "*"#),
                r#"name like "Bob \"*""#,
            ),
            (
                Condition::is_in("name", [r#"a"b"#, r"c\d"]),
                r#"name in ("a\"b", "c\\d")"#,
            ),
            (Condition::eq("name", ""), r#"name = """#),
        ];
        for (condition, expected) in cases {
            assert_eq!(condition.as_str(), expected);
        }
    }

    #[test]
    fn and_or_parenthesise_only_where_needed() {
        let a = || Condition::eq("a", 1);
        let b = || Condition::eq("b", 2);
        let c = || Condition::eq("c", 3);
        let d = || Condition::eq("d", 4);
        let cases: Vec<(Condition, &str)> = vec![
            (a().and(b()), "a = 1 and b = 2"),
            (a().or(b()), "a = 1 or b = 2"),
            (a().or(b()).and(c()), "(a = 1 or b = 2) and c = 3"),
            (a().and(b().or(c())), "a = 1 and (b = 2 or c = 3)"),
            (a().and(b()).or(c()), "a = 1 and b = 2 or c = 3"),
            (a().or(b().and(c())), "a = 1 or b = 2 and c = 3"),
            (a().and(b()).and(c()), "a = 1 and b = 2 and c = 3"),
            (a().and(b().and(c())), "a = 1 and b = 2 and c = 3"),
            (a().or(b()).or(c()), "a = 1 or b = 2 or c = 3"),
            (a().or(b().or(c())), "a = 1 or b = 2 or c = 3"),
            (
                a().or(b()).and(c().or(d())),
                "(a = 1 or b = 2) and (c = 3 or d = 4)",
            ),
            (
                a().or(b()).and(c()).and(d()),
                "(a = 1 or b = 2) and c = 3 and d = 4",
            ),
            (
                a().or(b()).and(c()).or(d()),
                "(a = 1 or b = 2) and c = 3 or d = 4",
            ),
            (
                a().or(b()).and(c()).or(d()).and(a()),
                "((a = 1 or b = 2) and c = 3 or d = 4) and a = 1",
            ),
            // `or` inside strings, lists and nested groups is not a top-level `or`.
            (
                Condition::eq("name", "this or that").and(a()),
                r#"name = "this or that" and a = 1"#,
            ),
            (
                Condition::eq("name", r#"x" or "y"#).and(a()),
                r#"name = "x\" or \"y" and a = 1"#,
            ),
            (
                Condition::is_in("name", ["a or b", "c"]).and(a()),
                r#"name in ("a or b", "c") and a = 1"#,
            ),
            (
                a().or(b()).and(c()).and(d()).and(a()),
                "(a = 1 or b = 2) and c = 3 and d = 4 and a = 1",
            ),
            // A field that happens to be called `or` is not a connective.
            (
                a().and(Condition::eq("or", 5)).and(b()),
                "a = 1 and or = 5 and b = 2",
            ),
        ];
        for (condition, expected) in cases {
            assert_eq!(condition.as_str(), expected);
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "invalid ConnectWise field name")]
    fn field_names_are_checked_in_debug_builds() {
        let _ = Condition::eq("name = 1 or x", 1);
    }

    #[test]
    fn empty_lists_stay_valid() {
        let none = Condition::is_in("id", Vec::<i64>::new());
        assert_eq!(none.as_str(), "id = null and id != null");
        let all = Condition::not_in("id", Vec::<i64>::new());
        assert_eq!(all.as_str(), "id = null or id != null");
        assert_eq!(
            Condition::eq("a", 1).and(all.clone()).as_str(),
            "a = 1 and (id = null or id != null)"
        );
        assert_eq!(
            Condition::eq("a", 1).or(none.clone()).as_str(),
            "a = 1 or id = null and id != null"
        );
        assert_eq!(
            none.and(Condition::eq("a", 1)).as_str(),
            "id = null and id != null and a = 1"
        );
    }
}
