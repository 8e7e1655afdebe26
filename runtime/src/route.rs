//! What each `#[authenticate]` handler requires, collected at link time: the input of the
//! start-up check, of group deferral, and of the route report (and of OpenAPI later).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, OnceLock};

use crate::introspect::{Location, registry};
use crate::{AuthFailure, AuthenticationStrategy, StrategyOptions};

/// One strategy named by a route or a [`Group`](crate::Group), with the options it gave it.
///
/// ```
/// use authn::introspect::StrategyUse;
///
/// let plain: StrategyUse = "jwt".into();
/// assert_eq!(plain, StrategyUse::new("jwt"));
/// assert!(plain.options.is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct StrategyUse {
    /// The registered name.
    pub name: &'static str,
    /// The options written after it.
    pub options: StrategyOptions,
}

impl StrategyUse {
    /// A strategy without options.
    pub const fn new(name: &'static str) -> Self {
        StrategyUse { name, options: StrategyOptions::EMPTY }
    }

    /// A strategy with options.
    pub const fn with_options(name: &'static str, options: StrategyOptions) -> Self {
        StrategyUse { name, options }
    }
}

impl From<&'static str> for StrategyUse {
    fn from(name: &'static str) -> Self {
        StrategyUse::new(name)
    }
}

impl fmt::Display for StrategyUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.name)?;
        if !self.options.is_empty() {
            f.write_str("(")?;
            for (i, (key, value)) in self.options.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{key} = {value}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// What a route asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Requirement {
    /// These strategies, tried in order.
    Strategies(&'static [StrategyUse]),
    /// No authentication, even inside a protected group (`#[authenticate(skip)]`).
    Skip,
    /// The enclosing [`Group`](crate::Group)'s strategies and the user it authenticated
    /// (`#[authenticate(group)]`): the handler runs only when the group accepted the request.
    Group,
}

/// Whether and how the handler receives the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserParam {
    /// No user parameter: authentication still required.
    Unused,
    /// `CurrentUser<..>`: authentication required.
    Required,
    /// `Option<CurrentUser<..>>`: anonymous requests run with `None`; bad credentials still fail.
    Optional,
}

/// A method and path an actix route macro binds the handler to, when `#[authenticate]` was
/// written above that macro and could read it (and mark the resource for groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteBinding {
    /// `GET`, `POST`, ... as the route macro's method guard compares it.
    pub method: &'static str,
    /// The path as written in the macro, relative to any enclosing scope.
    pub path: &'static str,
    /// The resource name: the macro's `name = "..."`, or the function's name.
    pub resource: &'static str,
}

/// One annotated handler, as `#[authenticate]` describes it; see [`routes`](crate::routes).
///
/// Only the macro builds these; its layout is not public, its getters are.
pub struct RouteSpec {
    handler: &'static str,
    location: Location,
    requirement: Requirement,
    user: UserParam,
    routes: &'static [RouteBinding],
    resolved: OnceLock<Result<Vec<&'static dyn AuthenticationStrategy>, AuthFailure>>,
    warned: AtomicBool,
    reported: AtomicBool,
}

impl RouteSpec {
    /// Used by `#[authenticate]`, through `__private::route_spec`.
    pub(crate) const fn new(
        handler: &'static str,
        location: Location,
        requirement: Requirement,
        user: UserParam,
        routes: &'static [RouteBinding],
    ) -> Self {
        RouteSpec {
            handler,
            location,
            requirement,
            user,
            routes,
            resolved: OnceLock::new(),
            warned: AtomicBool::new(false),
            reported: AtomicBool::new(false),
        }
    }

    /// The handler function's name (also the resource name the route macros give it).
    pub fn handler(&self) -> &'static str {
        self.handler
    }

    /// Where the handler is.
    pub fn location(&self) -> Location {
        self.location
    }

    /// What it requires.
    pub fn requirement(&self) -> Requirement {
        self.requirement
    }

    /// How it takes the user.
    pub fn user(&self) -> UserParam {
        self.user
    }

    /// The methods and paths of the route macros below the attribute; empty when unknown.
    /// Each of those resources carries a guard that tells a [`Group`](crate::Group) when the
    /// router chose it, so a group sees exactly these routes' overrides.
    pub fn routes(&self) -> &'static [RouteBinding] {
        self.routes
    }

    /// Whether this handler answers `method` on a resource whose full pattern is `pattern`.
    #[cfg(feature = "openapi")]
    pub(crate) fn binds(&self, method: &str, pattern: &str) -> bool {
        self.routes.iter().any(|r| r.method.eq_ignore_ascii_case(method) && pattern.ends_with(r.path))
    }

    /// Whether groups can see this handler's override: only route macros below the attribute
    /// carry the guard that tells a group the router chose this handler.
    pub fn visible_to_groups(&self) -> bool {
        !self.routes.is_empty()
    }

    /// True the first time only: for warnings that must not flood the log.
    pub(crate) fn first_warning(&self) -> bool {
        !self.warned.swap(true, Ordering::Relaxed)
    }

    /// True the first time only: the route's misconfiguration becomes one security event.
    pub(crate) fn first_report(&self) -> bool {
        !self.reported.swap(true, Ordering::Relaxed)
    }

    /// The first strategy of this route that cannot be used (unknown, registered twice, or with
    /// options it does not take).
    pub(crate) fn unusable_strategy(&self) -> Option<&'static str> {
        self.strategies().iter().find(|u| registry().resolve(std::slice::from_ref(*u)).is_err()).map(|u| u.name)
    }

    /// The strategy names, in order (empty for `skip` and `group`).
    pub fn strategies(&self) -> &'static [StrategyUse] {
        match self.requirement {
            Requirement::Strategies(uses) => uses,
            Requirement::Skip | Requirement::Group => &[],
        }
    }

    /// The route's strategies, looked up and their options checked once for the life of the
    /// process; a route that cannot be used is logged then, once, and answers 500.
    pub(crate) fn resolved(&self) -> Result<&[&'static dyn AuthenticationStrategy], &AuthFailure> {
        let resolved = self.resolved.get_or_init(|| {
            registry().resolve(self.strategies()).map_err(|unusable| {
                tracing::error!(
                    handler = self.handler,
                    module = self.location.module,
                    location = %self.location,
                    "{} This route answers 500 until it is fixed; call authn::validate() at start-up to catch \
                     this before serving.",
                    unusable.detail
                );
                unusable.failure
            })
        });
        resolved.as_ref().map(Vec::as_slice)
    }
}

impl fmt::Debug for RouteSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteSpec")
            .field("handler", &self.handler)
            .field("location", &self.location)
            .field("requirement", &self.requirement)
            .field("user", &self.user)
            .field("routes", &self.routes)
            .finish()
    }
}

impl fmt::Display for RouteSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{} ({})", self.location.module, self.handler, self.location)?;
        for (i, route) in self.routes.iter().enumerate() {
            f.write_str(if i == 0 { " [" } else { ", " })?;
            write!(f, "{} {}", route.method, route.path)?;
            if i + 1 == self.routes.len() {
                f.write_str("]")?;
            }
        }
        f.write_str(": ")?;
        match self.requirement {
            Requirement::Skip => f.write_str("skip")?,
            Requirement::Group => f.write_str("group")?,
            Requirement::Strategies(uses) => {
                for (i, u) in uses.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{u}")?;
                }
            }
        }
        match self.user {
            UserParam::Unused => Ok(()),
            UserParam::Required => f.write_str(", user required"),
            UserParam::Optional => f.write_str(", user optional"),
        }
    }
}

/// The link-time record of a [`RouteSpec`].
#[derive(Debug)]
pub struct RouteRegistration(pub &'static RouteSpec);

inventory::collect!(RouteRegistration);

static ROUTES: LazyLock<Vec<&'static RouteSpec>> = LazyLock::new(|| {
    let mut routes: Vec<_> = inventory::iter::<RouteRegistration>.into_iter().map(|r| r.0).collect();
    routes.sort_by_key(|r| (r.location.module, r.handler, r.location.file, r.location.line));
    routes
});

#[cfg(feature = "openapi")]
static BY_NAME: LazyLock<HashMap<&'static str, Vec<&'static RouteSpec>>> = LazyLock::new(|| {
    let mut map: HashMap<_, Vec<_>> = HashMap::new();
    for route in ROUTES.iter() {
        map.entry(route.handler).or_default().push(*route);
    }
    map
});

static BY_RESOURCE: LazyLock<HashMap<&'static str, Vec<&'static RouteSpec>>> = LazyLock::new(|| {
    let mut map: HashMap<_, Vec<_>> = HashMap::new();
    for route in ROUTES.iter() {
        let mut names: Vec<&'static str> = route.routes.iter().map(|r| r.resource).collect();
        if names.is_empty() {
            names.push(route.handler);
        }
        names.sort_unstable();
        names.dedup();
        for name in names {
            map.entry(name).or_default().push(*route);
        }
    }
    map
});

/// The routes groups can see (route macros below `#[authenticate]`), by their path as written.
static VISIBLE_BY_PATH: LazyLock<HashMap<&'static str, Vec<&'static RouteBinding>>> = LazyLock::new(|| {
    let mut map: HashMap<_, Vec<_>> = HashMap::new();
    for binding in ROUTES.iter().flat_map(|spec| spec.routes) {
        map.entry(binding.path).or_default().push(binding);
    }
    map
});

/// Whether a route groups can see may be the resource with the full pattern `pattern` (its
/// scopes' prefixes, then its own path) for `method`, compared exactly, as actix's method
/// guards compare it.
pub(crate) fn visible_route_may_match(method: &str, pattern: &str) -> bool {
    let suffix_starts = (0..=pattern.len()).filter(|&i| {
        i == 0 || i == pattern.len() || pattern.as_bytes()[i] == b'/' || pattern.as_bytes()[i - 1] == b'/'
    });
    suffix_starts
        .filter_map(|i| pattern.get(i..))
        .filter_map(|suffix| VISIBLE_BY_PATH.get(suffix))
        .any(|bindings| bindings.iter().any(|binding| binding.method == method))
}

/// Every `#[authenticate]` handler in the binary, sorted by module and name: print it at start-up
/// to see what each route requires.
///
/// ```
/// for route in authn::routes() {
///     println!("{route}"); // e.g. `app::todos::list (src/todos.rs:12): "jwt", user required`
/// }
/// ```
pub fn routes() -> &'static [&'static RouteSpec] {
    &ROUTES
}

/// The annotated handlers with this function name.
#[cfg(feature = "openapi")]
pub(crate) fn by_name(name: &str) -> &'static [&'static RouteSpec] {
    BY_NAME.get(name).map(Vec::as_slice).unwrap_or(&[])
}

/// The annotated handlers whose resources may be named `resource`: a route macro's name, or the
/// function's name for handlers whose route is unknown (registered by hand, or with the attribute
/// below the route macro, where actix names the resource after the function too).
pub(crate) fn by_resource(resource: &str) -> &'static [&'static RouteSpec] {
    BY_RESOURCE.get(resource).map(Vec::as_slice).unwrap_or(&[])
}

/// The one annotated handler named `name` whose own route has this method and a path ending
/// `pattern`; `None` when none or several fit.
#[cfg(feature = "openapi")]
pub(crate) fn bound(name: &str, method: &str, pattern: &str) -> Option<&'static RouteSpec> {
    let mut candidates = by_name(name).iter().filter(|spec| spec.binds(method, pattern));
    match (candidates.next(), candidates.next()) {
        (Some(spec), None) => Some(spec),
        _ => None,
    }
}
