//! The `"api-key"` strategy: a key from a header (or, when configured, a query parameter) that
//! maps to a client's profile and scopes.
//!
//! Keys are `<id>.<secret>`: the id (16 hex digits) finds the key, the secret (32 random bytes,
//! base64url) proves it. Only the SHA-256 of the secret is stored — a fast hash is enough for
//! 256 random bits, which no dictionary holds — and it is compared in constant time. An unknown
//! id costs the same comparison against a dummy. A client may hold several keys at once, so
//! keys rotate without downtime: issue the new one, move the caller over, revoke the old one
//! (or let it expire).
//!
//! ```
//! use actix_web::{get, App};
//! use authn::api_key::{ApiKeyConfig, MemoryApiKeyStore};
//! use authn::{authenticate, CurrentUser, UserProfile};
//!
//! #[authenticate("api-key", scopes = ["reports:read"])]
//! #[get("/reports")]
//! async fn reports(client: CurrentUser) -> String {
//!     format!("reports for {}", client.id)
//! }
//!
//! let keys = MemoryApiKeyStore::new();
//! keys.add_client(UserProfile::new("billing-service").with_claim("scopes", ["reports:read"]));
//! let key = keys.issue("billing-service", None)?; // shown once; only its hash is kept
//! let app = App::new().app_data(ApiKeyConfig::new(keys)).service(reports);
//! # drop((app, key));
//! # Ok::<(), authn::StoreError>(())
//! ```

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use actix_web::HttpRequest;
use base64::Engine as _;
use futures_util::future::BoxFuture;
use subtle::ConstantTimeEq;

use crate::options::OptionSpec;
use crate::util::credentials::{self, Single};
use crate::util::storage::{StoreError, unavailable};
use crate::{AuthError, AuthenticationStrategy, Challenge, Outcome, StrategyOptions, UserProfile};

/// No key in the request.
pub const NOT_FOUND: &str = "API key not found.";
/// A key that is malformed, unknown, revoked, expired, or whose secret does not match: one
/// message for all, so a caller learns nothing about which.
pub const INVALID: &str = "Invalid API key.";

/// A stored key: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// The public half, e.g. `3f9c1e2a7b4d6e80`.
    pub id: String,
    /// SHA-256 of the secret half.
    pub secret_hash: [u8; 32],
    /// The client the key belongs to.
    pub client: String,
    /// Seconds since the epoch after which the key no longer works (a rotation's grace period).
    pub expires_at: Option<u64>,
}

/// Where keys and their clients live: implement it over your database, or use [`MemoryApiKeyStore`].
pub trait ApiKeyStore: Send + Sync + 'static {
    /// The key with this id and the profile of its client.
    fn find<'a>(&'a self, key_id: &'a str) -> BoxFuture<'a, Result<Option<(StoredKey, UserProfile)>, StoreError>>;
}

/// A freshly issued key, split into what the caller gets and what a store keeps.
#[derive(Clone)]
pub struct IssuedKey {
    /// The whole key, `<id>.<secret>`: hand it over once, never store it.
    pub key: String,
    /// What to store.
    pub stored: StoredKey,
}

impl std::fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedKey").field("key", &"<redacted>").field("stored", &self.stored).finish()
    }
}

/// Makes a new key for `client` (for stores other than [`MemoryApiKeyStore`]).
pub fn generate(client: impl Into<String>, expires_at: Option<SystemTime>) -> Result<IssuedKey, StoreError> {
    let mut bytes = [0u8; 8 + 32];
    crate::util::secret::fill(&mut bytes).map_err(|e| StoreError::msg(format!("random generator: {e}")))?;
    let (id, secret) = bytes.split_at(8);
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let expires_at = expires_at.map(crate::util::clock::unix_seconds);
    let stored = StoredKey {
        secret_hash: crate::util::secret::digest(&secret),
        id: id.clone(),
        client: client.into(),
        expires_at,
    };
    Ok(IssuedKey { key: format!("{id}.{secret}"), stored })
}

/// Keys and clients in memory, for tests, examples and apps whose clients are configured at
/// start-up. Clones share the same keys.
#[derive(Clone, Default)]
pub struct MemoryApiKeyStore {
    inner: Arc<RwLock<Keys>>,
}

#[derive(Default)]
struct Keys {
    clients: HashMap<String, UserProfile>,
    keys: HashMap<String, StoredKey>,
}

impl MemoryApiKeyStore {
    /// No clients yet.
    pub fn new() -> Self {
        MemoryApiKeyStore::default()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Keys> {
        self.inner.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds or replaces a client; its id is the profile's id, its scopes the profile's.
    pub fn add_client(&self, profile: UserProfile) {
        self.write().clients.insert(profile.id.clone(), profile);
    }

    /// A new key for a known client, optionally expiring. The key is returned once.
    pub fn issue(&self, client: &str, expires_at: Option<SystemTime>) -> Result<String, StoreError> {
        let mut keys = self.write();
        if !keys.clients.contains_key(client) {
            return Err(StoreError::msg(format!("no API client {client:?}")));
        }
        let issued = generate(client, expires_at)?;
        keys.keys.insert(issued.stored.id.clone(), issued.stored);
        Ok(issued.key)
    }

    /// Stores a key issued elsewhere (e.g. read from a configuration file of hashes).
    pub fn insert(&self, key: StoredKey) {
        self.write().keys.insert(key.id.clone(), key);
    }

    /// Revokes one key; whether it existed.
    pub fn revoke(&self, key_id: &str) -> bool {
        self.write().keys.remove(key_id).is_some()
    }

    /// The ids of a client's keys, sorted.
    pub fn key_ids(&self, client: &str) -> Vec<String> {
        let keys = self.inner.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut ids: Vec<String> = keys.keys.values().filter(|k| k.client == client).map(|k| k.id.clone()).collect();
        ids.sort();
        ids
    }
}

impl ApiKeyStore for MemoryApiKeyStore {
    fn find<'a>(&'a self, key_id: &'a str) -> BoxFuture<'a, Result<Option<(StoredKey, UserProfile)>, StoreError>> {
        let keys = self.inner.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let found = keys.keys.get(key_id).and_then(|k| Some((k.clone(), keys.clients.get(&k.client)?.clone())));
        Box::pin(std::future::ready(Ok(found)))
    }
}

/// Where the `"api-key"` strategy reads the key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeySource {
    Header(actix_web::http::header::HeaderName),
    Query(String),
}

/// The `"api-key"` strategy's configuration, as app data.
#[derive(Clone)]
pub struct ApiKeyConfig {
    store: Arc<dyn ApiKeyStore>,
    sources: Vec<KeySource>,
    realm: Cow<'static, str>,
}

impl std::fmt::Debug for ApiKeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyConfig")
            .field("sources", &self.sources)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl ApiKeyConfig {
    /// Keys from `store`, read from the `X-API-Key` header.
    pub fn new(store: impl ApiKeyStore) -> Self {
        ApiKeyConfig::shared(Arc::new(store))
    }

    /// The same over a store the app already shares.
    pub fn shared(store: Arc<dyn ApiKeyStore>) -> Self {
        let header = actix_web::http::header::HeaderName::from_static("x-api-key");
        ApiKeyConfig { store, sources: vec![KeySource::Header(header)], realm: Cow::Borrowed("authn") }
    }

    /// Reads the key from this header instead of `X-API-Key`.
    ///
    /// # Panics
    /// When `name` is not a valid header name: a programming error, caught at start-up.
    pub fn header(mut self, name: &str) -> Self {
        let name = actix_web::http::header::HeaderName::try_from(name)
            .unwrap_or_else(|_| panic!("ApiKeyConfig::header: {name:?} is not a valid header name"));
        self.sources.retain(|s| !matches!(s, KeySource::Header(_)));
        self.sources.insert(0, KeySource::Header(name));
        self
    }

    /// Also accepts the key as this query parameter, after the header. URLs end up in logs and
    /// browser histories: opt in only for clients that cannot send headers.
    pub fn query(mut self, name: impl Into<String>) -> Self {
        self.sources.push(KeySource::Query(name.into()));
        self
    }

    /// The realm of the `WWW-Authenticate: ApiKey` challenge.
    pub fn realm(mut self, realm: impl Into<Cow<'static, str>>) -> Self {
        self.realm = realm.into();
        self
    }

    fn challenge(&self) -> Challenge {
        let challenge = Challenge::new("ApiKey").param("realm", self.realm.clone());
        match self.sources.first() {
            Some(KeySource::Header(name)) => challenge.param("header", name.as_str().to_owned()),
            _ => challenge,
        }
    }

    /// The key presented, if any; `Err` when the header is sent twice.
    fn presented<'r>(&self, request: &'r HttpRequest) -> Result<Option<&'r str>, ()> {
        for source in &self.sources {
            match source {
                KeySource::Header(name) => match credentials::single(request, name) {
                    Single::Absent => {}
                    Single::Repeated => return Err(()),
                    Single::One(value) => return Ok(Some(value.to_str().map_err(|_| ())?.trim())),
                },
                KeySource::Query(name) => {
                    if let Some(key) = credentials::query(request, name) {
                        return Ok(Some(key));
                    }
                }
            }
        }
        Ok(None)
    }
}

fn config_of(request: &HttpRequest) -> Result<&ApiKeyConfig, AuthError> {
    crate::strategies::app_config(request, "api-key")
}

/// What a presented key is worth: the client's profile, or nothing (with the same work done).
async fn check(store: &dyn ApiKeyStore, key: &str) -> Result<Option<UserProfile>, StoreError> {
    const DUMMY: [u8; 32] = [0; 32];
    let (id, secret) = key.split_once('.').unwrap_or(("", key));
    let found = if id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) { store.find(id).await? } else { None };
    let presented = crate::util::secret::digest(secret);
    let expected = found.as_ref().map_or(&DUMMY, |(stored, _)| &stored.secret_hash);
    let matches: bool = presented.ct_eq(expected).into();
    Ok(match found {
        Some((stored, profile)) if matches && stored.expires_at.is_none_or(|at| crate::util::clock::now() < at) => {
            Some(profile)
        }
        _ => None,
    })
}

/// Authenticates an API key with the app's [`ApiKeyConfig`]. Route option: `scopes = [...]`,
/// checked against the client's scopes (403 `insufficient_scope`). No key: the next strategy is
/// tried. A bad key: 401 [`INVALID`], and the chain ends.
#[derive(Debug, Default)]
pub struct ApiKeyStrategy;

#[crate::strategy("api-key")]
impl AuthenticationStrategy for ApiKeyStrategy {
    async fn authenticate(&self, request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
        let config = config_of(request)?;
        let invalid = || {
            AuthError::unauthorized(INVALID)
                .with_challenge(config.challenge().param("error", "invalid_key"))
                .stop_chain()
        };
        let key = match config.presented(request) {
            Err(()) => return Err(invalid()),
            Ok(None) => return Err(AuthError::missing_credentials(NOT_FOUND).with_challenge(config.challenge())),
            Ok(Some(key)) => key,
        };
        let profile = check(config.store.as_ref(), key).await.map_err(unavailable)?.ok_or_else(invalid)?;
        crate::scope::require(&profile, options, config.challenge())?;
        Ok(Outcome::User(profile))
    }

    fn challenge(&self, request: &HttpRequest, _options: &StrategyOptions) -> Option<Challenge> {
        config_of(request).ok().map(ApiKeyConfig::challenge)
    }

    fn config_type(&self) -> Option<crate::options::ConfigType> {
        Some(crate::options::ConfigType::of::<ApiKeyConfig>())
    }

    fn accepted_options(&self) -> &'static [OptionSpec] {
        crate::scope::OPTIONS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        futures_util::FutureExt::now_or_never(f).expect("memory store answers at once")
    }

    #[test]
    fn issued_keys_check_and_nothing_else_does() {
        let keys = MemoryApiKeyStore::new();
        keys.add_client(UserProfile::new("svc"));
        let key = keys.issue("svc", None).unwrap();
        let (id, secret) = key.split_once('.').unwrap();
        assert_eq!((id.len(), secret.len()), (16, 43));
        assert_eq!(block(check(&keys, &key)).unwrap().map(|p| p.id), Some("svc".into()));
        let mut tampered = key.clone();
        tampered.pop();
        tampered.push(if key.ends_with('A') { 'B' } else { 'A' });
        for bad in [tampered.as_str(), secret, id, "", ".", "zzzzzzzzzzzzzzzz.x", &format!("{id}.")] {
            assert_eq!(block(check(&keys, bad)).unwrap(), None, "{bad}");
        }
    }

    #[test]
    fn rotation_revocation_and_expiry() {
        let keys = MemoryApiKeyStore::new();
        keys.add_client(UserProfile::new("svc"));
        let old = keys.issue("svc", None).unwrap();
        let new = keys.issue("svc", None).unwrap();
        assert_eq!(keys.key_ids("svc").len(), 2);
        assert!(block(check(&keys, &old)).unwrap().is_some() && block(check(&keys, &new)).unwrap().is_some());
        assert!(keys.revoke(old.split_once('.').unwrap().0));
        assert!(block(check(&keys, &old)).unwrap().is_none());
        assert!(block(check(&keys, &new)).unwrap().is_some());
        let expired = keys.issue("svc", Some(SystemTime::now() - Duration::from_secs(1))).unwrap();
        assert!(block(check(&keys, &expired)).unwrap().is_none());
        assert!(keys.issue("nobody", None).is_err());
    }

    #[test]
    fn the_key_itself_is_never_stored_or_printed() {
        let issued = generate("svc", None).unwrap();
        let secret = issued.key.split_once('.').unwrap().1;
        assert!(!format!("{issued:?}").contains(secret));
        assert_eq!(issued.stored.secret_hash, crate::util::secret::digest(secret));
    }
}
