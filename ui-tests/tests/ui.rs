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

/// Every message the macros can emit has a `fail/` case whose recorded output shows it: a new
/// diagnostic without a case fails here. Messages are found by reading the macro crate's source
/// with syn: string literals given to `errors.spanned`, `Error::new`, `Error::new_spanned`,
/// `input.error` or `format_args!`, and `let message = "..."`.
#[test]
fn every_diagnostic_has_a_ui_case() {
    use syn::visit::Visit;

    /// Messages no input can produce.
    const UNREACHABLE: &[&str] = &["authn: internal error"];

    #[derive(Default)]
    struct Messages(Vec<String>);

    impl Messages {
        fn take(&mut self, expr: &syn::Expr) {
            match expr {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. }) => self.0.push(text.value()),
                syn::Expr::Macro(m) if m.mac.path.is_ident("format_args") => {
                    if let Ok(first) = m.mac.parse_body_with(|input: syn::parse::ParseStream| {
                        let text: syn::LitStr = input.parse()?;
                        let _: proc_macro2::TokenStream = input.parse()?;
                        Ok(text)
                    }) {
                        self.0.push(first.value());
                    }
                }
                _ => {}
            }
        }
    }

    impl<'ast> Visit<'ast> for Messages {
        fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
            if ["spanned", "error"].contains(&call.method.to_string().as_str()) {
                call.args.iter().for_each(|arg| self.take(arg));
            }
            syn::visit::visit_expr_method_call(self, call);
        }
        fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
            if let syn::Expr::Path(path) = &*call.func
                && path.path.segments.last().is_some_and(|s| s.ident == "new" || s.ident == "new_spanned")
                && path.path.segments.iter().any(|s| s.ident == "Error")
            {
                call.args.iter().for_each(|arg| self.take(arg));
            }
            syn::visit::visit_expr_call(self, call);
        }
        fn visit_local(&mut self, local: &'ast syn::Local) {
            if let syn::Pat::Ident(name) = &local.pat
                && name.ident == "message"
                && let Some(init) = &local.init
            {
                self.take(&init.expr);
            }
            syn::visit::visit_local(self, local);
        }
    }

    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut messages = Messages::default();
    for entry in std::fs::read_dir(format!("{root}/macros/src")).expect("macros/src") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let file = syn::parse_file(&std::fs::read_to_string(&path).expect("source")).expect("valid Rust");
            messages.visit_file(&file);
        }
    }
    let recorded: Vec<String> = std::fs::read_dir(format!("{root}/ui-tests/fail"))
        .expect("fail/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "stderr"))
        .map(|path| std::fs::read_to_string(path).expect("stderr"))
        .collect();
    assert!(
        messages.0.len() >= 30,
        "the scan found only {} messages: has the macros' style changed?",
        messages.0.len()
    );
    let missing: Vec<&String> = messages
        .0
        .iter()
        .filter(|message| !UNREACHABLE.contains(&message.as_str()))
        .filter(|message| !recorded.iter().any(|stderr| shows(stderr, message)))
        .collect();
    assert!(missing.is_empty(), "diagnostics without a ui case in ui-tests/fail: {missing:#?}");
}

/// Whether one `error:` line of `stderr` shows `message`, whose `{...}` placeholders stand for
/// any text.
fn shows(stderr: &str, message: &str) -> bool {
    let mut fragments = Vec::new();
    let mut rest = message;
    while let Some(open) = rest.find('{') {
        fragments.push(&rest[..open]);
        rest = rest[open..].find('}').map_or("", |close| &rest[open + close + 1..]);
    }
    fragments.push(rest);
    stderr.lines().filter_map(|line| line.strip_prefix("error: ")).any(|line| {
        let mut at = 0;
        fragments.iter().all(|fragment| match line[at..].find(fragment) {
            Some(found) => {
                at += found + fragment.len();
                true
            }
            None => false,
        })
    })
}
