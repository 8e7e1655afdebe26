//! Holds no code: the cases live in `fail/` and `pass/`, the runner in `tests/ui.rs`.
//!
//! Re-record the expected `.stderr` files after a deliberate toolchain bump with
//! `TRYBUILD=overwrite cargo test -p authn-ui-tests`.
