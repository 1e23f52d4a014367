//! The tenant's PSA (ConnectWise) connection, the cross-references synced for its levels,
//! and its accounts' links to ConnectWise companies.
//!
//! The private key is sealed here on the way in and opened only by `credentials`; no other
//! function returns it.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, IntoActiveModel, QueryFilter, Set, TransactionTrait};
use std::collections::HashMap;

use super::entity::{account, account_link, level, level_cross_reference, psa_connection};
use super::{Scope, levels};
use crate::connectwise::Credentials;
use crate::crypto::MasterKey;
use crate::domain::links::{Link, Via};
use crate::domain::{LevelSource, LinkState};
use crate::error::{AppError, AppResult};

/// The associated data a tenant's private key is sealed with.
fn owner(scope: &Scope) -> String {
    format!("billbridge/psa-private-key/tenant/{}", scope.tenant_id())
}

/// A tenant's ConnectWise connection as entered.
pub struct ConnectionInput {
    pub site: String,
    pub company_id: String,
    pub public_key: String,
    /// `None` keeps the stored one (so other fields can change without retyping it).
    pub private_key: Option<String>,
    pub client_id: String,
    pub integration: String,
    /// ConnectWise requests per second the push may make; `None` is unlimited.
    pub max_requests_per_second: Option<i32>,
    /// The codebase `companyinfo` named.
    pub codebase: Option<String>,
    /// The model version to pin; `None` for the client's default.
    pub api_version: Option<String>,
}

/// The tenant's ConnectWise connection, if any.
pub async fn get(scope: &Scope) -> AppResult<Option<psa_connection::Model>> {
    Ok(scope
        .select::<psa_connection::Entity>()
        .one(scope.db())
        .await?)
}

/// Saves the connection, sealing the private key.
pub(crate) async fn save(
    scope: &Scope,
    master: &MasterKey,
    input: ConnectionInput,
    who: &str,
) -> AppResult<psa_connection::Model> {
    let current = get(scope).await?;
    let sealed = match (input.private_key, &current) {
        (Some(key), _) => master.seal(&owner(scope), key.as_bytes()),
        (None, Some(current)) => current.private_key_sealed.clone(),
        (None, None) => {
            return Err(AppError::bad_input(
                "privateKey",
                "is required for a new connection",
            ));
        }
    };
    let now = Utc::now();
    match current {
        Some(current) => {
            let mut row = current.into_active_model();
            row.site = Set(input.site);
            row.company_id = Set(input.company_id);
            row.public_key = Set(input.public_key);
            row.private_key_sealed = Set(sealed);
            row.client_id = Set(input.client_id);
            row.integration = Set(input.integration);
            row.max_requests_per_second = Set(input.max_requests_per_second);
            row.codebase = Set(input.codebase);
            row.api_version = Set(input.api_version);
            row.updated_by = Set(who.to_owned());
            row.updated_at = Set(now);
            Ok(row.update(scope.db()).await?)
        }
        None => {
            let row = psa_connection::ActiveModel {
                site: Set(input.site),
                company_id: Set(input.company_id),
                public_key: Set(input.public_key),
                private_key_sealed: Set(sealed),
                client_id: Set(input.client_id),
                integration: Set(input.integration),
                max_requests_per_second: Set(input.max_requests_per_second),
                codebase: Set(input.codebase),
                api_version: Set(input.api_version),
                levels_synced_at: Set(None),
                companies_synced_at: Set(None),
                updated_by: Set(who.to_owned()),
                updated_at: Set(now),
                ..Default::default()
            };
            Ok(scope.insert(scope.db(), row).await?)
        }
    }
}

/// Records the codebase `companyinfo` names now (sites move to new releases).
pub(crate) async fn set_codebase(scope: &Scope, codebase: Option<String>) -> AppResult<()> {
    if let Some(connection) = get(scope).await? {
        let mut row = connection.into_active_model();
        row.codebase = Set(codebase);
        row.update(scope.db()).await?;
    }
    Ok(())
}

/// Removes the connection and what was learnt through it (cross-references, links).
pub async fn delete(scope: &Scope) -> AppResult<bool> {
    let txn = scope.db().begin().await?;
    scope
        .delete::<level_cross_reference::Entity>()
        .exec(&txn)
        .await?;
    scope.delete::<account_link::Entity>().exec(&txn).await?;
    let removed = scope.delete::<psa_connection::Entity>().exec(&txn).await?;
    txn.commit().await?;
    Ok(removed.rows_affected > 0)
}

/// The connection's credentials with the private key opened, or `None` when not connected.
/// What a client needs of the connection, with the private key opened.
pub struct Opened {
    pub credentials: Credentials,
    pub integration: String,
    pub max_requests_per_second: Option<i32>,
}

/// The connection with its private key opened, for the client.
pub async fn credentials(scope: &Scope, master: &MasterKey) -> AppResult<Option<Opened>> {
    let Some(connection) = get(scope).await? else {
        return Ok(None);
    };
    let private_key = master
        .open(&owner(scope), &connection.private_key_sealed)
        .map_err(|e| AppError::internal("opening the stored ConnectWise private key", e))?;
    let private_key = String::from_utf8(private_key)
        .map_err(|e| AppError::internal("stored ConnectWise private key", e))?;
    Ok(Some(Opened {
        credentials: Credentials {
            site: connection.site,
            company_id: connection.company_id,
            public_key: connection.public_key,
            private_key,
            client_id: connection.client_id,
            codebase: connection.codebase,
            api_version: connection.api_version,
        },
        integration: connection.integration,
        max_requests_per_second: connection.max_requests_per_second,
    }))
}

/// A cross-reference row as synced from ConnectWise.
#[derive(Clone, Debug)]
pub struct SyncedCrossReference {
    pub connectwise_id: i64,
    pub vendor_type: String,
    pub vendor_level: String,
    pub agreement_type_id: Option<i64>,
    pub agreement_type_name: Option<String>,
    pub product_id: Option<i64>,
    pub product_identifier: Option<String>,
    pub inactive: bool,
}

/// What `syncLevels` changed.
pub struct LevelSync {
    pub created: usize,
    pub updated: usize,
    pub cross_references: usize,
    /// Rows of ConnectWise's table left out, each named with why.
    pub warnings: Vec<String>,
}

/// Makes the tenant's levels and their cross-references what ConnectWise holds: a level
/// found there is created or marked as from ConnectWise; local levels stay (mappings may
/// use them) but lose cross-references ConnectWise no longer has.
pub(crate) async fn replace_cross_references(
    scope: &Scope,
    synced: Vec<SyncedCrossReference>,
) -> AppResult<LevelSync> {
    let local: HashMap<String, level::Model> = levels::list(scope)
        .await?
        .into_iter()
        .map(|l| (l.name.clone(), l))
        .collect();
    let now = Utc::now();
    let txn = scope.db().begin().await?;
    let mut ids: HashMap<String, i64> = HashMap::new();
    let (mut created, mut updated) = (0, 0);
    for name in synced.iter().map(|x| x.vendor_level.clone()) {
        if ids.contains_key(&name) {
            continue;
        }
        let id = match local.get(&name) {
            Some(existing) => {
                if existing.source != LevelSource::ConnectWise {
                    let mut row = existing.clone().into_active_model();
                    row.source = Set(LevelSource::ConnectWise);
                    row.update(&txn).await?;
                    updated += 1;
                }
                existing.id
            }
            None => {
                let row = level::ActiveModel {
                    name: Set(name.clone()),
                    source: Set(LevelSource::ConnectWise),
                    created_at: Set(now),
                    ..Default::default()
                };
                created += 1;
                scope.insert(&txn, row).await?.id
            }
        };
        ids.insert(name, id);
    }
    scope
        .delete::<level_cross_reference::Entity>()
        .exec(&txn)
        .await?;
    let count = synced.len();
    let rows: Vec<level_cross_reference::ActiveModel> = synced
        .into_iter()
        .filter_map(|x| {
            Some(level_cross_reference::ActiveModel {
                level_id: Set(*ids.get(&x.vendor_level)?),
                connectwise_id: Set(x.connectwise_id),
                vendor_type: Set(x.vendor_type),
                agreement_type_id: Set(x.agreement_type_id),
                agreement_type_name: Set(x.agreement_type_name),
                product_id: Set(x.product_id),
                product_identifier: Set(x.product_identifier),
                inactive: Set(x.inactive),
                synced_at: Set(now),
                ..Default::default()
            })
        })
        .collect();
    scope.insert_many(&txn, rows).await?;
    if let Some(connection) = get(scope).await? {
        let mut row = connection.into_active_model();
        row.levels_synced_at = Set(Some(now));
        row.update(&txn).await?;
    }
    txn.commit().await?;
    Ok(LevelSync {
        created,
        updated,
        cross_references: count,
        warnings: Vec::new(),
    })
}

/// The cross-references of these levels.
pub(crate) async fn cross_references_of_levels(
    scope: &Scope,
    level_ids: &[i64],
) -> AppResult<Vec<level_cross_reference::Model>> {
    Ok(scope
        .select::<level_cross_reference::Entity>()
        .filter(level_cross_reference::Column::LevelId.is_in(level_ids.iter().copied()))
        .all(scope.db())
        .await?)
}

/// Every cross-reference of the tenant's levels.
pub(crate) async fn all_cross_references(
    scope: &Scope,
) -> AppResult<Vec<level_cross_reference::Model>> {
    Ok(scope
        .select::<level_cross_reference::Entity>()
        .all(scope.db())
        .await?)
}

/// How many accounts a company sync linked, found nowhere, or found twice.
pub struct LinkCounts {
    pub linked: usize,
    pub not_found: usize,
    pub ambiguous: usize,
}

/// Replaces every account's link with the ones just computed.
pub(crate) async fn replace_links(
    scope: &Scope,
    links: Vec<(account::Model, Link)>,
) -> AppResult<LinkCounts> {
    let now = Utc::now();
    let mut counts = LinkCounts {
        linked: 0,
        not_found: 0,
        ambiguous: 0,
    };
    let rows: Vec<account_link::ActiveModel> = links
        .into_iter()
        .map(|(account, link)| {
            let mut row = account_link::ActiveModel {
                account_id: Set(account.id),
                synced_at: Set(now),
                via: Set(None),
                company_id: Set(None),
                company_identifier: Set(None),
                company_name: Set(None),
                ..Default::default()
            };
            match link {
                Link::Linked { company, via } => {
                    counts.linked += 1;
                    row.state = Set(LinkState::Linked);
                    row.via = Set(Some(via));
                    row.reason = Set(match via {
                        Via::CompanyId => format!("Company ID {:?}", company.identifier),
                        Via::EchoUsername => format!("echo_username of {:?}", company.identifier),
                    });
                    row.company_id = Set(Some(company.id));
                    row.company_identifier = Set(Some(company.identifier));
                    row.company_name = Set(Some(company.name));
                }
                Link::NotFound { reason } => {
                    counts.not_found += 1;
                    row.state = Set(LinkState::NotFound);
                    row.reason = Set(reason);
                }
                Link::Ambiguous { reason, .. } => {
                    counts.ambiguous += 1;
                    row.state = Set(LinkState::Ambiguous);
                    row.reason = Set(reason);
                }
            }
            row
        })
        .collect();
    let txn = scope.db().begin().await?;
    scope.delete::<account_link::Entity>().exec(&txn).await?;
    scope.insert_many(&txn, rows).await?;
    if let Some(connection) = get(scope).await? {
        let mut row = connection.into_active_model();
        row.companies_synced_at = Set(Some(now));
        row.update(&txn).await?;
    }
    txn.commit().await?;
    Ok(counts)
}

/// The links of these accounts.
pub(crate) async fn links_of_accounts(
    scope: &Scope,
    ids: &[i64],
) -> AppResult<Vec<account_link::Model>> {
    Ok(scope
        .select::<account_link::Entity>()
        .filter(account_link::Column::AccountId.is_in(ids.iter().copied()))
        .all(scope.db())
        .await?)
}

/// Every account link of the tenant.
pub(crate) async fn all_links(scope: &Scope) -> AppResult<Vec<account_link::Model>> {
    Ok(scope
        .select::<account_link::Entity>()
        .all(scope.db())
        .await?)
}
