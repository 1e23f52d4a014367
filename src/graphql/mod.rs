//! The GraphQL API: schema assembly, one file per feature, DataLoaders and guards.
//! Resolvers translate only; the rules live in `db/` and `domain/`.

mod accounts;
mod audit;
mod budget;
mod codes;
mod cost;
mod guard;
mod http;
mod import;
mod input;
mod json;
mod levels;
mod lines;
mod loaders;
mod mappings;
mod media;
mod now;
mod order;
mod params;
mod plans;
mod prefetch;
mod psa;
mod push;
mod run;
mod services;
mod tokens;
mod users;
mod variables;
mod webhooks;
mod ws;

use async_graphql::{
    Context, MergedObject, MergedSubscription, Schema, SchemaBuilder, ValidationMode,
};

pub use http::{graphiql, graphql_get, graphql_post};
pub use loaders::{LazyLoaders, Loaders};
pub use ws::graphql_ws;

use crate::auth::Viewer;
use crate::auth::cache::AuthCache;
use crate::auth::jwt::JwtKeys;
use crate::db::Scope;
use crate::limits::{Limits, RateLimiter};
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
    import::ImportQuery,
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
    import::ImportMutation,
);

/// The schema, wrapped in the steps every operation goes through (`run`).
pub type AppSchema = run::Runner<Query, Mutation, Subscription>;

#[derive(MergedSubscription, Default)]
pub struct Subscription(push::PushSubscription);

/// The schema with async-graphql's own limits. Ours (fields and depth after spreading,
/// ConnectWise reads), the error codes and the answer's key order are steps around it
/// (`run`), not extensions. The depth is limited by `cost::Bounded` (with introspection's
/// `ofType` chains left out), not by async-graphql's `limit_depth`, which would refuse the
/// standard introspection query.
fn builder(limits: &Limits) -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_complexity(limits.complexity)
    .limit_directives(limits.directives)
}

/// The schema, within `limits`. A `restricted` one answers no introspection and makes no
/// "did you mean" suggestions: in production that is what non-admins get, so the API's
/// shape is not handed to anyone holding a token. Its twin that skips the validation rules
/// (for documents already validated, `run`) is built the same way when first needed.
pub fn schema_with(
    pusher: Pusher,
    jwt: Arc<JwtKeys>,
    auth: Arc<AuthCache>,
    reads: Arc<RateLimiter>,
    limits: &Limits,
    restricted: bool,
) -> AppSchema {
    let bounds = cost::Bounded {
        max_fields: limits.fields as u64,
        max_depth: limits.depth as u64,
    };
    let limits = limits.clone();
    let build = move |mode: ValidationMode| {
        let mut builder = builder(&limits)
            .validation_mode(mode)
            .data(pusher.clone())
            .data(jwt.clone())
            .data(auth.clone())
            .data(budget::Reads(reads.clone()))
            .data(import::ImportLimit(limits.import_bytes));
        if restricted {
            builder = builder.disable_introspection().disable_suggestions();
        }
        builder.finish()
    };
    let strict = build(ValidationMode::Strict);
    run::Runner::new(strict, move || build(ValidationMode::Fast), bounds)
}

pub fn sdl() -> String {
    builder(&Limits::default()).finish().sdl()
}

/// The tenant scope of the request (set by the HTTP handler after authentication).
fn scope<'a>(ctx: &Context<'a>) -> &'a Scope {
    ctx.data_unchecked::<Scope>()
}

fn viewer<'a>(ctx: &Context<'a>) -> &'a Viewer {
    ctx.data_unchecked::<Viewer>()
}

/// The server's authentication cache, for forgetting what a committed change made stale.
fn auth_cache<'a>(ctx: &Context<'a>) -> &'a AuthCache {
    ctx.data_unchecked::<Arc<AuthCache>>()
}

fn loaders<'a>(ctx: &Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<LazyLoaders>().get()
}

fn pusher<'a>(ctx: &Context<'a>) -> &'a Pusher {
    ctx.data_unchecked::<Pusher>()
}

fn psa_context<'a>(ctx: &Context<'a>) -> &'a Psa {
    &pusher(ctx).psa
}
