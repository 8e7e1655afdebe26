//! The start-up check: every mistake the compiler could not see, reported at once, and what is
//! legal but likely not what the author meant, as warnings.

use std::any::Any;
use std::fmt;

use crate::introspect::{Registry, Requirement, registry};
use crate::route::RouteSpec;
use crate::routes;

/// Everything wrong with the authentication set-up, one problem per line.
///
/// Its `Debug` form reads like its `Display` form, so that `fn main() -> Result<(), ConfigError>`
/// prints the problems one per line rather than a struct.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<String>,
}

impl ConfigError {
    pub(crate) fn single(problem: String) -> Self {
        ConfigError { problems: vec![problem] }
    }

    /// The problems, in a stable order.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(f, "authn: {n} authentication configuration problem{}:", if n == 1 { "" } else { "s" })?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for ConfigError {}

/// What a successful check noticed: set-ups that work, but likely not as their author thinks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationReport {
    warnings: Vec<String>,
}

impl ValidationReport {
    /// The warnings, in a stable order; [`validate`] also logs them (target `authn`).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, warning) in self.warnings.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "authn: warning: {warning}")?;
        }
        Ok(())
    }
}

/// Checks the whole set-up before the server starts: strategy names registered twice (with both
/// source locations), every `#[authenticate]` that names a strategy nobody registered (with the
/// handler, its file:line, the closest registered name and the linking hint), options a strategy
/// does not accept, and `#[authenticate(skip)]` where no group can see it. Call it first thing in
/// `main`; [`validate_with`] also checks that each strategy's configuration is there, and
/// [`validate_or_exit`] prints everything and stops a broken server.
///
/// ```standalone_crate
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let report = authn::validate()?;
///     for warning in report.warnings() {
///         eprintln!("{warning}");
///     }
///     // ... HttpServer::new(...).run()
///     Ok(())
/// }
/// ```
pub fn validate() -> Result<ValidationReport, ConfigError> {
    check(registry(), routes(), None)
}

/// [`validate`], and also that every strategy a route uses finds the configuration it reads
/// from the app data among `configs` (the values the app passes to `App::app_data`, raw or as
/// `web::Data`): a forgotten `JwtConfig` is a start-up error, not a 500 on the first request.
///
/// ```standalone_crate
/// use authn::{authenticate, CurrentUser};
///
/// #[authenticate("jwt")]
/// #[actix_web::get("/me")]
/// async fn me(user: CurrentUser) -> String {
///     user.id.clone()
/// }
///
/// fn main() {
///     // The app forgot its JwtConfig: named at start-up, with the handler that needs it.
///     let error = authn::validate_with(&[]).unwrap_err();
///     assert!(error.problems()[0].contains("JwtConfig"), "{error}");
/// }
/// ```
pub fn validate_with(configs: &[&dyn Any]) -> Result<ValidationReport, ConfigError> {
    check(registry(), routes(), Some(configs))
}

/// [`validate_with`] for `main`: prints the warnings to standard error and, when the set-up is
/// broken, every problem, then exits with status 1. Readable without a tracing subscriber.
///
/// ```no_run
/// # let config = ();
/// authn::validate_or_exit(&[&config]);
/// // ... HttpServer::new(...).run()
/// ```
pub fn validate_or_exit(configs: &[&dyn Any]) {
    match validate_with(configs) {
        Ok(report) => {
            if !report.warnings().is_empty() {
                eprintln!("{report}");
            }
        }
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}

fn check(
    registry: &Registry,
    routes: &[&RouteSpec],
    configs: Option<&[&dyn Any]>,
) -> Result<ValidationReport, ConfigError> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    for duplicate in registry.duplicates() {
        problems.push(format!(
            "strategy '{}' is registered twice: at {} ({}) and at {} ({})",
            duplicate.name, duplicate.first, duplicate.first.module, duplicate.second, duplicate.second.module
        ));
    }
    let mut unconfigured: Vec<(&'static str, &'static str, Vec<String>)> = Vec::new();
    for route in routes {
        let at = format!("handler `{}::{}` at {}", route.location().module, route.handler(), route.location());
        invisible_to_groups(route, &at, &mut problems, &mut warnings);
        for used in route.strategies() {
            match registry.get(used.name) {
                None => problems.push(format!(
                    "{at} uses strategy '{}', which is not registered ({})",
                    used.name,
                    unknown_name_hint(used.name, registry.names())
                )),
                Some(strategy) => {
                    for problem in used.options.check(strategy.accepted_options()) {
                        problems.push(format!("{at}, strategy '{}': {problem}", used.name));
                    }
                    if let (Some(configs), Some(needed)) = (configs, strategy.config_type())
                        && !configs.iter().any(|config| needed.is_provided_by(*config))
                    {
                        match unconfigured.iter_mut().find(|(name, _, _)| *name == used.name) {
                            Some((_, _, users)) => users.push(at.clone()),
                            None => unconfigured.push((used.name, needed.name(), vec![at.clone()])),
                        }
                    }
                }
            }
        }
    }
    for (strategy, config, users) in unconfigured {
        let short = config.rsplit("::").next().unwrap_or(config);
        problems.push(format!(
            "strategy '{strategy}' reads a {short} from the app data, which is not among the configurations given to \
             validate_with (used by {}): add it to the app with App::new().app_data(config) and to validate_with",
            users.join(", ")
        ));
    }
    for warning in &warnings {
        tracing::warn!(target: "authn", "{warning}");
    }
    if problems.is_empty() { Ok(ValidationReport { warnings }) } else { Err(ConfigError { problems }) }
}

/// A handler whose route macro is above `#[authenticate]`, or registered by hand, carries no
/// guard, so a `Group` cannot see it: its `skip` would never apply inside a group (an error: it
/// means nothing anywhere else either), and inside a group the group's strategies apply before
/// its own (a warning: outside groups that is the handler's business).
fn invisible_to_groups(route: &RouteSpec, at: &str, problems: &mut Vec<String>, warnings: &mut Vec<String>) {
    if route.visible_to_groups() {
        return;
    }
    const FIX: &str = "write #[authenticate] above the route macro (#[get], #[post], ...)";
    match route.requirement() {
        Requirement::Skip => problems.push(format!(
            "{at}: #[authenticate(skip)] is below its route macro (or the handler is registered by hand), where no \
             Group can see it, so inside a group it answers 401 like any protected route; {FIX}"
        )),
        Requirement::Strategies(_) => warnings.push(format!(
            "{at} is below its route macro (or registered by hand), where no Group can see it: inside a group, the \
             group's strategies apply before its own; {FIX}"
        )),
        Requirement::Group => {}
    }
}

/// What to say about a name nobody registered: the closest registered name when one is close,
/// and the linking rule, the likeliest cause when the name is not registered at all.
fn unknown_name_hint(name: &str, registered: &[&str]) -> String {
    const LINKING: &str = "if a crate of yours registers it, name that crate in the binary with `use that_crate as _;`: \
                           the linker drops a crate that only registers strategies";
    let list = || registered.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
    let closest = registered
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= (name.len().max(candidate.len()) / 3).max(1))
        .min();
    match (registered.is_empty(), closest) {
        (true, _) => format!("none is registered; {LINKING}"),
        (false, Some((_, candidate))) => format!("did you mean '{candidate}'? registered: {}", list()),
        (false, None) => format!("registered: {}; {LINKING}", list()),
    }
}

#[cfg(test)]
mod tests {
    use super::{check, unknown_name_hint};
    use crate::introspect::{Requirement, RouteBinding, RouteSpec, StrategyUse, UserParam, registry};

    static JWT: &[StrategyUse] = &[StrategyUse::new("jwt")];
    static BOUND: &[RouteBinding] = &[crate::__private::route_binding("GET", "/seen", "seen")];

    fn spec(handler: &'static str, requirement: Requirement, routes: &'static [RouteBinding]) -> &'static RouteSpec {
        let location = crate::__private::location("app", "src/main.rs", 7);
        Box::leak(Box::new(RouteSpec::new(handler, location, requirement, UserParam::Unused, routes)))
    }

    #[test]
    fn what_no_group_can_see_is_reported_with_the_fix() {
        let hidden_skip = spec("hidden_skip", Requirement::Skip, &[]);
        let hidden_jwt = spec("hidden_jwt", Requirement::Strategies(JWT), &[]);
        let seen = spec("seen", Requirement::Skip, BOUND);
        let error = check(registry(), &[hidden_skip, hidden_jwt, seen], None).unwrap_err();
        assert_eq!(error.problems().len(), 1, "{error}");
        let problem = &error.problems()[0];
        assert!(problem.starts_with("handler `app::hidden_skip` at src/main.rs:7: #[authenticate(skip)]"), "{problem}");
        assert!(problem.contains("write #[authenticate] above the route macro"), "{problem}");

        let report = check(registry(), &[hidden_jwt, seen], None).unwrap();
        assert_eq!(report.warnings().len(), 1, "{report}");
        assert!(report.warnings()[0].starts_with("handler `app::hidden_jwt` at src/main.rs:7"), "{report}");
        assert!(report.to_string().starts_with("authn: warning: "), "{report}");
        assert!(check(registry(), &[seen], None).unwrap().warnings().is_empty());
    }

    #[test]
    fn a_missing_configuration_is_named_once_per_strategy_with_every_handler() {
        let a = spec("a", Requirement::Strategies(JWT), BOUND);
        let b = spec("b", Requirement::Strategies(JWT), BOUND);
        let error = check(registry(), &[a, b], Some(&[])).unwrap_err();
        assert_eq!(error.problems().len(), 1, "{error}");
        let problem = &error.problems()[0];
        assert!(problem.starts_with("strategy 'jwt' reads a JwtConfig from the app data"), "{problem}");
        assert!(problem.contains("handler `app::a`") && problem.contains("handler `app::b`"), "{problem}");
        let key = crate::jwt::JwtKey::hmac(crate::jwt::Algorithm::HS256, &[7u8; 32]).unwrap();
        let config = crate::jwt::JwtConfig::builder().key(key).build().unwrap();
        assert!(check(registry(), &[a, b], Some(&[&config])).is_ok());
        let shared = actix_web::web::Data::new(config);
        assert!(check(registry(), &[a, b], Some(&[&shared])).is_ok());
        // Something else entirely is not a JwtConfig.
        assert!(check(registry(), &[a], Some(&[&"a string"])).is_err());
        // Debug reads like Display, for `fn main() -> Result<(), ConfigError>`.
        assert_eq!(format!("{error:?}"), error.to_string());
    }

    #[test]
    fn close_names_are_suggested_and_far_ones_get_the_linking_rule() {
        let registered = ["api-key", "basic", "jwt"];
        assert!(unknown_name_hint("jtw", &registered).starts_with("did you mean 'jwt'?"));
        assert!(unknown_name_hint("api_key", &registered).starts_with("did you mean 'api-key'?"));
        assert!(unknown_name_hint("Basic", &registered).starts_with("did you mean 'basic'?"));
        let far = unknown_name_hint("signed-request", &registered);
        assert!(far.contains("use that_crate as _;") && far.contains("'jwt'"), "{far}");
        assert!(unknown_name_hint("jwt", &[]).starts_with("none is registered"));
    }
}
