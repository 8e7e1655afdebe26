//! The linking rule, half two: the same crate, a dependency of this binary too, is dropped by
//! the linker when nothing names it; this is why the rule is documented and why
//! `authn::validate()` lists what is registered when a name is missing.

#[test]
fn an_unnamed_strategy_crate_is_dropped_by_the_linker() {
    assert!(authn::introspect::registry().get("linked").is_none());
    // The strategies of the crates this binary does use are there.
    assert!(authn::introspect::registry().get("header").is_some());
}

// `authn_tests` is named (through this use), so its strategies are linked.
use authn_tests as _;
