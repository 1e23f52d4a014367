//! The demo tenant: what a newcomer sees on first start. Created once; deterministic, so
//! the ConnectWise sandbox can be seeded to match it.

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;

use crate::db::accounts::{self, AccountInput, SubscriptionInput};
use crate::db::catalog::{self, MetricSpec, PlanSpec};
use crate::db::mappings::{self, NewMapping, PlanChoice};
use crate::db::usage::{self, UsageInput};
use crate::db::{Scope, levels, tenants};
use crate::domain::{LevelSource, MetricUnit, UsageValue};
use crate::error::AppError;
use crate::psa::Psa;
use crate::sandbox;

pub mod more;

pub const TENANT: &str = "demo";
/// The demo's admin login (documented in the README).
pub const ADMIN_EMAIL: &str = "admin@demo.billbridge.local";
pub const ADMIN_PASSWORD: &str = "demo-password";

pub use crate::sandbox::customers::{
    ACCOUNTS, CLAIMED_TWICE, LINK_IDENTIFIER, LINKED_BY_ECHO_USERNAME, NOT_IN_PSA, TWO_AGREEMENTS,
    company_identifier, company_name,
};

/// A small, fixed pseudo-random sequence (xorshift) so every demo is the same.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A number in `[low, high)`.
    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (self.next() % 10_000) as f64 / 10_000.0 * (high - low)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn metric(name: &str, cross_reference_type: &str, unit: MetricUnit) -> MetricSpec {
    MetricSpec {
        name: name.into(),
        cross_reference_type: cross_reference_type.into(),
        unit,
    }
}

fn plan(
    unique_id: &str,
    name: &str,
    base: f64,
    price: Option<f64>,
    block: Option<f64>,
) -> PlanSpec {
    PlanSpec {
        unique_id: Some(unique_id.into()),
        name: Some(name.into()),
        base_size_gb: Some(base),
        price: Some(price),
        block_size_gb: Some(block),
    }
}

/// Creates the demo tenant unless it exists. Returns whether it was created.
pub async fn seed(db: &DatabaseConnection) -> Result<bool, SeedError> {
    if tenants::by_slug(db, TENANT).await?.is_some() {
        return Ok(false);
    }
    let tenant = tenants::create(db, TENANT, "Demo MSP").await?;
    let scope = Scope::new(db.clone(), &tenant);
    fill(&scope, Utc::now()).await?;
    let admin = crate::db::users::NewUser {
        email: ADMIN_EMAIL.into(),
        display_name: "Demo Admin".into(),
        role: crate::auth::Role::Admin,
        password_hash: crate::auth::password::new_hash("password", ADMIN_PASSWORD)?,
    };
    crate::db::users::create(&scope, admin).await?;
    tracing::info!("created the demo tenant");
    Ok(true)
}

/// The demo's catalogue, mappings, accounts and twelve weeks of usage up to `now`.
pub async fn fill(scope: &Scope, now: DateTime<Utc>) -> Result<(), SeedError> {
    use MetricUnit::{Count, Gb};

    let backup = catalog::create_service(
        scope,
        "Intronis Backup".into(),
        Some("Cloud backup for servers and workstations".into()),
    )
    .await?;
    let backup_plan = catalog::create_product(
        scope,
        backup.id,
        "Intronis Backup Plan".into(),
        vec![
            metric("Backup storage", "BackupUsage", Gb),
            metric("Local backup", "LocalBackup", Count),
            metric("Image licensing", "ImageLicensing", Count),
            metric("Hyper-V host licensing", "Hyper-VHostLicensing", Count),
            metric("VMware host licensing", "VMwareHostLicensing", Count),
        ],
    )
    .await?;
    let backup_plans = [
        catalog::create_plan(
            scope,
            backup_plan.id,
            plan("IB-100", "Backup 100 GB", 100.0, Some(49.0), None),
        )
        .await?,
        catalog::create_plan(
            scope,
            backup_plan.id,
            plan("IB-250", "Backup 250 GB", 250.0, Some(99.0), None),
        )
        .await?,
        catalog::create_plan(
            scope,
            backup_plan.id,
            plan("IB-500", "Backup 500 GB", 500.0, Some(179.0), Some(50.0)),
        )
        .await?,
        catalog::create_plan(
            scope,
            backup_plan.id,
            plan("IB-1TB", "Backup 1 TB", 1000.0, Some(329.0), Some(100.0)),
        )
        .await?,
        catalog::create_plan(
            scope,
            backup_plan.id,
            plan("IB-PAYG", "Pay as you go", 0.0, None, None),
        )
        .await?,
    ];

    let email = catalog::create_service(
        scope,
        "Email Protection".into(),
        Some("Inbound and outbound email security".into()),
    )
    .await?;
    let sentinel = catalog::create_product(
        scope,
        email.id,
        "Sentinel Service".into(),
        vec![metric("Protected mailboxes", "Seats", Count)],
    )
    .await?;
    let gateway = catalog::create_product(
        scope,
        email.id,
        "Email Gateway Defense".into(),
        vec![metric("Mailboxes", "GatewayMailboxes", Count)],
    )
    .await?;
    let sentinel_plans = [
        catalog::create_plan(
            scope,
            sentinel.id,
            plan("SEN-STD", "Sentinel Standard", 0.0, Some(2.0), None),
        )
        .await?,
        catalog::create_plan(
            scope,
            sentinel.id,
            plan("SEN-ADV", "Sentinel Advanced", 0.0, Some(3.5), None),
        )
        .await?,
    ];

    let shield = catalog::create_service(
        scope,
        "Content Shield".into(),
        Some("DNS and web filtering".into()),
    )
    .await?;
    let shield_plus = catalog::create_product(
        scope,
        shield.id,
        "Content Shield Plus".into(),
        vec![metric("Protected users", "ShieldUsers", Count)],
    )
    .await?;

    // "premium" differs from ConnectWise's "Premium" only in case: the demo of that pitfall.
    for name in ["1", "2", "3", "Gold", "Silver", "premium"] {
        levels::create(scope, name.into(), LevelSource::Manual).await?;
    }
    let map = |product_id, plans, level: &str, usage_value, managed_externally| NewMapping {
        product_id,
        plans,
        level: level.into(),
        usage_value,
        managed_externally,
    };
    for mapping in [
        map(
            backup_plan.id,
            PlanChoice::AllPlans,
            "1",
            UsageValue::Total,
            false,
        ),
        map(
            backup_plan.id,
            PlanChoice::Plan(backup_plans[2].id),
            "Gold",
            UsageValue::Additional,
            false,
        ),
        map(
            backup_plan.id,
            PlanChoice::Plan(backup_plans[3].id),
            "premium",
            UsageValue::Additional,
            false,
        ),
        map(
            sentinel.id,
            PlanChoice::AllPlans,
            "2",
            UsageValue::Total,
            false,
        ),
        map(
            shield_plus.id,
            PlanChoice::AllPlans,
            "3",
            UsageValue::Total,
            true,
        ),
    ] {
        mappings::add(scope, mapping, "demo").await?;
    }

    let mut dice = Dice(0x5eed_b111_b71d_6e00);
    let mut rows = Vec::new();
    for (i, name) in ACCOUNTS.iter().enumerate() {
        let mut subscriptions = vec![SubscriptionInput {
            product_id: backup_plan.id,
            plan_id: Some(backup_plans[i % backup_plans.len()].id),
        }];
        if dice.chance(60) {
            subscriptions.push(SubscriptionInput {
                product_id: sentinel.id,
                plan_id: Some(sentinel_plans[i % 2].id),
            });
        }
        if dice.chance(30) {
            subscriptions.push(SubscriptionInput {
                product_id: gateway.id,
                plan_id: None,
            });
        }
        if dice.chance(25) {
            subscriptions.push(SubscriptionInput {
                product_id: shield_plus.id,
                plan_id: None,
            });
        }
        let link_identifier = (*name == LINK_IDENTIFIER.0).then(|| LINK_IDENTIFIER.1.to_owned());
        rows.push(AccountInput {
            name: (*name).into(),
            link_identifier,
            subscriptions,
        });
    }
    let accounts = accounts::upsert(scope, rows.clone()).await?;

    let metrics = catalog::metrics_of_products(
        scope,
        &[backup_plan.id, sentinel.id, gateway.id, shield_plus.id],
    )
    .await?;
    let today = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |midnight| midnight.and_utc());
    let mut samples = Vec::new();
    for (account, row) in accounts.iter().zip(&rows) {
        for sub in &row.subscriptions {
            let base = backup_plans
                .iter()
                .find(|p| Some(p.id) == sub.plan_id)
                .map_or(50.0, |p| p.base_size_gb.max(40.0));
            for metric in metrics.iter().filter(|m| m.product_id == sub.product_id) {
                let mut level = match metric.unit {
                    MetricUnit::Gb => base * dice.between(0.5, 1.3),
                    MetricUnit::Count => dice.between(1.0, 40.0).floor(),
                };
                for week in (0..12).rev() {
                    let quantity = if metric.unit == MetricUnit::Gb {
                        (level * 100.0).round() / 100.0
                    } else {
                        level.floor()
                    };
                    samples.push(UsageInput {
                        account: account.name.clone(),
                        metric_id: metric.id,
                        quantity,
                        measured_at: today - Duration::weeks(week),
                    });
                    // Storage grows a little every week; counts drift.
                    level = if metric.unit == MetricUnit::Gb {
                        level * dice.between(1.0, 1.04)
                    } else {
                        (level + dice.between(-1.0, 2.0)).max(0.0)
                    };
                }
            }
        }
    }
    for chunk in samples.chunks(accounts::MAX_BATCH) {
        usage::record(scope, chunk.to_vec()).await?;
    }
    Ok(())
}

/// Connects the demo tenant to the sandbox at `site` (its address changes from run to run)
/// and syncs levels and company links, so a newcomer sees live levels and linked accounts.
pub async fn connect_sandbox(
    db: &DatabaseConnection,
    psa: &Psa,
    site: &str,
) -> Result<String, SeedError> {
    let tenant = tenants::by_slug(db, TENANT)
        .await?
        .ok_or_else(|| SeedError::Rule("the demo tenant does not exist".into()))?;
    let scope = Scope::new(db.clone(), &tenant);
    let codebase = psa.discover(site, sandbox::DEMO_COMPANY_ID).await?;
    let connection = crate::db::psa::ConnectionInput {
        site: site.to_owned(),
        company_id: sandbox::DEMO_COMPANY_ID.into(),
        public_key: sandbox::DEMO_PUBLIC_KEY.into(),
        private_key: Some(sandbox::DEMO_PRIVATE_KEY.into()),
        client_id: "billbridge-demo".into(),
        integration: sandbox::DEMO_INTEGRATION.into(),
        max_requests_per_second: None,
        codebase: Some(codebase),
        api_version: None,
    };
    crate::db::psa::save(&scope, &psa.master_key, connection, "demo").await?;
    let levels = psa.sync_levels(&scope).await?;
    let links = psa.sync_companies(&scope).await?;
    Ok(format!(
        "{} cross-references, {} levels new; {} accounts linked, {} not found, {} ambiguous",
        levels.cross_references, levels.created, links.linked, links.not_found, links.ambiguous
    ))
}

/// Seeding failed: a database problem (already logged) or a rule the demo data broke.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("the demo data broke a rule: {0}")]
    Rule(String),
}

impl From<AppError> for SeedError {
    fn from(error: AppError) -> Self {
        SeedError::Rule(error.message())
    }
}
