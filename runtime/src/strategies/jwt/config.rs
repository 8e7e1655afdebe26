//! `JwtConfig`: keys, accepted algorithms, claim checks and token sources, checked when built.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey, Validation};

use super::bearer::TokenSource;
use super::store::TokenStore;

/// Why a configuration was refused: at start-up, with a message that says what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfigError(pub(crate) String);

impl fmt::Display for JwtConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JWT configuration: {}", self.0)
    }
}

impl std::error::Error for JwtConfigError {}

fn err(message: impl Into<String>) -> JwtConfigError {
    JwtConfigError(message.into())
}

/// One key: the algorithm it is used with (never taken from a token), an optional key id, the
/// verification key and, to issue tokens, the signing key.
#[derive(Clone)]
pub struct JwtKey {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) decoding: DecodingKey,
    pub(crate) encoding: Option<EncodingKey>,
}

impl fmt::Debug for JwtKey {
    // Key material is never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKey").field("alg", &self.alg).field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl JwtKey {
    /// An HMAC secret (HS256/384/512), at least as long as the hash (RFC 7518 §3.2): 32, 48 or
    /// 64 bytes. There is no default secret.
    ///
    /// ```
    /// use authn::jwt::{Algorithm, JwtKey};
    /// assert!(JwtKey::hmac(Algorithm::HS256, b"too short").is_err());
    /// assert!(JwtKey::hmac(Algorithm::HS256, &[7u8; 32]).is_ok());
    /// ```
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Self, JwtConfigError> {
        super::install_crypto_provider();
        let minimum = match alg {
            Algorithm::HS256 => 32,
            Algorithm::HS384 => 48,
            Algorithm::HS512 => 64,
            other => return Err(err(format!("{other:?} is not an HMAC algorithm; use JwtKey::from_pem or from_der"))),
        };
        if secret.len() < minimum {
            return Err(err(format!(
                "the {alg:?} secret is {} bytes; it must be at least {minimum} bytes ({} bits) of random data",
                secret.len(),
                minimum * 8
            )));
        }
        Ok(JwtKey {
            alg,
            kid: None,
            decoding: DecodingKey::from_secret(secret),
            encoding: Some(EncodingKey::from_secret(secret)),
        })
    }

    /// An RSA (RS*, PS*), EC (ES256/384) or Ed25519 (EdDSA) key from PEM: the public key to verify
    /// and, to issue tokens, the private key.
    pub fn from_pem(alg: Algorithm, public_pem: &[u8], private_pem: Option<&[u8]>) -> Result<Self, JwtConfigError> {
        // Key parsing already asks jsonwebtoken for its backend: pick ours before it picks none.
        super::install_crypto_provider();
        let bad =
            |what: &str, e: jsonwebtoken::errors::Error| err(format!("the {alg:?} {what} key is not valid PEM: {e}"));
        let (decoding, encoding) = match alg.family() {
            AlgorithmFamily::Rsa => (
                DecodingKey::from_rsa_pem(public_pem).map_err(|e| bad("public", e))?,
                private_pem.map(EncodingKey::from_rsa_pem).transpose().map_err(|e| bad("private", e))?,
            ),
            AlgorithmFamily::Ec => (
                DecodingKey::from_ec_pem(public_pem).map_err(|e| bad("public", e))?,
                private_pem.map(EncodingKey::from_ec_pem).transpose().map_err(|e| bad("private", e))?,
            ),
            AlgorithmFamily::Ed => (
                DecodingKey::from_ed_pem(public_pem).map_err(|e| bad("public", e))?,
                private_pem.map(EncodingKey::from_ed_pem).transpose().map_err(|e| bad("private", e))?,
            ),
            AlgorithmFamily::Hmac => return Err(err("HMAC keys are secrets: use JwtKey::hmac")),
        };
        Ok(JwtKey { alg, kid: None, decoding, encoding })
    }

    /// The same from DER (PKCS#1 RSA, SEC1/PKCS#8 EC, PKCS#8 Ed25519 private keys; the public
    /// key in the form jsonwebtoken reads for the family).
    pub fn from_der(alg: Algorithm, public_der: &[u8], private_der: Option<&[u8]>) -> Result<Self, JwtConfigError> {
        super::install_crypto_provider();
        let (decoding, encoding) = match alg.family() {
            AlgorithmFamily::Rsa => (DecodingKey::from_rsa_der(public_der), private_der.map(EncodingKey::from_rsa_der)),
            AlgorithmFamily::Ec => (DecodingKey::from_ec_der(public_der), private_der.map(EncodingKey::from_ec_der)),
            AlgorithmFamily::Ed => (DecodingKey::from_ed_der(public_der), private_der.map(EncodingKey::from_ed_der)),
            AlgorithmFamily::Hmac => return Err(err("HMAC keys are secrets: use JwtKey::hmac")),
        };
        Ok(JwtKey { alg, kid: None, decoding, encoding })
    }

    /// Names the key: tokens it signs carry this `kid`, and verification picks keys by it.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

/// The verification keys, replaceable at run time (key rotation, JWKS refresh), and the tokens
/// they verified: replacing the keys replaces the cache.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    pub(crate) keys: Vec<VerifyingKey>,
    pub(crate) cache: Option<super::cache::TokenCache>,
}

#[derive(Debug)]
pub(crate) struct VerifyingKey {
    pub(crate) key: JwtKey,
    /// Validation for this key's single algorithm, with the config's claim checks.
    pub(crate) validation: Validation,
    /// For an HMAC key, its HMAC state, prepared once.
    pub(crate) hmac: Option<super::hmac::PreparedHmac>,
}

impl KeySet {
    /// The key for a token: by `kid` when the token names one; without a `kid`, the only key, or
    /// the keys configured for the algorithm the token claims (the claim only narrows the
    /// search among configured keys; each key verifies with its own algorithm).
    pub(crate) fn candidates(&self, kid: Option<&str>, alg: Option<Algorithm>) -> Vec<&VerifyingKey> {
        match kid {
            Some(kid) => self.keys.iter().filter(|k| k.key.kid.as_deref() == Some(kid)).collect(),
            None if self.keys.len() == 1 => self.keys.iter().collect(),
            None => self.keys.iter().filter(|k| Some(k.key.alg) == alg).collect(),
        }
    }
}

type UnknownKidHook = dyn Fn(&str) + Send + Sync;

/// How often the unknown-kid hook may run, and the kids it ran for: a flood of tokens naming
/// random kids must not become a flood of JWK Set fetches.
pub(crate) struct UnknownKids {
    hook: Arc<UnknownKidHook>,
    cooldown: Duration,
    state: std::sync::Mutex<UnknownKidState>,
}

#[derive(Default)]
struct UnknownKidState {
    last_call: Option<Instant>,
    /// Kids seen unknown within the cooldown (bounded: a flood fills it once, then only the
    /// cooldown applies).
    recent: HashMap<String, Instant>,
}

/// Remembered unknown kids, at most.
const MAX_REMEMBERED_KIDS: usize = 1024;

impl UnknownKids {
    /// Calls the hook for `kid` unless it ran less than a cooldown ago, or `kid` was already
    /// found unknown within that time. Never holds its lock while the hook runs.
    pub(crate) fn seen(&self, kid: &str) {
        let now = Instant::now();
        {
            let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let cooldown = self.cooldown;
            if state.recent.get(kid).is_some_and(|at| now.duration_since(*at) < cooldown) {
                return;
            }
            if state.recent.len() >= MAX_REMEMBERED_KIDS {
                state.recent.retain(|_, at| now.duration_since(*at) < cooldown);
            }
            if state.recent.len() < MAX_REMEMBERED_KIDS {
                state.recent.insert(kid.to_owned(), now);
            }
            if state.last_call.is_some_and(|at| now.duration_since(at) < cooldown) {
                return;
            }
            state.last_call = Some(now);
        }
        (self.hook)(kid);
    }
}

pub(crate) struct Inner {
    pub(crate) keys: RwLock<Arc<KeySet>>,
    /// The keys given with [`JwtConfigBuilder::key`]: kept when a JWK Set is replaced.
    pub(crate) local: Vec<JwtKey>,
    pub(crate) signing: Option<JwtKey>,
    pub(crate) base: Validation,
    pub(crate) max_age: Option<Duration>,
    pub(crate) required_claims: Vec<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Option<String>,
    pub(crate) realm: String,
    pub(crate) sources: Vec<TokenSource>,
    pub(crate) access_ttl: Duration,
    pub(crate) token_claims: Option<Vec<String>>,
    pub(crate) store: Option<Arc<dyn TokenStore>>,
    pub(crate) max_token_bytes: usize,
    pub(crate) on_unknown_kid: Option<UnknownKids>,
    /// The verified-token cache's bound in bytes; 0: no cache.
    pub(crate) cache_bytes: u64,
    /// The `typ` header every token must have (RFC 9068's `at+jwt`), if required.
    pub(crate) token_type: Option<String>,
    /// Configurations of other issuers, chosen by a token's unverified `iss` (multi-tenant).
    pub(crate) issuers: Vec<JwtConfig>,
    /// An identity provider's keys, fetched and kept fresh.
    #[cfg(feature = "oidc")]
    pub(crate) remote: Option<Arc<super::remote::RemoteKeys>>,
}

/// The verified-token cache's default bound: some 4,000 typical tokens with their profiles.
pub(crate) const DEFAULT_CACHE_BYTES: u64 = 4 * 1024 * 1024;

/// Everything the `"jwt"` strategy and the token services need. Cheap to clone; register it as
/// app data (`App::new().app_data(config.clone())`).
///
/// ```
/// use std::time::Duration;
/// use authn::jwt::{Algorithm, JwtConfig, JwtKey};
///
/// let secret = [42u8; 32]; // in real life: 32 random bytes from the environment
/// let config = JwtConfig::builder()
///     .key(JwtKey::hmac(Algorithm::HS256, &secret)?)
///     .issuer("https://auth.example.com")
///     .audience("todo-api")
///     .leeway(Duration::from_secs(30))
///     .access_token_ttl(Duration::from_secs(15 * 60))
///     .build()?;
/// # Ok::<(), authn::jwt::JwtConfigError>(())
/// ```
#[derive(Clone)]
pub struct JwtConfig {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.inner.keys.read().map(|k| k.keys.len()).unwrap_or(0);
        f.debug_struct("JwtConfig")
            .field("keys", &keys)
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("realm", &self.inner.realm)
            .finish_non_exhaustive()
    }
}

impl JwtConfig {
    /// A builder; `build()` checks everything.
    pub fn builder() -> JwtConfigBuilder {
        JwtConfigBuilder::default()
    }

    /// Replaces the JWK Set keys (those of `jwks_json`/`jwks_file` and earlier calls) with this
    /// one (JSON), e.g. after fetching it again. Keys given with [`JwtConfigBuilder::key`] stay,
    /// and the signing key does not change. Tokens signed by keys still in the set keep
    /// verifying.
    pub fn set_jwks(&self, jwks_json: &str) -> Result<(), JwtConfigError> {
        self.replace_jwks_keys(jwks_keys(jwks_json)?)
    }

    /// The configured keys plus `jwks`, in place of the JWK Set keys in use (and their cache).
    pub(crate) fn replace_jwks_keys(&self, jwks: Vec<JwtKey>) -> Result<(), JwtConfigError> {
        let mut keys = self.inner.local.clone();
        keys.extend(jwks);
        let verifying = build_keyset(keys, &self.inner.base, self.inner.cache_bytes)?;
        let mut slot = self.inner.keys.write().map_err(|_| err("key set lock poisoned"))?;
        *slot = Arc::new(verifying);
        Ok(())
    }

    /// The identity provider's key set, when the keys are remote.
    #[cfg(feature = "oidc")]
    pub(crate) fn remote(&self) -> Option<&Arc<super::remote::RemoteKeys>> {
        self.inner.remote.as_ref()
    }

    /// The identity provider's discovery document (read once, kept): the OpenID Connect login
    /// takes its endpoints from it.
    #[cfg(feature = "oidc")]
    pub(crate) async fn provider_metadata(&self) -> Result<Arc<serde_json::Value>, super::remote::KeyFetchError> {
        match self.remote() {
            Some(remote) => remote.metadata().await,
            None => Err(super::remote::KeyFetchError::Invalid {
                url: self.inner.issuer.clone().unwrap_or_default(),
                reason: "no identity provider configured".into(),
            }),
        }
    }

    /// Fetches the identity provider's keys now (discovery first, the first time): a warm-up
    /// at start-up, so the first requests do not wait for it. Returns how many keys are
    /// usable. Without remote keys, there is nothing to fetch and the count is of the keys
    /// configured. A failure here is not fatal: requests fetch again (with back-off) and get
    /// 503 until keys are had.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use authn::jwt::JwtConfig;
    ///
    /// let config = JwtConfig::builder()
    ///     .issuer_discovery("https://login.example.com/")
    ///     .audience("https://api.example.com")
    ///     .build()?;
    /// match config.fetch_keys().await {
    ///     Ok(keys) => println!("{keys} keys from the identity provider"),
    ///     Err(error) => eprintln!("identity provider unreachable for now: {error}"),
    /// }
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "oidc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    pub async fn fetch_keys(&self) -> Result<usize, super::remote::KeyFetchError> {
        match self.remote() {
            Some(remote) => remote.fetch_now(self).await,
            None => Ok(self.keyset().keys.len()),
        }
    }

    /// The current keys, read-locked for the time of one verification (no reference count
    /// traffic on the hot path; a writer waits at most that long).
    pub(crate) fn keyset(&self) -> std::sync::RwLockReadGuard<'_, Arc<KeySet>> {
        self.inner.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The token this request presents, from the configured sources (e.g. to revoke it at
    /// logout); `None` when there is none or the header is malformed.
    ///
    /// ```
    /// use actix_web::test::TestRequest;
    /// use authn::jwt::{Algorithm, JwtConfig, JwtKey};
    ///
    /// let config = JwtConfig::builder().key(JwtKey::hmac(Algorithm::HS256, &[5u8; 32])?).build()?;
    /// let request = TestRequest::default().insert_header(("authorization", "Bearer a.b.c")).to_http_request();
    /// assert_eq!(config.presented_token(&request), Some("a.b.c"));
    /// # Ok::<(), authn::jwt::JwtConfigError>(())
    /// ```
    pub fn presented_token<'r>(&self, request: &'r actix_web::HttpRequest) -> Option<&'r str> {
        match super::bearer::find(request, &self.inner.sources) {
            Ok(super::bearer::Presented::Token(token)) if !token.is_empty() => Some(token),
            _ => None,
        }
    }

    /// The realm of the `WWW-Authenticate` challenge.
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// How long issued access tokens live.
    pub fn access_token_ttl(&self) -> Duration {
        self.inner.access_ttl
    }

    /// The store used for revocation, if any.
    pub fn store(&self) -> Option<&Arc<dyn TokenStore>> {
        self.inner.store.as_ref()
    }

    /// What the verified-token cache holds and did since the keys were last replaced (all
    /// zero without a cache), for metrics.
    pub fn cache_stats(&self) -> super::CacheStats {
        self.keyset().cache.as_ref().map(super::cache::TokenCache::stats).unwrap_or_default()
    }
}

fn build_keyset(keys: Vec<JwtKey>, base: &Validation, cache_bytes: u64) -> Result<KeySet, JwtConfigError> {
    let mut verifying = Vec::with_capacity(keys.len());
    for key in keys {
        if let Some(kid) = &key.kid
            && verifying.iter().any(|v: &VerifyingKey| v.key.kid.as_deref() == Some(kid))
        {
            return Err(err(format!("two keys share the kid {kid:?}")));
        }
        let mut validation = base.clone();
        validation.algorithms = vec![key.alg];
        let hmac = match key.decoding.family() {
            AlgorithmFamily::Hmac => {
                key.decoding.try_get_as_bytes().ok().and_then(|secret| super::hmac::PreparedHmac::new(key.alg, secret))
            }
            _ => None,
        };
        verifying.push(VerifyingKey { key, validation, hmac });
    }
    if verifying.len() > 1 && verifying.iter().any(|v| v.key.kid.is_none()) {
        return Err(err("with several keys, every key needs a kid (JwtKey::with_kid) so tokens can name theirs"));
    }
    let cache = (cache_bytes > 0).then(|| super::cache::TokenCache::new(cache_bytes));
    Ok(KeySet { keys: verifying, cache })
}

/// Reads the keys of a JWK Set. Each key needs `kid` and `alg`: the algorithm comes from the
/// configuration, never from a token.
fn jwks_keys(json: &str) -> Result<Vec<JwtKey>, JwtConfigError> {
    super::install_crypto_provider();
    let set: JwkSet = serde_json::from_str(json).map_err(|e| err(format!("the JWK Set is not valid JSON: {e}")))?;
    let mut keys = Vec::with_capacity(set.keys.len());
    for jwk in &set.keys {
        let kid = jwk.common.key_id.clone().ok_or_else(|| err("every JWK needs a \"kid\""))?;
        let alg = jwk
            .common
            .key_algorithm
            .and_then(|a| format!("{a:?}").parse::<Algorithm>().ok())
            .ok_or_else(|| err(format!("JWK {kid:?} needs a signing \"alg\"")))?;
        let decoding = DecodingKey::from_jwk(jwk).map_err(|e| err(format!("JWK {kid:?} is not usable: {e}")))?;
        if decoding.family() != alg.family() {
            return Err(err(format!("JWK {kid:?} is not a key for {alg:?}")));
        }
        keys.push(JwtKey { alg, kid: Some(kid), decoding, encoding: None });
    }
    Ok(keys)
}

/// Builds a [`JwtConfig`].
#[derive(Default)]
pub struct JwtConfigBuilder {
    keys: Vec<JwtKey>,
    jwks: Vec<String>,
    signing_kid: Option<String>,
    issuers: Vec<String>,
    audiences: Vec<String>,
    leeway: Option<Duration>,
    max_age: Option<Duration>,
    required_claims: Vec<String>,
    realm: Option<String>,
    sources: Vec<TokenSource>,
    access_ttl: Option<Duration>,
    token_claims: Option<Vec<String>>,
    store: Option<Arc<dyn TokenStore>>,
    max_token_bytes: Option<usize>,
    on_unknown_kid: Option<Arc<UnknownKidHook>>,
    unknown_kid_cooldown: Option<Duration>,
    cache_bytes: Option<u64>,
    token_type: Option<String>,
    any_audience: bool,
    others: Vec<JwtConfig>,
    #[cfg(feature = "oidc")]
    remote: Option<super::remote::Source>,
    #[cfg(feature = "oidc")]
    remote_options: Option<super::remote::RemoteKeyOptions>,
    errors: Vec<JwtConfigError>,
}

impl JwtConfigBuilder {
    /// Adds a key. Several keys are valid at once (rotation); each then needs a kid.
    pub fn key(mut self, key: JwtKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Adds every key of a JWK Set given as JSON (no network: fetch it yourself, then call
    /// [`JwtConfig::set_jwks`] to refresh).
    pub fn jwks_json(mut self, json: impl Into<String>) -> Self {
        self.jwks.push(json.into());
        self
    }

    /// Adds every key of a JWK Set read from a file.
    pub fn jwks_file(mut self, path: impl AsRef<std::path::Path>) -> Self {
        match std::fs::read_to_string(path.as_ref()) {
            Ok(json) => self.jwks.push(json),
            Err(e) => self.errors.push(err(format!("cannot read the JWK Set {}: {e}", path.as_ref().display()))),
        }
        self
    }

    /// Which key signs new tokens (by kid); by default the first key that has a private part.
    pub fn signing_kid(mut self, kid: impl Into<String>) -> Self {
        self.signing_kid = Some(kid.into());
        self
    }

    /// An accepted issuer (`iss`); several may be given. Issued tokens carry the first. When
    /// set, `iss` is required.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// An accepted audience (`aud`); several may be given. Issued tokens carry the first. When
    /// set, `aud` is required.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and the maximum age (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = Some(leeway);
        self
    }

    /// Refuses tokens issued (`iat`) longer ago than this, whatever their `exp`; makes `iat`
    /// required.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// A claim every token must carry (beyond `exp`, always required).
    pub fn require_claim(mut self, claim: impl Into<String>) -> Self {
        self.required_claims.push(claim.into());
        self
    }

    /// The realm of the `WWW-Authenticate: Bearer` challenge (default `"authn"`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Where tokens are looked for, in order (default: the `Authorization` header only).
    pub fn token_sources(mut self, sources: impl IntoIterator<Item = TokenSource>) -> Self {
        self.sources = sources.into_iter().collect();
        self
    }

    /// Lifetime of issued access tokens (default 1 hour).
    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_ttl = Some(ttl);
        self
    }

    /// Restricts which profile claims (besides id, name and email) go into issued tokens;
    /// by default all of them do.
    pub fn token_claims<I: IntoIterator<Item = S>, S: Into<String>>(mut self, claims: I) -> Self {
        self.token_claims = Some(claims.into_iter().map(Into::into).collect());
        self
    }

    /// The store of revoked token ids (and refresh tokens): revocation works only with one.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Longest token accepted, in bytes (default 8 KiB); longer ones are refused unread.
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.max_token_bytes = Some(bytes);
        self
    }

    /// Called with the kid of a token that names no configured key: the place to trigger a JWKS
    /// fetch (then [`JwtConfig::set_jwks`]). The token itself is refused. Anyone can send a
    /// token with any kid, so the hook runs at most once per cooldown (default 30 s, see
    /// [`JwtConfigBuilder::unknown_kid_cooldown`]), and not again for a kid already found
    /// unknown within that time.
    pub fn on_unknown_kid(mut self, hook: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_unknown_kid = Some(Arc::new(hook));
        self
    }

    /// The shortest time between two calls of the unknown-kid hook (default 30 s).
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.unknown_kid_cooldown = Some(cooldown);
        self
    }

    /// The verified-token cache's bound, in bytes of tokens and profiles (estimated); on by
    /// default at 4 MiB. A token seen again inside its validity window skips signature and
    /// claims work; revocation is still checked on every request; a forged token never enters;
    /// replacing the keys empties it. `0` turns it off (every request verifies in full).
    ///
    /// ```
    /// use authn::jwt::{Algorithm, JwtConfig, JwtKey};
    ///
    /// let config = JwtConfig::builder()
    ///     .key(JwtKey::hmac(Algorithm::HS256, &[4u8; 32])?)
    ///     .verified_token_cache(16 * 1024 * 1024) // a busy API with many users
    ///     .build()?;
    /// assert_eq!(config.cache_stats().max_bytes, 16 * 1024 * 1024);
    /// # Ok::<(), authn::jwt::JwtConfigError>(())
    /// ```
    pub fn verified_token_cache(mut self, max_bytes: u64) -> Self {
        self.cache_bytes = Some(max_bytes);
        self
    }

    /// Requires every token's `typ` header to be `token_type`, compared without case and with
    /// or without the `application/` prefix (RFC 9068 §4: resource servers may require
    /// `at+jwt`, so an ID token is never taken for an access token). By default any `typ`, or
    /// none, is accepted.
    ///
    /// ```
    /// use authn::jwt::{Algorithm, JwtConfig, JwtKey};
    /// let config = JwtConfig::builder()
    ///     .key(JwtKey::hmac(Algorithm::HS256, &[6u8; 32])?)
    ///     .require_token_type("at+jwt")
    ///     .build()?;
    /// # drop(config);
    /// # Ok::<(), authn::jwt::JwtConfigError>(())
    /// ```
    pub fn require_token_type(mut self, token_type: impl Into<String>) -> Self {
        self.token_type = Some(token_type.into());
        self
    }

    /// Also accepts the tokens of another issuer, verified entirely by `config` (its keys, its
    /// audience, its claim checks): several identity providers, or tenants, in one app. A
    /// token's `iss`, unverified, only chooses which configuration verifies it; a token whose
    /// `iss` names none of them is verified by this one (and refused unless it is this one's).
    ///
    /// ```
    /// use authn::jwt::{Algorithm, JwtConfig, JwtKey};
    /// let partner = JwtConfig::builder()
    ///     .key(JwtKey::hmac(Algorithm::HS256, &[1u8; 32])?)
    ///     .issuer("https://partner.example.com")
    ///     .audience("todo-api")
    ///     .build()?;
    /// let config = JwtConfig::builder()
    ///     .key(JwtKey::hmac(Algorithm::HS256, &[2u8; 32])?)
    ///     .issuer("https://auth.example.com")
    ///     .audience("todo-api")
    ///     .also_issuer(partner)
    ///     .build()?;
    /// # drop(config);
    /// # Ok::<(), authn::jwt::JwtConfigError>(())
    /// ```
    pub fn also_issuer(mut self, config: JwtConfig) -> Self {
        self.others.push(config);
        self
    }

    /// Accepts tokens whatever their `aud` says. Keys from an identity provider require an
    /// [`audience`](Self::audience) otherwise: a provider signs tokens for every API it serves,
    /// and without the check a token meant for another of them would do here.
    pub fn allow_any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Verifies tokens of the identity provider at `issuer`: its keys come from OpenID Connect
    /// discovery (`{issuer}/.well-known/openid-configuration`, RFC 8414's path as a fallback),
    /// whose `issuer` must be this string exactly, as must every token's `iss`. HTTPS is
    /// required but for loopback addresses. The keys are fetched on first use (or by
    /// [`JwtConfig::fetch_keys`]), kept by the answer's `Cache-Control` and refreshed in the
    /// background; see [`RemoteKeyOptions`](super::RemoteKeyOptions) for the bounds. An
    /// [`audience`](Self::audience) is required.
    ///
    /// ```
    /// use authn::jwt::JwtConfig;
    /// let config = JwtConfig::builder()
    ///     .issuer_discovery("https://dev-abc123.us.auth0.com/")
    ///     .audience("https://todo.example.com/api")
    ///     .build()?;
    /// # drop(config);
    /// # Ok::<(), authn::jwt::JwtConfigError>(())
    /// ```
    #[cfg(feature = "oidc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    pub fn issuer_discovery(mut self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        match reqwest::Url::parse(&issuer) {
            Ok(url) => self.remote = Some(super::remote::Source::Discovery(url)),
            Err(e) => self.errors.push(err(format!("the issuer {issuer:?} is not a URL: {e}"))),
        }
        self.issuers = vec![issuer];
        self
    }

    /// Verifies tokens with the keys of the JWK Set at `url`, fetched and kept as with
    /// [`issuer_discovery`](Self::issuer_discovery), for a provider without discovery. The
    /// [`issuer`](Self::issuer) and an [`audience`](Self::audience) are required.
    #[cfg(feature = "oidc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    pub fn jwks_uri(mut self, url: impl AsRef<str>) -> Self {
        match reqwest::Url::parse(url.as_ref()) {
            Ok(url) => self.remote = Some(super::remote::Source::Jwks(url)),
            Err(e) => self.errors.push(err(format!("the JWK Set URL {:?} is not a URL: {e}", url.as_ref()))),
        }
        self
    }

    /// How the remote key set is fetched and kept (timeouts, size cap, freshness, cooldown,
    /// stale-if-error window).
    #[cfg(feature = "oidc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    pub fn remote_key_options(mut self, options: super::remote::RemoteKeyOptions) -> Self {
        self.remote_options = Some(options);
        self
    }

    /// Checks and builds.
    pub fn build(mut self) -> Result<JwtConfig, JwtConfigError> {
        // Every key comes from a JwtKey constructor or a JWK Set, which installed the crypto
        // backend already.
        if let Some(error) = self.errors.pop() {
            return Err(error);
        }
        let local = self.keys.clone();
        for json in &self.jwks {
            self.keys.extend(jwks_keys(json)?);
        }
        #[cfg(feature = "oidc")]
        let remote = match self.remote.take() {
            Some(source) => {
                let issuer = self.issuers.first().cloned().ok_or_else(|| {
                    err("keys from a JWK Set URL need the issuer their tokens name: .issuer(\"https://...\")")
                })?;
                if self.audiences.is_empty() && !self.any_audience {
                    return Err(err("tokens from an identity provider must name this API as their audience: \
                         .audience(\"...\") (or .allow_any_audience() if the provider issues tokens for nothing else)"));
                }
                let options = self.remote_options.take().unwrap_or_default();
                Some(Arc::new(super::remote::RemoteKeys::new(source, issuer, options).map_err(err)?))
            }
            None => None,
        };
        #[cfg(feature = "oidc")]
        let has_remote = remote.is_some();
        #[cfg(not(feature = "oidc"))]
        let has_remote = false;
        for other in &self.others {
            if other.inner.issuer.is_none() {
                return Err(err("a configuration given to also_issuer needs its .issuer(...): it is chosen by it"));
            }
            if !other.inner.issuers.is_empty() {
                return Err(err("a configuration given to also_issuer cannot have issuers of its own"));
            }
        }
        if self.keys.is_empty() && !has_remote {
            return Err(err("no key: add one with .key(JwtKey::...) or .jwks_json(...); there is no default secret"));
        }
        let signing = match &self.signing_kid {
            Some(kid) => Some(
                self.keys
                    .iter()
                    .find(|k| k.kid.as_deref() == Some(kid.as_str()) && k.encoding.is_some())
                    .cloned()
                    .ok_or_else(|| err(format!("no key with kid {kid:?} can sign")))?,
            ),
            None => self.keys.iter().find(|k| k.encoding.is_some()).cloned(),
        };
        let leeway = self.leeway.unwrap_or(Duration::from_secs(30));
        let mut base = Validation::new(Algorithm::HS256);
        base.leeway = leeway.as_secs();
        base.validate_nbf = true;
        base.validate_exp = true;
        let mut spec_claims = vec!["exp".to_owned()];
        if !self.issuers.is_empty() {
            base.set_issuer(&self.issuers);
            spec_claims.push("iss".into());
        }
        if self.any_audience {
            base.validate_aud = false;
        } else if self.audiences.is_empty() {
            // A token naming an audience is meant for someone: refuse it rather than accept it
            // for us (jsonwebtoken's behaviour since 9.0, kept explicit).
            base.validate_aud = true;
        } else {
            base.set_audience(&self.audiences);
            spec_claims.push("aud".into());
        }
        let mut required_claims = Vec::new();
        for claim in self.required_claims {
            if ["exp", "nbf", "aud", "iss", "sub"].contains(&claim.as_str()) {
                spec_claims.push(claim);
            } else {
                required_claims.push(claim);
            }
        }
        if self.max_age.is_some() && !required_claims.iter().any(|c| c == "iat") {
            required_claims.push("iat".into());
        }
        base.set_required_spec_claims(&spec_claims);
        let cache_bytes = self.cache_bytes.unwrap_or(DEFAULT_CACHE_BYTES);
        let keyset = build_keyset(self.keys, &base, cache_bytes)?;
        let sources = if self.sources.is_empty() { vec![TokenSource::AuthorizationHeader] } else { self.sources };
        Ok(JwtConfig {
            inner: Arc::new(Inner {
                keys: RwLock::new(Arc::new(keyset)),
                local,
                signing,
                base,
                max_age: self.max_age,
                required_claims,
                issuer: self.issuers.first().cloned(),
                audience: self.audiences.first().cloned(),
                realm: self.realm.unwrap_or_else(|| "authn".into()),
                sources,
                access_ttl: self.access_ttl.unwrap_or(Duration::from_secs(3600)),
                token_claims: self.token_claims,
                store: self.store,
                max_token_bytes: self.max_token_bytes.unwrap_or(8 * 1024),
                cache_bytes,
                on_unknown_kid: self.on_unknown_kid.map(|hook| UnknownKids {
                    hook,
                    cooldown: self.unknown_kid_cooldown.unwrap_or(Duration::from_secs(30)),
                    state: Default::default(),
                }),
                token_type: self.token_type,
                issuers: self.others,
                #[cfg(feature = "oidc")]
                remote,
            }),
        })
    }
}
