//! `PostgresStore` (feature `postgres`): revocation and refresh tokens in a PostgreSQL database
//! several instances share, with the hot path — "is this jti denied?" — answered from an
//! in-process mirror.
//!
//! The mirror is fed by `LISTEN authn_denied`, whose `NOTIFY` is sent inside the revoking
//! transaction (delivered at commit), and kept honest by a poll: every `poll_interval`, and on
//! every (re)connect before the mirror is trusted again, the denials with a sequence above the
//! mirror's watermark are read (`NOTIFY` is not replayed to a listener that was away). Denials
//! are written one at a time under a transaction-level advisory lock, so sequences commit in
//! order and a watermark never skips one that commits late.
//!
//! **The guarantee:** a revocation committed at time T is enforced by every instance for
//! requests that start after T + `max_staleness` (default 1 s). Each successful poll marks the
//! mirror complete as of the poll's start; a request that finds the mirror older than
//! `max_staleness` asks the database instead, and when the database cannot answer, the request
//! gets 503 with `Retry-After`: a possibly revoked token is never accepted silently.
//!
//! All database work runs on a runtime of the store's own (one thread), so its connections do
//! not belong to an actix worker.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::future::BoxFuture;
use tokio_postgres::{AsyncMessage, NoTls};

use super::store::{Consumed, RefreshRecord, TokenHash, TokenStore};
use crate::users::{Attempts, Backoff, StoredUser, ThrottleKey, ThrottleStore, UserStore};
use crate::util::storage::StoreError;

/// The channel denials are announced on.
const CHANNEL: &str = "authn_denied";

/// The listener connection's `application_name`.
pub const LISTENER_NAME: &str = "authn-denylist-listener";

/// The advisory locks: one for migrations (instances starting together), one that orders
/// denials (their sequences commit in order, so a watermark never skips one).
const MIGRATION_LOCK: i64 = 0x6175_7468_6e00_0001;
const DENY_LOCK: i64 = 0x6175_7468_6e00_0002;

/// The versioned schema: each entry runs once, in order, in one transaction per start.
const MIGRATIONS: &[&str] = &[
    // 1: the denylist (with its sequence), refresh tokens, revoked families.
    "CREATE TABLE authn_denied (
        seq BIGSERIAL PRIMARY KEY,
        jti TEXT NOT NULL UNIQUE,
        until BIGINT NOT NULL
     );
     CREATE TABLE authn_refresh (
        hash BYTEA PRIMARY KEY,
        family TEXT NOT NULL,
        user_id TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        used BOOLEAN NOT NULL DEFAULT FALSE
     );
     CREATE INDEX authn_refresh_family ON authn_refresh (family);
     CREATE TABLE authn_revoked_families (
        family TEXT PRIMARY KEY,
        until BIGINT NOT NULL
     );",
    // 2: the login throttle (keys are SHA-256 of the login or address, never the text).
    "CREATE TABLE authn_throttle (
        key BYTEA PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_failure_ms BIGINT NOT NULL,
        blocked_until_ms BIGINT NOT NULL
     );",
    // 3: when a refresh token was first used (the optional reuse interval counts from it).
    "ALTER TABLE authn_refresh ADD COLUMN used_at BIGINT;",
    // 4: users behind DefaultUserService (claims as JSON text); API keys (hashes only).
    "CREATE TABLE authn_users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT,
        password_hash TEXT NOT NULL,
        claims TEXT NOT NULL DEFAULT '{}'
     );
     CREATE TABLE authn_api_keys (
        id TEXT PRIMARY KEY,
        secret_hash BYTEA NOT NULL,
        client TEXT NOT NULL,
        expires_at BIGINT,
        profile TEXT NOT NULL
     );
     CREATE INDEX authn_api_keys_client ON authn_api_keys (client);",
];

/// How a [`PostgresStore`] connects and how stale its mirror may get.
///
/// ```
/// use std::time::Duration;
/// use authn::jwt::PostgresOptions;
/// let options = PostgresOptions::default().max_staleness(Duration::from_millis(500));
/// assert_eq!(options.staleness(), Duration::from_millis(500));
/// ```
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    max_staleness: Duration,
    poll_interval: Duration,
    connect_timeout: Duration,
    query_timeout: Duration,
    pool_size: usize,
    reuse_interval: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_staleness: Duration::from_secs(1),
            poll_interval: Duration::from_millis(250),
            connect_timeout: Duration::from_secs(3),
            query_timeout: Duration::from_secs(2),
            pool_size: 8,
            reuse_interval: Duration::ZERO,
        }
    }
}

impl PostgresOptions {
    /// How old the mirror may be before requests ask the database (default 1 s): the bound
    /// of the guarantee.
    pub fn max_staleness(mut self, staleness: Duration) -> Self {
        self.max_staleness = staleness;
        self
    }

    /// How often the mirror is checked against the database besides notifications (default
    /// 250 ms; keep it well under the staleness).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The longest wait for a connection (default 3 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest a statement may take before the store reports the database unavailable
    /// (default 2 s): a request never waits longer.
    pub fn query_timeout(mut self, timeout: Duration) -> Self {
        self.query_timeout = timeout;
        self
    }

    /// Pooled connections (default 8).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// For how long after its first use a refresh token may be used again without counting as
    /// a replay (Auth0's and Cognito's grace for a client that retried a refresh whose answer
    /// it lost); off by default (zero): any second use revokes the family. Each use within the
    /// interval gets a successor; after it, a use is a replay as ever.
    pub fn refresh_reuse_interval(mut self, interval: Duration) -> Self {
        self.reuse_interval = interval;
        self
    }

    /// The staleness bound in force.
    pub fn staleness(&self) -> Duration {
        self.max_staleness
    }
}

/// The denials this process knows, complete as of `complete_at`.
#[derive(Default)]
struct Mirror {
    denied: HashMap<String, u64>,
    watermark: i64,
    complete_at: Option<Instant>,
}

struct Shared {
    pool: Pool,
    mirror: RwLock<Mirror>,
    options: PostgresOptions,
}

/// The store's own runtime; shut down without blocking when the store goes (it may be dropped
/// inside an async context, where a blocking shutdown panics).
struct Background(Option<tokio::runtime::Runtime>);

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// A [`TokenStore`] in PostgreSQL, shared by every instance of the app: revocations reach them
/// all within `max_staleness` (see the module documentation for the guarantee), refresh-token
/// rotation is one atomic statement across instances. Tables are prefixed `authn_`, created by
/// versioned migrations at start-up that tolerate instances starting together.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use authn::jwt::{Algorithm, JwtConfig, JwtKey, PostgresStore};
///
/// let store = PostgresStore::connect("postgres://authn@127.0.0.1/app").await?;
/// let config = JwtConfig::builder()
///     .key(JwtKey::hmac(Algorithm::HS256, &[7u8; 32])?)
///     .store(Arc::new(store))
///     .build()?;
/// # drop(config);
/// # Ok(()) }
/// ```
pub struct PostgresStore {
    shared: Arc<Shared>,
    runtime: tokio::runtime::Handle,
    _background: Arc<Background>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("options", &self.shared.options).finish_non_exhaustive()
    }
}

impl Clone for PostgresStore {
    fn clone(&self) -> Self {
        PostgresStore {
            shared: Arc::clone(&self.shared),
            runtime: self.runtime.clone(),
            _background: Arc::clone(&self._background),
        }
    }
}

fn unavailable(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::msg(format!("PostgreSQL {what}: {error}"))
}

/// A Unix time (seconds or milliseconds) as PostgreSQL's BIGINT, saturating: "never" stays the largest.
fn bigint(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl PostgresStore {
    /// Connects with the default [`PostgresOptions`], migrates, and loads the denylist. An
    /// unreachable database is an error here (within the connect timeout), never a hang.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        PostgresStore::connect_with(url, PostgresOptions::default()).await
    }

    /// The same with options.
    pub async fn connect_with(url: &str, options: PostgresOptions) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| unavailable("URL", e))?;
        config.connect_timeout(options.connect_timeout);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("authn-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::new("the PostgreSQL runtime", e))?;
        let handle = runtime.handle().clone();
        let background = Arc::new(Background(Some(runtime)));
        let manager =
            Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(options.pool_size)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(options.connect_timeout))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| unavailable("pool", e))?;
        let shared = Arc::new(Shared { pool, mirror: RwLock::default(), options });
        let started = Arc::clone(&shared);
        handle
            .spawn(async move {
                migrate(&started).await?;
                poll(&started).await
            })
            .await
            .map_err(|e| StoreError::new("PostgreSQL start-up", e))??;
        handle.spawn(listen(Arc::clone(&shared), config));
        Ok(PostgresStore { shared, runtime: handle, _background: background })
    }

    /// Runs `work` on the store's runtime, bounded by the query timeout; the store's own
    /// failures (the timeout, a lost task) come back as `E::from(StoreError)`.
    async fn run<T, E, F>(&self, what: &'static str, work: impl FnOnce(Arc<Shared>) -> F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: std::future::Future<Output = Result<T, E>> + Send + 'static,
    {
        let timeout = self.shared.options.query_timeout;
        let future = work(Arc::clone(&self.shared));
        let task = self.runtime.spawn(async move {
            tokio::time::timeout(timeout, future).await.unwrap_or_else(|_| Err(E::from(unavailable(what, "timed out"))))
        });
        task.await.map_err(|e| E::from(StoreError::new("PostgreSQL task", e)))?
    }

    /// Runs the app's own queries on the store's pool and runtime, bounded by the query
    /// timeout: an app that keeps its data in the same database shares the connections, and,
    /// like the store's, they belong to no actix worker (a connection made on a worker's runtime
    /// dies with it). An unreachable database, an exhausted pool or the timeout reach `work`'s
    /// caller as `E::from(StoreError)`; `work`'s own errors, such as a unique violation, as
    /// `work` returned them.
    ///
    /// ```no_run
    /// # async fn run(store: authn::jwt::PostgresStore) -> Result<(), authn::StoreError> {
    /// let todos: i64 = store
    ///     .with_client(|client| {
    ///         Box::pin(async move {
    ///             let row = client
    ///                 .query_one("SELECT COUNT(*) FROM todos", &[])
    ///                 .await
    ///                 .map_err(|e| authn::StoreError::new("todos", e))?;
    ///             Ok(row.get(0))
    ///         })
    ///     })
    ///     .await?;
    /// # let _ = todos; Ok(()) }
    /// ```
    pub async fn with_client<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'c> FnOnce(&'c mut tokio_postgres::Client) -> BoxFuture<'c, Result<T, E>> + Send + 'static,
    {
        self.run("query", move |shared| async move {
            let mut object = client(&shared).await?;
            work(&mut object).await
        })
        .await
    }

    /// Adds a user (the sign-up of an app whose users live here); `false` when the email is
    /// taken (the database's unique index decides, so two instances cannot both take it).
    pub async fn insert_user(&self, user: &StoredUser) -> Result<bool, StoreError> {
        let user = user.clone();
        let claims = serde_json::to_string(&user.claims).map_err(|e| StoreError::new("user claims", e))?;
        self.run("user", move |shared| async move {
            let client = client(&shared).await?;
            let inserted = client
                .execute(
                    "INSERT INTO authn_users (id, email, name, password_hash, claims) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT DO NOTHING",
                    &[&user.id, &user.email, &user.name, &user.password_hash, &claims],
                )
                .await
                .map_err(|e| unavailable("user", e))?;
            Ok(inserted == 1)
        })
        .await
    }

    /// Stores an API key (from [`crate::api_key::generate`]) with its client's profile.
    #[cfg(feature = "api-key")]
    #[cfg_attr(docsrs, doc(cfg(feature = "api-key")))]
    pub async fn insert_api_key(
        &self,
        key: &crate::api_key::StoredKey,
        profile: &crate::UserProfile,
    ) -> Result<(), StoreError> {
        let key = key.clone();
        let profile = serde_json::to_string(profile).map_err(|e| StoreError::new("API key profile", e))?;
        self.run("API key", move |shared| async move {
            let client = client(&shared).await?;
            let expires = key.expires_at.map(bigint);
            client
                .execute(
                    "INSERT INTO authn_api_keys (id, secret_hash, client, expires_at, profile) VALUES ($1, $2, $3, $4, $5)",
                    &[&key.id, &key.secret_hash.as_slice(), &key.client, &expires, &profile],
                )
                .await
                .map_err(|e| unavailable("API key", e))?;
            Ok(())
        })
        .await
    }

    /// Revokes an API key at once, on every instance (the next lookup does not find it).
    #[cfg(feature = "api-key")]
    #[cfg_attr(docsrs, doc(cfg(feature = "api-key")))]
    pub async fn revoke_api_key(&self, key_id: &str) -> Result<bool, StoreError> {
        let key_id = key_id.to_owned();
        self.run("API key", move |shared| async move {
            let client = client(&shared).await?;
            let deleted = client
                .execute("DELETE FROM authn_api_keys WHERE id = $1", &[&key_id])
                .await
                .map_err(|e| unavailable("API key", e))?;
            Ok(deleted == 1)
        })
        .await
    }

    fn mirror_is_fresh(&self) -> bool {
        let mirror = self.shared.mirror.read().unwrap_or_else(PoisonError::into_inner);
        mirror.complete_at.is_some_and(|at| at.elapsed() <= self.shared.options.max_staleness)
    }
}

async fn client(shared: &Shared) -> Result<deadpool_postgres::Object, StoreError> {
    shared.pool.get().await.map_err(|e| unavailable("connection", e))
}

/// Applies the migrations this database lacks, under an advisory lock: instances that start
/// together wait for each other instead of racing to create the same tables.
async fn migrate(shared: &Shared) -> Result<(), StoreError> {
    let mut client = client(shared).await?;
    let transaction = client.transaction().await.map_err(|e| unavailable("migration", e))?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|e| unavailable("migration", e))?;
    transaction
        .batch_execute("CREATE TABLE IF NOT EXISTS authn_schema_version (version INTEGER NOT NULL)")
        .await
        .map_err(|e| unavailable("migration", e))?;
    let row = transaction
        .query_one("SELECT COALESCE(MAX(version), 0) FROM authn_schema_version", &[])
        .await
        .map_err(|e| unavailable("migration", e))?;
    let current: i32 = row.get(0);
    let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    if current > known {
        return Err(StoreError::msg(format!(
            "the database's authn schema is version {current}, newer than this build knows ({known})"
        )));
    }
    for (version, statements) in MIGRATIONS.iter().enumerate().skip(usize::try_from(current).unwrap_or(0)) {
        transaction.batch_execute(statements).await.map_err(|e| unavailable("migration", e))?;
        let version = i32::try_from(version + 1).unwrap_or(i32::MAX);
        transaction
            .execute("INSERT INTO authn_schema_version (version) VALUES ($1)", &[&version])
            .await
            .map_err(|e| unavailable("migration", e))?;
    }
    transaction.commit().await.map_err(|e| unavailable("migration", e))
}

/// Reads the denials above the watermark into the mirror; marks it complete as of the start.
async fn poll(shared: &Shared) -> Result<(), StoreError> {
    let started = Instant::now();
    let client = client(shared).await?;
    catch_up(shared, &client, started).await
}

/// Reads, on `client`, the denials above the mirror's watermark; the mirror is then complete
/// as of `started` (taken before the query).
async fn catch_up(shared: &Shared, client: &tokio_postgres::Client, started: Instant) -> Result<(), StoreError> {
    let watermark = shared.mirror.read().unwrap_or_else(PoisonError::into_inner).watermark;
    let rows = client
        .query("SELECT seq, jti, until FROM authn_denied WHERE seq > $1 ORDER BY seq", &[&watermark])
        .await
        .map_err(|e| unavailable("denylist", e))?;
    let now = bigint(crate::util::clock::now());
    let mut mirror = shared.mirror.write().unwrap_or_else(PoisonError::into_inner);
    for row in rows {
        let (seq, jti, until): (i64, String, i64) = (row.get(0), row.get(1), row.get(2));
        mirror.watermark = mirror.watermark.max(seq);
        if until > now {
            mirror.denied.insert(jti, u64::try_from(until).unwrap_or(0));
        }
    }
    let now = u64::try_from(now).unwrap_or(0);
    mirror.denied.retain(|_, until| *until > now);
    mirror.complete_at = Some(mirror.complete_at.map_or(started, |at| at.max(started)));
    Ok(())
}

/// The listener: one connection of its own with `LISTEN`, resynced on every (re)connect,
/// polled every interval; reconnects with back-off when it drops. Runs for the store's life.
async fn listen(shared: Arc<Shared>, config: tokio_postgres::Config) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match listen_once(&shared, &config).await {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(error) => {
                tracing::warn!(%error, "PostgreSQL denylist listener lost; requests ask the database until it is back");
            }
        }
        // Meanwhile, the poll through the pool keeps the mirror complete when it can.
        let _ = tokio::time::timeout(shared.options.query_timeout, poll(&shared)).await;
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn listen_once(shared: &Shared, config: &tokio_postgres::Config) -> Result<(), StoreError> {
    let mut config = config.clone();
    // Named, so an operator (or a test) can tell the listener in pg_stat_activity.
    config.application_name(LISTENER_NAME);
    let (client, mut connection) = config.connect(NoTls).await.map_err(|e| unavailable("listener", e))?;
    let (notifications, mut received) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(note))) => {
                    if notifications.send(note.payload().to_owned()).is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            }
        }
    });
    let result = async {
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await.map_err(|e| unavailable("listener", e))?;
        // Listening first, then catching up: a denial committed in between is in one or both.
        catch_up(shared, &client, Instant::now()).await?;
        let mut tick = tokio::time::interval(shared.options.poll_interval);
        loop {
            tokio::select! {
                note = received.recv() => match note {
                    Some(payload) => apply(shared, &payload),
                    None => return Err(unavailable("listener", "connection closed")),
                },
                _ = tick.tick() => {
                    let started = Instant::now();
                    tokio::time::timeout(shared.options.query_timeout, catch_up(shared, &client, started))
                        .await
                        .map_err(|_| unavailable("listener", "poll timed out"))??;
                }
            }
        }
    }
    .await;
    driver.abort();
    result
}

/// A notification's `seq until jti`, into the mirror (the watermark moves only by polls, which
/// read every denial in order).
fn apply(shared: &Shared, payload: &str) {
    let mut parts = payload.splitn(3, ' ');
    let (Some(_seq), Some(until), Some(jti)) = (parts.next(), parts.next(), parts.next()) else { return };
    let Ok(until) = until.parse::<u64>() else { return };
    shared.mirror.write().unwrap_or_else(PoisonError::into_inner).denied.insert(jti.to_owned(), until);
}

impl TokenStore for PostgresStore {
    fn deny<'a>(&'a self, jti: &'a str, until: u64) -> BoxFuture<'a, Result<bool, StoreError>> {
        let owned = jti.to_owned();
        Box::pin(async move {
            let inserted = self
                .run("denial", move |shared| async move {
                    let mut client = client(&shared).await?;
                    let transaction = client.transaction().await.map_err(|e| unavailable("denial", e))?;
                    transaction
                        .execute("SELECT pg_advisory_xact_lock($1)", &[&DENY_LOCK])
                        .await
                        .map_err(|e| unavailable("denial", e))?;
                    let row = transaction
                        .query_one(
                            "INSERT INTO authn_denied (jti, until) VALUES ($1, $2)
                             ON CONFLICT (jti) DO UPDATE SET until = GREATEST(authn_denied.until, EXCLUDED.until)
                             RETURNING seq, (xmax = 0)",
                            &[&owned, &bigint(until)],
                        )
                        .await
                        .map_err(|e| unavailable("denial", e))?;
                    let (seq, inserted): (i64, bool) = (row.get(0), row.get(1));
                    // NOTIFY payloads stay under 8000 bytes; a longer jti is left to the poll.
                    if owned.len() < 7000 {
                        let payload = format!("{seq} {until} {owned}");
                        transaction
                            .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
                            .await
                            .map_err(|e| unavailable("denial", e))?;
                    }
                    transaction.commit().await.map_err(|e| unavailable("denial", e))?;
                    Ok(inserted)
                })
                .await?;
            // This instance enforces its own revocation at once.
            self.shared.mirror.write().unwrap_or_else(PoisonError::into_inner).denied.insert(jti.to_owned(), until);
            Ok(inserted)
        })
    }

    fn is_denied<'a>(&'a self, jti: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        let owned = jti.to_owned();
        Box::pin(async move {
            if let Some(answer) = self.is_denied_now(jti) {
                return answer;
            }
            self.run("denylist", move |shared| async move {
                let client = client(&shared).await?;
                let now = bigint(crate::util::clock::now());
                let row = client
                    .query_one(
                        "SELECT EXISTS (SELECT 1 FROM authn_denied WHERE jti = $1 AND until > $2)",
                        &[&owned, &now],
                    )
                    .await
                    .map_err(|e| unavailable("denylist", e))?;
                Ok(row.get(0))
            })
            .await
        })
    }

    fn is_denied_now(&self, jti: &str) -> Option<Result<bool, StoreError>> {
        if !self.mirror_is_fresh() {
            return None;
        }
        let mirror = self.shared.mirror.read().unwrap_or_else(PoisonError::into_inner);
        // A denial outlives its token (exp + leeway); past that the token is refused anyway.
        let now = crate::util::clock::now();
        Some(Ok(mirror.denied.get(jti).is_some_and(|until| *until > now)))
    }

    fn insert_refresh(&self, record: RefreshRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.run("refresh token", move |shared| async move {
            let client = client(&shared).await?;
            client
                .execute(
                    "INSERT INTO authn_refresh (hash, family, user_id, expires_at) VALUES ($1, $2, $3, $4)",
                    &[&record.hash.as_slice(), &record.family, &record.user_id, &bigint(record.expires_at)],
                )
                .await
                .map_err(|e| unavailable("refresh token", e))?;
            Ok(())
        }))
    }

    fn consume_refresh(&self, hash: TokenHash, now: u64) -> BoxFuture<'_, Result<Consumed, StoreError>> {
        Box::pin(self.run("refresh token", move |shared| async move {
            let client = client(&shared).await?;
            // The one statement that decides: of concurrent consumers on any instances, the
            // row lock lets exactly one see `used = false`.
            // With a reuse interval, a token first used less than that long ago is let through
            // again; the interval counts from the first use, never extended.
            let grace = bigint(shared.options.reuse_interval.as_secs());
            let won = client
                .query_opt(
                    "UPDATE authn_refresh r SET used = TRUE, used_at = COALESCE(r.used_at, $2)
                     WHERE r.hash = $1 AND r.expires_at > $2
                       AND (NOT r.used OR ($3::BIGINT > 0 AND r.used_at IS NOT NULL AND r.used_at + $3::BIGINT > $2))
                       AND NOT EXISTS (SELECT 1 FROM authn_revoked_families f WHERE f.family = r.family)
                     RETURNING r.family, r.user_id, r.expires_at",
                    &[&hash.as_slice(), &bigint(now), &grace],
                )
                .await
                .map_err(|e| unavailable("refresh token", e))?;
            let record = |row: &tokio_postgres::Row| RefreshRecord {
                hash,
                family: row.get(0),
                user_id: row.get(1),
                expires_at: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
            };
            if let Some(row) = won {
                return Ok(Consumed::Fresh(record(&row)));
            }
            let known = client
                .query_opt(
                    "SELECT family, user_id, expires_at FROM authn_refresh WHERE hash = $1 AND expires_at > $2",
                    &[&hash.as_slice(), &bigint(now)],
                )
                .await
                .map_err(|e| unavailable("refresh token", e))?;
            match known {
                None => Ok(Consumed::Invalid),
                Some(row) => {
                    let record = record(&row);
                    revoke(&client, &record.family).await?;
                    Ok(Consumed::Replayed(record))
                }
            }
        }))
    }

    fn revoke_family<'a>(&'a self, family: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let owned = family.to_owned();
        Box::pin(self.run("family revocation", move |shared| async move {
            let client = client(&shared).await?;
            revoke(&client, &owned).await
        }))
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(self.run("purge", move |shared| async move {
            let client = client(&shared).await?;
            let now = bigint(now);
            let mut purged = 0;
            for statement in [
                "DELETE FROM authn_denied WHERE until <= $1",
                "DELETE FROM authn_refresh WHERE expires_at <= $1",
                "DELETE FROM authn_revoked_families WHERE until <= $1",
            ] {
                purged += client.execute(statement, &[&now]).await.map_err(|e| unavailable("purge", e))?;
            }
            Ok(usize::try_from(purged).unwrap_or(usize::MAX))
        }))
    }
}

/// Revokes a family until its last token would have expired anyway; never shortened.
async fn revoke(client: &tokio_postgres::Client, family: &str) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO authn_revoked_families (family, until)
             VALUES ($1, COALESCE((SELECT MAX(expires_at) FROM authn_refresh WHERE family = $1), 9223372036854775807))
             ON CONFLICT (family) DO UPDATE SET until = GREATEST(authn_revoked_families.until, EXCLUDED.until)",
            &[&family],
        )
        .await
        .map_err(|e| unavailable("family revocation", e))?;
    Ok(())
}

fn attempts_of(row: &tokio_postgres::Row) -> Attempts {
    Attempts {
        failures: u32::try_from(row.get::<_, i32>(0)).unwrap_or(0),
        last_failure_ms: u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
        blocked_until_ms: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
    }
}

/// The login throttle in the shared database: every instance counts the same failures.
impl ThrottleStore for PostgresStore {
    fn attempts<'a>(&'a self, key: &'a ThrottleKey) -> BoxFuture<'a, Result<Option<Attempts>, StoreError>> {
        let key = *key;
        Box::pin(self.run("throttle", move |shared| async move {
            let client = client(&shared).await?;
            let row = client
                .query_opt(
                    "SELECT failures, last_failure_ms, blocked_until_ms FROM authn_throttle WHERE key = $1",
                    &[&key.as_slice()],
                )
                .await
                .map_err(|e| unavailable("throttle", e))?;
            Ok(row.as_ref().map(attempts_of))
        }))
    }

    fn record_failure<'a>(
        &'a self,
        key: &'a ThrottleKey,
        now_ms: u64,
        policy: &'a Backoff,
    ) -> BoxFuture<'a, Result<Attempts, StoreError>> {
        let (key, policy) = (*key, *policy);
        Box::pin(self.run("throttle", move |shared| async move {
            let mut client = client(&shared).await?;
            let transaction = client.transaction().await.map_err(|e| unavailable("throttle", e))?;
            // The row exists and is locked before it is read: two instances recording at once
            // both count.
            transaction
                .execute(
                    "INSERT INTO authn_throttle (key, failures, last_failure_ms, blocked_until_ms) VALUES ($1, 0, 0, 0)
                     ON CONFLICT (key) DO NOTHING",
                    &[&key.as_slice()],
                )
                .await
                .map_err(|e| unavailable("throttle", e))?;
            let row = transaction
                .query_one(
                    "SELECT failures, last_failure_ms, blocked_until_ms FROM authn_throttle WHERE key = $1 FOR UPDATE",
                    &[&key.as_slice()],
                )
                .await
                .map_err(|e| unavailable("throttle", e))?;
            let current = attempts_of(&row);
            let previous = (current.failures > 0 || current.last_failure_ms > 0).then_some(current);
            let next = Attempts::after_failure(previous, now_ms, &policy);
            transaction
                .execute(
                    "UPDATE authn_throttle SET failures = $2, last_failure_ms = $3, blocked_until_ms = $4 WHERE key = $1",
                    &[
                        &key.as_slice(),
                        &i32::try_from(next.failures).unwrap_or(i32::MAX),
                        &bigint(next.last_failure_ms),
                        &bigint(next.blocked_until_ms),
                    ],
                )
                .await
                .map_err(|e| unavailable("throttle", e))?;
            transaction.commit().await.map_err(|e| unavailable("throttle", e))?;
            Ok(next)
        }))
    }

    fn clear<'a>(&'a self, key: &'a ThrottleKey) -> BoxFuture<'a, Result<(), StoreError>> {
        let key = *key;
        Box::pin(self.run("throttle", move |shared| async move {
            let client = client(&shared).await?;
            client
                .execute("DELETE FROM authn_throttle WHERE key = $1", &[&key.as_slice()])
                .await
                .map_err(|e| unavailable("throttle", e))?;
            Ok(())
        }))
    }
}

async fn user_where(shared: &Shared, column: &'static str, value: String) -> Result<Option<StoredUser>, StoreError> {
    let client = client(shared).await?;
    let sql = format!("SELECT id, email, name, password_hash, claims FROM authn_users WHERE {column} = $1");
    let row = client.query_opt(&sql, &[&value]).await.map_err(|e| unavailable("user", e))?;
    let Some(row) = row else { return Ok(None) };
    let claims: String = row.get(4);
    let claims = serde_json::from_str(&claims).map_err(|e| StoreError::new("user claims", e))?;
    Ok(Some(StoredUser { id: row.get(0), email: row.get(1), name: row.get(2), password_hash: row.get(3), claims }))
}

/// Users for [`DefaultUserService`](crate::users::DefaultUserService), shared by every instance.
impl UserStore for PostgresStore {
    fn find_by_email<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Option<StoredUser>, StoreError>> {
        let email = email.to_owned();
        Box::pin(self.run("user", move |shared| async move { user_where(&shared, "email", email).await }))
    }

    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredUser>, StoreError>> {
        let id = id.to_owned();
        Box::pin(self.run("user", move |shared| async move { user_where(&shared, "id", id).await }))
    }
}

/// API keys for the `"api-key"` strategy, shared by every instance: a revocation is seen by the
/// next lookup anywhere.
#[cfg(feature = "api-key")]
impl crate::api_key::ApiKeyStore for PostgresStore {
    fn find<'a>(
        &'a self,
        key_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<(crate::api_key::StoredKey, crate::UserProfile)>, StoreError>> {
        let key_id = key_id.to_owned();
        Box::pin(self.run("API key", move |shared| async move {
            let client = client(&shared).await?;
            let row = client
                .query_opt(
                    "SELECT id, secret_hash, client, expires_at, profile FROM authn_api_keys WHERE id = $1",
                    &[&key_id],
                )
                .await
                .map_err(|e| unavailable("API key", e))?;
            let Some(row) = row else { return Ok(None) };
            let hash: Vec<u8> = row.get(1);
            let Ok(secret_hash) = <[u8; 32]>::try_from(hash.as_slice()) else { return Ok(None) };
            let profile: String = row.get(4);
            let profile = serde_json::from_str(&profile).map_err(|e| StoreError::new("API key profile", e))?;
            let key = crate::api_key::StoredKey {
                id: row.get(0),
                secret_hash,
                client: row.get(2),
                expires_at: row.get::<_, Option<i64>>(3).map(|at| u64::try_from(at).unwrap_or(0)),
            };
            Ok(Some((key, profile)))
        }))
    }
}
