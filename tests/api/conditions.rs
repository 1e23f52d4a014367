//! ConnectWise `conditions`: one table of examples shared by the REST client's builder
//! (`connectwise::conditions::Condition`) and the sandbox's parser and evaluator
//! (`sandbox::conditions`).
//!
//! Each row is a condition string as ConnectWise accepts it, the builder call that renders
//! exactly that string (when the builder can express it: it always double-quotes strings),
//! the field paths it names, and records shaped like ConnectWise agreements that it must and
//! must not select. A second table lists input the sandbox must refuse.

use billbridge::connectwise::conditions::{Condition, Value as CwValue};
use billbridge::sandbox::conditions::{Expr, parse};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value as Json, json};

struct Example {
    /// The builder call rendering `text`, or `None` where the builder cannot (single quotes,
    /// upper-case keywords, …).
    built: Option<Condition>,
    /// The exact `conditions` string.
    text: &'static str,
    /// Every field path named, in order, repeats included (as `Expr::fields` reports them).
    fields: &'static [&'static str],
    /// Records the condition selects.
    matches: Vec<Json>,
    /// Records the condition does not select.
    misses: Vec<Json>,
}

/// An active agreement of company 250 (`acme`), a child of agreement 3.
fn agreement() -> Json {
    json!({
        "id": 5,
        "name": "Acme — Backup",
        "type": { "id": 7, "name": "Managed Backup" },
        "company": { "id": 250, "identifier": "acme" },
        "agreementStatus": "Active",
        "cancelledFlag": false,
        "endDate": "2026-12-31T00:00:00Z",
        "noEndingDateFlag": false,
        "parentAgreement": { "id": 3, "name": "Parent" },
    })
}

/// [`agreement`] with the top-level fields in `changes` replaced (`null` included).
fn with(changes: Json) -> Json {
    let mut record = agreement();
    let fields = record.as_object_mut().expect("an object");
    for (key, value) in changes.as_object().expect("an object") {
        fields.insert(key.clone(), value.clone());
    }
    record
}

/// [`agreement`] without the top-level field `key`.
fn without(key: &str) -> Json {
    let mut record = agreement();
    record.as_object_mut().expect("an object").remove(key);
    record
}

fn date(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

fn examples() -> Vec<Example> {
    vec![
        // --- Comparisons on nested paths, numbers, strings, booleans -------------------
        Example {
            built: Some(Condition::eq("company/id", 250)),
            text: "company/id = 250",
            fields: &["company/id"],
            matches: vec![agreement()],
            misses: vec![
                with(json!({ "company": { "id": 251, "identifier": "globex" } })),
                with(json!({ "company": null })),
                without("company"),
            ],
        },
        Example {
            built: Some(Condition::ne("cancelledFlag", true)),
            text: "cancelledFlag != true",
            fields: &["cancelledFlag"],
            matches: vec![agreement(), without("cancelledFlag")],
            misses: vec![with(json!({ "cancelledFlag": true }))],
        },
        Example {
            built: Some(Condition::ge("type/id", 7).and(Condition::lt("type/id", 9))),
            text: "type/id >= 7 and type/id < 9",
            fields: &["type/id", "type/id"],
            matches: vec![
                agreement(),
                with(json!({ "type": { "id": 8, "name": "Email" } })),
            ],
            misses: vec![
                with(json!({ "type": { "id": 9, "name": "Voice" } })),
                with(json!({ "type": { "id": 6, "name": "Web" } })),
            ],
        },
        Example {
            built: Some(Condition::eq("type/name", "managed backup")),
            text: r#"type/name = "managed backup""#,
            fields: &["type/name"],
            // Strings compare case-insensitively, as on SQL Server.
            matches: vec![agreement()],
            misses: vec![with(
                json!({ "type": { "id": 7, "name": "Managed Backup+" } }),
            )],
        },
        // --- like / contains, and their negations --------------------------------------
        Example {
            built: Some(Condition::like("name", "Acme*")),
            text: r#"name like "Acme*""#,
            fields: &["name"],
            matches: vec![agreement(), with(json!({ "name": "ACME" }))],
            misses: vec![
                with(json!({ "name": "The Acme — Backup" })),
                with(json!({ "name": null })),
            ],
        },
        Example {
            built: None,
            text: "name like 'Acme*'",
            fields: &["name"],
            matches: vec![agreement(), with(json!({ "name": "acme dental" }))],
            misses: vec![with(json!({ "name": "Globex — Backup" }))],
        },
        Example {
            built: Some(Condition::like("name", "*backup")),
            text: r#"name like "*backup""#,
            fields: &["name"],
            matches: vec![agreement()],
            misses: vec![with(json!({ "name": "Acme — Backup (old)" }))],
        },
        Example {
            built: Some(Condition::not_like("name", "Acme*")),
            text: r#"name not like "Acme*""#,
            fields: &["name"],
            matches: vec![with(json!({ "name": "Globex — Backup" }))],
            // A field that is not a string matches neither `like` nor `not like`.
            misses: vec![agreement(), with(json!({ "name": null })), without("name")],
        },
        Example {
            built: Some(Condition::contains("name", "BACKUP")),
            text: r#"name contains "BACKUP""#,
            fields: &["name"],
            matches: vec![agreement()],
            misses: vec![with(json!({ "name": "Acme — Email" }))],
        },
        Example {
            built: Some(Condition::not_contains("name", "test")),
            text: r#"name not contains "test""#,
            fields: &["name"],
            matches: vec![agreement()],
            misses: vec![
                with(json!({ "name": "Acme — Test Backup" })),
                without("name"),
            ],
        },
        Example {
            built: None,
            text: "name not contains 'test'",
            fields: &["name"],
            matches: vec![agreement()],
            misses: vec![with(json!({ "name": "a TEST agreement" }))],
        },
        // --- in / not in -------------------------------------------------------------
        Example {
            built: Some(Condition::is_in("company/id", [250, 251])),
            text: "company/id in (250, 251)",
            fields: &["company/id"],
            matches: vec![
                agreement(),
                with(json!({ "company": { "id": 251, "identifier": "globex" } })),
            ],
            misses: vec![
                with(json!({ "company": { "id": 252, "identifier": "initech" } })),
                without("company"),
            ],
        },
        Example {
            built: Some(Condition::not_in("type/name", ["Email", "Voice"])),
            text: r#"type/name not in ("Email", "Voice")"#,
            fields: &["type/name"],
            matches: vec![agreement()],
            misses: vec![with(json!({ "type": { "id": 8, "name": "email" } }))],
        },
        Example {
            built: None,
            text: "agreementStatus not in ('Cancelled', 'Expired')",
            fields: &["agreementStatus"],
            matches: vec![agreement(), with(json!({ "agreementStatus": "Inactive" }))],
            misses: vec![with(json!({ "agreementStatus": "EXPIRED" }))],
        },
        // --- and / or / parentheses ------------------------------------------------------
        Example {
            built: None,
            text: "agreementStatus = 'Active' and cancelledFlag = false",
            fields: &["agreementStatus", "cancelledFlag"],
            matches: vec![agreement(), with(json!({ "agreementStatus": "active" }))],
            misses: vec![
                with(json!({ "cancelledFlag": true })),
                with(json!({ "agreementStatus": "Cancelled" })),
                without("cancelledFlag"),
            ],
        },
        Example {
            built: Some(
                Condition::eq("agreementStatus", "Active")
                    .and(Condition::eq("cancelledFlag", false)),
            ),
            text: r#"agreementStatus = "Active" and cancelledFlag = false"#,
            fields: &["agreementStatus", "cancelledFlag"],
            matches: vec![agreement()],
            misses: vec![with(json!({ "cancelledFlag": true }))],
        },
        Example {
            built: Some(
                Condition::gt("endDate", date(2026, 11, 1))
                    .or(Condition::eq("noEndingDateFlag", true)),
            ),
            text: "endDate > [2026-11-01T00:00:00Z] or noEndingDateFlag = true",
            fields: &["endDate", "noEndingDateFlag"],
            matches: vec![
                agreement(),
                with(json!({ "endDate": null, "noEndingDateFlag": true })),
                with(json!({ "endDate": "2026-10-01T00:00:00Z", "noEndingDateFlag": true })),
            ],
            misses: vec![
                with(json!({ "endDate": "2026-11-01T00:00:00Z" })),
                with(json!({ "endDate": "2026-10-31T23:59:59Z" })),
                with(json!({ "endDate": null })),
            ],
        },
        Example {
            built: Some(
                Condition::eq("type/id", 7)
                    .or(Condition::eq("type/id", 8))
                    .and(Condition::ne("company/identifier", "acme")),
            ),
            text: r#"(type/id = 7 or type/id = 8) and company/identifier != "acme""#,
            fields: &["type/id", "type/id", "company/identifier"],
            matches: vec![
                with(json!({ "company": { "id": 251, "identifier": "globex" } })),
                with(json!({
                    "type": { "id": 8, "name": "Email" },
                    "company": { "id": 251, "identifier": "globex" },
                })),
            ],
            misses: vec![
                agreement(),
                with(json!({ "company": { "id": 250, "identifier": "ACME" } })),
                with(json!({
                    "type": { "id": 9, "name": "Voice" },
                    "company": { "id": 251, "identifier": "globex" },
                })),
            ],
        },
        Example {
            // Without the parentheses `and` binds tighter: type/id = 7 or (… and …).
            built: Some(
                Condition::eq("type/id", 7)
                    .or(Condition::eq("type/id", 8)
                        .and(Condition::ne("company/identifier", "acme"))),
            ),
            text: r#"type/id = 7 or type/id = 8 and company/identifier != "acme""#,
            fields: &["type/id", "type/id", "company/identifier"],
            matches: vec![agreement()],
            misses: vec![with(json!({ "type": { "id": 8, "name": "Email" } }))],
        },
        Example {
            built: None,
            text: "company/id = 250 AND (type/name LIKE 'Managed*' OR type/name = \"Email\")",
            fields: &["company/id", "type/name", "type/name"],
            matches: vec![
                agreement(),
                with(json!({ "type": { "id": 8, "name": "Email" } })),
            ],
            misses: vec![
                with(json!({ "type": { "id": 9, "name": "Voice" } })),
                with(json!({ "company": { "id": 251, "identifier": "globex" } })),
            ],
        },
        // --- null ----------------------------------------------------------------------
        Example {
            built: Some(Condition::eq("parentAgreement/id", CwValue::Null)),
            text: "parentAgreement/id = null",
            fields: &["parentAgreement/id"],
            matches: vec![
                without("parentAgreement"),
                with(json!({ "parentAgreement": null })),
            ],
            misses: vec![agreement()],
        },
        Example {
            built: Some(Condition::eq("parentAgreement/id", 3)),
            text: "parentAgreement/id = 3",
            fields: &["parentAgreement/id"],
            matches: vec![agreement()],
            misses: vec![
                without("parentAgreement"),
                with(json!({ "parentAgreement": { "id": 4, "name": "Other" } })),
            ],
        },
        Example {
            built: Some(Condition::eq("cancelledDate", CwValue::Null)),
            text: "cancelledDate = null",
            fields: &["cancelledDate"],
            matches: vec![agreement(), with(json!({ "cancelledDate": null }))],
            misses: vec![with(json!({ "cancelledDate": "2026-11-15T00:00:00Z" }))],
        },
        Example {
            built: Some(Condition::ne("cancelledDate", CwValue::Null)),
            text: "cancelledDate != null",
            fields: &["cancelledDate"],
            matches: vec![with(json!({ "cancelledDate": "2026-11-15T00:00:00Z" }))],
            misses: vec![agreement()],
        },
        // --- dates -------------------------------------------------------------------
        Example {
            built: Some(Condition::le("endDate", date(2026, 12, 31))),
            text: "endDate <= [2026-12-31T00:00:00Z]",
            fields: &["endDate"],
            matches: vec![
                agreement(),
                with(json!({ "endDate": "2026-01-01T00:00:00Z" })),
            ],
            misses: vec![
                with(json!({ "endDate": "2026-12-31T00:00:01Z" })),
                with(json!({ "endDate": null })),
            ],
        },
        Example {
            built: None,
            text: "endDate = [2026-12-31]",
            fields: &["endDate"],
            matches: vec![agreement()],
            misses: vec![with(json!({ "endDate": "2026-12-30T00:00:00Z" }))],
        },
        // --- quoting ---------------------------------------------------------------------
        Example {
            built: None,
            text: r"name = 'Bob\'s Backup'",
            fields: &["name"],
            matches: vec![with(json!({ "name": "Bob's Backup" }))],
            misses: vec![with(json!({ "name": "Bobs Backup" }))],
        },
        Example {
            built: None,
            text: r#"name = 'The "Big" One \\ Backup'"#,
            fields: &["name"],
            matches: vec![with(json!({ "name": r#"The "Big" One \ Backup"# }))],
            misses: vec![with(json!({ "name": r#"The "Big" One \\ Backup"# }))],
        },
        Example {
            built: Some(Condition::eq("name", r#"Bob's "Big" \ Backup"#)),
            text: r#"name = "Bob's \"Big\" \\ Backup""#,
            fields: &["name"],
            matches: vec![with(json!({ "name": r#"bob's "big" \ backup"# }))],
            misses: vec![with(json!({ "name": r#"Bob's "Big" \\ Backup"# }))],
        },
        Example {
            built: Some(Condition::is_in("name", ["Acme — Backup", "x or y"])),
            text: r#"name in ("Acme — Backup", "x or y")"#,
            fields: &["name"],
            matches: vec![agreement(), with(json!({ "name": "X OR Y" }))],
            misses: vec![with(json!({ "name": "x" }))],
        },
    ]
}

/// Input the sandbox refuses (ConnectWise answers 400), with part of the expected message.
const MALFORMED: &[(&str, &str)] = &[
    ("name = 'Acme", "unterminated string"),
    ("name = \"Acme", "unterminated string"),
    (r"name = 'Bob\'s", "unterminated string"),
    // An unescaped quote ends the string early.
    ("name = 'Bob's Backup'", "unexpected `s`"),
    (r#"name = 'a\"b'"#, "invalid escape"),
    ("agreementStatus = Active", "strings must be quoted"),
    ("name like Acme*", "expected a string after `like`"),
    ("company/id in 250, 251", "expected `(` after `in`"),
    ("company/id in (250, 251", "expected `,` or `)`"),
    ("company/id in ()", "expected a value after `(`"),
    ("endDate > [2026-13-01T00:00:00Z]", "invalid date"),
    ("endDate > [next week]", "invalid date"),
    ("endDate > [2026-11-01T00:00:00Z", "unterminated date"),
    ("endDate > 2026-11-01", "invalid number"),
    ("(type/id = 7 or type/id = 8", "expected `)`"),
    (
        "agreementStatus = 'Active' and",
        "expected a condition after `and`",
    ),
    ("agreementStatus == 'Active'", "unknown operator `==`"),
    (
        "name not = 'x'",
        "expected `like`, `contains` or `in` after `not`",
    ),
    // ConnectWise's `not` negates an operator; the sandbox refuses a prefix `not`.
    ("not name contains 'test'", "`not` goes after the field"),
];

#[test]
fn builder_renders_each_example_exactly() {
    let mut built = 0;
    for example in examples() {
        if let Some(condition) = &example.built {
            assert_eq!(condition.as_str(), example.text);
            assert_eq!(condition.to_string(), example.text);
            built += 1;
        }
    }
    assert!(built >= 15, "only {built} rows use the builder");
}

#[test]
fn sandbox_evaluates_each_example_as_listed() {
    for example in examples() {
        let text = example.text;
        let expr = parse(text).unwrap_or_else(|e| panic!("{text:?} does not parse: {e}"));
        assert!(
            !example.matches.is_empty() || !example.misses.is_empty(),
            "{text:?} has no records"
        );
        for record in &example.matches {
            assert!(expr.matches(record), "{text:?} should match {record}");
        }
        for record in &example.misses {
            assert!(!expr.matches(record), "{text:?} should not match {record}");
        }
    }
}

#[test]
fn sandbox_lists_the_fields_of_each_example() {
    for example in examples() {
        let expr: Expr = parse(example.text).unwrap();
        assert_eq!(expr.fields(), example.fields, "{:?}", example.text);
    }
}

/// A string written in single quotes means the same as the builder's double-quoted one.
#[test]
fn single_and_double_quotes_parse_alike() {
    let pairs = [
        (Condition::eq("name", "Bob's"), r"name = 'Bob\'s'"),
        (Condition::eq("name", r#"say "hi""#), r#"name = 'say "hi"'"#),
        (Condition::eq("path", r"C:\temp"), r"path = 'C:\\temp'"),
        (Condition::like("name", "Acme*"), "name like 'Acme*'"),
        (
            Condition::not_in("type/name", ["Email", "it's"]),
            r"type/name not in ('Email', 'it\'s')",
        ),
    ];
    for (condition, single) in pairs {
        assert_eq!(
            parse(condition.as_str()).unwrap(),
            parse(single).unwrap(),
            "{condition} vs {single}"
        );
    }
}

#[test]
fn sandbox_refuses_malformed_conditions() {
    for (input, message) in MALFORMED {
        let error = parse(input).expect_err(input);
        assert!(
            error.message.contains(message),
            "{input:?}: {error} does not mention {message:?}"
        );
    }
}
