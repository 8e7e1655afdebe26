//! The strategy contract and how strategies register.

use actix_web::HttpRequest;
use futures_util::future::LocalBoxFuture;

use crate::options::{OptionSpec, OptionValue};
use crate::{AuthError, Challenge, Redirect, UserProfile};

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
/// assert!(authn::introspect::registry().get("demo-header").is_some());
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

    /// The app-data type this strategy reads its configuration from, if any:
    /// [`crate::validate_with`] reports a route using this strategy when the app's
    /// configurations do not include it. The default reads none.
    fn config_type(&self) -> Option<crate::options::ConfigType> {
        None
    }
}

/// A strategy registration, collected at link time. `#[strategy]` submits these; they can also
/// be submitted by hand with `inventory::submit!`.
#[derive(Debug)]
#[non_exhaustive]
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
#[non_exhaustive]
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

/// The options one route hands to one strategy.
///
/// ```
/// use authn::StrategyOptions;
/// use authn::options::OptionValue;
///
/// static SCOPES: [OptionValue; 2] = [OptionValue::Str("todo:read"), OptionValue::Str("todo:write")];
/// static OPTIONS: StrategyOptions =
///     StrategyOptions::new(&[("scopes", OptionValue::List(&SCOPES)), ("realm", OptionValue::Str("todos"))]);
///
/// assert_eq!(OPTIONS.str("realm"), Some("todos"));
/// assert_eq!(OPTIONS.strings("scopes").collect::<Vec<_>>(), ["todo:read", "todo:write"]);
/// assert!(OPTIONS.get("missing").is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrategyOptions {
    entries: &'static [(&'static str, OptionValue)],
}

impl StrategyOptions {
    /// No options: what a strategy named without `key = value` pairs receives.
    pub const EMPTY: StrategyOptions = StrategyOptions { entries: &[] };

    /// Options from `'static` data; the `#[authenticate]` macro builds these.
    pub const fn new(entries: &'static [(&'static str, OptionValue)]) -> Self {
        StrategyOptions { entries }
    }

    /// The value of `key`, if the route set it.
    pub fn get(&self, key: &str) -> Option<&'static OptionValue> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// A string option.
    pub fn str(&self, key: &str) -> Option<&'static str> {
        match self.get(key)? {
            OptionValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An integer option.
    pub fn int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            OptionValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A float option (an integer literal counts).
    pub fn float(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            OptionValue::Float(x) => Some(*x),
            OptionValue::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// A boolean option.
    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            OptionValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The strings of a list option (`scopes = ["a", "b"]`); a single string counts as a list of
    /// one, anything else as empty.
    pub fn strings(&self, key: &str) -> impl Iterator<Item = &'static str> + use<> {
        let (items, single): (&'static [OptionValue], Option<&'static str>) = match self.get(key) {
            Some(OptionValue::List(items)) => (items, None),
            Some(OptionValue::Str(s)) => (&[], Some(s)),
            _ => (&[], None),
        };
        single.into_iter().chain(items.iter().filter_map(|v| match v {
            OptionValue::Str(s) => Some(*s),
            _ => None,
        }))
    }

    /// Every `(key, value)` pair, in the order written.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'static OptionValue)> + use<> {
        self.entries.iter().map(|(k, v)| (*k, v))
    }

    /// True when the route gave this strategy no options.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Checks these options against what a strategy accepts; one message per problem.
    pub(crate) fn check(&self, accepted: &[OptionSpec]) -> Vec<String> {
        let mut problems = Vec::new();
        for (key, value) in self.iter() {
            match accepted.iter().find(|spec| spec.name == key) {
                None => {
                    let names: Vec<_> = accepted.iter().map(|s| format!("`{}`", s.name)).collect();
                    problems.push(if names.is_empty() {
                        format!("unknown option `{key}`: this strategy takes no options")
                    } else {
                        format!("unknown option `{key}`; expected one of: {}", names.join(", "))
                    });
                }
                Some(spec) if !value.fits(&spec.kind) => problems.push(format!(
                    "option `{key}` must be {}, found {} `{value}`",
                    spec.kind,
                    value.kind_name()
                )),
                Some(_) => {}
            }
        }
        problems
    }
}

impl Default for StrategyOptions {
    fn default() -> Self {
        StrategyOptions::EMPTY
    }
}
