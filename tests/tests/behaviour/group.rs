//! Group-level authentication on scopes and apps, and that it fails closed.

use actix_web::test::{TestRequest, init_service};
use actix_web::{App, HttpResponse, get, post, web};
use authn::{CurrentUser, Group, authenticate};
use authn_tests::http::{get as get_req, send};

/// Forgot its attribute: the group must protect it.
#[get("/forgotten")]
async fn forgotten() -> &'static str {
    "secret"
}

#[authenticate(skip)]
#[get("/public")]
async fn public() -> &'static str {
    "public"
}

/// Below the route macro the group cannot read the route: the skip cannot be seen.
#[get("/public-below")]
#[authenticate(skip)]
async fn public_below() -> &'static str {
    "public below"
}

/// Replaces the group's strategies.
#[authenticate("token")]
#[get("/token-only")]
async fn token_only(user: CurrentUser) -> String {
    format!("token:{}", user.id)
}

#[authenticate("header")]
#[get("/optional")]
async fn optional_in_group(user: Option<CurrentUser>) -> String {
    user.map_or_else(|| "anonymous".to_owned(), |u| u.id.clone())
}

#[authenticate(skip)]
async fn hand_registered_skip() -> &'static str {
    "hand registered"
}

/// A public listing...
#[authenticate(skip)]
#[get("/items")]
async fn list_items() -> &'static str {
    "items"
}

/// ...and, on the same path, a create handler that forgot its attribute.
#[post("/items")]
async fn create_item() -> &'static str {
    "created without authentication"
}

mod elsewhere {
    use actix_web::get;
    use authn::authenticate;

    /// Shares its name, method and path suffix with the unannotated handler below.
    #[authenticate(skip)]
    #[get("/collide")]
    pub async fn collide() -> &'static str {
        "annotated"
    }
}

mod unannotated {
    use actix_web::get;

    #[get("/other/collide")]
    pub async fn collide() -> &'static str {
        "unannotated secret"
    }
}

macro_rules! app {
    () => {
        init_service(
            App::new().service(public_outside).service(
                web::scope("/api")
                    .wrap(Group::new(["header"]))
                    .service(forgotten)
                    .service(public)
                    .service(public_below)
                    .service(token_only)
                    .service(optional_in_group)
                    .service(web::resource("/hand").name("hand_registered_skip").to(hand_registered_skip))
                    .service(list_items)
                    .service(create_item)
                    .service(elsewhere::collide)
                    .service(unannotated::collide),
            ),
        )
        .await
    };
}

#[get("/outside")]
async fn public_outside() -> &'static str {
    "outside"
}

#[actix_rt::test]
async fn a_handler_without_attribute_in_a_protected_group_is_protected() {
    let app = app!();
    let answer = send(&app, get_req("/api/forgotten")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.code().as_deref(), Some("USER_PROFILE_NOT_FOUND"));
    assert_eq!(answer.challenges, ["header"]);
    let bad = send(&app, get_req("/api/forgotten").insert_header(("x-user", "!x"))).await;
    assert_eq!(bad.message(), "Bad user header.");
    let ok = send(&app, get_req("/api/forgotten").insert_header(("x-user", "ann"))).await;
    assert_eq!((ok.status, ok.body.as_str()), (200, "secret"));
}

#[actix_rt::test]
async fn routes_outside_the_group_are_untouched() {
    let app = app!();
    assert_eq!(send(&app, get_req("/outside")).await.body, "outside");
}

#[actix_rt::test]
async fn skip_opts_a_handler_out_of_the_group() {
    let app = app!();
    let answer = send(&app, get_req("/api/public")).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "public"));
}

#[actix_rt::test]
async fn a_handler_attribute_replaces_the_groups_strategies() {
    let app = app!();
    // The group's strategy alone does not get in...
    let answer = send(&app, get_req("/api/token-only").insert_header(("x-user", "ann"))).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.challenges, [r#"Token realm="tests""#]);
    // ...the handler's does.
    let answer = send(&app, get_req("/api/token-only").insert_header(("authorization", "Token ok-9"))).await;
    assert_eq!(answer.body, "token:ok-9");
}

#[actix_rt::test]
async fn an_optional_handler_in_a_group_stays_optional() {
    let app = app!();
    assert_eq!(send(&app, get_req("/api/optional")).await.body, "anonymous");
}

/// Changed on purpose from LoopBack's 404 → 401: inside a group the router's default service
/// (a 404, or the app's own handler) is not an annotated handler, so an unknown path answers
/// 401 to an anonymous caller and 404 once authenticated. Outside groups nothing changes.
#[actix_rt::test]
async fn unknown_paths_inside_a_group_answer_401_then_404() {
    let app = app!();
    let anonymous = send(&app, get_req("/api/nope")).await;
    assert_eq!((anonymous.status, anonymous.challenges.as_slice()), (401, ["header".to_owned()].as_slice()));
    assert_eq!(send(&app, get_req("/api/nope").insert_header(("x-user", "a"))).await.status, 404);
    assert_eq!(send(&app, get_req("/nope")).await.status, 404);
}

#[actix_rt::test]
async fn overrides_the_group_cannot_see_fail_closed() {
    let app = app!();
    // Attribute below the route macro, or a hand-registered route: the group's strategies apply.
    for path in ["/api/public-below", "/api/hand"] {
        assert_eq!(send(&app, get_req(path)).await.status, 401, "{path}");
        assert_eq!(send(&app, get_req(path).insert_header(("x-user", "a"))).await.status, 200, "{path}");
    }
}

#[actix_rt::test]
async fn a_public_get_does_not_open_an_unannotated_post_on_the_same_path() {
    let app = app!();
    assert_eq!(send(&app, get_req("/api/items")).await.body, "items");
    // Before routing, the resource named `list_items` is the first to match /api/items whatever
    // the method; the group must not take its `skip` for the POST handler's.
    let answer = send(&app, TestRequest::post().uri("/api/items")).await;
    assert_eq!(answer.status, 401);
    let answer = send(&app, TestRequest::post().uri("/api/items").insert_header(("x-user", "a"))).await;
    assert_eq!(answer.body, "created without authentication");
}

#[actix_rt::test]
async fn an_unannotated_handler_posing_as_an_annotated_one_is_protected() {
    let app = app!();
    let answer = send(&app, get_req("/api/other/collide")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.code().as_deref(), Some("USER_PROFILE_NOT_FOUND"));
    assert!(!answer.body.contains("secret"));
    let answer = send(&app, get_req("/api/other/collide").insert_header(("x-user", "a"))).await;
    assert_eq!(answer.body, "unannotated secret");
    // The annotated one works.
    assert_eq!(send(&app, get_req("/api/collide")).await.body, "annotated");
}

#[actix_rt::test]
async fn an_app_wide_default_protects_every_route() {
    let app = init_service(App::new().wrap(Group::new(["header", "token"])).service(forgotten).service(public)).await;
    let answer = send(&app, get_req("/forgotten")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.challenges, ["header", r#"Token realm="tests""#]);
    let ok = send(&app, get_req("/forgotten").insert_header(("authorization", "Token ok-1"))).await;
    assert_eq!(ok.body, "secret");
    assert_eq!(send(&app, get_req("/public")).await.body, "public");
    assert_eq!(send(&app, get_req("/missing")).await.status, 401);
    assert_eq!(send(&app, get_req("/missing").insert_header(("authorization", "Token ok-1"))).await.status, 404);
}

#[actix_rt::test]
async fn a_group_with_an_unknown_strategy_fails_closed_with_500() {
    let app = init_service(App::new().service(web::scope("/x").wrap(Group::new(["nope"])).service(forgotten))).await;
    let answer = send(&app, get_req("/x/forgotten").insert_header(("x-user", "a"))).await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.code().as_deref(), Some("AUTHENTICATION_STRATEGY_NOT_FOUND"));
    assert!(Group::try_new(["nope"]).is_err());
    assert!(Group::try_new(Vec::<&'static str>::new()).is_err());
    assert_eq!(Group::try_new(["header"]).unwrap().strategies().len(), 1);
}

#[actix_rt::test]
async fn nested_groups_each_apply() {
    let app =
        init_service(
            App::new().service(web::scope("/outer").wrap(Group::new(["header"])).service(
                web::scope("/inner").wrap(Group::new(["token"])).route("/x", web::get().to(HttpResponse::Ok)),
            )),
        )
        .await;
    assert_eq!(send(&app, get_req("/outer/inner/x").insert_header(("x-user", "a"))).await.status, 401);
    let both = get_req("/outer/inner/x").insert_header(("x-user", "a")).insert_header(("authorization", "Token ok-2"));
    assert_eq!(send(&app, both).await.status, 200);
}
