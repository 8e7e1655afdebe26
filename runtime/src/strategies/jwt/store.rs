//! Storage for revocation and refresh tokens, behind a trait: in memory here, SQLite in
//! `sqlite.rs`. Refresh tokens are stored as SHA-256 hashes only.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::future::BoxFuture;

use crate::util::storage::StoreError;
pub(crate) use crate::util::storage::unavailable;

/// The SHA-256 of a refresh token: what is stored and looked up.
pub type TokenHash = [u8; 32];

/// Hashes a refresh token for storage.
pub fn hash_token(token: &str) -> TokenHash {
    crate::util::secret::digest(token)
}

/// A stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// The rotation family: every token descending from one login.
    pub family: String,
    /// Whose it is.
    pub user_id: String,
    /// Expiry, seconds since the Unix epoch.
    pub expires_at: u64,
}

/// What consuming a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// It was valid and is now used: issue its successor.
    Fresh(RefreshRecord),
    /// It had already been used (or its family revoked): a replay. The family is revoked.
    Replayed(RefreshRecord),
    /// Unknown or expired.
    Invalid,
}

/// Revoked access-token ids and refresh tokens.
///
/// `consume_refresh` must be atomic: of two concurrent calls with the same token, exactly one
/// gets [`Consumed::Fresh`].
pub trait TokenStore: Send + Sync + 'static {
    /// Denies the access token `jti` until `until` (past the last second its token could still
    /// verify: its expiry plus the leeway). `false` if it already was.
    fn deny<'a>(&'a self, jti: &'a str, until: u64) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Whether `jti` is denied.
    fn is_denied<'a>(&'a self, jti: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// The same answer without waiting, when the store has it at hand (an in-memory set or a
    /// fresh mirror); `None` sends the check to [`TokenStore::is_denied`]. Every authenticated
    /// request asks, so a store that can answer here spares each one a boxed future.
    fn is_denied_now(&self, jti: &str) -> Option<Result<bool, StoreError>> {
        let _ = jti;
        None
    }
    /// Stores a new refresh token.
    fn insert_refresh(&self, record: RefreshRecord) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Marks a refresh token used, atomically; a replay revokes its whole family.
    fn consume_refresh(&self, hash: TokenHash, now: u64) -> BoxFuture<'_, Result<Consumed, StoreError>>;
    /// Revokes every token of a family (logout, replay).
    fn revoke_family<'a>(&'a self, family: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Deletes what expired before `now`; returns how many entries went.
    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<usize, StoreError>>;
}

#[derive(Default)]
struct Memory {
    denied: HashMap<String, u64>,
    refresh: HashMap<TokenHash, (RefreshRecord, bool)>,
    revoked_families: HashMap<String, u64>,
}

impl Memory {
    /// Revoked until the family's last token would have expired anyway: never shortened.
    fn revoke_family(&mut self, family: &str) {
        let last = self.refresh.values().filter(|(r, _)| r.family == family).map(|(r, _)| r.expires_at).max();
        let until = self.revoked_families.entry(family.to_owned()).or_insert(0);
        *until = (*until).max(last.unwrap_or(u64::MAX));
    }
}

/// A [`TokenStore`] in memory: for tests and single-process apps that accept losing revocations
/// on restart.
#[derive(Default)]
pub struct MemoryTokenStore {
    state: Mutex<Memory>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryTokenStore::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Memory) -> T) -> Result<T, StoreError> {
        let mut state = self.state.lock().map_err(|_| StoreError::msg("memory store lock poisoned"))?;
        Ok(f(&mut state))
    }
}

impl TokenStore for MemoryTokenStore {
    fn deny<'a>(&'a self, jti: &'a str, until: u64) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { self.with(|m| m.denied.insert(jti.to_owned(), until).is_none()) })
    }

    fn is_denied<'a>(&'a self, jti: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { self.with(|m| m.denied.contains_key(jti)) })
    }

    fn is_denied_now(&self, jti: &str) -> Option<Result<bool, StoreError>> {
        Some(self.with(|m| m.denied.contains_key(jti)))
    }

    fn insert_refresh(&self, record: RefreshRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.with(|m| {
                m.refresh.insert(record.hash, (record, false));
            })
        })
    }

    fn consume_refresh(&self, hash: TokenHash, now: u64) -> BoxFuture<'_, Result<Consumed, StoreError>> {
        Box::pin(async move {
            self.with(|m| {
                let Some((record, used)) = m.refresh.get_mut(&hash) else { return Consumed::Invalid };
                if record.expires_at <= now {
                    return Consumed::Invalid;
                }
                let record = record.clone();
                if *used || m.revoked_families.contains_key(&record.family) {
                    m.revoke_family(&record.family);
                    return Consumed::Replayed(record);
                }
                *used = true;
                Consumed::Fresh(record)
            })
        })
    }

    fn revoke_family<'a>(&'a self, family: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.with(|m| m.revoke_family(family)) })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(async move {
            self.with(|m| {
                let before = m.denied.len() + m.refresh.len() + m.revoked_families.len();
                m.denied.retain(|_, until| *until > now);
                m.refresh.retain(|_, (r, _)| r.expires_at > now);
                m.revoked_families.retain(|_, until| *until > now);
                before - (m.denied.len() + m.refresh.len() + m.revoked_families.len())
            })
        })
    }
}
