//! A strategy in its own crate: `"signed"`, HMAC-signed service-to-service requests.
//!
//! A client sends `X-Client-Id`, `X-Timestamp` (Unix seconds), `Content-Digest` (RFC 9530:
//! `sha-256=:<base64>:` of the body, empty or not) and `X-Signature`, the hex HMAC-SHA256 of
//! `"{METHOD}\n{path?query}\n{timestamp}\n{content-digest}"` under its secret. The secrets are the
//! app's, given as actix app data ([`SigningKeys`]); the strategy itself is stateless and built
//! once by the registry. Route option `max_skew = <seconds>` (default 300) bounds the clock
//! difference, which is what limits replays.
//!
//! Strategies run before the body is read, so the strategy checks the signature over the
//! *digest*, and the handler reads the body with [`SignedBody`], which compares it with that
//! digest: a captured request replayed with another body is refused (a new body needs a new
//! digest, which needs a new signature).
//!
//! Linking rule: an app that only registers this crate's strategy by depending on it must name
//! the crate (`use example_strategies as _;`), or the linker drops the registration. An app
//! that uses [`SigningKeys`] names it anyway; `authn::validate()` reports the other case.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use authn::options::{OptionKind, OptionSpec};
use authn::{AuthError, AuthenticationStrategy, Challenge, Outcome, StrategyOptions, UserProfile, strategy};
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The clients' secrets: client id → secret.
#[derive(Default)]
pub struct SigningKeys {
    secrets: HashMap<String, Vec<u8>>,
}

impl SigningKeys {
    /// Adds a client.
    pub fn with_client(mut self, client: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        self.secrets.insert(client.into(), secret.into());
        self
    }
}

/// The `Content-Digest` of a body (RFC 9530): `sha-256=:<base64 of its SHA-256>:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body)))
}

/// The signature of a request, hex: what a client computes (and what tests use).
pub fn sign(secret: &[u8], method: &str, path_and_query: &str, timestamp: u64, content_digest: &str) -> String {
    mac(secret, method, path_and_query, timestamp, content_digest)
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn mac(secret: &[u8], method: &str, path_and_query: &str, timestamp: u64, content_digest: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(format!("{method}\n{path_and_query}\n{timestamp}\n{content_digest}").as_bytes());
    mac
}

/// The SHA-256 a verified signature vouches for, left in the request for [`SignedBody`].
#[derive(Clone, Copy)]
struct SignedDigest([u8; 32]);

/// The 32 bytes of a `sha-256=:...:` digest.
fn parse_digest(header: &str) -> Option<[u8; 32]> {
    let encoded = header.trim().strip_prefix("sha-256=:")?.strip_suffix(':')?;
    base64::engine::general_purpose::STANDARD.decode(encoded).ok()?.try_into().ok()
}

/// The current Unix time, for signing.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn challenge() -> Challenge {
    Challenge::new("Signature").param("realm", "example").param("headers", "x-client-id x-timestamp x-signature")
}

fn rejected(message: &'static str) -> AuthError {
    // Credentials of ours were presented and are bad: no later strategy may let the caller in.
    AuthError::unauthorized(message).with_challenge(challenge().param("error", "invalid_signature")).stop_chain()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// The `"signed"` strategy.
#[derive(Debug, Default)]
pub struct SignedRequest;

#[strategy("signed")]
impl AuthenticationStrategy for SignedRequest {
    async fn authenticate(&self, request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
        let (Some(client), Some(timestamp), Some(signature)) =
            (header("x-client-id"), header("x-timestamp"), header("x-signature"))
        else {
            // Not a signed request: let the next strategy try.
            return Ok(Outcome::NoCredentials);
        };
        let content_digest = header("content-digest").ok_or_else(|| rejected("Missing Content-Digest."))?;
        let digest = parse_digest(content_digest).ok_or_else(|| rejected("Invalid Content-Digest."))?;
        let keys = request.app_data::<web::Data<SigningKeys>>().ok_or_else(|| {
            // The app forgot its configuration: a 500 that says nothing, and a log line that does.
            tracing::error!("the \"signed\" strategy needs web::Data<SigningKeys> in the app data");
            AuthError::internal()
        })?;
        let max_skew = options.int("max_skew").unwrap_or(300).max(0) as u64;
        let timestamp: u64 = timestamp.parse().map_err(|_| rejected("Invalid X-Timestamp."))?;
        if now().abs_diff(timestamp) > max_skew {
            return Err(rejected("Request timestamp out of range."));
        }
        // An unknown client and a wrong signature answer alike.
        let secret = keys.secrets.get(client).ok_or_else(|| rejected("Invalid signature."))?;
        let signature = decode_hex(signature).ok_or_else(|| rejected("Invalid signature."))?;
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let mac = mac(secret, request.method().as_str(), path, timestamp, content_digest);
        // verify_slice compares in constant time.
        mac.verify_slice(&signature).map_err(|_| rejected("Invalid signature."))?;
        request.extensions_mut().insert(SignedDigest(digest));
        Ok(Outcome::User(UserProfile::new(client).with_claim("kind", "service")))
    }

    fn challenge(&self, _request: &HttpRequest, _options: &StrategyOptions) -> Option<Challenge> {
        Some(challenge())
    }

    fn accepted_options(&self) -> &'static [OptionSpec] {
        const ACCEPTED: &[OptionSpec] = &[OptionSpec::new("max_skew", OptionKind::Int)];
        ACCEPTED
    }
}

/// The body of a request the `"signed"` strategy authenticated, read only if it matches the
/// `Content-Digest` the signature covers (compared in constant time); 401 otherwise. Take it
/// instead of `web::Bytes` or `web::Json` in signed handlers.
///
/// ```
/// use actix_web::{post, HttpResponse};
/// use authn::{authenticate, CurrentUser};
/// use example_strategies::SignedBody;
///
/// #[authenticate("signed")]
/// #[post("/events")]
/// async fn events(body: SignedBody, user: CurrentUser) -> actix_web::Result<HttpResponse> {
///     let event: serde_json::Value = body.json()?;
///     Ok(HttpResponse::Accepted().json(serde_json::json!({"from": user.id, "event": event})))
/// }
/// ```
pub struct SignedBody(pub web::Bytes);

impl SignedBody {
    /// The body as JSON; a 400 when it is not.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> actix_web::Result<T> {
        serde_json::from_slice(&self.0).map_err(actix_web::error::ErrorBadRequest)
    }
}

impl FromRequest for SignedBody {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let expected = req.extensions().get::<SignedDigest>().copied();
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let refused = |message: &'static str| actix_web::Error::from(rejected(message));
            let expected = expected.ok_or_else(|| refused("The body is not covered by a signature."))?;
            let body = body.await?;
            let actual: [u8; 32] = Sha256::digest(&body).into();
            if !bool::from(subtle::ConstantTimeEq::ct_eq(&actual[..], &expected.0[..])) {
                return Err(refused("The body does not match its Content-Digest."));
            }
            Ok(SignedBody(body))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_hex("é1"), None);
    }

    #[test]
    fn signatures_depend_on_every_part() {
        let empty = content_digest(b"");
        let base = sign(b"k", "GET", "/a", 1, &empty);
        assert_eq!(base.len(), 64);
        for other in [
            sign(b"K", "GET", "/a", 1, &empty),
            sign(b"k", "POST", "/a", 1, &empty),
            sign(b"k", "GET", "/b", 1, &empty),
            sign(b"k", "GET", "/a", 2, &empty),
            sign(b"k", "GET", "/a", 1, &content_digest(b"{}")),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn digests_are_rfc_9530_sha_256() {
        // RFC 9530 §B.1's example body and digest.
        let digest = content_digest(b"{\"hello\": \"world\"}");
        assert_eq!(digest, "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
        assert_eq!(parse_digest(&digest), Some(Sha256::digest(b"{\"hello\": \"world\"}").into()));
        assert_eq!(parse_digest("sha-512=:AAAA:"), None);
        assert_eq!(parse_digest("sha-256=:AAAA:"), None, "not 32 bytes");
    }
}
