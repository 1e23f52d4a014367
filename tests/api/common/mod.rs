//! `TestApp`: the real server on 127.0.0.1:0 over a fresh database built by the real
//! migrations — a SQLite file, or a fresh PostgreSQL schema when `TEST_DATABASE_URL` is set.

use billbridge::app;
use billbridge::auth::Role;
use billbridge::auth::cache::AuthCache;
use billbridge::auth::jwt::JwtKeys;
use billbridge::connectwise::Settings;
use billbridge::crypto::MasterKey;
use billbridge::db;
use billbridge::limits::Limits;
use billbridge::psa::Psa;
use billbridge::push::{PushOptions, Pusher};
use billbridge::sandbox::{self, Sandbox};
use billbridge::state::AppState;
use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub const SECRET: &[u8] = b"test-secret-test-secret-test-secret!";
/// A key rotated out an hour ago, still in its grace period.
pub const ROTATED: &[u8] = b"rotated-secret-rotated-secret-rotated";
/// A key rotated out whose grace period has ended.
pub const RETIRED: &[u8] = b"retired-secret-retired-secret-retired";

pub struct TestApp {
    pub base: String,
    pub db: DatabaseConnection,
    pub client: reqwest::Client,
    keys: JwtKeys,
    /// A ConnectWise sandbox (demo seed) on its own port, and its site.
    pub sandbox: Sandbox,
    pub site: String,
    /// The server's pusher (its metrics, progress and options).
    #[allow(dead_code)]
    pub pusher: Pusher,
    /// The server's authentication cache.
    #[allow(dead_code)]
    pub auth: Arc<AuthCache>,
    /// How the database was opened, for replicas.
    options: ConnectOptions,
    limits: Limits,
    production: bool,
    statements: Arc<AtomicUsize>,
    /// The SQL of every statement, for explaining a count that went wrong.
    pub log: Arc<std::sync::Mutex<Vec<String>>>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
    _dir: Option<tempfile::TempDir>,
}

impl TestApp {
    /// A server with two tenants, `alpha` and `beta`.
    pub async fn start() -> TestApp {
        TestApp::start_with(Limits::default(), false).await
    }

    /// The same, with `limits`, and in production mode when `production`.
    pub async fn start_with(limits: Limits, production: bool) -> TestApp {
        let (options, dir) = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => (postgres_schema(&url).await, None),
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                (db::options(&url), Some(dir))
            }
        };
        let conn = db::connect(options.clone()).await.expect("connect");
        db::migrate(&conn).await.expect("migrate");
        let counted = Counted::new(conn);
        for slug in ["alpha", "beta"] {
            db::tenants::create(&counted.conn, slug, slug)
                .await
                .expect("tenant");
        }
        TestApp::serve(options, counted, limits, production, dir).await
    }

    /// A second server on the same database, as another replica would be: its own pool,
    /// statement count, sandbox and caches, the same keys and limits. Stop it like the first.
    #[allow(dead_code)]
    pub async fn replica(&self) -> TestApp {
        let conn = db::connect(self.options.clone()).await.expect("connect");
        let counted = Counted::new(conn);
        TestApp::serve(
            self.options.clone(),
            counted,
            self.limits.clone(),
            self.production,
            None,
        )
        .await
    }

    async fn serve(
        options: ConnectOptions,
        counted: Counted,
        limits: Limits,
        production: bool,
        dir: Option<tempfile::TempDir>,
    ) -> TestApp {
        let Counted {
            conn,
            statements,
            log,
        } = counted;
        let sandbox = Sandbox::new(&sandbox::Options::default());
        let site = sandbox
            .spawn(
                tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind sandbox"),
            )
            .expect("sandbox");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let psa = Psa::new(MasterKey::generate(), fast_settings());
        let state = AppState::standard(
            conn.clone(),
            JwtKeys::new(SECRET)
                .and_then(|k| k.accepting(ROTATED, chrono::Utc::now() + chrono::Duration::hours(1)))
                .and_then(|k| {
                    k.accepting(RETIRED, chrono::Utc::now() - chrono::Duration::minutes(1))
                })
                .expect("keys"),
            psa,
            fast_push(),
            &base,
        )
        .configure(limits.clone(), production);
        let pusher = state.pusher.clone();
        let auth = state.auth.clone();
        let server = tokio::spawn(async move {
            app::serve(listener, state, async {
                stopped.await.ok();
            })
            .await
            .expect("serve");
        });
        // On PostgreSQL the cache serves once its listener is connected: wait for it, so
        // every test starts from the server's steady state.
        if conn.get_database_backend() == DbBackend::Postgres && !limits.auth_cache.is_zero() {
            let waited = std::time::Instant::now();
            while !auth.serving() {
                assert!(
                    waited.elapsed() < Duration::from_secs(10),
                    "the authentication cache's listener did not connect"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        TestApp {
            base,
            db: conn,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            keys: JwtKeys::new(SECRET).expect("keys"),
            sandbox,
            site,
            pusher,
            auth,
            options,
            limits,
            production,
            statements,
            log,
            shutdown,
            server,
            _dir: dir,
        }
    }

    /// Stops the server as a signal would, and waits until `serve` has returned.
    #[allow(dead_code)]
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        self.server.await.expect("serve ended");
    }

    pub fn token(&self, tenant: &str, role: Role) -> String {
        self.keys
            .issue(
                tenant,
                role,
                &format!("{tenant}-{role}"),
                Duration::from_secs(600),
            )
            .expect("token")
    }

    /// An editor of `alpha`, the usual caller.
    pub fn editor(&self) -> String {
        self.token("alpha", Role::Editor)
    }

    /// The folder of the SQLite database (none on PostgreSQL).
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self._dir.as_ref().map(|d| d.path())
    }

    /// Statements run so far on the server's database.
    pub fn statements(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }

    /// POSTs one operation and returns the whole response body.
    pub async fn post(&self, token: &str, query: &str, variables: Value) -> Value {
        let text = self.text(token, query, variables).await;
        serde_json::from_str(&text).expect("json body")
    }

    /// An operation's answer as the server wrote it, byte for byte.
    pub async fn text(&self, token: &str, query: &str, variables: Value) -> String {
        let response = self
            .client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request");
        response.text().await.expect("a text body")
    }

    /// The data of an operation that must succeed.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.post(token, query, variables).await;
        assert!(
            body.get("errors").is_none(),
            "unexpected errors: {body:#}\nfor {query}"
        );
        body["data"].clone()
    }

    /// The first error of an operation that must fail.
    pub async fn err(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.post(token, query, variables).await;
        body["errors"][0].clone()
    }

    /// The `extensions.code` of an operation that must fail.
    pub async fn code(&self, token: &str, query: &str, variables: Value) -> String {
        let error = self.err(token, query, variables).await;
        error["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {error:#}"))
            .to_owned()
    }

    /// Connects `tenant` to the sandbox with the given keys (admin token).
    pub async fn connect_psa(&self, tenant: &str, public_key: &str, private_key: &str) -> Value {
        let admin = self.token(tenant, Role::Admin);
        self.ok(
            &admin,
            r#"mutation($input: ConnectPsaInput!) { connectPsa(input: $input) { site companyId publicKey hasPrivateKey clientId integration } }"#,
            json!({ "input": {
                "site": self.site, "companyId": sandbox::DEMO_COMPANY_ID, "publicKey": public_key,
                "privateKey": private_key, "clientId": "tests", "integration": sandbox::DEMO_INTEGRATION } }),
        )
        .await
    }

    pub async fn count(&self, table: &str) -> i64 {
        self.scalar(&format!("SELECT COUNT(*) AS v FROM {table}"))
            .await
    }

    /// The one value (named `v`) of a query's one row.
    pub async fn scalar<T: sea_orm::TryGetable>(&self, sql: &str) -> T {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                sql,
            ))
            .await
            .expect(sql)
            .expect("a row");
        row.try_get::<T>("", "v").expect("v")
    }
}

/// A connection whose statements are counted and logged.
struct Counted {
    conn: DatabaseConnection,
    statements: Arc<AtomicUsize>,
    log: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Counted {
    fn new(mut conn: DatabaseConnection) -> Counted {
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        conn.set_metric_callback(move |info| {
            counter.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut log) = sink.lock() {
                log.push(info.statement.sql.clone());
            }
        });
        Counted {
            conn,
            statements,
            log,
        }
    }
}

/// Timeouts and backoff short enough for tests, retries as in production.
pub fn fast_settings() -> Settings {
    Settings {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retries: 3,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(5),
    }
}

/// Push options for tests: small batches written often.
pub fn fast_push() -> PushOptions {
    PushOptions {
        concurrency: 4,
        lease: chrono::Duration::seconds(60),
        flush_every: Duration::from_millis(20),
        flush_lines: 10,
    }
}

/// A fresh schema in the PostgreSQL database named by `url`, so tests never share tables.
async fn postgres_schema(url: &str) -> sea_orm::ConnectOptions {
    let admin = db::connect(db::options(url))
        .await
        .expect("connect to TEST_DATABASE_URL");
    let schema = format!("t_{:016x}", rand::random::<u64>());
    admin
        .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create schema");
    admin.close().await.ok();
    let mut options = db::options(url);
    options.set_schema_search_path(schema).max_connections(5);
    options
}

/// Ids come back as strings; this takes one out of a response.
pub fn id(value: &Value) -> String {
    value.as_str().expect("id string").to_owned()
}

/// A service with one product ("Backup") reporting BackupUsage (GB) and Seats (count), and
/// two plans; returns (service, product, plan20, plan50) ids. Creates levels Gold and gold.
pub async fn catalogue(app: &TestApp, token: &str) -> (String, String, String, String) {
    let service = app
        .ok(
            token,
            r#"mutation { createService(input: {name: "Backup"}) { id } }"#,
            json!({}),
        )
        .await;
    let service = id(&service["createService"]["id"]);
    let product = app
        .ok(
            token,
            r#"mutation($s: ID!) { createProduct(input: {serviceId: $s, name: "Backup Plan", metrics: [
                {name: "Storage", crossReferenceType: "BackupUsage", unit: GB},
                {name: "Seats", crossReferenceType: "Seats", unit: COUNT}]}) { id } }"#,
            json!({ "s": service }),
        )
        .await;
    let product = id(&product["createProduct"]["id"]);
    let mut plans = Vec::new();
    for (unique_id, base) in [("P20", 20.0), ("P50", 50.0)] {
        let plan = app
            .ok(
                token,
                r#"mutation($p: ID!, $u: String!, $b: Float!) { createPlan(input: {productId: $p, uniqueId: $u, baseSizeGb: $b}) { id } }"#,
                json!({ "p": product, "u": unique_id, "b": base }),
            )
            .await;
        plans.push(id(&plan["createPlan"]["id"]));
    }
    for level in ["Gold", "gold", "Silver"] {
        app.ok(
            token,
            r#"mutation($n: String!) { createLevel(input: {name: $n}) { id } }"#,
            json!({ "n": level }),
        )
        .await;
    }
    (service, product, plans[0].clone(), plans[1].clone())
}

/// The demo tenant, connected to the app's sandbox, levels synced, accounts linked; returns
/// an editor token for it.
#[allow(dead_code)]
pub async fn demo(app: &TestApp) -> String {
    billbridge::demo::seed(&app.db).await.expect("demo seed");
    app.connect_psa("demo", sandbox::DEMO_PUBLIC_KEY, sandbox::DEMO_PRIVATE_KEY)
        .await;
    let editor = app.token("demo", Role::Editor);
    app.ok(
        &editor,
        "mutation { syncLevels { created } syncCompanies { linked } }",
        json!({}),
    )
    .await;
    editor
}

/// Whether a sandbox addition (as `/_sandbox/state` shows it) bills at `now`: not cancelled
/// from a past date, and started (a successor starts when the one it follows is cancelled
/// from). The demo holds both kinds.
#[allow(dead_code)]
pub fn bills_now(addition: &Value, now: chrono::DateTime<chrono::Utc>) -> bool {
    let date = |field: &str| {
        addition[field]
            .as_str()
            .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
    };
    date("cancelledDate").is_none_or(|d| d >= now) && date("effectiveDate").is_none_or(|d| d <= now)
}

/// The id of the metric of `service`'s products whose cross-reference type is `kind`.
pub async fn metric_id(app: &TestApp, token: &str, service: &str, kind: &str) -> String {
    let data = app
        .ok(
            token,
            "query($s: ID!) { service(id: $s) { products { metrics { id crossReferenceType } } } }",
            json!({ "s": service }),
        )
        .await;
    let metrics = data["service"]["products"]
        .as_array()
        .expect("products")
        .iter()
        .flat_map(|p| p["metrics"].as_array().expect("metrics").clone())
        .find(|m| m["crossReferenceType"] == kind)
        .expect(kind);
    id(&metrics["id"])
}
