//! Levels: the case-sensitive names a mapping bills at.

use async_graphql::{
    Context, ContextSelectionSet, Enum, ID, InputObject, Object, Result, SimpleObject,
};
use chrono::{DateTime, Utc};

use super::audit;
use super::guard::MinRole;
use super::now::{Json, Plain};
use super::{input, loaders, scope};
use crate::auth::Role;
use crate::db::entity::level;
use crate::db::levels;
use crate::domain::LevelSource as DomainSource;

pub struct Level(pub level::Model);

/// A level's own columns (`now`); its cross-references must be loaded.
pub(crate) struct LevelFields<'a>(pub &'a level::Model);

impl Plain for LevelFields<'_> {
    type Of = Level;

    fn field(&self, name: &str, _: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
        let level = self.0;
        match name {
            "id" => out.id(level.id),
            "name" => out.str(&level.name),
            "createdAt" => out.time(&level.created_at),
            _ => None,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LevelSource {
    /// Typed in by a user.
    Manual,
    /// Read from the ConnectWise cross-references.
    Connectwise,
}

#[Object]
impl Level {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// Exactly as ConnectWise must hold it: case-sensitive.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Where the level came from.
    async fn source(&self) -> LevelSource {
        match self.0.source {
            DomainSource::Manual => LevelSource::Manual,
            DomainSource::ConnectWise => LevelSource::Connectwise,
        }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// What ConnectWise bills this level as, per vendor type (empty until `syncLevels`,
    /// or when ConnectWise has no cross-reference for it).
    async fn cross_references(&self, ctx: &Context<'_>) -> Result<Vec<LevelCrossReference>> {
        Ok(loaders(ctx)
            .cross_references_of_level
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|x| LevelCrossReference {
                vendor_type: x.vendor_type,
                agreement_type_id: x.agreement_type_id.map(ID::from),
                agreement_type_name: x.agreement_type_name,
                product_id: x.product_id.map(ID::from),
                product_identifier: x.product_identifier,
                active: !x.inactive,
            })
            .collect())
    }
}

/// A row of the ConnectWise cross-reference table for this level.
#[derive(SimpleObject)]
pub(crate) struct LevelCrossReference {
    /// The metric type, e.g. `BackupUsage`.
    pub vendor_type: String,
    /// The ConnectWise agreement type the addition goes on.
    pub agreement_type_id: Option<ID>,
    pub agreement_type_name: Option<String>,
    /// The ConnectWise catalog product of the addition.
    pub product_id: Option<ID>,
    pub product_identifier: Option<String>,
    pub active: bool,
}

#[derive(InputObject)]
pub struct CreateLevelInput {
    /// Kept exactly as typed (case-sensitive).
    pub name: String,
}

#[derive(Default)]
pub struct LevelQuery;

#[Object]
impl LevelQuery {
    async fn levels(&self, ctx: &Context<'_>) -> Result<Vec<Level>> {
        Ok(levels::list(scope(ctx))
            .await?
            .into_iter()
            .map(Level)
            .collect())
    }
}

#[derive(Default)]
pub struct LevelMutation;

#[Object]
impl LevelMutation {
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn create_level(&self, ctx: &Context<'_>, input: CreateLevelInput) -> Result<Level> {
        let name = input::exact("name", &input.name)?;
        let level = audit::audited(ctx, |scope| async move {
            let level = levels::create(&scope, name, DomainSource::Manual).await?;
            let summary = format!("created level {:?}", level.name);
            let entry = audit::entry("level", "create", Some(level.id), summary);
            Ok((level, entry))
        })
        .await?;
        Ok(Level(level))
    }

    /// Refused while a mapping uses the level.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn delete_level(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let key = input::id("id", &id)?;
        audit::audited(ctx, |scope| async move {
            levels::delete(&scope, key).await?;
            let summary = format!("deleted level {key}");
            Ok(((), audit::entry("level", "delete", Some(key), summary)))
        })
        .await?;
        Ok(id)
    }
}
