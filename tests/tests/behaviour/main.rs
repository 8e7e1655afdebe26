//! authn's behaviour tests, one module per part, in one binary: each test binary links actix,
//! aws-lc and SQLite again, so one binary builds and links once. The tests that need a binary of
//! their own stay beside this folder: `validate` (its routes are wrong on purpose, and
//! `validate()` reads the whole binary), `events` (a global tracing subscriber) and the linker
//! tests.

use authn_tests as _;

mod adapter;
mod api_key;
mod basic;
mod body;
mod group;
mod group_bypass;
mod group_properties;
mod group_user;
mod handlers;
mod jwt;
mod jwt_attacks;
mod jwt_cache;
mod jwt_config;
mod jwt_limits;
mod jwt_properties;
mod jwt_store;
mod no_credential_echo;
mod oauth2;
mod oidc_login;
mod openapi;
mod over_tcp;
mod parity;
mod password_hashing;
mod postgres;
mod readme_tables;
mod remote_keys;
mod throttle;

/// The binary's set-up is sound but for the traps the group tests set on purpose: a `skip`
/// below its route macro or registered by hand, which `validate` reports with the handler and
/// its file:line.
#[test]
fn the_set_up_validates_but_for_the_deliberate_traps() {
    let error = authn::validate().expect_err("the group tests hide five skips from their groups");
    let mut hidden: Vec<&str> = Vec::new();
    for problem in error.problems() {
        assert!(problem.contains("#[authenticate(skip)] is below its route macro"), "{problem}");
        assert!(problem.contains(".rs:"), "names file:line: {problem}");
        hidden.push(problem.split('`').nth(1).unwrap_or_default());
    }
    hidden.sort_unstable();
    assert_eq!(
        hidden,
        [
            "behaviour::group::hand_registered_skip",
            "behaviour::group::public_below",
            "behaviour::group_bypass::unseen::below",
            "behaviour::group_properties::h_hand_skip",
            "behaviour::group_properties::h_hidden_skip_get_a"
        ]
    );
}
