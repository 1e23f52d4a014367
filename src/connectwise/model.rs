//! ConnectWise's JSON, as much of it as billbridge reads or writes (the published models are
//! in `src/sandbox/schemas/`). Decoding is tolerant where the published models are: every
//! field the model marks nullable is an `Option` or defaults, and enum-valued fields are kept
//! as text so that an unknown value is reported by whoever reads it, never fatal here. The
//! push converts these into domain types at its edge.

use serde::{Deserialize, Deserializer, Serialize};

/// `null` and absent alike become the type's default (ConnectWise sends both).
fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

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
    #[serde(default, deserialize_with = "nullable")]
    pub custom_fields: Vec<CustomField>,
    #[serde(default, deserialize_with = "nullable")]
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
    #[serde(default, deserialize_with = "nullable")]
    pub id: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub caption: String,
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    pub id: i64,
    pub name: String,
    /// Nullable in the model; an agreement without one is never billed.
    #[serde(default)]
    pub company: Option<Reference>,
    #[serde(rename = "type", default)]
    pub agreement_type: Option<Reference>,
    #[serde(default, deserialize_with = "nullable")]
    pub cancelled_flag: bool,
    /// `Active`, `Cancelled`, `Expired` or `Inactive` as published; kept as text.
    #[serde(default)]
    pub agreement_status: Option<String>,
    /// ISO 8601 date-time.
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub no_ending_date_flag: bool,
    #[serde(default)]
    pub parent_agreement: Option<Reference>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgreementType {
    pub id: i64,
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub inactive_flag: bool,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Addition {
    pub id: i64,
    /// Nullable in the model; an addition without one is never adopted.
    #[serde(default)]
    pub product: Option<Reference>,
    #[serde(default, deserialize_with = "nullable")]
    pub quantity: f64,
    /// `Billable`, `DoNotBill` or `NoCharge` as published; kept as text.
    #[serde(default)]
    pub bill_customer: Option<String>,
    #[serde(default)]
    pub effective_date: Option<String>,
    #[serde(default)]
    pub cancelled_date: Option<String>,
    #[serde(default)]
    pub agreement_id: Option<i64>,
    #[serde(default)]
    pub unit_price: Option<f64>,
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
    #[serde(default, deserialize_with = "nullable")]
    pub description: String,
    #[serde(default, deserialize_with = "nullable")]
    pub inactive_flag: bool,
    /// What one unit bills.
    #[serde(default)]
    pub price: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedDevicesIntegration {
    pub id: i64,
    pub name: String,
}

/// A row of a managed devices integration's cross-reference table: (vendor type, vendor
/// level) → (agreement type, catalog product). The published model makes every field
/// nullable, and real tables hold rows without a type or level: the caller decides.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossReference {
    pub id: i64,
    #[serde(default)]
    pub vendor_type: Option<String>,
    #[serde(default)]
    pub vendor_level: Option<String>,
    #[serde(default)]
    pub agreement_type: Option<Reference>,
    #[serde(default)]
    pub product: Option<Reference>,
    #[serde(default)]
    pub configuration_type: Option<Reference>,
    #[serde(default, deserialize_with = "nullable")]
    pub inactive_flag: bool,
}

/// `GET /system/info`: the cheapest authenticated call.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemInfo {
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub is_cloud: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub server_time_zone: String,
}

/// `GET https://{site}/login/companyinfo/{company}` (no authentication): where a company's
/// API lives on the site.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompanyInfo {
    #[serde(default)]
    pub company_name: Option<String>,
    /// e.g. `v2025_1/`: the path segment the versioned API is served under.
    #[serde(default)]
    pub codebase: Option<String>,
    #[serde(default)]
    pub version_code: Option<String>,
    #[serde(default)]
    pub version_number: Option<String>,
    #[serde(rename = "CompanyID", default)]
    pub company_id: Option<String>,
    #[serde(default)]
    pub is_cloud: Option<bool>,
    #[serde(default)]
    pub site_url: Option<String>,
}
