//! ConnectWise's JSON, as much of it as billbridge reads or writes. Unknown fields are
//! ignored; the push converts these into domain types at its edge.

use serde::{Deserialize, Serialize};

/// A reference to another record: `{"id": 5, "name": "…"}` or `{"id": 5, "identifier": "…"}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
}

impl Reference {
    pub fn id(id: i64) -> Self {
        Reference {
            id,
            ..Default::default()
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Company {
    pub id: i64,
    /// The "Company ID".
    pub identifier: String,
    pub name: String,
    #[serde(default)]
    pub custom_fields: Vec<CustomField>,
    #[serde(default)]
    pub deleted_flag: bool,
}

impl Company {
    /// The text of a custom field by its caption, if set.
    pub fn custom_field(&self, caption: &str) -> Option<String> {
        self.custom_fields
            .iter()
            .find(|f| f.caption.eq_ignore_ascii_case(caption))
            .and_then(|f| match &f.value {
                Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct CustomField {
    pub id: i64,
    #[serde(default)]
    pub caption: String,
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    pub id: i64,
    pub name: String,
    pub company: Reference,
    #[serde(rename = "type")]
    pub agreement_type: Reference,
    #[serde(default)]
    pub cancelled_flag: bool,
    #[serde(default)]
    pub agreement_status: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgreementType {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub inactive_flag: bool,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Addition {
    pub id: i64,
    pub product: Reference,
    #[serde(default)]
    pub quantity: f64,
    #[serde(default)]
    pub bill_customer: Option<String>,
    #[serde(default)]
    pub effective_date: Option<String>,
    #[serde(default)]
    pub cancelled_date: Option<String>,
    #[serde(default)]
    pub agreement_id: Option<i64>,
}

/// What `POST …/additions` needs: the product and whether to bill the customer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAddition {
    pub product: Reference,
    pub quantity: f64,
    /// `Billable`, `DoNotBill` or `NoCharge`.
    pub bill_customer: String,
    /// RFC 3339, e.g. `2026-11-01T00:00:00Z`.
    pub effective_date: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogItem {
    pub id: i64,
    pub identifier: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub inactive_flag: bool,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedDevicesIntegration {
    pub id: i64,
    pub name: String,
}

/// A row of a managed devices integration's cross-reference table: (vendor type, vendor
/// level) → (agreement type, catalog product).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossReference {
    pub id: i64,
    pub vendor_type: String,
    pub vendor_level: String,
    #[serde(default)]
    pub agreement_type: Option<Reference>,
    #[serde(default)]
    pub product: Option<Reference>,
    #[serde(default)]
    pub configuration_type: Option<Reference>,
    #[serde(default)]
    pub inactive_flag: bool,
}

/// `GET /system/info`: the cheapest authenticated call.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemInfo {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub is_cloud: bool,
    #[serde(default)]
    pub server_time_zone: String,
}
