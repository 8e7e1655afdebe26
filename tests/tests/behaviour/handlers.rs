//! `#[authenticate]` on handlers, through real requests.

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, HttpRequest, HttpResponse, Responder, get, post, route, web};
use authn::{Authentication, CurrentUser, ErrorResponder, UserProfile, authenticate};
use authn_tests::ConfigUser;
use authn_tests::http::{get as get_req, send};
use serde::Deserialize;

#[authenticate("header")]
#[get("/single")]
async fn single(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("header")]
#[get("/above")]
async fn above(user: CurrentUser) -> String {
    format!("above:{}", user.id)
}

#[route("/routed", method = "GET", method = "POST")]
#[authenticate("header")]
async fn routed(user: CurrentUser) -> String {
    format!("routed:{}", user.id)
}

#[authenticate("header")]
async fn by_hand(user: CurrentUser, req: HttpRequest) -> impl Responder {
    HttpResponse::Ok().body(format!("{}:{}", req.path(), user.id))
}

trait Greeting: 'static {
    fn greet() -> &'static str;
}
struct Hello;
impl Greeting for Hello {
    fn greet() -> &'static str {
        "hello"
    }
}

#[authenticate("header")]
async fn generic<G>(user: CurrentUser) -> String
where
    G: Greeting,
{
    format!("{} {}", G::greet(), user.id)
}

#[derive(Deserialize)]
struct Page {
    page: u32,
}

#[derive(Deserialize, serde::Serialize)]
struct NewTodo {
    title: String,
}

#[authenticate("header")]
#[post("/todos/{list}")]
async fn extractors(
    list: web::Path<String>,
    query: web::Query<Page>,
    user: CurrentUser,
    data: web::Data<ConfigUser>,
    body: web::Json<NewTodo>,
) -> HttpResponse {
    HttpResponse::Created().body(format!("{}/{}/{}/{}/{}", list, query.page, user.id, data.0, body.title))
}

#[authenticate("header")]
#[post("/mut")]
async fn mutable_patterns(mut body: web::Json<NewTodo>, web::Query(Page { page }): web::Query<Page>) -> String {
    body.title.push('!');
    format!("{}{}", body.title, page)
}

#[authenticate("pass", "header")]
#[get("/two")]
async fn two(user: CurrentUser) -> String {
    format!("{}:{}", user.strategy(), user.id)
}

#[authenticate("fail", "header")]
#[get("/fail-then-header")]
async fn fail_then_header(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("token", "header")]
#[get("/final")]
async fn final_error(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("redirect", "header")]
#[get("/redirect")]
async fn redirect() -> &'static str {
    "handler ran"
}

#[authenticate("redirect", to = "/sso?next=%2F", status = 307)]
#[get("/redirect-options")]
async fn redirect_options() -> &'static str {
    "handler ran"
}

#[authenticate("forbid")]
#[get("/forbid")]
async fn forbidden() -> &'static str {
    "handler ran"
}

#[authenticate("pass", "options", scopes = ["todo:read", "todo:write"], level = -3, ratio = 0.5, strict = true)]
#[get("/options")]
async fn options(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(user.profile())
}

#[authenticate("config")]
#[get("/config")]
async fn config(user: CurrentUser) -> String {
    user.id.clone()
}

#[derive(Deserialize)]
struct Claims {
    id: String,
    role: String,
    level: u8,
}

#[authenticate("claims")]
#[get("/claims")]
async fn typed_claims(user: CurrentUser<Claims>) -> String {
    format!("{} {} {}", user.id, user.role, user.level)
}

#[derive(Deserialize, Debug)]
struct NeedsTenant {
    #[allow(dead_code)]
    tenant: String,
}

#[authenticate("claims")]
#[get("/claims-mismatch")]
async fn claims_mismatch(user: CurrentUser<NeedsTenant>) -> String {
    format!("{user:?}")
}

#[authenticate("token", "header")]
#[get("/optional")]
async fn optional(user: Option<CurrentUser>) -> String {
    match user {
        Some(user) => format!("user {}", user.id),
        None => "anonymous".to_owned(),
    }
}

#[authenticate(skip)]
#[get("/skipped")]
async fn skipped() -> &'static str {
    "public"
}

#[get("/ping")]
async fn ping() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"running": true}))
}

#[authenticate("header")]
#[get("/no-user-param")]
async fn no_user_param(req: HttpRequest) -> String {
    Authentication::of(&req).map(|a| format!("{} via {}", a.profile().id, a.strategy())).unwrap_or_default()
}

#[authenticate("token")]
#[get("/profile")]
async fn profile(user: CurrentUser<UserProfile>) -> HttpResponse {
    HttpResponse::Ok().json(&*user)
}

macro_rules! app {
    () => {
        init_service(
            App::new()
                .app_data(web::Data::new(ConfigUser("configured".into())))
                .service(single)
                .service(above)
                .service(routed)
                .service(web::resource("/by-hand").to(by_hand))
                .service(web::resource("/generic").route(web::get().to(generic::<Hello>)))
                .service(extractors)
                .service(mutable_patterns)
                .service(two)
                .service(fail_then_header)
                .service(final_error)
                .service(redirect)
                .service(redirect_options)
                .service(forbidden)
                .service(options)
                .service(config)
                .service(typed_claims)
                .service(claims_mismatch)
                .service(optional)
                .service(skipped)
                .service(ping)
                .service(no_user_param)
                .service(profile),
        )
        .await
    };
}

#[actix_rt::test]
async fn a_registered_strategy_authenticates_and_injects_the_user() {
    let app = app!();
    let answer = send(&app, get_req("/single").insert_header(("x-user", "ada"))).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "ada"));
}

#[actix_rt::test]
async fn missing_credentials_answer_401_with_json_and_challenge() {
    let app = app!();
    let answer = send(&app, get_req("/single")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.json(),
        serde_json::json!({"error": {
            "statusCode": 401,
            "name": "UnauthorizedError",
            "message": "User profile not returned from strategy's authenticate function",
            "code": "USER_PROFILE_NOT_FOUND"
        }})
    );
    assert_eq!(answer.challenges, ["header"]);
}

#[actix_rt::test]
async fn bad_credentials_answer_the_strategy_error() {
    let app = app!();
    let answer = send(&app, get_req("/single").insert_header(("x-user", "!forged"))).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.message(), "Bad user header.");
    assert_eq!(answer.code(), None);
    assert_eq!(answer.challenges, ["header"]);
}

#[actix_rt::test]
async fn works_above_and_below_route_macros_and_by_hand() {
    let app = app!();
    for (path, expected) in
        [("/above", "above:u"), ("/routed", "routed:u"), ("/by-hand", "/by-hand:u"), ("/generic", "hello u")]
    {
        let answer = send(&app, get_req(path).insert_header(("x-user", "u"))).await;
        assert_eq!((answer.status, answer.body.as_str()), (200, expected), "{path}");
        let anonymous = send(&app, get_req(path)).await;
        assert_eq!(anonymous.status, 401, "{path} must be protected");
    }
    let post = send(&app, TestRequest::post().uri("/routed").insert_header(("x-user", "p"))).await;
    assert_eq!(post.body, "routed:p");
}

#[actix_rt::test]
async fn other_extractors_keep_working_in_any_position() {
    let app = app!();
    let request = TestRequest::post()
        .uri("/todos/groceries?page=2")
        .insert_header(("x-user", "ada"))
        .set_json(NewTodo { title: "milk".into() });
    let answer = send(&app, request).await;
    assert_eq!((answer.status, answer.body.as_str()), (201, "groceries/2/ada/configured/milk"));

    let request =
        TestRequest::post().uri("/mut?page=5").insert_header(("x-user", "a")).set_json(NewTodo { title: "x".into() });
    assert_eq!(send(&app, request).await.body, "x!5");
}

#[actix_rt::test]
async fn authentication_runs_before_body_validation() {
    let app = app!();
    // No credentials and a malformed body: 401, not 400 (LoopBack's order of checks).
    let request = TestRequest::post()
        .uri("/todos/x?page=1")
        .insert_header(("content-type", "application/json"))
        .set_payload("{not json");
    assert_eq!(send(&app, request).await.status, 401);
    // Authenticated, the same body is the extractor's 400.
    let request = TestRequest::post()
        .uri("/todos/x?page=1")
        .insert_header(("x-user", "a"))
        .insert_header(("content-type", "application/json"))
        .set_payload("{not json");
    assert_eq!(send(&app, request).await.status, 400);
}

#[actix_rt::test]
async fn strategies_are_tried_in_order_and_the_first_user_wins() {
    let app = app!();
    let answer = send(&app, get_req("/two").insert_header(("x-user", "bob"))).await;
    assert_eq!(answer.body, "header:bob");
    let answer = send(&app, get_req("/fail-then-header").insert_header(("x-user", "bob"))).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "bob"));
}

#[actix_rt::test]
async fn when_all_fail_the_first_error_answers_with_every_challenge() {
    let app = app!();
    let answer = send(&app, get_req("/fail-then-header").insert_header(("x-user", "!bad"))).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.message(), "Always fails.");
    assert_eq!(answer.code().as_deref(), Some("FAIL"));
    assert_eq!(answer.challenges, ["fail", "header"]);

    let answer = send(&app, get_req("/two")).await;
    assert_eq!(answer.code().as_deref(), Some("USER_PROFILE_NOT_FOUND"));
    assert_eq!(answer.challenges, [r#"Pass realm="tests""#, "header"]);
}

#[actix_rt::test]
async fn a_final_error_stops_the_chain() {
    let app = app!();
    let request = get_req("/final").insert_header(("authorization", "Token expired")).insert_header(("x-user", "bob"));
    let answer = send(&app, request).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.message(), "Invalid token.");
    assert_eq!(answer.code().as_deref(), Some("INVALID_TOKEN"));
    // Only the strategy that ran is challenged, with its own error attached.
    assert_eq!(answer.challenges, [r#"Token realm="tests", error="invalid_token""#]);
}

#[actix_rt::test]
async fn a_redirect_answers_303_and_skips_the_handler_and_later_strategies() {
    let app = app!();
    let answer = send(&app, get_req("/redirect").insert_header(("x-user", "bob"))).await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.location.as_deref(), Some("/login"));
    assert!(answer.body.is_empty());

    let answer = send(&app, get_req("/redirect-options")).await;
    assert_eq!(answer.status, 307);
    assert_eq!(answer.location.as_deref(), Some("/sso?next=%2F"));
}

#[actix_rt::test]
async fn a_strategy_may_answer_another_4xx() {
    let app = app!();
    let answer = send(&app, get_req("/forbid")).await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.json()["error"]["name"], "ForbiddenError");
    assert_eq!(answer.challenges, ["forbid"]);
}

#[actix_rt::test]
async fn options_reach_the_strategy_as_typed_static_data() {
    let app = app!();
    let answer = send(&app, get_req("/options")).await;
    assert_eq!(
        answer.json(),
        serde_json::json!({"id": "options", "scopes": ["todo:read", "todo:write"], "level": -3, "ratio": 0.5, "strict": true})
    );
}

#[actix_rt::test]
async fn strategies_read_configuration_from_app_data() {
    let app = app!();
    assert_eq!(send(&app, get_req("/config")).await.body, "configured");
    let bare = init_service(App::new().service(config)).await;
    let answer = send(&bare, get_req("/config")).await;
    assert_eq!((answer.status, answer.message().as_str()), (401, "No configured user."));
}

#[actix_rt::test]
async fn current_user_deserializes_into_the_handlers_type() {
    let app = app!();
    assert_eq!(send(&app, get_req("/claims")).await.body, "7 admin 3");
    let answer = send(&app, get_req("/claims-mismatch")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.code().as_deref(), Some("USER_PROFILE_INVALID"));
    assert_eq!(answer.challenges, ["claims"], "every 401 carries a challenge");
    assert!(!answer.body.contains("tenant"), "field names stay in the log: {}", answer.body);
}

#[actix_rt::test]
async fn the_full_profile_survives_with_name_and_email() {
    let app = app!();
    let answer = send(&app, get_req("/profile").insert_header(("authorization", "Token ok-1"))).await;
    assert_eq!(answer.json(), serde_json::json!({"id": "ok-1", "name": "Token User", "email": "t@example.com"}));
}

#[actix_rt::test]
async fn optional_user_runs_anonymous_but_rejects_bad_credentials() {
    let app = app!();
    assert_eq!(send(&app, get_req("/optional")).await.body, "anonymous");
    assert_eq!(send(&app, get_req("/optional").insert_header(("x-user", "amy"))).await.body, "user amy");
    let bad = send(&app, get_req("/optional").insert_header(("x-user", "!bad"))).await;
    assert_eq!((bad.status, bad.message().as_str()), (401, "Bad user header."));
    let bad_token = send(&app, get_req("/optional").insert_header(("authorization", "Token nope"))).await;
    assert_eq!(bad_token.status, 401);
}

#[actix_rt::test]
async fn skip_and_undecorated_routes_are_public() {
    let app = app!();
    assert_eq!(send(&app, get_req("/skipped")).await.body, "public");
    let answer = send(&app, get_req("/ping")).await;
    assert_eq!((answer.status, answer.json()), (200, serde_json::json!({"running": true})));
}

#[actix_rt::test]
async fn the_authentication_is_left_in_the_request() {
    let app = app!();
    let answer = send(&app, get_req("/no-user-param").insert_header(("x-user", "zed"))).await;
    assert_eq!(answer.body, "zed via header");
    assert_eq!(send(&app, get_req("/no-user-param")).await.status, 401);
}

#[actix_rt::test]
async fn the_app_can_replace_the_error_response() {
    let app = init_service(
        App::new()
            .app_data(ErrorResponder::new(|failure, req| {
                let mut response = HttpResponse::build(failure.status());
                failure.apply_challenges(&mut response);
                response.content_type("text/plain").body(format!("{} denied: {}", req.path(), failure.message()))
            }))
            .service(single)
            .service(redirect),
    )
    .await;
    let answer = send(&app, get_req("/single").insert_header(("x-user", "!x"))).await;
    assert_eq!((answer.status, answer.body.as_str()), (401, "/single denied: Bad user header."));
    assert_eq!(answer.challenges, ["header"]);
    // Redirects are not errors.
    assert_eq!(send(&app, get_req("/redirect")).await.status, StatusCode::SEE_OTHER.as_u16());
}

#[actix_rt::test]
async fn the_route_report_lists_every_annotated_handler() {
    let routes = authn::routes();
    // Handlers of this module only: the binary holds other tests' handlers too.
    let find = |name: &str| {
        routes
            .iter()
            .find(|r| r.handler() == name && r.location().module == module_path!())
            .unwrap_or_else(|| panic!("{name} not reported"))
    };
    let spec = find("options");
    assert!(spec.location().module.ends_with("handlers"));
    assert!(spec.location().file.ends_with("handlers.rs"));
    let line = spec.to_string();
    assert!(
        line.contains(r#""pass" | "options"(scopes = ["todo:read", "todo:write"], level = -3, ratio = 0.5, strict = true), user required"#),
        "{line}"
    );
    assert_eq!(find("skipped").requirement(), authn::introspect::Requirement::Skip);
    // Above the route macro, the attribute reads the method and path.
    let bindings: Vec<_> = find("above").routes().iter().map(|r| (r.method, r.path, r.resource)).collect();
    assert_eq!(bindings, [("GET", "/above", "above")]);
    assert!(find("above").to_string().contains("[GET /above]: \"header\", user required"), "{}", find("above"));
    assert_eq!(
        find("routed").routes().iter().map(|r| r.method).collect::<Vec<_>>(),
        Vec::<&str>::new(),
        "below the route macro the route is unknown"
    );
    assert_eq!(find("optional").user(), authn::introspect::UserParam::Optional);
    assert_eq!(find("no_user_param").user(), authn::introspect::UserParam::Unused);
    assert!(routes.iter().all(|r| r.handler() != "ping"), "undecorated handlers are not reported");
}
