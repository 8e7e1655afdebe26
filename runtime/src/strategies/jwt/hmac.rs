//! HS256/384/512 tokens verified without jsonwebtoken's per-call work: the HMAC key schedule is
//! run once per key (a hand-written handler calling `jsonwebtoken::decode` pays it on every
//! request, with a boxed verifier, two header parses and two claims parses), and the header and
//! claims are read once.
//!
//! This path only ever *accepts* what jsonwebtoken accepts, and says no for the common failures
//! with jsonwebtoken's own reasons; anything unusual (another header field, `crit`, a claim of an
//! odd type, an issuer list, padding in the signature...) is handed back to jsonwebtoken, whose
//! answer stands. The differential test in `token.rs` holds the two paths to the same answers.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Sha256, Sha384, Sha512};

/// A key whose HMAC state (the key padded and hashed into the inner and outer blocks) is
/// computed once; each verification clones it.
#[derive(Clone)]
pub(crate) enum PreparedHmac {
    Hs256(Hmac<Sha256>),
    Hs384(Hmac<Sha384>),
    Hs512(Hmac<Sha512>),
}

impl std::fmt::Debug for PreparedHmac {
    // Key material is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreparedHmac")
    }
}

impl PreparedHmac {
    /// The prepared key for an HMAC algorithm; `None` for the others.
    pub(crate) fn new(alg: Algorithm, secret: &[u8]) -> Option<Self> {
        Some(match alg {
            Algorithm::HS256 => PreparedHmac::Hs256(Hmac::new_from_slice(secret).ok()?),
            Algorithm::HS384 => PreparedHmac::Hs384(Hmac::new_from_slice(secret).ok()?),
            Algorithm::HS512 => PreparedHmac::Hs512(Hmac::new_from_slice(secret).ok()?),
            _ => return None,
        })
    }

    /// Whether `signature` is the MAC of `message`, compared in constant time.
    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PreparedHmac::Hs256(mac) => mac.clone().chain_update(message).verify_slice(signature).is_ok(),
            PreparedHmac::Hs384(mac) => mac.clone().chain_update(message).verify_slice(signature).is_ok(),
            PreparedHmac::Hs512(mac) => mac.clone().chain_update(message).verify_slice(signature).is_ok(),
        }
    }
}

/// What the fast path concluded.
pub(crate) enum Checked<T> {
    /// Signature and every claim jsonwebtoken checks are good: the claims.
    Valid(T),
    /// Refused, with jsonwebtoken's reason for the same token.
    Refused(&'static str),
    /// Something this path does not decide: ask jsonwebtoken.
    Undecided,
}

/// The header fields a plain token carries; anything else is left to jsonwebtoken.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(default, borrow, rename = "typ")]
    _typ: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "kid")]
    _kid: Option<Cow<'a, str>>,
}

/// The registered claims jsonwebtoken validates, as this path needs them.
pub(crate) struct TimeAndAudience<'v> {
    pub(crate) exp: u64,
    pub(crate) nbf: Option<u64>,
    pub(crate) iss: Option<&'v Value>,
    pub(crate) aud: Option<&'v Value>,
}

/// Verifies `token` (exactly two dots, already checked) with `key` for `alg`: the header, the
/// signature, then the payload through `claims`, which parses it and hands back what
/// jsonwebtoken would validate.
pub(crate) fn verify<T>(
    token: &str,
    alg: Algorithm,
    key: &PreparedHmac,
    validation: &Validation,
    now: u64,
    claims: impl FnOnce(&[u8]) -> Option<T>,
    registered: impl Fn(&T) -> TimeAndAudience<'_>,
) -> Checked<T> {
    let Some((message, signature)) = token.rsplit_once('.') else { return Checked::Undecided };
    let Some((header, payload)) = message.split_once('.') else { return Checked::Undecided };
    let Ok(header) = URL_SAFE_NO_PAD.decode(header) else { return Checked::Undecided };
    let Ok(header) = serde_json::from_slice::<PlainHeader<'_>>(&header) else { return Checked::Undecided };
    if header.alg != algorithm_name(alg) {
        return Checked::Undecided;
    }
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else { return Checked::Undecided };
    if !key.verifies(message.as_bytes(), &signature) {
        return Checked::Refused("invalid signature");
    }
    let Ok(payload) = URL_SAFE_NO_PAD.decode(payload) else { return Checked::Undecided };
    let Some(parsed) = claims(&payload) else { return Checked::Undecided };
    match validate(&registered(&parsed), validation, now) {
        Some(Ok(())) => Checked::Valid(parsed),
        Some(Err(reason)) => Checked::Refused(reason),
        None => Checked::Undecided,
    }
}

/// Whether a claim is there as a string or a list of strings; `None` when it is there as
/// anything else (null, a number, a mixed list), which is jsonwebtoken's to judge.
fn strings(claim: Option<&Value>) -> Option<bool> {
    match claim {
        None => Some(false),
        Some(Value::String(_)) => Some(true),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Some(true),
        Some(_) => None,
    }
}

fn algorithm_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        _ => "",
    }
}

/// jsonwebtoken's claim validation (`validation::validate`), in its order, for the settings
/// `JwtConfig` makes; `None` where the token is unusual enough to leave to jsonwebtoken.
fn validate(claims: &TimeAndAudience<'_>, validation: &Validation, now: u64) -> Option<Result<(), &'static str>> {
    for required in &validation.required_spec_claims {
        let present = match required.as_str() {
            "exp" => true,
            "nbf" => claims.nbf.is_some(),
            // Present for jsonwebtoken only when it parses (a string or a list of strings).
            "iss" => strings(claims.iss)?,
            "aud" => strings(claims.aud)?,
            _ => return None,
        };
        if !present {
            return Some(Err("jwt is missing a required claim"));
        }
    }
    if validation.sub.is_some() || validation.reject_tokens_expiring_in_less_than != 0 {
        return None;
    }
    let leeway = validation.leeway;
    if validation.validate_exp && claims.exp < now.saturating_sub(leeway) {
        return Some(Err("jwt expired"));
    }
    if validation.validate_nbf && claims.nbf.is_some_and(|nbf| nbf > now + leeway) {
        return Some(Err("jwt not active"));
    }
    if let (Some(issuer), Some(expected)) = (claims.iss, &validation.iss) {
        let Value::String(issuer) = issuer else { return None };
        if !expected.contains(issuer.as_str()) {
            return Some(Err("jwt issuer invalid"));
        }
    }
    if !validation.validate_aud {
        return Some(Ok(()));
    }
    // jsonwebtoken reads `aud` as a string or a set of strings; anything else (null, a number, a
    // list with other values) it treats as absent or unparsable, which is left to it.
    let audiences: Vec<&str> = match claims.aud {
        None => return Some(Ok(())),
        Some(Value::String(audience)) => vec![audience.as_str()],
        Some(Value::Array(items)) => {
            let mut audiences = Vec::with_capacity(items.len());
            for item in items {
                let Value::String(audience) = item else { return None };
                audiences.push(audience.as_str());
            }
            audiences
        }
        Some(_) => return None,
    };
    Some(match &validation.aud {
        None => Err("jwt audience invalid"),
        Some(expected) if audiences.iter().any(|a| expected.contains(*a)) => Ok(()),
        Some(_) => Err("jwt audience invalid"),
    })
}
