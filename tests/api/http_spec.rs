//! GraphQL over HTTP by the spec: the media type negotiated from `Accept`, request errors
//! (400 with no `data` under application/graphql-response+json, 200 under
//! application/json), a code on every error, the refusals of layers in JSON, and the
//! standard introspection query. The audit suite itself (npm `graphql-http`) runs against
//! the real binary in `.ci/run` (`.ci/audit-http.mjs`).

use billbridge::auth::Role;
use billbridge::limits::Limits;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::TestApp;

const RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// graphql-js 16's `getIntrospectionQuery()`, verbatim (`ofType` nested nine times).
const INTROSPECTION: &str = include_str!("fixtures/introspection.graphql");
/// The same with every option on (`descriptions`, `specifiedByUrl`, `directiveIsRepeatable`,
/// `schemaDescription`, `inputValueDeprecation`, `oneOf`): GraphiQL 4 asks for some of these.
const INTROSPECTION_ALL_OPTIONS: &str = include_str!("fixtures/introspection-all-options.graphql");

struct Answer {
    status: u16,
    content_type: String,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no code in {}", self.body))
    }

    fn message(&self) -> &str {
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
    }
}

async fn read(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    Answer {
        status,
        content_type,
        body,
    }
}

/// POSTs `body` (raw JSON text) with `accept` (none when `None`).
async fn post(app: &TestApp, token: &str, accept: Option<&str>, body: &str) -> Answer {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    read(request.send().await.unwrap()).await
}

async fn post_json(app: &TestApp, token: &str, accept: Option<&str>, body: Value) -> Answer {
    post(app, token, accept, &body.to_string()).await
}

#[tokio::test]
async fn the_media_type_follows_accept() {
    let app = TestApp::start().await;
    let viewer = app.token("alpha", Role::Viewer);
    let query = json!({ "query": "{ __typename }" });
    for (accept, expected) in [
        // No Accept, or anything: the legacy type (what the audit suite expects).
        (None, JSON),
        (Some("*/*"), JSON),
        (Some("application/json"), JSON),
        (Some(RESPONSE_JSON), RESPONSE_JSON),
        (
            Some("application/graphql-response+json, application/json"),
            RESPONSE_JSON,
        ),
        (
            Some("application/json, application/graphql-response+json"),
            JSON,
        ),
        (
            Some("application/graphql-response+json;q=0.5, application/json"),
            JSON,
        ),
    ] {
        let answer = post_json(&app, &viewer, accept, query.clone()).await;
        assert_eq!(answer.status, 200, "{accept:?}");
        assert!(
            answer.content_type.starts_with(expected)
                && answer.content_type.contains("charset=utf-8"),
            "{accept:?} → {}",
            answer.content_type
        );
        assert_eq!(answer.body["data"]["__typename"], "Query");
    }
    // GET negotiates the same way.
    let response = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[("query", "{ __typename }")])
        .bearer_auth(&viewer)
        .header("accept", RESPONSE_JSON)
        .send()
        .await
        .unwrap();
    let got = read(response).await;
    assert!(
        got.content_type.starts_with(RESPONSE_JSON),
        "{}",
        got.content_type
    );
    // Neither acceptable: 406, before anything else is looked at.
    for accept in [
        "text/html",
        "application/xml, text/*",
        "application/json;q=0",
    ] {
        let refused = post_json(&app, &viewer, Some(accept), query.clone()).await;
        assert_eq!(refused.status, 406, "{accept}");
        assert_eq!(refused.code(), "NOT_ACCEPTABLE");
        assert!(
            refused.message().contains("application/json"),
            "{}",
            refused.message()
        );
    }
}

/// Parse, validation, operation and variable errors are request errors: nothing runs, no
/// `data`; 400 under graphql-response+json, 200 under application/json. Field errors keep
/// 200 and `data` under both.
#[tokio::test]
async fn request_errors_have_no_data_and_the_status_of_their_media_type() {
    let app = TestApp::start().await;
    let editor = app.editor();
    let cases = [
        (json!({ "query": "{" }), "GRAPHQL_PARSE_FAILED"),
        (json!({ "query": "{ nope }" }), "GRAPHQL_VALIDATION_FAILED"),
        (
            json!({ "query": "query A { __typename } query B { __typename }" }),
            "OPERATION_RESOLUTION_FAILURE",
        ),
        (
            json!({ "query": "query A { __typename }", "operationName": "B" }),
            "OPERATION_RESOLUTION_FAILURE",
        ),
        (
            json!({ "query": "query($id: ID!) { service(id: $id) { name } }", "variables": { "id": null } }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "query": "subscription { pushRunProgress(runId: \"1\") { status } }" }),
            "BAD_REQUEST",
        ),
    ];
    for (body, code) in cases {
        for (accept, status) in [(RESPONSE_JSON, 400), (JSON, 200)] {
            let answer = post_json(&app, &editor, Some(accept), body.clone()).await;
            assert_eq!(answer.status, status, "{accept} {body}: {}", answer.body);
            assert!(
                answer.content_type.starts_with(accept),
                "{}",
                answer.content_type
            );
            assert_eq!(answer.code(), code, "{body}: {}", answer.body);
            assert!(
                answer.body.get("data").is_none(),
                "a request error has no data entry: {}",
                answer.body
            );
        }
    }
    // A mutation refused before it ran wrote nothing.
    let refused = post_json(
        &app,
        &editor,
        Some(RESPONSE_JSON),
        json!({ "query": "mutation($n: String!) { createLevel(input: {name: $n}) { id } }" }),
    )
    .await;
    assert_eq!((refused.status, refused.code()), (400, "BAD_USER_INPUT"));
    assert_eq!(app.count("levels").await, 0);

    // A field error is not a request error: 200 with data, whatever the media type.
    for accept in [RESPONSE_JSON, JSON] {
        let answer = post_json(
            &app,
            &editor,
            Some(accept),
            json!({ "query": "{ service(id: \"999999\") { name } }" }),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(answer.body.get("data").is_some(), "{}", answer.body);
        assert_eq!(answer.code(), "NOT_FOUND");
        assert_eq!(answer.body["errors"][0]["path"], json!(["service"]));
    }
}

/// A body that is not a GraphQL request at all is 400 under either media type, naming what
/// is wrong.
#[tokio::test]
async fn malformed_requests_are_400_naming_the_problem() {
    let app = TestApp::start().await;
    let viewer = app.token("alpha", Role::Viewer);
    let cases = [
        (r#"{ "not a JSON"#, "the body is not JSON"),
        ("", "the body is not JSON"),
        (r#"{"qeury": "{ __typename }"}"#, "query: required"),
        (
            r#"{"query": {"obj": "ect"}}"#,
            "query: expected a string, got an object",
        ),
        (
            r#"{"query": "{ __typename }", "variables": [7]}"#,
            "variables: expected an object",
        ),
        (
            r#"{"query": "{ __typename }", "operationName": 0}"#,
            "operationName: expected a string",
        ),
        (
            r#"{"query": "{ __typename }", "extensions": "x"}"#,
            "extensions: expected an object",
        ),
        (
            r#"[{"query": "{ __typename }"}]"#,
            "batched operations are not accepted",
        ),
    ];
    for (body, message) in cases {
        for accept in [None, Some(JSON), Some(RESPONSE_JSON)] {
            let answer = post(&app, &viewer, accept, body).await;
            assert_eq!(answer.status, 400, "{body}");
            assert_eq!(answer.code(), "BAD_REQUEST", "{body}");
            assert!(
                answer.message().contains(message),
                "{body}: {}",
                answer.message()
            );
        }
    }
    // Nulls mean absent.
    let answer = post(
        &app,
        &viewer,
        Some(RESPONSE_JSON),
        r#"{"query": "{ __typename }", "variables": null, "operationName": null, "extensions": null}"#,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    // Only UTF-8.
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&viewer)
        .header("content-type", "application/json; charset=iso-8859-1")
        .body(r#"{"query": "{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    let refused = read(response).await;
    assert_eq!(
        (refused.status, refused.code()),
        (415, "UNSUPPORTED_MEDIA_TYPE")
    );
}

#[tokio::test]
async fn every_error_has_a_code_naming_its_step() {
    let limits = Limits {
        complexity: 50,
        directives: 2,
        ..Limits::default()
    };
    let app = TestApp::start_with(limits, false).await;
    let editor = app.editor();
    let code = |query: &'static str, variables: Value| {
        let app = &app;
        let editor = &editor;
        async move {
            let answer = post_json(
                app,
                editor,
                Some(RESPONSE_JSON),
                json!({ "query": query, "variables": variables }),
            )
            .await;
            let error = answer.body["errors"][0].clone();
            (
                error["extensions"]["code"]
                    .as_str()
                    .unwrap_or("(none)")
                    .to_owned(),
                error["message"].as_str().unwrap_or_default().to_owned(),
                error["extensions"]["field"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        }
    };
    // Syntax.
    assert_eq!(
        code("{ services { ", json!({})).await.0,
        "GRAPHQL_PARSE_FAILED"
    );
    assert_eq!(
        code("query { a } }", json!({})).await.0,
        "GRAPHQL_PARSE_FAILED"
    );
    // The spec's rules, and each of our limits.
    for query in [
        "{ servics { id } }",
        "{ services { id } ...Missing }",
        "query($unused: ID) { levels { id } }",
        "{ levels { id(x: 1) } }",
        // complexity (50 here)
        "{ a: services { id name } b: services { id name } c: services { id name } d: services { id name } e: services { id name } f: services { id name } g: services { id name } h: services { id name } i: services { id name } j: services { id name } k: services { id name } l: services { id name } m: services { id name } n: services { id name } o: services { id name } p: services { id name } q: services { id name } r: services { id name } }",
        // directives on one field (2 here)
        "{ levels @include(if: true) @skip(if: false) @include(if: true) { id } }",
        // depth (12)
        "{ services { products { service { products { service { products { service { products { service { products { service { products { id } } } } } } } } } } } } }",
    ] {
        let (code, message, _) = code(query, json!({})).await;
        assert_eq!(code, "GRAPHQL_VALIDATION_FAILED", "{query}: {message}");
    }
    // Variables that do not fit: BAD_USER_INPUT naming the variable, and where in it.
    let create = "mutation($input: CreateLevelInput!) { createLevel(input: $input) { id } }";
    let upsert = "mutation($rows: [AccountInput!]!) { upsertAccounts(input: $rows) { id } }";
    let token =
        "mutation($role: Role!) { createApiToken(input: {name: \"x\", role: $role}) { token } }";
    for (query, variables, field, message) in [
        (
            create,
            json!({}),
            "variables.input",
            "required (CreateLevelInput!) but not given",
        ),
        (
            create,
            json!({ "input": null }),
            "variables.input",
            "expected CreateLevelInput!, got null",
        ),
        (
            create,
            json!({ "input": "Gold" }),
            "variables.input",
            "expected an object (CreateLevelInput), got a string",
        ),
        (
            create,
            json!({ "input": { "name": 5 } }),
            "variables.input.name",
            "expected String, got a number",
        ),
        (
            create,
            json!({ "input": {} }),
            "variables.input.name",
            "required (String!) but not given",
        ),
        (
            create,
            json!({ "input": { "name": "x", "nmae": "y" } }),
            "variables.input.nmae",
            "CreateLevelInput has no such field; it has name",
        ),
        (
            upsert,
            json!({ "rows": [{ "name": "a", "subscriptions": [] }, { "name": null, "subscriptions": [] }] }),
            "variables.rows[1].name",
            "expected String!, got null",
        ),
        (
            token,
            json!({ "role": "OWNER" }),
            "variables.role",
            "expected one of VIEWER, EDITOR, ADMIN",
        ),
    ] {
        let (code, got, got_field) = code(query, variables.clone()).await;
        assert_eq!(code, "BAD_USER_INPUT", "{variables}: {got}");
        assert_eq!(got_field, field, "{variables}: {got}");
        assert!(got.contains(message), "{variables}: {got}");
    }
    assert_eq!(app.count("levels").await, 0);
    // Variables that fit run.
    let ok = post_json(
        &app,
        &editor,
        Some(RESPONSE_JSON),
        json!({ "query": create, "variables": { "input": { "name": "Gold" } } }),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(
        ok.body["data"]["createLevel"]["id"].is_string(),
        "{}",
        ok.body
    );
    // A single value stands for a list of one (input coercion).
    let ok = post_json(
        &app,
        &editor,
        Some(RESPONSE_JSON),
        json!({ "query": upsert, "variables": { "rows": { "name": "solo", "subscriptions": [] } } }),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

/// The refusals made by layers and extractors have the same JSON shape and a code.
#[tokio::test]
async fn refusals_answer_json_with_a_code() {
    let limits = Limits {
        body_bytes: 4096,
        query_string_bytes: 2048,
        timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let app = TestApp::start_with(limits, false).await;
    let viewer = app.token("alpha", Role::Viewer);
    let url = format!("{}/graphql", app.base);
    let big = format!(
        r#"{{"query":"{{ __typename }}","pad":"{}"}}"#,
        "x".repeat(8192)
    );

    // 413, by Content-Length (tower-http) …
    let response = app
        .client
        .post(&url)
        .bearer_auth(&viewer)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let refused = read(response).await;
    assert_eq!((refused.status, refused.code()), (413, "PAYLOAD_TOO_LARGE"));
    assert!(
        refused.message().contains("4096 bytes"),
        "{}",
        refused.message()
    );
    // … and without one (chunked: axum stops reading at the limit).
    let chunked = raw(
        &app,
        &format!(
            "POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {viewer}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
            big.len()
        ),
    )
    .await;
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");
    assert!(chunked.contains("\"PAYLOAD_TOO_LARGE\""), "{chunked}");

    // 414: a GET whose query string is over the limit.
    let response = app
        .client
        .get(&url)
        .query(&[("query", format!("{{ __typename {} }}", " ".repeat(4000)))])
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    let refused = read(response).await;
    assert_eq!((refused.status, refused.code()), (414, "URI_TOO_LONG"));
    assert!(
        refused.message().contains("at most 2048"),
        "{}",
        refused.message()
    );

    // 415
    let response = app
        .client
        .post(&url)
        .bearer_auth(&viewer)
        .header("content-type", "text/plain")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    let refused = read(response).await;
    assert_eq!(
        (refused.status, refused.code()),
        (415, "UNSUPPORTED_MEDIA_TYPE")
    );

    // 405: a method the route does not serve, and a mutation by GET.
    let response = app
        .client
        .put(&url)
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("allow"));
    let refused = read(response).await;
    assert_eq!(
        (refused.status, refused.code()),
        (405, "METHOD_NOT_ALLOWED")
    );
    let response = app
        .client
        .get(&url)
        .query(&[("query", "mutation { deleteLevel(id: 1) }")])
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    let refused = read(response).await;
    assert_eq!(
        (refused.status, refused.code()),
        (405, "METHOD_NOT_ALLOWED")
    );

    // 408: a body that never finishes arriving.
    let stalled = raw(
        &app,
        &format!(
            "POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {viewer}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"query\":"
        ),
    )
    .await;
    assert!(stalled.starts_with("HTTP/1.1 408"), "{stalled}");
    assert!(stalled.contains("\"REQUEST_TIMEOUT\""), "{stalled}");
}

/// Writes `request` on a fresh connection and reads the answer until the server has sent a
/// whole JSON body (or closed).
async fn raw(app: &TestApp, request: &str) -> String {
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("an answer within 10 s")
            .unwrap_or(0);
        answer.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&answer);
        if read == 0 || text.trim_end().ends_with("}]}") {
            return text.into_owned();
        }
    }
}

/// The standard introspection query (GraphiQL, codegen by URL) is answered for whoever may
/// introspect, although it nests deeper than the depth limit; ordinary queries keep it.
#[tokio::test]
async fn the_standard_introspection_query_is_answered() {
    let development = TestApp::start().await;
    let viewer = development.token("alpha", Role::Viewer);
    let introspection = json!({ "query": INTROSPECTION, "operationName": "IntrospectionQuery" });
    for query in [INTROSPECTION, INTROSPECTION_ALL_OPTIONS] {
        let answer = post_json(
            &development,
            &viewer,
            Some(RESPONSE_JSON),
            json!({ "query": query, "operationName": "IntrospectionQuery" }),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(answer.body.get("errors").is_none(), "{}", answer.body);
        let types = answer.body["data"]["__schema"]["types"].as_array().unwrap();
        let named = |name: &str| types.iter().any(|t| t["name"] == name);
        assert!(named("Query") && named("Mutation") && named("CreateLevelInput"));
        // The wrappers are all there: upsertAccounts(input: [AccountInput!]!) is four deep.
        let mutation = types.iter().find(|t| t["name"] == "Mutation").unwrap();
        let upsert = mutation["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "upsertAccounts")
            .unwrap();
        let input = &upsert["args"][0]["type"];
        assert_eq!(input["kind"], "NON_NULL");
        assert_eq!(input["ofType"]["kind"], "LIST");
        assert_eq!(input["ofType"]["ofType"]["kind"], "NON_NULL");
        assert_eq!(input["ofType"]["ofType"]["ofType"]["name"], "AccountInput");
    }

    // An ordinary query as deep as the introspection query is still refused.
    let deep = "{ services { products { service { products { service { products { service { products { service { products { service { products { service { id } } } } } } } } } } } } } }";
    let refused = post_json(
        &development,
        &viewer,
        Some(RESPONSE_JSON),
        json!({ "query": deep }),
    )
    .await;
    assert_eq!(
        (refused.status, refused.code()),
        (400, "GRAPHQL_VALIDATION_FAILED")
    );
    assert!(
        refused.message().contains("nested 14 levels deep")
            && refused.message().contains("at most 12"),
        "{}",
        refused.message()
    );
    // So is introspection that fans out past it (ofType is the only nesting left out).
    let fan_out = format!(
        "{{ __schema {{ types {} {{ name }} {} }} }}",
        "{ fields { type ".repeat(6),
        "} } ".repeat(6)
    );
    let refused = post_json(
        &development,
        &viewer,
        Some(RESPONSE_JSON),
        json!({ "query": fan_out }),
    )
    .await;
    assert_eq!(
        (refused.status, refused.code()),
        (400, "GRAPHQL_VALIDATION_FAILED")
    );
    assert!(
        refused.message().contains("levels deep"),
        "{}",
        refused.message()
    );

    // In production only admins may introspect (others get `__schema: null`).
    let production = TestApp::start_with(Limits::default(), true).await;
    let admin = production.token("alpha", Role::Admin);
    let answer = post_json(
        &production,
        &admin,
        Some(RESPONSE_JSON),
        introspection.clone(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer.body["data"]["__schema"]["types"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    for role in [Role::Viewer, Role::Editor] {
        let token = production.token("alpha", role);
        let answer = post_json(
            &production,
            &token,
            Some(RESPONSE_JSON),
            introspection.clone(),
        )
        .await;
        assert!(
            answer.body["data"]["__schema"]["types"]
                .as_array()
                .is_none(),
            "{role}: {}",
            answer.body
        );
    }
}
