//! The command line: `serve` (wired and started by `app::start`), `migrate`, `schema`,
//! `token`, `tenant`, `sandbox`, `push`, `import usage` and `bench` (`push`, `api`,
//! `import`).

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use sea_orm::DatabaseConnection;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

use crate::app::start;
use crate::auth::Role;
use crate::auth::jwt::JwtKeys;
use crate::config::{self, Config};
use crate::crypto::MasterKey;
use crate::domain::RunTrigger;
use crate::limits::Limits;
use crate::psa::Psa;
use crate::push::PushOptions;
use crate::{connectwise, db, graphql, sandbox, webhooks};

/// `billbridge import usage`: the dry run printed, and the import with `--commit`.
mod import;
/// What `billbridge push` prints when its run ends, and its exit status.
mod report;

/// Where `serve` listens unless told otherwise.
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The author the audit log names for changes made from the command line.
const CLI_ACTOR: &str = "cli";

#[derive(Parser)]
#[command(
    name = "billbridge",
    version,
    about = "Bill a vendor's usage into ConnectWise Manage agreement additions."
)]
struct Cli {
    /// Where generated secrets and the default SQLite database are kept.
    #[arg(
        long,
        env = "BILLBRIDGE_DATA_DIR",
        default_value = "data",
        global = true
    )]
    data_dir: PathBuf,
    /// Log lines as JSON instead of human-readable text.
    #[arg(long, env = "BILLBRIDGE_LOG_JSON", global = true)]
    log_json: bool,
    /// Production mode: secrets must come from the environment, none are generated.
    #[arg(long, env = "BILLBRIDGE_PRODUCTION", global = true)]
    production: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run migrations, then serve the GraphQL API, the web app and the health checks.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DbArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Print a signed API token for integrators and scripts.
    Token(TokenArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage a tenant's people.
    #[command(subcommand)]
    User(UserCommand),
    /// Run the ConnectWise sandbox: the same REST API, in memory.
    Sandbox(SandboxArgs),
    /// Push a tenant's usage to ConnectWise now (for operators who prefer cron).
    Push(PushArgs),
    /// Import from a vendor's export.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Measure: `bench push` pushes thousands of accounts to a slow sandbox; `bench api`
    /// drives the GraphQL API's reads.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Args)]
struct PushArgs {
    #[arg(long)]
    tenant: String,
    /// Only this service (its id); all services when left out.
    #[arg(long)]
    service: Option<i64>,
    /// Plan and record the lines without writing to ConnectWise.
    #[arg(long)]
    dry_run: bool,
    /// The server's address for browsers, for the run's link in webhook events (the
    /// server delivers them). Default: http:// and the server's listen address.
    #[arg(long, env = "BILLBRIDGE_PUBLIC_URL")]
    public_url: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Accounts, subscriptions and usage from a vendor's CSV usage export: prints the dry
    /// run (exit status 1 when the file has problems); writes only with `--commit`, all or
    /// nothing.
    Usage(ImportArgs),
}

#[derive(Args)]
struct ImportArgs {
    /// The CSV file (UTF-8, comma or semicolon, a header row).
    file: PathBuf,
    #[arg(long)]
    tenant: String,
    /// The service: its id or its name.
    #[arg(long)]
    service: String,
    /// `saved`: the service's saved column mapping; or a JSON mapping file (README:
    /// Imports), saved for the service by `--commit`.
    #[arg(long, default_value = "saved")]
    mapping: String,
    /// Write it (after the dry run finds no problem).
    #[arg(long)]
    commit: bool,
    /// Rows printed in full.
    #[arg(long, default_value_t = 20)]
    lines: usize,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Push N accounts to an in-process sandbox answering every call after a delay.
    Push {
        #[arg(long, default_value_t = 10_000)]
        accounts: usize,
        #[arg(long, default_value_t = 20)]
        latency_ms: u64,
        /// ConnectWise calls in flight at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// Serve the demo tenant scaled up (SQLite or PostgreSQL) and drive read shapes at it:
    /// rps, p50, p99, CPU and statements per request.
    Api(Box<crate::bench::ApiArgs>),
    /// Import a generated CSV export of N rows (N/5 accounts × 5 metrics, one value a row)
    /// into a fresh database: dry run, commit and re-import, timed, with peak memory.
    Import {
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        /// A PostgreSQL server (a fresh database is created on it); a temporary SQLite
        /// file when left out.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// A plain axum JSON handler, the floor `bench api` measures `{ __typename }` against.
    #[command(hide = true)]
    Plain {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
}

#[derive(Args)]
struct SandboxArgs {
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// Delay every answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Requests per second before answering 429 (e.g. `10` or `10/s`).
    #[arg(long, value_parser = parse_rate)]
    rate_limit: Option<u32>,
    /// Chance in [0, 1] of answering 503.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    fail_rate: f64,
    #[arg(long, value_enum, default_value = "demo")]
    seed: sandbox::Seed,
}

fn parse_rate(text: &str) -> Result<u32, String> {
    text.trim_end_matches("/s")
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{text:?}: give requests per second, e.g. 10 or 10/s"))
}

fn parse_probability(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|p| (0.0..=1.0).contains(p))
        .ok_or_else(|| format!("{text:?}: give a probability from 0 to 1, e.g. 0.05"))
}

#[derive(Args)]
struct DbArgs {
    /// SQLite (`sqlite://path/to/file.db`) or PostgreSQL (`postgres://user@host/db`).
    /// Default: a SQLite file in the data folder.
    #[arg(long, env = "BILLBRIDGE_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, env = "BILLBRIDGE_LISTEN", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// The address browsers use to reach this server; webhook events link to runs under it.
    /// Default: http:// and the listen address.
    #[arg(long, env = "BILLBRIDGE_PUBLIC_URL")]
    public_url: Option<String>,
    #[command(flatten)]
    db: DbArgs,
    /// Create (once) the `demo` tenant with services, plans, mappings and accounts, and
    /// connect it to a ConnectWise sandbox started in this process.
    #[arg(long)]
    demo: bool,
    /// Where the demo's ConnectWise sandbox listens (with `--demo`).
    #[arg(long, default_value = "127.0.0.1:0")]
    sandbox_listen: SocketAddr,
    /// Accounts the demo tenant gets when it is created (with `--demo`): the demo's 50,
    /// and more made like them, each with a ConnectWise company — to try the Push page at
    /// MSP scale (2,000 accounts plan about 12,000 lines).
    #[arg(long, default_value_t = 50, requires = "demo", value_parser = clap::value_parser!(u32).range(50..=20_000))]
    demo_accounts: u32,
}

#[derive(Args)]
struct TokenArgs {
    /// The tenant's slug, e.g. `demo`.
    #[arg(long)]
    tenant: String,
    /// admin, editor or viewer.
    #[arg(long)]
    role: Role,
    /// How long the token is valid, e.g. `12h`, `30d`.
    #[arg(long, default_value = "30d")]
    ttl: humantime::Duration,
    /// Who the token is for; shown as the author of the changes made with it.
    #[arg(long, default_value = "cli")]
    subject: String,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. The password is asked for on a terminal (twice), or read as one line
    /// from standard input; never from an argument, which would land in shell history.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// admin, editor or viewer.
        #[arg(long)]
        role: Role,
        /// Shown in the web app; defaults to the email.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant.
    Add {
        /// Short name used in tokens and URLs: lowercase letters, digits and `-`.
        #[arg(long)]
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List tenants.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        Role::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_json);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    // Tasks still running (a request past the shutdown grace, the scheduler) are not
    // waited for: dropping the runtime would wait on a task that never yields.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Migrate(args) => {
            let db = open(&cli.data_dir, &args).await?;
            println!("migrations applied");
            db.close().await.ok();
            Ok(())
        }
        Command::Serve(args) => serve(&cli.data_dir, cli.production, args).await,
        Command::Token(args) => {
            let secret = jwt_secret(&cli.data_dir, cli.production)?;
            let db = open(&cli.data_dir, &args.db).await?;
            if db::tenants::by_slug(&db, &args.tenant).await?.is_none() {
                bail!(
                    "no tenant {:?}; `billbridge tenant list` shows them",
                    args.tenant
                );
            }
            let keys = JwtKeys::new(secret.expose())?;
            let ttl: Duration = args.ttl.into();
            println!(
                "{}",
                keys.issue(&args.tenant, args.role, &args.subject, ttl)?
            );
            Ok(())
        }
        Command::Tenant(TenantCommand::Add { slug, name, db }) => {
            check_slug(&slug)?;
            let db = open(&cli.data_dir, &db).await?;
            if db::tenants::by_slug(&db, &slug).await?.is_some() {
                bail!("tenant {slug:?} already exists");
            }
            let tenant = db::tenants::create(&db, &slug, name.trim()).await?;
            println!("created tenant {} ({})", tenant.slug, tenant.name);
            Ok(())
        }
        Command::Sandbox(args) => run_sandbox(args).await,
        Command::User(UserCommand::Add {
            tenant,
            email,
            role,
            name,
            db,
        }) => {
            let db = open(&cli.data_dir, &db).await?;
            let found = db::tenants::by_slug(&db, &tenant).await?.ok_or_else(|| {
                anyhow::anyhow!("no tenant {tenant:?}; `billbridge tenant list` shows them")
            })?;
            let password = read_password()?;
            let scope = db::Scope::new(db.clone(), &found);
            let new = db::users::NewUser {
                email: email.clone(),
                display_name: name.unwrap_or_else(|| email.trim().to_owned()),
                role,
                password_hash: crate::auth::password::new_hash("password", &password)
                    .map_err(|e| anyhow::anyhow!(e.message()))?,
            };
            // In the audit log like a user added through the API, with the CLI as author.
            let user = db::audit::audited(&scope, CLI_ACTOR, |scope| async move {
                let user = db::users::create(&scope, new).await?;
                let entry = db::audit::Change {
                    entity: "user",
                    verb: "create",
                    entity_id: Some(user.id.to_string()),
                    summary: format!("added user {} as {}", user.email, user.role),
                };
                Ok((user, entry))
            })
            .await
            .map_err(|e| anyhow::anyhow!(e.message()))?;
            println!("created {} ({}) in {}", user.email, user.role, found.slug);
            Ok(())
        }
        Command::Push(args) => push(&cli.data_dir, cli.production, args).await,
        Command::Bench(BenchCommand::Push {
            accounts,
            latency_ms,
            concurrency,
        }) => crate::bench::push(accounts, Duration::from_millis(latency_ms), concurrency).await,
        Command::Bench(BenchCommand::Api(args)) => crate::bench::api(*args).await,
        Command::Bench(BenchCommand::Import { rows, database_url }) => {
            crate::bench::import(rows, database_url.as_deref()).await
        }
        Command::Import(ImportCommand::Usage(args)) => {
            let db = open(&cli.data_dir, &args.db).await?;
            let found = db::tenants::by_slug(&db, &args.tenant)
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "no tenant {:?}; `billbridge tenant list` shows them",
                        args.tenant
                    )
                })?;
            let scope = db::Scope::new(db.clone(), &found);
            let options = import::Options {
                file: args.file,
                service: args.service,
                mapping: args.mapping,
                commit: args.commit,
                lines: args.lines,
                actor: CLI_ACTOR,
            };
            import::usage(&scope, options).await
        }
        Command::Bench(BenchCommand::Plain { listen }) => crate::bench::plain(listen).await,
        Command::Tenant(TenantCommand::List { db }) => {
            let db = open(&cli.data_dir, &db).await?;
            for tenant in db::tenants::all(&db).await? {
                println!("{}\t{}", tenant.slug, tenant.name);
            }
            Ok(())
        }
    }
}

/// A new password: prompted twice on a terminal, else one line of standard input.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            bail!("the two passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

fn check_slug(slug: &str) -> anyhow::Result<()> {
    let ok = !slug.is_empty()
        && slug.len() <= 63
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        bail!("--slug {slug:?}: use 1 to 63 lowercase letters, digits and '-'");
    }
    Ok(())
}

/// `billbridge push`: one run, in this process, with a progress bar on a terminal and a
/// summary at the end. Exit status: 0 succeeded, 2 partial, 1 failed or cancelled.
async fn push(data_dir: &Path, production: bool, args: PushArgs) -> anyhow::Result<()> {
    let listen = std::env::var("BILLBRIDGE_LISTEN")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_LISTEN.into());
    let listen: SocketAddr = listen
        .parse()
        .with_context(|| format!("BILLBRIDGE_LISTEN {listen:?}"))?;
    let public_url = config::public_url(args.public_url.clone(), listen)?;
    let db = open(data_dir, &args.db).await?;
    let tenant = db::tenants::by_slug(&db, &args.tenant)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no tenant {:?}; `billbridge tenant list` shows them",
                args.tenant
            )
        })?;
    let scope = db::Scope::new(db.clone(), &tenant);
    let psa = Psa::new(
        master_key(data_dir, production)?,
        connectwise::Settings::default(),
    );
    let pusher = crate::push::Pusher::new(
        db.clone(),
        psa,
        PushOptions::default(),
        std::sync::Arc::new(crate::clock::SystemClock),
        std::sync::Arc::new(crate::metrics::Metrics::default()),
    );
    let trigger = db::push::Trigger {
        kind: RunTrigger::Cli,
        by: std::env::var("USER")
            .map(|u| format!("cli:{u}"))
            .unwrap_or_else(|_| "cli".into()),
        slot_at: None,
    };
    let run = pusher
        .begin(&scope, args.service, args.dry_run, &trigger)
        .await
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} push run {msg} [{bar:40}] {pos}/{len} lines ({elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(run.id.to_string());
    let mut updates = pusher.progress.subscribe();
    let watcher = {
        let bar = bar.clone();
        let id = run.id;
        tokio::spawn(async move {
            while let Ok(update) = updates.recv().await {
                if update.id == id {
                    bar.set_length(update.total_lines as u64);
                    bar.set_position(
                        (update.done + update.unchanged + update.skipped + update.failed) as u64,
                    );
                }
            }
        })
    };
    let finished = pusher.execute(&scope, run.clone(), false).await;
    watcher.abort();
    bar.finish_and_clear();
    let run = match finished {
        Some(run) => {
            // This process has no hook (it could exit before a spawned task ran): the
            // deliveries are enqueued here, and a server's worker sends them.
            if let Err(e) = webhooks::enqueue(&scope, &run, &public_url, pusher.clock.now()).await {
                eprintln!("warning: webhook deliveries not enqueued: {}", e.message());
            }
            run
        }
        None => db::push::get(&scope, run.id)
            .await
            .map_err(|e| anyhow::anyhow!(e.message()))?,
    };
    report::push_run(&scope, &run).await
}

async fn run_sandbox(args: SandboxArgs) -> anyhow::Result<()> {
    let options = sandbox::Options {
        seed: args.seed,
        latency: Duration::from_millis(args.latency_ms),
        rate_limit: args.rate_limit,
        fail_rate: args.fail_rate,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    let router = sandbox::Sandbox::new(&options).router();
    println!(
        "ConnectWise sandbox on http://{address}{} (alias {}; {:?} seed)\n\
         site: http://{address}\ncompany ID: {}\npublic key: {}\nprivate key: {}\nclientId: any\n\
         codebase: http://{address}/login/companyinfo/{}\n\
         inspect what was written: http://{address}/_sandbox/state",
        sandbox::VERSIONED_PREFIX,
        sandbox::API_PREFIX,
        args.seed,
        sandbox::DEMO_COMPANY_ID,
        sandbox::DEMO_PUBLIC_KEY,
        sandbox::DEMO_PRIVATE_KEY,
        sandbox::DEMO_COMPANY_ID
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(start::shutdown_signal())
        .await?;
    Ok(())
}

fn master_key(data_dir: &Path, production: bool) -> anyhow::Result<MasterKey> {
    config::master_key(env("BILLBRIDGE_MASTER_KEY"), data_dir, production)
}

/// A non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

fn jwt_secret(data_dir: &Path, production: bool) -> anyhow::Result<config::Secret> {
    config::jwt_secret(env("BILLBRIDGE_JWT_SECRET"), data_dir, production)
}

/// Connects (creating the data folder for the default SQLite file) and migrates.
async fn open(data_dir: &Path, args: &DbArgs) -> anyhow::Result<DatabaseConnection> {
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("creating the data folder {}", data_dir.display()))?;
            config::default_database_url(data_dir)
        }
    };
    let db = db::connect(db::options(&url))
        .await
        .with_context(|| format!("connecting to the database ({})", redact(&url)))?;
    db::migrate(&db).await.context("applying migrations")?;
    Ok(db)
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn serve(data_dir: &Path, production: bool, args: ServeArgs) -> anyhow::Result<()> {
    let config = Config {
        listen: args.listen,
        database_url: args
            .db
            .database_url
            .clone()
            .unwrap_or_else(|| config::default_database_url(data_dir)),
        data_dir: data_dir.to_owned(),
        jwt_secret: jwt_secret(data_dir, production)?,
        previous_jwt_secret: config::previous_jwt_secret(
            env("BILLBRIDGE_JWT_PREVIOUS_SECRET"),
            env("BILLBRIDGE_JWT_PREVIOUS_UNTIL"),
        )?,
        public_url: config::public_url(args.public_url.clone(), args.listen)?,
        production,
    };
    if args.public_url.is_none() && (production || args.listen.ip().is_unspecified()) {
        tracing::warn!(
            public_url = config.public_url,
            "BILLBRIDGE_PUBLIC_URL is not set; links in webhook events may not work for their receivers"
        );
    }
    tracing::debug!(?config, "configuration");
    let mut keys = JwtKeys::new(config.jwt_secret.expose())?;
    if let Some((previous, until)) = &config.previous_jwt_secret {
        keys = keys.accepting(previous.expose(), *until)?;
        tracing::info!(until = %until.to_rfc3339(), "tokens signed with the previous JWT secret are accepted until then");
    }
    let psa = Psa::new(
        master_key(data_dir, production)?,
        connectwise::Settings::default(),
    );
    let db = open(data_dir, &args.db).await?;
    let limits = Limits::from_env(env)?;
    start::run(start::Start {
        config,
        keys,
        psa,
        db,
        limits,
        demo: args.demo.then_some(start::Demo {
            sandbox_listen: args.sandbox_listen,
            accounts: args.demo_accounts as usize,
        }),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://bill:s3cret@db.example/billbridge"),
            "postgres://bill:***@db.example/billbridge"
        );
        assert_eq!(
            redact("sqlite://data/billbridge.db"),
            "sqlite://data/billbridge.db"
        );
    }

    #[test]
    fn slugs() {
        assert!(check_slug("acme-msp").is_ok());
        assert!(check_slug("Acme").is_err());
        assert!(check_slug("").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
