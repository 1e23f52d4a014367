//! SeaORM entities, one per table. They mirror `migration/`; they are not the API.

pub mod account;
pub mod account_link;
pub mod api_token;
pub mod audit_event;
pub mod billing_mapping;
pub mod level;
pub mod level_cross_reference;
pub mod metric;
pub mod owned_addition;
pub mod plan;
pub mod product;
pub mod psa_connection;
pub mod push_line;
pub mod push_run;
pub mod push_schedule;
pub mod push_settings;
pub mod push_slot;
pub mod service;
pub mod state;
pub mod subscription;
pub mod tenant;
pub mod usage_sample;
pub mod user;
pub mod webhook;
pub mod webhook_attempt;
pub mod webhook_delivery;
