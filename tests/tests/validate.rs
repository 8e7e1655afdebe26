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
    assert_eq!(problems.len(), 7, "{error}");
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
        problems[3]
            .contains("uses strategy 'jtw', which is not registered (registered: 'api-key', 'basic', 'claims', "),
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
    let text = error.to_string();
    assert!(text.starts_with("authn: 7 authentication configuration problems:\n  - "), "{text}");
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
