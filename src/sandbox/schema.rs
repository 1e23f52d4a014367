//! ConnectWise's published models, as JSON Schemas (copied from `shared/connectwise/schemas`,
//! generated from ConnectWise's OpenAPI description; a test keeps the copy identical). The
//! sandbox uses them to know which fields exist — a condition naming an unknown field is a
//! 400, as ConnectWise answers — and the contract test validates every answer against them.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// (model, schema text) for every model billbridge reads or writes.
pub(crate) const MODELS: [(&str, &str); 9] = [
    ("Addition", include_str!("schemas/Addition.json")),
    ("Agreement", include_str!("schemas/Agreement.json")),
    ("AgreementType", include_str!("schemas/AgreementType.json")),
    ("CatalogItem", include_str!("schemas/CatalogItem.json")),
    ("Company", include_str!("schemas/Company.json")),
    (
        "ErrorResponseMessage",
        include_str!("schemas/ErrorResponseMessage.json"),
    ),
    ("Info", include_str!("schemas/Info.json")),
    (
        "ManagedDevicesIntegration",
        include_str!("schemas/ManagedDevicesIntegration.json"),
    ),
    (
        "ManagedDevicesIntegrationCrossReference",
        include_str!("schemas/ManagedDevicesIntegrationCrossReference.json"),
    ),
];

/// The parsed schema of `model`.
pub fn schema(model: &str) -> Option<&'static Value> {
    static PARSED: OnceLock<HashMap<&'static str, Value>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            MODELS
                .iter()
                .filter_map(|(name, text)| Some((*name, serde_json::from_str(text).ok()?)))
                .collect()
        })
        .get(model)
}

/// Whether `path` (`company/id`, `customFields/caption`) names a field of `model` (field
/// names compared ignoring case, as ConnectWise does). With `model` = `CustomFieldValue`,
/// the path is inside a custom field (for `customFieldConditions`).
pub fn has_path(model: &str, path: &str) -> bool {
    let Some(root) = schema(model).or_else(|| schema("Company")) else {
        return false;
    };
    let defs = &root["$defs"];
    let mut node = if model == "CustomFieldValue" {
        &defs["CustomFieldValue"]
    } else {
        root
    };
    for segment in path.split('/') {
        node = resolve(node, defs);
        let Some(properties) = node["properties"].as_object() else {
            return false;
        };
        let Some((_, next)) = properties
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(segment))
        else {
            return false;
        };
        node = next;
    }
    true
}

/// Follows `anyOf` (the non-null branch), `$ref` into `$defs`, and array `items`, to the
/// object schema that has `properties`.
fn resolve<'a>(mut node: &'a Value, defs: &'a Value) -> &'a Value {
    for _ in 0..8 {
        if node.get("properties").is_some() {
            return node;
        }
        if let Some(reference) = node["$ref"].as_str() {
            let name = reference.rsplit('/').next().unwrap_or_default();
            node = &defs[name];
        } else if let Some(branches) = node["anyOf"].as_array() {
            match branches.iter().find(|b| b["type"] != "null") {
                Some(branch) => node = branch,
                None => return node,
            }
        } else if node.get("items").is_some() {
            node = &node["items"];
        } else {
            return node;
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_parses() {
        for (name, _) in MODELS {
            assert!(schema(name).is_some(), "{name}");
        }
    }

    #[test]
    fn fields_and_nested_paths() {
        assert!(has_path("Agreement", "company/id"));
        assert!(has_path("Agreement", "type/name"));
        assert!(has_path("Agreement", "parentAgreement/id"));
        assert!(has_path("Agreement", "AGREEMENTSTATUS"));
        assert!(has_path("Agreement", "customFields/caption"));
        assert!(!has_path("Agreement", "colour"));
        assert!(!has_path("Agreement", "company/colour"));
        assert!(!has_path("Agreement", "name/first"));
        assert!(has_path("Addition", "cancelledDate"));
        assert!(has_path("Company", "deletedFlag"));
        assert!(has_path("CustomFieldValue", "caption"));
        assert!(has_path("CustomFieldValue", "value"));
        assert!(!has_path("CustomFieldValue", "identifier"));
    }

    /// The copy in the repository is the published one (where `shared/` is beside the clone).
    #[test]
    fn the_copy_matches_the_published_schemas() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/connectwise/schemas");
        if !dir.is_dir() {
            return;
        }
        for (name, text) in MODELS {
            let published = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
            assert_eq!(published, text, "src/sandbox/schemas/{name}.json is stale");
        }
    }
}
