//! Issuing and verifying access tokens: LoopBack's `TokenService`, with RFC 8725's checks.

use std::time::Duration;

use futures_util::future::BoxFuture;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Header, decode, decode_header, encode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config::{JwtConfig, VerifyingKey};
use crate::util::clock::now;
use crate::util::secret::random_id;
use crate::{AuthError, UserProfile};

/// Claims registered by RFC 7519 (and `scope`/`scopes` stay claims): never copied from a
/// profile into a token, so a profile cannot forge them.
const REGISTERED: [&str; 9] = ["sub", "name", "email", "jti", "iat", "exp", "nbf", "iss", "aud"];

/// What a token carries; everything that is not registered becomes a profile claim.
#[derive(Serialize)]
struct Claims {
    sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<Value>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// Hand-written so that known claims are matched without allocating their names, and only
/// unknown ones are collected: `#[serde(flatten)]` buffers every field first, which cost more
/// than the HMAC itself.
impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

struct ClaimsVisitor;

enum Field {
    Sub,
    Name,
    Email,
    Jti,
    Iat,
    Exp,
    Nbf,
    Iss,
    Aud,
    Other(String),
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl serde::de::Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a claim name")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Field, E> {
                Ok(match name {
                    "sub" => Field::Sub,
                    "name" => Field::Name,
                    "email" => Field::Email,
                    "jti" => Field::Jti,
                    "iat" => Field::Iat,
                    "exp" => Field::Exp,
                    "nbf" => Field::Nbf,
                    "iss" => Field::Iss,
                    "aud" => Field::Aud,
                    other => Field::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

impl<'de> serde::de::Visitor<'de> for ClaimsVisitor {
    type Value = Claims;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JWT claims object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Claims, A::Error> {
        use serde::de::Error;
        let (mut sub, mut name, mut email, mut jti, mut iat, mut exp) = (None, None, None, None, None, None);
        let mut nbf = None;
        let mut extra = Map::new();
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Sub => sub = Some(map.next_value()?),
                Field::Name => name = map.next_value()?,
                Field::Email => email = map.next_value()?,
                Field::Jti => jti = map.next_value()?,
                Field::Iat => iat = map.next_value()?,
                Field::Exp => exp = Some(map.next_value()?),
                // jsonwebtoken checks it; the verified-token cache keeps its window.
                Field::Nbf => nbf = map.next_value()?,
                // jsonwebtoken has already checked these against the configuration, and nothing
                // reads them afterwards: skipped, not copied.
                Field::Iss | Field::Aud => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                // `id` names the profile's principal, which is `sub`: a claim never shadows it.
                Field::Other(key) if crate::profile::is_reserved(&key) => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                Field::Other(key) => {
                    extra.insert(key, map.next_value()?);
                }
            }
        }
        Ok(Claims {
            sub: sub.ok_or_else(|| A::Error::missing_field("sub"))?,
            name,
            email,
            jti,
            iat,
            exp: exp.ok_or_else(|| A::Error::missing_field("exp"))?,
            nbf,
            iss: None,
            aud: None,
            extra,
        })
    }
}

/// A freshly issued access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Its id (`jti`), for revocation.
    pub jti: String,
    /// Seconds until it expires (the `expires_in` of OAuth 2.0 responses).
    pub expires_in: u64,
    /// When it expires, in seconds since the Unix epoch.
    pub expires_at: u64,
}

/// A verified token.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    /// The caller.
    pub profile: UserProfile,
    /// The token's id, when it has one.
    pub jti: Option<String>,
    /// Its expiry, in seconds since the Unix epoch.
    pub expires_at: u64,
}

/// LoopBack's `TokenService`: issue, verify, revoke.
pub trait TokenService: Send + Sync {
    /// Issues an access token for `profile`.
    fn generate_token(&self, profile: &UserProfile) -> Result<IssuedToken, AuthError>;
    /// Verifies a token and returns who it names.
    fn verify_token<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<VerifiedToken, AuthError>>;
    /// Revokes a valid token until it expires; `false` when it was already revoked.
    fn revoke_token<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<bool, AuthError>>;
}

/// The JWT [`TokenService`] over a [`JwtConfig`].
///
/// ```
/// use authn::UserProfile;
/// use authn::jwt::{Algorithm, JwtConfig, JwtKey, JwtTokenService, TokenService};
///
/// let config = JwtConfig::builder().key(JwtKey::hmac(Algorithm::HS256, &[1u8; 32])?).build()?;
/// let tokens = JwtTokenService::new(config);
/// let issued = tokens.generate_token(&UserProfile::new("42").with_email("ada@example.com")).unwrap();
/// let verified = futures_util::FutureExt::now_or_never(tokens.verify_token(&issued.token)).unwrap().unwrap();
/// assert_eq!(verified.profile.email.as_deref(), Some("ada@example.com"));
/// # Ok::<(), authn::jwt::JwtConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct JwtTokenService {
    config: JwtConfig,
}

impl JwtTokenService {
    /// A token service for this configuration.
    pub fn new(config: JwtConfig) -> Self {
        JwtTokenService { config }
    }

    /// The configuration.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }
}

impl TokenService for JwtTokenService {
    fn generate_token(&self, profile: &UserProfile) -> Result<IssuedToken, AuthError> {
        generate(&self.config, profile)
    }

    fn verify_token<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<VerifiedToken, AuthError>> {
        Box::pin(verify(&self.config, token))
    }

    fn revoke_token<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<bool, AuthError>> {
        Box::pin(async move {
            let verified = verify(&self.config, token).await?;
            let (Some(store), Some(jti)) = (self.config.store(), verified.jti) else {
                tracing::error!("revoking a token needs a JwtConfig store and tokens with a jti");
                return Err(AuthError::internal());
            };
            // Denied past the last second the token verifies (jsonwebtoken accepts it while
            // `now <= exp + leeway`): a purge never brings a revoked token back.
            let until = verified.expires_at.saturating_add(self.config.inner.base.leeway).saturating_add(1);
            store.deny(&jti, until).await.map_err(super::store::unavailable)
        })
    }
}

pub(crate) fn generate(config: &JwtConfig, profile: &UserProfile) -> Result<IssuedToken, AuthError> {
    let inner = &config.inner;
    let Some(key) = &inner.signing else {
        tracing::error!("this JwtConfig has no private key and cannot issue tokens");
        return Err(AuthError::internal());
    };
    let Some(encoding) = &key.encoding else {
        return Err(AuthError::internal());
    };
    let iat = now();
    let ttl = inner.access_ttl.as_secs().max(1);
    let jti = random_id(16)?;
    let extra = profile
        .claims
        .iter()
        .filter(|(k, _)| !REGISTERED.contains(&k.as_str()))
        .filter(|(k, _)| inner.token_claims.as_ref().is_none_or(|only| only.iter().any(|o| o == *k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let claims = Claims {
        sub: profile.id.clone(),
        name: profile.name.clone(),
        email: profile.email.clone(),
        jti: Some(jti.clone()),
        iat: Some(iat),
        exp: iat + ttl,
        nbf: None,
        iss: inner.issuer.clone(),
        aud: inner.audience.clone().map(Value::String),
        extra,
    };
    let mut header = Header::new(key.alg);
    header.kid = key.kid.clone();
    let token = encode(&header, &claims, encoding).map_err(|e| {
        tracing::error!(error = %e, "signing a token failed");
        AuthError::internal()
    })?;
    Ok(IssuedToken { token, jti, expires_in: ttl, expires_at: iat + ttl })
}

/// LoopBack's message for a verification failure, and the RFC 6750 challenge that goes with it.
pub(crate) fn rejected(config: &JwtConfig, reason: &'static str) -> AuthError {
    AuthError::unauthorized(format!("Error verifying token : {reason}"))
        .with_challenge(
            super::strategy::challenge(config).param("error", "invalid_token").param("error_description", reason),
        )
        .stop_chain()
}

/// Verifies signature, algorithm, claims and revocation.
pub(crate) async fn verify(config: &JwtConfig, token: &str) -> Result<VerifiedToken, AuthError> {
    let verified = verify_signed(config, token).map_err(|reason| rejected(config, reason))?;
    if let (Some(store), Some(jti)) = (config.store(), &verified.jti) {
        let denied = match store.is_denied_now(jti) {
            Some(answer) => answer,
            None => store.is_denied(jti).await,
        };
        if denied.map_err(super::store::unavailable)? {
            return Err(rejected(config, "jwt revoked"));
        }
    }
    Ok(verified)
}

/// Everything but revocation; the reason is a short, LoopBack-compatible phrase.
pub(crate) fn verify_signed(config: &JwtConfig, token: &str) -> Result<VerifiedToken, &'static str> {
    let inner = &config.inner;
    if token.is_empty() {
        return Err("'token' is null");
    }
    if token.len() > inner.max_token_bytes {
        return Err("jwt too large");
    }
    // Three parts, as node's jsonwebtoken checks before anything else ("jwt malformed").
    if memchr::memchr_iter(b'.', token.as_bytes()).count() != 2 {
        return Err("jwt malformed");
    }
    let keys = config.keyset();
    if let Some(cache) = &keys.cache
        && let Some(verified) = cache.get(token, now())
    {
        return Ok(verified);
    }
    // One key without a kid: no need to read the header first (the common, fast case).
    let single = keys.keys.len() == 1 && keys.keys[0].key.kid.is_none();
    // Deferred bindings: the single-key case borrows an array, the others a Vec, no allocation
    // on the fast path.
    let (only, many);
    let candidates: &[&VerifyingKey] = if single {
        only = [&keys.keys[0]];
        &only
    } else {
        let header = decode_header(token).map_err(|e| reason(e.kind()))?;
        let matching = keys.candidates(header.kid.as_deref(), Some(header.alg));
        if matching.is_empty() {
            // Release the key set first: the hook may well replace it (set_jwks).
            drop(keys);
            if let (Some(kid), Some(unknown)) = (header.kid.as_deref(), &inner.on_unknown_kid) {
                unknown.seen(kid);
            }
            return Err(if header.kid.is_some() { "unknown key id" } else { "invalid algorithm" });
        }
        many = matching;
        &many
    };
    let mut last = "invalid signature";
    for key in candidates.iter().copied() {
        match decode::<Claims>(token, &key.key.decoding, &key.validation) {
            Ok(data) => {
                if data.header.crit.is_some() {
                    // RFC 7515 §4.1.11: we understand no extension, so a critical one is fatal.
                    return Err("unsupported critical header");
                }
                let (verified, valid_from, valid_until) = finish(config, data.claims)?;
                if let Some(cache) = &keys.cache {
                    cache.insert(token, &verified, valid_from, valid_until);
                }
                return Ok(verified);
            }
            Err(e) => last = reason(e.kind()),
        }
    }
    Err(last)
}

/// The checks jsonwebtoken does not do, then the verified token and the window (Unix seconds,
/// inclusive) in which every time-dependent check would pass again: jsonwebtoken's `exp` and
/// `nbf` rules and ours for `iat` and `max_age`, all with the leeway.
fn finish(config: &JwtConfig, claims: Claims) -> Result<(VerifiedToken, u64, u64), &'static str> {
    let inner = &config.inner;
    let now = now();
    for required in &inner.required_claims {
        let present = match required.as_str() {
            "iat" => claims.iat.is_some(),
            "jti" => claims.jti.is_some(),
            "name" => claims.name.is_some(),
            "email" => claims.email.is_some(),
            other => claims.extra.contains_key(other),
        };
        if !present {
            return Err("jwt is missing a required claim");
        }
    }
    if let (Some(max_age), Some(iat)) = (inner.max_age, claims.iat) {
        let leeway = Duration::from_secs(inner.base.leeway);
        if iat.saturating_add((max_age + leeway).as_secs()) < now {
            return Err("maxAge exceeded");
        }
    }
    if claims.iat.is_some_and(|iat| iat > now.saturating_add(inner.base.leeway)) {
        return Err("jwt issued in the future");
    }
    let leeway = inner.base.leeway;
    let valid_from = claims.nbf.unwrap_or(0).max(claims.iat.unwrap_or(0)).saturating_sub(leeway);
    let mut valid_until = claims.exp.saturating_add(leeway);
    if let (Some(max_age), Some(iat)) = (inner.max_age, claims.iat) {
        valid_until = valid_until.min(iat.saturating_add(max_age.as_secs()).saturating_add(leeway));
    }
    let profile = UserProfile { id: claims.sub, name: claims.name, email: claims.email, claims: claims.extra };
    Ok((VerifiedToken { profile, jti: claims.jti, expires_at: claims.exp }, valid_from, valid_until))
}

/// node-jsonwebtoken's wording where it has one.
fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "jwt expired",
        ErrorKind::InvalidSignature => "invalid signature",
        ErrorKind::ImmatureSignature => "jwt not active",
        ErrorKind::InvalidIssuer => "jwt issuer invalid",
        ErrorKind::InvalidAudience => "jwt audience invalid",
        ErrorKind::InvalidSubject => "jwt subject invalid",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::UnsupportedAlgorithm => {
            "invalid algorithm"
        }
        ErrorKind::MissingRequiredClaim(_) => "jwt is missing a required claim",
        ErrorKind::InvalidToken => "jwt malformed",
        _ => "invalid token",
    }
}
