//! Responses follow the selection set's order (the GraphQL spec's ordered map), over HTTP
//! and over `/graphql/ws`, for a nested query whose fields mix plain values with
//! DataLoader-backed relations (which async-graphql would otherwise answer last). The body
//! is read with an order-keeping parser of its own: serde_json's map sorts its keys.

use futures_util::{SinkExt, StreamExt};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::{TestApp, catalogue, id};

/// A JSON value whose objects keep their keys in the order of the text.
#[derive(Debug)]
enum Json {
    Object(Vec<(String, Json)>),
    List(Vec<Json>),
    Scalar,
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Json>()? {
                    entries.push(entry);
                }
                Ok(Json::Object(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::List(items))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Json, E> {
                Ok(Json::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Json, E> {
                Ok(Json::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Json, E> {
                Ok(Json::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Json, E> {
                Ok(Json::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Json, E> {
                Ok(Json::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Scalar)
            }
        }
        deserializer.deserialize_any(Ordered)
    }
}

/// Every object of the response, by its path of response keys (list indexes left out),
/// with the keys it must have, in order.
const QUERY: &str = r#"query Ordered($service: ID!) {
  first: __typename
  billingMappings(serviceId: $service) {
    id
    plan { uniqueId name product { name } }
    level { name }
    usageValue
    ...Audit
    product { name ... on Product { id service { name id } } }
    allPlans
  }
  services { name products { plans { baseSizeGb uniqueId } mappings { level { name } usageValue } name } id }
  accounts(first: 10) {
    totalCount
    edges { node { name subscriptions { plan { uniqueId } product { name } id } latestUsage { quantity metric { name } } id } cursor }
    pageInfo { hasNextPage }
  }
  levels { n: name id }
  last: __typename
}
fragment Audit on BillingMapping { createdBy mine: id product { id } updatedAt }"#;

const EXPECTED: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "first",
            "billingMappings",
            "services",
            "accounts",
            "levels",
            "last",
        ],
    ),
    (
        // `product` first appears in the fragment, after `updatedAt`'s sibling `mine`;
        // its second occurrence adds fields but does not move it.
        "billingMappings",
        &[
            "id",
            "plan",
            "level",
            "usageValue",
            "createdBy",
            "mine",
            "product",
            "updatedAt",
            "allPlans",
        ],
    ),
    ("billingMappings.plan", &["uniqueId", "name", "product"]),
    ("billingMappings.plan.product", &["name"]),
    ("billingMappings.level", &["name"]),
    // The fragment's `id` comes first, then the field's own selection.
    ("billingMappings.product", &["id", "name", "service"]),
    ("billingMappings.product.service", &["name", "id"]),
    ("services", &["name", "products", "id"]),
    ("services.products", &["plans", "mappings", "name"]),
    ("services.products.plans", &["baseSizeGb", "uniqueId"]),
    ("services.products.mappings", &["level", "usageValue"]),
    ("services.products.mappings.level", &["name"]),
    ("accounts", &["totalCount", "edges", "pageInfo"]),
    ("accounts.edges", &["node", "cursor"]),
    (
        "accounts.edges.node",
        &["name", "subscriptions", "latestUsage", "id"],
    ),
    (
        "accounts.edges.node.subscriptions",
        &["plan", "product", "id"],
    ),
    ("accounts.edges.node.subscriptions.plan", &["uniqueId"]),
    ("accounts.edges.node.subscriptions.product", &["name"]),
    ("accounts.edges.node.latestUsage", &["quantity", "metric"]),
    ("accounts.edges.node.latestUsage.metric", &["name"]),
    ("accounts.pageInfo", &["hasNextPage"]),
    ("levels", &["n", "id"]),
];

/// Checks every object of `value` (at `path`) against `expected`, and records the paths met.
fn walk(value: &Json, path: &str, expected: &BTreeMap<&str, &[&str]>, seen: &mut BTreeSet<String>) {
    match value {
        Json::Object(entries) => {
            let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
            let Some(want) = expected.get(path) else {
                panic!("an object at {path:?}, which the query does not select");
            };
            assert_eq!(keys, *want, "keys of an object at {path:?}");
            seen.insert(path.to_owned());
            for (key, value) in entries {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(value, &path, expected, seen);
            }
        }
        Json::List(items) => {
            for item in items {
                walk(item, path, expected, seen);
            }
        }
        Json::Scalar => {}
    }
}

/// Checks that every object of `data` has exactly the expected keys in order, and that
/// every expected position held at least one object (so no check passes by absence).
fn check_order(data: &Json) {
    let expected: BTreeMap<&str, &[&str]> = EXPECTED.iter().copied().collect();
    let mut seen = BTreeSet::new();
    walk(data, "", &expected, &mut seen);
    let missing: Vec<&&str> = expected
        .keys()
        .filter(|path| !seen.contains(**path))
        .collect();
    assert!(missing.is_empty(), "no object at {missing:?}");
}

/// A catalogue with both kinds of mapping (plan and "(All plans)") and accounts with
/// subscriptions and usage; returns the service id.
async fn seed(app: &TestApp, token: &str) -> String {
    let (service, product, plan20, _) = catalogue(app, token).await;
    for extra in [json!({ "planId": plan20 }), json!({ "allPlans": true })] {
        let mut input =
            json!({ "productId": product, "level": "Gold", "usageValue": "TOTAL_USAGE" });
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        app.ok(
            token,
            "mutation($i: AddBillingMappingInput!) { addBillingMapping(input: $i) { warnings } }",
            json!({ "i": input }),
        )
        .await;
    }
    let metrics = app
        .ok(
            token,
            "query($s: ID!) { service(id: $s) { products { metrics { id } } } }",
            json!({ "s": service }),
        )
        .await;
    let metric = id(&metrics["service"]["products"][0]["metrics"][0]["id"]);
    for name in ["acct-a", "acct-b", "acct-c"] {
        app.ok(
            token,
            "mutation($n: String!, $p: ID!, $pl: ID!) { upsertAccounts(input: [{name: $n, subscriptions: [{productId: $p, planId: $pl}]}]) { id } }",
            json!({ "n": name, "p": product, "pl": plan20 }),
        )
        .await;
        app.ok(
            token,
            r#"mutation($n: String!, $m: ID!) { recordUsage(input: [{account: $n, metricId: $m, quantity: 5, measuredAt: "2026-01-01T00:00:00Z"}]) { recorded } }"#,
            json!({ "n": name, "m": metric }),
        )
        .await;
    }
    service
}

/// The `data` of an answer without errors, order kept.
fn data_of(body: &str) -> Json {
    let Json::Object(entries) = serde_json::from_str::<Json>(body).expect("JSON body") else {
        panic!("not an object: {body}");
    };
    assert!(
        entries.iter().all(|(k, _)| k != "errors"),
        "errors in {body}"
    );
    entries
        .into_iter()
        .find(|(k, _)| k == "data")
        .map(|(_, data)| data)
        .unwrap_or_else(|| panic!("no data in {body}"))
}

#[tokio::test]
async fn responses_follow_the_selection_order_over_http() {
    let app = TestApp::start().await;
    let token = app.editor();
    let service = seed(&app, &token).await;
    // Several times: which resolver finishes first varies from run to run.
    for _ in 0..5 {
        let body = app
            .client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(&token)
            .json(&json!({ "query": QUERY, "variables": { "service": service } }))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("body");
        check_order(&data_of(&body));
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message of the socket, as sent.
async fn next_text(ws: &mut Socket) -> String {
    loop {
        // A guard against hanging forever, not a measurement.
        match tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("the server sent nothing for 30 s")
        {
            Some(Ok(Message::Text(text))) => return text.to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn responses_follow_the_selection_order_over_the_socket() {
    let app = TestApp::start().await;
    let token = app.editor();
    let service = seed(&app, &token).await;
    let mut request = format!("{}/graphql/ws", app.base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = async |ws: &mut Socket, message: serde_json::Value| {
        ws.send(Message::text(message.to_string())).await.unwrap();
    };
    send(
        &mut ws,
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }),
    )
    .await;
    assert!(next_text(&mut ws).await.contains("connection_ack"));
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": QUERY, "variables": { "service": service } } }),
    )
    .await;
    // {"id":…,"type":"next","payload":{"data":…}}: the payload is the response.
    let Json::Object(message) = serde_json::from_str(&next_text(&mut ws).await).unwrap() else {
        panic!("not an object");
    };
    let (_, payload) = message
        .into_iter()
        .find(|(k, _)| k == "payload")
        .expect("a payload");
    let Json::Object(payload) = payload else {
        panic!("payload not an object");
    };
    assert!(payload.iter().all(|(k, _)| k != "errors"), "{payload:?}");
    let (_, data) = payload
        .into_iter()
        .find(|(k, _)| k == "data")
        .expect("data");
    check_order(&data);
}
