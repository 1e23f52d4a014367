//! A typed client for the ConnectWise Manage REST API: authentication, conditions, paging,
//! JSON Patch, retries. It owns ConnectWise's JSON; callers convert at this edge.

mod client;
pub mod conditions;
mod error;
pub mod model;

pub use client::{CallObserver, Client, Credentials, ListQuery, PAGE_SIZE, Settings, base_url};
pub use error::Error;
