//! A tenant's ConnectWise, as billbridge uses it: the client built from the stored
//! connection, the connection test with its permission report, and the syncs that bring
//! levels (cross-references) and account links home.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::connectwise::conditions::Condition;
use crate::connectwise::model::CompanyInfo;
use crate::connectwise::model::ManagedDevicesIntegration;
use crate::connectwise::{self, Call, CallObserver, Client, ListQuery};
use crate::crypto::MasterKey;
use crate::db::Scope;
use crate::db::psa::{self, LevelSync, LinkCounts, SyncedCrossReference};
use crate::domain::links::{Company, Directory};
use crate::error::{AppError, AppResult};

/// The custom field that holds an account name when another integration took the Company ID.
pub const ECHO_USERNAME: &str = "echo_username";

/// What every PSA operation needs: the key that opens stored private keys and how to call.
#[derive(Clone)]
pub struct Psa {
    pub master_key: Arc<MasterKey>,
    pub settings: connectwise::Settings,
    pub observer: Option<CallObserver>,
}

/// A client for the tenant's ConnectWise, and what else the connection says.
pub struct Connected {
    pub client: Client,
    /// The managed devices integration holding the cross-references.
    pub integration: String,
    /// The tenant's request budget; `None` is unlimited.
    pub max_requests_per_second: Option<u32>,
}

fn not_connected() -> AppError {
    AppError::Conflict("this tenant has no ConnectWise connection; connectPsa first".into())
}

/// One line of the connection test.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub name: String,
    /// The ConnectWise security-role setting it needs.
    pub permission: &'static str,
    pub allowed: bool,
    pub message: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TestReport {
    pub reachable: bool,
    pub authenticated: bool,
    pub message: String,
    pub checks: Vec<Check>,
}

impl TestReport {
    pub fn ok(&self) -> bool {
        self.reachable && self.authenticated && self.checks.iter().all(|c| c.allowed)
    }
}

/// The calls the push makes, each probed once: (name, permission, call).
const PROBES: &[(&str, &str, Call)] = &[
    (
        "Read companies",
        "Companies › Company Maintenance: Inquire",
        Call::Companies,
    ),
    (
        "Read agreements",
        "Finance › Agreements: Inquire",
        Call::Agreements,
    ),
    (
        "Read agreement types",
        "Finance › Agreements: Inquire",
        Call::AgreementTypes,
    ),
    (
        "Read agreement additions",
        "Finance › Agreements: Inquire",
        Call::Additions,
    ),
    (
        "Add agreement additions",
        "Finance › Agreements: Add",
        Call::CreateAddition,
    ),
    (
        "Edit agreement additions",
        "Finance › Agreements: Edit",
        Call::PatchAddition,
    ),
    (
        "Read the product catalog",
        "Procurement › Product Catalog: Inquire",
        Call::Catalog,
    ),
    (
        "Read managed devices integrations",
        "System › Table Setup: Inquire",
        Call::Integrations,
    ),
];

/// The integration's cross-references as ConnectWise holds them, not yet stored.
pub struct ReadLevels {
    synced: Vec<SyncedCrossReference>,
    /// Rows of ConnectWise's table left out, each named with why.
    warnings: Vec<String>,
}

impl ReadLevels {
    /// Makes the tenant's levels and cross-references match what was read.
    pub async fn store(self, scope: &Scope) -> AppResult<LevelSync> {
        let mut sync = psa::replace_cross_references(scope, self.synced).await?;
        sync.warnings = self.warnings;
        Ok(sync)
    }
}

impl Psa {
    pub fn new(master_key: MasterKey, settings: connectwise::Settings) -> Self {
        Psa {
            master_key: Arc::new(master_key),
            settings,
            observer: None,
        }
    }

    /// The same, with every ConnectWise exchange also added to `calls` (for budgets).
    pub fn counted(&self, calls: Arc<AtomicU64>) -> Psa {
        let inner = self.observer.clone();
        Psa {
            observer: Some(Arc::new(move |method, path, status| {
                calls.fetch_add(1, Ordering::Relaxed);
                if let Some(inner) = &inner {
                    inner(method, path, status);
                }
            })),
            ..self.clone()
        }
    }

    /// The tenant's client and the name of its managed devices integration.
    pub async fn client(&self, scope: &Scope) -> AppResult<Connected> {
        let opened = psa::credentials(scope, &self.master_key)
            .await?
            .ok_or_else(not_connected)?;
        let mut client = Client::new(&opened.credentials, self.settings.clone())?;
        if let Some(observer) = &self.observer {
            client = client.with_observer(observer.clone());
        }
        Ok(Connected {
            client,
            integration: opened.integration,
            max_requests_per_second: opened
                .max_requests_per_second
                .and_then(|n| u32::try_from(n).ok()),
        })
    }

    /// Refuses (`CONFLICT`) when the tenant has no usable connection, without building a
    /// client.
    pub async fn require_connection(&self, scope: &Scope) -> AppResult<()> {
        psa::credentials(scope, &self.master_key)
            .await?
            .map(|_| ())
            .ok_or_else(not_connected)
    }

    /// Where `company`'s API lives on `site` (`GET /login/companyinfo/{company}`): the
    /// codebase to call (`v2025_1`). A site that does not answer as ConnectWise is refused.
    pub async fn discover(&self, site: &str, company: &str) -> AppResult<String> {
        self.codebase_at(site, company)
            .await
            .map_err(|error| match error {
                connectwise::Error::Config(message) => AppError::bad_input("site", message),
                other => other.into(),
            })
    }

    /// The codebase `companyinfo` names for `company` on `site`, without slashes.
    async fn codebase_at(&self, site: &str, company: &str) -> Result<String, connectwise::Error> {
        let info = connectwise::company_info(site, company, &self.settings).await;
        if let Some(observer) = &self.observer {
            let status = if info.is_ok() { 200 } else { 0 };
            observer(&reqwest::Method::GET, "/login/companyinfo", status);
        }
        let info: CompanyInfo = info?;
        info.codebase
            .as_deref()
            .and_then(connectwise::normalize_codebase)
            .ok_or_else(|| connectwise::Error::Config("ConnectWise named no codebase".into()))
    }

    /// Reachability, the codebase (asked again: a site moves to a new release now and then,
    /// and the stored one is updated), credentials, and every permission the push needs,
    /// one by one.
    pub async fn test(&self, scope: &Scope) -> AppResult<TestReport> {
        let stored = psa::get(scope).await?.ok_or_else(not_connected)?;
        let codebase = match self.codebase_at(&stored.site, &stored.company_id).await {
            Ok(codebase) => Some(codebase),
            Err(error) => {
                return Ok(TestReport {
                    reachable: !matches!(
                        error,
                        connectwise::Error::Unreachable(_) | connectwise::Error::Timeout(_)
                    ),
                    authenticated: false,
                    message: error.to_string(),
                    checks: Vec::new(),
                });
            }
        };
        if codebase != stored.codebase {
            psa::set_codebase(scope, codebase).await?;
        }
        let Connected {
            client,
            integration,
            ..
        } = self.client(scope).await?;
        match client.system_info().await {
            Ok(info) => {
                let mut checks = Vec::new();
                for (name, permission, call) in PROBES {
                    let result = client.probe(*call).await;
                    checks.push(Check {
                        name: (*name).to_owned(),
                        permission,
                        allowed: result.is_ok(),
                        message: result.err().map(|e| e.to_string()),
                    });
                }
                let found = find_integration(&client, &integration).await;
                let references = match &found {
                    Ok(found) => client
                        .cross_references(found.id)
                        .await
                        .map(|x| x.items.len()),
                    Err(e) => Err(e.clone()),
                };
                checks.push(Check {
                    name: format!("Find the managed devices integration {integration:?}"),
                    permission: "System › Table Setup: Inquire",
                    allowed: found.is_ok(),
                    message: found.as_ref().err().map(|e| e.to_string()),
                });
                checks.push(Check {
                    name: "Read its cross-references".into(),
                    permission: "System › Table Setup: Inquire",
                    allowed: references.is_ok(),
                    message: Some(match &references {
                        Ok(n) => format!("{n} cross-reference(s)"),
                        Err(e) => e.to_string(),
                    }),
                });
                Ok(TestReport {
                    reachable: true,
                    authenticated: true,
                    message: format!(
                        "connected to ConnectWise {} at {}",
                        info.version,
                        client.base()
                    ),
                    checks,
                })
            }
            Err(error @ connectwise::Error::Unauthorized(_)) => Ok(TestReport {
                reachable: true,
                authenticated: false,
                message: error.to_string(),
                checks: Vec::new(),
            }),
            Err(error) => Ok(TestReport {
                reachable: !matches!(
                    error,
                    connectwise::Error::Unreachable(_) | connectwise::Error::Timeout(_)
                ),
                authenticated: false,
                message: error.to_string(),
                checks: Vec::new(),
            }),
        }
    }

    /// Reads the integration's cross-references and makes the tenant's levels match.
    pub async fn sync_levels(&self, scope: &Scope) -> AppResult<LevelSync> {
        self.read_levels(scope).await?.store(scope).await
    }

    /// Reads the integration's cross-references, writing nothing (`ReadLevels::store`
    /// makes the levels match, so the reading stays outside the writing's transaction).
    pub async fn read_levels(&self, scope: &Scope) -> AppResult<ReadLevels> {
        let Connected {
            client,
            integration,
            ..
        } = self.client(scope).await?;
        let found = find_integration(&client, &integration).await?;
        let listed = client.cross_references(found.id).await?;
        let mut warnings = listed.warnings;
        let mut synced = Vec::new();
        for x in listed.items {
            let (Some(vendor_type), Some(vendor_level)) = (
                x.vendor_type.filter(|t| !t.is_empty()),
                x.vendor_level.filter(|l| !l.is_empty()),
            ) else {
                warnings.push(format!(
                    "cross-reference {} (product {}) has no vendor type or level; left out",
                    x.id,
                    x.product
                        .as_ref()
                        .and_then(|p| p.identifier.clone())
                        .unwrap_or_else(|| "none".into())
                ));
                continue;
            };
            synced.push(SyncedCrossReference {
                connectwise_id: x.id,
                vendor_type,
                vendor_level,
                agreement_type_id: x.agreement_type.as_ref().map(|t| t.id),
                agreement_type_name: x.agreement_type.and_then(|t| t.name),
                product_id: x.product.as_ref().map(|p| p.id),
                product_identifier: x.product.and_then(|p| p.identifier),
                inactive: x.inactive_flag,
            });
        }
        for warning in &warnings {
            tracing::warn!(%warning, "syncLevels");
        }
        Ok(ReadLevels { synced, warnings })
    }

    /// Reads every company (a paged list, a call per thousand) and links each account.
    pub async fn sync_companies(&self, scope: &Scope) -> AppResult<LinkCounts> {
        let client = self.client(scope).await?.client;
        let companies = client
            .companies(ListQuery::conditions(Condition::eq("deletedFlag", false)))
            .await?;
        let directory = Directory::new(
            companies
                .into_iter()
                .map(|c| Company {
                    echo_username: c.custom_field(ECHO_USERNAME),
                    id: c.id,
                    identifier: c.identifier,
                    name: c.name,
                })
                .collect(),
        );
        let accounts = crate::db::accounts::all(scope).await?;
        let links = accounts
            .into_iter()
            .map(|account| {
                let link =
                    directory.link(account.link_identifier.as_deref().unwrap_or(&account.name));
                (account, link)
            })
            .collect();
        psa::replace_links(scope, links).await
    }
}

/// The integration named `name` (exactly, else ignoring case).
async fn find_integration(
    client: &Client,
    name: &str,
) -> Result<ManagedDevicesIntegration, connectwise::Error> {
    let all = client.managed_devices_integrations().await?;
    let found = all
        .iter()
        .find(|i| i.name == name)
        .or_else(|| all.iter().find(|i| i.name.eq_ignore_ascii_case(name)))
        .cloned();
    found.ok_or_else(|| {
        connectwise::Error::NotFound(format!(
            "managed devices integration named {name:?} (it has: {})",
            all.iter()
                .map(|i| format!("{:?}", i.name))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}
