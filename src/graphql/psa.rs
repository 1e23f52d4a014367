//! The tenant's ConnectWise connection: connect, test (with the permission report),
//! disconnect, and the syncs of levels and account links.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::guard::MinRole;
use super::levels::Level;
use super::{audit, budget};
use super::{input, psa_context, scope, viewer};
use crate::auth::Role;
use crate::connectwise;
use crate::db::entity::psa_connection;
use crate::db::{levels, psa};
use crate::error::AppError;

/// How billbridge reaches the tenant's ConnectWise. The private key is write-only: no field
/// returns it.
pub(crate) struct PsaConnection(psa_connection::Model);

#[Object]
impl PsaConnection {
    /// `api-na.myconnectwise.net`, or the sandbox's `http://127.0.0.1:PORT`.
    async fn site(&self) -> &str {
        &self.0.site
    }
    async fn company_id(&self) -> &str {
        &self.0.company_id
    }
    async fn public_key(&self) -> &str {
        &self.0.public_key
    }
    /// Whether a private key is stored (it is never shown).
    async fn has_private_key(&self) -> bool {
        !self.0.private_key_sealed.is_empty()
    }
    async fn client_id(&self) -> &str {
        &self.0.client_id
    }
    /// The managed devices integration whose cross-references define the levels.
    async fn integration(&self) -> &str {
        &self.0.integration
    }
    /// ConnectWise requests per second a push may make; `null` is unlimited.
    async fn max_requests_per_second(&self) -> Option<i32> {
        self.0.max_requests_per_second
    }
    /// The codebase ConnectWise named for the company (`GET /login/companyinfo`), e.g.
    /// `v2025_1`; billbridge calls `https://{site}/{codebase}/apis/3.0`. Asked again by
    /// `testPsaConnection`.
    async fn codebase(&self) -> Option<&str> {
        self.0.codebase.as_deref()
    }
    /// The model version pinned in every request's `Accept` header.
    async fn api_version(&self) -> &str {
        self.0
            .api_version
            .as_deref()
            .unwrap_or(connectwise::DEFAULT_API_VERSION)
    }
    async fn levels_synced_at(&self) -> Option<DateTime<Utc>> {
        self.0.levels_synced_at
    }
    async fn companies_synced_at(&self) -> Option<DateTime<Utc>> {
        self.0.companies_synced_at
    }
    async fn updated_by(&self) -> &str {
        &self.0.updated_by
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject)]
pub struct ConnectPsaInput {
    /// The ConnectWise host, e.g. `api-na.myconnectwise.net` (https), or
    /// `http://127.0.0.1:PORT` for a sandbox on this machine.
    pub site: String,
    /// The company ID you sign in to ConnectWise with.
    pub company_id: String,
    /// The API member's public key.
    pub public_key: String,
    /// The API member's private key; leave out to keep the stored one.
    pub private_key: Option<String>,
    /// Your integration's clientId from developer.connectwise.com.
    pub client_id: String,
    /// The name of the managed devices integration holding the cross-references.
    pub integration: String,
    /// ConnectWise requests per second a push may make (leave out for no limit).
    pub max_requests_per_second: Option<i32>,
    /// The ConnectWise model version to pin (`Accept: application/vnd.connectwise.com+json;
    /// version=…`), e.g. `2025.1`; leave out for billbridge's default.
    pub api_version: Option<String>,
}

/// One permission the push needs, as ConnectWise answered it.
#[derive(SimpleObject)]
pub(crate) struct PsaCheck {
    pub name: String,
    /// The security-role setting that grants it.
    pub permission: String,
    pub allowed: bool,
    pub message: Option<String>,
}

#[derive(SimpleObject)]
pub(crate) struct PsaTestReport {
    /// Reachable, authenticated and every check allowed.
    pub ok: bool,
    pub reachable: bool,
    pub authenticated: bool,
    pub message: String,
    pub checks: Vec<PsaCheck>,
}

#[derive(SimpleObject)]
pub(crate) struct SyncLevelsPayload {
    /// Levels that ConnectWise has and billbridge did not.
    pub created: i32,
    /// Levels typed here earlier that ConnectWise turned out to have.
    pub updated: i32,
    pub cross_references: i32,
    pub levels: Vec<Level>,
    /// Rows of ConnectWise's cross-reference table left out (no vendor type or level, or
    /// not readable), each named with why.
    pub warnings: Vec<String>,
}

#[derive(SimpleObject)]
pub(crate) struct SyncCompaniesPayload {
    pub linked: i32,
    pub not_found: i32,
    pub ambiguous: i32,
}

/// A release like `2025.1` (year, dot, number).
fn api_version_ok(version: &str) -> bool {
    let Some((year, release)) = version.split_once('.') else {
        return false;
    };
    year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && (1..=2).contains(&release.len())
        && release.chars().all(|c| c.is_ascii_digit())
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[derive(Default)]
pub struct PsaQuery;

#[Object]
impl PsaQuery {
    /// The ConnectWise connection, or `null` when there is none.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn psa_connection(&self, ctx: &Context<'_>) -> Result<Option<PsaConnection>> {
        Ok(psa::get(scope(ctx)).await?.map(PsaConnection))
    }
}

#[derive(Default)]
pub struct PsaMutation;

#[Object]
impl PsaMutation {
    /// Saves the connection (the private key sealed with AES-256-GCM) after asking the site
    /// where the company's API lives (`GET /login/companyinfo/{companyId}`, no credentials
    /// needed): a site that does not answer as ConnectWise is refused. `testPsaConnection`
    /// checks the credentials and permissions; `syncLevels` and `syncCompanies` use it.
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn connect_psa(
        &self,
        ctx: &Context<'_>,
        input: ConnectPsaInput,
    ) -> Result<PsaConnection> {
        let site = input::text("site", &input.site, input::SITE)?;
        connectwise::base_url(site, None)
            .map_err(|e| AppError::bad_input("site", e.to_string()))?;
        let api_version = match input
            .api_version
            .as_deref()
            .map(|v| input::text("apiVersion", v, input::SETTING).map(str::trim))
            .transpose()?
        {
            None | Some("") => None,
            Some(v) if api_version_ok(v) => Some(v.to_owned()),
            Some(_) => {
                return Err(AppError::bad_input(
                    "apiVersion",
                    "give a ConnectWise release such as 2025.1, or leave it out for the default",
                )
                .into());
            }
        };
        if let Some(key) = &input.private_key {
            input::text("privateKey", key, input::NAME)?;
        }
        let private_key = match input.private_key {
            Some(key) if key.trim().is_empty() => {
                return Err(AppError::bad_input(
                    "privateKey",
                    "must not be empty; leave it out to keep the stored one",
                )
                .into());
            }
            other => other.map(|k| k.trim().to_owned()),
        };
        let connection = psa::ConnectionInput {
            site: input.site.trim().trim_end_matches('/').to_owned(),
            company_id: input::name("companyId", &input.company_id)?,
            public_key: input::name("publicKey", &input.public_key)?,
            private_key,
            client_id: input::name("clientId", &input.client_id)?,
            integration: input::name("integration", &input.integration)?,
            max_requests_per_second: match input.max_requests_per_second {
                Some(n) if !(1..=1000).contains(&n) => {
                    return Err(AppError::bad_input(
                        "maxRequestsPerSecond",
                        "give 1 to 1000, or leave it out for no limit",
                    )
                    .into());
                }
                other => other,
            },
            codebase: None,
            api_version,
        };
        if connection.private_key.is_none() && psa::get(scope(ctx)).await?.is_none() {
            return Err(
                AppError::bad_input("privateKey", "is required for a new connection").into(),
            );
        }
        let (site, company) = (&connection.site, &connection.company_id);
        let codebase = budget::read(ctx, |counted| async move {
            counted.psa.discover(site, company).await
        })
        .await?;
        let connection = psa::ConnectionInput {
            codebase: Some(codebase),
            ..connection
        };
        let key_changed = connection.private_key.is_some();
        let (master_key, who) = (&psa_context(ctx).master_key, &viewer(ctx).subject);
        let saved = audit::audited(ctx, |scope| async move {
            let saved = psa::save(&scope, master_key, connection, who).await?;
            let summary = format!(
                "connected to {} as company {:?}, public key {:?}, integration {:?}{}",
                saved.site,
                saved.company_id,
                saved.public_key,
                saved.integration,
                if key_changed { ", new private key" } else { "" }
            );
            let entry = audit::entry("connection", "save", Some(saved.id), summary);
            Ok((saved, entry))
        })
        .await?;
        Ok(PsaConnection(saved))
    }

    /// Calls ConnectWise: reachability, credentials, then each permission the push needs.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn test_psa_connection(&self, ctx: &Context<'_>) -> Result<PsaTestReport> {
        let report = budget::read(
            ctx,
            |counted| async move { counted.psa.test(scope(ctx)).await },
        )
        .await?;
        Ok(PsaTestReport {
            ok: report.ok(),
            reachable: report.reachable,
            authenticated: report.authenticated,
            message: report.message,
            checks: report
                .checks
                .into_iter()
                .map(|c| PsaCheck {
                    name: c.name,
                    permission: c.permission.to_owned(),
                    allowed: c.allowed,
                    message: c.message,
                })
                .collect(),
        })
    }

    /// Forgets the connection, its private key, the synced cross-references and the
    /// account links. Levels and mappings stay.
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn disconnect_psa(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(audit::audited(ctx, |scope| async move {
            let existed = psa::delete(&scope).await?;
            let summary = "disconnected from ConnectWise".to_owned();
            let entry = existed.then(|| audit::entry("connection", "delete", None, summary));
            Ok((existed, entry))
        })
        .await?)
    }

    /// Reads the integration's cross-references into the levels.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn sync_levels(&self, ctx: &Context<'_>) -> Result<SyncLevelsPayload> {
        // ConnectWise is read before the transaction opens; only the writes wait in it.
        let read = budget::read(ctx, |counted| async move {
            counted.psa.read_levels(scope(ctx)).await
        })
        .await?;
        let sync = audit::audited(ctx, |scope| async move {
            let sync = read.store(&scope).await?;
            let summary = format!(
                "synced levels: {} created, {} updated, {} cross-references",
                sync.created, sync.updated, sync.cross_references
            );
            Ok((sync, audit::entry("level", "sync", None, summary)))
        })
        .await?;
        Ok(SyncLevelsPayload {
            created: count(sync.created),
            updated: count(sync.updated),
            cross_references: count(sync.cross_references),
            warnings: sync.warnings,
            levels: levels::list(scope(ctx))
                .await?
                .into_iter()
                .map(Level)
                .collect(),
        })
    }

    /// Links every account to its ConnectWise company (by Company ID or `echo_username`).
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn sync_companies(&self, ctx: &Context<'_>) -> Result<SyncCompaniesPayload> {
        let counts = budget::read(ctx, |counted| async move {
            counted.psa.sync_companies(scope(ctx)).await
        })
        .await?;
        Ok(SyncCompaniesPayload {
            linked: count(counts.linked),
            not_found: count(counts.not_found),
            ambiguous: count(counts.ambiguous),
        })
    }
}
