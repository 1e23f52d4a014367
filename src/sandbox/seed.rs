//! What the sandbox holds at start: nothing but the demo API member (`empty`), or a
//! ConnectWise that matches the demo tenant (`demo`).

use super::store::{Member, Store};
use crate::demo;

pub const DEMO_COMPANY_ID: &str = "billbridge-demo";
pub const DEMO_PUBLIC_KEY: &str = "demo-public-key";
pub const DEMO_PRIVATE_KEY: &str = "demo-private-key";
/// A member whose security role cannot add or edit agreement additions nor read the catalog.
pub const LIMITED_PUBLIC_KEY: &str = "limited-public-key";
pub const LIMITED_PRIVATE_KEY: &str = "limited-private-key";
/// The managed devices integration the demo bills through.
pub const DEMO_INTEGRATION: &str = "Barracuda Intronis Backup";

pub const BACKUP_AGREEMENT: &str = "Managed Backup";
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

    for level in ["L1", "GOLD", "PREMIUM", "SILVER"] {
        for (_, product) in BACKUP_TYPES {
            store.add_catalog_item(
                &format!("IB-{product}-{level}"),
                &format!("Intronis Backup {product} ({level})"),
            );
        }
    }
    store.add_catalog_item("ESS-SEAT", "Email Protection seat");
    store.add_catalog_item("CS-USER", "Content Shield user");

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

    store.start_ids_at(250);
    for (i, account) in demo::ACCOUNTS.iter().enumerate() {
        if *account == demo::NOT_IN_PSA {
            continue;
        }
        let identifier = demo::company_identifier(account);
        let echo = demo::LINKED_BY_ECHO_USERNAME
            .contains(account)
            .then_some(*account);
        let name = demo::company_name(account);
        let company = store.add_company(&identifier, &name, echo);
        let backup_agreement =
            store.add_agreement(company, backup, &format!("{name} — Managed Backup"));
        store.add_agreement(company, email, &format!("{name} — Email Security"));
        store.add_agreement(company, web, &format!("{name} — Web Filtering"));
        if *account == demo::TWO_AGREEMENTS {
            store.add_agreement(company, backup, &format!("{name} — Managed Backup (2025)"));
        }
        // Some agreements already bill storage by hand: the push adopts those lines.
        if i % 6 == 1
            && let Some(product) = store.catalog_id("IB-STORAGE-L1")
        {
            let body = serde_json::json!({ "product": { "id": product }, "quantity": 1.0, "billCustomer": "Billable", "effectiveDate": "2026-01-01T00:00:00Z" });
            let _ = store.add_addition(backup_agreement, &body);
        }
    }
    // The other claimant: a company whose echo_username names an account that already has
    // a company by Company ID.
    let impostor = store.add_company("QL-EAST", "Quartz Labs East", Some(demo::CLAIMED_TWICE));
    store.add_agreement(impostor, backup, "Quartz Labs East — Managed Backup");
    store.add_company("unrelated-customer", "Unrelated Customer", None);
}
