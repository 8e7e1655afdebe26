//! The shared backend: the same two tables in a PostgreSQL database every instance uses,
//! queried on the pool of authn's [`PostgresStore`] (one pool, one set of timeouts, and
//! connections that belong to no actix worker).

use authn::jwt::PostgresStore;
use authn::jwt::tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use authn::jwt::tokio_postgres::{Client, Row};
use authn::users::StoredUser;
use bytes::BytesMut;

use super::{NewUser, Todo, UserKey};
use crate::errors::ApiError;
use crate::filter::Scalar;

/// Created if missing, under an advisory lock: instances starting together wait for each other
/// instead of racing to create the same tables. Emails are unique in any letter case, as in the
/// SQLite file (`COLLATE NOCASE`); todo text compares and sorts byte by byte (`COLLATE "C"`), as
/// SQLite's does, whatever the server's locale.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        username TEXT,
        password_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users (lower(email));
    CREATE TABLE IF NOT EXISTS todos (
        id BIGSERIAL PRIMARY KEY,
        owner_id TEXT NOT NULL REFERENCES users (id),
        title TEXT COLLATE \"C\" NOT NULL,
        description TEXT COLLATE \"C\",
        is_complete BOOLEAN
    );
    CREATE INDEX IF NOT EXISTS todos_owner ON todos (owner_id);";
const SCHEMA_LOCK: i64 = 0x746f_646f_2d6a_7774;

#[derive(Clone)]
pub(super) struct Postgres {
    store: PostgresStore,
}

fn db_error(error: authn::jwt::tokio_postgres::Error) -> ApiError {
    ApiError::unavailable(error)
}

/// Bound as the value's own type, checked against the parameter's (a NULL fits any).
impl ToSql for Scalar {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Scalar::Null => Ok(IsNull::Yes),
            Scalar::Integer(n) => n.to_sql_checked(ty, out),
            Scalar::Text(s) => s.to_sql_checked(ty, out),
            Scalar::Bool(b) => b.to_sql_checked(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn refs(params: &[Scalar]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

fn todo(row: &Row) -> Todo {
    Todo { id: row.get(0), title: row.get(1), desc: row.get(2), is_complete: row.get(3) }
}

impl Postgres {
    pub(super) async fn open(store: PostgresStore) -> Result<Self, ApiError> {
        store
            .with_client(|client: &mut Client| {
                Box::pin(async move {
                    let transaction = client.transaction().await.map_err(db_error)?;
                    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK]).await.map_err(db_error)?;
                    transaction.batch_execute(SCHEMA).await.map_err(db_error)?;
                    transaction.commit().await.map_err(db_error)
                })
            })
            .await?;
        Ok(Postgres { store })
    }

    /// `false` when the email is taken (the unique index decides: two instances cannot both
    /// take it).
    pub(super) async fn insert_user(&self, user: NewUser, now: u64) -> Result<bool, ApiError> {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        self.store
            .with_client(move |client: &mut Client| {
                Box::pin(async move {
                    let inserted = client
                        .execute(
                            "INSERT INTO users (id, email, username, password_hash, created_at)
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                            &[&user.id, &user.email, &user.username, &user.password_hash, &now],
                        )
                        .await
                        .map_err(db_error)?;
                    Ok(inserted == 1)
                })
            })
            .await
    }

    pub(super) async fn user_where(&self, by: UserKey, value: String) -> Result<Option<StoredUser>, ApiError> {
        let sql = match by {
            UserKey::Id => "SELECT id, email, username, password_hash FROM users WHERE id = $1",
            UserKey::Email => "SELECT id, email, username, password_hash FROM users WHERE lower(email) = lower($1)",
        };
        self.store
            .with_client(move |client: &mut Client| {
                Box::pin(async move {
                    let row = client.query_opt(sql, &[&value]).await.map_err(db_error)?;
                    Ok(row.map(|r| StoredUser {
                        id: r.get(0),
                        email: r.get(1),
                        name: r.get(2),
                        password_hash: r.get(3),
                        claims: serde_json::Map::new(),
                    }))
                })
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
        self.store
            .with_client(move |client: &mut Client| {
                Box::pin(async move {
                    let row = client
                        .query_one(
                            "INSERT INTO todos (owner_id, title, description, is_complete)
                             VALUES ($1, $2, $3, $4) RETURNING id",
                            &[&owner, &title, &desc, &done],
                        )
                        .await
                        .map_err(db_error)?;
                    Ok(row.get(0))
                })
            })
            .await
    }

    pub(super) async fn todos(&self, sql: String, params: Vec<Scalar>) -> Result<Vec<Todo>, ApiError> {
        self.store
            .with_client(move |client: &mut Client| {
                Box::pin(async move {
                    let rows = client.query(&sql, &refs(&params)).await.map_err(db_error)?;
                    Ok(rows.iter().map(todo).collect())
                })
            })
            .await
    }

    pub(super) async fn count(&self, sql: String, params: Vec<Scalar>) -> Result<i64, ApiError> {
        self.store
            .with_client(move |client: &mut Client| {
                Box::pin(async move {
                    let row = client.query_one(&sql, &refs(&params)).await.map_err(db_error)?;
                    Ok(row.get(0))
                })
            })
            .await
    }

    pub(super) async fn execute(&self, sql: String, params: Vec<Scalar>) -> Result<usize, ApiError> {
        self.store
            .with_client(move |client: &mut Client| {
                Box::pin(async move {
                    let changed = client.execute(&sql, &refs(&params)).await.map_err(db_error)?;
                    Ok(usize::try_from(changed).unwrap_or(usize::MAX))
                })
            })
            .await
    }
}
