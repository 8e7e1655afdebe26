//! The embedded store: users and todos in one SQLite file (WAL, full sync), migrated at start.
//! Calls run on actix's blocking pool; every multi-row write is one transaction.

use std::path::Path;
use std::sync::{Arc, Mutex};

use authn::StoreError;
use authn::users::{StoredUser, UserStore};
use futures_util::future::BoxFuture;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::{Deserialize, Serialize};

use crate::errors::ApiError;
use crate::filter::{Filter, Where};

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

/// A todo as the API shows it (the owner is never shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Todo {
    pub id: i64,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_complete: Option<bool>,
}

/// The writable fields; `None` leaves a field alone in a PATCH, clears it in a PUT.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TodoFields {
    pub title: Option<String>,
    pub desc: Option<Option<String>>,
    pub is_complete: Option<Option<bool>>,
}

/// A new user's row.
pub struct NewUser {
    pub id: String,
    pub email: String,
    pub username: Option<String>,
    pub password_hash: String,
}

/// The database.
#[derive(Clone)]
pub struct Database {
    connection: Arc<Mutex<Connection>>,
}

fn db_error(error: rusqlite::Error) -> ApiError {
    ApiError::unavailable(error)
}

impl Database {
    /// Opens (creating and migrating) the file at `path`.
    pub fn open(path: &Path) -> Result<Self, rusqlite::Error> {
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

    /// A private in-memory database (tests).
    pub fn open_in_memory() -> Result<Self, rusqlite::Error> {
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
        Ok(Database { connection: Arc::new(Mutex::new(connection)) })
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

    /// Inserts a user; an email already taken is a 409.
    pub async fn insert_user(&self, user: NewUser) -> Result<(), ApiError> {
        self.run(move |c| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            match c.execute(
                "INSERT INTO users (id, email, username, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user.id, user.email, user.username, user.password_hash, now as i64],
            ) {
                Ok(_) => Ok(()),
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Err(ApiError::Conflict("A user with this email is already registered.".into()))
                }
                Err(e) => Err(db_error(e)),
            }
        })
        .await
    }

    async fn user_where(&self, column: &'static str, value: String) -> Result<Option<StoredUser>, ApiError> {
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

    /// Creates a todo for `owner`.
    pub async fn create_todo(&self, owner: String, fields: TodoFields) -> Result<Todo, ApiError> {
        self.run(move |c| {
            let title = fields.title.unwrap_or_default();
            let desc = fields.desc.flatten();
            let done = fields.is_complete.flatten();
            c.execute(
                "INSERT INTO todos (owner_id, title, description, is_complete) VALUES (?1, ?2, ?3, ?4)",
                params![owner, title, desc, done],
            )
            .map_err(db_error)?;
            Ok(Todo { id: c.last_insert_rowid(), title, desc, is_complete: done })
        })
        .await
    }

    /// The owner's todos matching `filter`.
    pub async fn find_todos(&self, owner: String, filter: Filter) -> Result<Vec<Todo>, ApiError> {
        self.run(move |c| {
            let (mut sql, mut values) =
                owned(&owner, filter.condition.as_ref(), "SELECT id, title, description, is_complete FROM todos");
            filter.tail_sql(&mut sql, &mut values);
            let mut statement = c.prepare(&sql).map_err(db_error)?;
            let rows = statement.query_map(params_from_iter(values), row_to_todo).map_err(db_error)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(db_error)
        })
        .await
    }

    /// How many of the owner's todos match.
    pub async fn count_todos(&self, owner: String, condition: Option<Where>) -> Result<i64, ApiError> {
        self.run(move |c| {
            let (sql, values) = owned(&owner, condition.as_ref(), "SELECT COUNT(*) FROM todos");
            c.query_row(&sql, params_from_iter(values), |r| r.get(0)).map_err(db_error)
        })
        .await
    }

    /// One of the owner's todos; another user's id is simply not found.
    pub async fn get_todo(&self, owner: String, id: i64) -> Result<Todo, ApiError> {
        self.run(move |c| {
            c.query_row(
                "SELECT id, title, description, is_complete FROM todos WHERE owner_id = ?1 AND id = ?2",
                params![owner, id],
                row_to_todo,
            )
            .optional()
            .map_err(db_error)?
            .ok_or(ApiError::NotFound { entity: "Todo", id: id.to_string() })
        })
        .await
    }

    /// Updates the owner's todos matching `condition` (all of them in one transaction).
    pub async fn update_todos(
        &self,
        owner: String,
        condition: Option<Where>,
        fields: TodoFields,
    ) -> Result<usize, ApiError> {
        self.run(move |c| {
            let (mut sets, mut values) = (Vec::new(), Vec::new());
            if let Some(title) = fields.title {
                sets.push("title = ?");
                values.push(SqlValue::Text(title));
            }
            if let Some(desc) = fields.desc {
                sets.push("description = ?");
                values.push(desc.map_or(SqlValue::Null, SqlValue::Text));
            }
            if let Some(done) = fields.is_complete {
                sets.push("is_complete = ?");
                values.push(done.map_or(SqlValue::Null, |d| SqlValue::Integer(i64::from(d))));
            }
            let tx = c.transaction().map_err(db_error)?;
            let (scope, scope_values) = owned(&owner, condition.as_ref(), "");
            let changed = if sets.is_empty() {
                let sql = format!("SELECT COUNT(*) FROM todos{scope}");
                tx.query_row(&sql, params_from_iter(scope_values), |r| r.get::<_, i64>(0)).map_err(db_error)? as usize
            } else {
                values.extend(scope_values);
                let sql = format!("UPDATE todos SET {}{scope}", sets.join(", "));
                tx.execute(&sql, params_from_iter(values)).map_err(db_error)?
            };
            tx.commit().map_err(db_error)?;
            Ok(changed)
        })
        .await
    }

    /// Deletes one of the owner's todos.
    pub async fn delete_todo(&self, owner: String, id: i64) -> Result<(), ApiError> {
        self.run(move |c| {
            match c
                .execute("DELETE FROM todos WHERE owner_id = ?1 AND id = ?2", params![owner, id])
                .map_err(db_error)?
            {
                0 => Err(ApiError::NotFound { entity: "Todo", id: id.to_string() }),
                _ => Ok(()),
            }
        })
        .await
    }
}

/// `<select> WHERE owner_id = ? [AND (<condition>)]`: ownership is part of every query.
fn owned(owner: &str, condition: Option<&Where>, select: &str) -> (String, Vec<SqlValue>) {
    let mut sql = format!("{select} WHERE owner_id = ?");
    let mut values = vec![SqlValue::Text(owner.to_owned())];
    if let Some(condition) = condition {
        sql.push_str(" AND ");
        condition.to_sql(&mut sql, &mut values);
    }
    (sql, values)
}

fn row_to_todo(r: &rusqlite::Row<'_>) -> rusqlite::Result<Todo> {
    Ok(Todo { id: r.get(0)?, title: r.get(1)?, desc: r.get(2)?, is_complete: r.get(3)? })
}

fn store_error(error: ApiError) -> StoreError {
    StoreError::new("todo database", error)
}

impl UserStore for Database {
    fn find_by_email<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Option<StoredUser>, StoreError>> {
        Box::pin(async move { self.user_where("email", email.to_owned()).await.map_err(store_error) })
    }

    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredUser>, StoreError>> {
        Box::pin(async move { self.user_where("id", id.to_owned()).await.map_err(store_error) })
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
        let db = Database::open(&dir.path().join("todo.db")).unwrap();
        let connection = db.connection.lock().unwrap();
        let mode: String = connection.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        let synchronous: i64 = connection.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!((mode.as_str(), synchronous), ("wal", 2), "WAL and synchronous = FULL");
    }
}
