//! Existing actix authentication code as strategies: LoopBack's Passport adapter, with every
//! outcome mapped explicitly.
//!
//! Any [`FromRequest`] extractor an app already uses (actix-web-httpauth's `BasicAuth` and
//! `BearerAuth`, actix-identity's `Identity`, actix-session's `Session`, your own) becomes a
//! registered strategy by writing `#[strategy]` on an async function that takes the extractors
//! and answers a [`Verdict`]:
//!
//! ```standalone_crate
//! use actix_web::HttpRequest;
//! use authn::adapter::Verdict;
//! use authn::{strategy, UserProfile};
//!
//! /// Any extractor works; a header read through `HttpRequest` keeps the example short.
//! #[strategy("forwarded-user")]
//! async fn forwarded_user(request: HttpRequest) -> Verdict {
//!     match request.headers().get("x-forwarded-user").and_then(|v| v.to_str().ok()) {
//!         None => Verdict::Pass,
//!         Some("") => Verdict::fail("Empty X-Forwarded-User."),
//!         Some(user) => Verdict::Success(UserProfile::new(user)),
//!     }
//! }
//!
//! fn main() {
//!     assert!(authn::introspect::registry().get("forwarded-user").is_some());
//! }
//! ```
//!
//! The function's parameters are extracted in order, without the request body (strategies run
//! before the body is read). When an extractor fails the strategy passes ("no credentials of
//! my kind"); take `Option<E>` or `Result<E, E::Error>` to decide yourself. A strategy that also
//! needs its route options is written the plain way, calling [`from_extractor`].
//!
//! | Passport | LoopBack | [`Verdict`] |
//! |---|---|---|
//! | `success(user)` | the user | `Success(profile)`: the user |
//! | `fail(challenge, status)` | 401, status ignored | `Fail`: that status (4xx) and challenge |
//! | `pass()` | the request hangs | `Pass`: the next strategy is tried |
//! | `redirect(url, status)` | redirect | `Redirect`: the framework redirects |
//! | `error(err)` | 500 with the error | `Error`: 500 "Internal Server Error", the error only in the log |

use std::borrow::Cow;
use std::future::Future;

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest};

use crate::{AuthError, Challenge, Outcome, Redirect, UserProfile};

/// What an adapted strategy decided: Passport's five outcomes.
#[derive(Debug)]
pub enum Verdict {
    /// The caller is this user.
    Success(UserProfile),
    /// The credentials were there and are not good: answered with `status` (a 4xx, 401 by
    /// default), the message and the challenge, unless a later strategy succeeds.
    Fail {
        /// A client-error status.
        status: StatusCode,
        /// The message of the JSON body.
        message: Cow<'static, str>,
        /// The `WWW-Authenticate` challenge (the strategy's default one when `None`).
        challenge: Option<Challenge>,
    },
    /// No decision: nothing of this strategy's kind in the request.
    Pass,
    /// Send the caller elsewhere; the handler does not run.
    Redirect(Redirect),
    /// The strategy could not decide (a store is down...): 500, the error logged, never sent.
    Error(Box<dyn std::error::Error>),
}

impl Verdict {
    /// A 401 failure with `message`.
    pub fn fail(message: impl Into<Cow<'static, str>>) -> Self {
        Verdict::Fail { status: StatusCode::UNAUTHORIZED, message: message.into(), challenge: None }
    }

    /// A failure with another client-error status (a non-4xx status stays 401).
    ///
    /// ```
    /// use actix_web::http::StatusCode;
    /// use authn::adapter::Verdict;
    /// use authn::{Challenge, Outcome};
    ///
    /// let locked = Verdict::fail_with(StatusCode::FORBIDDEN, "Account locked.", Some(Challenge::new("Session")));
    /// let error = locked.into_outcome().unwrap_err();
    /// assert_eq!((error.status(), error.message()), (StatusCode::FORBIDDEN, "Account locked."));
    /// assert_eq!(Verdict::Pass.into_outcome(), Ok(Outcome::NoCredentials));
    /// ```
    pub fn fail_with(status: StatusCode, message: impl Into<Cow<'static, str>>, challenge: Option<Challenge>) -> Self {
        Verdict::Fail { status, message: message.into(), challenge }
    }

    /// An error, logged and answered 500.
    pub fn error(error: impl std::error::Error + 'static) -> Self {
        Verdict::Error(Box::new(error))
    }

    /// What the strategy chain makes of it.
    pub fn into_outcome(self) -> Result<Outcome, AuthError> {
        match self {
            Verdict::Success(profile) => Ok(Outcome::User(profile)),
            Verdict::Pass => Ok(Outcome::NoCredentials),
            Verdict::Redirect(redirect) => Ok(Outcome::Redirect(redirect)),
            Verdict::Fail { status, message, challenge } => {
                let error = AuthError::unauthorized(message).with_status(status);
                Err(match challenge {
                    Some(challenge) => error.with_challenge(challenge),
                    None => error,
                })
            }
            Verdict::Error(error) => {
                tracing::error!(error = %error, "an adapted strategy failed");
                Err(AuthError::internal())
            }
        }
    }
}

/// What an adapted strategy may answer: a [`Verdict`], or a bare [`UserProfile`] or
/// [`Redirect`] for strategies that never fail.
#[diagnostic::on_unimplemented(
    message = "an adapter strategy answers a `Verdict`, not `{Self}`",
    label = "expected `Verdict` (or `UserProfile`, `Redirect`)"
)]
pub trait IntoVerdict {
    /// The verdict.
    fn into_verdict(self) -> Verdict;
}

impl IntoVerdict for Verdict {
    fn into_verdict(self) -> Verdict {
        self
    }
}

impl IntoVerdict for UserProfile {
    fn into_verdict(self) -> Verdict {
        Verdict::Success(self)
    }
}

impl IntoVerdict for Redirect {
    fn into_verdict(self) -> Verdict {
        Verdict::Redirect(self)
    }
}

/// Where the macro checks a function's answer, pointing at its return type on a mismatch.
#[doc(hidden)]
pub fn into_verdict<T: IntoVerdict>(answer: T) -> Verdict {
    answer.into_verdict()
}

/// Runs extractor `E` (a tuple for several) on the request, without its body, and hands what
/// it produced to `map`. An extractor error is a [`Verdict::Pass`]; use `Option<E>` or
/// `Result<E, E::Error>` as `E` to see it.
///
/// ```standalone_crate
/// use actix_web::HttpRequest;
/// use actix_web::web::Query;
/// use authn::adapter::{from_extractor, Verdict};
/// use authn::{strategy, AuthError, Outcome, StrategyOptions, UserProfile};
///
/// #[derive(serde::Deserialize)]
/// struct Ticket {
///     ticket: String,
/// }
///
/// /// `?ticket=...`, accepted only where the route allows it (`#[authenticate("ticket", allow = true)]`).
/// #[strategy("ticket", options(allow = bool))]
/// async fn ticket(request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
///     let allowed = options.bool("allow").unwrap_or(false);
///     from_extractor(request, |query: Query<Ticket>| async move {
///         match query.ticket.strip_prefix("valid-") {
///             Some(user) if allowed => Verdict::Success(UserProfile::new(user)),
///             _ => Verdict::fail("Invalid ticket."),
///         }
///     })
///     .await
/// }
/// # fn main() {}
/// ```
pub async fn from_extractor<E, F, Fut>(request: &HttpRequest, map: F) -> Result<Outcome, AuthError>
where
    E: FromRequest,
    F: FnOnce(E) -> Fut,
    Fut: Future,
    Fut::Output: IntoVerdict,
{
    match E::from_request(request, &mut Payload::None).await {
        Ok(extracted) => map(extracted).await.into_verdict().into_outcome(),
        Err(error) => {
            tracing::debug!(error = %error.into(), "an adapted strategy's extractor found nothing");
            Ok(Outcome::NoCredentials)
        }
    }
}

/// Runs an existing validator of the shape actix-web-httpauth's middleware takes
/// (`async fn(ServiceRequest, C) -> Result<ServiceRequest, (Error, ServiceRequest)>`, with
/// credentials `C` extracted from the request) as a strategy, unchanged. What it accepted becomes
/// a user through `profile`, which reads what the validator left (typically in the request's
/// extensions). No credentials of type `C` is a pass; a rejection keeps the validator's status
/// when it is a client error (a 5xx, or an acceptance `profile` cannot read, is a 500 with the
/// details in the log only).
///
/// ```standalone_crate
/// use actix_web::dev::ServiceRequest;
/// use actix_web::error::ErrorUnauthorized;
/// use actix_web::web::Query;
/// use actix_web::{HttpMessage, HttpRequest};
/// use authn::adapter::from_validator;
/// use authn::{strategy, AuthError, Outcome, UserProfile};
///
/// #[derive(serde::Deserialize)]
/// struct Ticket {
///     ticket: String,
/// }
///
/// struct Caller(String);
///
/// /// The app's existing middleware validator, not changed for authn.
/// async fn validator(request: ServiceRequest, ticket: Query<Ticket>) -> Result<ServiceRequest, (actix_web::Error, ServiceRequest)> {
///     match ticket.ticket.strip_prefix("ok-") {
///         Some(user) => {
///             request.extensions_mut().insert(Caller(user.to_owned()));
///             Ok(request)
///         }
///         None => Err((ErrorUnauthorized("bad ticket"), request)),
///     }
/// }
///
/// #[strategy("legacy")]
/// async fn legacy(request: &HttpRequest) -> Result<Outcome, AuthError> {
///     from_validator(request, validator, |request| {
///         request.extensions().get::<Caller>().map(|c| UserProfile::new(c.0.clone()))
///     })
///     .await
/// }
/// # fn main() {}
/// ```
pub async fn from_validator<C, V, Fut, P>(request: &HttpRequest, validator: V, profile: P) -> Result<Outcome, AuthError>
where
    C: FromRequest,
    V: FnOnce(ServiceRequest, C) -> Fut,
    Fut: Future<Output = Result<ServiceRequest, (actix_web::Error, ServiceRequest)>>,
    P: FnOnce(&ServiceRequest) -> Option<UserProfile>,
{
    from_extractor(request, |credentials: C| async move {
        match validator(ServiceRequest::from_request(request.clone()), credentials).await {
            Ok(accepted) => match profile(&accepted) {
                Some(user) => Verdict::Success(user),
                None => Verdict::Error("the validator accepted a request its profile function could not read".into()),
            },
            Err((error, _)) => {
                let status = error.as_response_error().status_code();
                if status.is_client_error() {
                    let reason = status.canonical_reason().unwrap_or("Unauthorized");
                    tracing::debug!(%status, error = %error, "an adapted validator rejected the request");
                    Verdict::fail_with(status, format!("{reason}."), None)
                } else {
                    Verdict::Error(error.to_string().into())
                }
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Broken;

    impl std::fmt::Display for Broken {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("database password is hunter2")
        }
    }

    impl std::error::Error for Broken {}

    #[test]
    fn every_outcome_maps() {
        assert_eq!(Verdict::Success(UserProfile::new("1")).into_outcome(), Ok(Outcome::User(UserProfile::new("1"))));
        assert_eq!(Verdict::Pass.into_outcome(), Ok(Outcome::NoCredentials));
        assert_eq!(Redirect::to("/login").into_verdict().into_outcome(), Ok(Outcome::Redirect(Redirect::to("/login"))));
        let fail = Verdict::fail_with(StatusCode::PAYMENT_REQUIRED, "pay", None).into_outcome().unwrap_err();
        assert_eq!((fail.status(), fail.stops_chain()), (StatusCode::PAYMENT_REQUIRED, false));
        let server_status = Verdict::fail_with(StatusCode::BAD_GATEWAY, "x", None);
        assert_eq!(server_status.into_outcome().unwrap_err().status(), 401);
    }

    #[test]
    fn errors_are_500_and_never_shown() {
        let error = Verdict::error(Broken).into_outcome().unwrap_err();
        assert_eq!(error.status(), 500);
        assert!(error.stops_chain());
        assert!(!error.message().contains("hunter2"));
    }
}
