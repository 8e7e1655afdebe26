//! Every misuse of the macros is a compile error pointing at the user's token; every supported
//! use compiles. The expected output is recorded with the toolchain pinned in
//! `rust-toolchain.toml`; other compilers word errors differently, so the suite runs on stable
//! only.

#[rustversion::stable]
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("fail/*.rs");
    cases.pass("pass/*.rs");
}
