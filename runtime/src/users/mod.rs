//! Users: LoopBack's `UserService`: credentials in, a profile out, with argon2id password hashes and
//! no way to tell an unknown email from a wrong password, by message or by time.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use argon2::{Argon2, Params, PasswordHasher as _, PasswordVerifier as _};
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Map, Value};

mod identity;
mod limit;
mod throttle;

/// argon2's parameters, for [`PasswordHasher::with_params`] without a dependency of your own.
pub use argon2::Params as Argon2Params;
pub use identity::{ExternalIdentity, MemoryUserIdentityService, UserIdentityService};
pub use limit::HashingLimit;
pub use throttle::{Attempts, Backoff, LoginThrottle, MemoryThrottleStore, ThrottleKey, ThrottleStore};

use crate::events::{EventKind, Origin, SecurityEvent, emit};
use crate::util::storage::{StoreError, unavailable};
use crate::{AuthError, UserProfile};

/// The single message of every failed login (LoopBack's), so it reveals nothing: the `message`
/// of the 401 body, which has no `code` (LoopBack's has none either).
pub const INVALID_CREDENTIALS: &str = "Invalid email or password.";

/// What a client logs in with: a login and a password, from a JSON body (LoopBack's
/// `{"email": ..., "password": ...}`) or from a `Basic` header (whose user id is the login).
///
/// ```
/// let credentials = authn::users::Credentials::new("ada@example.com", "correct horse");
/// assert_eq!(credentials.login, "ada@example.com");
/// // Debug never shows the password.
/// assert!(!format!("{credentials:?}").contains("horse"));
/// ```
#[derive(Clone, Deserialize)]
pub struct Credentials {
    /// What the user store looks the user up by ([`UserStore::find_by_email`]); in JSON it is
    /// LoopBack's `email`.
    #[serde(rename = "email")]
    pub login: String,
    /// The password, in clear, only in memory for the time of the check.
    pub password: String,
}

impl Credentials {
    /// Credentials from a login and a password.
    pub fn new(login: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials { login: login.into(), password: password.into() }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("login", &self.login).field("password", &"<redacted>").finish()
    }
}

/// A user as a [`UserStore`] keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredUser {
    /// The principal id.
    pub id: String,
    /// The login.
    pub email: String,
    /// A display name.
    pub name: Option<String>,
    /// The argon2 PHC string.
    pub password_hash: String,
    /// Claims every token of this user carries (roles, scopes, tenant...).
    pub claims: Map<String, Value>,
}

impl StoredUser {
    /// A user with its id, login and password hash (from [`PasswordHasher::hash`]), no name
    /// and no claims.
    ///
    /// ```
    /// use authn::users::StoredUser;
    ///
    /// let user = StoredUser::new("42", "ada@example.com", "$argon2id$...")
    ///     .with_name("Ada")
    ///     .with_claim("roles", serde_json::json!(["admin"]))
    ///     .with_claim("tenant", "acme");
    /// assert_eq!(user.profile().claims["tenant"], "acme");
    /// ```
    pub fn new(id: impl Into<String>, email: impl Into<String>, password_hash: impl Into<String>) -> Self {
        StoredUser {
            id: id.into(),
            email: email.into(),
            name: None,
            password_hash: password_hash.into(),
            claims: Map::new(),
        }
    }

    /// With a display name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With one more claim every token of this user carries (roles, `scopes`, tenant...).
    pub fn with_claim(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.claims.insert(key.into(), value.into());
        self
    }

    /// The profile tokens are issued for: id, name, email and the user's claims.
    pub fn profile(&self) -> UserProfile {
        UserProfile {
            id: self.id.clone(),
            name: self.name.clone(),
            email: Some(self.email.clone()),
            claims: self.claims.clone(),
        }
    }
}

/// Where users live: implement it over your database.
pub trait UserStore: Send + Sync + 'static {
    /// The user with this email.
    fn find_by_email<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Option<StoredUser>, StoreError>>;
    /// The user with this id.
    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredUser>, StoreError>>;
}

/// Password hashing: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), run off the
/// async executor, at most a [`HashingLimit`] at a time (by default one per core, shared by the
/// process; beyond its queue a caller gets a 503 with `Retry-After`).
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A hash of nothing, verified when the email is unknown so that both cases cost the same.
    dummy: Arc<String>,
    limit: Arc<HashingLimit>,
    counts: Arc<HashCounts>,
}

#[derive(Debug, Default)]
struct HashCounts {
    hashed: std::sync::atomic::AtomicU64,
    verified: std::sync::atomic::AtomicU64,
}

/// How much argon2 work a [`PasswordHasher`] (and its clones) did: for metrics, and for the tests
/// that prove an unknown user costs the same work as a wrong password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingStats {
    /// Passwords hashed.
    pub hashed: u64,
    /// Passwords verified (against a real or the dummy hash).
    pub verified: u64,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").field("params", &self.params).finish_non_exhaustive()
    }
}

static OWASP: LazyLock<PasswordHasher> = LazyLock::new(|| PasswordHasher::with_params(Params::DEFAULT));

impl Default for PasswordHasher {
    fn default() -> Self {
        OWASP.clone()
    }
}

impl PasswordHasher {
    /// argon2id at its cheapest (8 KiB, one pass, one lane): a hash or a check takes
    /// microseconds instead of OWASP's tens of milliseconds (seconds in a debug build), for
    /// tests. **Never in production**: such hashes are cheap to crack. Hashes made by it verify
    /// with any hasher, and the other way round.
    ///
    /// ```
    /// use authn::users::PasswordHasher;
    /// # actix_web::rt::System::new().block_on(async {
    /// let hasher = PasswordHasher::for_tests();
    /// let hash = hasher.hash("correct horse").await?;
    /// assert!(hasher.verify("correct horse", Some(&hash)).await?);
    /// assert!(PasswordHasher::default().verify("correct horse", Some(&hash)).await?);
    /// # Ok::<(), authn::AuthError>(())
    /// # }).unwrap();
    /// ```
    pub fn for_tests() -> Self {
        // A hasher of its own (its own stats), cheap to make at these parameters.
        let params = Params::new(Params::MIN_M_COST, Params::MIN_T_COST, Params::MIN_P_COST, None);
        PasswordHasher::with_params(params.unwrap_or_default())
    }

    /// Other argon2id parameters ([`Argon2Params`]). Hashes made with other parameters still
    /// verify: each PHC string carries its own.
    ///
    /// ```
    /// use authn::users::{Argon2Params, PasswordHasher};
    ///
    /// // 64 MiB, 3 passes, 4 lanes: stronger than the default, for a server that can pay it.
    /// let hasher = PasswordHasher::with_params(Argon2Params::new(64 * 1024, 3, 4, None).unwrap());
    /// # let _ = hasher;
    /// ```
    pub fn with_params(params: Params) -> Self {
        let argon2 = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params.clone());
        let dummy = argon2
            .hash_password_with_salt(b"authn dummy password", b"authn-dummy-salt")
            .map(|h| h.to_string())
            .unwrap_or_default();
        PasswordHasher { params, dummy: Arc::new(dummy), limit: HashingLimit::shared(), counts: Arc::default() }
    }

    /// Another bound on concurrent hashing than the process-wide one.
    pub fn with_limit(mut self, limit: HashingLimit) -> Self {
        self.limit = Arc::new(limit);
        self
    }

    /// The bound this hasher runs under.
    pub fn limit(&self) -> &HashingLimit {
        &self.limit
    }

    /// The argon2 work done so far by this hasher and its clones.
    pub fn stats(&self) -> HashingStats {
        use std::sync::atomic::Ordering::Relaxed;
        HashingStats { hashed: self.counts.hashed.load(Relaxed), verified: self.counts.verified.load(Relaxed) }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, self.params.clone())
    }

    /// Hashes a password into a PHC string with a fresh random salt.
    pub async fn hash(&self, password: &str) -> Result<String, AuthError> {
        let argon2 = self.argon2();
        let password = password.to_owned();
        let counts = Arc::clone(&self.counts);
        self.limit
            .run(move || {
                counts.hashed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                argon2.hash_password(password.as_bytes()).map(|h| h.to_string())
            })
            .await?
            .map_err(|e| {
                tracing::error!(error = %e, "password hashing failed");
                AuthError::internal()
            })
    }

    /// Whether `password` matches `hash`; with `None` a dummy hash is checked and `false`
    /// returned, taking the same time.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, AuthError> {
        let argon2 = self.argon2();
        let password = password.to_owned();
        let known = hash.is_some();
        let hash = hash.map_or_else(|| (*self.dummy).clone(), str::to_owned);
        let counts = Arc::clone(&self.counts);
        let matches = self
            .limit
            .run(move || {
                counts.verified.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                argon2.verify_password(password.as_bytes(), hash.as_str()).is_ok()
            })
            .await?;
        Ok(known && matches)
    }
}

/// LoopBack's `UserService`.
pub trait UserService: Send + Sync + 'static {
    /// The profile of the user these credentials belong to; every failure is 401
    /// [`INVALID_CREDENTIALS`] (or 429 once throttled, 503 when hashing is at its bound).
    fn verify_credentials<'a>(&'a self, credentials: &'a Credentials) -> BoxFuture<'a, Result<UserProfile, AuthError>>;

    /// The same for a request from `origin` (`Origin::of(&request)`): failures also count
    /// against the client's address ([`LoginThrottle`]), and the security events carry the
    /// client and the request id to the app's sink. Login routes and `"basic"` call this one;
    /// the default ignores the origin.
    fn verify_credentials_from<'a>(
        &'a self,
        credentials: &'a Credentials,
        origin: &'a Origin,
    ) -> BoxFuture<'a, Result<UserProfile, AuthError>> {
        let _ = origin;
        self.verify_credentials(credentials)
    }
    /// The current profile of a user (refresh goes through here, so claims stay current).
    fn find_profile<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<UserProfile, AuthError>>;
}

/// The [`UserService`] over a [`UserStore`], with a [`LoginThrottle`] (in memory unless given
/// another, e.g. one over `authn::jwt::SqliteStore` that several instances share).
#[derive(Clone)]
pub struct DefaultUserService {
    store: Arc<dyn UserStore>,
    hasher: PasswordHasher,
    throttle: Option<LoginThrottle>,
}

impl DefaultUserService {
    async fn verify(&self, credentials: &Credentials, origin: &Origin) -> Result<UserProfile, AuthError> {
        let login = credentials.login.as_str();
        let client = origin.client_ip();
        if let Some(throttle) = &self.throttle {
            // Before any lookup or hashing: the same answer whether the login exists.
            if let Err(refused) = throttle.check(login, client).await {
                emit(origin, SecurityEvent::new(EventKind::LoginThrottled).reason("throttled"));
                return Err(refused);
            }
        }
        let user = self.store.find_by_email(login).await.map_err(unavailable)?;
        // Verify against a real or a dummy hash: the same work either way.
        let ok = self.hasher.verify(&credentials.password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
        match user {
            Some(user) if ok => {
                if let Some(throttle) = &self.throttle {
                    throttle.succeeded(login).await?;
                }
                emit(origin, SecurityEvent::new(EventKind::LoginSucceeded).user(user.id.clone()));
                Ok(user.profile())
            }
            user => {
                if let Some(throttle) = &self.throttle {
                    throttle.failed(login, client).await?;
                }
                let mut event = SecurityEvent::new(EventKind::LoginFailed).reason("invalid_credentials");
                if let Some(user) = user {
                    event = event.user(user.id);
                }
                emit(origin, event);
                Err(AuthError::unauthorized(INVALID_CREDENTIALS))
            }
        }
    }

    /// Over `store`, with OWASP's argon2id parameters and an in-memory login throttle.
    pub fn new(store: Arc<dyn UserStore>) -> Self {
        DefaultUserService { store, hasher: PasswordHasher::default(), throttle: Some(LoginThrottle::in_memory()) }
    }

    /// Another login throttle.
    pub fn with_throttle(mut self, throttle: LoginThrottle) -> Self {
        self.throttle = Some(throttle);
        self
    }

    /// No login throttle (e.g. when a gateway in front already throttles).
    pub fn without_throttle(mut self) -> Self {
        self.throttle = None;
        self
    }

    /// With another hasher (cheaper parameters in tests).
    pub fn with_hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = hasher;
        self
    }

    /// The hasher, to hash passwords at sign-up.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }
}

impl UserService for DefaultUserService {
    fn verify_credentials<'a>(&'a self, credentials: &'a Credentials) -> BoxFuture<'a, Result<UserProfile, AuthError>> {
        Box::pin(async move { self.verify(credentials, &Origin::none()).await })
    }

    fn verify_credentials_from<'a>(
        &'a self,
        credentials: &'a Credentials,
        origin: &'a Origin,
    ) -> BoxFuture<'a, Result<UserProfile, AuthError>> {
        Box::pin(self.verify(credentials, origin))
    }

    fn find_profile<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<UserProfile, AuthError>> {
        Box::pin(async move {
            match self.store.find_by_id(id).await.map_err(unavailable)? {
                Some(user) => Ok(user.profile()),
                None => Err(AuthError::unauthorized("invalid User")),
            }
        })
    }
}

/// A [`UserStore`] in memory, for tests and examples.
#[derive(Default)]
pub struct MemoryUserStore {
    users: Mutex<HashMap<String, StoredUser>>,
}

impl MemoryUserStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryUserStore::default()
    }

    /// Adds or replaces a user.
    pub fn insert(&self, user: StoredUser) {
        if let Ok(mut users) = self.users.lock() {
            users.insert(user.id.clone(), user);
        }
    }
}

impl UserStore for MemoryUserStore {
    fn find_by_email<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Option<StoredUser>, StoreError>> {
        Box::pin(async move {
            let users = self.users.lock().map_err(|_| StoreError::msg("user store lock poisoned"))?;
            Ok(users.values().find(|u| u.email.eq_ignore_ascii_case(email)).cloned())
        })
    }

    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredUser>, StoreError>> {
        Box::pin(async move {
            let users = self.users.lock().map_err(|_| StoreError::msg("user store lock poisoned"))?;
            Ok(users.get(id).cloned())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn cheap() -> PasswordHasher {
        PasswordHasher::with_params(Params::new(8, 1, 1, None).unwrap())
    }

    #[test]
    fn hashes_are_argon2id_phc_strings_that_verify() {
        let hasher = cheap();
        let hash = hasher.hash("correct horse").now_or_never().unwrap().unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{hash}");
        assert!(hasher.verify("correct horse", Some(&hash)).now_or_never().unwrap().unwrap());
        assert!(!hasher.verify("wrong", Some(&hash)).now_or_never().unwrap().unwrap());
        let again = hasher.hash("correct horse").now_or_never().unwrap().unwrap();
        assert_ne!(hash, again, "a fresh salt each time");
    }

    #[test]
    fn an_unknown_user_costs_a_verification_with_the_same_parameters() {
        // The dummy hash carries the hasher's own parameters, so checking it is the same
        // argon2 work as checking a real user's hash: login timing does not reveal emails.
        let hasher = cheap();
        let real = hasher.hash("pw").now_or_never().unwrap().unwrap();
        let params = |phc: &str| phc.split('$').nth(3).unwrap().to_owned();
        assert_eq!(params(&hasher.dummy), params(&real));
        assert!(!hasher.verify("authn dummy password", None).now_or_never().unwrap().unwrap());
        let owasp = PasswordHasher::default();
        assert!(owasp.dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", owasp.dummy);
    }

    #[test]
    fn credentials_never_print_the_password() {
        let c = Credentials::new("a@b", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
