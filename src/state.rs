//! `AppState`: what every handler shares — the database, the keys, the caches, the pusher,
//! the schemas and the rate limiters — and how it is assembled. Its own module, so `auth`
//! and `graphql` can take it without reaching into `app` (the router and `serve`).

use sea_orm::DatabaseConnection;
use std::ops::Deref;
use std::sync::Arc;

use crate::auth::Role;
use crate::auth::cache::AuthCache;
use crate::auth::jwt::JwtKeys;
use crate::auth::session::Throttle;
use crate::clock::{Clock, SystemClock};
use crate::graphql::{self, AppSchema};
use crate::limits::{Limits, Rate, RateLimiter};
use crate::metrics::Metrics;
use crate::psa::Psa;
use crate::push::{PushOptions, Pusher};
use crate::webhooks;

/// A handle on the shared state. Axum clones the state for every extractor and layer of
/// every request, so the handle is one pointer: cloning the fields themselves (the pusher
/// with its owner name, the schemas, the database) was a sixth of `{ __typename }`'s CPU.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Clone)]
pub struct Shared {
    pub db: DatabaseConnection,
    pub jwt: Arc<JwtKeys>,
    /// Tenants, API-token state and users' standing, so authenticating needs no database.
    pub auth: Arc<AuthCache>,
    /// Failed sign-ins, for throttling.
    pub throttle: Arc<Throttle>,
    /// Session cookies are marked Secure (production; behind TLS they are anyway).
    pub secure_cookies: bool,
    pub pusher: Pusher,
    pub schema: AppSchema,
    /// Without introspection and suggestions: for non-admins in production.
    pub restricted: Option<AppSchema>,
    pub limits: Limits,
    /// GraphQL requests per caller.
    pub requests: Arc<RateLimiter>,
    /// Sign-in attempts per client address.
    pub logins: Arc<RateLimiter>,
    /// ConnectWise calls made by reads, per tenant.
    pub connectwise_reads: Arc<RateLimiter>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, jwt: JwtKeys, pusher: Pusher) -> Self {
        let limits = Limits::default();
        let jwt = Arc::new(jwt);
        let reads = allowance(&db, "connectwise", limits.connectwise_reads_per_minute);
        let auth = Arc::new(AuthCache::new(db.get_database_backend(), limits.auth_cache));
        AppState(Arc::new(Shared {
            jwt: jwt.clone(),
            auth: auth.clone(),
            throttle: Arc::new(Throttle::new(&db)),
            secure_cookies: false,
            schema: graphql::schema_with(pusher.clone(), jwt, auth, reads.clone(), &limits, false),
            restricted: None,
            requests: allowance(&db, "requests", limits.requests_per_minute),
            logins: allowance(&db, "logins", limits.logins_per_minute),
            connectwise_reads: reads,
            db,
            limits,
            pusher,
        }))
    }

    /// Applies `limits`, and in production the hardening: Secure cookies, and neither
    /// introspection nor suggestions for non-admins.
    pub fn configure(mut self, limits: Limits, production: bool) -> Self {
        Arc::make_mut(&mut self.0).configure(limits, production);
        self
    }

    /// The schema `role` gets.
    pub fn schema_for(&self, role: Role) -> &AppSchema {
        match &self.restricted {
            Some(restricted) if role != Role::Admin => restricted,
            _ => &self.schema,
        }
    }

    /// The usual wiring: real clock, ConnectWise calls counted, and every finished run
    /// enqueued for its tenant's webhooks, its link under `public_url`.
    pub fn standard(
        db: DatabaseConnection,
        jwt: JwtKeys,
        psa: Psa,
        options: PushOptions,
        public_url: &str,
    ) -> Self {
        let metrics = Arc::new(Metrics::default());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let mut pusher = Pusher::new(db.clone(), psa, options, clock.clone(), metrics);
        pusher.on_finished = Some(webhooks::hook(public_url.to_owned(), clock));
        AppState::new(db, jwt, pusher)
    }
}

impl Shared {
    fn configure(&mut self, limits: Limits, production: bool) {
        self.secure_cookies = production;
        self.requests = allowance(&self.db, "requests", limits.requests_per_minute);
        self.logins = allowance(&self.db, "logins", limits.logins_per_minute);
        self.connectwise_reads =
            allowance(&self.db, "connectwise", limits.connectwise_reads_per_minute);
        self.auth = Arc::new(AuthCache::new(
            self.db.get_database_backend(),
            limits.auth_cache,
        ));
        let schema = |restricted| {
            graphql::schema_with(
                self.pusher.clone(),
                self.jwt.clone(),
                self.auth.clone(),
                self.connectwise_reads.clone(),
                &limits,
                restricted,
            )
        };
        self.schema = schema(false);
        self.restricted = production.then(|| schema(true));
        self.limits = limits;
    }
}

/// A per-minute allowance, shared by replicas on PostgreSQL.
fn allowance(db: &DatabaseConnection, name: &'static str, per_minute: u32) -> Arc<RateLimiter> {
    Arc::new(RateLimiter::for_database(
        db,
        name,
        Rate::per_minute(per_minute),
    ))
}
