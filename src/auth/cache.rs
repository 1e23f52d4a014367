//! What authenticating a request reads, kept in the process so that a request needing no
//! data costs no database round trip: tenants by slug, API tokens' state by id (usable
//! until when, or refused), users' standing by id (active, role, email).
//!
//! Correct by eviction, bounded by time:
//! - Every change of something cached announces itself in its own transaction
//!   (`db::invalidations::announce`: a NOTIFY on PostgreSQL, delivered only if it commits),
//!   and the server that made it forgets the key once it has committed ([`AuthCache::forget`]),
//!   so the change holds on that server from its next request.
//! - On PostgreSQL every server LISTENs ([`AuthCache::follow`]) and forgets what other
//!   replicas announce. While the listener is not connected — before its first connect, after
//!   a drop — nothing is served from the cache nor put in it, and a reconnect starts from an
//!   empty cache: notices sent meanwhile are lost.
//! - A value read before an eviction is never stored after it (the epoch), so a request
//!   racing a change cannot put the old state back.
//! - Every entry is trusted for at most the TTL (60 s unless `BILLBRIDGE_AUTH_CACHE_SECS`
//!   says otherwise; 0 turns the cache off): the bound on staleness when a notice cannot
//!   arrive (a row changed by hand, a PostgreSQL proxy that drops notifications). An API
//!   token's entry also ends when its "last used" time is due to be written again, so that
//!   column stays accurate to the minute.
//! - Unknown tenants are not cached: only a token we signed names a tenant, so there is
//!   nothing for a stranger to fill, and creating a tenant needs no eviction. Each kind holds
//!   at most [`CAPACITY`] entries all the same.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

use super::Role;
use crate::db::entity::tenant;
pub use crate::db::invalidations::Key;
use crate::db::invalidations::Listener;
use crate::db::{Scope, api_tokens, tenants, users};
use crate::error::{AppError, AppResult};

/// How long an entry is trusted without a notice (`BILLBRIDGE_AUTH_CACHE_SECS`).
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);
/// The longest TTL accepted: revocation must reach a replica that missed a notice soon.
pub const MAX_TTL: Duration = Duration::from_secs(300);
/// Entries per kind; when full, expired entries go, and if none have, all of that kind.
pub(crate) const CAPACITY: usize = 10_000;

/// The first wait before reconnecting a listener that could not connect; doubled up to
/// [`RECONNECT_MAX`] while it keeps failing.
const RECONNECT_FIRST: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(30);

/// What an API token's row said.
#[derive(Clone, Copy, Debug, PartialEq)]
enum TokenState {
    Usable { expires_at: DateTime<Utc> },
    Refused,
}

/// A user who may sign in, as a session needs them.
#[derive(Clone, Debug, PartialEq)]
pub struct Standing {
    pub role: Role,
    pub email: String,
}

struct Entry<V> {
    value: V,
    until: Instant,
}

struct Shelves {
    /// Whether entries may be read and stored: not while a PostgreSQL listener is down.
    serving: bool,
    /// Bumped by every eviction and clear; a value read from the database under an older
    /// epoch is not stored.
    epoch: u64,
    tenants: HashMap<String, Entry<tenant::Model>>,
    tokens: HashMap<(i64, i64), Entry<TokenState>>,
    /// `None`: deactivated or gone.
    users: HashMap<(i64, i64), Entry<Option<Standing>>>,
}

/// Permission to store what is about to be read from the database: the epoch before the
/// read, or nothing while the cache is not serving.
#[derive(Clone, Copy)]
struct Ticket(Option<u64>);

pub struct AuthCache {
    ttl: Duration,
    /// Whether a listener must be connected before anything is served (PostgreSQL).
    follows: bool,
    shelves: RwLock<Shelves>,
    /// The listener's PostgreSQL backend while it is connected (0: none), for operators
    /// reading `pg_stat_activity`.
    listener: AtomicU32,
}

impl AuthCache {
    /// A cache trusting entries for `ttl` (zero: off). On PostgreSQL it serves only once
    /// [`follow`](Self::follow)'s listener is connected; elsewhere (one process) at once.
    pub fn new(backend: DbBackend, ttl: Duration) -> Self {
        let follows = backend == DbBackend::Postgres;
        AuthCache {
            ttl,
            follows,
            shelves: RwLock::new(Shelves {
                serving: !follows && !ttl.is_zero(),
                epoch: 0,
                tenants: HashMap::new(),
                tokens: HashMap::new(),
                users: HashMap::new(),
            }),
            listener: AtomicU32::new(0),
        }
    }

    /// Whether entries are being served (false while a PostgreSQL listener is down, or
    /// when the cache is off).
    pub fn serving(&self) -> bool {
        self.read().serving
    }

    /// The PostgreSQL backend process of the connected listener.
    pub fn listener_pid(&self) -> Option<u32> {
        match self.listener.load(Ordering::SeqCst) {
            0 => None,
            pid => Some(pid),
        }
    }

    /// The tenant named `slug`, if it exists.
    pub async fn tenant(
        &self,
        db: &DatabaseConnection,
        slug: &str,
    ) -> AppResult<Option<tenant::Model>> {
        let now = Instant::now();
        if let Some(found) = self.lookup(|s| fresh(&s.tenants, slug, now)) {
            return Ok(Some(found));
        }
        let ticket = self.ticket();
        let found = tenants::by_slug(db, slug).await?;
        if let Some(tenant) = &found {
            let until = Instant::now() + self.ttl;
            self.store(ticket, |s| {
                put(&mut s.tenants, slug.to_owned(), tenant.clone(), until)
            });
        }
        Ok(found)
    }

    /// Whether the API token `id` of the scope's tenant may be used (not revoked, not
    /// expired); notes its use as `api_tokens::check` does when its row is read.
    pub async fn check_token(&self, scope: &Scope, id: i64) -> AppResult<()> {
        let key = (scope.tenant_id(), id);
        let now = Instant::now();
        match self.lookup(|s| fresh(&s.tokens, &key, now)) {
            Some(TokenState::Usable { expires_at }) if expires_at > Utc::now() => return Ok(()),
            Some(_) => return Err(api_tokens::refused()),
            None => {}
        }
        let ticket = self.ticket();
        match api_tokens::check(scope, id).await {
            Ok(row) => {
                // Read again when "last used" is due to be written, so it stays exact.
                let touch_in = (api_tokens::next_touch(&row) - Utc::now())
                    .to_std()
                    .unwrap_or_default();
                let until = Instant::now() + self.ttl.min(touch_in);
                let state = TokenState::Usable {
                    expires_at: row.expires_at,
                };
                self.store(ticket, |s| put(&mut s.tokens, key, state, until));
                Ok(())
            }
            Err(AppError::Unauthenticated(message)) => {
                let until = Instant::now() + self.ttl;
                self.store(ticket, |s| {
                    put(&mut s.tokens, key, TokenState::Refused, until)
                });
                Err(AppError::Unauthenticated(message))
            }
            Err(other) => Err(other),
        }
    }

    /// The user `id` of the scope's tenant, if they may still sign in.
    pub async fn standing(&self, scope: &Scope, id: i64) -> AppResult<Option<Standing>> {
        let key = (scope.tenant_id(), id);
        let now = Instant::now();
        if let Some(standing) = self.lookup(|s| fresh(&s.users, &key, now)) {
            return Ok(standing);
        }
        let ticket = self.ticket();
        let standing = match users::get(scope, id).await {
            Ok(user) => user.active.then_some(Standing {
                role: user.role,
                email: user.email,
            }),
            Err(AppError::NotFound { .. }) => None,
            Err(other) => return Err(other),
        };
        let until = Instant::now() + self.ttl;
        self.store(ticket, |s| put(&mut s.users, key, standing.clone(), until));
        Ok(standing)
    }

    /// Drops what is cached under `key`: called by the server that changed it, once the
    /// change has committed, and by the listener for every replica's notice.
    pub fn forget(&self, key: Key) {
        let mut shelves = self.write();
        match key {
            Key::Token { tenant_id, id } => {
                shelves.tokens.remove(&(tenant_id, id));
            }
            Key::User { tenant_id, id } => {
                shelves.users.remove(&(tenant_id, id));
            }
        }
        shelves.epoch += 1;
    }

    /// On PostgreSQL (with the cache on), a task that LISTENs for every replica's notices
    /// and forgets what they name; it runs until aborted. `None` elsewhere.
    pub fn follow(self: &Arc<Self>, db: &DatabaseConnection) -> Option<JoinHandle<()>> {
        if !self.follows || self.ttl.is_zero() {
            return None;
        }
        let pool = db.get_postgres_connection_pool().clone();
        let cache = self.clone();
        Some(tokio::spawn(async move {
            let mut wait = RECONNECT_FIRST;
            loop {
                match Listener::connect(&pool).await {
                    Ok(mut listener) => {
                        let since = Instant::now();
                        cache.connected(listener.pid());
                        tracing::info!(
                            pid = listener.pid(),
                            "following authentication changes of every replica"
                        );
                        let lost = loop {
                            match listener.next().await {
                                Ok(Some(notice)) => cache.heard(listener.namespace(), &notice),
                                Ok(None) => break "the connection was closed".to_owned(),
                                Err(error) => break error.to_string(),
                            }
                        };
                        cache.disconnected();
                        tracing::warn!(
                            error = lost,
                            "lost the listener for authentication changes; not caching until it is back"
                        );
                        // Back soon after a long healthy connection; a flapping one backs off.
                        if since.elapsed() > RECONNECT_MAX {
                            wait = RECONNECT_FIRST;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, retry_in = ?wait, "cannot listen for authentication changes; not caching");
                    }
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RECONNECT_MAX);
            }
        }))
    }

    /// A notice from the channel: `<namespace> <key>`; other namespaces (another schema
    /// of the same database) are not ours.
    fn heard(&self, namespace: &str, notice: &str) {
        let key = notice
            .strip_prefix(namespace)
            .and_then(|rest| rest.strip_prefix(' '))
            .map(str::parse::<Key>);
        match key {
            Some(Ok(key)) => self.forget(key),
            Some(Err(error)) => tracing::warn!(notice, error, "an unreadable cache notice"),
            None => {}
        }
    }

    /// The listener is up: start empty (notices may have been missed) and serve.
    fn connected(&self, pid: u32) {
        let mut shelves = self.write();
        shelves.clear();
        shelves.serving = true;
        self.listener.store(pid, Ordering::SeqCst);
    }

    /// The listener is down: serve nothing until it is back.
    fn disconnected(&self) {
        let mut shelves = self.write();
        shelves.serving = false;
        shelves.clear();
        self.listener.store(0, Ordering::SeqCst);
    }

    fn lookup<T>(&self, find: impl FnOnce(&Shelves) -> Option<T>) -> Option<T> {
        let shelves = self.read();
        if shelves.serving {
            find(&shelves)
        } else {
            None
        }
    }

    fn ticket(&self) -> Ticket {
        let shelves = self.read();
        Ticket(shelves.serving.then_some(shelves.epoch))
    }

    /// Stores what was read under `ticket`, unless an eviction or a clear came since.
    fn store(&self, ticket: Ticket, put: impl FnOnce(&mut Shelves)) {
        let mut shelves = self.write();
        if shelves.serving && ticket.0 == Some(shelves.epoch) {
            put(&mut shelves);
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Shelves> {
        self.shelves.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Shelves> {
        self.shelves.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl Shelves {
    fn clear(&mut self) {
        self.tenants.clear();
        self.tokens.clear();
        self.users.clear();
        self.epoch += 1;
    }
}

fn fresh<K, Q, V>(shelf: &HashMap<K, Entry<V>>, key: &Q, now: Instant) -> Option<V>
where
    K: Borrow<Q> + Hash + Eq,
    Q: Hash + Eq + ?Sized,
    V: Clone,
{
    shelf
        .get(key)
        .filter(|entry| entry.until > now)
        .map(|entry| entry.value.clone())
}

/// Stores an entry, keeping the shelf within [`CAPACITY`].
fn put<K: Hash + Eq, V>(shelf: &mut HashMap<K, Entry<V>>, key: K, value: V, until: Instant) {
    if shelf.len() >= CAPACITY && !shelf.contains_key(&key) {
        let now = Instant::now();
        shelf.retain(|_, entry| entry.until > now);
        if shelf.len() >= CAPACITY {
            shelf.clear();
        }
    }
    shelf.insert(key, Entry { value, until });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usable() -> TokenState {
        TokenState::Usable {
            expires_at: Utc::now() + chrono::Duration::hours(1),
        }
    }

    fn cached(cache: &AuthCache, key: (i64, i64)) -> Option<TokenState> {
        cache.lookup(|s| fresh(&s.tokens, &key, Instant::now()))
    }

    fn remember(cache: &AuthCache, ticket: Ticket, key: (i64, i64), state: TokenState) {
        let until = Instant::now() + cache.ttl;
        cache.store(ticket, |s| put(&mut s.tokens, key, state, until));
    }

    #[test]
    fn keys_travel_as_text() {
        for key in [
            Key::Token {
                tenant_id: 3,
                id: 17,
            },
            Key::User {
                tenant_id: 1,
                id: 9_000_000_000,
            },
        ] {
            assert_eq!(key.to_string().parse::<Key>(), Ok(key));
        }
        for bad in ["", "token 1", "token 1 2 3", "token a 2", "tenant 1 2"] {
            assert!(bad.parse::<Key>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_value_read_before_an_eviction_is_not_stored() {
        let cache = AuthCache::new(DbBackend::Sqlite, DEFAULT_TTL);
        let ticket = cache.ticket();
        // The change commits and is forgotten while the old row is on its way.
        cache.forget(Key::Token {
            tenant_id: 1,
            id: 2,
        });
        remember(&cache, ticket, (1, 2), usable());
        assert_eq!(cached(&cache, (1, 2)), None);
        // Read after the eviction, it is kept.
        remember(&cache, cache.ticket(), (1, 2), TokenState::Refused);
        assert_eq!(cached(&cache, (1, 2)), Some(TokenState::Refused));
        cache.forget(Key::Token {
            tenant_id: 1,
            id: 2,
        });
        assert_eq!(cached(&cache, (1, 2)), None);
    }

    #[test]
    fn nothing_is_served_or_stored_while_the_listener_is_down() {
        let cache = AuthCache::new(DbBackend::Postgres, DEFAULT_TTL);
        assert!(!cache.serving(), "not before the listener connects");
        remember(&cache, cache.ticket(), (1, 2), usable());
        assert_eq!(cached(&cache, (1, 2)), None);

        cache.connected(42);
        assert_eq!(cache.listener_pid(), Some(42));
        remember(&cache, cache.ticket(), (1, 2), usable());
        assert!(matches!(
            cached(&cache, (1, 2)),
            Some(TokenState::Usable { .. })
        ));

        let ticket = cache.ticket();
        cache.disconnected();
        assert_eq!(cached(&cache, (1, 2)), None, "dropped with the listener");
        remember(&cache, ticket, (1, 3), usable());
        cache.connected(43);
        assert_eq!(cached(&cache, (1, 2)), None, "a reconnect starts empty");
        assert_eq!(
            cached(&cache, (1, 3)),
            None,
            "read while down, never stored"
        );
    }

    #[test]
    fn notices_of_another_namespace_are_ignored() {
        let cache = AuthCache::new(DbBackend::Postgres, DEFAULT_TTL);
        cache.connected(1);
        remember(&cache, cache.ticket(), (1, 2), TokenState::Refused);
        cache.heard("public", "t_other token 1 2");
        cache.heard("public", "publicx token 1 2");
        cache.heard("public", "public garbage");
        assert!(cached(&cache, (1, 2)).is_some());
        cache.heard("public", "public user 1 2");
        assert!(cached(&cache, (1, 2)).is_some(), "a user is not a token");
        cache.heard("public", "public token 1 2");
        assert_eq!(cached(&cache, (1, 2)), None);
    }

    #[test]
    fn entries_expire_and_an_off_cache_keeps_nothing() {
        let cache = AuthCache::new(DbBackend::Sqlite, DEFAULT_TTL);
        let past = Instant::now() - Duration::from_millis(1);
        cache.store(cache.ticket(), |s| {
            put(&mut s.tokens, (1, 2), TokenState::Refused, past)
        });
        assert_eq!(cached(&cache, (1, 2)), None);

        let off = AuthCache::new(DbBackend::Sqlite, Duration::ZERO);
        assert!(!off.serving());
        remember(&off, off.ticket(), (1, 2), TokenState::Refused);
        assert_eq!(cached(&off, (1, 2)), None);
    }

    #[test]
    fn a_shelf_never_holds_more_than_its_capacity() {
        let mut shelf = HashMap::new();
        let later = Instant::now() + DEFAULT_TTL;
        let past = Instant::now() - Duration::from_millis(1);
        for id in 0..CAPACITY as i64 {
            put(
                &mut shelf,
                (1, id),
                (),
                if id % 2 == 0 { past } else { later },
            );
        }
        assert_eq!(shelf.len(), CAPACITY);
        // Full: the expired half goes.
        put(&mut shelf, (2, 0), (), later);
        assert_eq!(shelf.len(), CAPACITY / 2 + 1);
        // Full of live entries: all go.
        for id in 0..CAPACITY as i64 {
            put(&mut shelf, (3, id), (), later);
        }
        assert!(shelf.len() <= CAPACITY, "{}", shelf.len());
    }
}
