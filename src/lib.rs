//! billbridge: maps a vendor's services, plans and products to ConnectWise Manage billing
//! levels, and pushes every customer's usage into the right agreement additions.

/// Accept-style request headers: their items and qualities.
pub mod accept;

/// The router, `serve(listener, shutdown)`, and `start` (the `serve` command's wiring).
pub mod app;
/// Who is asking: JWTs and the request's Viewer.
pub mod auth;
/// `billbridge bench push`: the push against a slow sandbox, measured.
pub mod bench;
/// The command line: serve, migrate, schema, token, tenant.
pub mod cli;
/// Injectable time for schedules and leases.
pub mod clock;
/// One typed configuration from flags and environment.
pub mod config;
/// The ConnectWise Manage REST client.
pub mod connectwise;
/// Secrets at rest: AES-256-GCM under the master key.
pub mod crypto;
/// Connecting, migrating, tenant scoping and every query.
pub mod db;
/// The demo tenant a newcomer starts with.
pub mod demo;
/// Billing rules as plain Rust.
pub mod domain;
/// Content codings: what a request accepts, and compressing an answer.
pub mod encoding;
/// AppError and its one mapping to GraphQL and HTTP.
pub mod error;
/// The GraphQL schema, one file per feature.
pub mod graphql;
/// Limits on GraphQL operations, request size and time, and request rates.
pub mod limits;
/// Prometheus counters for /metrics.
pub mod metrics;
/// A tenant's ConnectWise: connection test, level and company syncs.
pub mod psa;
/// The usage push: executor, scheduler.
pub mod push;
/// A ConnectWise Manage stand-in for the demo, the tests and the benchmarks.
pub mod sandbox;
/// `AppState`: what every handler shares, and how it is assembled.
pub mod state;
/// The embedded SPA.
pub mod web;
/// Signed `push_run.finished` events to tenants' URLs: enqueueing and the delivery worker.
pub mod webhooks;
