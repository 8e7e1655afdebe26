//! The strategy chain: LoopBack's multi-strategy algorithm with Passport's challenges.
//!
//! Strategies run in the route's order, one at a time. The first user or redirect wins. "No
//! credentials" (or a missing-credentials error, which also carries a message) moves on. An
//! error is recorded and the next strategy tried, unless the strategy marked it final. When
//! nothing succeeds the first recorded error is answered (or `USER_PROFILE_NOT_FOUND` when no
//! strategy saw credentials), with the challenge of every strategy tried.

use actix_web::HttpRequest;

use crate::Authentication;

use crate::error::USER_PROFILE_NOT_FOUND;
use crate::introspect::StrategyUse;
use crate::{AuthError, AuthFailure, AuthenticationStrategy, Challenge, Outcome};

/// What the chain concluded, in a form both a required and an optional route can read: a
/// group runs the chain once, and a handler with the same strategies reuses the result.
#[derive(Debug, Clone)]
pub(crate) enum Conclusion {
    /// A strategy authenticated the caller.
    User(Authentication),
    /// No strategy saw credentials: an optional route runs anonymously, a required one answers
    /// this failure.
    Anonymous(AuthFailure),
    /// A strategy rejected the request, or redirected it: every route answers this.
    Failed(AuthFailure),
}

impl Conclusion {
    /// The answer for a route that requires a user (`anonymous_ok == false`) or not.
    pub(crate) fn for_route(self, anonymous_ok: bool) -> Result<Option<Authentication>, AuthFailure> {
        match self {
            Conclusion::User(auth) => Ok(Some(auth)),
            Conclusion::Anonymous(_) if anonymous_ok => Ok(None),
            Conclusion::Anonymous(failure) | Conclusion::Failed(failure) => Err(failure),
        }
    }
}

/// Runs the chain. `Ok(None)` means anonymous, only possible when `anonymous_ok`.
pub(crate) async fn run(
    req: &HttpRequest,
    uses: &[StrategyUse],
    strategies: &[&dyn AuthenticationStrategy],
    anonymous_ok: bool,
) -> Result<Option<Authentication>, AuthFailure> {
    conclude(req, uses, strategies).await.for_route(anonymous_ok)
}

/// Runs the chain to its conclusion.
pub(crate) async fn conclude(
    req: &HttpRequest,
    uses: &[StrategyUse],
    strategies: &[&dyn AuthenticationStrategy],
) -> Conclusion {
    debug_assert_eq!(uses.len(), strategies.len());
    #[cfg(feature = "test-util")]
    {
        let user = actix_web::HttpMessage::extensions(req).get::<crate::test::TestUser>().cloned();
        if let Some(user) = user {
            return test_user(req, uses, strategies, user.0);
        }
    }
    // Allocated on the first failure only: the success path stays allocation-light.
    let mut challenges = Vec::new();
    let mut first_error: Option<AuthError> = None;
    let mut first_missing: Option<AuthError> = None;
    for (used, strategy) in uses.iter().zip(strategies) {
        match strategy.authenticate(req, &used.options).await {
            Ok(Outcome::User(profile)) => return Conclusion::User(Authentication::record(req, profile, used.name)),
            Ok(Outcome::Redirect(redirect)) => return Conclusion::Failed(AuthFailure::redirect(redirect)),
            Ok(Outcome::NoCredentials) => challenges.push(default_challenge(req, used, *strategy)),
            Err(mut error) => {
                challenges.push(error.take_challenge().unwrap_or_else(|| default_challenge(req, used, *strategy)));
                tracing::debug!(
                    strategy = used.name,
                    status = error.status().as_u16(),
                    message = error.message(),
                    "strategy rejected the request"
                );
                if error.stops_chain() {
                    return Conclusion::Failed(AuthFailure::rejected(error, challenges));
                }
                if error.is_missing_credentials() {
                    first_missing.get_or_insert(error);
                } else {
                    first_error.get_or_insert(error);
                }
            }
        }
    }
    match (first_error, first_missing) {
        (Some(error), _) => Conclusion::Failed(AuthFailure::rejected(error, challenges)),
        (None, Some(missing)) => Conclusion::Anonymous(AuthFailure::rejected(missing, challenges)),
        (None, None) => Conclusion::Anonymous(AuthFailure::rejected(
            AuthError::unauthorized("User profile not returned from strategy's authenticate function")
                .with_code(USER_PROFILE_NOT_FOUND),
            challenges,
        )),
    }
}

/// A request a test marked with [`crate::test::as_user`]: authenticated without a strategy, but
/// still held to the route's scopes.
#[cfg(feature = "test-util")]
fn test_user(
    req: &HttpRequest,
    uses: &[StrategyUse],
    strategies: &[&dyn AuthenticationStrategy],
    profile: crate::UserProfile,
) -> Conclusion {
    for (used, strategy) in uses.iter().zip(strategies) {
        if let Err(mut error) = crate::scope::require(&profile, &used.options, default_challenge(req, used, *strategy))
        {
            let challenges = error.take_challenge().into_iter().collect();
            return Conclusion::Failed(AuthFailure::rejected(error, challenges));
        }
    }
    Conclusion::User(Authentication::record(req, profile, "test"))
}

/// Every strategy's own challenge, for a 401 decided after the chain (e.g. a profile that does
/// not fit the handler's type): RFC 7235 wants one on every 401.
pub(crate) fn default_challenges(
    req: &HttpRequest,
    uses: &[StrategyUse],
    strategies: &[&dyn AuthenticationStrategy],
) -> Vec<Challenge> {
    uses.iter().zip(strategies).map(|(used, strategy)| default_challenge(req, used, *strategy)).collect()
}

fn default_challenge(req: &HttpRequest, used: &StrategyUse, strategy: &dyn AuthenticationStrategy) -> Challenge {
    strategy.challenge(req, &used.options).unwrap_or_else(|| Challenge::new(used.name))
}
