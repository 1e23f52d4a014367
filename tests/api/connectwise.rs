//! The ConnectWise client against the sandbox over real HTTP: paging, quoting, retries,
//! errors, timeouts and writes — checked through the sandbox's own inspection endpoint.

use billbridge::connectwise::conditions::Condition;
use billbridge::connectwise::model::NewAddition;
use billbridge::connectwise::{
    Client, Credentials, Error, ListQuery, Paging, Settings, model::Reference,
};
use billbridge::sandbox::{self, Fault, Sandbox, Seed};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::common::fast_settings;

async fn sandbox(seed: Seed) -> (Sandbox, String) {
    let sandbox = Sandbox::new(&sandbox::Options {
        seed,
        ..Default::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = sandbox.spawn(listener).unwrap();
    (sandbox, site)
}

fn credentials(site: &str, public_key: &str, private_key: &str) -> Credentials {
    Credentials {
        site: site.into(),
        company_id: sandbox::DEMO_COMPANY_ID.into(),
        public_key: public_key.into(),
        private_key: private_key.into(),
        client_id: "tests".into(),
        codebase: None,
        api_version: None,
    }
}

fn client(site: &str, settings: Settings) -> Client {
    Client::new(
        &credentials(site, sandbox::DEMO_PUBLIC_KEY, sandbox::DEMO_PRIVATE_KEY),
        settings,
    )
    .unwrap()
}

fn calls(sandbox: &Sandbox, pattern: &str) -> u64 {
    sandbox.calls().get(pattern).copied().unwrap_or(0)
}

/// A GET straight at the sandbox with the demo member's keys, bypassing the client.
async fn raw_get(site: &str, path_and_query: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{site}{}{path_and_query}", sandbox::API_PREFIX))
        .basic_auth(
            format!("{}+{}", sandbox::DEMO_COMPANY_ID, sandbox::DEMO_PUBLIC_KEY),
            Some(sandbox::DEMO_PRIVATE_KEY),
        )
        .header("clientId", "tests")
        .send()
        .await
        .unwrap()
}

/// The sandbox's state as its inspection endpoint shows it (not through the client).
async fn inspect(site: &str) -> Value {
    reqwest::get(format!("{site}/_sandbox/state"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn pages_are_followed_to_the_end() {
    let (sandbox, site) = sandbox(Seed::Empty).await;
    sandbox.with_store(|store| {
        for i in 0..2_345 {
            store.add_company(&format!("c-{i:05}"), &format!("Company {i}"), None);
        }
    });
    let companies = client(&site, fast_settings())
        .companies(ListQuery::default())
        .await
        .unwrap();
    assert_eq!(companies.len(), 2_345);
    let mut ids: Vec<i64> = companies.iter().map(|c| c.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2_345, "no page served twice");
    assert_eq!(
        calls(&sandbox, "GET /company/companies"),
        3,
        "1000 + 1000 + 345"
    );

    // The sandbox's own default page is 25, and it caps pages at 1000.
    let raw: Vec<Value> = raw_get(&site, "/company/companies?pageSize=5000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(raw.len(), 1000);
}

#[tokio::test]
async fn conditions_are_quoted_and_evaluated() {
    let (sandbox, site) = sandbox(Seed::Empty).await;
    let tricky = r#"Bob "The" Builder \ Sons"#;
    sandbox.with_store(|store| {
        store.add_company("bob", tricky, None);
        store.add_company("bob-2", "Bob The Builder  Sons", None);
        store.add_company("ECHO1", "Echo One", Some("acme-dental"));
    });
    let client = client(&site, fast_settings());
    let found = client
        .companies(ListQuery::conditions(Condition::eq("name", tricky)))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, tricky);

    let both = client
        .companies(ListQuery::conditions(
            Condition::eq("identifier", "BOB").or(Condition::like("identifier", "bob-*")),
        ))
        .await
        .unwrap();
    assert_eq!(both.len(), 2, "case-insensitive like ConnectWise");

    let by_echo = client
        .companies(ListQuery {
            custom_field_conditions: Some(
                Condition::eq("caption", "echo_username")
                    .and(Condition::eq("value", "acme-dental")),
            ),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_echo.len(), 1);
    assert_eq!(
        by_echo[0].custom_field("echo_username").as_deref(),
        Some("acme-dental")
    );

    // A malformed condition is ConnectWise's 400, not retried.
    let response = raw_get(&site, "/company/companies?conditions=name%3D%22open").await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "InvalidObject");
    assert!(
        body["message"].as_str().unwrap().contains("conditions"),
        "{body}"
    );
}

#[tokio::test]
async fn rate_limits_are_waited_out_as_asked() {
    let (sandbox, site) = sandbox(Seed::Demo).await;
    sandbox.inject(Fault {
        status: 429,
        count: 1,
        writes_only: false,
    });
    let started = Instant::now();
    let types = client(&site, fast_settings())
        .agreement_types(ListQuery::default())
        .await
        .unwrap();
    assert!(!types.is_empty());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After: 1 honoured, waited {waited:?}"
    );
    assert_eq!(calls(&sandbox, "GET /finance/agreements/types"), 2);

    // A Retry-After longer than we accept fails at once as rate limited.
    let impatient = Settings {
        max_retry_after: Duration::from_millis(500),
        ..fast_settings()
    };
    sandbox.inject(Fault {
        status: 429,
        count: 1,
        writes_only: false,
    });
    let error = client(&site, impatient)
        .agreement_types(ListQuery::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(1)),
        "{error:?}"
    );

    // The sandbox's own limiter: a burst over 5/s meets 429s and still completes.
    sandbox.set_rate_limit(Some(5));
    let client = client(&site, fast_settings());
    for _ in 0..8 {
        client.system_info().await.unwrap();
    }
    assert!(
        calls(&sandbox, "GET /system/info") > 8,
        "some calls were refused and retried"
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_surfaced() {
    let (sandbox, site) = sandbox(Seed::Demo).await;
    let client = client(&site, fast_settings());
    sandbox.inject(Fault {
        status: 503,
        count: 2,
        writes_only: false,
    });
    client.agreement_types(ListQuery::default()).await.unwrap();
    assert_eq!(calls(&sandbox, "GET /finance/agreements/types"), 3);

    sandbox.inject(Fault {
        status: 500,
        count: 100,
        writes_only: false,
    });
    let error = client
        .agreement_types(ListQuery::default())
        .await
        .unwrap_err();
    assert_eq!(
        error,
        Error::Upstream {
            status: 500,
            message: "An unexpected error occurred.".into()
        }
    );
    assert_eq!(
        calls(&sandbox, "GET /finance/agreements/types"),
        3 + 4,
        "1 try + 3 retries"
    );
}

#[tokio::test]
async fn credentials_and_permissions_are_not_retried() {
    let (sandbox, site) = sandbox(Seed::Demo).await;
    let wrong = Client::new(
        &credentials(&site, sandbox::DEMO_PUBLIC_KEY, "wrong"),
        fast_settings(),
    )
    .unwrap();
    assert!(matches!(
        wrong.system_info().await,
        Err(Error::Unauthorized(_))
    ));
    assert_eq!(calls(&sandbox, "GET /system/info"), 1);

    let limited = Client::new(
        &credentials(
            &site,
            sandbox::LIMITED_PUBLIC_KEY,
            sandbox::LIMITED_PRIVATE_KEY,
        ),
        fast_settings(),
    )
    .unwrap();
    let agreement = limited.agreements(ListQuery::default()).await.unwrap()[0].id;
    let addition = NewAddition {
        product: Reference::id(101),
        quantity: 1.0,
        bill_customer: "Billable".into(),
        effective_date: "2026-11-01T00:00:00Z".into(),
    };
    let error = limited
        .create_addition(agreement, &addition)
        .await
        .unwrap_err();
    match &error {
        Error::Forbidden { what, message } => {
            assert!(what.contains("POST /finance/agreements/"), "{what}");
            assert!(message.contains("Finance / Agreements: Add"), "{message}");
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert_eq!(
        calls(&sandbox, "POST /finance/agreements/{id}/additions"),
        1
    );
    // The refused attempt is logged with its status; nothing was accepted.
    let writes = inspect(&site).await["writes"].clone();
    assert!(
        writes
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["status"] == 403),
        "{writes}"
    );
    assert!(!writes.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn timeouts_surface_as_timeouts() {
    let (sandbox, site) = sandbox(Seed::Demo).await;
    sandbox.set_latency(Duration::from_millis(800));
    let settings = Settings {
        request_timeout: Duration::from_millis(150),
        retries: 1,
        ..fast_settings()
    };
    let started = Instant::now();
    let error = client(&site, settings).system_info().await.unwrap_err();
    assert_eq!(error, Error::Timeout(Duration::from_millis(150)));
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "did not wait for the slow answer"
    );
    // Unreachable hosts are their own error.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = client(
        &closed,
        Settings {
            retries: 0,
            ..fast_settings()
        },
    )
    .system_info()
    .await
    .unwrap_err();
    assert!(matches!(error, Error::Unreachable(_)), "{error:?}");
}

#[tokio::test]
async fn additions_are_created_and_patched_never_posted_twice() {
    let (sandbox, site) = sandbox(Seed::Demo).await;
    let client = client(&site, fast_settings());
    let agreement = client
        .agreements(ListQuery::conditions(
            Condition::eq("type/name", sandbox::BACKUP_AGREEMENT)
                .and(Condition::eq("company/identifier", "acme-dental")),
        ))
        .await
        .unwrap();
    assert_eq!(agreement.len(), 1);
    let agreement = agreement[0].id;
    let product = client
        .catalog(ListQuery::conditions(Condition::eq(
            "identifier",
            "IB-STORAGE-GOLD",
        )))
        .await
        .unwrap()[0]
        .id;
    let created = client
        .create_addition(
            agreement,
            &NewAddition {
                product: Reference::id(product),
                quantity: 25.0,
                bill_customer: "Billable".into(),
                effective_date: "2026-11-01T00:00:00Z".into(),
            },
        )
        .await
        .unwrap();
    let patched = client
        .set_addition_quantity(agreement, created.id, 30.0)
        .await
        .unwrap();
    assert_eq!(patched.quantity, 30.0);

    let state = inspect(&site).await;
    let stored = state["additions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == created.id)
        .unwrap()
        .clone();
    assert_eq!(stored["quantity"], 30.0);
    assert_eq!(stored["product"]["identifier"], "IB-STORAGE-GOLD");
    let writes = state["writes"].as_array().unwrap();
    assert_eq!(writes.len(), 2);
    assert_eq!(writes[1]["method"], "PATCH");
    assert_eq!(
        writes[1]["body"],
        serde_json::json!([{ "op": "replace", "path": "quantity", "value": 30.0 }])
    );

    // A POST that meets a 5xx may have been acted on: it is not repeated.
    sandbox.inject(Fault {
        status: 502,
        count: 1,
        writes_only: true,
    });
    let error = client
        .create_addition(
            agreement,
            &NewAddition {
                product: Reference::id(product),
                quantity: 1.0,
                bill_customer: "Billable".into(),
                effective_date: "2026-11-01T00:00:00Z".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Upstream { status: 502, .. }),
        "{error:?}"
    );
    assert_eq!(
        calls(&sandbox, "POST /finance/agreements/{id}/additions"),
        2
    );
    // A PATCH sets a quantity, so repeating it is harmless: it is retried.
    sandbox.inject(Fault {
        status: 503,
        count: 1,
        writes_only: true,
    });
    client
        .set_addition_quantity(agreement, created.id, 31.0)
        .await
        .unwrap();
    assert_eq!(
        calls(&sandbox, "PATCH /finance/agreements/{id}/additions/{id}"),
        3
    );

    // The sandbox refuses what ConnectWise refuses.
    let bad = client
        .create_addition(
            agreement,
            &NewAddition {
                product: Reference::id(999_999),
                quantity: 1.0,
                bill_customer: "Billable".into(),
                effective_date: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&bad, Error::Rejected(m) if m.contains("product")),
        "{bad:?}"
    );
}

#[tokio::test]
async fn the_sandbox_speaks_connectwise_errors() {
    let (_sandbox, site) = sandbox(Seed::Demo).await;
    let http = reqwest::Client::new();
    let url = format!("{site}{}/company/companies", sandbox::API_PREFIX);
    // Wrong keys: 401 in ConnectWise's error shape.
    let response = http
        .get(&url)
        .basic_auth("billbridge-demo+demo-public-key", Some("nope"))
        .header("clientId", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "Unauthorized");
    // `errors` is null when there are none, as ConnectWise sends it.
    assert!(body["message"].is_string() && body["errors"].is_null());
    // No clientId: refused too.
    let response = http
        .get(&url)
        .basic_auth(
            format!("{}+{}", sandbox::DEMO_COMPANY_ID, sandbox::DEMO_PUBLIC_KEY),
            Some(sandbox::DEMO_PRIVATE_KEY),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // A page announces the next one.
    let response = http
        .get(format!("{url}?pageSize=10&orderBy=identifier%20desc"))
        .basic_auth(
            format!("{}+{}", sandbox::DEMO_COMPANY_ID, sandbox::DEMO_PUBLIC_KEY),
            Some(sandbox::DEMO_PRIVATE_KEY),
        )
        .header("clientId", "x")
        .send()
        .await
        .unwrap();
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains("rel=\"next\"") && link.contains("page=2"),
        "{link}"
    );
    let page: Vec<Value> = response.json().await.unwrap();
    assert_eq!(page.len(), 10);
    assert!(
        page[0]["identifier"].as_str() > page[9]["identifier"].as_str(),
        "ordered descending"
    );
}

/// 2,500 companies and 3,000 additions, read with numbered pages and forward-only, by a
/// client on the `v4_6_release` alias while every `Link` names the versioned codebase: the
/// client follows the page (or `pageId`) on its own base, and sees every row once.
#[tokio::test]
async fn pages_across_codebases_both_ways() {
    let (sandbox, site) = sandbox(Seed::Empty).await;
    let agreement = sandbox.with_store(|store| {
        for i in 0..2_500 {
            store.add_company(&format!("c-{i:05}"), &format!("Company {i}"), None);
        }
        let kind = store.add_agreement_type("Managed Backup");
        let company = store.companies[0]["id"].as_i64().unwrap();
        let agreement = store.add_agreement(company, kind, "Big");
        let product = store.add_catalog_item("IB-STORAGE", "Storage");
        for _ in 0..3_000 {
            let body = serde_json::json!({ "product": { "id": product }, "quantity": 1.0, "billCustomer": "Billable" });
            store.add_addition(agreement, &body).unwrap();
        }
        agreement
    });
    // The raw answers: links on the versioned codebase; forward-only's next carries pageId.
    let numbered = raw_get(&site, "/company/companies?pageSize=1000&page=2").await;
    let link = numbered.headers()["link"].to_str().unwrap().to_owned();
    for rel in ["first", "prev", "next", "last"] {
        assert!(link.contains(&format!("rel=\"{rel}\"")), "{rel} in {link}");
    }
    assert!(
        link.contains(sandbox::VERSIONED_PREFIX) && !link.contains(sandbox::API_PREFIX),
        "{link}"
    );
    let forward = reqwest::Client::new()
        .get(format!(
            "{site}{}/company/companies?pageSize=1000",
            sandbox::API_PREFIX
        ))
        .basic_auth(
            format!("{}+{}", sandbox::DEMO_COMPANY_ID, sandbox::DEMO_PUBLIC_KEY),
            Some(sandbox::DEMO_PRIVATE_KEY),
        )
        .header("clientId", "tests")
        .header("pagination-type", "forward-only")
        .send()
        .await
        .unwrap();
    let link = forward.headers()["link"].to_str().unwrap().to_owned();
    let page: Vec<Value> = forward.json().await.unwrap();
    let last_id = page.last().unwrap()["id"].as_i64().unwrap();
    assert!(
        link.contains(&format!("pageId={last_id}")) && link.contains("rel=\"next\""),
        "{link}"
    );
    assert!(link.contains(sandbox::VERSIONED_PREFIX), "{link}");

    let client = client(&site, fast_settings());
    for paging in [Paging::Numbered, Paging::ForwardOnly] {
        let before = sandbox.calls();
        let query = ListQuery {
            paging,
            ..Default::default()
        };
        let companies = client.companies(query.clone()).await.unwrap();
        let ids: Vec<i64> = companies.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), 2_500, "{paging:?}");
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "{paging:?}: in order, none twice"
        );
        let additions = client.additions(agreement, query).await.unwrap().items;
        let ids: BTreeSet<i64> = additions.iter().map(|a| a.id).collect();
        assert_eq!(ids.len(), 3_000, "{paging:?}");
        let after = sandbox.calls();
        let made = |pattern: &str| {
            after.get(pattern).copied().unwrap_or(0) - before.get(pattern).copied().unwrap_or(0)
        };
        assert_eq!(
            made("GET /company/companies"),
            3,
            "{paging:?}: three pages of 1,000"
        );
        assert_eq!(
            made("GET /finance/agreements/{id}/additions"),
            3,
            "{paging:?}"
        );
    }
    // Smaller pages, forward-only: 2,500 / 300 → 9 calls, still every row once.
    let small = client
        .companies(ListQuery {
            paging: Paging::ForwardOnly,
            page_size: Some(300),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        small.iter().map(|c| c.id).collect::<BTreeSet<_>>().len(),
        2_500
    );
    // Every call stayed on the client's own codebase, though every link named another.
    let state = inspect(&site).await;
    assert_eq!(
        state["codebases"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["v4_6_release"]
    );
    // Forward-only refuses an order, as ConnectWise does; the client says so before calling.
    let ordered = client
        .companies(ListQuery {
            paging: Paging::ForwardOnly,
            order_by: Some("name asc".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(ordered, Error::Config(_)), "{ordered:?}");
}

/// The client pins the model version in `Accept` and calls the codebase it was given; the
/// sandbox records both.
#[tokio::test]
async fn version_pinned_and_codebase_called() {
    let (_sandbox, site) = sandbox(Seed::Demo).await;
    let mut credentials = credentials(&site, sandbox::DEMO_PUBLIC_KEY, sandbox::DEMO_PRIVATE_KEY);
    credentials.codebase = Some(format!("{}/", sandbox::CODEBASE));
    credentials.api_version = Some("2024.2".into());
    let client = Client::new(&credentials, fast_settings()).unwrap();
    assert!(
        client.base().ends_with("/v2025_1/apis/3.0"),
        "{}",
        client.base()
    );
    client.system_info().await.unwrap();
    let state = inspect(&site).await;
    assert_eq!(state["codebases"]["v2025_1"], 1, "{}", state["codebases"]);
    assert_eq!(
        state["accepts"]["application/vnd.connectwise.com+json; version=2024.2"], 1,
        "{}",
        state["accepts"]
    );
    // An unknown codebase is not served.
    let other = reqwest::Client::new()
        .get(format!("{site}/v1999_1/apis/3.0/system/info"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    // companyinfo names the codebase; a company the site does not host, or a site that is
    // not ConnectWise, is a clear error.
    let info =
        billbridge::connectwise::company_info(&site, sandbox::DEMO_COMPANY_ID, &fast_settings())
            .await
            .unwrap();
    assert_eq!(info.codebase.as_deref(), Some("v2025_1/"));
    let unknown = billbridge::connectwise::company_info(&site, "nobody", &fast_settings())
        .await
        .unwrap_err();
    assert!(
        unknown
            .to_string()
            .contains("does not answer as ConnectWise Manage"),
        "{unknown}"
    );
}

/// Error bodies in every shape ConnectWise sends decode, keeping its message: `errors: null`
/// (404) and the gateway's 429 (`{"error", "message"}`).
#[tokio::test]
async fn error_bodies_keep_connectwise_words() {
    let (sandbox, site) = sandbox(Seed::Demo).await;
    let client = client(
        &site,
        Settings {
            retries: 0,
            ..fast_settings()
        },
    );
    let missing = client.addition(1, 1).await.unwrap_err();
    assert!(matches!(&missing, Error::NotFound(_)), "{missing:?}");
    let raw = raw_get(&site, "/finance/agreements/999999/additions").await;
    let body: Value = raw.json().await.unwrap();
    assert!(body["errors"].is_null(), "{body}");
    sandbox.set_rate_limit(Some(1));
    let mut limited = None;
    for _ in 0..5 {
        if let Err(e) = client.system_info().await {
            limited = Some(e);
            break;
        }
    }
    match limited {
        Some(Error::RateLimited {
            message,
            retry_after,
        }) => {
            assert!(message.contains("Rate limit exceeded"), "{message}");
            assert!(retry_after.is_some());
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    let raw = raw_get(&site, "/system/info").await;
    assert_eq!(raw.status(), 429);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(
        body["error"], "ConnectWiseAPI",
        "the gateway's shape: {body}"
    );
    // An unknown field in conditions: ConnectWise's 400, naming it.
    sandbox.set_rate_limit(None);
    let unknown = client
        .companies(ListQuery::conditions(Condition::eq("colour", "red")))
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, Error::Rejected(m) if m.contains("\"colour\" is not a field of Company")),
        "{unknown:?}"
    );
}

/// One odd row never fails a whole list: a company without its required `identifier` and an
/// addition whose quantity is text are left out (and logged), the rest is read.
#[tokio::test]
async fn one_odd_row_never_fails_a_list() {
    let (sandbox, site) = sandbox(Seed::Empty).await;
    let agreement = sandbox.with_store(|store| {
        store.add_company("good-1", "Good One", None);
        let odd = store.id();
        store
            .companies
            .push(serde_json::json!({ "id": odd, "name": "No identifier" }));
        store.add_company("good-2", "Good Two", None);
        let kind = store.add_agreement_type("Managed Backup");
        let company = store.companies[0]["id"].as_i64().unwrap();
        let agreement = store.add_agreement(company, kind, "Backup");
        let product = store.add_catalog_item("P", "P");
        let body = serde_json::json!({ "product": { "id": product }, "quantity": 2.0, "billCustomer": "Billable" });
        let kept = store.add_addition(agreement, &body).unwrap();
        let odd = store.add_addition(agreement, &body).unwrap();
        store.change_addition(
            odd["id"].as_i64().unwrap(),
            serde_json::json!({ "quantity": "two" }),
        );
        assert!(kept["id"].is_i64());
        agreement
    });
    let client = client(&site, fast_settings());
    let companies = client.companies(ListQuery::default()).await.unwrap();
    let names: Vec<&str> = companies.iter().map(|c| c.identifier.as_str()).collect();
    assert_eq!(names, ["good-1", "good-2"]);
    let additions = client
        .additions(agreement, ListQuery::default())
        .await
        .unwrap();
    assert_eq!(additions.items.len(), 1);
    assert_eq!(additions.items[0].quantity, 2.0);
    assert_eq!(additions.warnings.len(), 1, "{:?}", additions.warnings);
    assert!(
        additions.warnings[0].contains("row"),
        "{:?}",
        additions.warnings
    );
}
