//! The example's own data: users and todos, on an embedded SQLite file (the default, see
//! [`sqlite`]) or on a PostgreSQL database several instances share (see [`postgres`]).
//! The queries are built here once, with each backend's placeholders; ownership is part of
//! every todo query, and client input never becomes SQL text.

mod postgres;
mod sqlite;

use std::path::Path;

use authn::StoreError;
use authn::jwt::PostgresStore;
use authn::users::{StoredUser, UserStore};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::errors::ApiError;
use crate::filter::{Dialect, Filter, Scalar, Where};

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
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

impl Database {
    /// Opens (creating and migrating) the SQLite file at `path`.
    pub fn open(path: &Path) -> Result<Self, rusqlite::Error> {
        Ok(Database { backend: Backend::Sqlite(sqlite::Sqlite::open(path)?) })
    }

    /// A private in-memory SQLite database (tests).
    pub fn open_in_memory() -> Result<Self, rusqlite::Error> {
        Ok(Database { backend: Backend::Sqlite(sqlite::Sqlite::open_in_memory()?) })
    }

    /// The tables in the PostgreSQL database `store` is connected to (created if missing, by
    /// whichever instance gets there first), queried on the store's pool.
    pub async fn postgres(store: PostgresStore) -> Result<Self, ApiError> {
        Ok(Database { backend: Backend::Postgres(postgres::Postgres::open(store).await?) })
    }

    fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Inserts a user; an email already taken, in any letter case, is a 409.
    pub async fn insert_user(&self, user: NewUser) -> Result<(), ApiError> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let inserted = match &self.backend {
            Backend::Sqlite(db) => db.insert_user(user, now).await?,
            Backend::Postgres(db) => db.insert_user(user, now).await?,
        };
        match inserted {
            true => Ok(()),
            false => Err(ApiError::Conflict("A user with this email is already registered.".into())),
        }
    }

    async fn user_where(&self, by: UserKey, value: String) -> Result<Option<StoredUser>, ApiError> {
        match &self.backend {
            Backend::Sqlite(db) => db.user_where(by, value).await,
            Backend::Postgres(db) => db.user_where(by, value).await,
        }
    }

    /// Creates a todo for `owner`.
    pub async fn create_todo(&self, owner: String, fields: TodoFields) -> Result<Todo, ApiError> {
        let title = fields.title.unwrap_or_default();
        let desc = fields.desc.flatten();
        let done = fields.is_complete.flatten();
        let id = match &self.backend {
            Backend::Sqlite(db) => db.insert_todo(owner, title.clone(), desc.clone(), done).await?,
            Backend::Postgres(db) => db.insert_todo(owner, title.clone(), desc.clone(), done).await?,
        };
        Ok(Todo { id, title, desc, is_complete: done })
    }

    /// The owner's todos matching `filter`.
    pub async fn find_todos(&self, owner: String, filter: Filter) -> Result<Vec<Todo>, ApiError> {
        let dialect = self.dialect();
        let (mut sql, mut params) = (String::from("SELECT id, title, description, is_complete FROM todos"), Vec::new());
        owned(dialect, &mut sql, &mut params, &owner, filter.condition.as_ref());
        filter.tail_sql(dialect, &mut sql, &mut params);
        self.todos(sql, params).await
    }

    /// One of the owner's todos; another user's id is simply not found.
    pub async fn get_todo(&self, owner: String, id: i64) -> Result<Todo, ApiError> {
        let dialect = self.dialect();
        let (mut sql, mut params) = (String::from("SELECT id, title, description, is_complete FROM todos"), Vec::new());
        owned(dialect, &mut sql, &mut params, &owner, None);
        sql.push_str(" AND id = ");
        dialect.bind(&mut sql, &mut params, Scalar::Integer(id));
        self.todos(sql, params).await?.pop().ok_or(ApiError::NotFound { entity: "Todo", id: id.to_string() })
    }

    async fn todos(&self, sql: String, params: Vec<Scalar>) -> Result<Vec<Todo>, ApiError> {
        match &self.backend {
            Backend::Sqlite(db) => db.todos(sql, params).await,
            Backend::Postgres(db) => db.todos(sql, params).await,
        }
    }

    /// How many of the owner's todos match.
    pub async fn count_todos(&self, owner: String, condition: Option<Where>) -> Result<i64, ApiError> {
        let (mut sql, mut params) = (String::from("SELECT COUNT(*) FROM todos"), Vec::new());
        owned(self.dialect(), &mut sql, &mut params, &owner, condition.as_ref());
        self.count(sql, params).await
    }

    async fn count(&self, sql: String, params: Vec<Scalar>) -> Result<i64, ApiError> {
        match &self.backend {
            Backend::Sqlite(db) => db.count(sql, params).await,
            Backend::Postgres(db) => db.count(sql, params).await,
        }
    }

    /// Updates the owner's todos matching `condition` (one statement: all of them or none);
    /// how many matched.
    pub async fn update_todos(
        &self,
        owner: String,
        condition: Option<Where>,
        fields: TodoFields,
    ) -> Result<usize, ApiError> {
        let dialect = self.dialect();
        let mut sets: Vec<(&str, Scalar)> = Vec::new();
        if let Some(title) = fields.title {
            sets.push(("title", Scalar::Text(title)));
        }
        if let Some(desc) = fields.desc {
            sets.push(("description", desc.map_or(Scalar::Null, Scalar::Text)));
        }
        if let Some(done) = fields.is_complete {
            sets.push(("is_complete", done.map_or(Scalar::Null, Scalar::Bool)));
        }
        if sets.is_empty() {
            return self.count_todos(owner, condition).await.map(|n| usize::try_from(n).unwrap_or(0));
        }
        let (mut sql, mut params) = (String::from("UPDATE todos SET "), Vec::new());
        for (i, (column, value)) in sets.into_iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(column);
            sql.push_str(" = ");
            dialect.bind(&mut sql, &mut params, value);
        }
        owned(dialect, &mut sql, &mut params, &owner, condition.as_ref());
        self.execute(sql, params).await
    }

    /// Deletes one of the owner's todos.
    pub async fn delete_todo(&self, owner: String, id: i64) -> Result<(), ApiError> {
        let dialect = self.dialect();
        let (mut sql, mut params) = (String::from("DELETE FROM todos"), Vec::new());
        owned(dialect, &mut sql, &mut params, &owner, None);
        sql.push_str(" AND id = ");
        dialect.bind(&mut sql, &mut params, Scalar::Integer(id));
        match self.execute(sql, params).await? {
            0 => Err(ApiError::NotFound { entity: "Todo", id: id.to_string() }),
            _ => Ok(()),
        }
    }

    async fn execute(&self, sql: String, params: Vec<Scalar>) -> Result<usize, ApiError> {
        match &self.backend {
            Backend::Sqlite(db) => db.execute(sql, params).await,
            Backend::Postgres(db) => db.execute(sql, params).await,
        }
    }
}

/// Which column a user is looked up by.
#[derive(Clone, Copy)]
enum UserKey {
    Id,
    Email,
}

/// Appends ` WHERE owner_id = ? [AND (<condition>)]`: ownership is part of every query.
fn owned(dialect: Dialect, sql: &mut String, params: &mut Vec<Scalar>, owner: &str, condition: Option<&Where>) {
    sql.push_str(" WHERE owner_id = ");
    dialect.bind(sql, params, Scalar::Text(owner.to_owned()));
    if let Some(condition) = condition {
        sql.push_str(" AND ");
        condition.to_sql(dialect, sql, params);
    }
}

fn store_error(error: ApiError) -> StoreError {
    StoreError::new("todo database", error)
}

impl UserStore for Database {
    fn find_by_email<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Option<StoredUser>, StoreError>> {
        Box::pin(async move { self.user_where(UserKey::Email, email.to_owned()).await.map_err(store_error) })
    }

    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredUser>, StoreError>> {
        Box::pin(async move { self.user_where(UserKey::Id, id.to_owned()).await.map_err(store_error) })
    }
}
