//! A typed client for the ConnectWise Manage REST API: authentication, conditions, paging,
//! JSON Patch, retries. It owns ConnectWise's JSON; callers convert at this edge.

mod client;
pub mod conditions;
mod error;
pub mod model;

pub use client::{
    Call, CallObserver, Client, Credentials, DEFAULT_API_VERSION, DEFAULT_CODEBASE, ListQuery,
    Listed, PAGE_SIZE, Paging, Settings, base_url, company_info, normalize_codebase,
};
pub use error::Error;
