//! The SQLite [`TokenStore`]: the embedded default, through rusqlite with SQLite compiled in
//! (`bundled`), so nothing is installed on the machine.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::store::{Consumed, RefreshRecord, TokenHash, TokenStore};
use crate::users::{Attempts, Backoff, ThrottleKey, ThrottleStore};
use crate::util::blocking;
use crate::util::storage::StoreError;

/// The schema, one migration per version, applied in order and recorded in
/// `authn_schema_version`, in one write transaction: several processes opening the same file at
/// once apply each migration exactly once.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema (`CREATE ... IF NOT EXISTS`: files made before versions were recorded
    // already have it).
    "CREATE TABLE IF NOT EXISTS authn_denied (jti TEXT PRIMARY KEY, until INTEGER NOT NULL);
     CREATE TABLE IF NOT EXISTS authn_refresh (
         hash BLOB PRIMARY KEY,
         family TEXT NOT NULL,
         user_id TEXT NOT NULL,
         expires_at INTEGER NOT NULL,
         used INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX IF NOT EXISTS authn_refresh_family ON authn_refresh (family);
     CREATE TABLE IF NOT EXISTS authn_revoked_family (family TEXT PRIMARY KEY, until INTEGER NOT NULL);",
    // 2: denials get a sequence that never goes back (AUTOINCREMENT): other processes' mirrors
    // read `seq > last`, and a plain rowid is reused once the highest row is purged.
    "CREATE TABLE authn_denied_v2 (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         jti TEXT NOT NULL UNIQUE,
         until INTEGER NOT NULL
     );
     INSERT INTO authn_denied_v2 (jti, until) SELECT jti, until FROM authn_denied ORDER BY rowid;
     DROP TABLE authn_denied;
     ALTER TABLE authn_denied_v2 RENAME TO authn_denied;
     CREATE INDEX authn_denied_until ON authn_denied (until);",
    // 3: the login throttle's counters, by SHA-256 of their key.
    "CREATE TABLE authn_throttle (
         key BLOB PRIMARY KEY,
         failures INTEGER NOT NULL,
         last_failure_ms INTEGER NOT NULL,
         blocked_until_ms INTEGER NOT NULL
     );",
];

/// Throttle counters idle this long (and not blocking) go with `purge_expired`.
const THROTTLE_IDLE_MS: i64 = 24 * 3600 * 1000;

/// How long a statement waits for another connection's lock before failing.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Switches the file to WAL, which persists in the file. The switch needs the file to itself,
/// and SQLite answers `SQLITE_BUSY` at once, without its busy handler, while another
/// connection opens it: so it is retried, within the same bound as any other lock wait.
fn use_wal(connection: &Connection) -> Result<(), rusqlite::Error> {
    let started = std::time::Instant::now();
    loop {
        let mode = connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0));
        match mode {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => {
                let code = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN);
                return Err(rusqlite::Error::SqliteFailure(code, Some(format!("journal mode {mode}, not WAL"))));
            }
            Err(rusqlite::Error::SqliteFailure(error, _))
                if error.code == rusqlite::ErrorCode::DatabaseBusy && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(error) => return Err(error),
        }
    }
}

fn migrate(connection: &mut Connection) -> Result<(), rusqlite::Error> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS authn_schema_version (version INTEGER NOT NULL)")?;
    let current: i64 = tx.query_row("SELECT COALESCE(MAX(version), 0) FROM authn_schema_version", [], |r| r.get(0))?;
    for (version, migration) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        tx.execute_batch(migration)?;
        tx.execute("INSERT INTO authn_schema_version (version) VALUES (?1)", params![version as i64 + 1])?;
    }
    tx.commit()
}

/// A [`TokenStore`] in a SQLite file (WAL, full sync: an acknowledged revocation survives a
/// crash). Its tables are prefixed `authn_`, so it can share the app's database file.
///
/// Every authenticated request asks whether its token was revoked, so the denylist is mirrored
/// in memory and read from there; the mirror catches up with the file at most once a second
/// (denials made by other processes sharing the file are seen within that second).
///
/// ```
/// use authn::jwt::SqliteStore;
/// let store = SqliteStore::open_in_memory().unwrap();
/// # drop(store);
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    denied: Arc<Mutex<DenyMirror>>,
}

/// How stale the in-memory denylist may get before it is read again.
const SYNC_EVERY: Duration = Duration::from_secs(1);

struct DenyMirror {
    until: HashMap<String, u64>,
    /// The highest `seq` read from the file.
    last_seq: i64,
    synced_at: Option<Instant>,
}

impl DenyMirror {
    /// Read from the file less than [`SYNC_EVERY`] ago: good enough to answer from.
    fn is_fresh(&self) -> bool {
        self.synced_at.is_some_and(|at| at.elapsed() < SYNC_EVERY)
    }
}

/// Creates `path` empty with mode 0600 unless it exists: it will hold token hashes and the
/// throttle's counters, which are nobody else's business.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

fn db(error: rusqlite::Error) -> StoreError {
    StoreError::new("sqlite", error)
}

impl SqliteStore {
    /// Opens (creating if needed, readable by its owner only: mode 0600 on Unix) the database at
    /// `path`. SQLite gives its WAL and shared-memory files the same mode.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        create_private(path.as_ref())
            .map_err(|e| StoreError::new(format!("creating {}", path.as_ref().display()), e))?;
        let connection = Connection::open(path).map_err(db)?;
        // Before anything that locks: switching to WAL takes a lock, and another process (or
        // thread) opening the same file at the same moment must wait for it, not fail.
        connection.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
        use_wal(&connection).map_err(db)?;
        connection.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        Self::with_connection(connection)
    }

    /// A private in-memory database (tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory().map_err(db)?)
    }

    fn with_connection(mut connection: Connection) -> Result<Self, StoreError> {
        connection.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
        migrate(&mut connection).map_err(db)?;
        let denied = DenyMirror { until: HashMap::new(), last_seq: 0, synced_at: None };
        Ok(SqliteStore { connection: Arc::new(Mutex::new(connection)), denied: Arc::new(Mutex::new(denied)) })
    }

    /// Reads the denials added to the file since the last read, and forgets the expired ones.
    async fn sync_denied(&self) -> Result<(), StoreError> {
        let after = self.mirror()?.last_seq;
        let rows = self
            .with(move |c| {
                let mut statement = c.prepare_cached("SELECT seq, jti, until FROM authn_denied WHERE seq > ?1")?;
                let rows = statement.query_map(params![after], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
                })?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        let now = crate::util::clock::now();
        let mut mirror = self.mirror()?;
        for (seq, jti, until) in rows {
            mirror.last_seq = mirror.last_seq.max(seq);
            mirror.until.insert(jti, until.max(0) as u64);
        }
        mirror.until.retain(|_, until| *until > now);
        mirror.synced_at = Some(Instant::now());
        Ok(())
    }

    fn mirror(&self) -> Result<std::sync::MutexGuard<'_, DenyMirror>, StoreError> {
        self.denied.lock().map_err(|_| StoreError::msg("denylist lock poisoned"))
    }

    async fn with<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        blocking::run(move || {
            let mut connection = connection.lock().map_err(|_| StoreError::msg("connection lock poisoned"))?;
            work(&mut connection).map_err(db)
        })
        .await?
    }
}

impl TokenStore for SqliteStore {
    fn deny<'a>(&'a self, jti: &'a str, until: u64) -> BoxFuture<'a, Result<bool, StoreError>> {
        let owned = jti.to_owned();
        Box::pin(async move {
            let added = self
                .with(move |c| {
                    c.execute(
                        "INSERT OR IGNORE INTO authn_denied (jti, until) VALUES (?1, ?2)",
                        params![owned, until as i64],
                    )
                    .map(|n| n == 1)
                })
                .await?;
            // Durable first, then visible here at once.
            self.mirror()?.until.insert(jti.to_owned(), until);
            Ok(added)
        })
    }

    fn is_denied<'a>(&'a self, jti: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let stale = {
                let mut mirror = self.mirror()?;
                let stale = !mirror.is_fresh();
                if stale && mirror.synced_at.is_some() {
                    // One request refreshes the mirror; the others answer from it meanwhile.
                    mirror.synced_at = Some(Instant::now());
                }
                stale
            };
            if stale {
                self.sync_denied().await?;
            }
            Ok(self.mirror()?.until.contains_key(jti))
        })
    }

    fn is_denied_now(&self, jti: &str) -> Option<Result<bool, StoreError>> {
        // One lock: a fresh mirror answers; a stale one leaves the re-read to `is_denied`.
        match self.mirror() {
            Ok(mirror) if mirror.is_fresh() => Some(Ok(mirror.until.contains_key(jti))),
            Ok(_) => None,
            Err(error) => Some(Err(error)),
        }
    }

    fn insert_refresh(&self, record: RefreshRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.with(move |c| {
            c.execute(
                "INSERT INTO authn_refresh (hash, family, user_id, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![record.hash.as_slice(), record.family, record.user_id, record.expires_at as i64],
            )
            .map(|_| ())
        }))
    }

    fn consume_refresh(&self, hash: TokenHash, now: u64) -> BoxFuture<'_, Result<Consumed, StoreError>> {
        Box::pin(self.with(move |c| {
            // IMMEDIATE takes the write lock first: two processes cannot both see `used = 0`.
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = tx
                .query_row(
                    "SELECT family, user_id, expires_at, used FROM authn_refresh WHERE hash = ?1",
                    params![hash.as_slice()],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, bool>(3)?)),
                )
                .optional()?;
            let Some((family, user_id, expires_at, used)) = row else { return Ok(Consumed::Invalid) };
            let expires_at = expires_at.max(0) as u64;
            if expires_at <= now {
                return Ok(Consumed::Invalid);
            }
            let record = RefreshRecord { hash, family, user_id, expires_at };
            let revoked = tx
                .query_row("SELECT 1 FROM authn_revoked_family WHERE family = ?1", params![record.family], |_| Ok(()))
                .optional()?
                .is_some();
            let outcome = if used || revoked {
                revoke_family(&tx, &record.family)?;
                Consumed::Replayed(record)
            } else {
                tx.execute("UPDATE authn_refresh SET used = 1 WHERE hash = ?1", params![hash.as_slice()])?;
                Consumed::Fresh(record)
            };
            tx.commit()?;
            Ok(outcome)
        }))
    }

    fn revoke_family<'a>(&'a self, family: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let family = family.to_owned();
        Box::pin(self.with(move |c| revoke_family(c, &family)))
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(async move {
            let removed = self
                .with(move |c| {
                    let now = now as i64;
                    let tx = c.transaction()?;
                    let mut removed = tx.execute("DELETE FROM authn_denied WHERE until <= ?1", params![now])?;
                    removed += tx.execute("DELETE FROM authn_refresh WHERE expires_at <= ?1", params![now])?;
                    removed += tx.execute("DELETE FROM authn_revoked_family WHERE until <= ?1", params![now])?;
                    let now_ms = now.saturating_mul(1000);
                    removed += tx.execute(
                        "DELETE FROM authn_throttle WHERE blocked_until_ms <= ?1 AND last_failure_ms < ?2",
                        params![now_ms, now_ms - THROTTLE_IDLE_MS],
                    )?;
                    tx.commit()?;
                    Ok(removed)
                })
                .await?;
            self.mirror()?.until.retain(|_, until| *until > now);
            Ok(removed)
        })
    }
}

/// The login throttle's counters in the same file: instances sharing the file share them.
impl ThrottleStore for SqliteStore {
    fn attempts<'a>(&'a self, key: &'a ThrottleKey) -> BoxFuture<'a, Result<Option<Attempts>, StoreError>> {
        let key = *key;
        Box::pin(self.with(move |c| read_attempts(c, &key)))
    }

    fn record_failure<'a>(
        &'a self,
        key: &'a ThrottleKey,
        now_ms: u64,
        policy: &'a Backoff,
    ) -> BoxFuture<'a, Result<Attempts, StoreError>> {
        let (key, policy) = (*key, *policy);
        Box::pin(self.with(move |c| {
            // IMMEDIATE: two instances recording at once both count.
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let next = Attempts::after_failure(read_attempts(&tx, &key)?, now_ms, &policy);
            tx.execute(
                "INSERT OR REPLACE INTO authn_throttle (key, failures, last_failure_ms, blocked_until_ms)
                 VALUES (?1, ?2, ?3, ?4)",
                params![key.as_slice(), next.failures, next.last_failure_ms as i64, next.blocked_until_ms as i64],
            )?;
            tx.commit()?;
            Ok(next)
        }))
    }

    fn clear<'a>(&'a self, key: &'a ThrottleKey) -> BoxFuture<'a, Result<(), StoreError>> {
        let key = *key;
        Box::pin(
            self.with(move |c| {
                c.execute("DELETE FROM authn_throttle WHERE key = ?1", params![key.as_slice()]).map(drop)
            }),
        )
    }
}

fn read_attempts(c: &Connection, key: &ThrottleKey) -> Result<Option<Attempts>, rusqlite::Error> {
    c.query_row(
        "SELECT failures, last_failure_ms, blocked_until_ms FROM authn_throttle WHERE key = ?1",
        params![key.as_slice()],
        |r| {
            Ok(Attempts {
                failures: r.get(0)?,
                last_failure_ms: r.get::<_, i64>(1)?.max(0) as u64,
                blocked_until_ms: r.get::<_, i64>(2)?.max(0) as u64,
            })
        },
    )
    .optional()
}

fn revoke_family(c: &Connection, family: &str) -> Result<(), rusqlite::Error> {
    // Kept until the family's last token would have expired anyway; never shortened.
    c.execute(
        "INSERT INTO authn_revoked_family (family, until)
         VALUES (?1, COALESCE((SELECT MAX(expires_at) FROM authn_refresh WHERE family = ?1), 9223372036854775807))
         ON CONFLICT (family) DO UPDATE SET until = MAX(until, excluded.until)",
        params![family],
    )
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SIGKILL tests pass with any setting (the kernel keeps the page cache): the settings that
    /// make a revocation durable through a power cut are asserted here.
    #[test]
    fn files_are_opened_in_wal_mode_with_full_sync() {
        let dir = std::env::temp_dir().join(format!("authn-durability-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(dir.join("t.db")).unwrap();
        let connection = store.connection.lock().unwrap();
        let mode: String = connection.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        let synchronous: i64 = connection.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!((mode.as_str(), synchronous), ("wal", 2), "WAL and synchronous = FULL");
        drop(connection);
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
