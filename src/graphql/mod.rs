//! The GraphQL API: schema assembly, one file per feature, DataLoaders and guards.
//! Resolvers translate only; the rules live in `db/` and `domain/`.

mod accounts;
mod audit;
mod guard;
mod http;
mod input;
mod levels;
mod loaders;
mod mappings;
mod plans;
mod psa;
mod push;
mod services;
mod tokens;
mod users;
mod webhooks;

use async_graphql::{Context, MergedObject, MergedSubscription, Schema, SchemaBuilder};

pub use http::{graphiql, graphql_get, graphql_post, graphql_ws};
pub use loaders::Loaders;

use crate::auth::Viewer;
use crate::auth::jwt::JwtKeys;
use crate::db::Scope;
use crate::psa::Psa;
use crate::push::Pusher;
use std::sync::Arc;

#[derive(MergedObject, Default)]
pub struct Query(
    services::ServiceQuery,
    plans::PlanQuery,
    levels::LevelQuery,
    mappings::MappingQuery,
    accounts::AccountQuery,
    psa::PsaQuery,
    push::PushQuery,
    users::UserQuery,
    tokens::TokenQuery,
    webhooks::WebhookQuery,
    audit::AuditQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    services::ServiceMutation,
    plans::PlanMutation,
    levels::LevelMutation,
    mappings::MappingMutation,
    accounts::AccountMutation,
    psa::PsaMutation,
    push::PushMutation,
    users::UserMutation,
    tokens::TokenMutation,
    webhooks::WebhookMutation,
);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

#[derive(MergedSubscription, Default)]
pub struct Subscription(push::PushSubscription);

/// Limits that keep one request from costing the server more than a page load should.
const MAX_DEPTH: usize = 12;
const MAX_COMPLEXITY: usize = 5_000;
const MAX_DIRECTIVES: usize = 16;

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_directives(MAX_DIRECTIVES)
}

/// The schema with what resolvers need beyond the request: the pusher (and its PSA
/// context) and the JWT keys.
pub fn schema_with(pusher: Pusher, jwt: Arc<JwtKeys>) -> AppSchema {
    builder().data(pusher).data(jwt).finish()
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
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

fn pusher<'a>(ctx: &Context<'a>) -> &'a Pusher {
    ctx.data_unchecked::<Pusher>()
}

fn psa_context<'a>(ctx: &Context<'a>) -> &'a Psa {
    &pusher(ctx).psa
}
