//! Accounts, subscriptions and usage: batch mutations and the paged listing.

use serde_json::{Value, json};

use crate::common::{TestApp, catalogue, id, metric_id};

const UPSERT: &str = r#"mutation($input: [AccountInput!]!) { upsertAccounts(input: $input) { id name linkIdentifier subscriptions { product { name } plan { uniqueId } } } }"#;
const RECORD: &str =
    r#"mutation($input: [UsageInput!]!) { recordUsage(input: $input) { recorded } }"#;

async fn metric_ids(app: &TestApp, token: &str, service: &str) -> (String, String) {
    (
        metric_id(app, token, service, "BackupUsage").await,
        metric_id(app, token, service, "Seats").await,
    )
}

fn usage(account: &str, metric: &str, quantity: f64, at: &str) -> Value {
    json!({ "account": account, "metricId": metric, "quantity": quantity, "measuredAt": at })
}

#[tokio::test]
async fn upsert_creates_updates_and_is_all_or_nothing() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (_, product, p20, p50) = catalogue(&app, &token).await;

    let created = app
        .ok(
            &token,
            UPSERT,
            json!({ "input": [
                { "name": "acme", "linkIdentifier": "ACME-1", "subscriptions": [{ "productId": product, "planId": p20 }] },
                { "name": "bravo", "subscriptions": [] }] }),
        )
        .await;
    assert_eq!(
        created["upsertAccounts"][0]["subscriptions"][0]["plan"]["uniqueId"],
        "P20"
    );
    assert_eq!(created["upsertAccounts"][0]["linkIdentifier"], "ACME-1");

    // Same name again: updated in place, subscriptions replaced.
    let updated = app
        .ok(&token, UPSERT, json!({ "input": [{ "name": "acme", "subscriptions": [{ "productId": product, "planId": p50 }] }] }))
        .await;
    assert_eq!(
        updated["upsertAccounts"][0]["id"],
        created["upsertAccounts"][0]["id"]
    );
    assert_eq!(updated["upsertAccounts"][0]["linkIdentifier"], Value::Null);
    assert_eq!(
        updated["upsertAccounts"][0]["subscriptions"][0]["plan"]["uniqueId"],
        "P50"
    );
    assert_eq!(app.count("accounts").await, 2);
    assert_eq!(app.count("subscriptions").await, 1);

    // One bad row: reported by index, nothing of the batch written.
    let bad_rows: Vec<(Value, &str)> = vec![
        (json!({ "name": "", "subscriptions": [] }), "input[1].name"),
        (
            json!({ "name": "x", "subscriptions": [{ "productId": product, "planId": "999999" }] }),
            "input[1].subscriptions[0].planId",
        ),
        (
            json!({ "name": "x", "subscriptions": [{ "productId": product }, { "productId": product }] }),
            "input[1].subscriptions[1].productId",
        ),
        (
            json!({ "name": "new-one", "subscriptions": [] }),
            "input[1].name",
        ), // duplicate in batch (below)
    ];
    for (i, (row, field)) in bad_rows.into_iter().enumerate() {
        let first = if i == 3 {
            json!({ "name": "new-one", "subscriptions": [] })
        } else {
            json!({ "name": "charlie", "subscriptions": [] })
        };
        let error = app
            .err(&token, UPSERT, json!({ "input": [first, row] }))
            .await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
        assert_eq!(error["extensions"]["index"], 1, "{error}");
        assert_eq!(error["extensions"]["field"], field, "{error}");
    }
    assert_eq!(
        app.count("accounts").await,
        2,
        "no row of a bad batch is written"
    );
}

#[tokio::test]
async fn usage_is_recorded_idempotently_with_history_and_latest() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (service, product, p20, _) = catalogue(&app, &token).await;
    let (storage, seats) = metric_ids(&app, &token, &service).await;
    app.ok(&token, UPSERT, json!({ "input": [{ "name": "acme", "subscriptions": [{ "productId": product, "planId": p20 }] }] }))
        .await;
    // Nothing measured yet: an empty list (PostgreSQL's aggregate of no samples is NULL).
    let data = app
        .ok(
            &token,
            "{ accounts { nodes { latestUsage { quantity } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["accounts"]["nodes"][0]["latestUsage"], json!([]));

    let batch = json!({ "input": [
        usage("acme", &storage, 10.5, "2026-10-01T00:00:00Z"),
        usage("acme", &storage, 12.25, "2026-11-01T00:00:00Z"),
        usage("acme", &seats, 3.0, "2026-11-01T00:00:00Z")] });
    assert_eq!(
        app.ok(&token, RECORD, batch.clone()).await["recordUsage"]["recorded"],
        3
    );
    // The same samples again: no new rows.
    app.ok(&token, RECORD, batch).await;
    assert_eq!(app.count("usage_samples").await, 3);
    // A correction of the same instant (to the second) replaces the quantity.
    app.ok(
        &token,
        RECORD,
        json!({ "input": [usage("acme", &storage, 13.0, "2026-11-01T00:00:00.400Z")] }),
    )
    .await;
    assert_eq!(app.count("usage_samples").await, 3);

    let data = app
        .ok(
            &token,
            "{ accounts { edges { node { latestUsage { metric { crossReferenceType } quantity measuredAt } usageHistory { quantity } } } } }",
            json!({}),
        )
        .await;
    let node = &data["accounts"]["edges"][0]["node"];
    let latest: Vec<(String, f64)> = node["latestUsage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["metric"]["crossReferenceType"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                u["quantity"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        latest,
        [("BackupUsage".to_owned(), 13.0), ("Seats".to_owned(), 3.0)]
    );
    assert_eq!(node["usageHistory"].as_array().unwrap().len(), 3);

    // Bad rows: by index, nothing written.
    let cases: Vec<(Value, &str)> = vec![
        (
            usage("nobody", &storage, 1.0, "2026-11-02T00:00:00Z"),
            "input[1].account",
        ),
        (
            usage("acme", "999999", 1.0, "2026-11-02T00:00:00Z"),
            "input[1].metricId",
        ),
        (
            usage("acme", &storage, -1.0, "2026-11-02T00:00:00Z"),
            "input[1].quantity",
        ),
        (
            usage("acme", &seats, 2.5, "2026-11-02T00:00:00Z"),
            "input[1].quantity",
        ),
        // Finite, but more than any account measures: it would overflow a bill.
        (
            usage("acme", &storage, 1e306, "2026-11-02T00:00:00Z"),
            "input[1].quantity",
        ),
        (
            usage("acme", &seats, 1_000_001.0, "2026-11-02T00:00:00Z"),
            "input[1].quantity",
        ),
        (
            usage("acme", &storage, 1.0, "2099-01-01T00:00:00Z"),
            "input[1].measuredAt",
        ),
        (
            usage("acme", &storage, 1.0, "2026-11-03T00:00:00Z"),
            "input[1].measuredAt",
        ), // repeated in batch
    ];
    for (row, field) in cases {
        let first = usage("acme", &storage, 1.0, "2026-11-03T00:00:00Z");
        let error = app
            .err(&token, RECORD, json!({ "input": [first, row] }))
            .await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
        assert_eq!(error["extensions"]["index"], 1, "{error}");
        assert_eq!(error["extensions"]["field"], field, "{error}");
    }
    assert_eq!(app.count("usage_samples").await, 3);

    // Usage for a product the account does not subscribe to is refused.
    let other = app
        .ok(&token, r#"mutation($s: ID!) { createProduct(input: {serviceId: $s, name: "Mail", metrics: [{name: "Seats", crossReferenceType: "MailSeats", unit: COUNT}]}) { metrics { id } } }"#, json!({ "s": service }))
        .await;
    let mail_seats = id(&other["createProduct"]["metrics"][0]["id"]);
    let error = app
        .err(
            &token,
            RECORD,
            json!({ "input": [usage("acme", &mail_seats, 1.0, "2026-11-02T00:00:00Z")] }),
        )
        .await;
    assert_eq!(error["extensions"]["field"], "input[0].metricId");
}

#[tokio::test]
async fn accounts_page_and_filter() {
    let app = TestApp::start().await;
    let token = app.editor();
    let (service, product, p20, p50) = catalogue(&app, &token).await;
    let mut rows = Vec::new();
    for i in 0..25 {
        let plan = if i % 5 == 0 { &p50 } else { &p20 };
        rows.push(json!({ "name": format!("acct-{i:02}"), "subscriptions": [{ "productId": product, "planId": plan }] }));
    }
    rows.push(json!({ "name": "Zed 100%_Dental", "linkIdentifier": "ZED", "subscriptions": [] }));
    app.ok(&token, UPSERT, json!({ "input": rows })).await;

    // Walk all pages of 10.
    let mut names = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .ok(
                &token,
                "query($after: String) { accounts(first: 10, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name link { state } } } } }",
                json!({ "after": after }),
            )
            .await;
        let page = &page["accounts"];
        // With links asked for, the count rides along in the page's own statement.
        assert_eq!(page["totalCount"], 26);
        names.extend(
            page["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["name"].as_str().unwrap().to_owned()),
        );
        after = page["pageInfo"]["endCursor"].clone();
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
    }
    // Past the last page no row carries the count: it is still the count of all.
    let past = app
        .ok(
            &token,
            "query($after: String) { accounts(first: 10, after: $after) { totalCount nodes { link { state } } } }",
            json!({ "after": after }),
        )
        .await;
    assert_eq!(past["accounts"]["nodes"], json!([]));
    assert_eq!(past["accounts"]["totalCount"], 26);
    let filtered = app
        .ok(
            &token,
            "query($pl: ID!) { accounts(planId: $pl, first: 2) { totalCount nodes { link { state } } } }",
            json!({ "pl": p50 }),
        )
        .await;
    assert_eq!(filtered["accounts"]["totalCount"], 5);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names.len(), 26);
    assert_eq!(names, sorted);

    let count = |filter: &'static str, variables: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            let declared: Vec<String> = variables
                .as_object()
                .unwrap()
                .keys()
                .map(|k| format!("${k}: {}", if k == "q" { "String" } else { "ID" }))
                .collect();
            let query = format!(
                "query({}) {{ accounts({filter}) {{ totalCount }} }}",
                declared.join(", ")
            );
            app.ok(&token, &query, variables).await["accounts"]["totalCount"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(count("serviceId: $s", json!({ "s": service })).await, 25);
    assert_eq!(count("productId: $p", json!({ "p": product })).await, 25);
    assert_eq!(count("planId: $pl", json!({ "pl": p50 })).await, 5);
    assert_eq!(count("search: $q", json!({ "q": "ACCT-1" })).await, 10);
    assert_eq!(
        count("search: $q", json!({ "q": "100%_" })).await,
        1,
        "% and _ are literal"
    );
    assert_eq!(
        count("search: $q", json!({ "q": "zed" })).await,
        1,
        "link identifier and case-insensitive"
    );
    assert_eq!(count("search: $q", json!({ "q": "%" })).await, 1);
    assert_eq!(
        count(
            "planId: $pl, search: $q",
            json!({ "pl": p50, "q": "acct-0" })
        )
        .await,
        2
    );

    let error = app
        .err(&token, "{ accounts(first: 0) { totalCount } }", json!({}))
        .await;
    assert_eq!(error["extensions"]["field"], "first");
    let error = app
        .err(
            &token,
            r#"{ accounts(after: "garbage") { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error["extensions"]["field"], "after");
}

/// A page's accounts, subscriptions, links and samples are answered at once from what the
/// page read ahead (`graphql::now`); through fragments, `@include` or a repeated key they
/// take async-graphql's own resolution. Both must give the same answer, field for field
/// and in the same order, on data with every kind of value (nulls, enums, dates, floats).
#[tokio::test]
async fn accounts_answered_at_once_match_the_executor() {
    let app = TestApp::start().await;
    let token = crate::common::demo(&app).await;
    let plain = r#"{ accounts(first: 50) { nodes {
        __typename id name displayName linkIdentifier createdAt updatedAt
        subscriptions { __typename id product { __typename id name } plan { __typename id uniqueId name baseSizeGb price blockSizeGb } }
        link { __typename state via companyId companyIdentifier companyName reason syncedAt }
        latestUsage { __typename quantity measuredAt metric { __typename id name crossReferenceType unit } } } } }"#;
    // The same selection, each object's fields behind an inline fragment, or with a
    // directive or a key selected twice: none of them is answered at once.
    let through_executor = r#"{ accounts(first: 50) { nodes { ... on Account {
        __typename id name displayName linkIdentifier createdAt updatedAt
        subscriptions { ... on AccountSubscription { __typename id product { ... on Product { __typename id name } } plan { ... on Plan { __typename id uniqueId name baseSizeGb price blockSizeGb } } } }
        link { __typename @include(if: true) state via companyId companyIdentifier companyName reason syncedAt }
        latestUsage { __typename quantity measuredAt metric { __typename id name crossReferenceType unit unit } } } } } }"#;
    // Byte for byte: the same keys in the same order, numbers and dates written alike.
    let executed = app.text(&token, through_executor, json!({})).await;
    assert_eq!(app.text(&token, plain, json!({})).await, executed);
    let at_once = app.ok(&token, plain, json!({})).await;
    // The data has what the comparison needs to mean something.
    let nodes = at_once["accounts"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 50);
    let all = |path: &dyn Fn(&Value) -> Vec<Value>| nodes.iter().flat_map(path).collect::<Vec<_>>();
    let plans = all(&|n| {
        n["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["plan"].clone())
            .collect()
    });
    assert!(plans.iter().any(Value::is_null) && plans.iter().any(|p| p["price"].is_number()));
    let links = all(&|n| vec![n["link"].clone()]);
    assert!(
        links.iter().any(|l| l["state"] == "LINKED")
            && links.iter().any(|l| l["companyId"].is_null())
    );
    let samples = all(&|n| n["latestUsage"].as_array().unwrap().clone());
    assert!(samples.len() > 100);
    assert!(samples.iter().any(|s| s["metric"]["unit"] == "GB"));
}
