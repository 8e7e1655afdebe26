//! The linking rule, half one: a crate that only registers strategies is seen once the binary
//! names it.

use linked_strategies as _;

#[test]
fn a_named_strategy_crate_registers_its_strategies() {
    assert!(authn::introspect::registry().get("linked").is_some(), "{:?}", authn::introspect::registry().names());
    assert!(authn::introspect::registry().location("linked").unwrap().file.contains("linked-strategies"));
}
