//! Integration tests: the real server over HTTP, on SQLite (and PostgreSQL when
//! `TEST_DATABASE_URL` is set).

mod accounts;
mod audit;
mod auth;
mod auth_cache;
mod bench;
mod catalog;
mod common;
mod conditions;
mod connectwise;
mod contract;
mod database;
mod demo;
mod http_spec;
mod import;
mod input;
mod latest_usage;
mod limits;
mod loaders;
mod logs;
mod mappings;
mod order;
mod ownership;
mod preview;
mod psa;
mod push;
mod scheduler;
mod schema;
mod sessions;
mod tenancy;
mod tokens;
mod users;
mod web;
mod webhooks;
mod ws;
