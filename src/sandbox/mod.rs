//! A ConnectWise Manage stand-in that speaks the same REST API, in memory, for the demo, the
//! tests and the benchmarks. The real ConnectWise is out of reach from our machines, so this
//! is held to the published contract: paths, Basic auth with `clientId`, security roles,
//! conditions, paging with `Link`, JSON Patch, error JSON, and 429 with `Retry-After`.

pub mod conditions;
pub mod customers;
pub mod schema;
mod seed;
mod server;
mod store;

pub use seed::{
    BACKUP_AGREEMENT, DEMO_COMPANY_ID, DEMO_INTEGRATION, DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY,
    EMAIL_AGREEMENT, LIMITED_PRIVATE_KEY, LIMITED_PUBLIC_KEY, PROSPECTS, WEB_AGREEMENT, hard_cases,
    more_customers,
};
pub use server::{ALIAS_CODEBASE, API_PREFIX, CODEBASE, Fault, VERSIONED_PREFIX};
pub use store::{Member, Store};

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// What the sandbox starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Seed {
    /// Only the demo API member.
    Empty,
    /// A ConnectWise matching the demo tenant.
    Demo,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub seed: Seed,
    pub latency: Duration,
    /// Requests per second before answering 429.
    pub rate_limit: Option<u32>,
    /// Chance in [0, 1] of answering 503.
    pub fail_rate: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: Seed::Demo,
            latency: Duration::ZERO,
            rate_limit: None,
            fail_rate: 0.0,
        }
    }
}

/// A running (or ready to run) sandbox; clones share one state.
#[derive(Clone)]
pub struct Sandbox {
    shared: Arc<server::Shared>,
}

impl Sandbox {
    pub fn new(options: &Options) -> Self {
        let mut store = Store::default();
        match options.seed {
            Seed::Empty => seed::members(&mut store),
            Seed::Demo => seed::demo(&mut store),
        }
        let faults = server::Faults {
            latency: options.latency,
            rate_limit: options.rate_limit,
            fail_rate: options.fail_rate,
            ..Default::default()
        };
        Sandbox {
            shared: Arc::new(server::Shared {
                store: Mutex::new(store),
                faults: Mutex::new(faults),
                waits: server::Waits::default(),
            }),
        }
    }

    pub fn router(&self) -> axum::Router {
        server::router(self.shared.clone())
    }

    /// Serves on `listener` in the background; returns the site to connect to
    /// (`http://127.0.0.1:PORT`).
    pub fn spawn(&self, listener: TcpListener) -> std::io::Result<String> {
        let address = listener.local_addr()?;
        let router = self.router();
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "the ConnectWise sandbox stopped");
            }
        });
        Ok(format!("http://{address}"))
    }

    /// Reads or changes the state directly (tests and seeding).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.shared.store())
    }

    /// Answers every call after `latency`, on average: the sandbox makes up for its timer's
    /// rounding (a sleep of 20 ms lasts about 21).
    pub fn set_latency(&self, latency: Duration) {
        self.shared.faults().latency = latency;
    }

    pub fn set_rate_limit(&self, per_second: Option<u32>) {
        self.shared.faults().rate_limit = per_second;
    }

    /// Answers the next matching calls with `fault.status` instead.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults().queued.push_back(fault);
    }

    /// Answers delayed by the latency so far, and how long they waited in all.
    pub fn waited(&self) -> (u64, Duration) {
        self.shared.waits.so_far()
    }

    /// Calls made so far, by `METHOD /path/{id}`.
    pub fn calls(&self) -> std::collections::BTreeMap<String, u64> {
        self.shared.store().calls.clone()
    }
}
