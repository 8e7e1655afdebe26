//! The strategy contract and how strategies register.

use actix_web::{HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::{AuthError, Challenge, OptionSpec, Redirect, StrategyOptions, UserProfile};

/// What a strategy decided about a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The caller is this user; later strategies are not tried.
    User(UserProfile),
    /// Send the caller elsewhere (e.g. to a login page); later strategies are not tried and the
    /// handler does not run.
    Redirect(Redirect),
    /// The request carries no credentials of this strategy's kind: try the next one. A route
    /// whose every strategy answers this is anonymous (401, or `None` for an optional user).
    NoCredentials,
}

/// The future every strategy returns: boxed, and not `Send`, because actix requests are not.
pub type StrategyFuture<'a> = LocalBoxFuture<'a, Result<Outcome, AuthError>>;

/// An authentication strategy: LoopBack's `AuthenticationStrategy`.
///
/// A strategy is built once per process (with `Default`, when registered by `#[strategy]`) and
/// shared by every worker, hence `Send + Sync`; configuration is read per request from actix app
/// data (`request.app_data::<web::Data<MyConfig>>()`), so tests and apps configure it the usual
/// actix way. The trait is dyn-compatible: the registry holds `Box<dyn AuthenticationStrategy>`.
///
/// With `#[strategy]` the method can be written as an `async fn`; the macro boxes it.
///
/// ```
/// use actix_web::HttpRequest;
/// use authn::{AuthError, AuthenticationStrategy, Challenge, Outcome, StrategyOptions, UserProfile};
///
/// /// Accepts `X-Demo-User: <name>`; for demonstration only.
/// #[derive(Default)]
/// struct DemoHeader;
///
/// #[authn::strategy("demo-header")]
/// impl AuthenticationStrategy for DemoHeader {
///     async fn authenticate(&self, request: &HttpRequest, _options: &StrategyOptions) -> Result<Outcome, AuthError> {
///         match request.headers().get("x-demo-user").map(|v| v.to_str()) {
///             None => Ok(Outcome::NoCredentials),
///             Some(Ok(name)) if !name.is_empty() => Ok(Outcome::User(UserProfile::new(name))),
///             Some(_) => Err(AuthError::unauthorized("Malformed X-Demo-User header.")),
///         }
///     }
///
///     fn challenge(&self, _request: &HttpRequest, _options: &StrategyOptions) -> Option<Challenge> {
///         Some(Challenge::new("DemoHeader"))
///     }
/// }
///
/// assert!(authn::registry().get("demo-header").is_some());
/// ```
pub trait AuthenticationStrategy: Send + Sync + 'static {
    /// Decides who the caller is. `options` are the ones the route wrote for this strategy.
    fn authenticate<'a>(&'a self, request: &'a HttpRequest, options: &'a StrategyOptions) -> StrategyFuture<'a>;

    /// The `WWW-Authenticate` challenge this strategy sends when it did not authenticate the
    /// caller and its error carried none. `None` sends a challenge named after the strategy.
    fn challenge(&self, request: &HttpRequest, options: &StrategyOptions) -> Option<Challenge> {
        let _ = (request, options);
        None
    }

    /// The options routes may give this strategy; [`crate::validate`] rejects any other at
    /// start-up. The default accepts none.
    fn accepted_options(&self) -> &'static [OptionSpec] {
        &[]
    }
}

/// A strategy registration, collected at link time. `#[strategy]` submits these; they can also
/// be submitted by hand with `inventory::submit!`.
#[derive(Debug)]
pub struct StrategyRegistration {
    /// The name routes use, e.g. `"jwt"`.
    pub name: &'static str,
    /// Builds the strategy (once per process).
    pub build: fn() -> Box<dyn AuthenticationStrategy>,
    /// Where it was registered, for error messages.
    pub location: Location,
}

/// A place in the user's source code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// `module_path!()`
    pub module: &'static str,
    /// `file!()`
    pub file: &'static str,
    /// `line!()`
    pub line: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

inventory::collect!(StrategyRegistration);

/// The configuration `T` of a built-in strategy, registered as app data either bare
/// (`app_data(config)`) or shared (`app_data(web::Data::new(config))`). Missing, it is the
/// app's set-up mistake: logged with what to add, answered 500 without detail.
#[cfg_attr(not(any(feature = "jwt", feature = "basic", feature = "api-key", feature = "oauth2")), allow(dead_code))]
pub(crate) fn app_config<'r, T: 'static>(request: &'r HttpRequest, strategy: &str) -> Result<&'r T, AuthError> {
    if let Some(config) = request.app_data::<T>() {
        return Ok(config);
    }
    if let Some(config) = request.app_data::<web::Data<T>>() {
        return Ok(config.get_ref());
    }
    let type_name = std::any::type_name::<T>().rsplit("::").next().unwrap_or_default();
    tracing::error!("the \"{strategy}\" strategy needs a {type_name} in the app data: App::new().app_data(config)");
    Err(AuthError::internal())
}
