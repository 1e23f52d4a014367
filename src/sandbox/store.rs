//! The sandbox's in-memory ConnectWise: records kept as JSON, as ConnectWise returns them,
//! so the conditions language applies to them directly.

use serde_json::{Value, json};
use std::collections::BTreeMap;

/// An API member (the keys an integration signs in with) and what its security role denies.
#[derive(Clone, Debug)]
pub struct Member {
    pub company_id: String,
    pub public_key: String,
    pub private_key: String,
    /// Areas refused with 403, e.g. `additions:write`.
    pub denied: Vec<String>,
}

#[derive(Default)]
pub struct Store {
    next_id: i64,
    pub members: Vec<Member>,
    pub companies: Vec<Value>,
    pub agreement_types: Vec<Value>,
    pub agreements: Vec<Value>,
    /// The ids of `agreements`, so a write to an agreement's additions finds it at once.
    pub agreement_ids: std::collections::HashSet<i64>,
    /// By agreement id: each agreement's additions.
    pub additions: BTreeMap<i64, Vec<Value>>,
    pub catalog: Vec<Value>,
    pub integrations: Vec<Value>,
    /// Each carries `integrationId` (not part of ConnectWise's JSON; removed when served).
    pub cross_references: Vec<Value>,
    /// Every write accepted, in order: `{method, path, body, status}`.
    pub writes: Vec<Value>,
    /// Calls by `METHOD /path/with/{id}`.
    pub calls: BTreeMap<String, u64>,
}

impl Store {
    pub fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn start_ids_at(&mut self, next: i64) {
        self.next_id = next - 1;
    }

    pub fn add_company(
        &mut self,
        identifier: &str,
        name: &str,
        echo_username: Option<&str>,
    ) -> i64 {
        let id = self.id();
        let custom_fields = match echo_username {
            Some(user) => {
                json!([{ "id": 7, "caption": "echo_username", "type": "Text", "entryMethod": "EntryField", "numberOfDecimals": 0, "value": user }])
            }
            None => {
                json!([{ "id": 7, "caption": "echo_username", "type": "Text", "entryMethod": "EntryField", "numberOfDecimals": 0 }])
            }
        };
        self.companies.push(json!({
            "id": id, "identifier": identifier, "name": name,
            "status": { "id": 1, "name": "Active" },
            "deletedFlag": false,
            "customFields": custom_fields,
            "_info": { "lastUpdated": "2026-01-01T00:00:00Z" }
        }));
        id
    }

    pub fn add_agreement_type(&mut self, name: &str) -> i64 {
        let id = self.id();
        self.agreement_types
            .push(json!({ "id": id, "name": name, "inactiveFlag": false }));
        id
    }

    pub fn add_agreement(&mut self, company_id: i64, type_id: i64, name: &str) -> i64 {
        let id = self.id();
        let company = self
            .companies
            .iter()
            .find(|c| c["id"] == company_id)
            .cloned()
            .unwrap_or(Value::Null);
        let agreement_type = self
            .agreement_types
            .iter()
            .find(|t| t["id"] == type_id)
            .cloned()
            .unwrap_or(Value::Null);
        self.agreements.push(json!({
            "id": id, "name": name,
            "type": { "id": type_id, "name": agreement_type["name"] },
            "company": { "id": company_id, "identifier": company["identifier"], "name": company["name"] },
            "agreementStatus": "Active",
            "cancelledFlag": false,
            "startDate": "2026-01-01T00:00:00Z",
        }));
        self.agreement_ids.insert(id);
        id
    }

    pub fn add_catalog_item(&mut self, identifier: &str, description: &str) -> i64 {
        let id = self.id();
        self.catalog.push(json!({ "id": id, "identifier": identifier, "description": description, "inactiveFlag": false }));
        id
    }

    /// Every addition, in agreement order.
    pub fn all_additions(&self) -> Vec<Value> {
        self.additions.values().flatten().cloned().collect()
    }

    pub fn catalog_id(&self, identifier: &str) -> Option<i64> {
        self.catalog
            .iter()
            .find(|c| c["identifier"] == identifier)
            .and_then(|c| c["id"].as_i64())
    }

    pub fn add_integration(&mut self, name: &str) -> i64 {
        let id = self.id();
        self.integrations.push(json!({ "id": id, "name": name, "solution": "Custom", "portalUrl": "", "loginBy": "GlobalCredentials", "globalLoginUsername": "" }));
        id
    }

    pub fn add_cross_reference(
        &mut self,
        integration_id: i64,
        vendor_type: &str,
        vendor_level: &str,
        agreement_type_id: i64,
        product_identifier: &str,
        inactive: bool,
    ) {
        let id = self.id();
        let agreement_type = self
            .agreement_types
            .iter()
            .find(|t| t["id"] == agreement_type_id)
            .cloned()
            .unwrap_or(Value::Null);
        let product_id = self.catalog_id(product_identifier);
        self.cross_references.push(json!({
            "id": id, "integrationId": integration_id,
            "vendorType": vendor_type, "vendorLevel": vendor_level,
            "agreementType": { "id": agreement_type_id, "name": agreement_type["name"] },
            "product": { "id": product_id, "identifier": product_identifier },
            "configurationType": null,
            "inactiveFlag": inactive,
        }));
    }

    /// Creates an addition as `POST …/additions` would; `Err` names the missing field.
    pub fn add_addition(
        &mut self,
        agreement_id: i64,
        body: &Value,
    ) -> Result<Value, (String, String)> {
        let product_id = body["product"]["id"]
            .as_i64()
            .ok_or_else(|| ("product".to_owned(), "product is required".to_owned()))?;
        let product = self
            .catalog
            .iter()
            .find(|c| c["id"] == product_id)
            .cloned()
            .ok_or_else(|| {
                (
                    "product".to_owned(),
                    format!("product {product_id} does not exist"),
                )
            })?;
        let bill_customer = body["billCustomer"]
            .as_str()
            .filter(|b| ["Billable", "DoNotBill", "NoCharge"].contains(b))
            .ok_or_else(|| {
                (
                    "billCustomer".to_owned(),
                    "billCustomer must be Billable, DoNotBill or NoCharge".to_owned(),
                )
            })?
            .to_owned();
        let id = self.id();
        let addition = json!({
            "id": id,
            "product": { "id": product_id, "identifier": product["identifier"] },
            "quantity": body["quantity"].as_f64().unwrap_or(0.0),
            "billCustomer": bill_customer,
            "effectiveDate": body.get("effectiveDate").cloned().unwrap_or(Value::Null),
            "cancelledDate": Value::Null,
            "agreementId": agreement_id,
            "description": product["description"],
        });
        self.additions
            .entry(agreement_id)
            .or_default()
            .push(addition.clone());
        Ok(addition)
    }
}
