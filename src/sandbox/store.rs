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
    /// Where each agreement is in `agreements` (only ever pushed to), so a write to an
    /// agreement's additions finds it at once.
    pub agreement_at: std::collections::HashMap<i64, usize>,
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
    /// API calls by the codebase in their path (`v2025_1`, `v4_6_release`).
    pub codebases: BTreeMap<String, u64>,
    /// API calls by their `Accept` header (the pinned model version).
    pub accepts: BTreeMap<String, u64>,
    /// When set (tests), every answer is kept here: `{pattern, status, body}`.
    pub answers: Option<Vec<Value>>,
}

impl Store {
    /// Keeps an answer when recording (the contract test validates each one).
    pub fn record_answer(&mut self, pattern: &str, status: u16, body: &Value) {
        if let Some(answers) = &mut self.answers {
            answers.push(json!({ "pattern": pattern, "status": status, "body": body }));
        }
    }

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
        self.agreement_types.push(json!({
            "id": id, "name": name, "inactiveFlag": false, "defaultFlag": false,
            "billTime": "Billable", "billExpenses": "Billable", "billProducts": "Billable",
            "employeeCompRate": "Actual", "employeeCompNotExceed": "Billing",
            "invoicingCycle": "ContractYear", "prorateFlag": true,
            "applicationUnlimitedFlag": false, "applicationCycle": "CalendarMonth",
            "_info": { "lastUpdated": "2026-01-01T00:00:00Z" }
        }));
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
        self.agreement_at.insert(id, self.agreements.len());
        self.agreements.push(json!({
            "id": id, "name": name,
            "type": { "id": type_id, "name": agreement_type["name"] },
            "company": { "id": company_id, "identifier": company["identifier"], "name": company["name"] },
            "agreementStatus": "Active",
            "cancelledFlag": false,
            "dateCancelled": null,
            "startDate": "2026-01-01T00:00:00Z",
            "endDate": null,
            "noEndingDateFlag": true,
            "parentAgreement": null,
            "billTime": "Billable", "billExpenses": "Billable", "billProducts": "Billable",
            "employeeCompRate": "Actual", "employeeCompNotExceed": "Billing",
            "invoicingCycle": "ContractYear", "periodType": "Current",
            "applicationUnlimitedFlag": false, "billOneTimeFlag": false,
            "_info": { "lastUpdated": "2026-01-01T00:00:00Z" }
        }));
        id
    }

    /// The agreement with this id.
    pub fn agreement(&self, id: i64) -> Option<&Value> {
        self.agreement_at.get(&id).map(|at| &self.agreements[*at])
    }

    /// Changes an agreement's fields (its state: status, cancelled, end date, parent).
    pub fn change_agreement(&mut self, id: i64, fields: Value) {
        if let Some(at) = self.agreement_at.get(&id)
            && let Some(record) = self.agreements.get_mut(*at)
            && let (Some(record), Some(fields)) = (record.as_object_mut(), fields.as_object())
        {
            for (k, v) in fields {
                record.insert(k.clone(), v.clone());
            }
        }
    }

    /// Makes `child` a child agreement of `parent` (it bills through the parent's invoice).
    pub fn set_parent_agreement(&mut self, child: i64, parent: i64) {
        let name = self
            .agreement(parent)
            .map(|a| a["name"].clone())
            .unwrap_or(Value::Null);
        self.change_agreement(
            child,
            json!({ "parentAgreement": { "id": parent, "name": name } }),
        );
    }

    /// Changes an addition's fields (`cancelledDate`, `billCustomer`, …) in place.
    pub fn change_addition(&mut self, id: i64, fields: Value) {
        for record in self.additions.values_mut().flatten() {
            if record["id"] == id
                && let (Some(record), Some(fields)) = (record.as_object_mut(), fields.as_object())
            {
                for (k, v) in fields {
                    record.insert(k.clone(), v.clone());
                }
            }
        }
    }

    pub fn add_catalog_item(&mut self, identifier: &str, description: &str) -> i64 {
        self.add_priced_item(identifier, description, 0.0)
    }

    /// A catalog item whose unit bills `price` (new additions take it).
    pub fn add_priced_item(&mut self, identifier: &str, description: &str, price: f64) -> i64 {
        let id = self.id();
        self.catalog.push(json!({
            "id": id, "identifier": identifier, "description": description,
            "customerDescription": description, "inactiveFlag": false,
            "productClass": "Agreement", "billableOption": "Billable",
            "recurringFlag": true, "price": price, "cost": 0.0,
            "_info": { "lastUpdated": "2026-01-01T00:00:00Z" }
        }));
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
        self.integrations.push(json!({
            "id": id, "name": name, "solution": "Custom", "portalUrl": "",
            "loginBy": "Global", "globalLoginUsername": "",
            "defaultBillingLevel": "Summary", "configBillCustomerFlag": false,
            "matchOnSerialNumberFlag": false, "disableNewCrossReferencesFlag": false,
            "_info": { "lastUpdated": "2026-01-01T00:00:00Z" }
        }));
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
        let integration = self
            .integrations
            .iter()
            .find(|i| i["id"] == integration_id)
            .map(|i| i["name"].clone())
            .unwrap_or(Value::Null);
        self.cross_references.push(json!({
            "id": id, "integrationId": integration_id,
            "managedDevicesIntegration": { "id": integration_id, "name": integration },
            "vendorType": vendor_type, "vendorLevel": vendor_level,
            "agreementType": { "id": agreement_type_id, "name": agreement_type["name"] },
            "product": { "id": product_id, "identifier": product_identifier },
            "configurationType": null,
            "inactiveFlag": inactive,
            "_info": { "lastUpdated": "2026-01-01T00:00:00Z" }
        }));
    }

    /// A row as real tables hold them now and then: no vendor type and/or no level.
    pub fn add_odd_cross_reference(
        &mut self,
        integration_id: i64,
        vendor_type: Option<&str>,
        vendor_level: Option<&str>,
        product_identifier: &str,
    ) -> i64 {
        let id = self.id();
        let product_id = self.catalog_id(product_identifier);
        self.cross_references.push(json!({
            "id": id, "integrationId": integration_id,
            "managedDevicesIntegration": { "id": integration_id },
            "vendorType": vendor_type, "vendorLevel": vendor_level,
            "agreementType": null,
            "product": { "id": product_id, "identifier": product_identifier },
            "configurationType": null,
            "inactiveFlag": false,
        }));
        id
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
        if !matches!(body.get("quantity"), None | Some(Value::Number(_))) {
            return Err((
                "quantity".to_owned(),
                "quantity must be a number".to_owned(),
            ));
        }
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
        let agreement_status = self
            .agreement(agreement_id)
            .map(|a| a["agreementStatus"].clone())
            .unwrap_or(Value::Null);
        let id = self.id();
        let addition = json!({
            "id": id,
            "product": { "id": product_id, "identifier": product["identifier"] },
            "quantity": body["quantity"].as_f64().unwrap_or(0.0),
            "billCustomer": bill_customer,
            "effectiveDate": body.get("effectiveDate").cloned().unwrap_or(Value::Null),
            "cancelledDate": body.get("cancelledDate").cloned().unwrap_or(Value::Null),
            "agreementId": agreement_id,
            "agreementStatus": agreement_status,
            "description": body.get("description").cloned().unwrap_or(product["description"].clone()),
            "invoiceDescription": product["customerDescription"],
            // ConnectWise prices a new addition from its catalog item unless told.
            "unitPrice": body.get("unitPrice").cloned().unwrap_or(product["price"].clone()),
            "unitCost": 0.0,
            "lessIncluded": 0.0,
            "taxableFlag": false,
            "purchaseItemFlag": false,
            "specialOrderFlag": false,
            "prorateCurrentPeriodFlag": true,
            "_info": { "lastUpdated": "2026-01-01T00:00:00Z" }
        });
        self.additions
            .entry(agreement_id)
            .or_default()
            .push(addition.clone());
        Ok(addition)
    }
}
