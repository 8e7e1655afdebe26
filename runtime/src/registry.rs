//! The strategy registry: every `#[strategy]` in the binary, built once on first use.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::LazyLock;

use crate::error::{AUTHENTICATION_MISCONFIGURED, AUTHENTICATION_STRATEGY_NOT_FOUND};
use crate::{AuthFailure, AuthenticationStrategy, Location, StrategyRegistration, StrategyUse};

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
/// let names = authn::registry().names();
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
    pub(crate) fn resolve(&self, uses: &[StrategyUse]) -> Result<Vec<&dyn AuthenticationStrategy>, AuthFailure> {
        uses.iter()
            .map(|u| {
                if self.duplicates.iter().any(|d| d.name == u.name) {
                    return Err(AuthFailure::misconfigured(
                        format!("The strategy '{}' is registered more than once.", u.name),
                        AUTHENTICATION_MISCONFIGURED,
                    ));
                }
                self.get(u.name).ok_or_else(|| {
                    AuthFailure::misconfigured(
                        format!("The strategy '{}' is not available.", u.name),
                        AUTHENTICATION_STRATEGY_NOT_FOUND,
                    )
                })
            })
            .collect()
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
        let err = registry.resolve(&[StrategyUse::new("b")]).err().unwrap();
        assert_eq!(err.code(), Some(AUTHENTICATION_MISCONFIGURED));
        assert!(registry.resolve(&[StrategyUse::new("a")]).is_ok());
    }

    #[test]
    fn unknown_names_are_not_found() {
        let registry = Registry::build(&[reg("a", 1)]);
        let err = registry.resolve(&[StrategyUse::new("a"), StrategyUse::new("nope")]).err().unwrap();
        assert_eq!(err.code(), Some(AUTHENTICATION_STRATEGY_NOT_FOUND));
        assert_eq!(err.message(), "The strategy 'nope' is not available.");
    }
}
