//! LoopBack 4's authentication acceptance and unit cases (packages/authentication), as
//! behaviour tests. Each test names the LoopBack case it ports; where authn deliberately differs
//! the test says so.

use std::sync::atomic::Ordering;

use actix_web::test::init_service;
use actix_web::{App, HttpResponse, get, web};
use authn::{CurrentUser, Group, authenticate};
use authn_tests::http::{get as get_req, send};
use authn_tests::{Calls, REC_A_BUILDS};

#[authenticate("rec-a", "rec-b", "rec-c")]
#[get("/whoAmI")]
async fn who_am_i(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("rec-fail")]
#[get("/single-fail")]
async fn single_fail() -> &'static str {
    "ran"
}

#[authenticate("rec-fail", "fail")]
#[get("/both-fail")]
async fn both_fail() -> &'static str {
    "ran"
}

#[authenticate("rec-fail", "rec-b")]
#[get("/one-of-two")]
async fn one_of_two(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("rec-a")]
#[get("/no-profile")]
async fn no_profile() -> &'static str {
    "ran"
}

#[get("/undecorated")]
async fn undecorated() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"running": true}))
}

#[authenticate(skip)]
#[get("/method-skip")]
async fn method_skip() -> &'static str {
    "skipped"
}

#[authenticate("rec-c")]
#[get("/method-level")]
async fn method_level(user: CurrentUser) -> String {
    user.id.clone()
}

macro_rules! app {
    ($calls:expr) => {
        init_service(
            App::new()
                .app_data($calls.clone())
                .service(who_am_i)
                .service(single_fail)
                .service(both_fail)
                .service(one_of_two)
                .service(no_profile)
                .service(undecorated),
        )
        .await
    };
}

/// AuthStrategyProvider: "returns the strategies in order" / "only those named in the
/// metadata"; AuthenticateActionProvider: "returns the user", later strategies not called.
#[actix_rt::test]
async fn strategies_run_in_order_and_stop_at_the_first_user() {
    let calls = web::Data::new(Calls::default());
    let app = app!(calls);
    let answer = send(&app, get_req("/whoAmI")).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "b"));
    assert_eq!(calls.names(), ["rec-a", "rec-b"], "rec-c is not called after a success, nothing unnamed is");
}

/// "throws when the single strategy fails", "throws with statusCode 401 on failure".
#[actix_rt::test]
async fn a_single_failing_strategy_answers_401() {
    let calls = web::Data::new(Calls::default());
    let app = app!(calls);
    let answer = send(&app, get_req("/single-fail")).await;
    assert_eq!((answer.status, answer.message().as_str()), (401, "rec-fail failed."));
}

/// "throws when both strategies fail": LoopBack reports the first error; so do we, and we add
/// both challenges (LoopBack sends none).
#[actix_rt::test]
async fn both_failing_answer_the_first_error_with_both_challenges() {
    let calls = web::Data::new(Calls::default());
    let app = app!(calls);
    let answer = send(&app, get_req("/both-fail")).await;
    assert_eq!((answer.status, answer.message().as_str()), (401, "rec-fail failed."));
    assert_eq!(answer.challenges, ["rec-fail", "fail"]);
}

/// "does not throw if one of two strategies succeeds" (PR #5735).
#[actix_rt::test]
async fn one_of_two_succeeding_is_enough() {
    let calls = web::Data::new(Calls::default());
    let app = app!(calls);
    let answer = send(&app, get_req("/one-of-two")).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "b"));
    assert_eq!(calls.names(), ["rec-fail", "rec-b"]);
}

/// "returns error when undefined user profile returned from authentication strategy".
#[actix_rt::test]
async fn no_profile_is_user_profile_not_found() {
    let calls = web::Data::new(Calls::default());
    let app = app!(calls);
    let answer = send(&app, get_req("/no-profile")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.code().as_deref(), Some("USER_PROFILE_NOT_FOUND"));
    assert_eq!(answer.message(), "User profile not returned from strategy's authenticate function");
}

/// "allows anonymous requests to methods with no decorator".
#[actix_rt::test]
async fn undecorated_routes_are_anonymous() {
    let calls = web::Data::new(Calls::default());
    let app = app!(calls);
    let answer = send(&app, get_req("/undecorated")).await;
    assert_eq!((answer.status, answer.json()), (200, serde_json::json!({"running": true})));
    assert!(calls.names().is_empty());
}

/// AuthMetadataProvider: the default metadata applies to undecorated methods; "returns
/// undefined for skip, even with defaultMetadata"; "overrides class level metadata by method
/// level" (no merge). The answers are LoopBack's. One difference on purpose: a group runs its
/// strategies before routing on every request (actix routes after middleware), and only then
/// lets a handler's own attribute decide, ignoring the group's result; so the default strategy
/// is called on the skip and method-level routes too, where LoopBack calls nothing or only the
/// method's strategy.
#[actix_rt::test]
async fn default_metadata_skip_and_method_override() {
    let calls = web::Data::new(Calls::default());
    let app = init_service(
        App::new()
            .app_data(calls.clone())
            .wrap(Group::new(["rec-b"]))
            .service(undecorated)
            .service(method_skip)
            .service(method_level),
    )
    .await;
    assert_eq!(send(&app, get_req("/undecorated")).await.status, 200);
    assert_eq!(calls.names(), ["rec-b"], "the default applied to the undecorated route");
    assert_eq!(send(&app, get_req("/method-skip")).await.body, "skipped");
    assert_eq!(calls.names(), ["rec-b", "rec-b"], "the default's result was ignored for skip");
    assert_eq!(send(&app, get_req("/method-level")).await.body, "c");
    assert_eq!(calls.names(), ["rec-b", "rec-b", "rec-b", "rec-c"], "the method's strategy replaced the default");
}

/// Deliberately better than LoopBack, which builds every registered strategy per request.
#[actix_rt::test]
async fn strategies_are_built_once_not_per_request() {
    let calls = web::Data::new(Calls::default());
    let app = app!(calls);
    for _ in 0..5 {
        send(&app, get_req("/whoAmI")).await;
    }
    assert_eq!(REC_A_BUILDS.load(Ordering::SeqCst), 1);
}

/// `getAuthenticationMetadataForStrategy`: a strategy receives its own options, not another's.
#[authenticate("pass", realm = "pass-realm", "options", realm = "options-realm")]
#[get("/options-per-strategy")]
async fn options_per_strategy(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(user.profile())
}

#[actix_rt::test]
async fn each_strategy_gets_its_own_options() {
    let app = init_service(App::new().service(options_per_strategy)).await;
    let answer = send(&app, get_req("/options-per-strategy")).await;
    assert_eq!(answer.json(), serde_json::json!({"id": "options", "realm": "options-realm"}));
}
