//! Levels: the case-sensitive names a mapping bills at.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use super::guard::MinRole;
use super::{input, scope};
use crate::auth::Role;
use crate::db::entity::level;
use crate::db::levels;
use crate::domain::LevelSource as DomainSource;
use crate::error::AppError;

pub struct Level(pub level::Model);

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
    async fn source(&self) -> Result<LevelSource> {
        match self.0.source.parse::<DomainSource>() {
            Ok(DomainSource::Manual) => Ok(LevelSource::Manual),
            Ok(DomainSource::ConnectWise) => Ok(LevelSource::Connectwise),
            Err(e) => Err(AppError::internal("stored level source", e).into()),
        }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
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
        Ok(Level(
            levels::create(scope(ctx), name, DomainSource::Manual).await?,
        ))
    }

    /// Refused while a mapping uses the level.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn delete_level(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        levels::delete(scope(ctx), input::id("id", &id)?).await?;
        Ok(id)
    }
}
