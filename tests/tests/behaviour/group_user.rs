//! `#[authenticate(group)]`: a handler inside a protected group takes the group's user without
//! restating its strategies, and never runs unless the group accepted the request.

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::test::init_service;
use actix_web::{App, get, web};
use authn::{CurrentUser, Group, authenticate};
use authn_tests::http::{get as get_req, send};

/// How often `guarded` and `lost` ran; no test lets them run.
static RAN: AtomicUsize = AtomicUsize::new(0);

#[authenticate(group)]
#[get("/me")]
async fn me(user: CurrentUser) -> String {
    format!("{}:{}", user.id, user.name.as_deref().unwrap_or("-"))
}

#[authenticate(group)]
#[get("/maybe/{n}")]
async fn maybe(user: Option<CurrentUser>, n: web::Path<u32>) -> String {
    format!("{}:{n}", user.map_or_else(|| "anonymous".to_owned(), |u| u.id.clone()))
}

#[authenticate(group)]
#[get("/guarded")]
async fn guarded(user: CurrentUser) -> String {
    RAN.fetch_add(1, Ordering::SeqCst);
    user.id.clone()
}

/// Outside any group there is no group user to take.
#[authenticate(group)]
#[get("/lost")]
async fn lost(_user: CurrentUser) -> &'static str {
    RAN.fetch_add(1, Ordering::SeqCst);
    "ran without a group"
}

#[actix_rt::test]
async fn a_group_handler_takes_the_group_user_from_whichever_strategy_accepted() {
    let app = init_service(
        App::new().service(web::scope("/g").wrap(Group::new(["header", "token"])).service(me).service(maybe)),
    )
    .await;
    let by_header = send(&app, get_req("/g/me").insert_header(("x-user", "ann"))).await;
    assert_eq!((by_header.status, by_header.body.as_str()), (200, "ann:-"));
    let by_token = send(&app, get_req("/g/me").insert_header(("authorization", "Token ok-7"))).await;
    assert_eq!((by_token.status, by_token.body.as_str()), (200, "ok-7:Token User"));
    let optional = send(&app, get_req("/g/maybe/3").insert_header(("x-user", "bo"))).await;
    assert_eq!(optional.body, "bo:3");
}

#[actix_rt::test]
async fn the_handler_never_runs_when_the_group_refuses() {
    let app = init_service(
        App::new().service(web::scope("/g").wrap(Group::new(["header", "token"])).service(guarded).service(maybe)),
    )
    .await;
    for request in [
        get_req("/g/guarded"),
        get_req("/g/guarded").insert_header(("x-user", "!bad")),
        get_req("/g/guarded").insert_header(("authorization", "Token forged")),
        get_req("/g/%67uarded"),
        get_req("/g//guarded"),
        get_req("/g/guarded/"),
        get_req("/g/maybe/1"),
    ] {
        let answer = send(&app, request).await;
        assert_eq!(answer.status, 401, "{}", answer.body);
        assert!(!answer.challenges.is_empty());
    }
    let anonymous = send(&app, get_req("/g/guarded")).await;
    assert_eq!(anonymous.challenges, ["header", r#"Token realm="tests""#]);
    assert_eq!(RAN.load(Ordering::SeqCst), 0, "a refused request reached a handler");
}

#[actix_rt::test]
async fn nested_groups_give_the_innermost_user_and_need_every_group() {
    let app = init_service(
        App::new().service(
            web::scope("/outer")
                .wrap(Group::new(["header"]))
                .service(web::scope("/inner").wrap(Group::new(["token"])).service(me)),
        ),
    )
    .await;
    let only_inner = send(&app, get_req("/outer/inner/me").insert_header(("authorization", "Token ok-1"))).await;
    assert_eq!(only_inner.status, 401, "the outer group refused: {}", only_inner.body);
    let only_outer = send(&app, get_req("/outer/inner/me").insert_header(("x-user", "ann"))).await;
    assert_eq!(only_outer.status, 401);
    let both =
        get_req("/outer/inner/me").insert_header(("x-user", "ann")).insert_header(("authorization", "Token ok-1"));
    let both = send(&app, both).await;
    assert_eq!((both.status, both.body.as_str()), (200, "ok-1:Token User"));
}

#[actix_rt::test]
async fn outside_any_group_it_is_a_coded_500_and_the_handler_does_not_run() {
    let app = init_service(App::new().service(lost)).await;
    let answer = send(&app, get_req("/lost").insert_header(("x-user", "ann"))).await;
    assert_eq!(answer.status, 500, "{}", answer.body);
    assert_eq!(answer.code().as_deref(), Some("AUTHENTICATION_MISCONFIGURED"));
    assert!(answer.challenges.is_empty());
    assert_eq!(RAN.load(Ordering::SeqCst), 0);
}

#[test]
fn the_route_report_says_group() {
    let spec = authn::routes().iter().find(|r| r.handler() == "me" && r.location().module == module_path!()).unwrap();
    assert_eq!(spec.requirement(), authn::introspect::Requirement::Group);
    assert!(spec.to_string().contains(": group, user required"), "{spec}");
}
