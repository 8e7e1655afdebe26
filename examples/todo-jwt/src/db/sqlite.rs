//! The embedded backend: one SQLite file (WAL, full sync), migrated at start. Calls run on
//! actix's blocking pool.

use std::path::Path;
use std::sync::{Arc, Mutex};

use authn::users::StoredUser;
use rusqlite::types::{ToSqlOutput, Value as SqlValue};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::{NewUser, Todo, UserKey};
use crate::errors::ApiError;
use crate::filter::Scalar;

/// Schema versions, applied in order; `PRAGMA user_version` records how far a file got.
const MIGRATIONS: &[&str] = &["CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        username TEXT,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE todos (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        owner_id TEXT NOT NULL REFERENCES users (id),
        title TEXT NOT NULL,
        description TEXT,
        is_complete INTEGER
    );
    CREATE INDEX todos_owner ON todos (owner_id);"];

#[derive(Clone)]
pub(super) struct Sqlite {
    connection: Arc<Mutex<Connection>>,
}

fn db_error(error: rusqlite::Error) -> ApiError {
    ApiError::unavailable(error)
}

impl rusqlite::ToSql for Scalar {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Owned(match self {
            Scalar::Null => SqlValue::Null,
            Scalar::Integer(n) => SqlValue::Integer(*n),
            Scalar::Text(s) => SqlValue::Text(s.clone()),
            Scalar::Bool(b) => SqlValue::Integer(i64::from(*b)),
        }))
    }
}

impl Sqlite {
    pub(super) fn open(path: &Path) -> Result<Self, rusqlite::Error> {
        // Password hashes live here: readable by the server's user only (SQLite gives the WAL
        // and shared-memory files the same mode).
        match crate::secret::create_private(path) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                let code = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN);
                return Err(rusqlite::Error::SqliteFailure(code, Some(format!("creating {}: {e}", path.display()))));
            }
            _ => {}
        }
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        Self::prepare(connection)
    }

    pub(super) fn open_in_memory() -> Result<Self, rusqlite::Error> {
        Self::prepare(Connection::open_in_memory()?)
    }

    fn prepare(mut connection: Connection) -> Result<Self, rusqlite::Error> {
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        let version: i64 = connection.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let tx = connection.transaction()?;
        for (i, migration) in (1i64..).zip(MIGRATIONS).skip(usize::try_from(version).unwrap_or(usize::MAX)) {
            tx.execute_batch(migration)?;
            tx.pragma_update(None, "user_version", i)?;
        }
        tx.commit()?;
        Ok(Sqlite { connection: Arc::new(Mutex::new(connection)) })
    }

    /// Runs `work` on the blocking pool with the connection.
    async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        actix_web::web::block(move || {
            let mut connection = connection.lock().map_err(|_| ApiError::unavailable("database lock poisoned"))?;
            work(&mut connection)
        })
        .await
        .map_err(ApiError::unavailable)?
    }

    /// `false` when the email is taken (the unique index decides, ignoring letter case).
    pub(super) async fn insert_user(&self, user: NewUser, now: u64) -> Result<bool, ApiError> {
        self.run(move |c| {
            match c.execute(
                "INSERT INTO users (id, email, username, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user.id, user.email, user.username, user.password_hash, now as i64],
            ) {
                Ok(_) => Ok(true),
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Ok(false)
                }
                Err(e) => Err(db_error(e)),
            }
        })
        .await
    }

    pub(super) async fn user_where(&self, by: UserKey, value: String) -> Result<Option<StoredUser>, ApiError> {
        let column = match by {
            UserKey::Id => "id",
            UserKey::Email => "email",
        };
        self.run(move |c| {
            c.query_row(
                &format!("SELECT id, email, username, password_hash FROM users WHERE {column} = ?1"),
                params![value],
                |r| {
                    Ok(StoredUser {
                        id: r.get(0)?,
                        email: r.get(1)?,
                        name: r.get(2)?,
                        password_hash: r.get(3)?,
                        claims: serde_json::Map::new(),
                    })
                },
            )
            .optional()
            .map_err(db_error)
        })
        .await
    }

    /// The new todo's id.
    pub(super) async fn insert_todo(
        &self,
        owner: String,
        title: String,
        desc: Option<String>,
        done: Option<bool>,
    ) -> Result<i64, ApiError> {
        self.run(move |c| {
            c.execute(
                "INSERT INTO todos (owner_id, title, description, is_complete) VALUES (?1, ?2, ?3, ?4)",
                params![owner, title, desc, done],
            )
            .map_err(db_error)?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    pub(super) async fn todos(&self, sql: String, params: Vec<Scalar>) -> Result<Vec<Todo>, ApiError> {
        self.run(move |c| {
            let mut statement = c.prepare(&sql).map_err(db_error)?;
            let rows = statement
                .query_map(params_from_iter(params), |r| {
                    Ok(Todo { id: r.get(0)?, title: r.get(1)?, desc: r.get(2)?, is_complete: r.get(3)? })
                })
                .map_err(db_error)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(db_error)
        })
        .await
    }

    pub(super) async fn count(&self, sql: String, params: Vec<Scalar>) -> Result<i64, ApiError> {
        self.run(move |c| c.query_row(&sql, params_from_iter(params), |r| r.get(0)).map_err(db_error)).await
    }

    pub(super) async fn execute(&self, sql: String, params: Vec<Scalar>) -> Result<usize, ApiError> {
        self.run(move |c| c.execute(&sql, params_from_iter(params)).map_err(db_error)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crash test kills the server with SIGKILL, which any `synchronous` setting survives:
    /// the settings that make a write durable through a power cut are asserted here.
    #[test]
    fn files_are_opened_in_wal_mode_with_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("todo.db")).unwrap();
        let connection = db.connection.lock().unwrap();
        let mode: String = connection.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        let synchronous: i64 = connection.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!((mode.as_str(), synchronous), ("wal", 2), "WAL and synchronous = FULL");
    }
}
