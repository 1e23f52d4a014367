//! The GraphQL API: schema assembly, one file per feature, DataLoaders and guards.
//! Resolvers translate only; the rules live in `db/` and `domain/`.

mod accounts;
mod guard;
mod http;
mod input;
mod levels;
mod loaders;
mod mappings;
mod plans;
mod services;

use async_graphql::{Context, EmptySubscription, MergedObject, Schema};

pub use http::{graphiql, graphql_get, graphql_post};
pub use loaders::Loaders;

use crate::auth::Viewer;
use crate::db::Scope;

#[derive(MergedObject, Default)]
pub struct Query(
    services::ServiceQuery,
    plans::PlanQuery,
    levels::LevelQuery,
    mappings::MappingQuery,
    accounts::AccountQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    services::ServiceMutation,
    plans::PlanMutation,
    levels::LevelMutation,
    mappings::MappingMutation,
    accounts::AccountMutation,
);

pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// Limits that keep one request from costing the server more than a page load should.
const MAX_DEPTH: usize = 12;
const MAX_COMPLEXITY: usize = 5_000;
const MAX_DIRECTIVES: usize = 16;

pub fn schema() -> AppSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_directives(MAX_DIRECTIVES)
        .finish()
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    schema().sdl()
}

/// The tenant scope of the request (set by the HTTP handler after authentication).
fn scope<'a>(ctx: &Context<'a>) -> &'a Scope {
    ctx.data_unchecked::<Scope>()
}

fn viewer<'a>(ctx: &Context<'a>) -> &'a Viewer {
    ctx.data_unchecked::<Viewer>()
}

fn loaders<'a>(ctx: &Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}
