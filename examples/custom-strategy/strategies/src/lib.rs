//! A strategy in its own crate: `"signed"`, HMAC-signed service-to-service requests.
//!
//! A client sends `X-Client-Id`, `X-Timestamp` (Unix seconds) and `X-Signature`, the hex
//! HMAC-SHA256 of `"{METHOD}\n{path?query}\n{timestamp}"` under its secret. The secrets are the
//! app's, given as actix app data ([`SigningKeys`]); the strategy itself is stateless and built
//! once by the registry. Route option `max_skew = <seconds>` (default 300) bounds the clock
//! difference, which is what limits replays.
//!
//! Linking rule: an app that only registers this crate's strategy by depending on it must name
//! the crate (`use example_strategies as _;`), or the linker drops the registration. An app
//! that uses [`SigningKeys`] names it anyway; `authn::validate()` reports the other case.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{HttpRequest, web};
use authn::{
    AuthError, AuthenticationStrategy, Challenge, OptionKind, OptionSpec, Outcome, StrategyOptions, UserProfile,
    strategy,
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

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

/// The signature of a request, hex: what a client computes (and what tests use).
pub fn sign(secret: &[u8], method: &str, path_and_query: &str, timestamp: u64) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(format!("{method}\n{path_and_query}\n{timestamp}").as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
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
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).map_err(|_| AuthError::internal())?;
        mac.update(format!("{}\n{path}\n{timestamp}", request.method()).as_bytes());
        // verify_slice compares in constant time.
        mac.verify_slice(&signature).map_err(|_| rejected("Invalid signature."))?;
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
        let base = sign(b"k", "GET", "/a", 1);
        assert_eq!(base.len(), 64);
        for other in [
            sign(b"K", "GET", "/a", 1),
            sign(b"k", "POST", "/a", 1),
            sign(b"k", "GET", "/b", 1),
            sign(b"k", "GET", "/a", 2),
        ] {
            assert_ne!(base, other);
        }
    }
}
