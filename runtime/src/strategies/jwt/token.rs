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
    /// `iss` and `aud` as the token has them, for the HMAC path's own validation.
    #[serde(skip)]
    raw_iss: Option<Value>,
    #[serde(skip)]
    raw_aud: Option<Value>,
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

impl Field {
    /// The registered claims' bits, to find one given twice.
    fn bit(&self) -> Option<u16> {
        Some(match self {
            Field::Sub => 1,
            Field::Name => 2,
            Field::Email => 4,
            Field::Jti => 8,
            Field::Iat => 16,
            Field::Exp => 32,
            Field::Nbf => 64,
            Field::Iss => 128,
            Field::Aud => 256,
            Field::Other(_) => return None,
        })
    }
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
        let (mut nbf, mut raw_iss, mut raw_aud) = (None, None, None);
        let mut extra = Map::new();
        // A registered claim given twice is refused, as serde's derived structs (jsonwebtoken's
        // validation among them) refuse it: no parser may read another value than the others.
        let mut seen = 0u16;
        while let Some(field) = map.next_key::<Field>()? {
            if let Some(bit) = field.bit() {
                if seen & bit != 0 {
                    return Err(A::Error::custom("a registered claim is given twice"));
                }
                seen |= bit;
            }
            match field {
                Field::Sub => sub = Some(map.next_value()?),
                Field::Name => name = map.next_value()?,
                Field::Email => email = map.next_value()?,
                Field::Jti => jti = map.next_value()?,
                Field::Iat => iat = map.next_value()?,
                Field::Exp => exp = Some(map.next_value()?),
                // A number of seconds, as `exp` (null is not a time); the verified-token cache
                // keeps its window.
                Field::Nbf => nbf = Some(map.next_value::<u64>()?),
                // Checked against the configuration (by jsonwebtoken, or by the HMAC path);
                // nothing else reads them.
                Field::Iss => raw_iss = Some(map.next_value::<Value>()?),
                Field::Aud => raw_aud = Some(map.next_value::<Value>()?),
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
            raw_iss,
            raw_aud,
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
        raw_iss: None,
        raw_aud: None,
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

/// Verifies signature, algorithm, claims and revocation, with the configuration of the
/// token's issuer when several are configured.
pub(crate) async fn verify(config: &JwtConfig, token: &str) -> Result<VerifiedToken, AuthError> {
    if !config.inner.issuers.is_empty()
        && token.len() <= config.inner.max_token_bytes
        && let Some(iss) = unverified_issuer(token)
        && let Some(other) = config.inner.issuers.iter().find(|c| c.inner.issuer.as_deref() == Some(iss.as_str()))
    {
        return verify_with(other, token).await;
    }
    verify_with(config, token).await
}

/// The `iss` a token claims, unverified: only ever used to choose a configuration, which then
/// checks everything, `iss` included.
fn unverified_issuer(token: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Issuer {
        iss: Option<String>,
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).ok()?;
    serde_json::from_slice::<Issuer>(&bytes).ok()?.iss
}

async fn verify_with(config: &JwtConfig, token: &str) -> Result<VerifiedToken, AuthError> {
    #[cfg(feature = "oidc")]
    let verified = match config.remote() {
        Some(remote) => verify_remote(config, remote, token).await?,
        None => verify_signed(config, token).map_err(|reason| rejected(config, reason))?,
    };
    #[cfg(not(feature = "oidc"))]
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

/// With an identity provider's keys: none to verify with is a 503 (the client did nothing
/// wrong); a kid the keys lack may be a rotation, worth one fetch (rate-limited) and a retry.
#[cfg(feature = "oidc")]
async fn verify_remote(
    config: &JwtConfig,
    remote: &super::remote::RemoteKeys,
    token: &str,
) -> Result<VerifiedToken, AuthError> {
    remote.ready(config).await.map_err(AuthError::keys_unavailable)?;
    match verify_signed(config, token) {
        Err(UNKNOWN_KID) => {
            let kid = decode_header(token).ok().and_then(|header| header.kid);
            match kid {
                Some(kid) if remote.unknown_kid(config, &kid).await => {
                    verify_signed(config, token).map_err(|reason| rejected(config, reason))
                }
                _ => Err(rejected(config, UNKNOWN_KID)),
            }
        }
        other => other.map_err(|reason| rejected(config, reason)),
    }
}

/// The reason for a token whose kid names no key.
const UNKNOWN_KID: &str = "unknown key id";

/// Whether a `typ` header is the required one (RFC 9068 §4: `at+jwt` or `application/at+jwt`).
fn type_matches(typ: Option<&str>, required: &str) -> bool {
    let bare = |t: &str| {
        let t = t.trim();
        match t.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => t[12..].to_owned(),
            _ => t.to_owned(),
        }
    };
    typ.is_some_and(|typ| bare(typ).eq_ignore_ascii_case(&bare(required)))
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
    if let Some(required) = &inner.token_type {
        let header = decode_header(token).map_err(|e| reason(e.kind()))?;
        if !type_matches(header.typ.as_deref(), required) {
            return Err("jwt type invalid");
        }
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
            return Err(if header.kid.is_some() { UNKNOWN_KID } else { "invalid algorithm" });
        }
        many = matching;
        &many
    };
    let mut last = "invalid signature";
    for key in candidates.iter().copied() {
        match checked(token, key) {
            Ok(claims) => {
                let (verified, valid_from, valid_until) = finish(config, claims)?;
                if let Some(cache) = &keys.cache {
                    cache.insert(token, &verified, valid_from, valid_until);
                }
                return Ok(verified);
            }
            Err(reason) => last = reason,
        }
    }
    Err(last)
}

/// Signature and jsonwebtoken's claim checks with one key: the prepared HMAC path for HMAC keys,
/// jsonwebtoken for the rest and for whatever that path leaves undecided.
fn checked(token: &str, key: &VerifyingKey) -> Result<Claims, &'static str> {
    if let Some(hmac) = &key.hmac {
        fn registered(c: &Claims) -> super::hmac::TimeAndAudience<'_> {
            super::hmac::TimeAndAudience { exp: c.exp, nbf: c.nbf, iss: c.raw_iss.as_ref(), aud: c.raw_aud.as_ref() }
        }
        let parse = |payload: &[u8]| serde_json::from_slice::<Claims>(payload).ok();
        match super::hmac::verify(token, key.key.alg, hmac, &key.validation, now(), parse, registered) {
            super::hmac::Checked::Valid(claims) => return Ok(claims),
            super::hmac::Checked::Refused(reason) => return Err(reason),
            super::hmac::Checked::Undecided => {}
        }
    }
    decoded(token, key)
}

/// jsonwebtoken's answer, with no shortcut: the reference every other path agrees with.
fn decoded(token: &str, key: &VerifyingKey) -> Result<Claims, &'static str> {
    let data = decode::<Claims>(token, &key.key.decoding, &key.validation).map_err(|e| reason(e.kind()))?;
    if data.header.crit.is_some() {
        // RFC 7515 §4.1.11: we understand no extension, so a critical one is fatal.
        return Err("unsupported critical header");
    }
    Ok(data.claims)
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

/// The prepared HMAC path against jsonwebtoken (`decoded`), the reference: on random headers,
/// claims and signatures, good and bad, both give the same claims or the same reason.
#[cfg(test)]
mod differential {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{KeyInit, Mac};
    use proptest::prelude::*;

    use super::{Claims, checked, decoded};
    use crate::jwt::{Algorithm, JwtConfig, JwtKey};
    use crate::util::clock::now;

    const SECRET: [u8; 32] = *b"differential-secret-differential";

    fn one_of(values: &[&str]) -> impl Strategy<Value = String> {
        let values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        proptest::sample::select(values)
    }

    /// A JSON object written by hand, so fields can repeat or have odd types.
    fn object(fields: &[(&str, String)]) -> String {
        let fields: Vec<String> =
            fields.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", fields.join(","))
    }

    fn header() -> impl Strategy<Value = String> {
        (
            one_of(&["\"HS256\"", "\"HS384\"", "\"none\"", "\"RS256\"", "\"hs256\"", "5"]),
            one_of(&["", "\"JWT\"", "\"at+jwt\"", "5", "null"]),
            one_of(&["", "\"k1\"", "7"]),
            one_of(&[
                "",
                "\"crit\":[\"exp\"]",
                "\"foo\":\"bar\"",
                "\"alg\":\"HS256\"",
                "\"jwk\":{}",
                "\"cty\":\"JWT\"",
            ]),
        )
            .prop_map(|(alg, typ, kid, extra)| {
                let mut text = object(&[("alg", alg), ("typ", typ), ("kid", kid)]);
                if !extra.is_empty() {
                    text.insert_str(text.len() - 1, &format!(",{extra}"));
                }
                text
            })
    }

    fn claims() -> impl Strategy<Value = String> {
        let now = now();
        let times = |offsets: &[i64]| {
            let mut values: Vec<String> = offsets.iter().map(|o| (now as i64 + o).to_string()).collect();
            values.extend(["", "\"x\"", "1.5e9", "null", "-1"].map(str::to_owned));
            proptest::sample::select(values)
        };
        (
            one_of(&["\"u-1\"", "", "5", "\"\\u0075\""]),
            times(&[1000, -1000, -20, -40]),
            times(&[1000, -1000, 20, 40]),
            one_of(&["", "\"authn-tests\"", "\"other\"", "[\"authn-tests\"]", "5", "null"]),
            one_of(&["", "\"todo\"", "\"other\"", "[\"todo\",\"x\"]", "[\"x\"]", "[]", "[5]", "5", "null"]),
            one_of(&["", "\"exp\":1", "\"sub\":\"other\"", "\"role\":\"admin\"", "\"id\":\"bob\""]),
            times(&[-10, 100]),
        )
            .prop_map(|(sub, exp, nbf, iss, aud, extra, iat)| {
                let mut text = object(&[
                    ("sub", sub),
                    ("exp", exp),
                    ("nbf", nbf),
                    ("iss", iss),
                    ("aud", aud),
                    ("iat", iat),
                    ("jti", "\"j\"".into()),
                ]);
                if !extra.is_empty() {
                    text.insert_str(text.len() - 1, &format!(",{extra}"));
                }
                text
            })
    }

    #[derive(Debug, Clone)]
    enum Signature {
        Good,
        Flipped,
        Padded,
        Truncated,
        Garbage,
    }

    fn token(header: &str, payload: &str, signature: &Signature) -> String {
        let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&SECRET).unwrap();
        mac.update(message.as_bytes());
        let mut tag = mac.finalize().into_bytes().to_vec();
        let encoded = match signature {
            Signature::Good => URL_SAFE_NO_PAD.encode(&tag),
            Signature::Flipped => {
                tag[7] ^= 1;
                URL_SAFE_NO_PAD.encode(&tag)
            }
            Signature::Padded => format!("{}=", URL_SAFE_NO_PAD.encode(&tag)),
            Signature::Truncated => URL_SAFE_NO_PAD.encode(&tag[..31]),
            Signature::Garbage => "!!not-base64!!".into(),
        };
        format!("{message}.{encoded}")
    }

    fn summary(result: Result<Claims, &'static str>) -> Result<String, &'static str> {
        result.map(|c| format!("{} {} {:?} {:?} {:?}", c.sub, c.exp, c.nbf, c.jti, c.extra))
    }

    fn configs() -> [JwtConfig; 2] {
        let key = || JwtKey::hmac(Algorithm::HS256, &SECRET).unwrap();
        [
            JwtConfig::builder().key(key()).issuer("authn-tests").audience("todo").build().unwrap(),
            JwtConfig::builder().key(key()).build().unwrap(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn the_hmac_path_answers_what_jsonwebtoken_answers(
            header in header(),
            payload in claims(),
            signature in prop_oneof![
                6 => Just(Signature::Good),
                1 => Just(Signature::Flipped),
                1 => Just(Signature::Padded),
                1 => Just(Signature::Truncated),
                1 => Just(Signature::Garbage),
            ],
            which in 0usize..2,
        ) {
            let config = &configs()[which];
            let keys = config.keyset();
            let key = &keys.keys[0];
            prop_assert!(key.hmac.is_some());
            let token = token(&header, &payload, &signature);
            prop_assert_eq!(summary(checked(&token, key)), summary(decoded(&token, key)), "{} {}", header, payload);
        }
    }

    /// The generator reaches the answers that matter, so the comparison above means something.
    #[test]
    fn the_generated_tokens_cover_acceptance_and_each_refusal() {
        let config = &configs()[0];
        let keys = config.keyset();
        let key = &keys.keys[0];
        let now = now();
        let good = format!(r#"{{"sub":"u","exp":{},"iss":"authn-tests","aud":"todo"}}"#, now + 100);
        assert!(checked(&token(r#"{"alg":"HS256","typ":"JWT"}"#, &good, &Signature::Good), key).is_ok());
        let expired = format!(r#"{{"sub":"u","exp":{},"iss":"authn-tests","aud":"todo"}}"#, now - 100);
        assert_eq!(checked(&token(r#"{"alg":"HS256"}"#, &expired, &Signature::Good), key).err(), Some("jwt expired"));
        assert_eq!(
            checked(&token(r#"{"alg":"HS256"}"#, &good, &Signature::Flipped), key).err(),
            Some("invalid signature")
        );
        let wrong_aud = good.replace("\"todo\"", "\"other\"");
        assert_eq!(
            checked(&token(r#"{"alg":"HS256"}"#, &wrong_aud, &Signature::Good), key).err(),
            Some("jwt audience invalid")
        );
    }
}
