//! The start-up check: every mistake the compiler could not see, reported at once.

use std::fmt;

use crate::introspect::{Registry, registry};
use crate::route::RouteSpec;
use crate::routes;

/// Everything wrong with the authentication set-up, one problem per line.
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl std::error::Error for ConfigError {}

/// Checks the whole set-up before the server starts: strategy names registered twice (with both
/// source locations), every `#[authenticate]` that names a strategy nobody registered (with the
/// handler and its file:line), and options a strategy does not accept. Call it first thing in
/// `main`.
///
/// ```standalone_crate
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     authn::validate()?;
///     // ... HttpServer::new(...).run()
///     Ok(())
/// }
/// ```
pub fn validate() -> Result<(), ConfigError> {
    check(registry(), routes())
}

fn check(registry: &Registry, routes: &[&RouteSpec]) -> Result<(), ConfigError> {
    let mut problems = Vec::new();
    for duplicate in registry.duplicates() {
        problems.push(format!(
            "strategy '{}' is registered twice: at {} ({}) and at {} ({})",
            duplicate.name, duplicate.first, duplicate.first.module, duplicate.second, duplicate.second.module
        ));
    }
    for route in routes {
        for used in route.strategies() {
            let at = format!("handler `{}::{}` at {}", route.location().module, route.handler(), route.location());
            match registry.get(used.name) {
                None => problems.push(format!(
                    "{at} uses strategy '{}', which is not registered (registered: {})",
                    used.name,
                    list(registry.names())
                )),
                Some(strategy) => {
                    for problem in used.options.check(strategy.accepted_options()) {
                        problems.push(format!("{at}, strategy '{}': {problem}", used.name));
                    }
                }
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(ConfigError { problems }) }
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        return "none; is the crate that registers them named in the binary, e.g. `use my_strategies as _;`?".into();
    }
    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}
