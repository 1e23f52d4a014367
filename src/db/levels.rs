//! Levels: the case-sensitive names that must match a ConnectWise cross-reference.

use chrono::Utc;
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, Set};

use std::collections::HashSet;

use super::entity::{billing_mapping, level};
use super::{Scope, psa};
use crate::domain::{LevelSource, levels::suggest};
use crate::error::{AppError, AppResult};

/// Every level, in byte order of the name on every engine (collations differ on case).
pub async fn list(scope: &Scope) -> AppResult<Vec<level::Model>> {
    let mut all = scope.select::<level::Entity>().all(scope.db()).await?;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

/// The levels with these ids.
pub(crate) async fn by_ids(scope: &Scope, ids: &[i64]) -> AppResult<Vec<level::Model>> {
    Ok(scope
        .select::<level::Entity>()
        .filter(level::Column::Id.is_in(ids.iter().copied()))
        .all(scope.db())
        .await?)
}

/// Adds a level; its name is unique in the tenant.
pub async fn create(scope: &Scope, name: String, source: LevelSource) -> AppResult<level::Model> {
    let exists = scope
        .select::<level::Entity>()
        .filter(level::Column::Name.eq(name.as_str()))
        .count(scope.db())
        .await?;
    if exists > 0 {
        return Err(AppError::Conflict(format!("level {name:?} already exists")));
    }
    let row = level::ActiveModel {
        name: Set(name),
        source: Set(source),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(scope.insert(scope.db(), row).await?)
}

/// Deletes a level.
pub async fn delete(scope: &Scope, id: i64) -> AppResult<()> {
    let current = scope
        .get::<level::Entity, _>(scope.db(), id)
        .await?
        .ok_or_else(|| AppError::not_found("level", id))?;
    let used = scope
        .select::<billing_mapping::Entity>()
        .filter(billing_mapping::Column::LevelId.eq(id))
        .count(scope.db())
        .await?;
    if used > 0 {
        return Err(AppError::Conflict(format!(
            "level {:?} is used by {used} billing mapping(s)",
            current.name
        )));
    }
    scope
        .delete::<level::Entity>()
        .filter(level::Column::Id.eq(id))
        .exec(scope.db())
        .await?;
    Ok(())
}

/// The level named exactly `typed` (case-sensitive), or a `BAD_USER_INPUT` naming it, with
/// the level the user most likely meant. With a PSA connection only levels that have an
/// active ConnectWise cross-reference count: anything else would never bill.
pub(crate) async fn resolve(scope: &Scope, typed: &str) -> AppResult<level::Model> {
    let mut all = list(scope).await?;
    if let Some(connection) = psa::get(scope).await? {
        if connection.levels_synced_at.is_none() {
            return Err(AppError::bad_input(
                "level",
                format!(
                    "level {typed:?} cannot be checked: the levels of ConnectWise have not been synced yet; run syncLevels (Settings › Sync levels) first"
                ),
            ));
        }
        let referenced: HashSet<i64> = psa::all_cross_references(scope)
            .await?
            .into_iter()
            .filter(|x| !x.inactive)
            .map(|x| x.level_id)
            .collect();
        all.retain(|l| referenced.contains(&l.id));
        if let Some(found) = all.iter().find(|l| l.name == typed) {
            return Ok(found.clone());
        }
        return Err(match suggest(typed, all.iter().map(|l| l.name.as_str())) {
            Some(near) => AppError::did_you_mean(
                "level",
                format!(
                    "level {typed:?} has no cross-reference in ConnectWise (levels are case-sensitive); did you mean {near:?}?"
                ),
                near,
            ),
            None => AppError::bad_input(
                "level",
                format!(
                    "level {typed:?} has no cross-reference in ConnectWise's {:?} integration; add one there and run syncLevels",
                    connection.integration
                ),
            ),
        });
    }
    if let Some(found) = all.iter().find(|l| l.name == typed) {
        return Ok(found.clone());
    }
    if let Some(near) = suggest(typed, all.iter().map(|l| l.name.as_str())) {
        return Err(AppError::did_you_mean(
            "level",
            format!(
                "level {typed:?} does not exist (levels are case-sensitive); did you mean {near:?}?"
            ),
            near,
        ));
    }
    let message = if all.is_empty() {
        format!("level {typed:?} does not exist; this tenant has no levels yet (createLevel)")
    } else {
        format!(
            "level {typed:?} does not exist; known levels: {}",
            all.iter()
                .take(20)
                .map(|l| format!("{:?}", l.name))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(AppError::bad_input("level", message))
}
