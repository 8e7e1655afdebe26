//! Secrets from the operating system's generator: token ids, refresh tokens, API keys, OAuth2
//! state and PKCE verifiers.

use base64::Engine as _;

use crate::AuthError;

/// `n` random bytes, base64url without padding.
#[cfg_attr(not(feature = "jwt"), allow(dead_code))]
pub(crate) fn random_id(bytes: usize) -> Result<String, AuthError> {
    let mut buffer = vec![0u8; bytes];
    fill(&mut buffer).map_err(|_| AuthError::internal())?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer))
}

/// Fills `buffer`; a failure (the OS generator is unavailable) is logged once here.
pub(crate) fn fill(buffer: &mut [u8]) -> Result<(), getrandom::Error> {
    getrandom::fill(buffer)
        .inspect_err(|e| tracing::error!(error = %e, "the operating system's random generator failed"))
}
