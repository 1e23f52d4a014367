//! SeaORM entities, one per table. They mirror `migration/`; they are not the API.

pub mod account;
pub mod billing_mapping;
pub mod level;
pub mod metric;
pub mod plan;
pub mod product;
pub mod service;
pub mod subscription;
pub mod tenant;
pub mod usage_sample;
