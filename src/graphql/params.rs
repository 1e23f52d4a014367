//! A well-formed GraphQL-over-HTTP request: `query`, a string, and optionally
//! `operationName` (a string), `variables` and `extensions` (objects), any of them `null`;
//! from a POST's JSON body or a GET's query string (where `variables` and `extensions` are
//! JSON text). Anything else is not a GraphQL request at all, answered 400 whatever the
//! media type; other members are left alone (the spec reserves them).

use async_graphql::{Extensions, Request, Value, Variables};
use serde_json::Map;

/// The request in a JSON body, or what is wrong with it (naming the member).
pub fn from_json(body: serde_json::Value) -> Result<Request, String> {
    let serde_json::Value::Object(members) = body else {
        return Err(if body.is_array() {
            "batched operations are not accepted; send one operation per request".into()
        } else {
            format!(
                "the body must be a JSON object {{\"query\", \"operationName\", \"variables\", \"extensions\"}}, not {}",
                kind(&body)
            )
        });
    };
    request(members)
}

/// The request in a GET's query string.
pub fn from_query_string(query: &str) -> Result<Request, String> {
    let mut members = Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = match key.as_ref() {
            "query" | "operationName" => serde_json::Value::String(value.into_owned()),
            "variables" | "extensions" if value.trim().is_empty() => continue,
            "variables" | "extensions" => serde_json::from_str(&value)
                .map_err(|e| format!("{key}: expected a JSON object, but it is not JSON ({e})"))?,
            _ => continue,
        };
        if members.insert(key.clone().into_owned(), value).is_some() {
            return Err(format!("{key}: given more than once"));
        }
    }
    request(members)
}

fn request(mut members: Map<String, serde_json::Value>) -> Result<Request, String> {
    let query = match members.remove("query") {
        Some(serde_json::Value::String(query)) => query,
        None | Some(serde_json::Value::Null) => {
            return Err("query: required, the GraphQL document as a string".into());
        }
        Some(other) => return Err(format!("query: expected a string, got {}", kind(&other))),
    };
    let mut request = Request::new(query);
    match members.remove("operationName") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(name)) => request = request.operation_name(name),
        Some(other) => {
            return Err(format!(
                "operationName: expected a string, got {}",
                kind(&other)
            ));
        }
    }
    if let Some(variables) = object(&mut members, "variables")? {
        request = request.variables(Variables::from_json(serde_json::Value::Object(variables)));
    }
    if let Some(extensions) = object(&mut members, "extensions")? {
        request.extensions = Extensions(
            extensions
                .into_iter()
                .map(|(k, v)| (k, Value::from_json(v).unwrap_or(Value::Null)))
                .collect(),
        );
    }
    Ok(request)
}

/// Member `name`, which must be an object when given and not null.
fn object(
    members: &mut Map<String, serde_json::Value>,
    name: &str,
) -> Result<Option<Map<String, serde_json::Value>>, String> {
    match members.remove(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Object(object)) => Ok(Some(object)),
        Some(other) => Err(format!("{name}: expected an object, got {}", kind(&other))),
    }
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn well_formed_requests_are_read() {
        let request = from_json(json!({
            "query": "query Q($n: String) { __type(name: $n) { name } }",
            "operationName": "Q",
            "variables": { "n": "Query" },
            "extensions": { "some": "value" },
            "reserved": 1,
        }))
        .unwrap();
        assert_eq!(request.operation_name.as_deref(), Some("Q"));
        assert_eq!(request.variables.get("n"), Some(&Value::from("Query")));
        assert_eq!(
            request.extensions.0.get("some"),
            Some(&Value::from("value"))
        );
        // Null means absent.
        let request = from_json(json!({
            "query": "{ __typename }", "operationName": null, "variables": null, "extensions": null
        }))
        .unwrap();
        assert_eq!(request.operation_name, None);
        // GET: variables and extensions are JSON text.
        let request = from_query_string(
            "query=query%20Q(%24n%3A%20String)%20%7B%20__typename%20%7D&variables=%7B%22n%22%3A%22x%22%7D&operationName=Q",
        )
        .unwrap();
        assert_eq!(request.query, "query Q($n: String) { __typename }");
        assert_eq!(request.variables.get("n"), Some(&Value::from("x")));
    }

    #[test]
    fn malformed_requests_name_what_is_wrong() {
        let table = [
            (json!([{ "query": "{ a }" }]), "batched operations"),
            (json!("{ a }"), "must be a JSON object"),
            (json!({ "qeury": "{ a }" }), "query: required"),
            (json!({ "query": null }), "query: required"),
            (
                json!({ "query": { "obj": "ect" } }),
                "query: expected a string, got an object",
            ),
            (
                json!({ "query": 0 }),
                "query: expected a string, got a number",
            ),
            (
                json!({ "query": ["array"] }),
                "query: expected a string, got an array",
            ),
            (
                json!({ "query": "{ a }", "operationName": false }),
                "operationName: expected a string, got a boolean",
            ),
            (
                json!({ "query": "{ a }", "variables": "string" }),
                "variables: expected an object, got a string",
            ),
            (
                json!({ "query": "{ a }", "variables": [7] }),
                "variables: expected an object, got an array",
            ),
            (
                json!({ "query": "{ a }", "extensions": 0 }),
                "extensions: expected an object, got a number",
            ),
        ];
        for (body, expected) in table {
            let error = from_json(body.clone()).err().unwrap_or_default();
            assert!(error.contains(expected), "{body}: {error}");
        }
        for (query_string, expected) in [
            ("", "query: required"),
            ("operationName=Q", "query: required"),
            ("query=%7Ba%7D&query=%7Bb%7D", "query: given more than once"),
            (
                "query=%7Ba%7D&variables=%7B",
                "variables: expected a JSON object, but it is not JSON",
            ),
            (
                "query=%7Ba%7D&variables=%5B7%5D",
                "variables: expected an object, got an array",
            ),
        ] {
            let error = from_query_string(query_string).err().unwrap_or_default();
            assert!(error.contains(expected), "{query_string}: {error}");
        }
    }
}
