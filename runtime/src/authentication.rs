//! [`Authentication`]: who authenticated a request and with which strategy, kept in the
//! request's extensions so that anything running after the chain can read it.

use std::sync::Arc;

use actix_web::{HttpMessage, HttpRequest};

use crate::UserProfile;

/// The result of a successful authentication, kept in the request's extensions for anything
/// that runs later (other extractors, logging middleware).
///
/// ```
/// use actix_web::{HttpRequest, HttpResponse};
/// use authn::Authentication;
///
/// // In any handler or middleware running after authentication:
/// fn log_user(req: &HttpRequest) {
///     if let Some(auth) = Authentication::of(req) {
///         tracing::info!(user = %auth.profile().id, strategy = auth.strategy(), "authenticated");
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Authentication {
    profile: Arc<UserProfile>,
    strategy: &'static str,
}

impl Authentication {
    /// Records who authenticated the request, in its extensions, and returns it.
    pub(crate) fn record(req: &HttpRequest, profile: UserProfile, strategy: &'static str) -> Self {
        let auth = Authentication { profile: Arc::new(profile), strategy };
        req.extensions_mut().insert(auth.clone());
        auth
    }

    /// Who the caller is.
    pub fn profile(&self) -> &UserProfile {
        &self.profile
    }

    pub(crate) fn shared_profile(&self) -> &Arc<UserProfile> {
        &self.profile
    }

    /// The strategy that authenticated the caller.
    pub fn strategy(&self) -> &'static str {
        self.strategy
    }

    /// The authentication of this request, if one happened.
    pub fn of(req: &HttpRequest) -> Option<Authentication> {
        req.extensions().get::<Authentication>().cloned()
    }
}
