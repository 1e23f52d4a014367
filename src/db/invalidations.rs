//! Changes of cached authentication state, told to every replica (`auth::cache`): a
//! NOTIFY on the `billbridge_auth` channel, sent inside the change's transaction so it is
//! delivered only if the change commits, and a LISTENing connection per server.
//!
//! A notice reads `<schema> <key>` (`public token 3 17`): servers on another schema of the
//! same database (another deployment, a parallel test) hear it and ignore it. SQLite has one
//! server process, which evicts directly; nothing is sent there.

use sea_orm::sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use std::fmt;
use std::str::FromStr;

/// Something cached that can change, as announced between replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// An API token's row: revoked? expired?
    Token { tenant_id: i64, id: i64 },
    /// A user's standing: active? role?
    User { tenant_id: i64, id: i64 },
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Token { tenant_id, id } => write!(f, "token {tenant_id} {id}"),
            Key::User { tenant_id, id } => write!(f, "user {tenant_id} {id}"),
        }
    }
}

impl FromStr for Key {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let mut parts = text.split(' ');
        let (Some(kind), Some(tenant_id), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("{text:?} is not `<kind> <tenant> <id>`"));
        };
        let number = |n: &str| n.parse::<i64>().map_err(|_| format!("{n:?} is not an id"));
        let (tenant_id, id) = (number(tenant_id)?, number(id)?);
        match kind {
            "token" => Ok(Key::Token { tenant_id, id }),
            "user" => Ok(Key::User { tenant_id, id }),
            other => Err(format!("unknown kind {other:?}")),
        }
    }
}

/// The PostgreSQL channel notices travel on.
const CHANNEL: &str = "billbridge_auth";

/// The schema this connection's statements use, as notices name it.
const NAMESPACE: &str = "coalesce(current_schema(), '')";

/// Tells every replica that what is cached under `key` changed. Run it on the change's
/// transaction: PostgreSQL delivers the notice at commit, and drops it on rollback.
pub(crate) async fn announce(db: &impl ConnectionTrait, key: Key) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!("SELECT pg_notify($1, {NAMESPACE} || ' ' || $2)"),
        [CHANNEL.into(), key.to_string().into()],
    ))
    .await?;
    Ok(())
}

/// A connection of its own (outside the pool, so it takes none of the requests'
/// connections) that LISTENs on [`CHANNEL`].
pub struct Listener {
    inner: PgListener,
    pid: u32,
    namespace: String,
}

impl Listener {
    /// Connects with the pool's options and starts listening. The namespace is read on the
    /// pool, whose connections carry the configured search path.
    pub async fn connect(pool: &PgPool) -> Result<Listener, sea_orm::sqlx::Error> {
        let namespace =
            sea_orm::sqlx::query_scalar::<_, String>("SELECT coalesce(current_schema(), '')")
                .fetch_one(pool)
                .await?;
        let own = PgPoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(pool.connect_options().as_ref().clone())
            .await?;
        let mut inner = PgListener::connect_with(&own).await?;
        // A lost connection is reported, not silently replaced: notices were missed.
        inner.eager_reconnect(false);
        let pid = sea_orm::sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
            .fetch_one(&mut inner)
            .await?;
        inner.listen(CHANNEL).await?;
        Ok(Listener {
            inner,
            pid: u32::try_from(pid).unwrap_or_default(),
            namespace,
        })
    }

    /// The PostgreSQL backend process of the connection.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The schema whose notices are ours.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The next notice, or `None` once the connection is lost.
    pub async fn next(&mut self) -> Result<Option<String>, sea_orm::sqlx::Error> {
        Ok(self
            .inner
            .try_recv()
            .await?
            .map(|notice| notice.payload().to_owned()))
    }
}
