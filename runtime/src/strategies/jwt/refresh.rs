//! Refresh tokens: LoopBack's `RefreshTokenService`, with rotation and replay detection
//! (OAuth 2.0 Security BCP §4.14). Refresh tokens are opaque random strings, stored hashed.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::JwtTokenService;
use super::config::{JwtConfig, JwtConfigError};
use super::store::{Consumed, RefreshRecord, TokenStore, hash_token, unavailable};
use super::token::{TokenService, rejected};
use crate::events::{EventKind, Origin, SecurityEvent, emit};
use crate::users::UserService;
use crate::util::clock::now;
use crate::util::secret::random_id;
use crate::{AuthError, UserProfile};

/// An access token, a refresh token and the access token's lifetime: the body of LoopBack's
/// `/users/refresh-login` and `/refresh` (plus the `expiresIn` LoopBack never filled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    /// A JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// An opaque token for the next refresh; valid once.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// Answered as JSON with `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1): no
/// cache keeps a response that carries tokens.
///
/// ```
/// use actix_web::{test::TestRequest, Responder};
/// let pair = authn::jwt::TokenPair { access_token: "a".into(), refresh_token: "r".into(), expires_in: 60 };
/// let response = pair.respond_to(&TestRequest::default().to_http_request());
/// assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
/// ```
impl actix_web::Responder for TokenPair {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _req: &actix_web::HttpRequest) -> actix_web::HttpResponse {
        token_response(&self)
    }
}

/// A JSON response that carries tokens: `Cache-Control: no-store` and `Pragma: no-cache`
/// (RFC 6749 §5.1), for login routes that answer their own body.
///
/// ```
/// let response = authn::jwt::token_response(&serde_json::json!({"token": "a.b.c"}));
/// assert_eq!(response.headers().get("pragma").unwrap(), "no-cache");
/// ```
pub fn token_response(body: &impl Serialize) -> actix_web::HttpResponse {
    use actix_web::http::header::{CACHE_CONTROL, HeaderValue, PRAGMA};
    actix_web::HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((PRAGMA, HeaderValue::from_static("no-cache")))
        .json(body)
}

/// Issues, rotates and revokes refresh tokens.
///
/// Each login starts a *family*. A refresh consumes its token and returns a new pair in the same
/// family; presenting a consumed token again means it was stolen (or replayed), so the whole
/// family is revoked and the current holder must log in again. Logout revokes the family and the
/// access token. Refresh reloads the user through the [`UserService`], so claims stay current.
#[derive(Clone)]
pub struct RefreshTokenService {
    tokens: JwtTokenService,
    store: Arc<dyn TokenStore>,
    users: Arc<dyn UserService>,
    ttl: Duration,
}

impl std::fmt::Debug for RefreshTokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshTokenService").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

const INVALID: &str = "Invalid Token";

impl RefreshTokenService {
    /// Over the configuration's store (required) and a user service. Refresh tokens live 14 days.
    pub fn new(config: JwtConfig, users: Arc<dyn UserService>) -> Result<Self, JwtConfigError> {
        let store = config
            .store()
            .cloned()
            .ok_or_else(|| JwtConfigError("refresh tokens need a store: JwtConfig::builder().store(...)".into()))?;
        Ok(RefreshTokenService {
            tokens: JwtTokenService::new(config),
            store,
            users,
            ttl: Duration::from_secs(14 * 24 * 3600),
        })
    }

    /// Another refresh-token lifetime.
    pub fn with_refresh_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// A new pair for a user who just proved who they are (a new family).
    pub async fn issue(&self, profile: &UserProfile) -> Result<TokenPair, AuthError> {
        let family = random_id(16)?;
        self.pair(profile, family).await
    }

    async fn pair(&self, profile: &UserProfile, family: String) -> Result<TokenPair, AuthError> {
        let access = self.tokens.generate_token(profile)?;
        let refresh_token = random_id(32)?;
        let record = RefreshRecord {
            hash: hash_token(&refresh_token),
            family,
            user_id: profile.id.clone(),
            expires_at: now() + self.ttl.as_secs(),
        };
        self.store.insert_refresh(record).await.map_err(unavailable)?;
        Ok(TokenPair { access_token: access.token, refresh_token, expires_in: access.expires_in })
    }

    /// Exchanges a refresh token for a new pair. Of two concurrent refreshes with the same token
    /// exactly one succeeds; a replay revokes the family.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, AuthError> {
        self.refresh_from(refresh_token, &Origin::none()).await
    }

    /// [`RefreshTokenService::refresh`] for a request (`Origin::of(&request)`): a replay's
    /// `refresh_token_reused` event carries its client and id to the app's sink.
    pub async fn refresh_from(&self, refresh_token: &str, origin: &Origin) -> Result<TokenPair, AuthError> {
        let config = self.tokens.config();
        if refresh_token.is_empty() {
            return Err(rejected(config, "'refresh token' is null"));
        }
        match self.store.consume_refresh(hash_token(refresh_token), now()).await.map_err(unavailable)? {
            Consumed::Fresh(record) => {
                let profile = self.users.find_profile(&record.user_id).await?;
                self.pair(&profile, record.family).await
            }
            Consumed::Replayed(record) => {
                tracing::warn!(user = %record.user_id, "a used refresh token was presented again; its family is revoked");
                emit(origin, SecurityEvent::new(EventKind::RefreshTokenReused).user(record.user_id));
                Err(rejected(config, INVALID))
            }
            Consumed::Invalid => Err(rejected(config, INVALID)),
        }
    }

    /// Ends a session: the refresh token's family and, when given, the access token.
    ///
    /// Nothing is written unless the refresh token is one this service issued to the access
    /// token's user: a logout with a made-up refresh token is refused before it adds a denial
    /// (each would otherwise grow the denylist without any password work).
    pub async fn logout(&self, refresh_token: Option<&str>, access_token: Option<&str>) -> Result<(), AuthError> {
        self.logout_from(refresh_token, access_token, &Origin::none()).await
    }

    /// [`RefreshTokenService::logout`] for a request (`Origin::of(&request)`): its `logout` and
    /// `token_revoked` events carry the client and the request id to the app's sink.
    pub async fn logout_from(
        &self,
        refresh_token: Option<&str>,
        access_token: Option<&str>,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let config = self.tokens.config();
        let caller = match access_token {
            Some(token) => Some(self.tokens.verify_token(token).await?.profile.id),
            None => None,
        };
        let family = match refresh_token.filter(|t| !t.is_empty()) {
            Some(token) => match self.store.consume_refresh(hash_token(token), now()).await.map_err(unavailable)? {
                Consumed::Fresh(record) | Consumed::Replayed(record) => {
                    if caller.as_ref().is_some_and(|id| *id != record.user_id) {
                        return Err(rejected(config, INVALID));
                    }
                    Some(record)
                }
                Consumed::Invalid => return Err(rejected(config, INVALID)),
            },
            None => None,
        };
        if let Some(token) = access_token {
            self.tokens.revoke_token(token).await?;
            let mut event = SecurityEvent::new(EventKind::TokenRevoked);
            if let Some(id) = &caller {
                event = event.user(id.clone());
            }
            emit(origin, event);
        }
        if let Some(record) = family {
            self.store.revoke_family(&record.family).await.map_err(unavailable)?;
            emit(origin, SecurityEvent::new(EventKind::Logout).user(record.user_id));
        }
        Ok(())
    }
}
