//! The contract test: every answer the sandbox gives on every path the client uses, and
//! every body the client sends, validated against ConnectWise's published models (the JSON
//! Schemas in `src/sandbox/schemas/`, copied from `shared/connectwise/schemas`). The calls
//! are made by billbridge itself — connect, test, sync, preview, push twice — and by the
//! client directly for what billbridge only probes, plus raw requests for every error shape.

use billbridge::connectwise::conditions::Condition;
use billbridge::connectwise::{Call, Client, Credentials, ListQuery};
use billbridge::sandbox::{self, Fault, schema};
use serde_json::{Value, json};
use std::collections::BTreeSet;

use crate::common::{TestApp, demo, fast_settings};

/// Every path the client uses. When the client gains a `Call`, `covers_every_call` fails
/// until it is listed here and exercised below.
const COVERED: [Call; 12] = [
    Call::CompanyInfo,
    Call::SystemInfo,
    Call::Companies,
    Call::Agreements,
    Call::AgreementTypes,
    Call::Additions,
    Call::CreateAddition,
    Call::Addition,
    Call::PatchAddition,
    Call::Catalog,
    Call::Integrations,
    Call::CrossReferences,
];

#[test]
fn covers_every_call() {
    let covered: BTreeSet<Call> = COVERED.into_iter().collect();
    let client: BTreeSet<Call> = Call::ALL.into_iter().collect();
    assert_eq!(
        covered, client,
        "the client's calls and the contract test's list differ"
    );
}

fn validator(model: &str) -> jsonschema::Validator {
    let schema = schema::schema(model).unwrap_or_else(|| panic!("no schema {model}"));
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("schema {model}: {e}"))
}

/// The problems of `instance` against `model`, as text.
fn problems(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// A validator for one property of a model (the value of a JSON Patch operation).
fn property_validator(model: &str, property: &str) -> Option<jsonschema::Validator> {
    let root = schema::schema(model)?;
    let mut sub = root["properties"].get(property)?.clone();
    sub["$defs"] = root["$defs"].clone();
    sub["$schema"] = root["$schema"].clone();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&sub)
        .ok()
}

#[tokio::test]
async fn every_answer_and_every_body_follows_the_published_models() {
    let app = TestApp::start().await;
    app.sandbox.with_store(|s| s.answers = Some(Vec::new()));

    // billbridge's own calls: companyinfo, the syncs, the connection test (every probe),
    // a preview, a push and a second push.
    let editor = demo(&app).await;
    let report = app
        .ok(
            &editor,
            "mutation { testPsaConnection { ok checks { name allowed message } } }",
            json!({}),
        )
        .await;
    assert_eq!(report["testPsaConnection"]["ok"], true, "{report}");
    let preview = app
        .ok(
            &editor,
            "{ previewPush { summary { create update } } }",
            json!({}),
        )
        .await;
    assert!(
        preview["previewPush"]["summary"]["create"]
            .as_i64()
            .unwrap()
            > 0
    );
    for _ in 0..2 {
        let run = app
            .ok(&editor, "mutation { pushUsage { id } }", json!({}))
            .await;
        let id = run["pushUsage"]["id"].as_str().unwrap().to_owned();
        wait_for_run(&app, &editor, &id).await;
    }

    // A retire in CANCEL mode: a JSON Patch of cancelledDate, judged below like the rest.
    app.ok(
        &editor,
        "mutation { updatePushSettings(input: {retireMode: CANCEL, onManualEdit: OVERWRITE}) { retireMode } }",
        json!({}),
    )
    .await;
    let mappings = app
        .ok(
            &editor,
            "{ services { products { mappings { id plan { uniqueId } } } } }",
            json!({}),
        )
        .await;
    let ib500 = mappings["services"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["products"].as_array().unwrap().iter())
        .flat_map(|p| p["mappings"].as_array().unwrap().iter())
        .find(|m| m["plan"]["uniqueId"] == "IB-500")
        .unwrap()["id"]
        .clone();
    app.ok(
        &editor,
        r#"mutation($id: ID!) { updateBillingMapping(id: $id, input: {level: "1"}) { mapping { id } } }"#,
        json!({ "id": ib500 }),
    )
    .await;
    let run = app
        .ok(&editor, "mutation { pushUsage { id } }", json!({}))
        .await;
    wait_for_run(&app, &editor, run["pushUsage"]["id"].as_str().unwrap()).await;

    // What billbridge only probes, called for real through the client.
    let client = Client::new(
        &Credentials {
            site: app.site.clone(),
            company_id: sandbox::DEMO_COMPANY_ID.into(),
            public_key: sandbox::DEMO_PUBLIC_KEY.into(),
            private_key: sandbox::DEMO_PRIVATE_KEY.into(),
            client_id: "contract".into(),
            codebase: Some(sandbox::CODEBASE.into()),
            api_version: None,
        },
        fast_settings(),
    )
    .unwrap();
    assert!(
        !client
            .agreement_types(ListQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !client
            .catalog(ListQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    let agreements = client
        .agreements(ListQuery::conditions(Condition::eq(
            "agreementStatus",
            "Active",
        )))
        .await
        .unwrap();
    let (agreement, addition) = {
        let mut found = None;
        for a in &agreements {
            if let Some(first) = client
                .additions(a.id, ListQuery::default())
                .await
                .unwrap()
                .items
                .first()
            {
                found = Some((a.id, first.id));
                break;
            }
        }
        found.expect("an agreement with an addition")
    };
    client.addition(agreement, addition).await.unwrap();

    // Every error shape, raw: 400 (unknown field, bad patch, cancelled addition), 401, 403,
    // 404, 405, 429 (the gateway's shape), 5xx.
    let raw = |path: &str| format!("{}{}{path}", app.site, sandbox::API_PREFIX);
    let http = reqwest::Client::new();
    let keys = |r: reqwest::RequestBuilder, public: &str, private: &str| {
        r.basic_auth(
            format!("{}+{public}", sandbox::DEMO_COMPANY_ID),
            Some(private),
        )
        .header("clientId", "contract")
    };
    let demo_keys = |r| keys(r, sandbox::DEMO_PUBLIC_KEY, sandbox::DEMO_PRIVATE_KEY);
    let statuses = [
        demo_keys(http.get(raw("/company/companies?conditions=colour%3D1"))),
        demo_keys(http.get(raw("/company/companies?conditions=name%3D%22open"))),
        demo_keys(
            http.patch(raw(&Call::PatchAddition.path(&[agreement, addition])))
                .json(&json!([{ "op": "replace", "path": "id", "value": 1 }])),
        ),
        keys(
            http.get(raw("/company/companies")),
            sandbox::DEMO_PUBLIC_KEY,
            "wrong",
        ),
        keys(
            http.post(raw(&Call::CreateAddition.path(&[agreement])))
                .json(&json!({})),
            sandbox::LIMITED_PUBLIC_KEY,
            sandbox::LIMITED_PRIVATE_KEY,
        ),
        demo_keys(http.get(raw("/finance/agreements/1/additions/1"))),
        demo_keys(http.delete(raw("/company/companies"))),
    ];
    let mut seen = BTreeSet::new();
    for request in statuses {
        seen.insert(request.send().await.unwrap().status().as_u16());
    }
    app.sandbox.inject(Fault {
        status: 503,
        count: 1,
        writes_only: false,
    });
    seen.insert(
        demo_keys(http.get(raw("/system/info")))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
    );
    app.sandbox.set_rate_limit(Some(1));
    for _ in 0..3 {
        seen.insert(
            demo_keys(http.get(raw("/system/info")))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    app.sandbox.set_rate_limit(None);
    // PATCH on a cancelled addition: the demo holds one (cancelled last quarter).
    let state: Value = reqwest::get(format!("{}/_sandbox/state", app.site))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cancelled = state["additions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["cancelledDate"].is_string())
        .expect("the demo holds a cancelled addition")
        .clone();
    let refused = demo_keys(http.patch(raw(&Call::PatchAddition.path(&[
        cancelled["agreementId"].as_i64().unwrap(),
        cancelled["id"].as_i64().unwrap(),
    ]))))
    .json(&json!([{ "op": "replace", "path": "quantity", "value": 2 }]))
    .send()
    .await
    .unwrap();
    assert_eq!(
        refused.status(),
        400,
        "ConnectWise does not edit a cancelled addition"
    );
    seen.remove(&200); // the rate limiter lets the first call through
    assert_eq!(
        seen,
        BTreeSet::from([400, 401, 403, 404, 405, 429, 503]),
        "every error status was produced"
    );

    // Now judge every recorded answer.
    let answers = app.sandbox.with_store(|s| s.answers.take()).unwrap();
    let error_model = validator("ErrorResponseMessage");
    let mut validated: BTreeSet<Call> = BTreeSet::new();
    let mut failures = Vec::new();
    let mut rows = 0;
    for answer in &answers {
        let pattern = answer["pattern"].as_str().unwrap();
        let status = answer["status"].as_u64().unwrap();
        let body = &answer["body"];
        let call = Call::ALL.into_iter().find(|c| c.pattern() == pattern);
        if !(200..300).contains(&status) {
            failures.extend(
                problems(&error_model, body)
                    .into_iter()
                    .map(|p| format!("{pattern} {status}: {p}")),
            );
            assert!(
                body["message"].is_string(),
                "{pattern} {status}: an error says why: {body}"
            );
            continue;
        }
        let Some(call) = call else {
            // Only the raw DELETE above is outside the client's calls, and it was refused.
            panic!("an answer on {pattern}, which the client does not call");
        };
        validated.insert(call);
        match call.model() {
            None => {
                // companyinfo has no published model: the field the client needs.
                assert!(
                    body["Codebase"].as_str().is_some_and(|c| !c.is_empty()),
                    "{body}"
                );
            }
            Some(model) => {
                let v = validator(model);
                let items: Vec<&Value> = match body.as_array() {
                    Some(list) if call.is_list() => list.iter().collect(),
                    _ => vec![body],
                };
                assert_eq!(call.is_list(), body.is_array(), "{pattern}: {body}");
                for item in items {
                    rows += 1;
                    failures.extend(
                        problems(&v, item)
                            .into_iter()
                            .map(|p| format!("{pattern} ({model}) id {}: {p}", item["id"])),
                    );
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        validated,
        COVERED.into_iter().collect::<BTreeSet<_>>(),
        "every call answered successfully at least once"
    );
    assert!(rows > 1_000, "validated {rows} records");

    // Every body the client sent: a new addition against the Addition model, each JSON
    // Patch operation against the property it replaces.
    let state: Value = reqwest::get(format!("{}/_sandbox/state", app.site))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let addition_model = validator("Addition");
    let (mut posts, mut patches) = (0, 0);
    for write in state["writes"].as_array().unwrap() {
        let body = &write["body"];
        let by_client = write["status"].as_u64().is_some_and(|s| s < 300);
        if !by_client {
            continue; // the raw refusals above
        }
        match write["method"].as_str().unwrap() {
            "POST" => {
                posts += 1;
                let found = problems(&addition_model, body);
                assert!(found.is_empty(), "POST {body}: {found:?}");
                assert!(
                    body["product"]["id"].is_i64(),
                    "product is required on create"
                );
            }
            "PATCH" => {
                for op in body.as_array().expect("a JSON Patch array") {
                    patches += 1;
                    assert_eq!(op["op"], "replace", "{op}");
                    let path = op["path"].as_str().unwrap().trim_start_matches('/');
                    let v = property_validator("Addition", path)
                        .unwrap_or_else(|| panic!("{path:?} is not a field of Addition"));
                    let found = problems(&v, &op["value"]);
                    assert!(found.is_empty(), "PATCH {op}: {found:?}");
                }
            }
            other => panic!("the client sent {other}"),
        }
    }
    assert!(
        posts > 0 && patches > 0,
        "{posts} creates, {patches} patches"
    );
}

/// Waits for a run to leave RUNNING (a push against the in-process sandbox takes moments).
async fn wait_for_run(app: &TestApp, token: &str, id: &str) {
    for _ in 0..200 {
        let run = app
            .ok(
                token,
                "query($id: ID!) { pushRun(id: $id) { status } }",
                json!({ "id": id }),
            )
            .await;
        if run["pushRun"]["status"] != "RUNNING" {
            assert_eq!(run["pushRun"]["status"], "SUCCEEDED", "{run}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("run {id} did not finish");
}
