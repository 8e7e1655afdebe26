//! The start-up check and request-time behaviour of a broken set-up. This binary is broken on
//! purpose: a misspelt strategy, bad options and a strategy name registered twice.

use actix_web::test::init_service;
use actix_web::{App, HttpRequest, get};
use authn::{AuthError, CurrentUser, Outcome, authenticate, strategy};
use authn_tests::http::{get as get_req, send};

#[authenticate("header", "jtw")]
#[get("/misspelt")]
async fn misspelt(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("options", scopes = "not-a-list", colour = "red")]
#[get("/bad-options")]
async fn bad_options(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("header", realm = "x")]
#[get("/no-options-accepted")]
async fn no_options_accepted() -> &'static str {
    "ok"
}

#[strategy("twice")]
async fn twice_one(_request: &HttpRequest) -> Result<Outcome, AuthError> {
    Ok(Outcome::NoCredentials)
}

mod again {
    use actix_web::HttpRequest;
    use authn::{AuthError, Outcome, strategy};

    #[strategy("twice")]
    async fn twice_two(_request: &HttpRequest) -> Result<Outcome, AuthError> {
        Ok(Outcome::NoCredentials)
    }
}

#[authenticate("twice")]
#[get("/twice")]
async fn uses_twice() -> &'static str {
    "ok"
}

#[test]
fn validate_reports_every_problem_at_once() {
    let error = authn::validate().unwrap_err();
    let problems = error.problems();
    assert_eq!(problems.len(), 9, "{error}");
    let file = file!();
    assert!(problems[0].starts_with(&format!("strategy 'twice' is registered twice: at {file}:")), "{}", problems[0]);
    assert!(problems[0].contains("(validate)") && problems[0].contains("(validate::again)"), "{}", problems[0]);
    assert!(problems[1].starts_with("handler `validate::bad_options` at "), "{}", problems[1]);
    assert!(
        problems[1]
            .ends_with("strategy 'options': option `scopes` must be a list of strings, found string `\"not-a-list\"`")
    );
    assert!(problems[2].ends_with(
        "strategy 'options': unknown option `colour`; expected one of: `scopes`, `level`, `ratio`, `strict`, `realm`"
    ));
    assert!(
        problems[3].starts_with(&format!("handler `validate::misspelt` at {file}:{}", line_of("async fn misspelt"))),
        "{}",
        problems[3]
    );
    assert!(
        problems[3].contains(
            "uses strategy 'jtw', which is not registered (did you mean 'jwt'? registered: 'api-key', 'basic', "
        ),
        "{}",
        problems[3]
    );
    assert!(
        problems[4].ends_with("strategy 'jwt': unknown option `scope`; expected one of: `scopes`"),
        "{}",
        problems[4]
    );
    assert!(
        problems[5].ends_with("strategy 'jwt': option `scopes` must be a list of strings, found list `[1]`"),
        "{}",
        problems[5]
    );
    assert!(problems[6].ends_with("strategy 'header': unknown option `realm`: this strategy takes no options"));
    let skip_line = line_of(concat!("async fn ", "skip_below"));
    assert!(
        problems[7].starts_with(&format!(
            "handler `validate::skip_below` at {file}:{skip_line}: #[authenticate(skip)] is below its route macro"
        )),
        "{}",
        problems[7]
    );
    assert!(
        problems[7].ends_with("write #[authenticate] above the route macro (#[get], #[post], ...)"),
        "{}",
        problems[7]
    );
    assert!(
        problems[8].contains("uses strategy 'signed-request', which is not registered (registered: "),
        "{}",
        problems[8]
    );
    assert!(problems[8].ends_with("name that crate in the binary with `use that_crate as _;`: the linker drops a crate that only registers strategies)"), "{}", problems[8]);
    let text = error.to_string();
    assert!(text.starts_with("authn: 9 authentication configuration problems:\n  - "), "{text}");
    // `fn main() -> Result<(), ConfigError>` prints the Debug form: the same lines.
    assert_eq!(format!("{error:?}"), text);
}

/// Below the route macro, where no group can see it: a start-up error.
#[get("/skip-below")]
#[authenticate(skip)]
async fn skip_below() -> &'static str {
    "public?"
}

/// A strategy a crate registers, but the binary never names that crate.
#[authenticate("signed-request")]
#[get("/unlinked")]
async fn unlinked() -> &'static str {
    "ok"
}

/// The configurations: a route uses "jwt", so `validate_with` wants a `JwtConfig`.
#[test]
fn validate_with_names_a_missing_configuration() {
    let error = authn::validate_with(&[]).unwrap_err();
    let missing: Vec<_> = error.problems().iter().filter(|p| p.contains("JwtConfig")).collect();
    assert_eq!(missing.len(), 1, "{error}");
    assert!(missing[0].starts_with("strategy 'jwt' reads a JwtConfig from the app data"), "{}", missing[0]);
    assert!(
        missing[0].contains("validate::mistyped") && missing[0].contains("validate::mistyped_value"),
        "{}",
        missing[0]
    );
    let key = authn::jwt::JwtKey::hmac(authn::jwt::Algorithm::HS256, &[9u8; 32]).unwrap();
    let config = authn::jwt::JwtConfig::builder().key(key).build().unwrap();
    let error = authn::validate_with(&[&config]).unwrap_err();
    assert!(!error.to_string().contains("JwtConfig"), "{error}");
}

/// `validate_or_exit` prints every problem and exits 1, readable without a subscriber. Run in a
/// child process: this test binary re-runs itself for one test.
#[test]
fn validate_or_exit_prints_the_problems_and_exits_1() {
    if std::env::var_os("AUTHN_VALIDATE_OR_EXIT").is_some() {
        authn::validate_or_exit(&[]);
        unreachable!("validate_or_exit returned for a broken set-up");
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "validate_or_exit_prints_the_problems_and_exits_1", "--nocapture", "--test-threads=1"])
        .env("AUTHN_VALIDATE_OR_EXIT", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("authn: 10 authentication configuration problems:\n  - strategy 'twice'"), "{stderr}");
    assert!(stderr.contains("did you mean 'jwt'?") && stderr.contains("reads a JwtConfig"), "{stderr}");
}

/// The line of the first source line containing `needle`.
fn line_of(needle: &str) -> u32 {
    let source = include_str!("validate.rs");
    source.lines().position(|l| l.contains(needle)).map(|i| i as u32 + 1).unwrap()
}

#[actix_rt::test]
async fn an_unknown_strategy_that_reaches_a_request_is_a_500_not_a_silent_401() {
    let app = init_service(App::new().service(misspelt).service(uses_twice)).await;
    // Even with credentials the first strategy would accept: all names resolve first.
    let answer = send(&app, get_req("/misspelt").insert_header(("x-user", "a"))).await;
    assert_eq!(answer.status, 500);
    assert_eq!(
        answer.json(),
        serde_json::json!({"error": {
            "statusCode": 500,
            "name": "InternalServerError",
            "message": "The strategy 'jtw' is not available.",
            "code": "AUTHENTICATION_STRATEGY_NOT_FOUND"
        }})
    );
    assert!(answer.challenges.is_empty());
    let answer = send(&app, get_req("/twice")).await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.code().as_deref(), Some("AUTHENTICATION_MISCONFIGURED"));
}

#[test]
fn duplicates_name_both_source_locations() {
    let duplicates = authn::introspect::registry().duplicates();
    assert_eq!(duplicates.len(), 1);
    assert_eq!(duplicates[0].name, "twice");
    assert_ne!(duplicates[0].first.line, duplicates[0].second.line);
}

#[authenticate("header", "jwt", scope = ["admin"])]
#[get("/mistyped")]
async fn mistyped(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("jwt", scopes = [1])]
#[get("/mistyped-value")]
async fn mistyped_value(user: CurrentUser) -> String {
    user.id.clone()
}

/// Issue: a mistyped option was ignored at request time unless `validate()` ran, so the route
/// was less protected than written. Now it is a 500 that never runs the handler.
#[actix_rt::test]
async fn a_route_with_bad_options_is_a_500_even_without_validate() {
    let app = init_service(
        App::new().service(bad_options).service(no_options_accepted).service(mistyped).service(mistyped_value),
    )
    .await;
    for path in ["/bad-options", "/no-options-accepted", "/mistyped", "/mistyped-value"] {
        let answer = send(&app, get_req(path).insert_header(("x-user", "a"))).await;
        assert_eq!(answer.status, 500, "{path}: {}", answer.body);
        assert_eq!(answer.code().as_deref(), Some("AUTHENTICATION_MISCONFIGURED"), "{path}");
        assert!(answer.challenges.is_empty(), "{path}");
        assert!(!answer.body.contains("expected one of"), "the detail is for the log: {}", answer.body);
    }
}

#[actix_rt::test]
async fn a_group_with_bad_options_fails_closed() {
    static BAD: &[(&str, authn::options::OptionValue)] = &[("scope", authn::options::OptionValue::Str("x"))];
    let uses = [authn::introspect::StrategyUse::with_options("header", authn::StrategyOptions::new(BAD))];
    let error = authn::Group::try_new(uses).unwrap_err().to_string();
    assert!(error.contains("unknown option `scope`"), "{error}");
    let app = init_service(
        App::new().service(actix_web::web::scope("/g").wrap(authn::Group::new(uses)).service(no_options_accepted_twin)),
    )
    .await;
    let answer = send(&app, get_req("/g/twin").insert_header(("x-user", "a"))).await;
    assert_eq!((answer.status, answer.code().as_deref()), (500, Some("AUTHENTICATION_MISCONFIGURED")));
}

#[get("/twin")]
async fn no_options_accepted_twin() -> &'static str {
    "ran"
}

#[authenticate("jwt")]
#[get("/needs-jwt")]
async fn needs_jwt(user: CurrentUser) -> String {
    user.id.clone()
}

/// Issue: a forgotten `JwtConfig` was a bare 500 with a stray `WWW-Authenticate: jwt` and no
/// code, explained only in the log, twice per request.
#[actix_rt::test]
async fn a_missing_configuration_is_a_coded_500_without_a_challenge() {
    let app = init_service(App::new().service(needs_jwt)).await;
    for _ in 0..2 {
        let answer = send(&app, get_req("/needs-jwt").insert_header(("authorization", "Bearer a.b.c"))).await;
        assert_eq!(answer.status, 500, "{}", answer.body);
        assert_eq!(answer.code().as_deref(), Some("AUTHENTICATION_MISCONFIGURED"), "{}", answer.body);
        assert!(answer.challenges.is_empty(), "{:?}", answer.challenges);
        assert!(!answer.body.contains("JwtConfig"), "the detail is for the log: {}", answer.body);
    }
    let answer = send(&app, get_req("/needs-jwt")).await;
    assert_eq!((answer.status, answer.code().as_deref()), (500, Some("AUTHENTICATION_MISCONFIGURED")));
    assert!(answer.challenges.is_empty());
}
