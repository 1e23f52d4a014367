//! The push preview and a run's lines at MSP scale: paged and filtered on the server, with
//! totals per action, reason and company; a preview computed once and reused while paging.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::{TestApp, demo};

const ALL: &str = "{ previewPush { computedAt freshUntil summary { lines update create unchanged retire skip skippedByReason { reason count } } lines(first: 1000) { totalCount nodes { companyId companyName metric accounts action reason } } } }";

const LINES: &str = "query($first: Int! = 100, $after: String, $action: PushAction, $reason: SkipReason, $company: ID, $without: Boolean! = false, $service: ID, $changes: Boolean! = false) { previewPush { lines(first: $first, after: $after, action: $action, reason: $reason, companyId: $company, withoutCompany: $without, serviceId: $service, changesOnly: $changes) { totalCount pageInfo { hasNextPage endCursor } nodes { companyId companyName metric accounts action reason } } } }";

const COMPANIES: &str = "query($changes: Boolean! = false, $first: Int! = 50, $after: String) { previewPush { companies(changesOnly: $changes, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { companyId companyName summary { lines update create unchanged retire skip } monthly { before after change } } } } }";

fn reads(app: &TestApp) -> u64 {
    app.sandbox
        .calls()
        .iter()
        .filter(|(k, _)| k.starts_with("GET "))
        .map(|(_, n)| n)
        .sum()
}

fn count(lines: &[Value], keep: impl Fn(&Value) -> bool) -> usize {
    lines.iter().filter(|l| keep(l)).count()
}

async fn lines(app: &TestApp, token: &str, variables: Value) -> Value {
    app.ok(token, LINES, variables).await["previewPush"]["lines"].clone()
}

#[tokio::test]
async fn the_preview_pages_and_filters_its_lines_and_counts_them_per_company() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let preview = app.ok(&editor, ALL, json!({})).await["previewPush"].clone();
    let summary = &preview["summary"];
    let all = preview["lines"]["nodes"].as_array().unwrap().clone();
    assert_eq!(preview["lines"]["totalCount"], summary["lines"]);
    assert_eq!(all.len() as i64, summary["lines"].as_i64().unwrap());
    assert!(all.len() > 100, "the demo plans more lines than a page");

    // Pages of 7 add up to the whole, in the same order.
    let mut paged = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = lines(&app, &editor, json!({ "first": 7, "after": after })).await;
        assert_eq!(page["totalCount"], summary["lines"]);
        let nodes = page["nodes"].as_array().unwrap();
        assert!(nodes.len() <= 7);
        paged.extend(nodes.iter().cloned());
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(paged, all);
    // The default page is 100 lines.
    let first = lines(&app, &editor, json!({})).await;
    assert_eq!(first["nodes"].as_array().unwrap().len(), 100);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);

    // Filters, each against the whole plan.
    let create = lines(&app, &editor, json!({ "action": "CREATE", "first": 1000 })).await;
    assert_eq!(create["totalCount"], summary["create"]);
    assert!(
        create["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["action"] == "CREATE")
    );
    let reason = summary["skippedByReason"][0].clone();
    let skipped = lines(
        &app,
        &editor,
        json!({ "reason": reason["reason"], "first": 1000 }),
    )
    .await;
    assert_eq!(skipped["totalCount"], reason["count"], "{reason}");
    let changes = lines(&app, &editor, json!({ "changes": true, "first": 1000 })).await;
    let writing = ["UPDATE", "CREATE", "RETIRE"];
    assert_eq!(
        changes["totalCount"].as_i64().unwrap(),
        summary["update"].as_i64().unwrap()
            + summary["create"].as_i64().unwrap()
            + summary["retire"].as_i64().unwrap()
    );
    assert!(
        changes["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| writing.contains(&l["action"].as_str().unwrap()))
    );
    let company = all.iter().find(|l| !l["companyId"].is_null()).unwrap()["companyId"].clone();
    let of_company = lines(&app, &editor, json!({ "company": company, "first": 1000 })).await;
    let expected = count(&all, |l| l["companyId"] == company);
    assert!(expected > 1);
    assert_eq!(of_company["totalCount"], expected);
    let without = lines(&app, &editor, json!({ "without": true, "first": 1000 })).await;
    let expected = count(&all, |l| l["companyId"].is_null());
    assert!(expected > 0, "the demo has accounts with no single company");
    assert_eq!(without["totalCount"], expected);
    // Filters combine: a company's changes only.
    let both = lines(
        &app,
        &editor,
        json!({ "company": company, "changes": true, "first": 1000 }),
    )
    .await;
    let expected = count(&all, |l| {
        l["companyId"] == company && writing.contains(&l["action"].as_str().unwrap())
    });
    assert_eq!(both["totalCount"], expected);

    // A service's lines: each line is of one of the demo's services; a new, empty one has none.
    let services = app.ok(&editor, "{ services { id } }", json!({})).await["services"].clone();
    let mut of_services = 0;
    for service in services.as_array().unwrap() {
        let of_service = lines(
            &app,
            &editor,
            json!({ "service": service["id"], "first": 1 }),
        )
        .await;
        let n = of_service["totalCount"].as_i64().unwrap();
        assert!(n > 0, "{service}");
        of_services += n;
    }
    assert_eq!(of_services, summary["lines"].as_i64().unwrap());
    let empty = app
        .ok(
            &editor,
            "mutation { createService(input: { name: \"Empty\" }) { id } }",
            json!({}),
        )
        .await["createService"]["id"]
        .clone();
    let none = lines(&app, &editor, json!({ "service": empty })).await;
    assert_eq!(none["totalCount"], 0);

    // Per company: every line in exactly one group, by name, lines without a company last.
    let groups =
        app.ok(&editor, COMPANIES, json!({ "first": 1000 })).await["previewPush"]["companies"]
            .clone();
    let nodes = groups["nodes"].as_array().unwrap();
    let mut per_company: BTreeMap<String, usize> = BTreeMap::new();
    for line in &all {
        *per_company
            .entry(line["companyId"].to_string())
            .or_default() += 1;
    }
    assert_eq!(nodes.len(), per_company.len());
    assert_eq!(groups["totalCount"], per_company.len());
    for group in nodes {
        assert_eq!(
            group["summary"]["lines"],
            per_company[&group["companyId"].to_string()],
            "{group}"
        );
    }
    assert!(nodes.last().unwrap()["companyId"].is_null());
    let names: Vec<String> = nodes[..nodes.len() - 1]
        .iter()
        .map(|g| g["companyName"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    // Pages of companies add up to the whole.
    let page =
        app.ok(&editor, COMPANIES, json!({ "first": 5 })).await["previewPush"]["companies"].clone();
    let rest = app
        .ok(
            &editor,
            COMPANIES,
            json!({ "first": 1000, "after": page["pageInfo"]["endCursor"] }),
        )
        .await["previewPush"]["companies"]
        .clone();
    let joined: Vec<Value> = page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["nodes"].as_array().unwrap())
        .cloned()
        .collect();
    assert_eq!(&joined, nodes);
    // With changes only, the groups count only lines that write, and none is empty.
    let changing = app
        .ok(
            &editor,
            COMPANIES,
            json!({ "changes": true, "first": 1000 }),
        )
        .await["previewPush"]["companies"]["nodes"]
        .clone();
    let mut total = 0;
    for group in changing.as_array().unwrap() {
        let s = &group["summary"];
        let lines = s["lines"].as_i64().unwrap();
        assert!(lines > 0);
        assert_eq!(
            lines,
            s["update"].as_i64().unwrap()
                + s["create"].as_i64().unwrap()
                + s["retire"].as_i64().unwrap()
        );
        total += lines;
    }
    assert_eq!(total, changes["totalCount"].as_i64().unwrap());

    // Bad filters are named.
    let error = app
        .err(
            &editor,
            LINES,
            json!({ "company": company, "without": true }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("withoutCompany"),
        "{error}"
    );
    let error = app.err(&editor, LINES, json!({ "first": 0 })).await;
    assert!(
        error["message"].as_str().unwrap().contains("first"),
        "{error}"
    );
    let error = app
        .err(&editor, LINES, json!({ "service": "999999" }))
        .await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{error}");
}

#[tokio::test]
async fn a_preview_is_read_once_and_reused_until_refreshed_changed_or_pushed() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let stamp = "{ previewPush { computedAt freshUntil summary { create unchanged } } }";
    let first = app.ok(&editor, stamp, json!({})).await["previewPush"].clone();
    let computed =
        chrono::DateTime::parse_from_rfc3339(first["computedAt"].as_str().unwrap()).unwrap();
    let until =
        chrono::DateTime::parse_from_rfc3339(first["freshUntil"].as_str().unwrap()).unwrap();
    assert_eq!((until - computed).num_seconds(), 60);

    // Paging through it reads ConnectWise no more.
    let before = reads(&app);
    let page = lines(&app, &editor, json!({ "first": 3 })).await;
    let cursor = page["pageInfo"]["endCursor"].clone();
    lines(&app, &editor, json!({ "first": 3, "after": cursor })).await;
    let again = app.ok(&editor, stamp, json!({})).await["previewPush"].clone();
    assert_eq!(
        reads(&app),
        before,
        "pages of a recent preview read nothing"
    );
    assert_eq!(again["computedAt"], first["computedAt"]);

    // `refresh` reads anew.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let refreshed = app
        .ok(
            &editor,
            "{ previewPush(refresh: true) { computedAt } }",
            json!({}),
        )
        .await["previewPush"]
        .clone();
    assert!(reads(&app) > before, "a refresh reads ConnectWise");
    assert_ne!(refreshed["computedAt"], first["computedAt"]);

    // A mutation of the tenant's data forgets it: the next preview reads again.
    let before = reads(&app);
    app.ok(
        &editor,
        "mutation { updatePushSettings(input: { retireMode: ZERO, onManualEdit: OVERWRITE }) { retireMode } }",
        json!({}),
    )
    .await;
    app.ok(&editor, stamp, json!({})).await;
    assert!(reads(&app) > before, "a preview after a change reads anew");

    // So does a push: after it, the preview shows what it wrote.
    let run = app
        .ok(&editor, "mutation { pushUsage { id } }", json!({}))
        .await["pushUsage"]["id"]
        .clone();
    crate::push::wait(&app, &editor, &run).await;
    let after = app.ok(&editor, stamp, json!({})).await["previewPush"].clone();
    assert_eq!(after["summary"]["create"], 0, "{after}");
    assert!(
        after["summary"]["unchanged"].as_i64().unwrap()
            > first["summary"]["unchanged"].as_i64().unwrap()
    );
}

#[tokio::test]
async fn a_runs_lines_filter_like_the_previews_with_the_same_totals() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let preview = app.ok(&editor, ALL, json!({})).await["previewPush"].clone();
    let run = app
        .ok(
            &editor,
            "mutation { pushUsage(dryRun: true) { id } }",
            json!({}),
        )
        .await["pushUsage"]["id"]
        .clone();
    let query = "query($id: ID!, $company: ID, $without: Boolean! = false, $changes: Boolean! = false) { pushRun(id: $id) { status summary { lines update create unchanged retire skip skippedByReason { reason count } } companies(first: 1000) { totalCount nodes { companyId summary { lines } } } all: lines(first: 1000) { totalCount nodes { companyId action } } some: lines(first: 1000, companyId: $company, withoutCompany: $without, changesOnly: $changes) { totalCount nodes { companyId action } } } }";
    crate::push::wait(&app, &editor, &run).await;
    let done = app.ok(&editor, query, json!({ "id": run })).await["pushRun"].clone();
    // A dry run plans what the preview showed.
    for key in ["lines", "update", "create", "unchanged", "retire", "skip"] {
        assert_eq!(done["summary"][key], preview["summary"][key], "{key}");
    }
    let all = done["all"]["nodes"].as_array().unwrap().clone();
    let groups = done["companies"]["nodes"].as_array().unwrap();
    let sum: i64 = groups
        .iter()
        .map(|g| g["summary"]["lines"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, done["summary"]["lines"].as_i64().unwrap());

    let company = all.iter().find(|l| !l["companyId"].is_null()).unwrap()["companyId"].clone();
    let filtered = |variables: Value| {
        let mut v = variables;
        v["id"] = run.clone();
        let app = &app;
        let editor = &editor;
        async move { app.ok(editor, query, v).await["pushRun"]["some"].clone() }
    };
    let writing = ["UPDATE", "CREATE", "RETIRE"];
    let cases: Vec<(Value, usize)> = vec![
        (
            json!({ "company": company }),
            count(&all, |l| l["companyId"] == company),
        ),
        (
            json!({ "without": true }),
            count(&all, |l| l["companyId"].is_null()),
        ),
        (
            json!({ "changes": true }),
            count(&all, |l| writing.contains(&l["action"].as_str().unwrap())),
        ),
        (
            json!({ "company": company, "changes": true }),
            count(&all, |l| {
                l["companyId"] == company && writing.contains(&l["action"].as_str().unwrap())
            }),
        ),
    ];
    for (variables, expected) in cases {
        let some = filtered(variables.clone()).await;
        assert!(expected > 0, "{variables}");
        assert_eq!(some["totalCount"], expected, "{variables}");
    }
}

/// A variable the request leaves out is as if the argument were not given (the spec's
/// CoerceArgumentValues): the argument's default applies.
#[tokio::test]
async fn a_variable_left_out_leaves_the_argument_its_default() {
    let app = TestApp::start().await;
    let editor = demo(&app).await;
    let query = "query($changes: Boolean, $without: Boolean, $first: Int) { previewPush { summary { lines } lines(changesOnly: $changes, withoutCompany: $without, first: $first) { totalCount nodes { action } } } }";
    let preview = app.ok(&editor, query, json!({})).await["previewPush"].clone();
    assert_eq!(preview["lines"]["totalCount"], preview["summary"]["lines"]);
    assert_eq!(
        preview["lines"]["nodes"].as_array().unwrap().len(),
        100,
        "first: 100"
    );
    let only =
        app.ok(&editor, query, json!({ "changes": true })).await["previewPush"]["lines"].clone();
    assert!(only["totalCount"].as_i64().unwrap() < preview["summary"]["lines"].as_i64().unwrap());
    // The same variable in a fragment.
    let fragment = "query($changes: Boolean) { previewPush { ...L } } fragment L on PushPreview { lines(changesOnly: $changes) { totalCount } }";
    let through = app.ok(&editor, fragment, json!({})).await["previewPush"]["lines"].clone();
    assert_eq!(through["totalCount"], preview["summary"]["lines"]);
    // An explicit null is not left out: refused, naming the argument.
    let error = app.err(&editor, query, json!({ "changes": null })).await;
    assert_eq!(
        error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{error}"
    );
    assert!(
        error["message"].as_str().unwrap().contains("changesOnly"),
        "{error}"
    );
}
