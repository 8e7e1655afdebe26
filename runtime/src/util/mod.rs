//! Small helpers the strategies and stores share: reading credentials from a request, secrets
//! and their hashes, the clock, bounded reads of an upstream's answers, blocking work off the
//! executor, and the store error.

#[cfg(feature = "users")]
pub(crate) mod blocking;
#[cfg(any(feature = "jwt", feature = "api-key", feature = "oauth2"))]
pub(crate) mod clock;
#[cfg(any(feature = "jwt", feature = "basic", feature = "api-key"))]
pub(crate) mod credentials;
#[cfg(any(feature = "oauth2", feature = "oidc"))]
pub(crate) mod http;
#[cfg(any(feature = "jwt", feature = "api-key", feature = "users"))]
pub(crate) mod secret;
#[cfg(any(feature = "users", feature = "api-key"))]
pub(crate) mod storage;
