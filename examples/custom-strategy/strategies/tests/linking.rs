//! The linking rule, from the strategy crate's own side: an integration test is another crate,
//! and sees the registration only because it names this one.

use example_strategies as _;

#[test]
fn the_strategy_is_registered_when_the_crate_is_named() {
    assert!(
        authn::introspect::registry().get("signed").is_some(),
        "registered: {:?}",
        authn::introspect::registry().names()
    );
}
