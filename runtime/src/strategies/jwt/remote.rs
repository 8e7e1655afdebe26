//! Keys of an identity provider the app does not run (feature `oidc`): found by OpenID
//! Connect discovery, fetched from its JWK Set, and kept fresh without ever making a request
//! wait for a key set it already has.
//!
//! What each request sees, by the age of the last good fetch:
//!
//! | state | requests | fetching |
//! |---|---|---|
//! | never fetched (cold) | wait for the one fetch in flight; 503 + `Retry-After` if it fails | single flight, back-off after a failure |
//! | fresh, before the refresh point | verified | none |
//! | fresh, after the refresh point | verified | one background refresh |
//! | expired, within the stale-if-error window | verified with the last good keys | background refresh with back-off |
//! | expired beyond the window | 503 + `Retry-After` (the client did nothing wrong) | one fetch per back-off |
//!
//! A token naming a kid the set lacks triggers at most one forced fetch per cooldown, and the
//! kid is remembered as unknown for that time; tokens with known kids never touch the limiter.
//! A fetch that fails, or brings no usable key, never replaces the keys in use; single keys
//! that cannot be used (`use: enc`, `kty: oct`, an unknown `kty` or curve) are skipped with a
//! warning.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use reqwest::Url;
use serde_json::Value;

use super::config::{JwtConfig, JwtKey};

/// How a remote key set is fetched and kept: timeouts, size cap, freshness bounds, cooldown,
/// stale-if-error window. The defaults suit a public IdP (Auth0, Entra ID, Keycloak, Cognito,
/// Google).
///
/// ```
/// use std::time::Duration;
/// use authn::jwt::RemoteKeyOptions;
///
/// let options = RemoteKeyOptions::default()
///     .timeout(Duration::from_secs(3))
///     .stale_if_error(Duration::from_secs(24 * 3600));
/// assert_eq!(options.cooldown_duration(), Duration::from_secs(30));
/// ```
#[derive(Debug, Clone)]
pub struct RemoteKeyOptions {
    connect_timeout: Duration,
    timeout: Duration,
    max_bytes: usize,
    default_max_age: Duration,
    min_max_age: Duration,
    max_max_age: Duration,
    cooldown: Duration,
    stale_if_error: Duration,
    max_backoff: Duration,
}

impl Default for RemoteKeyOptions {
    fn default() -> Self {
        RemoteKeyOptions {
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            max_bytes: 256 * 1024,
            default_max_age: Duration::from_secs(10 * 60),
            min_max_age: Duration::from_secs(60),
            max_max_age: Duration::from_secs(24 * 3600),
            cooldown: Duration::from_secs(30),
            stale_if_error: Duration::from_secs(6 * 3600),
            max_backoff: Duration::from_secs(60),
        }
    }
}

impl RemoteKeyOptions {
    /// The longest wait for a connection (default 2 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest a whole fetch may take, connection to last byte (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest discovery document or JWK Set read (default 256 KiB).
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// How long a key set stays fresh when the answer has no `Cache-Control: max-age`
    /// (default 10 minutes).
    pub fn default_max_age(mut self, age: Duration) -> Self {
        self.default_max_age = age;
        self
    }

    /// The bounds `max-age` is clamped into (default 1 minute to 24 hours): a provider's
    /// `no-cache` must not become a fetch per request, nor a year-long header a year of stale
    /// keys.
    pub fn max_age_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.min_max_age = min;
        self.max_max_age = max.max(min);
        self
    }

    /// The shortest time between two fetches forced by unknown kids, and how long a kid found
    /// unknown is remembered (default 30 s).
    pub fn cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// How long after expiry the last good keys keep verifying while the provider cannot be
    /// reached (default 6 hours); after that, requests get 503 until a fetch succeeds.
    pub fn stale_if_error(mut self, window: Duration) -> Self {
        self.stale_if_error = window;
        self
    }

    /// The longest wait between two failed fetches (default 60 s; the wait doubles from 1 s).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The cooldown in force.
    pub fn cooldown_duration(&self) -> Duration {
        self.cooldown
    }
}

/// Why a discovery document or a JWK Set could not be had. The message names the URL and what
/// went wrong (a timeout is told apart from a refused connection), never a token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFetchError {
    /// No answer within the timeout.
    Timeout {
        /// What was fetched.
        url: String,
    },
    /// The connection could not be made or broke.
    Connect {
        /// What was fetched.
        url: String,
        /// The client's reason.
        reason: String,
    },
    /// The provider answered with an error status.
    Status {
        /// What was fetched.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The answer is larger than [`RemoteKeyOptions::max_bytes`].
    TooLarge {
        /// What was fetched.
        url: String,
    },
    /// The answer is not the JSON document expected.
    Invalid {
        /// What was fetched.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The discovery document names another issuer than the one configured.
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The document's `issuer`.
        found: String,
    },
    /// A URL that is neither HTTPS nor on a loopback address.
    Insecure {
        /// The URL.
        url: String,
    },
    /// The JWK Set holds no key that can verify a signature.
    NoUsableKeys {
        /// What was fetched.
        url: String,
    },
}

impl fmt::Display for KeyFetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyFetchError::Timeout { url } => write!(f, "{url}: no answer within the timeout"),
            KeyFetchError::Connect { url, reason } => write!(f, "{url}: connection failed: {reason}"),
            KeyFetchError::Status { url, status } => write!(f, "{url}: answered {status}"),
            KeyFetchError::TooLarge { url } => write!(f, "{url}: answer larger than the size cap"),
            KeyFetchError::Invalid { url, reason } => write!(f, "{url}: {reason}"),
            KeyFetchError::IssuerMismatch { expected, found } => {
                write!(f, "the discovery document's issuer {found:?} is not the configured {expected:?}")
            }
            KeyFetchError::Insecure { url } => write!(f, "{url}: not HTTPS (only loopback addresses may use http)"),
            KeyFetchError::NoUsableKeys { url } => write!(f, "{url}: no key in the JWK Set can verify a signature"),
        }
    }
}

impl std::error::Error for KeyFetchError {}

/// Where the keys come from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// `{issuer}/.well-known/openid-configuration`, then RFC 8414's path.
    Discovery(Url),
    /// A JWK Set URL given directly.
    Jwks(Url),
}

/// The remote half of a configuration's keys.
pub(crate) struct RemoteKeys {
    source: Source,
    /// The issuer the discovery document must name, exactly.
    issuer: String,
    options: RemoteKeyOptions,
    http: reqwest::Client,
    state: Mutex<State>,
    /// Held by the one fetch in flight: whoever waits on it reads that fetch's result.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    jwks_uri: Option<Url>,
    /// The discovery document, once read (the OpenID Connect login takes its endpoints).
    metadata: Option<std::sync::Arc<Value>>,
    /// When the last good fetch's keys stop being fresh, and when to refresh ahead of that.
    fresh_until: Option<Instant>,
    refresh_at: Option<Instant>,
    /// Successful fetches so far: a waiter tells from it whether the fetch it waited for
    /// happened.
    generation: u64,
    /// Failed fetches in a row, and the time before which no fetch is tried again.
    failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<KeyFetchError>,
    background: bool,
    forced_at: Option<Instant>,
    /// Kids found unknown after a fetch, with when (bounded).
    unknown: HashMap<String, Instant>,
}

/// Remembered unknown kids, at most: a flood fills it once, then only the cooldown applies.
const MAX_UNKNOWN_KIDS: usize = 1024;

/// What a request must do before verifying.
enum Readiness {
    Ready,
    /// Keys are there; one background refresh is due.
    RefreshInBackground,
    /// No keys to verify with: fetch now (waiting for one in flight).
    FetchNow,
    /// No keys, and the last fetch failed less than a back-off ago.
    Unavailable(Duration),
}

impl RemoteKeys {
    pub(crate) fn new(source: Source, issuer: String, options: RemoteKeyOptions) -> Result<Self, String> {
        let url = match &source {
            Source::Discovery(url) | Source::Jwks(url) => url,
        };
        if !secure(url) {
            return Err(KeyFetchError::Insecure { url: url.to_string() }.to_string());
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            // Fetches are minutes apart and may come from any worker's runtime: a pooled
            // connection belongs to the runtime that opened it, so none is kept.
            .pool_max_idle_per_host(0)
            .user_agent(concat!("authn/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("the HTTP client cannot be built: {e}"))?;
        let jwks_uri = match &source {
            Source::Jwks(url) => Some(url.clone()),
            Source::Discovery(_) => None,
        };
        Ok(RemoteKeys {
            source,
            issuer,
            options,
            http,
            state: Mutex::new(State { jwks_uri, ..State::default() }),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn readiness(&self, now: Instant) -> Readiness {
        let mut state = self.state();
        let backing_off = state.retry_at.is_some_and(|at| now < at);
        let usable = state.fresh_until.is_some_and(|until| now < until + self.options.stale_if_error);
        if !usable {
            return match state.retry_at {
                Some(at) if backing_off => Readiness::Unavailable(at - now),
                _ => Readiness::FetchNow,
            };
        }
        if state.refresh_at.is_some_and(|at| now >= at) && !backing_off && !state.background {
            state.background = true;
            return Readiness::RefreshInBackground;
        }
        Readiness::Ready
    }

    /// Run before each verification: keys there (refreshed in the background when due), or
    /// fetched now when there are none, or a 503 the caller should retry after.
    pub(crate) async fn ready(&self, config: &JwtConfig) -> Result<(), Duration> {
        match self.readiness(Instant::now()) {
            Readiness::Ready => Ok(()),
            Readiness::RefreshInBackground => {
                self.refresh_in_background(config);
                Ok(())
            }
            Readiness::Unavailable(wait) => Err(wait),
            Readiness::FetchNow => {
                let _ = self.fetch_now(config).await;
                match self.readiness(Instant::now()) {
                    Readiness::Ready | Readiness::RefreshInBackground => Ok(()),
                    Readiness::Unavailable(wait) => Err(wait),
                    Readiness::FetchNow => Err(Duration::from_secs(1)),
                }
            }
        }
    }

    fn refresh_in_background(&self, config: &JwtConfig) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to run it on: the next request past expiry fetches inline.
            self.state().background = false;
            return;
        };
        let config = config.clone();
        runtime.spawn(async move {
            if let Some(remote) = config.remote() {
                let _ = remote.fetch_now(&config).await;
                remote.state().background = false;
            }
        });
    }

    /// A token named `kid`, which the keys lack: one forced fetch, unless one happened less
    /// than a cooldown ago or this kid was already found unknown in that time. True when the
    /// keys changed and the token is worth verifying again.
    pub(crate) async fn unknown_kid(&self, config: &JwtConfig, kid: &str) -> bool {
        let now = Instant::now();
        let seen = {
            let mut state = self.state();
            let cooldown = self.options.cooldown;
            if state.unknown.get(kid).is_some_and(|at| now.duration_since(*at) < cooldown) {
                return false;
            }
            if state.forced_at.is_some_and(|at| now.duration_since(at) < cooldown) {
                remember(&mut state, kid, now, cooldown);
                return false;
            }
            state.forced_at = Some(now);
            state.generation
        };
        let changed = self.fetch_once(config, seen).await.is_ok();
        let known = config.keyset().keys.iter().any(|k| k.key.kid.as_deref() == Some(kid));
        if !known {
            remember(&mut self.state(), kid, Instant::now(), self.options.cooldown);
        }
        changed && known
    }

    /// A fetch now, or the result of the one in flight: the warm-up of
    /// [`JwtConfig::fetch_keys`], a cold request's fetch, the background refresh.
    pub(crate) async fn fetch_now(&self, config: &JwtConfig) -> Result<usize, KeyFetchError> {
        let seen = self.state().generation;
        self.fetch_once(config, seen).await
    }

    /// One fetch, unless another finished since the caller looked (`seen` successful fetches):
    /// concurrent callers share the fetch in flight.
    pub(crate) async fn fetch_once(&self, config: &JwtConfig, seen: u64) -> Result<usize, KeyFetchError> {
        let _flight = self.fetching.lock().await;
        {
            let state = self.state();
            if state.generation != seen {
                return Ok(config.keyset().keys.len());
            }
        }
        let result = self.fetch(config).await;
        let now = Instant::now();
        let mut state = self.state();
        match &result {
            Ok(_) => {
                state.failures = 0;
                state.retry_at = None;
                state.last_error = None;
                state.generation += 1;
            }
            Err(error) => {
                state.failures = state.failures.saturating_add(1);
                let backoff =
                    Duration::from_secs(1 << state.failures.min(16).saturating_sub(1)).min(self.options.max_backoff);
                state.retry_at = Some(now + backoff);
                if state.last_error.as_ref() != Some(error) {
                    tracing::warn!(issuer = %self.issuer, error = %error, retry_in_s = backoff.as_secs(), "fetching the identity provider's keys failed; the last good keys stay in use");
                }
                state.last_error = Some(error.clone());
            }
        }
        result
    }

    /// Discovery when the JWK Set URL is not known yet, then the JWK Set; the keys replace the
    /// remote ones in use only when at least one is usable.
    async fn fetch(&self, config: &JwtConfig) -> Result<usize, KeyFetchError> {
        let known = self.state().jwks_uri.clone();
        let jwks_uri = match known {
            Some(uri) => uri,
            None => self.discover().await?,
        };
        let answer = self.get(&jwks_uri).await?;
        let keys = usable_keys(&answer.body, jwks_uri.as_str())?;
        let count = keys.len();
        let before: Vec<String> = config.keyset().keys.iter().filter_map(|k| k.key.kid.clone()).collect();
        config
            .replace_jwks_keys(keys)
            .map_err(|e| KeyFetchError::Invalid { url: jwks_uri.to_string(), reason: e.0 })?;
        let after: Vec<String> = config.keyset().keys.iter().filter_map(|k| k.key.kid.clone()).collect();
        if before != after {
            tracing::info!(issuer = %self.issuer, kids = ?after, "the identity provider's keys changed");
        }
        let max_age = answer
            .max_age
            .unwrap_or(self.options.default_max_age)
            .clamp(self.options.min_max_age, self.options.max_max_age);
        let now = Instant::now();
        let mut state = self.state();
        state.fresh_until = Some(now + max_age);
        // Refreshed ahead, at four fifths of the freshness: a warm set never blocks a request.
        state.refresh_at = Some(now + max_age.mul_f64(0.8));
        state.unknown.retain(|kid, _| !after.contains(kid));
        Ok(count)
    }

    /// The provider's discovery document: read once (sharing the fetch lock), then kept.
    pub(crate) async fn metadata(&self) -> Result<std::sync::Arc<Value>, KeyFetchError> {
        if let Some(known) = self.state().metadata.clone() {
            return Ok(known);
        }
        let _flight = self.fetching.lock().await;
        if let Some(known) = self.state().metadata.clone() {
            return Ok(known);
        }
        self.discover().await?;
        self.state().metadata.clone().ok_or_else(|| KeyFetchError::Invalid {
            url: self.issuer.clone(),
            reason: "no discovery document for a JWK Set URL given directly".into(),
        })
    }

    /// Discovery: the document checked, kept, and its `jwks_uri`.
    async fn discover(&self) -> Result<Url, KeyFetchError> {
        let Source::Discovery(issuer) = &self.source else {
            return Err(KeyFetchError::Invalid {
                url: self.issuer.clone(),
                reason: "no discovery document for a JWK Set URL given directly".into(),
            });
        };
        let openid = well_known(issuer, "openid-configuration", false);
        let answer = match self.get(&openid).await {
            // RFC 8414 §3: the path goes after the well-known segment.
            Err(KeyFetchError::Status { status: 404, .. }) => {
                self.get(&well_known(issuer, "oauth-authorization-server", true)).await?
            }
            other => other?,
        };
        let url = openid.to_string();
        let document: Value = serde_json::from_slice(&answer.body)
            .map_err(|e| KeyFetchError::Invalid { url: url.clone(), reason: format!("not JSON: {e}") })?;
        let found = document.get("issuer").and_then(Value::as_str).unwrap_or_default();
        if found != self.issuer {
            return Err(KeyFetchError::IssuerMismatch { expected: self.issuer.clone(), found: found.to_owned() });
        }
        let jwks_uri = document
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| KeyFetchError::Invalid { url: url.clone(), reason: "no jwks_uri".into() })?;
        let jwks_uri = Url::parse(jwks_uri)
            .map_err(|e| KeyFetchError::Invalid { url: url.clone(), reason: format!("jwks_uri is not a URL: {e}") })?;
        if !secure(&jwks_uri) {
            return Err(KeyFetchError::Insecure { url: jwks_uri.to_string() });
        }
        let mut state = self.state();
        state.jwks_uri = Some(jwks_uri.clone());
        state.metadata = Some(std::sync::Arc::new(document));
        Ok(jwks_uri)
    }

    async fn get(&self, url: &Url) -> Result<Answer, KeyFetchError> {
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                KeyFetchError::Timeout { url: url.to_string() }
            } else {
                KeyFetchError::Connect { url: url.to_string(), reason: without_url(&e) }
            }
        };
        let response = self
            .http
            .get(url.clone())
            .header("accept", "application/jwk-set+json, application/json")
            .send()
            .await
            .map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            return Err(KeyFetchError::Status { url: url.to_string(), status: status.as_u16() });
        }
        let max_age = freshness(response.headers());
        let body = crate::util::http::read_capped(response, self.options.max_bytes).await.map_err(|e| match e {
            crate::util::http::ReadError::TooLarge => KeyFetchError::TooLarge { url: url.to_string() },
            crate::util::http::ReadError::Transport(e) => failed(e),
        })?;
        Ok(Answer { body, max_age })
    }
}

fn remember(state: &mut State, kid: &str, now: Instant, cooldown: Duration) {
    if state.unknown.len() >= MAX_UNKNOWN_KIDS {
        state.unknown.retain(|_, at| now.duration_since(*at) < cooldown);
    }
    if state.unknown.len() < MAX_UNKNOWN_KIDS {
        state.unknown.insert(kid.to_owned(), now);
    }
}

struct Answer {
    body: Vec<u8>,
    max_age: Option<Duration>,
}

/// reqwest's error text without the URL it may repeat (the caller names it once).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" ({url})"), "").replace(url.as_str(), "");
    }
    crate::util::http::with_causes(text, e)
}

/// `max-age` minus `Age` (RFC 9111 §4.2.1); `no-cache`/`no-store` as zero, to be clamped up.
fn freshness(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let control = headers.get_all(reqwest::header::CACHE_CONTROL);
    let mut max_age = None;
    for value in control.iter().filter_map(|v| v.to_str().ok()) {
        for directive in value.split(',').map(str::trim) {
            let lower = directive.to_ascii_lowercase();
            if lower == "no-cache" || lower == "no-store" {
                return Some(Duration::ZERO);
            }
            if let Some(seconds) = lower.strip_prefix("max-age=") {
                max_age = seconds.trim_matches('"').parse::<u64>().ok();
            }
        }
    }
    let age = headers
        .get(reqwest::header::AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    max_age.map(|seconds| Duration::from_secs(seconds.saturating_sub(age)))
}

/// HTTPS, or plain HTTP to a loopback address (a development IdP, the tests).
pub(crate) fn secure(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            None => false,
        },
        _ => false,
    }
}

/// `https://host/.well-known/{name}` after the issuer's path (OpenID Connect Discovery §4), or
/// before it (RFC 8414 §3, `inserted`).
fn well_known(issuer: &Url, name: &str, inserted: bool) -> Url {
    let path = issuer.path().trim_end_matches('/');
    let mut url = issuer.clone();
    url.set_query(None);
    url.set_fragment(None);
    if inserted {
        url.set_path(&format!("/.well-known/{name}{path}"));
    } else {
        url.set_path(&format!("{path}/.well-known/{name}"));
    }
    url
}

/// The keys of a JWK Set that can verify signatures. A key is skipped, with a warning, when it
/// is for encryption, symmetric (a remote set never holds a secret worth trusting), of an
/// unknown type or curve, or says an algorithm its type cannot do; an empty result is an error,
/// so a set like that never replaces the keys in use.
pub(crate) fn usable_keys(body: &[u8], url: &str) -> Result<Vec<JwtKey>, KeyFetchError> {
    super::install_crypto_provider();
    let invalid = |reason: String| KeyFetchError::Invalid { url: url.to_owned(), reason };
    let set: Value = serde_json::from_slice(body).map_err(|e| invalid(format!("not JSON: {e}")))?;
    let entries = set.get("keys").and_then(Value::as_array).ok_or_else(|| invalid("no \"keys\" array".into()))?;
    let mut keys: Vec<JwtKey> = Vec::with_capacity(entries.len());
    for entry in entries {
        let kid = entry.get("kid").and_then(Value::as_str).map(str::to_owned);
        match usable_key(entry) {
            Ok(alg_and_key) => {
                let (alg, decoding) = alg_and_key;
                if kid.is_some() && keys.iter().any(|k| k.kid == kid) {
                    tracing::warn!(url, kid = ?kid, "a JWK Set names one kid twice; the first key is kept");
                    continue;
                }
                keys.push(JwtKey { alg, kid, decoding, encoding: None });
            }
            Err(reason) => tracing::warn!(url, kid = ?kid, reason, "skipped a JWK that cannot verify signatures"),
        }
    }
    // Several keys: each needs a kid, or tokens could not name theirs.
    if keys.len() > 1 && keys.iter().any(|k| k.kid.is_none()) {
        let before = keys.len();
        keys.retain(|k| k.kid.is_some());
        tracing::warn!(url, skipped = before - keys.len(), "skipped JWKs without a kid in a set of several keys");
    }
    if keys.is_empty() {
        return Err(KeyFetchError::NoUsableKeys { url: url.to_owned() });
    }
    Ok(keys)
}

fn usable_key(entry: &Value) -> Result<(Algorithm, DecodingKey), &'static str> {
    if entry.get("use").and_then(Value::as_str).is_some_and(|u| u != "sig") {
        return Err("not a signing key (use)");
    }
    if let Some(ops) = entry.get("key_ops").and_then(Value::as_array)
        && !ops.iter().any(|op| op.as_str() == Some("verify"))
    {
        return Err("not a verification key (key_ops)");
    }
    let kty = entry.get("kty").and_then(Value::as_str).ok_or("no kty")?;
    let curve = entry.get("crv").and_then(Value::as_str);
    // Without `alg`, the one algorithm the key's type and curve mean; RSA keys are RS256, what
    // every provider that omits `alg` (Entra ID) signs with.
    let implied = match (kty, curve) {
        ("RSA", _) => Algorithm::RS256,
        ("EC", Some("P-256")) => Algorithm::ES256,
        ("EC", Some("P-384")) => Algorithm::ES384,
        ("OKP", Some("Ed25519")) => Algorithm::EdDSA,
        ("oct", _) => return Err("a symmetric key"),
        _ => return Err("an unsupported key type or curve"),
    };
    let alg = match entry.get("alg").and_then(Value::as_str) {
        None => implied,
        Some(name) => name.parse::<Algorithm>().map_err(|_| "an unknown alg")?,
    };
    let fits = match alg.family() {
        AlgorithmFamily::Rsa => kty == "RSA",
        AlgorithmFamily::Ec => alg == implied,
        AlgorithmFamily::Ed => alg == implied,
        _ => false,
    };
    if !fits {
        return Err("an alg its key type cannot do");
    }
    let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|_| "not a valid JWK")?;
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|_| "not a valid JWK")?;
    Ok((alg, decoding))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn only_https_or_loopback() {
        assert!(secure(&url("https://idp.example.com/")));
        assert!(secure(&url("http://127.0.0.1:8080/")));
        assert!(secure(&url("http://[::1]/")));
        assert!(secure(&url("http://localhost/realms/x")));
        assert!(!secure(&url("http://idp.example.com/")));
        assert!(!secure(&url("http://127.0.0.1.evil.example/")));
        assert!(!secure(&url("ftp://127.0.0.1/")));
    }

    #[test]
    fn well_known_paths_follow_both_specs() {
        let issuer = url("https://idp.example.com/realms/demo/");
        assert_eq!(
            well_known(&issuer, "openid-configuration", false).as_str(),
            "https://idp.example.com/realms/demo/.well-known/openid-configuration"
        );
        assert_eq!(
            well_known(&issuer, "oauth-authorization-server", true).as_str(),
            "https://idp.example.com/.well-known/oauth-authorization-server/realms/demo"
        );
        assert_eq!(
            well_known(&url("https://idp.example.com"), "openid-configuration", false).as_str(),
            "https://idp.example.com/.well-known/openid-configuration"
        );
    }

    #[test]
    fn freshness_reads_max_age_minus_age() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(freshness(&headers), None);
        headers.insert("cache-control", "public, max-age=600, must-revalidate".parse().unwrap());
        assert_eq!(freshness(&headers), Some(Duration::from_secs(600)));
        headers.insert("age", "100".parse().unwrap());
        assert_eq!(freshness(&headers), Some(Duration::from_secs(500)));
        headers.insert("cache-control", "no-cache".parse().unwrap());
        assert_eq!(freshness(&headers), Some(Duration::ZERO));
        headers.insert("cache-control", "max-age=junk".parse().unwrap());
        assert_eq!(freshness(&headers), None);
    }

    const RSA_N: &str = "vAGAihChX5ttUozLhrcL-ldsl70mub8rQgrVvmF6Zr0LbKU6AUkUVlvL9ESVbBrNsZMI6SWcbOxsAc1XQt-AoQ8lFQcBESa5Dtpd4-epW_Ke4ethlabKtI4leqrFoXo7UbRBP7AqJYuTyNACKgz28wi4D9FlzddW7jgIjysXK1Gqi3-LbifgVzcogSgcW-mEUJzKtFE3dnsyF9-VlyYCKsJT4MtGIQ-mFR3s8FLc16B-eC_Kepgqjd3VZL7_lPSE0ASUN3nv6JygzWo9KYgm4xihB6dMx0cv1DW7b1LfE9IZeDts2tzemxlNbRfv5C0ubkEDr1RrzUzb01G7Pm7VQw";

    #[test]
    fn unusable_keys_are_skipped_not_fatal() {
        let set = serde_json::json!({"keys": [
            {"kty": "RSA", "use": "enc", "alg": "RSA-OAEP", "kid": "enc", "n": RSA_N, "e": "AQAB"},
            {"kty": "oct", "kid": "secret", "k": "c2VjcmV0"},
            {"kty": "XYZ", "kid": "future"},
            {"kty": "RSA", "kid": "wrong-alg", "alg": "ES256", "n": RSA_N, "e": "AQAB"},
            {"kty": "RSA", "kid": "sig", "n": RSA_N, "e": "AQAB"},
            {"kty": "RSA", "kid": "sig", "alg": "RS512", "n": RSA_N, "e": "AQAB"},
        ]});
        let keys = usable_keys(set.to_string().as_bytes(), "https://idp/jwks").unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("sig"));
        assert_eq!(keys[0].alg, Algorithm::RS256);
    }

    #[test]
    fn a_set_without_usable_keys_is_an_error() {
        for body in
            [r#"{"keys": []}"#, r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#, "{}", "not json", r#"{"keys": 1}"#]
        {
            assert!(usable_keys(body.as_bytes(), "https://idp/jwks").is_err(), "{body}");
        }
    }
}
