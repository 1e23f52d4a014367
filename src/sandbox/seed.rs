//! What the sandbox holds at start: nothing but the demo API member (`empty`), or a
//! ConnectWise that matches the demo tenant (`demo`).

use serde_json::json;

use super::customers;
use super::store::{Member, Store};

pub const DEMO_COMPANY_ID: &str = "billbridge-demo";
pub const DEMO_PUBLIC_KEY: &str = "demo-public-key";
pub const DEMO_PRIVATE_KEY: &str = "demo-private-key";
/// A member whose security role cannot add or edit agreement additions nor read the catalog.
pub const LIMITED_PUBLIC_KEY: &str = "limited-public-key";
pub const LIMITED_PRIVATE_KEY: &str = "limited-private-key";
/// The managed devices integration the demo bills through.
pub const DEMO_INTEGRATION: &str = "Barracuda Intronis Backup";

pub const BACKUP_AGREEMENT: &str = "Managed Backup";
/// Companies beyond the demo's customers (prospects), so that the company list spans more
/// than one page of the most ConnectWise serves (1,000).
pub const PROSPECTS: usize = 1_000;

/// The hard cases the demo's ConnectWise holds, by account (README, "What is in the demo").
pub mod hard_cases {
    /// Its only backup agreement is Expired: its backup lines are skipped, naming it.
    pub const EXPIRED_AGREEMENT: &str = "tidewater-marine";
    /// Its backup agreement is Active but ended last June: skipped, naming the date.
    pub const ENDED_AGREEMENT: &str = "sierra-auto";
    /// An old, cancelled backup agreement beside the current one: not ambiguous.
    pub const CANCELLED_AGREEMENT: &str = "pacific-brewing";
    /// Its backup agreement ends next year: it bills until then.
    pub const FUTURE_ENDING_AGREEMENT: &str = "orchid-florists";
    /// Its backup agreement is a child of a master agreement: the preview names the parent.
    pub const CHILD_AGREEMENT: &str = "nimbus-software";
    /// A storage addition cancelled last quarter: ignored, a new one is created.
    pub const CANCELLED_ADDITION: &str = "keystone-credit";
    /// A storage addition cancelled from next month: it bills until then, and its successor
    /// starts then.
    pub const ENDING_ADDITION: &str = "jade-architects";
    /// A local-backup addition someone set to DoNotBill: never adopted, nothing added.
    pub const DO_NOT_BILL_ADDITION: &str = "maple-pediatrics";
}
pub const EMAIL_AGREEMENT: &str = "Email Security";
pub const WEB_AGREEMENT: &str = "Web Filtering";

const BACKUP_TYPES: [(&str, &str); 5] = [
    ("BackupUsage", "STORAGE"),
    ("LocalBackup", "LOCAL"),
    ("ImageLicensing", "IMAGE"),
    ("Hyper-VHostLicensing", "HYPERV"),
    ("VMwareHostLicensing", "VMWARE"),
];

pub fn members(store: &mut Store) {
    store.members.push(Member {
        company_id: DEMO_COMPANY_ID.into(),
        public_key: DEMO_PUBLIC_KEY.into(),
        private_key: DEMO_PRIVATE_KEY.into(),
        denied: Vec::new(),
    });
    store.members.push(Member {
        company_id: DEMO_COMPANY_ID.into(),
        public_key: LIMITED_PUBLIC_KEY.into(),
        private_key: LIMITED_PRIVATE_KEY.into(),
        denied: vec!["additions:write".into(), "catalog:read".into()],
    });
}

/// The demo tenant's ConnectWise: a company per account (with the documented exceptions),
/// agreements of three types, catalog products, and a managed devices integration whose
/// cross-references cover the demo levels — with "Premium" where billbridge says "premium".
pub fn demo(store: &mut Store) {
    members(store);
    store.start_ids_at(100);
    let backup = store.add_agreement_type(BACKUP_AGREEMENT);
    let email = store.add_agreement_type(EMAIL_AGREEMENT);
    let web = store.add_agreement_type(WEB_AGREEMENT);
    store.add_agreement_type("Block Time");

    // Prices a month: per GB of storage (less at higher levels), per device or host licence.
    for (level, per_gb) in [
        ("L1", 0.12),
        ("GOLD", 0.10),
        ("PREMIUM", 0.08),
        ("SILVER", 0.15),
    ] {
        for (_, product) in BACKUP_TYPES {
            let price = match product {
                "STORAGE" => per_gb,
                "LOCAL" => 2.0,
                "IMAGE" => 5.0,
                _ => 15.0,
            };
            store.add_priced_item(
                &format!("IB-{product}-{level}"),
                &format!("Intronis Backup {product} ({level})"),
                price,
            );
        }
    }
    store.add_priced_item("ESS-SEAT", "Email Protection seat", 3.5);
    store.add_priced_item("CS-USER", "Content Shield user", 1.25);

    let integration = store.add_integration(DEMO_INTEGRATION);
    for (level, product_level) in [("1", "L1"), ("Gold", "GOLD"), ("Premium", "PREMIUM")] {
        for (vendor_type, product) in BACKUP_TYPES {
            store.add_cross_reference(
                integration,
                vendor_type,
                level,
                backup,
                &format!("IB-{product}-{product_level}"),
                false,
            );
        }
    }
    // Silver only bills storage: a mapping to it gets a warning for the count metrics.
    store.add_cross_reference(
        integration,
        "BackupUsage",
        "Silver",
        backup,
        "IB-STORAGE-SILVER",
        false,
    );
    store.add_cross_reference(
        integration,
        "BackupUsage",
        "Legacy",
        backup,
        "IB-STORAGE-L1",
        true,
    );
    // Rows real tables hold now and then: syncLevels leaves them out with a warning.
    store.add_odd_cross_reference(integration, Some("BackupUsage"), None, "IB-STORAGE-L1");
    store.add_odd_cross_reference(integration, None, None, "IB-LOCAL-L1");
    store.add_cross_reference(integration, "Seats", "2", email, "ESS-SEAT", false);
    store.add_cross_reference(integration, "ShieldUsers", "3", web, "CS-USER", false);
    let other = store.add_integration("Other RMM");
    store.add_cross_reference(
        other,
        "Workstation",
        "Standard",
        backup,
        "IB-LOCAL-L1",
        false,
    );

    let block_time = store
        .agreement_types
        .iter()
        .find(|t| t["name"] == "Block Time")
        .and_then(|t| t["id"].as_i64())
        .unwrap_or_default();
    store.start_ids_at(250);
    for (i, account) in customers::ACCOUNTS.iter().enumerate() {
        if *account == customers::NOT_IN_PSA {
            continue;
        }
        let identifier = customers::company_identifier(account);
        let echo = customers::LINKED_BY_ECHO_USERNAME
            .contains(account)
            .then_some(*account);
        let name = customers::company_name(account);
        let company = store.add_company(&identifier, &name, echo);
        let backup_agreement =
            store.add_agreement(company, backup, &format!("{name} — Managed Backup"));
        store.add_agreement(company, email, &format!("{name} — Email Security"));
        store.add_agreement(company, web, &format!("{name} — Web Filtering"));
        if *account == customers::TWO_AGREEMENTS {
            store.add_agreement(company, backup, &format!("{name} — Managed Backup (2025)"));
        }
        // Some agreements already bill storage by hand: the push adopts those lines.
        if i % 6 == 1
            && let Some(product) = store.catalog_id("IB-STORAGE-L1")
        {
            let body = serde_json::json!({ "product": { "id": product }, "quantity": 1.0, "billCustomer": "Billable", "effectiveDate": "2026-01-01T00:00:00Z" });
            let _ = store.add_addition(backup_agreement, &body);
        }
        hard_case(
            store,
            account,
            company,
            backup,
            block_time,
            backup_agreement,
        );
    }
    for n in 1..=PROSPECTS {
        store.add_company(
            &format!("prospect-{n:04}"),
            &format!("Prospect {n:04}"),
            None,
        );
    }
    // The other claimant: a company whose echo_username names an account that already has
    // a company by Company ID.
    let impostor = store.add_company(
        "QL-EAST",
        "Quartz Labs East",
        Some(customers::CLAIMED_TWICE),
    );
    store.add_agreement(impostor, backup, "Quartz Labs East — Managed Backup");
    store.add_company("unrelated-customer", "Unrelated Customer", None);
}

/// Gives `account`'s company the state its hard case names (see [`hard_cases`]).
fn hard_case(
    store: &mut Store,
    account: &str,
    company: i64,
    backup: i64,
    block_time: i64,
    backup_agreement: i64,
) {
    use hard_cases::*;
    let name = customers::company_name(account);
    let addition = |store: &mut Store, product: &str, bill_customer: &str| {
        let product = store.catalog_id(product).unwrap_or_default();
        let body = json!({ "product": { "id": product }, "quantity": 3.0, "billCustomer": bill_customer, "effectiveDate": "2026-01-01T00:00:00Z" });
        store
            .add_addition(backup_agreement, &body)
            .ok()
            .and_then(|a| a["id"].as_i64())
            .unwrap_or_default()
    };
    match account {
        EXPIRED_AGREEMENT => store.change_agreement(
            backup_agreement,
            json!({ "agreementStatus": "Expired", "noEndingDateFlag": false, "endDate": "2026-03-31T00:00:00Z" }),
        ),
        ENDED_AGREEMENT => store.change_agreement(
            backup_agreement,
            json!({ "noEndingDateFlag": false, "endDate": "2026-06-30T00:00:00Z" }),
        ),
        CANCELLED_AGREEMENT => {
            let old = store.add_agreement(company, backup, &format!("{name} — Managed Backup (2024)"));
            store.change_agreement(
                old,
                json!({ "agreementStatus": "Cancelled", "cancelledFlag": true, "dateCancelled": "2025-12-31T00:00:00Z", "reasonCancelled": "Renewed" }),
            );
        }
        FUTURE_ENDING_AGREEMENT => {
            use chrono::Datelike;
            let now = chrono::Utc::now();
            let next_year = format!("{:04}-{:02}-01T00:00:00Z", now.year() + 1, now.month());
            store.change_agreement(
                backup_agreement,
                json!({ "noEndingDateFlag": false, "endDate": next_year }),
            );
        }
        CHILD_AGREEMENT => {
            let master = store.add_agreement(company, block_time, &format!("{name} — Master Services"));
            store.set_parent_agreement(backup_agreement, master);
        }
        CANCELLED_ADDITION => {
            let id = addition(store, "IB-STORAGE-L1", "Billable");
            store.change_addition(id, json!({ "cancelledDate": "2026-09-30T00:00:00Z" }));
        }
        ENDING_ADDITION => {
            let id = addition(store, "IB-STORAGE-L1", "Billable");
            let next_month = crate::domain::push::next_month(chrono::Utc::now());
            let from = next_month.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            store.change_addition(id, json!({ "cancelledDate": from }));
        }
        DO_NOT_BILL_ADDITION => {
            addition(store, "IB-LOCAL-L1", "DoNotBill");
        }
        _ => {}
    }
}

/// More customers for the demo seed (`demo::more`): a company for each account, by its name,
/// with the three agreements a demo customer has.
pub fn more_customers(store: &mut Store, accounts: &[String]) {
    let type_id = |store: &Store, name: &str| {
        store
            .agreement_types
            .iter()
            .find(|t| t["name"] == name)
            .and_then(|t| t["id"].as_i64())
    };
    let (Some(backup), Some(email), Some(web)) = (
        type_id(store, BACKUP_AGREEMENT),
        type_id(store, EMAIL_AGREEMENT),
        type_id(store, WEB_AGREEMENT),
    ) else {
        // Not the demo seed: companies alone.
        for account in accounts {
            store.add_company(account, &customers::company_name(account), None);
        }
        return;
    };
    for account in accounts {
        let name = customers::company_name(account);
        let company = store.add_company(account, &name, None);
        store.add_agreement(company, backup, &format!("{name} — Managed Backup"));
        store.add_agreement(company, email, &format!("{name} — Email Security"));
        store.add_agreement(company, web, &format!("{name} — Web Filtering"));
    }
}
