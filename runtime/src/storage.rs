//! The error every store of authn reports (users, tokens, keys, identities), and how a
//! request answers it: 500, logged, nothing of it shown to the client.

use std::fmt;

use crate::AuthError;

/// A storage failure (the database is gone, the disk is full...): answered 500, logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

pub(crate) fn internal(error: StoreError) -> AuthError {
    tracing::error!(%error, "store failure");
    AuthError::internal()
}
