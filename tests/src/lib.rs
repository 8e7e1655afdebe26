//! Strategies and helpers shared by the behaviour tests.
//!
//! | name | behaviour |
//! |---|---|
//! | `header` | `X-User: <id>` → that user; `X-User: !bad` → 401 "Bad user header."; none → no credentials |
//! | `token` | `Authorization: Token <id>` → that user; other `Token` values → 401 marked final |
//! | `pass` | always "no credentials" (challenge `Pass realm="tests"`) |
//! | `fail` | always 401 "Always fails." with code `FAIL` |
//! | `forbid` | always 403 "Forbidden by test." |
//! | `redirect` | always 303 to `/login` (or the route's `to` option, with `status`) |
//! | `options` | a user whose claims are the route's options, as JSON |
//! | `config` | a user named by `web::Data<ConfigUser>` app data; 401 without it |
//! | `claims` | a user with `{"id": "7", "role": "admin", "level": 3}` |

pub mod http;
pub mod idp;
pub mod jwt;
pub mod pg;

use actix_web::{HttpRequest, web};
use authn::options::{OptionKind, OptionSpec, OptionValue};
use authn::{AuthError, AuthenticationStrategy, Challenge, Outcome, Redirect, StrategyOptions, UserProfile, strategy};

#[strategy("header")]
async fn header(request: &HttpRequest) -> Result<Outcome, AuthError> {
    match request.headers().get("x-user").map(|v| v.to_str()) {
        None => Ok(Outcome::NoCredentials),
        Some(Ok(id)) if !id.starts_with('!') && !id.is_empty() => Ok(Outcome::User(UserProfile::new(id))),
        Some(_) => Err(AuthError::unauthorized("Bad user header.")),
    }
}

/// A type strategy with its own challenge and a final error.
#[derive(Default)]
pub struct TokenStrategy;

#[strategy("token")]
impl AuthenticationStrategy for TokenStrategy {
    async fn authenticate(&self, request: &HttpRequest, _options: &StrategyOptions) -> Result<Outcome, AuthError> {
        let Some(value) = request.headers().get("authorization").and_then(|v| v.to_str().ok()) else {
            return Ok(Outcome::NoCredentials);
        };
        let Some(id) = value.strip_prefix("Token ") else {
            return Ok(Outcome::NoCredentials);
        };
        if id.starts_with("ok-") {
            Ok(Outcome::User(UserProfile::new(id).with_name("Token User").with_email("t@example.com")))
        } else {
            Err(AuthError::unauthorized("Invalid token.")
                .with_code("INVALID_TOKEN")
                .with_challenge(Challenge::new("Token").param("realm", "tests").param("error", "invalid_token"))
                .stop_chain())
        }
    }

    fn challenge(&self, _request: &HttpRequest, _options: &StrategyOptions) -> Option<Challenge> {
        Some(Challenge::new("Token").param("realm", "tests"))
    }
}

/// Always "no credentials".
#[derive(Default)]
pub struct Pass;

#[strategy("pass")]
impl AuthenticationStrategy for Pass {
    async fn authenticate(&self, _request: &HttpRequest, _options: &StrategyOptions) -> Result<Outcome, AuthError> {
        Ok(Outcome::NoCredentials)
    }

    fn challenge(&self, _request: &HttpRequest, _options: &StrategyOptions) -> Option<Challenge> {
        Some(Challenge::new("Pass").param("realm", "tests"))
    }

    fn accepted_options(&self) -> &'static [OptionSpec] {
        const OPTIONS: &[OptionSpec] = &[OptionSpec::new("realm", OptionKind::Str)];
        OPTIONS
    }
}

#[strategy("fail")]
async fn fail(_request: &HttpRequest) -> Result<Outcome, AuthError> {
    Err(AuthError::unauthorized("Always fails.").with_code("FAIL"))
}

#[strategy("forbid")]
async fn forbid(_request: &HttpRequest) -> Result<Outcome, AuthError> {
    Err(AuthError::forbidden("Forbidden by test."))
}

#[strategy("redirect", options(to = str, status = int))]
async fn redirect(_request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
    let mut redirect = Redirect::to(options.str("to").unwrap_or("/login"));
    if let Some(status) = options.int("status") {
        let status = u16::try_from(status).ok().and_then(|s| actix_web::http::StatusCode::from_u16(s).ok());
        if let Some(status) = status {
            redirect = redirect.with_status(status);
        }
    }
    Ok(Outcome::Redirect(redirect))
}

/// Echoes the route's options as claims.
#[derive(Default)]
pub struct Options;

#[strategy("options")]
impl AuthenticationStrategy for Options {
    async fn authenticate(&self, _request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
        let mut profile = UserProfile::new("options");
        for (key, value) in options.iter() {
            profile = profile.with_claim(key, to_json(value));
        }
        Ok(Outcome::User(profile))
    }

    fn accepted_options(&self) -> &'static [OptionSpec] {
        const ACCEPTED: &[OptionSpec] = &[
            OptionSpec::new("scopes", OptionKind::List(&OptionKind::Str)),
            OptionSpec::new("level", OptionKind::Int),
            OptionSpec::new("ratio", OptionKind::Float),
            OptionSpec::new("strict", OptionKind::Bool),
            OptionSpec::new("realm", OptionKind::Str),
        ];
        ACCEPTED
    }
}

fn to_json(value: &OptionValue) -> serde_json::Value {
    match value {
        OptionValue::Str(s) => (*s).into(),
        OptionValue::Int(i) => (*i).into(),
        OptionValue::Float(x) => (*x).into(),
        OptionValue::Bool(b) => (*b).into(),
        OptionValue::List(items) => items.iter().map(to_json).collect(),
    }
}

/// App data the `config` strategy reads: configuration reaches strategies through the request.
#[derive(Clone)]
pub struct ConfigUser(pub String);

#[strategy("config")]
async fn config(request: &HttpRequest) -> Result<Outcome, AuthError> {
    match request.app_data::<web::Data<ConfigUser>>() {
        Some(user) => Ok(Outcome::User(UserProfile::new(user.0.clone()))),
        None => Err(AuthError::unauthorized("No configured user.")),
    }
}

#[strategy("claims")]
async fn claims(_request: &HttpRequest) -> Result<Outcome, AuthError> {
    Ok(Outcome::User(UserProfile::new("7").with_claim("role", "admin").with_claim("level", 3)))
}

/// App data the `rec-*` strategies append their names to: shows which strategies ran, in order.
#[derive(Default)]
pub struct Calls(pub std::sync::Mutex<Vec<&'static str>>);

impl Calls {
    /// The names recorded so far.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

fn record(request: &HttpRequest, name: &'static str) {
    if let Some(calls) = request.app_data::<web::Data<Calls>>()
        && let Ok(mut calls) = calls.0.lock()
    {
        calls.push(name);
    }
}

/// How many times `rec-a` was built: strategies are built once per process.
pub static REC_A_BUILDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Records its call, then "no credentials".
pub struct RecA;

impl Default for RecA {
    fn default() -> Self {
        REC_A_BUILDS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        RecA
    }
}

#[strategy("rec-a")]
impl AuthenticationStrategy for RecA {
    async fn authenticate(&self, request: &HttpRequest, _options: &StrategyOptions) -> Result<Outcome, AuthError> {
        record(request, "rec-a");
        Ok(Outcome::NoCredentials)
    }
}

#[strategy("rec-b")]
async fn rec_b(request: &HttpRequest) -> Result<Outcome, AuthError> {
    record(request, "rec-b");
    Ok(Outcome::User(UserProfile::new("b")))
}

#[strategy("rec-c")]
async fn rec_c(request: &HttpRequest) -> Result<Outcome, AuthError> {
    record(request, "rec-c");
    Ok(Outcome::User(UserProfile::new("c")))
}

#[strategy("rec-fail")]
async fn rec_fail(request: &HttpRequest) -> Result<Outcome, AuthError> {
    record(request, "rec-fail");
    Err(AuthError::unauthorized("rec-fail failed."))
}

/// The cheapest strategy that authenticates: the benchmarks' no-op.
#[strategy("noop")]
async fn noop(_request: &HttpRequest) -> Result<Outcome, AuthError> {
    Ok(Outcome::User(UserProfile::new("u")))
}
