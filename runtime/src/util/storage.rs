//! The error every store of authn reports (users, tokens, keys, identities, throttles), and how
//! a request answers it: 503 with `Retry-After`, logged with its cause, nothing of it shown to
//! the client.

use std::error::Error;
use std::fmt;

use crate::AuthError;

/// A storage failure (the database is gone, the disk is full, a lock was poisoned...).
///
/// A request that meets one answers `503 AUTHENTICATION_UNAVAILABLE` with `Retry-After`, and
/// the error, with its [`source`](Error::source), goes to the log: the client learns only to
/// come back later, and a store that comes back is used again without a restart.
///
/// ```
/// use authn::StoreError;
///
/// let io = std::io::Error::other("disk full");
/// let error = StoreError::new("writing a refresh token", io);
/// assert_eq!(error.to_string(), "store: writing a refresh token");
/// assert_eq!(std::error::Error::source(&error).unwrap().to_string(), "disk full");
/// assert!(StoreError::msg("lock poisoned").source().is_none());
/// # use std::error::Error;
/// ```
#[derive(Debug)]
pub struct StoreError {
    context: std::borrow::Cow<'static, str>,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl StoreError {
    /// What the store was doing, and the error that stopped it.
    pub fn new(
        context: impl Into<std::borrow::Cow<'static, str>>,
        source: impl Into<Box<dyn Error + Send + Sync + 'static>>,
    ) -> Self {
        StoreError { context: context.into(), source: Some(source.into()) }
    }

    /// A failure with no underlying error (a poisoned lock, an inconsistent row).
    pub fn msg(context: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        StoreError { context: context.into(), source: None }
    }

    /// What the store was doing.
    pub fn context(&self) -> &str {
        &self.context
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store: {}", self.context)
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|source| source as &(dyn Error + 'static))
    }
}

/// The answer to a request that met a store failure, which is logged here with its causes.
pub(crate) fn unavailable(error: StoreError) -> AuthError {
    let mut causes = String::new();
    let mut cause = error.source();
    while let Some(next) = cause {
        causes.push_str(": ");
        causes.push_str(&next.to_string());
        cause = next.source();
    }
    tracing::error!(error = %error, causes = %causes, "store failure");
    AuthError::store_unavailable()
}
