//! # authn
//!
//! Authentication for [actix-web](https://actix.rs), after LoopBack 4's
//! `@loopback/authentication`: annotate a handler with `#[authenticate("jwt")]`, take a typed
//! [`CurrentUser`], and authn runs the named strategies before anything else is extracted,
//! injects the user, or answers 401 with a JSON body and a `WWW-Authenticate` challenge.
//!
//! ```standalone_crate
//! use actix_web::{get, HttpRequest};
//! use authn::{authenticate, strategy, AuthError, CurrentUser, Outcome, StrategyOptions, UserProfile};
//!
//! /// A function strategy: `X-Api-Key: <key>` (demo: the key is the user id).
//! #[strategy("demo-key")]
//! async fn demo_key(request: &HttpRequest, _options: &StrategyOptions) -> Result<Outcome, AuthError> {
//!     match request.headers().get("x-api-key").and_then(|v| v.to_str().ok()) {
//!         None => Ok(Outcome::NoCredentials),
//!         Some(key) => Ok(Outcome::User(UserProfile::new(key))),
//!     }
//! }
//!
//! #[authenticate("demo-key")]
//! #[get("/whoAmI")]
//! async fn who_am_i(user: CurrentUser) -> String {
//!     user.id.clone()
//! }
//!
//! fn main() -> Result<(), authn::ConfigError> {
//!     authn::validate()?; // unknown strategy names, duplicates and bad options, all at once
//!     // HttpServer::new(|| App::new().service(who_am_i)) ...
//!     Ok(())
//! }
//! ```
//!
//! ## Linking rule
//!
//! Strategies register at link time through [`inventory`](https://docs.rs/inventory). A crate
//! that *only* registers strategies is dropped by the linker unless the binary names it, so
//! write `use my_strategies as _;` in the binary (and in that crate's integration tests).
//! [`validate`] reports a missing strategy if you forget.
//!
//! ## Where things are
//!
//! - At the root: what an app or a strategy writes (the macros, [`CurrentUser`],
//!   [`AuthenticationStrategy`], [`AuthError`], [`Group`], [`validate`], ...).
//! - The built-in strategies: `jwt`, `basic`, `api_key`, `oauth2`, each behind
//!   its feature; [`users`] for the user service they share; [`adapter`] for existing extractors
//!   and middleware.
//! - [`errors`]: the stable codes and the JSON body; [`events`]: security events;
//!   [`options`]: declaring a strategy's options; [`introspect`]: the registry and the routes;
//!   [`scope`]: scope checks; `openapi` and `test` behind their features.
//!
//! ## Features
//!
//! `jwt`, `basic` and `api-key` are on by default, in pure Rust. `sqlite` adds the SQLite token
//! store, `jwt-aws-lc` faster RSA/ECDSA, `oauth2` OAuth 2.0 login, `openapi` utoipa security,
//! `test-util` test helpers. The README's feature table says what each costs.
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Lets the crate use its own macros (`#[strategy]` on the built-in strategies), whose expansions
// name `::authn`.
extern crate self as authn;

pub mod adapter;
mod authentication;
mod chain;
mod challenge;
mod error;
pub mod events;
mod extract;
mod group;
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub mod openapi;
pub mod options;
mod profile;
mod registry;
mod response;
mod route;
pub mod scope;
mod strategies;
mod strategy;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test;
#[cfg(feature = "users")]
#[cfg_attr(docsrs, doc(cfg(feature = "users")))]
pub mod users;
mod util;
mod validate;

#[cfg(feature = "api-key")]
#[cfg_attr(docsrs, doc(cfg(feature = "api-key")))]
pub use strategies::api_key;
#[cfg(feature = "basic")]
#[cfg_attr(docsrs, doc(cfg(feature = "basic")))]
pub use strategies::basic;
#[cfg(feature = "jwt")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
pub use strategies::jwt;
#[cfg(feature = "oauth2")]
#[cfg_attr(docsrs, doc(cfg(feature = "oauth2")))]
pub use strategies::oauth2;

pub use authentication::Authentication;
/// Requires authentication on an actix-web handler: the named strategies run, in order, before
/// any other extractor, and the handler runs only when one of them authenticated the request
/// (or, for an optional user, when none found credentials).
///
/// # Grammar
///
/// ```text
/// #[authenticate("name", key = value, ..., "name", ...)]   strategies tried in the order written,
///                                                          each followed by its options
/// #[authenticate(skip)]                                    no authentication, even inside a Group
/// #[authenticate(group)]                                   the enclosing Group's strategies and user
///
/// value := "text" | 42 | -3 | 1.5 | true | ["a", "b"]
/// ```
///
/// Write it **above** the route macro (`#[get]`, `#[post]`, ...): there it reads the method and
/// path, so a [`Group`] sees the handler's own choice and [`routes`] can list them; below it,
/// a `skip` is invisible to groups and [`validate`] says so.
///
/// The handler takes the user as at most one parameter: [`CurrentUser`], `Option<CurrentUser>`
/// (anonymous requests pass with `None`; bad credentials are still a 401), or your own type
/// that implements [`FromProfile`] (and `Option` of it). A handler that does not need the user
/// simply leaves it out; its route is protected all the same. Every mistake in the attribute
/// is a compile error at the offending token, all reported at once; strategy names and options
/// are checked against the registry by [`validate`] at start-up.
///
/// ```standalone_crate
/// use actix_web::{App, get, web};
/// use authn::{CurrentUser, Group, authenticate};
///
/// #[authenticate("jwt", scopes = ["todo:read"])]
/// #[get("/todos")]
/// async fn todos(user: CurrentUser) -> String {
///     format!("{}'s todos", user.id)
/// }
///
/// /// Anonymous callers welcome; a forged token is still refused.
/// #[authenticate("jwt")]
/// #[get("/greeting")]
/// async fn greeting(user: Option<CurrentUser>) -> String {
///     user.map_or("hello, stranger".into(), |u| format!("hello, {}", u.id))
/// }
///
/// /// Inside the group below: public.
/// #[authenticate(skip)]
/// #[get("/health")]
/// async fn health() -> &'static str {
///     "ok"
/// }
///
/// /// Inside the group below: its strategies, and its user.
/// #[authenticate(group)]
/// #[get("/me")]
/// async fn me(user: CurrentUser) -> String {
///     user.id.clone()
/// }
///
/// fn main() {
///     let _app = App::new().service(todos).service(greeting).service(
///         web::scope("/admin").wrap(Group::new(["jwt", "basic"])).service(health).service(me),
///     );
///     assert_eq!(authn::routes().len(), 4);
/// }
/// ```
pub use authn_macros::authenticate;
/// Registers an authentication strategy under a name, at link time (through
/// [`inventory`](https://docs.rs/inventory)): routes name it in `#[authenticate("name")]`.
///
/// # Grammar
///
/// ```text
/// #[strategy("name")] impl AuthenticationStrategy for T { .. }   T: Default, built once
/// #[strategy("name")] async fn f(request: &HttpRequest) -> Result<Outcome, AuthError>
/// #[strategy("name", options(key = kind, ...))]
///     async fn f(request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError>
/// #[strategy("name")] async fn f(extractor: E, ...) -> adapter::Verdict   the adapter form
///
/// kind := str | int | float | bool | any | [kind]
/// ```
///
/// A name is lowercase ASCII letters, digits, `-`, `_`, `.` or `:`. A type strategy declares
/// its options with [`AuthenticationStrategy::accepted_options`]; a function strategy in
/// `options(...)`. Two registrations of one name are reported by [`validate`] with both
/// source locations. A crate that only registers strategies must be named in the binary
/// (`use my_strategies as _;`), or the linker drops it.
///
/// ```standalone_crate
/// use actix_web::HttpRequest;
/// use authn::{AuthError, AuthenticationStrategy, Outcome, StrategyOptions, UserProfile, strategy};
///
/// /// `X-Api-Key: <key>`, where the key names the user (a demo).
/// #[strategy("demo-key", options(prefix = str))]
/// async fn demo_key(request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
///     let Some(key) = request.headers().get("x-api-key").and_then(|v| v.to_str().ok()) else {
///         return Ok(Outcome::NoCredentials);
///     };
///     match key.strip_prefix(options.str("prefix").unwrap_or("")) {
///         Some(user) if !user.is_empty() => Ok(Outcome::User(UserProfile::new(user))),
///         _ => Err(AuthError::unauthorized("Invalid API key.")),
///     }
/// }
///
/// /// A type strategy: state built once, with `Default`.
/// #[derive(Default)]
/// struct Always;
///
/// #[strategy("always")]
/// impl AuthenticationStrategy for Always {
///     async fn authenticate(&self, _request: &HttpRequest, _options: &StrategyOptions) -> Result<Outcome, AuthError> {
///         Ok(Outcome::User(UserProfile::new("everyone")))
///     }
/// }
///
/// fn main() {
///     let names = authn::introspect::registry().names();
///     assert!(names.contains(&"demo-key") && names.contains(&"always"));
/// }
/// ```
pub use authn_macros::strategy;
pub use challenge::Challenge;
pub use error::{AuthError, AuthFailure, ErrorResponder, Redirect};
pub use extract::{CurrentUser, FromProfile};
pub use group::Group;
pub use profile::UserProfile;
pub use response::{ResponseHeaders, append_header};
pub use route::routes;
pub use strategy::{AuthenticationStrategy, Outcome, StrategyFuture, StrategyOptions};
#[cfg(any(feature = "users", feature = "api-key"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "users", feature = "api-key"))))]
pub use util::storage::StoreError;
pub use validate::{ConfigError, ValidationReport, validate, validate_or_exit, validate_with};

/// The stable `code` of every error authn answers, and the JSON body it answers with.
///
/// ```
/// use authn::errors::{USER_PROFILE_NOT_FOUND, ErrorBody};
/// # let _ = |body: ErrorBody<'_>| ();
/// assert_eq!(USER_PROFILE_NOT_FOUND, "USER_PROFILE_NOT_FOUND");
/// ```
pub mod errors {
    pub use crate::error::{
        AUTHENTICATION_BUSY, AUTHENTICATION_MISCONFIGURED, AUTHENTICATION_STRATEGY_NOT_FOUND,
        AUTHENTICATION_UNAVAILABLE, ErrorBody, ErrorDetails, TOO_MANY_ATTEMPTS, USER_PROFILE_INVALID,
        USER_PROFILE_NOT_FOUND,
    };
}

/// What the binary holds, read at run time: the strategy [`registry`](introspect::registry)
/// and every `#[authenticate]` route (see [`routes`]), for reports, admin pages
/// and tests. These types are built by the macros only; their fields are read, never written.
///
/// ```
/// for route in authn::routes() {
///     println!("{} at {} requires {:?}", route.handler(), route.location(), route.requirement());
/// }
/// println!("strategies: {:?}", authn::introspect::registry().names());
/// ```
pub mod introspect {
    pub use crate::registry::{Duplicate, Registry, registry};
    pub use crate::route::{Requirement, RouteBinding, RouteSpec, StrategyUse, UserParam};
    pub use crate::strategy::{Location, StrategyRegistration};
}

/// The `Service` types behind authn's middleware, for apps that name them in signatures; an app
/// writes `.wrap(Group::new(..))` or `.wrap(ResponseHeaders)` and never builds these.
pub mod middleware {
    pub use crate::group::GroupMiddleware;
    pub use crate::response::ResponseHeadersMiddleware;
}

/// What the macros expand to. Not public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::adapter::{from_extractor, into_verdict};
    pub use crate::extract::{Authenticated, RouteMarker, Routed};
    pub use crate::group::route_chosen;
    pub use crate::options::{OptionKind, OptionSpec, OptionValue};
    pub use crate::route::{Requirement, RouteBinding, RouteRegistration, RouteSpec, StrategyUse, UserParam};
    pub use crate::strategy::{Location, StrategyRegistration};
    pub use crate::{AuthenticationStrategy, StrategyFuture, StrategyOptions};
    pub use ::actix_web::HttpRequest;
    pub use ::actix_web::guard::GuardContext;
    pub use ::core;
    pub use ::futures_util::future::LocalBoxFuture;
    pub use ::inventory;
    pub use ::std::boxed::Box;

    /// The type of the guard a route macro below `#[authenticate]` names: a function pointer,
    /// so actix's `fn_guard` and its `Guard` impl are instantiated once for every handler of
    /// an app rather than once per handler.
    pub type RouteGuard = for<'a, 'b> fn(&'a GuardContext<'b>) -> bool;

    /// Where an item is; `const` so a `static` can hold it.
    pub const fn location(module: &'static str, file: &'static str, line: u32) -> Location {
        Location { module, file, line }
    }

    /// What `#[strategy]` submits to the registry.
    pub const fn strategy_registration(
        name: &'static str,
        build: fn() -> Box<dyn crate::AuthenticationStrategy>,
        location: Location,
    ) -> StrategyRegistration {
        StrategyRegistration { name, build, location }
    }

    /// One route macro below `#[authenticate]`.
    pub const fn route_binding(method: &'static str, path: &'static str, resource: &'static str) -> RouteBinding {
        RouteBinding { method, path, resource }
    }

    /// The description `#[authenticate]` keeps in a `static`.
    pub const fn route_spec(
        handler: &'static str,
        location: Location,
        requirement: Requirement,
        user: UserParam,
        routes: &'static [RouteBinding],
    ) -> RouteSpec {
        RouteSpec::new(handler, location, requirement, user, routes)
    }

    /// Builds a `#[strategy]` type once, with `Default`.
    pub fn build_default<T: crate::AuthenticationStrategy + Default>() -> Box<dyn crate::AuthenticationStrategy> {
        Box::new(T::default())
    }
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// The strategy guide's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/strategies.md")]
struct GuideDoctests;
