//! Bad input, clear answers: every free-text argument has a documented maximum length and
//! refuses control characters (`BAD_USER_INPUT` naming the field), searches match `%`, `_`
//! and `\` literally and fold case alike on both engines, levels keep every other character
//! exactly, and a schedule that never fires is refused.

use async_graphql::parser::types::{
    BaseType, FieldDefinition, InputValueDefinition, Type, TypeKind, TypeSystemDefinition,
};
use billbridge::auth::Role;
use billbridge::sandbox::{DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};

use crate::common::{TestApp, catalogue, id};

/// The documented maximum, in characters, of every String argument and input field
/// (README, "Input limits"). Every `ID` takes at most [`ID_LIMIT`].
const LIMITS: &[(&str, usize)] = &[
    ("Query.accounts(after:)", 2000),
    ("Query.accounts(search:)", 200),
    ("Query.auditEvents(after:)", 2000),
    ("Query.auditEvents(entity:)", 100),
    ("Query.pushRuns(after:)", 2000),
    ("Query.webhookDeliveries(after:)", 2000),
    ("Mutation.deleteAccounts(names:)", 200),
    ("AccountInput.name", 200),
    ("AccountInput.linkIdentifier", 200),
    ("AddBillingMappingInput.level", 200),
    ("ConnectPsaInput.site", 255),
    ("ConnectPsaInput.companyId", 200),
    ("ConnectPsaInput.publicKey", 200),
    ("ConnectPsaInput.privateKey", 200),
    ("ConnectPsaInput.clientId", 200),
    ("ConnectPsaInput.integration", 200),
    ("ConnectPsaInput.apiVersion", 100),
    ("CreateApiTokenInput.name", 200),
    ("CreateLevelInput.name", 200),
    ("CreatePlanInput.uniqueId", 200),
    ("CreatePlanInput.name", 200),
    ("CreateProductInput.name", 200),
    ("CreateServiceInput.name", 200),
    ("CreateServiceInput.description", 200),
    ("CreateUserInput.email", 254),
    ("CreateUserInput.displayName", 200),
    ("CreateUserInput.password", 256),
    ("CreateWebhookInput.url", 2000),
    ("CreateWebhookInput.description", 200),
    ("MetricInput.name", 200),
    ("MetricInput.crossReferenceType", 200),
    ("PushScheduleInput.timeOfDay", 100),
    ("PushScheduleInput.timeZone", 100),
    ("PushScheduleInput.cron", 100),
    ("UpdateBillingMappingInput.level", 200),
    ("UpdatePlanInput.uniqueId", 200),
    ("UpdatePlanInput.name", 200),
    ("UpdateProductInput.name", 200),
    ("UpdateServiceInput.name", 200),
    ("UpdateServiceInput.description", 200),
    ("UsageInput.account", 200),
    ("Query.importSample(csv:)", 786_432),
    ("Query.previewImport(csv:)", 786_432),
    ("Query.previewImport(fileName:)", 200),
    ("Mutation.commitImport(csv:)", 786_432),
    ("Mutation.commitImport(fileName:)", 200),
    ("ImportMappingInput.account", 200),
    ("ImportMappingInput.displayName", 200),
    ("ImportMappingInput.product", 200),
    ("ImportMappingInput.plan", 200),
    ("ImportMappingInput.measuredAt", 200),
    ("ImportMappingInput.date", 100),
    ("ImportMappingInput.dateFormat", 100),
    ("ImportMetricColumnInput.column", 200),
    ("ImportMetricColumnInput.crossReferenceType", 200),
];
/// A whole file sent as text: its limit is in bytes (`BILLBRIDGE_MAX_IMPORT_BYTES`), above
/// [`HUGE`], and its lines may end in CR LF.
const FILES: &[&str] = &[
    "Query.importSample(csv:)",
    "Query.previewImport(csv:)",
    "Mutation.commitImport(csv:)",
];
const ID_LIMIT: usize = 20;
/// Text that may hold any character: passwords are hashed and never shown.
const ANY_CHARACTER: &[&str] = &["CreateUserInput.password"];
/// Text and id arguments of fields below the root (reached only with data) and of the
/// subscription. `usageHistory` and the push lines' and companies' have their own test below; `pushRunProgress`
/// reads its `runId` with `input::id` like every root id (unit-tested there).
const NESTED: &[&str] = &[
    "Account.usageHistory(metricId:)",
    "PushPreview.companies(after:)",
    "PushPreview.companies(serviceId:)",
    "PushPreview.lines(after:)",
    "PushPreview.lines(companyId:)",
    "PushPreview.lines(serviceId:)",
    "PushRun.companies(after:)",
    "PushRun.companies(serviceId:)",
    "PushRun.lines(after:)",
    "PushRun.lines(companyId:)",
    "PushRun.lines(serviceId:)",
    "Subscription.pushRunProgress(runId:)",
];
/// Longer than every maximum, and than SQLite's LIKE pattern limit (50,000 bytes).
const HUGE: usize = 50_001;

/// The schema as served, read from its SDL.
struct Sdl {
    objects: HashMap<String, Vec<FieldDefinition>>,
    inputs: HashMap<String, Vec<InputValueDefinition>>,
    enums: HashMap<String, String>,
}

impl Sdl {
    fn read() -> Sdl {
        let document = async_graphql::parser::parse_schema(billbridge::graphql::sdl())
            .expect("the SDL parses");
        let mut sdl = Sdl {
            objects: HashMap::new(),
            inputs: HashMap::new(),
            enums: HashMap::new(),
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let name = ty.node.name.node.to_string();
            match ty.node.kind {
                TypeKind::Object(o) => {
                    sdl.objects
                        .insert(name, o.fields.into_iter().map(|f| f.node).collect());
                }
                TypeKind::InputObject(i) => {
                    sdl.inputs
                        .insert(name, i.fields.into_iter().map(|f| f.node).collect());
                }
                TypeKind::Enum(e) => {
                    sdl.enums
                        .insert(name, e.values[0].node.value.node.to_string());
                }
                _ => {}
            }
        }
        sdl
    }

    /// Every String or ID place under a value of type `ty`: (input fields on the way,
    /// coordinate, scalar).
    fn text_places(&self, ty: &Type, coordinate: String) -> Vec<(Vec<String>, String, String)> {
        match named(ty) {
            scalar @ ("String" | "ID") => vec![(vec![], coordinate, scalar.to_owned())],
            input if self.inputs.contains_key(input) => self.inputs[input]
                .iter()
                .flat_map(|field| {
                    let name = field.name.node.to_string();
                    self.text_places(&field.ty.node, format!("{input}.{name}"))
                        .into_iter()
                        .map(move |(mut path, coordinate, scalar)| {
                            path.insert(0, name.clone());
                            (path, coordinate, scalar)
                        })
                })
                .collect(),
            _ => vec![],
        }
    }

    /// A valid value of a required `ty` (named `name`), as far as types and formats go.
    fn sample(&self, ty: &Type, name: &str, site: &str) -> Value {
        if let BaseType::List(inner) = &ty.base {
            return json!([self.sample(inner, name, site)]);
        }
        match named(ty) {
            "String" => json!(match name {
                "site" => site,
                "email" => "probe@example.com",
                "password" => "a long enough password",
                "url" => "https://example.com/hooks/billbridge",
                _ => "x",
            }),
            "ID" => json!("1"),
            "Int" => json!(1),
            "Float" => json!(1.0),
            "Boolean" => json!(false),
            "DateTime" => json!("2026-01-01T00:00:00Z"),
            e if self.enums.contains_key(e) => json!(self.enums[e]),
            input if self.inputs.contains_key(input) => self.input(input, &[], &Value::Null, site),
            other => panic!("no sample for {other}"),
        }
    }

    /// An input object with its required fields sampled and `probe` at `path`.
    fn input(&self, input: &str, path: &[String], probe: &Value, site: &str) -> Value {
        let mut object = Map::new();
        for field in &self.inputs[input] {
            let name = field.name.node.as_str();
            if path.first().map(String::as_str) == Some(name) {
                object.insert(
                    name.to_owned(),
                    self.value(&field.ty.node, &path[1..], probe, site),
                );
            } else if !field.ty.node.nullable && field.default_value.is_none() {
                object.insert(name.to_owned(), self.sample(&field.ty.node, name, site));
            }
        }
        Value::Object(object)
    }

    /// A value of `ty` carrying `probe` at `path` (lists get one element).
    fn value(&self, ty: &Type, path: &[String], probe: &Value, site: &str) -> Value {
        if let BaseType::List(inner) = &ty.base {
            return json!([self.value(inner, path, probe, site)]);
        }
        if path.is_empty() {
            return probe.clone();
        }
        self.input(named(ty), path, probe, site)
    }
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// One String or ID place of a root field's arguments.
struct Place<'a> {
    operation: &'static str,
    field: &'a FieldDefinition,
    argument: String,
    path: Vec<String>,
    coordinate: String,
    scalar: String,
}

impl Place<'_> {
    /// The name the error must give: the input field or argument itself.
    fn leaf(&self) -> &str {
        self.path.last().unwrap_or(&self.argument)
    }

    /// The operation and variables that put `probe` here, every other required argument
    /// sampled.
    fn request(&self, sdl: &Sdl, probe: &str, site: &str) -> (String, Value) {
        let probe = json!(probe);
        let (mut declared, mut passed, mut variables) = (vec![], vec![], Map::new());
        for (i, argument) in self.field.arguments.iter().enumerate() {
            let argument = &argument.node;
            let name = argument.name.node.as_str();
            let value = if name == self.argument {
                sdl.value(&argument.ty.node, &self.path, &probe, site)
            } else if !argument.ty.node.nullable && argument.default_value.is_none() {
                sdl.sample(&argument.ty.node, name, site)
            } else {
                continue;
            };
            declared.push(format!("$a{i}: {}", argument.ty.node));
            passed.push(format!("{name}: $a{i}"));
            variables.insert(format!("a{i}"), value);
        }
        let selection = if sdl.objects.contains_key(named(&self.field.ty.node)) {
            " { __typename }"
        } else {
            ""
        };
        let query = format!(
            "{}({}) {{ {}({}){selection} }}",
            self.operation,
            declared.join(", "),
            self.field.name.node,
            passed.join(", ")
        );
        (query, Value::Object(variables))
    }
}

/// Whether an error is about the field `leaf` (`name`, `input[0].name`, `names[0]`).
fn names(error: &Value, leaf: &str) -> bool {
    let field = error["extensions"]["field"].as_str().unwrap_or_default();
    field == leaf || field.ends_with(&format!(".{leaf}")) || field.starts_with(&format!("{leaf}["))
}

#[tokio::test]
async fn every_text_argument_has_a_documented_limit_and_refuses_control_characters() {
    let app = TestApp::start().await;
    let sdl = Sdl::read();
    let limits: HashMap<&str, usize> = LIMITS.iter().copied().collect();

    let mut places = Vec::new();
    for (operation, root) in [("query", "Query"), ("mutation", "Mutation")] {
        for field in &sdl.objects[root] {
            for argument in &field.arguments {
                let argument = &argument.node;
                let name = argument.name.node.to_string();
                let coordinate = format!("{root}.{}({name}:)", field.name.node);
                for (path, coordinate, scalar) in sdl.text_places(&argument.ty.node, coordinate) {
                    places.push(Place {
                        operation,
                        field,
                        argument: name.clone(),
                        path,
                        coordinate,
                        scalar,
                    });
                }
            }
        }
    }
    // Every text place is in the table, and the table names nothing the schema lacks.
    let strings: BTreeSet<&str> = places
        .iter()
        .filter(|p| p.scalar == "String")
        .map(|p| p.coordinate.as_str())
        .collect();
    let documented: BTreeSet<&str> = limits.keys().copied().collect();
    assert_eq!(
        strings, documented,
        "every String argument and input field needs a documented maximum (LIMITS and README)"
    );
    // Arguments below the root are known and tested on their own.
    let nested: BTreeSet<String> = sdl
        .objects
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "Query" | "Mutation"))
        .flat_map(|(name, fields)| {
            fields.iter().flat_map(move |field| {
                field
                    .arguments
                    .iter()
                    .filter(|a| matches!(named(&a.node.ty.node), "String" | "ID"))
                    .map(move |a| format!("{name}.{}({}:)", field.name.node, a.node.name.node))
            })
        })
        .collect();
    assert_eq!(
        nested,
        NESTED
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>()
    );

    for (i, place) in places.iter().enumerate() {
        // A tenant per place, so what one probe creates cannot change another's answer.
        let tenant = format!("walk{i}");
        billbridge::db::tenants::create(&app.db, &tenant, &tenant)
            .await
            .expect("tenant");
        let admin = app.token(&tenant, Role::Admin);
        let limit = match place.scalar.as_str() {
            "ID" => ID_LIMIT,
            _ => limits[place.coordinate.as_str()],
        };
        let about = |probe: &str, body: &Value| {
            let start: String = probe.chars().take(8).collect();
            let length = probe.chars().count();
            format!(
                "{} given {start:?}… ({length} characters): {body:#}",
                place.coordinate
            )
        };
        let lengths = if FILES.contains(&place.coordinate.as_str()) {
            vec![limit + 1]
        } else {
            vec![HUGE, limit + 1]
        };
        for length in lengths {
            let probe = "x".repeat(length);
            let (query, variables) = place.request(&sdl, &probe, &app.site);
            let body = app.post(&admin, &query, variables).await;
            let error = &body["errors"][0];
            let what = about(&probe, &body);
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{what}");
            assert!(names(error, place.leaf()), "{what}");
            assert!(
                error["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(&format!("at most {limit} are accepted")),
                "{what}"
            );
        }
        // At the limit the length is fine (whatever else is wrong with an "xxx…").
        let probe = "x".repeat(limit);
        let (query, variables) = place.request(&sdl, &probe, &app.site);
        let body = app.post(&admin, &query, variables).await;
        for error in body["errors"].as_array().into_iter().flatten() {
            let message = error["message"].as_str().unwrap_or_default();
            assert!(
                !message.contains("characters long"),
                "{}",
                about(&probe, &body)
            );
            assert_ne!(
                error["extensions"]["code"],
                "INTERNAL",
                "{}",
                about(&probe, &body)
            );
        }
        if !ANY_CHARACTER.contains(&place.coordinate.as_str()) {
            let (query, variables) = place.request(&sdl, "a\u{0}b", &app.site);
            let body = app.post(&admin, &query, variables).await;
            let error = &body["errors"][0];
            let what = about("a\u{0}b", &body);
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{what}");
            assert!(names(error, place.leaf()), "{what}");
            assert!(
                error["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("control character U+0000"),
                "{what}"
            );
        }
    }
    println!("{} text and id places probed", places.len());
}

const ACCOUNTS: &str = "query($q: String) { accounts(first: 100, search: $q) { nodes { name } } }";
const UPSERT: &str =
    r#"mutation($input: [AccountInput!]!) { upsertAccounts(input: $input) { id } }"#;

async fn found(app: &TestApp, token: &str, search: &str) -> Vec<String> {
    let data = app.ok(token, ACCOUNTS, json!({ "q": search })).await;
    let mut names: Vec<String> = data["accounts"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_long_search_is_bad_input_on_both_engines() {
    let app = TestApp::start().await;
    let token = app.editor();
    app.ok(
        &token,
        UPSERT,
        json!({ "input": [{ "name": "acme", "subscriptions": [] }] }),
    )
    .await;
    for length in [50_000, 201] {
        let error = app
            .err(&token, ACCOUNTS, json!({ "q": "a".repeat(length) }))
            .await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error:#}");
        assert_eq!(error["extensions"]["field"], "search");
        assert_eq!(
            error["message"],
            format!("search: is {length} characters long; at most 200 are accepted")
        );
    }
    // The longest search allowed runs (and, of course, finds nothing here).
    assert!(found(&app, &token, &"%".repeat(200)).await.is_empty());
    let error = app.err(&token, ACCOUNTS, json!({ "q": "ac\u{0}me" })).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error:#}");
    assert_eq!(error["extensions"]["field"], "search");
}

#[tokio::test]
async fn searches_match_wildcards_and_backslashes_literally_and_fold_ascii_case_alike() {
    let app = TestApp::start().await;
    let token = app.editor();
    let accounts = [
        r"back\slash",
        "per%cent",
        "under_score",
        "underXscore",
        "Acme-Dental",
        "École-Nord",
        "école-sud",
    ];
    let mut rows: Vec<Value> = accounts
        .iter()
        .map(|name| json!({ "name": name, "subscriptions": [] }))
        .collect();
    rows.push(json!({ "name": "linked", "linkIdentifier": r"LINK\100%_", "subscriptions": [] }));
    app.ok(&token, UPSERT, json!({ "input": rows })).await;
    // A blank search is no search.
    assert_eq!(found(&app, &token, "  ").await.len(), accounts.len() + 1);

    let cases: &[(&str, &[&str])] = &[
        (r"\", &[r"back\slash", "linked"]),
        (r"k\s", &[r"back\slash"]),
        ("%", &["linked", "per%cent"]),
        ("r%c", &["per%cent"]),
        ("_", &["linked", "under_score"]),
        ("r_s", &["under_score"]),
        (r"\100%_", &["linked"]),
        (r"k\\s", &[]),
        ("acme-DENTAL", &["Acme-Dental"]),
        ("link", &["linked"]),
        // Only ASCII letters fold: É and é are different letters on both engines.
        ("COLE", &["École-Nord", "école-sud"]),
        ("ÉCOLE", &["École-Nord"]),
        ("école", &["école-sud"]),
    ];
    for (search, expected) in cases {
        let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(found(&app, &token, search).await, expected, "{search:?}");
    }
}

#[tokio::test]
async fn control_characters_are_refused_in_names_and_levels_which_keep_all_else() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (_, product, _, _) = catalogue(&app, &token).await;
    const LEVEL: &str = "mutation($n: String!) { createLevel(input: {name: $n}) { name } }";

    for (bad, code) in [
        ("Gold\u{0}", "U+0000"),
        ("Gold\tTier", "U+0009"),
        ("Gold\nTier", "U+000A"),
        ("Gold\u{1b}[31m", "U+001B"),
        ("Gold\u{7f}", "U+007F"),
        ("Gold\u{85}", "U+0085"),
        ("\u{9b}Gold", "U+009B"),
    ] {
        let error = app.err(&token, LEVEL, json!({ "n": bad })).await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{bad:?}");
        assert_eq!(error["extensions"]["field"], "name", "{bad:?}");
        assert!(
            error["message"].as_str().unwrap().contains(code),
            "{bad:?}: {error:#}"
        );
    }
    let error = app
        .err(
            &token,
            r#"mutation($p: ID!, $l: String!) { addBillingMapping(input: {productId: $p, allPlans: true, level: $l, usageValue: TOTAL_USAGE}) { mapping { id } } }"#,
            json!({ "p": product, "l": "Gold\u{0}" }),
        )
        .await;
    assert_eq!(error["extensions"]["field"], "level", "{error:#}");
    let error = app
        .err(
            &token,
            r#"mutation($n: String!) { createService(input: {name: $n}) { id } }"#,
            json!({ "n": "Back\u{0}up" }),
        )
        .await;
    assert_eq!(error["extensions"]["field"], "name", "{error:#}");

    // A batch with one bad name writes nothing and names the row.
    let error = app
        .err(
            &token,
            UPSERT,
            json!({ "input": [
                { "name": "fine", "subscriptions": [] },
                { "name": "nul\u{0}name", "subscriptions": [] }] }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error:#}");
    assert_eq!(error["extensions"]["field"], "input[1].name");
    assert_eq!(error["extensions"]["index"], 1);
    assert_eq!(app.count("accounts").await, 0);
    let error = app
        .err(
            &token,
            UPSERT,
            json!({ "input": [{ "name": "fine", "linkIdentifier": "LINK\u{7f}", "subscriptions": [] }] }),
        )
        .await;
    assert_eq!(error["extensions"]["field"], "input[0].linkIdentifier");

    // Leading or trailing spaces stay refused; everything else printable is kept exactly.
    for spaced in [" Gold", "Gold ", "\u{a0}Gold"] {
        let error = app.err(&token, LEVEL, json!({ "n": spaced })).await;
        assert_eq!(error["extensions"]["field"], "name", "{spaced:?}");
    }
    let kept = [
        "Platinum ✨ “Plus”",
        r#"It's "quoted" <b>&amp;</b> \ %_"#,
        "Ünïcödé 级别",
        "e\u{301}",
        "Gold  Tier",
        "👩\u{200d}💻",
        "zero\u{200b}width",
    ];
    for level in kept {
        let created = app.ok(&token, LEVEL, json!({ "n": level })).await;
        assert_eq!(created["createLevel"]["name"], level);
    }
    let listed = app.ok(&token, "{ levels { name } }", json!({})).await;
    let listed: Vec<&str> = listed["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    for level in kept {
        assert!(listed.contains(&level), "{level:?} in {listed:?}");
    }
    let mapped = app
        .ok(
            &token,
            r#"mutation($p: ID!, $l: String!) { addBillingMapping(input: {productId: $p, allPlans: true, level: $l, usageValue: TOTAL_USAGE}) { mapping { level { name } } } }"#,
            json!({ "p": product, "l": kept[1] }),
        )
        .await;
    assert_eq!(
        mapped["addBillingMapping"]["mapping"]["level"]["name"],
        kept[1]
    );
}

const SCHEDULE: &str = "mutation($c: String) { updatePushSchedule(input: {enabled: true, cron: $c}) { enabled cron nextRunAt } }";

#[tokio::test]
async fn a_schedule_that_never_fires_is_refused_and_a_leap_day_accepted() {
    let app = TestApp::start().await;
    let token = app.editor();
    for never in ["0 0 30 2 *", "0 0 31 4 *", "0 12 31 6,9,11 *"] {
        let error = app.err(&token, SCHEDULE, json!({ "c": never })).await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error:#}");
        assert_eq!(error["extensions"]["field"], "cron");
        assert!(
            error["message"].as_str().unwrap().contains("never fires"),
            "{error:#}"
        );
    }
    let stored = app
        .ok(&token, "{ pushSchedule { enabled cron } }", json!({}))
        .await;
    assert_eq!(
        stored["pushSchedule"]["enabled"], false,
        "nothing was saved"
    );
    assert_eq!(stored["pushSchedule"]["cron"], Value::Null);

    let saved = app.ok(&token, SCHEDULE, json!({ "c": "0 0 29 2 *" })).await;
    let schedule = &saved["updatePushSchedule"];
    assert_eq!(schedule["enabled"], true);
    assert_eq!(schedule["cron"], "0 0 29 2 *");
    // The next 29 February, at midnight UTC.
    use chrono::{Datelike, NaiveDate, Utc};
    let now = Utc::now();
    let next = (now.year()..)
        .filter_map(|year| NaiveDate::from_ymd_opt(year, 2, 29))
        .map(|day| day.and_hms_opt(0, 0, 0).unwrap().and_utc())
        .find(|at| *at > now)
        .unwrap();
    let next_run: chrono::DateTime<Utc> = schedule["nextRunAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(next_run, next);
}

#[tokio::test]
async fn arguments_below_the_root_are_checked_too() {
    let app = TestApp::start().await;
    let token = app.editor();
    app.ok(
        &token,
        UPSERT,
        json!({ "input": [{ "name": "acme", "subscriptions": [] }] }),
    )
    .await;
    const HISTORY: &str =
        "query($m: ID) { accounts { nodes { usageHistory(metricId: $m) { quantity } } } }";
    let error = app
        .err(&token, HISTORY, json!({ "m": "1".repeat(HUGE) }))
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error:#}");
    assert_eq!(error["extensions"]["field"], "metricId");
    assert!(
        error["message"].as_str().unwrap().contains("at most 20"),
        "{error:#}"
    );
    let error = app.err(&token, HISTORY, json!({ "m": "1\u{0}" })).await;
    assert_eq!(error["extensions"]["field"], "metricId", "{error:#}");

    app.connect_psa("alpha", DEMO_PUBLIC_KEY, DEMO_PRIVATE_KEY)
        .await;
    let run = app
        .ok(
            &token,
            "mutation { pushUsage(dryRun: true) { id } }",
            json!({}),
        )
        .await;
    let run = id(&run["pushUsage"]["id"]);
    // Every text argument of a run's and a preview's lines and companies.
    let places = [
        (
            "pushRun(id: $id) { lines(after: $v)",
            "after",
            "at most 2000",
        ),
        (
            "pushRun(id: $id) { lines(companyId: $v)",
            "companyId",
            "at most 20",
        ),
        (
            "pushRun(id: $id) { lines(serviceId: $v)",
            "serviceId",
            "at most 20",
        ),
        (
            "pushRun(id: $id) { companies(after: $v)",
            "after",
            "at most 2000",
        ),
        (
            "pushRun(id: $id) { companies(serviceId: $v)",
            "serviceId",
            "at most 20",
        ),
        ("previewPush { lines(after: $v)", "after", "at most 2000"),
        (
            "previewPush { lines(companyId: $v)",
            "companyId",
            "at most 20",
        ),
        (
            "previewPush { lines(serviceId: $v)",
            "serviceId",
            "at most 20",
        ),
        (
            "previewPush { companies(after: $v)",
            "after",
            "at most 2000",
        ),
        (
            "previewPush { companies(serviceId: $v)",
            "serviceId",
            "at most 20",
        ),
    ];
    for (field, argument, limit) in places {
        let query = format!("query($id: ID!, $v: String) {{ {field} {{ totalCount }} }} }}");
        let query = query.replace(
            "query($id: ID!, $v: String) { previewPush",
            "query($v: String) { previewPush",
        );
        for (value, expected) in [("x".repeat(HUGE), limit), ("1\u{0}".to_owned(), "")] {
            let variables = json!({ "id": run, "v": value });
            let error = app.err(&token, &query, variables).await;
            assert_eq!(
                error["extensions"]["code"], "BAD_USER_INPUT",
                "{query}: {error:#}"
            );
            assert_eq!(error["extensions"]["field"], argument, "{query}: {error:#}");
            assert!(
                error["message"].as_str().unwrap().contains(expected),
                "{query}: {error:#}"
            );
        }
    }
}
