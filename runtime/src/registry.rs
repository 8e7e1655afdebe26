//! The strategy registry: every `#[strategy]` in the binary, built once on first use.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::LazyLock;

use crate::error::{AUTHENTICATION_MISCONFIGURED, AUTHENTICATION_STRATEGY_NOT_FOUND};
use crate::introspect::{Location, StrategyRegistration, StrategyUse};
use crate::{AuthFailure, AuthenticationStrategy};

/// The registered strategies, by name.
///
/// Lookups are a hash-map probe; routes resolve their strategies once and keep the references,
/// so a request does not even do that.
pub struct Registry {
    entries: HashMap<&'static str, RegistryEntry>,
    names: Vec<&'static str>,
    duplicates: Vec<Duplicate>,
}

struct RegistryEntry {
    location: Location,
    strategy: Box<dyn AuthenticationStrategy>,
}

/// Two registrations of one name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Duplicate {
    /// The name.
    pub name: &'static str,
    /// The registration kept in the table (the first by file and line).
    pub first: Location,
    /// The other one.
    pub second: Location,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| Registry::build(inventory::iter::<StrategyRegistration>));

/// The process-wide registry of every strategy linked into the binary.
///
/// ```
/// // authn's own strategies and those of every linked crate are listed, sorted.
/// let names = authn::introspect::registry().names();
/// assert!(names.windows(2).all(|w| w[0] < w[1]));
/// ```
pub fn registry() -> &'static Registry {
    &REGISTRY
}

impl Registry {
    fn build<'a>(registrations: impl IntoIterator<Item = &'a StrategyRegistration>) -> Self {
        let mut sorted: Vec<&StrategyRegistration> = registrations.into_iter().collect();
        // Link order is unspecified: sort so "first" in a duplicate report is stable.
        sorted.sort_by_key(|r| (r.name, r.location.file, r.location.line));
        let mut entries = HashMap::with_capacity(sorted.len());
        let mut duplicates = Vec::new();
        for registration in sorted {
            match entries.entry(registration.name) {
                Entry::Occupied(kept) => {
                    let kept: &RegistryEntry = kept.get();
                    duplicates.push(Duplicate {
                        name: registration.name,
                        first: kept.location,
                        second: registration.location,
                    });
                }
                Entry::Vacant(slot) => {
                    slot.insert(RegistryEntry { location: registration.location, strategy: (registration.build)() });
                }
            }
        }
        let mut names: Vec<_> = entries.keys().copied().collect();
        names.sort_unstable();
        Registry { entries, names, duplicates }
    }

    /// The strategy registered under `name`.
    pub fn get(&self, name: &str) -> Option<&dyn AuthenticationStrategy> {
        self.entries.get(name).map(|e| &*e.strategy)
    }

    /// Where `name` was registered.
    pub fn location(&self, name: &str) -> Option<Location> {
        self.entries.get(name).map(|e| e.location)
    }

    /// Every registered name, sorted.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// Names registered more than once.
    pub fn duplicates(&self) -> &[Duplicate] {
        &self.duplicates
    }

    /// Resolves every name a route uses, or explains the first that cannot be used. A name
    /// registered twice is refused too: picking one silently is how LoopBack shadows strategies.
    /// So are options the strategy does not accept or of the wrong type: a route that runs with
    /// an option dropped is less protected than written.
    pub(crate) fn resolve(&self, uses: &[StrategyUse]) -> Result<Vec<&dyn AuthenticationStrategy>, Unusable> {
        uses.iter()
            .map(|u| {
                if self.duplicates.iter().any(|d| d.name == u.name) {
                    let message = format!("The strategy '{}' is registered more than once.", u.name);
                    return Err(Unusable::new(message.clone(), AUTHENTICATION_MISCONFIGURED, message));
                }
                let Some(strategy) = self.get(u.name) else {
                    let message = format!("The strategy '{}' is not available.", u.name);
                    let detail = format!("{message} Registered: {}.", self.names.join(", "));
                    return Err(Unusable::new(message, AUTHENTICATION_STRATEGY_NOT_FOUND, detail));
                };
                let problems = u.options.check(strategy.accepted_options());
                if !problems.is_empty() {
                    return Err(Unusable::new(
                        format!("The options of the strategy '{}' are invalid.", u.name),
                        AUTHENTICATION_MISCONFIGURED,
                        format!("strategy '{}': {}", u.name, problems.join("; ")),
                    ));
                }
                Ok(strategy)
            })
            .collect()
    }
}

/// Why a list of strategies cannot be used: the 500 every request using it answers, and the
/// detail for the log (the response says less).
#[derive(Debug, Clone)]
pub(crate) struct Unusable {
    pub(crate) failure: AuthFailure,
    pub(crate) detail: String,
}

impl Unusable {
    pub(crate) fn new(message: String, code: &'static str, detail: String) -> Self {
        Unusable { failure: AuthFailure::misconfigured(message, code), detail }
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("names", &self.names).field("duplicates", &self.duplicates).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuthError, Outcome, StrategyFuture, StrategyOptions};
    use actix_web::HttpRequest;

    struct Fixed;
    impl AuthenticationStrategy for Fixed {
        fn authenticate<'a>(&'a self, _: &'a HttpRequest, _: &'a StrategyOptions) -> StrategyFuture<'a> {
            Box::pin(async { Ok::<_, AuthError>(Outcome::NoCredentials) })
        }
    }

    fn reg(name: &'static str, line: u32) -> StrategyRegistration {
        StrategyRegistration { name, build: || Box::new(Fixed), location: Location { module: "m", file: "f.rs", line } }
    }

    #[test]
    fn duplicates_name_both_locations_and_are_refused() {
        let regs = [reg("b", 9), reg("a", 1), reg("b", 3)];
        let registry = Registry::build(&regs);
        assert_eq!(registry.names(), ["a", "b"]);
        assert_eq!(registry.duplicates().len(), 1);
        let d = &registry.duplicates()[0];
        assert_eq!((d.first.line, d.second.line), (3, 9));
        let err = registry.resolve(&[StrategyUse::new("b")]).err().unwrap().failure;
        assert_eq!(err.code(), Some(AUTHENTICATION_MISCONFIGURED));
        assert!(registry.resolve(&[StrategyUse::new("a")]).is_ok());
    }

    #[test]
    fn options_a_strategy_does_not_take_make_the_route_unusable() {
        static OPTIONS: &[(&str, crate::options::OptionValue)] = &[("scope", crate::options::OptionValue::Str("x"))];
        let registry = Registry::build(&[reg("a", 1)]);
        let uses = [StrategyUse::with_options("a", StrategyOptions::new(OPTIONS))];
        let unusable = registry.resolve(&uses).err().unwrap();
        assert_eq!(unusable.failure.code(), Some(AUTHENTICATION_MISCONFIGURED));
        assert!(unusable.detail.contains("unknown option `scope`"), "{}", unusable.detail);
    }

    #[test]
    fn unknown_names_are_not_found() {
        let registry = Registry::build(&[reg("a", 1)]);
        let err = registry.resolve(&[StrategyUse::new("a"), StrategyUse::new("nope")]).err().unwrap().failure;
        assert_eq!(err.code(), Some(AUTHENTICATION_STRATEGY_NOT_FOUND));
        assert_eq!(err.message(), "The strategy 'nope' is not available.");
    }
}
