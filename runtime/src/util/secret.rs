//! Secrets: made from the operating system's generator (token ids, refresh tokens, API keys),
//! and stored only as their SHA-256 — a fast hash is enough for 256 random bits, which no
//! dictionary holds.

use sha2::{Digest, Sha256};

/// `n` random bytes, base64url without padding.
#[cfg(any(feature = "jwt", feature = "api-key"))]
#[cfg_attr(not(feature = "jwt"), allow(dead_code))]
pub(crate) fn random_id(bytes: usize) -> Result<String, crate::AuthError> {
    use base64::Engine as _;
    let mut buffer = vec![0u8; bytes];
    fill(&mut buffer).map_err(|_| crate::AuthError::internal())?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer))
}

/// Fills `buffer`; a failure (the OS generator is unavailable) is logged once here.
#[cfg(any(feature = "jwt", feature = "api-key"))]
pub(crate) fn fill(buffer: &mut [u8]) -> Result<(), getrandom::Error> {
    getrandom::fill(buffer)
        .inspect_err(|e| tracing::error!(error = %e, "the operating system's random generator failed"))
}

/// The SHA-256 of a secret: what is stored and compared instead of the secret.
pub(crate) fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}
