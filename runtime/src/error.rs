//! What a failed authentication answers: the strategy's [`AuthError`], the framework's
//! [`AuthFailure`] (the error plus every challenge), its LoopBack-compatible JSON body, and the
//! app's hook to replace that response ([`ErrorResponder`]).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::Challenge;

/// Error code when a route names a strategy that nobody registered (LoopBack's code).
pub const AUTHENTICATION_STRATEGY_NOT_FOUND: &str = "AUTHENTICATION_STRATEGY_NOT_FOUND";
/// Error code when no strategy produced a user (LoopBack's code).
pub const USER_PROFILE_NOT_FOUND: &str = "USER_PROFILE_NOT_FOUND";
/// Error code when the authenticated profile does not deserialize into the handler's user type.
pub const USER_PROFILE_INVALID: &str = "USER_PROFILE_INVALID";
/// Error code when the framework's own set-up is wrong (e.g. a strategy name registered twice).
pub const AUTHENTICATION_MISCONFIGURED: &str = "AUTHENTICATION_MISCONFIGURED";
/// Error code of a 503 when password hashing is at its bound: retry after `Retry-After`.
pub const AUTHENTICATION_BUSY: &str = "AUTHENTICATION_BUSY";
/// Error code of a 429 when a login or client is throttled: retry after `Retry-After`.
pub const TOO_MANY_ATTEMPTS: &str = "TOO_MANY_ATTEMPTS";
/// How long a client is told to wait after a store failure: long enough not to hammer a
/// database that is restarting, short enough that users barely notice a blip.
const STORE_RETRY_AFTER_SECONDS: u64 = 5;

/// 503: a store authentication needs (users, tokens, keys) failed; retry later.
pub const AUTHENTICATION_UNAVAILABLE: &str = "AUTHENTICATION_UNAVAILABLE";

/// Why a strategy rejected a request. 401 unless the strategy chose another 4xx.
///
/// ```
/// use authn::{AuthError, Challenge};
/// use actix_web::http::StatusCode;
///
/// let e = AuthError::unauthorized("Invalid API key.")
///     .with_code("INVALID_API_KEY")
///     .with_challenge(Challenge::new("ApiKey").param("realm", "api"))
///     .stop_chain();
/// assert_eq!(e.status(), StatusCode::UNAUTHORIZED);
/// assert!(e.stops_chain());
///
/// // Only client errors are accepted; anything else stays 401.
/// assert_eq!(AuthError::unauthorized("x").with_status(StatusCode::OK).status(), 401);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    status: StatusCode,
    message: Cow<'static, str>,
    code: Option<Cow<'static, str>>,
    challenge: Option<Challenge>,
    stop_chain: bool,
    missing: bool,
    /// Seconds for `Retry-After` (429, 503).
    retry_after: Option<u64>,
}

impl AuthError {
    /// A 401: the credentials were there but are not valid.
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        AuthError {
            status: StatusCode::UNAUTHORIZED,
            message: message.into(),
            code: None,
            challenge: None,
            stop_chain: false,
            missing: false,
            retry_after: None,
        }
    }

    /// "No credentials of my kind", with the message to answer if no other strategy does
    /// better (LoopBack's `Authorization header not found.`). Like [`Outcome::NoCredentials`]
    /// it lets the next strategy try and lets optional routes run anonymously.
    ///
    /// [`Outcome::NoCredentials`]: crate::Outcome::NoCredentials
    pub fn missing_credentials(message: impl Into<Cow<'static, str>>) -> Self {
        AuthError { missing: true, ..AuthError::unauthorized(message) }
    }

    /// A 500 whose body says only "Internal Server Error": the strategy could not decide (its
    /// configuration or store is broken). Final, and the reason belongs in the log.
    pub fn internal() -> Self {
        AuthError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            stop_chain: true,
            ..AuthError::unauthorized("Internal Server Error")
        }
    }

    /// A 503 with `Retry-After`: the server cannot check credentials now (it is at its bound
    /// of concurrent password hashing). Final; code [`AUTHENTICATION_BUSY`].
    pub fn unavailable(retry_after: std::time::Duration) -> Self {
        AuthError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            stop_chain: true,
            retry_after: Some(retry_after.as_secs().max(1)),
            ..AuthError::unauthorized("The server is busy checking credentials; retry later.")
        }
        .with_code(AUTHENTICATION_BUSY)
    }

    /// A 500 with code [`AUTHENTICATION_MISCONFIGURED`]: the app's set-up is wrong (a strategy's
    /// configuration is missing from the app data). Final; what to fix belongs in the log.
    pub fn misconfigured() -> Self {
        AuthError::internal().with_code(AUTHENTICATION_MISCONFIGURED)
    }

    /// A 503 with `Retry-After`: a store authentication needs failed (the database is gone).
    /// Final; code [`AUTHENTICATION_UNAVAILABLE`]. The cause belongs in the log, never here.
    pub fn store_unavailable() -> Self {
        AuthError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            stop_chain: true,
            retry_after: Some(STORE_RETRY_AFTER_SECONDS),
            ..AuthError::unauthorized("Authentication is unavailable; retry later.")
        }
        .with_code(AUTHENTICATION_UNAVAILABLE)
    }

    /// A 503 with `Retry-After`: the identity provider's keys cannot be had (never fetched, or
    /// expired past the stale-if-error window while the provider is unreachable). Final; code
    /// [`AUTHENTICATION_UNAVAILABLE`]: the client did nothing wrong, so not a 401.
    pub fn keys_unavailable(retry_after: std::time::Duration) -> Self {
        AuthError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            stop_chain: true,
            retry_after: Some(retry_after.as_secs().max(1)),
            ..AuthError::unauthorized("The identity provider's keys are unavailable; retry later.")
        }
        .with_code(AUTHENTICATION_UNAVAILABLE)
    }

    /// A 429 with `Retry-After`: too many failed attempts. Final; code [`TOO_MANY_ATTEMPTS`].
    pub fn too_many_attempts(retry_after: std::time::Duration) -> Self {
        AuthError::unauthorized("Too many failed attempts; retry later.")
            .with_status(StatusCode::TOO_MANY_REQUESTS)
            .with_code(TOO_MANY_ATTEMPTS)
            .with_retry_after(retry_after)
            .stop_chain()
    }

    /// Asks the client to wait this long before retrying (`Retry-After`, whole seconds, at
    /// least one).
    pub fn with_retry_after(mut self, after: std::time::Duration) -> Self {
        self.retry_after = Some(after.as_secs_f64().ceil().max(1.0) as u64);
        self
    }

    /// The `Retry-After` seconds, if any.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// A 403: the user is known but may not do this (e.g. a missing scope).
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        AuthError::unauthorized(message).with_status(StatusCode::FORBIDDEN)
    }

    /// Another client-error status. Authentication failures are the client's, so a status
    /// outside 400–499 is refused (and logged) and 401 kept; see [`AuthError::internal`].
    pub fn with_status(mut self, status: StatusCode) -> Self {
        if status.is_client_error() {
            self.status = status;
        } else {
            tracing::warn!(%status, "AuthError::with_status ignored a status that is not 4xx; keeping 401");
        }
        self
    }

    /// A stable, machine-readable code for the JSON body.
    pub fn with_code(mut self, code: impl Into<Cow<'static, str>>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// The challenge to send for this failure instead of the strategy's default one
    /// (e.g. with RFC 6750's `error="invalid_token"`).
    pub fn with_challenge(mut self, challenge: Challenge) -> Self {
        self.challenge = Some(challenge);
        self
    }

    /// Makes this error final: no later strategy on the route is tried (LoopBack's
    /// `failOnError`, per strategy). Use it when credentials of your kind were presented and are
    /// bad, e.g. an expired bearer token must not fall through to anonymous access.
    pub fn stop_chain(mut self) -> Self {
        self.stop_chain = true;
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// The message for the body.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The code for the body.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    /// The challenge the strategy attached.
    pub fn challenge(&self) -> Option<&Challenge> {
        self.challenge.as_ref()
    }
    /// Whether later strategies are skipped.
    pub fn stops_chain(&self) -> bool {
        self.stop_chain
    }

    /// Whether this only says that no credentials of the strategy's kind were sent.
    pub fn is_missing_credentials(&self) -> bool {
        self.missing
    }

    pub(crate) fn take_challenge(&mut self) -> Option<Challenge> {
        self.challenge.take()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for AuthError {}

/// A handler that calls authn's services (login, refresh, logout) can return their errors with
/// `?`: they answer the same JSON body and challenge as a failed `#[authenticate]`.
///
/// ```
/// use actix_web::ResponseError;
/// let response = authn::AuthError::unauthorized("Invalid email or password.").error_response();
/// assert_eq!(response.status(), 401);
/// ```
impl actix_web::ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut error = self.clone();
        let challenges = error.take_challenge().into_iter().collect();
        AuthFailure::rejected(error, challenges).default_response()
    }
}

/// Where a strategy sends the client instead (OAuth2 login pages and the like).
///
/// The framework answers with the status and `Location` itself; the handler does not run.
///
/// ```
/// use authn::Redirect;
/// use actix_web::http::StatusCode;
/// let r = Redirect::to("/login?next=%2Ftodos");
/// assert_eq!(r.status(), StatusCode::SEE_OTHER);
/// assert_eq!(Redirect::to("/x").with_status(StatusCode::FOUND).status(), 302);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    location: Cow<'static, str>,
    status: StatusCode,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl Redirect {
    /// A 303 See Other to `location`.
    pub fn to(location: impl Into<Cow<'static, str>>) -> Self {
        Redirect { location: location.into(), status: StatusCode::SEE_OTHER, headers: Vec::new() }
    }

    /// Another header for the redirect response, typically a `Set-Cookie` that carries the state
    /// of a login flow to its callback.
    ///
    /// ```
    /// use actix_web::http::header::{HeaderValue, SET_COOKIE};
    /// let r = authn::Redirect::to("/login").with_header(SET_COOKIE, HeaderValue::from_static("flow=1; HttpOnly"));
    /// assert_eq!(r.headers().count(), 1);
    /// ```
    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The extra headers, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&header::HeaderName, &HeaderValue)> {
        self.headers.iter().map(|(n, v)| (n, v))
    }

    /// Another redirection status (301, 302, 307, 308); anything that is not 3xx keeps 303.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        if status.is_redirection() {
            self.status = status;
        } else {
            tracing::warn!(%status, "Redirect::with_status ignored a status that is not 3xx; keeping 303");
        }
        self
    }

    /// The target.
    pub fn location(&self) -> &str {
        &self.location
    }
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// Why a request was not let through: what the app's [`ErrorResponder`] receives.
#[derive(Debug, Clone)]
pub struct AuthFailure {
    // Boxed: failures are the rare path, and `Result<_, AuthFailure>` stays small on the hot one.
    pub(crate) kind: Box<FailureKind>,
    pub(crate) challenges: Vec<Challenge>,
}

#[derive(Debug, Clone)]
pub(crate) enum FailureKind {
    /// A strategy's error, or the framework's 401 when no strategy produced a user.
    Rejected(AuthError),
    /// The first redirecting strategy's answer.
    Redirect(Redirect),
    /// The set-up is wrong (unknown strategy...): a 500 that says so in its code.
    Misconfigured { message: Cow<'static, str>, code: &'static str },
}

impl AuthFailure {
    pub(crate) fn rejected(error: AuthError, mut challenges: Vec<Challenge>) -> Self {
        // A challenge asks the client for other credentials (RFC 7235); a server error is not
        // the client's to fix, so it carries none.
        if error.status().is_server_error() {
            challenges.clear();
        }
        AuthFailure { kind: Box::new(FailureKind::Rejected(error)), challenges }
    }

    pub(crate) fn redirect(redirect: Redirect) -> Self {
        AuthFailure { kind: Box::new(FailureKind::Redirect(redirect)), challenges: Vec::new() }
    }

    pub(crate) fn misconfigured(message: impl Into<Cow<'static, str>>, code: &'static str) -> Self {
        AuthFailure {
            kind: Box::new(FailureKind::Misconfigured { message: message.into(), code }),
            challenges: Vec::new(),
        }
    }

    /// The status of the response.
    pub fn status(&self) -> StatusCode {
        match &*self.kind {
            FailureKind::Rejected(e) => e.status(),
            FailureKind::Redirect(r) => r.status(),
            FailureKind::Misconfigured { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message of the body (empty for a redirect).
    pub fn message(&self) -> &str {
        match &*self.kind {
            FailureKind::Rejected(e) => e.message(),
            FailureKind::Redirect(_) => "",
            FailureKind::Misconfigured { message, .. } => message,
        }
    }

    /// The code of the body, if any.
    pub fn code(&self) -> Option<&str> {
        match &*self.kind {
            FailureKind::Rejected(e) => e.code(),
            FailureKind::Redirect(_) => None,
            FailureKind::Misconfigured { code, .. } => Some(code),
        }
    }

    /// The redirect, when a strategy asked for one.
    pub fn redirect_target(&self) -> Option<&Redirect> {
        match &*self.kind {
            FailureKind::Redirect(r) => Some(r),
            _ => None,
        }
    }

    /// The challenges of every strategy tried, in order (sent as `WWW-Authenticate`).
    pub fn challenges(&self) -> &[Challenge] {
        &self.challenges
    }

    /// The stable JSON body: `{"error": {"statusCode", "name", "message", "code"?}}`.
    pub fn body(&self) -> ErrorBody<'_> {
        let status = self.status();
        ErrorBody {
            error: ErrorDetails {
                status_code: status.as_u16(),
                name: error_name(status),
                message: self.message(),
                code: self.code(),
            },
        }
    }

    /// The response authn sends when the app sets no [`ErrorResponder`]: the JSON body and one
    /// `WWW-Authenticate` line per challenge; for a redirect, the status and `Location`.
    pub fn default_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status());
        // LoopBack's error handler sends it: a JSON error body is never sniffed as HTML.
        response.insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")));
        if let Some(redirect) = self.redirect_target() {
            return match HeaderValue::from_str(redirect.location()) {
                Ok(location) => {
                    for (name, value) in redirect.headers() {
                        response.append_header((name.clone(), value.clone()));
                    }
                    response.insert_header((header::LOCATION, location)).finish()
                }
                // A location that is not a valid header value is the strategy's bug: fail
                // closed without echoing it.
                Err(_) => {
                    tracing::error!("a strategy redirected to a location that is not a valid header value");
                    HttpResponse::InternalServerError().finish()
                }
            };
        }
        self.apply_challenges(&mut response);
        if let Some(seconds) = self.retry_after() {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        response.json(self.body())
    }

    /// The `Retry-After` seconds of a 429 or 503, if any.
    pub fn retry_after(&self) -> Option<u64> {
        match &*self.kind {
            FailureKind::Rejected(e) => e.retry_after(),
            _ => None,
        }
    }

    /// Adds the `WWW-Authenticate` lines to a response being built (for custom responders).
    pub fn apply_challenges(&self, response: &mut actix_web::HttpResponseBuilder) {
        for challenge in &self.challenges {
            if let Some(value) = challenge.header_value() {
                response.append_header((header::WWW_AUTHENTICATE, value));
            }
        }
    }

    pub(crate) fn response_for(&self, req: &HttpRequest) -> HttpResponse {
        if self.redirect_target().is_none()
            && let Some(responder) = req.app_data::<ErrorResponder>()
        {
            return (responder.0)(self, req);
        }
        self.default_response()
    }

    pub(crate) fn into_error(self, req: &HttpRequest) -> actix_web::Error {
        let response = self.response_for(req);
        actix_web::error::InternalError::from_response(self, response).into()
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.kind {
            FailureKind::Redirect(r) => write!(f, "authentication redirect ({})", r.status().as_u16()),
            _ => write!(f, "authentication failed ({}): {}", self.status().as_u16(), self.message()),
        }
    }
}

/// The JSON error body, LoopBack's `strong-error-handler` shape.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    /// The single top-level key.
    pub error: ErrorDetails<'a>,
}

/// The fields of [`ErrorBody`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetails<'a> {
    /// The HTTP status, repeated.
    pub status_code: u16,
    /// `UnauthorizedError`, `ForbiddenError`, ... (the `http-errors` names).
    pub name: Cow<'static, str>,
    /// A human-readable message, never containing credentials.
    pub message: &'a str,
    /// A stable code, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'a str>,
}

/// `http-errors` naming: the reason phrase in PascalCase, suffixed `Error`.
fn error_name(status: StatusCode) -> Cow<'static, str> {
    match status {
        StatusCode::UNAUTHORIZED => "UnauthorizedError".into(),
        StatusCode::FORBIDDEN => "ForbiddenError".into(),
        StatusCode::BAD_REQUEST => "BadRequestError".into(),
        StatusCode::INTERNAL_SERVER_ERROR => "InternalServerError".into(),
        other => {
            let reason = other.canonical_reason().unwrap_or("Error");
            let mut name: String = reason.split(|c: char| !c.is_ascii_alphanumeric()).map(capitalise).collect();
            if !name.ends_with("Error") {
                name.push_str("Error");
            }
            name.into()
        }
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

type Responder = dyn Fn(&AuthFailure, &HttpRequest) -> HttpResponse + Send + Sync;

/// Replaces authn's error response app-wide: register it as app data.
///
/// Redirects are not errors and keep their 30x answer. Use
/// [`AuthFailure::apply_challenges`] to keep the `WWW-Authenticate` lines RFC 7235 requires.
///
/// ```
/// use actix_web::{App, HttpResponse};
/// use authn::ErrorResponder;
///
/// let app = App::new().app_data(ErrorResponder::new(|failure, _req| {
///     let mut response = HttpResponse::build(failure.status());
///     failure.apply_challenges(&mut response);
///     response.body(format!("denied: {}", failure.message()))
/// }));
/// # drop(app);
/// ```
#[derive(Clone)]
pub struct ErrorResponder(Arc<Responder>);

impl ErrorResponder {
    /// Wraps the function that renders every authentication error.
    pub fn new(render: impl Fn(&AuthFailure, &HttpRequest) -> HttpResponse + Send + Sync + 'static) -> Self {
        ErrorResponder(Arc::new(render))
    }
}

impl fmt::Debug for ErrorResponder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ErrorResponder(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_http_errors() {
        assert_eq!(error_name(StatusCode::UNAUTHORIZED), "UnauthorizedError");
        assert_eq!(error_name(StatusCode::FORBIDDEN), "ForbiddenError");
        assert_eq!(error_name(StatusCode::TOO_MANY_REQUESTS), "TooManyRequestsError");
        assert_eq!(error_name(StatusCode::PROXY_AUTHENTICATION_REQUIRED), "ProxyAuthenticationRequiredError");
        assert_eq!(error_name(StatusCode::INTERNAL_SERVER_ERROR), "InternalServerError");
    }

    #[test]
    fn body_has_the_loopback_shape() {
        let failure = AuthFailure::rejected(AuthError::unauthorized("nope").with_code("X"), vec![]);
        let json = serde_json::to_value(failure.body()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {"statusCode": 401, "name": "UnauthorizedError", "message": "nope", "code": "X"}})
        );
        let no_code = AuthFailure::rejected(AuthError::forbidden("no"), vec![]);
        assert_eq!(serde_json::to_value(no_code.body()).unwrap()["error"].get("code"), None);
    }

    #[test]
    fn only_client_errors_and_redirections_are_accepted() {
        assert_eq!(AuthError::unauthorized("x").with_status(StatusCode::IM_A_TEAPOT).status(), 418);
        assert_eq!(AuthError::unauthorized("x").with_status(StatusCode::BAD_GATEWAY).status(), 401);
        assert_eq!(Redirect::to("/").with_status(StatusCode::OK).status(), 303);
        assert_eq!(Redirect::to("/").with_status(StatusCode::TEMPORARY_REDIRECT).status(), 307);
    }

    #[test]
    fn default_response_carries_every_challenge() {
        let failure = AuthFailure::rejected(
            AuthError::unauthorized("no"),
            vec![Challenge::new("Bearer").param("realm", "a"), Challenge::new("Basic")],
        );
        let response = failure.default_response();
        let lines: Vec<_> = response.headers().get_all(header::WWW_AUTHENTICATE).collect();
        assert_eq!(lines, [r#"Bearer realm="a""#, "Basic"]);
    }

    #[test]
    fn every_error_response_says_nosniff_and_throttles_say_when_to_retry() {
        let throttled =
            AuthFailure::rejected(AuthError::too_many_attempts(std::time::Duration::from_millis(1500)), vec![]);
        let response = throttled.default_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "2");
        let plain = AuthFailure::rejected(AuthError::unauthorized("no"), vec![]).default_response();
        assert_eq!(plain.headers().get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        assert!(plain.headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn an_unsendable_redirect_location_fails_closed() {
        let response = AuthFailure::redirect(Redirect::to("/a\nb")).default_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().get(header::LOCATION).is_none());
    }
}
