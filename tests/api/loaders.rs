//! Relation fields are batched: a nested query costs a bounded number of statements
//! whatever the number of rows.
//!
//! The bound is one statement per relation field of the query plus the fixed ones
//! (tenant, services, account count, account page). Which sibling branches share a batch
//! depends on timing (DataLoader batches for 1 ms), so the count can be lower than the
//! bound, never higher; with one statement per row it would be several times higher.

use serde_json::json;

use crate::common::{TestApp, id};

const NESTED: &str = "{ services { name readOnly billingStatus { state }
    products { name metrics { name } plans { uniqueId } mappings { id }
               service { name } }
    mappings { id allPlans plan { uniqueId product { name } } level { name } product { name } } }
  accounts(first: 100) { edges { node { name subscriptions { product { name } plan { name } } latestUsage { quantity metric { name } } } } } }";

/// Relation fields in `NESTED` (15) plus tenant, services, account count and page, plus
/// the six statements of `billingStatus`'s readiness (subscriptions, mappings, metrics,
/// cross-references, links, latest usage — for every service at once).
const BOUND: usize = 15 + 4 + 6;

async fn grow(app: &TestApp, token: &str, services: usize, tag: &str) {
    for s in 0..services {
        let service = app
            .ok(
                token,
                r#"mutation($n: String!) { createService(input: {name: $n}) { id } }"#,
                json!({ "n": format!("{tag}-service-{s}") }),
            )
            .await;
        let service = id(&service["createService"]["id"]);
        for p in 0..2 {
            let product = app
                .ok(
                    token,
                    r#"mutation($s: ID!, $n: String!) { createProduct(input: {serviceId: $s, name: $n, metrics: [
                        {name: "Storage", crossReferenceType: "BackupUsage", unit: GB}, {name: "Seats", crossReferenceType: "Seats", unit: COUNT}]}) { id metrics { id } } }"#,
                    json!({ "s": service, "n": format!("product-{p}") }),
                )
                .await;
            let metric = id(&product["createProduct"]["metrics"][0]["id"]);
            let product = id(&product["createProduct"]["id"]);
            let plan = app
                .ok(token, r#"mutation($p: ID!) { createPlan(input: {productId: $p, uniqueId: "A", baseSizeGb: 10}) { id } }"#, json!({ "p": product }))
                .await;
            let plan = id(&plan["createPlan"]["id"]);
            for (extra, level) in [
                (json!({ "planId": plan }), "L1"),
                (json!({ "allPlans": true }), "L2"),
            ] {
                let mut input =
                    json!({ "productId": product, "level": level, "usageValue": "TOTAL_USAGE" });
                input
                    .as_object_mut()
                    .unwrap()
                    .extend(extra.as_object().unwrap().clone());
                app.ok(token, "mutation($i: AddBillingMappingInput!) { addBillingMapping(input: $i) { warnings } }", json!({ "i": input }))
                    .await;
            }
            let account = format!("{tag}-{s}-{p}");
            app.ok(
                token,
                r#"mutation($n: String!, $p: ID!, $pl: ID!) { upsertAccounts(input: [{name: $n, subscriptions: [{productId: $p, planId: $pl}]}]) { id } }"#,
                json!({ "n": account, "p": product, "pl": plan }),
            )
            .await;
            app.ok(
                token,
                r#"mutation($n: String!, $m: ID!) { recordUsage(input: [{account: $n, metricId: $m, quantity: 5, measuredAt: "2026-01-01T00:00:00Z"}, {account: $n, metricId: $m, quantity: 6, measuredAt: "2026-02-01T00:00:00Z"}]) { recorded } }"#,
                json!({ "n": account, "m": metric }),
            )
            .await;
        }
    }
}

async fn statements_for_nested(app: &TestApp, token: &str) -> usize {
    let before = app.statements();
    let data = app.ok(token, NESTED, json!({})).await;
    assert!(!data["services"].as_array().unwrap().is_empty());
    let ran = app.statements() - before;
    let log = app.log.lock().unwrap();
    let statements: Vec<&str> = log[log.len() - ran..]
        .iter()
        .map(|s| &s[..s.len().min(120)])
        .collect();
    assert!(
        ran <= BOUND,
        "{ran} statements, more than {BOUND}:\n{}",
        statements.join("\n")
    );
    ran
}

#[tokio::test]
async fn nested_queries_cost_a_constant_number_of_statements() {
    let app = TestApp::start().await;
    let token = app.editor();
    for level in ["L1", "L2"] {
        app.ok(
            &token,
            r#"mutation($n: String!) { createLevel(input: {name: $n}) { id } }"#,
            json!({ "n": level }),
        )
        .await;
    }
    grow(&app, &token, 1, "small").await;
    statements_for_nested(&app, &token).await;
    // 8 services, 16 products, 32 mappings, 16 accounts: one statement per row would be
    // far over the bound.
    grow(&app, &token, 7, "large").await;
    statements_for_nested(&app, &token).await;
}

/// Statements one operation ran, after `{ __typename }` has warmed the caller's
/// authentication into the cache (the app runs without a request-rate limit, whose shared
/// allowance would add a statement now and then on PostgreSQL).
async fn statements_of(app: &TestApp, token: &str, query: &str) -> usize {
    app.ok(token, "{ __typename }", json!({})).await;
    let before = app.statements();
    app.ok(token, "{ __typename }", json!({})).await;
    assert_eq!(app.statements(), before, "__typename reads nothing");
    app.ok(token, query, json!({})).await;
    app.statements() - before
}

/// The two read shapes `billbridge bench api` compares with PostGraphile cost a fixed number
/// of statements, read ahead with their relations joined — the same number for one service
/// as for eight, and for 2 accounts as for 16. A regression (a level read per row, a count
/// nobody asked for, a join split again) changes the number and fails here.
#[tokio::test]
async fn bench_shapes_cost_one_statement_per_level() {
    let limits = billbridge::limits::Limits {
        requests_per_minute: 0,
        ..Default::default()
    };
    let app = TestApp::start_with(limits, false).await;
    let token = app.editor();
    for level in ["L1", "L2"] {
        app.ok(
            &token,
            r#"mutation($n: String!) { createLevel(input: {name: $n}) { id } }"#,
            json!({ "n": level }),
        )
        .await;
    }
    let services = billbridge::bench::shape("services").expect("services shape");
    let accounts = billbridge::bench::shape("accounts").expect("accounts shape");
    let page = billbridge::bench::shape("accounts-page").expect("accounts-page shape");
    for (round, grown) in [(1, "small"), (7, "large")] {
        grow(&app, &token, round, grown).await;
        // services joined with products, mappings, and the mappings' plans and levels.
        assert_eq!(
            statements_of(&app, &token, services).await,
            1,
            "{grown}: services"
        );
        // the page of accounts joined with their links; their subscriptions joined with
        // the subscriptions' plans.
        assert_eq!(
            statements_of(&app, &token, accounts).await,
            2,
            "{grown}: accounts"
        );
        // the SPA's page: the page of accounts with their links and the count of all;
        // their subscriptions with plans and products; their latest usage; its metrics.
        assert_eq!(
            statements_of(&app, &token, page).await,
            4,
            "{grown}: accounts page"
        );
    }
}
