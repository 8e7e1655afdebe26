//! The ways through a protected `Group` a review found, each through a real actix app. Every
//! unannotated handler and default service records that its body started; for a request the
//! group's strategies did not accept, that record must stay empty.

use std::cell::RefCell;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::guard::GuardContext;
use actix_web::http::Method;
use actix_web::middleware::{NormalizePath, TrailingSlash};
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, HttpResponse, delete, get, guard, web};
use authn::{CurrentUser, Group, authenticate};
use authn_tests::http::{Answer, send};

thread_local! {
    /// The bodies that started on this test's thread (each actix test has its own).
    static BODIES: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

fn ran(body: &'static str) {
    BODIES.with(|b| b.borrow_mut().push(body));
}

fn bodies() -> Vec<&'static str> {
    BODIES.with(|b| std::mem::take(&mut *b.borrow_mut()))
}

/// Sends `request` anonymously: it must be refused and start no body.
async fn refused<S, B>(app: &S, request: TestRequest) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    bodies();
    let answer = send(app, request).await;
    assert_eq!(bodies(), Vec::<&str>::new(), "a body started for a request the group did not accept: {answer:?}");
    assert!(answer.status >= 400, "{answer:?}");
    answer
}

fn user(request: TestRequest) -> TestRequest {
    request.insert_header(("x-user", "ann"))
}

#[get("/stats")]
async fn stats() -> HttpResponse {
    ran("stats");
    HttpResponse::Ok().body("stats")
}

#[get("/forgotten")]
async fn forgotten() -> HttpResponse {
    ran("forgotten");
    HttpResponse::Ok().body("forgotten")
}

async fn counting_default() -> HttpResponse {
    ran("default");
    HttpResponse::Ok().body("default")
}

#[actix_rt::test]
async fn a_percent_encoded_path_is_still_protected() {
    let app = init_service(App::new().service(web::scope("/admin").wrap(Group::new(["header"])).service(stats))).await;
    assert_eq!(refused(&app, TestRequest::get().uri("/admin/stats")).await.status, 401);
    for path in ["/admin/st%61ts", "/admin/%73tats", "/admin/%73%74%61%74%73", "/%61dmin/stats", "/admin//stats"] {
        refused(&app, TestRequest::get().uri(path)).await;
    }
    assert_eq!(refused(&app, TestRequest::get().uri("/admin/st%61ts")).await.status, 401);
    let ok = send(&app, user(TestRequest::get().uri("/admin/st%61ts"))).await;
    assert_eq!((ok.status, ok.body.as_str()), (200, "stats"));
}

#[actix_rt::test]
async fn a_default_service_inside_a_group_is_protected() {
    // Its own...
    let app = init_service(App::new().service(
        web::scope("/g").wrap(Group::new(["header"])).service(forgotten).default_service(web::to(counting_default)),
    ))
    .await;
    assert_eq!(refused(&app, TestRequest::get().uri("/g/nothing")).await.status, 401);
    assert_eq!(send(&app, user(TestRequest::get().uri("/g/nothing"))).await.body, "default");
    // ...or inherited from the app.
    let app = init_service(
        App::new()
            .default_service(web::to(counting_default))
            .service(web::scope("/g").wrap(Group::new(["header"])).service(forgotten)),
    )
    .await;
    assert_eq!(refused(&app, TestRequest::get().uri("/g/nothing")).await.status, 401);
    assert_eq!(send(&app, user(TestRequest::get().uri("/g/nothing"))).await.body, "default");
    // Outside the group the app's default stays public.
    assert_eq!(send(&app, TestRequest::get().uri("/nothing")).await.body, "default");
}

#[authenticate(skip)]
#[get("/public")]
async fn public() -> &'static str {
    "public"
}

#[actix_rt::test]
async fn path_rewriting_middleware_inside_the_group_does_not_open_it() {
    let app = init_service(App::new().service(
        web::scope("/g").wrap(NormalizePath::trim()).wrap(Group::new(["header"])).service(forgotten).service(public),
    ))
    .await;
    for path in ["/g/forgotten/", "/g/forgotten//", "/g//forgotten", "/g/forgotten"] {
        refused(&app, TestRequest::get().uri(path)).await;
        assert_eq!(send(&app, user(TestRequest::get().uri(path))).await.body, "forgotten", "{path}");
    }
    // The override is seen on the path as the group reads it.
    assert_eq!(send(&app, TestRequest::get().uri("/g/public")).await.body, "public");
    // Outside it too: the router sees the rewritten path.
    let app = init_service(
        App::new()
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            .service(web::scope("/g").wrap(Group::new(["header"])).service(forgotten).service(public)),
    )
    .await;
    refused(&app, TestRequest::get().uri("/g/forgotten/")).await;
    assert_eq!(send(&app, TestRequest::get().uri("/g/public/")).await.body, "public");
}

mod host_a {
    use actix_web::get;
    use authn::authenticate;

    /// Public on host a; shares its name and path with host b's unannotated handler.
    #[authenticate(skip)]
    #[get("/forgotten")]
    pub async fn forgotten() -> &'static str {
        "public on a"
    }
}

#[actix_rt::test]
async fn scopes_told_apart_by_a_guard_are_each_held_to_their_own_rule() {
    // The group is on the second of two `""` scopes; the first matches nothing.
    let app = init_service(
        App::new()
            .service(web::scope("").guard(guard::Host("a.example")).service(public))
            .service(web::scope("").guard(guard::Host("b.example")).wrap(Group::new(["header"])).service(forgotten)),
    )
    .await;
    refused(&app, TestRequest::get().uri("/forgotten").insert_header(("host", "b.example"))).await;
    // The first holds an annotated handler with the same name and path as the second's.
    let app = init_service(
        App::new()
            .service(web::scope("").guard(guard::Host("a.example")).service(host_a::forgotten))
            .service(web::scope("").guard(guard::Host("b.example")).wrap(Group::new(["header"])).service(forgotten)),
    )
    .await;
    refused(&app, TestRequest::get().uri("/forgotten").insert_header(("host", "b.example"))).await;
    let b = send(&app, user(TestRequest::get().uri("/forgotten").insert_header(("host", "b.example")))).await;
    assert_eq!(b.body, "forgotten");
    let a = send(&app, TestRequest::get().uri("/forgotten").insert_header(("host", "a.example"))).await;
    assert_eq!(a.body, "public on a");
}

mod public_items {
    use actix_web::delete;
    use authn::authenticate;

    #[authenticate(skip)]
    #[delete("/items/{id}")]
    pub async fn delete() -> &'static str {
        "public delete"
    }
}

mod admin_items {
    use actix_web::{HttpResponse, delete};

    /// Forgot its attribute; shares its name, method and path suffix with the public one.
    #[delete("/items/{id}")]
    pub async fn delete() -> HttpResponse {
        super::ran("admin delete");
        HttpResponse::Ok().body("deleted")
    }
}

#[actix_rt::test]
async fn a_handler_sharing_an_annotated_ones_name_is_protected() {
    let app = init_service(
        App::new().service(
            web::scope("")
                .wrap(Group::new(["header"]))
                .service(web::scope("/public").service(public_items::delete))
                .service(web::scope("/admin").service(admin_items::delete)),
        ),
    )
    .await;
    refused(&app, TestRequest::delete().uri("/admin/items/1")).await;
    assert_eq!(send(&app, user(TestRequest::delete().uri("/admin/items/1"))).await.body, "deleted");
    assert_eq!(send(&app, TestRequest::delete().uri("/public/items/1")).await.body, "public delete");
    // Same scope, same pattern: the annotated one is registered first and wins the route.
    let app = init_service(
        App::new()
            .service(web::scope("/x").wrap(Group::new(["header"])).service(admin_items::delete))
            .service(web::scope("/y").wrap(Group::new(["header"])).service(public_items::delete)),
    )
    .await;
    refused(&app, TestRequest::delete().uri("/x/items/1")).await;
    assert_eq!(send(&app, TestRequest::delete().uri("/y/items/1")).await.body, "public delete");
}

fn special(ctx: &GuardContext<'_>) -> bool {
    ctx.head().headers().contains_key("x-special")
}

#[authenticate(skip)]
#[get("/r", guard = "special")]
async fn special_public() -> &'static str {
    "special public"
}

#[get("/r")]
async fn plain_r() -> HttpResponse {
    ran("plain r");
    HttpResponse::Ok().body("plain r")
}

#[actix_rt::test]
async fn a_non_method_guard_on_the_annotated_handler_is_honoured() {
    let app = init_service(
        App::new().service(web::scope("/g").wrap(Group::new(["header"])).service(special_public).service(plain_r)),
    )
    .await;
    // The guard fails: the router picks the unannotated handler, which the group protects.
    refused(&app, TestRequest::get().uri("/g/r")).await;
    assert_eq!(send(&app, user(TestRequest::get().uri("/g/r"))).await.body, "plain r");
    // The guard passes: the public handler decides.
    assert_eq!(
        send(&app, TestRequest::get().uri("/g/r").insert_header(("x-special", "1"))).await.body,
        "special public"
    );
}

#[authenticate(skip)]
#[get("/{page}")]
async fn any_page() -> &'static str {
    "page"
}

#[actix_rt::test]
async fn raw_and_decoded_paths_cannot_pick_different_handlers() {
    let app = init_service(
        App::new().service(web::scope("/admin").wrap(Group::new(["header"])).service(stats).service(any_page)),
    )
    .await;
    // The raw path matches only the public pattern; the router, on the decoded one, runs stats.
    refused(&app, TestRequest::get().uri("/admin/st%61ts")).await;
    assert_eq!(send(&app, TestRequest::get().uri("/admin/other")).await.body, "page");
}

#[authenticate(skip)]
#[get("/named", name = "custom_name")]
async fn named_public() -> &'static str {
    "named"
}

#[authenticate(skip)]
#[actix_web::routes]
#[post("/multi", name = "first")]
#[get("/multi", name = "second")]
async fn multi_public() -> &'static str {
    "multi"
}

#[actix_rt::test]
async fn a_user_chosen_resource_name_is_seen() {
    let app = init_service(
        App::new().service(web::scope("/g").wrap(Group::new(["header"])).service(named_public).service(multi_public)),
    )
    .await;
    assert_eq!(send(&app, TestRequest::get().uri("/g/named")).await.body, "named");
    assert_eq!(send(&app, TestRequest::get().uri("/g/multi")).await.body, "multi");
    assert_eq!(send(&app, TestRequest::post().uri("/g/multi")).await.body, "multi");
}

#[authenticate("token")]
#[get("/token")]
async fn token_only(user: CurrentUser) -> String {
    format!("token:{}", user.id)
}

#[actix_rt::test]
async fn nested_groups_defer_to_the_annotated_handler() {
    let app = init_service(App::new().wrap(Group::new(["header"])).service(
        web::scope("/inner").wrap(Group::new(["token"])).service(public).service(token_only).service(forgotten),
    ))
    .await;
    let answer = send(&app, TestRequest::get().uri("/inner/public")).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "public"));
    let answer =
        send(&app, TestRequest::get().uri("/inner/token").insert_header(("authorization", "Token ok-1"))).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "token:ok-1"));
    let answer = send(&app, user(TestRequest::get().uri("/inner/token"))).await;
    assert_eq!(answer.status, 401);
    // An unannotated handler under both groups needs both.
    refused(&app, user(TestRequest::get().uri("/inner/forgotten"))).await;
    refused(&app, TestRequest::get().uri("/inner/forgotten").insert_header(("authorization", "Token ok-1"))).await;
    let both = user(TestRequest::get().uri("/inner/forgotten")).insert_header(("authorization", "Token ok-1"));
    assert_eq!(send(&app, both).await.body, "forgotten");
}

#[actix_rt::test]
async fn odd_methods_and_paths_never_reach_an_unannotated_body() {
    let app = init_service(
        App::new().service(
            web::scope("/admin")
                .wrap(Group::new(["header"]))
                .service(stats)
                .service(public)
                .default_service(web::to(counting_default)),
        ),
    )
    .await;
    let methods = ["GET", "get", "Get", "HEAD", "OPTIONS", "POST", "TRACE", "BREW", "CONNECT"];
    let long = format!("/admin/{}", "a".repeat(16 * 1024));
    let paths = [
        "/admin/stats",
        "/admin/stats/",
        "/admin/STATS",
        "/admin/stats;x=1",
        "/admin/stats%2F",
        "/admin%2Fstats",
        "/admin/./stats",
        "/admin/../admin/stats",
        "/admin/public/..",
        "/admin/st%2561ts",
        "/admin/%70ublic%2F",
        "/admin",
        "/admin/",
        long.as_str(),
    ];
    for method in methods {
        for path in paths {
            let request = TestRequest::default().method(Method::from_bytes(method.as_bytes()).unwrap()).uri(path);
            refused(&app, request).await;
        }
    }
    // The public handler answers exactly its own method.
    assert_eq!(send(&app, TestRequest::get().uri("/admin/public")).await.body, "public");
    refused(&app, TestRequest::default().method(Method::from_bytes(b"get").unwrap()).uri("/admin/public")).await;
}

#[actix_rt::test]
async fn hand_registered_routes_inside_a_group_are_protected() {
    let app = init_service(
        App::new().service(
            web::scope("/g")
                .wrap(Group::new(["header"]))
                .service(web::resource("/r").route(web::get().to(counting_default)))
                .route("/s", web::post().to(counting_default))
                .service(web::resource(["/t", "/u/{x}"]).to(counting_default)),
        ),
    )
    .await;
    for request in [
        TestRequest::get().uri("/g/r"),
        TestRequest::post().uri("/g/s"),
        TestRequest::get().uri("/g/t"),
        TestRequest::get().uri("/g/u/1"),
    ] {
        refused(&app, request).await;
    }
    assert_eq!(send(&app, user(TestRequest::post().uri("/g/s"))).await.body, "default");
}

mod unseen {
    use actix_web::{HttpResponse, get};
    use authn::authenticate;

    /// The attribute below the route macro: the group cannot see the skip, so it applies.
    #[get("/below")]
    #[authenticate(skip)]
    pub async fn below() -> HttpResponse {
        HttpResponse::Ok().body("below")
    }
}

#[actix_rt::test]
async fn an_override_the_group_cannot_see_fails_closed() {
    let app =
        init_service(App::new().service(web::scope("/g").wrap(Group::new(["header"])).service(unseen::below))).await;
    assert_eq!(send(&app, TestRequest::get().uri("/g/below")).await.status, 401);
    assert_eq!(send(&app, user(TestRequest::get().uri("/g/below"))).await.body, "below");
}

/// Rows deleted by the socket test's server, which runs on a thread of its own.
static DELETED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[delete("/rows/{id}")]
async fn delete_row(id: web::Path<u32>) -> HttpResponse {
    DELETED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    HttpResponse::Ok().body(format!("deleted {id}"))
}

#[actix_rt::test]
async fn over_a_real_socket_an_encoded_path_is_refused_and_deletes_nothing() {
    use authn_tests::http::serve;
    let (address, handle) = serve(|| {
        App::new().service(
            web::scope("/admin")
                .wrap(Group::new(["header"]))
                .service(stats)
                .service(delete_row)
                .service(admin_items::delete),
        )
    });
    let client = reqwest::Client::new();
    // The last one looks like the public `delete` to the group, which routes it: the router
    // picks the unannotated one, which the group refuses without starting it.
    for (method, path) in [
        ("GET", "/admin/st%61ts"),
        ("DELETE", "/admin/r%6Fws/1"),
        ("DELETE", "/admin/rows/%31"),
        ("DELETE", "/admin/items/1"),
    ] {
        let response = client
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("http://{address}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{method} {path}");
        assert_eq!(response.headers()["www-authenticate"], "header", "{method} {path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "USER_PROFILE_NOT_FOUND");
    }
    assert_eq!(DELETED.load(std::sync::atomic::Ordering::SeqCst), 0);
    let response =
        client.delete(format!("http://{address}/admin/r%6Fws/1")).header("x-user", "ann").send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "deleted 1");
    assert_eq!(DELETED.load(std::sync::atomic::Ordering::SeqCst), 1);
    handle.stop(true).await;
}

#[authenticate(skip)]
#[actix_web::route("/rt", method = "GET", method = "POST")]
async fn route_macro_public() -> &'static str {
    "route macro"
}

#[authenticate(skip)]
#[get("/wrapped", wrap = "actix_web::middleware::DefaultHeaders::new().add((\"x-wrapped\", \"1\"))")]
async fn wrapped_public() -> &'static str {
    "wrapped"
}

#[actix_rt::test]
async fn every_route_macro_form_is_seen() {
    let app = init_service(
        App::new()
            .service(web::scope("/g").wrap(Group::new(["header"])).service(route_macro_public).service(wrapped_public)),
    )
    .await;
    assert_eq!(send(&app, TestRequest::get().uri("/g/rt")).await.body, "route macro");
    assert_eq!(send(&app, TestRequest::post().uri("/g/rt")).await.body, "route macro");
    assert_eq!(send(&app, TestRequest::put().uri("/g/rt")).await.status, 401);
    let response = actix_web::test::call_service(&app, TestRequest::get().uri("/g/wrapped").to_request()).await;
    assert_eq!(response.headers().get("x-wrapped").unwrap(), "1");
}
