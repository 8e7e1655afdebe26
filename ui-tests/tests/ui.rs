//! Every misuse of the macros is a compile error pointing at the user's token; every supported
//! use compiles. The expected output is recorded with the toolchain pinned in
//! `rust-toolchain.toml`; other compilers word errors differently, so on any other compiler
//! the suite fails at once and says so, rather than vanishing and staying green.

#[test]
fn ui() {
    let pinned = pinned_toolchain();
    let running = rustc_version();
    assert!(
        running.starts_with(&format!("rustc {pinned} ")),
        "the ui snapshots are recorded with Rust {pinned} (rust-toolchain.toml), but this is `{running}`: run the \
         tests with the pinned toolchain, or after a deliberate bump re-record them with \
         `TRYBUILD=overwrite cargo test -p authn-ui-tests` and commit both"
    );
    let cases = trybuild::TestCases::new();
    cases.compile_fail("fail/*.rs");
    cases.pass("pass/*.rs");
}

/// The `channel` of the workspace's `rust-toolchain.toml`.
fn pinned_toolchain() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../rust-toolchain.toml");
    let text = std::fs::read_to_string(path).expect("rust-toolchain.toml");
    text.lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("channel")
                .map(|rest| rest.trim_start_matches([' ', '=']).trim().trim_matches('"').to_owned())
        })
        .expect("a channel in rust-toolchain.toml")
}

/// The compiler trybuild will use: the one cargo runs (`RUSTC` when cargo set it).
fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = std::process::Command::new(rustc).arg("--version").output().expect("rustc --version");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
