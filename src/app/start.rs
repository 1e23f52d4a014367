//! `billbridge serve` once the command line is read: the state wired the usual way, the
//! demo tenant and its sandbox when asked, the scheduler and the webhook delivery worker in
//! the background, then [`super::serve`] until Ctrl-C or SIGTERM.

use anyhow::Context;
use sea_orm::DatabaseConnection;
use std::net::SocketAddr;
use std::time::Duration;

use crate::auth::Role;
use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::limits::Limits;
use crate::psa::Psa;
use crate::push::PushOptions;
use crate::push::scheduler::Scheduler;
use crate::state::AppState;
use crate::{demo, sandbox, webhooks};

/// How often each replica looks for due schedule slots and abandoned runs.
const SCHEDULER_TICK: Duration = Duration::from_secs(15);

/// What the server starts from: the configuration and what the command line built from it.
pub struct Start {
    pub config: Config,
    pub keys: JwtKeys,
    pub psa: Psa,
    /// Connected and migrated.
    pub db: DatabaseConnection,
    pub limits: Limits,
    /// `--demo`: where the ConnectWise sandbox the demo tenant is connected to listens, and
    /// how many accounts the demo has.
    pub demo: Option<Demo>,
}

/// The demo tenant a server starts with.
pub struct Demo {
    pub sandbox_listen: SocketAddr,
    /// Accounts in all: the demo's 50, and more made like them (`demo::more`).
    pub accounts: usize,
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(start: Start) -> anyhow::Result<()> {
    let Start {
        config,
        keys,
        psa,
        mut db,
        limits,
        demo: with_demo,
    } = start;
    // Before any clone is made: the count covers every statement the server runs.
    let statements = crate::metrics::count_statements(&mut db);
    let state = AppState::standard(
        db.clone(),
        keys,
        psa,
        PushOptions::default(),
        &config.public_url,
    )
    .configure(limits, config.production);
    state.pusher.metrics.report_statements(statements);
    let demo_token = match with_demo {
        Some(Demo {
            sandbox_listen,
            accounts,
        }) => {
            if demo::seed(&db).await.context("creating the demo tenant")? {
                let tenant = crate::db::tenants::by_slug(&db, demo::TENANT)
                    .await?
                    .context("the demo tenant is missing")?;
                let scope = crate::db::Scope::new(db.clone(), &tenant);
                demo::more::accounts(&scope, accounts)
                    .await
                    .context("adding the demo's accounts")?;
            }
            let listener = tokio::net::TcpListener::bind(sandbox_listen)
                .await
                .with_context(|| format!("starting the ConnectWise sandbox on {sandbox_listen}"))?;
            let sandbox = sandbox::Sandbox::new(&sandbox::Options::default());
            // The sandbox is in memory: its companies for the accounts beyond the demo's are
            // made again at every start.
            let more = demo::more::names(accounts);
            sandbox.with_store(|store| sandbox::more_customers(store, &more));
            let site = sandbox.spawn(listener)?;
            let synced = demo::connect_sandbox(&db, &state.pusher.psa, &site)
                .await
                .context("connecting the demo tenant to the sandbox")?;
            println!("ConnectWise sandbox: {site} (demo tenant connected: {synced})");
            Some(state.jwt.issue(
                demo::TENANT,
                Role::Admin,
                "demo",
                Duration::from_secs(12 * 3600),
            )?)
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, "billbridge is serving");
    println!("billbridge is serving http://{address}  (GraphQL: /graphql, GraphiQL: /graphiql)");
    if let Some(token) = demo_token {
        println!(
            "\nDemo tenant `demo` is ready. Sign in at http://{address}/ with tenant `{}`, {} / {}.\n\
             For GraphiQL and scripts, an admin API token (valid 12 hours):\n\n{token}\n\n\
             Later tokens: billbridge token --tenant demo --role admin\n",
            demo::TENANT,
            demo::ADMIN_EMAIL,
            demo::ADMIN_PASSWORD,
        );
    }
    let scheduler = Scheduler {
        pusher: state.pusher.clone(),
        tick: SCHEDULER_TICK,
    };
    tokio::spawn(scheduler.run());
    let deliveries = webhooks::Worker::new(
        state.db.clone(),
        state.pusher.psa.master_key.clone(),
        state.pusher.clock.clone(),
        webhooks::Settings::default(),
    )
    .context("starting the webhook delivery worker")?;
    tokio::spawn(deliveries.run());
    super::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
