//! The todo-jwt API through real requests: LoopBack's acceptance cases, the whole API, and
//! cross-user isolation.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, web};
use authn::jwt::{Algorithm, JwtConfig, JwtKey, SqliteStore};
use authn::users::{DefaultUserService, PasswordHasher};
use serde_json::{Value, json};
use todo_jwt::db::Database;
use todo_jwt::{AppState, configure};

fn cheap_hasher() -> PasswordHasher {
    PasswordHasher::for_tests().with_limit(authn::users::HashingLimit::new(64, 1024))
}

pub fn app_parts(db: Database, store: SqliteStore) -> (JwtConfig, web::Data<AppState>) {
    let config = JwtConfig::builder()
        .key(JwtKey::hmac(Algorithm::HS256, &[3u8; 32]).unwrap())
        .issuer("todo-jwt")
        .audience("todo-jwt")
        .store(Arc::new(store))
        .build()
        .unwrap();
    let users = DefaultUserService::new(Arc::new(db.clone())).with_hasher(cheap_hasher());
    (config.clone(), web::Data::new(AppState::new(db, config, users).unwrap()))
}

macro_rules! app {
    () => {{
        let (config, state) = app_parts(Database::open_in_memory().unwrap(), SqliteStore::open_in_memory().unwrap());
        init_service(App::new().configure(configure(config, state))).await
    }};
}

struct Answer {
    status: u16,
    body: String,
    content_type: String,
    retry_after: Option<String>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn send<S, B>(app: &S, request: TestRequest) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = call_service(app, request.to_request()).await;
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = String::from_utf8_lossy(&read_body(response).await).into_owned();
    Answer { status, body, content_type, retry_after }
}

fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

async fn signup_and_login<S, B>(app: &S, email: &str) -> (String, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let credentials = json!({"email": email, "password": "testuser2"});
    let signup = send(app, TestRequest::post().uri("/signup").set_json(&credentials)).await;
    assert_eq!(signup.status, 200, "{}", signup.body);
    let id = signup.json()["id"].as_str().unwrap().to_owned();
    let login = send(app, TestRequest::post().uri("/users/login").set_json(&credentials)).await;
    assert_eq!(login.status, 200, "{}", login.body);
    (id, login.json()["token"].as_str().unwrap().to_owned())
}

#[actix_rt::test]
async fn loopback_acceptance_signup_login_and_todo_list() {
    let app = app!();
    // fails when getting todo list without login
    assert_eq!(send(&app, TestRequest::get().uri("/todos")).await.status, 401);
    // sign up successfully, user login successfully
    let (_, token) = signup_and_login(&app, "testuser2@abc.com").await;
    // get todo list successfully after login
    let list = send(&app, TestRequest::get().uri("/todos").insert_header(bearer(&token))).await;
    assert_eq!((list.status, list.json()), (200, json!([])));
}

#[actix_rt::test]
async fn signup_returns_the_user_without_password_and_refuses_bad_input() {
    let app = app!();
    let signup = send(
        &app,
        TestRequest::post()
            .uri("/signup")
            .set_json(json!({"email": "a@b.io", "password": "12345678", "username": "ada"})),
    )
    .await;
    let user = signup.json();
    assert_eq!(user["email"], "a@b.io");
    assert_eq!(user["username"], "ada");
    assert!(user.get("password").is_none() && !signup.body.contains("12345678") && !signup.body.contains("argon2"));
    // The same email again (any case): 409.
    let again =
        send(&app, TestRequest::post().uri("/signup").set_json(json!({"email": "A@B.io", "password": "12345678"})))
            .await;
    assert_eq!(again.status, 409, "{}", again.body);
    // The client cannot choose an id.
    let chosen = send(
        &app,
        TestRequest::post()
            .uri("/signup")
            .set_json(json!({"id": user["id"], "email": "c@d.io", "password": "12345678"})),
    )
    .await;
    assert_eq!(chosen.status, 422);
    assert_eq!(chosen.json()["error"]["details"][0]["path"], "/id");
    // Validation: every problem at once.
    let bad =
        send(&app, TestRequest::post().uri("/signup").set_json(json!({"email": "nope", "password": "short"}))).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["error"]["code"], "VALIDATION_FAILED");
    assert_eq!(bad.json()["error"]["details"].as_array().unwrap().len(), 2);
    let unparsable = send(
        &app,
        TestRequest::post().uri("/signup").insert_header(("content-type", "application/json")).set_payload("{"),
    )
    .await;
    assert_eq!(unparsable.status, 400);
}

#[actix_rt::test]
async fn login_failures_say_one_thing() {
    let app = app!();
    signup_and_login(&app, "x@y.io").await;
    for body in
        [json!({"email": "x@y.io", "password": "wrongpass"}), json!({"email": "nobody@y.io", "password": "testuser2"})]
    {
        let answer = send(&app, TestRequest::post().uri("/users/login").set_json(body)).await;
        assert_eq!(answer.status, 401);
        assert_eq!(answer.json()["error"]["message"], "Invalid email or password.");
    }
    let short =
        send(&app, TestRequest::post().uri("/users/login").set_json(json!({"email": "x@y.io", "password": "1"}))).await;
    assert_eq!(short.status, 422);
}

/// OWASP's login throttling, as a client sees it: five failures, then 429 with Retry-After for
/// the account, also for its right password, the same for a login nobody has; and the argon2
/// work of a login is one verification whether the account exists or not.
#[actix_rt::test]
async fn repeated_login_failures_are_throttled_the_same_for_unknown_accounts() {
    let (config, state) = app_parts(Database::open_in_memory().unwrap(), SqliteStore::open_in_memory().unwrap());
    let hasher = state.users.hasher().clone();
    let app = init_service(App::new().configure(configure(config, state))).await;
    signup_and_login(&app, "t@y.io").await;
    let login = |email: &str, password: &str| {
        TestRequest::post().uri("/users/login").set_json(json!({"email": email, "password": password}))
    };
    let verified = hasher.stats().verified;
    for email in ["t@y.io", "ghost@y.io"] {
        for _ in 0..5 {
            assert_eq!(send(&app, login(email, "wrongpass")).await.status, 401);
        }
    }
    assert_eq!(hasher.stats().verified - verified, 10, "one verification per attempt, known or unknown");
    for (email, password) in [("t@y.io", "testuser2"), ("ghost@y.io", "testuser2")] {
        let response = call_service(&app, login(email, password).to_request()).await;
        assert_eq!(response.status(), 429, "{email}");
        assert_eq!(response.headers().get("retry-after").unwrap(), "1");
        let body: Value = serde_json::from_slice(&read_body(response).await).unwrap();
        assert_eq!(body["error"]["code"], "TOO_MANY_ATTEMPTS");
    }
    assert_eq!(hasher.stats().verified - verified, 10, "throttled attempts do no argon2 work");
}

/// Every error carries `X-Content-Type-Options: nosniff` (LoopBack's error handler sends it), and
/// every response with tokens `Cache-Control: no-store` (RFC 6749 §5.1).
#[actix_rt::test]
async fn error_and_token_responses_carry_their_headers() {
    let app = app!();
    let (_, token) = signup_and_login(&app, "h@y.io").await;
    let credentials = json!({"email": "h@y.io", "password": "testuser2"});
    let big = "x".repeat(20 * 1024);
    let errors = [
        TestRequest::get().uri("/todos"),
        TestRequest::get().uri("/todos/999").insert_header(bearer(&token)),
        TestRequest::post()
            .uri("/todos")
            .insert_header(bearer(&token))
            .insert_header(("content-type", "application/json"))
            .set_payload("{"),
        TestRequest::post().uri("/todos").insert_header(bearer(&token)).set_json(json!({})),
        TestRequest::get().uri("/ping").insert_header(("x-big", big)),
        TestRequest::get().uri("/no/such/path"),
        TestRequest::post().uri("/users/login").set_json(json!({"email": "h@y.io", "password": "wrongpass"})),
    ];
    for request in errors {
        let response = call_service(&app, request.to_request()).await;
        assert!(response.status().is_client_error(), "{}", response.status());
        assert_eq!(response.headers().get("x-content-type-options").unwrap(), "nosniff", "{}", response.status());
    }
    let pair = send(&app, TestRequest::post().uri("/users/refresh-login").set_json(&credentials)).await.json();
    for request in [
        TestRequest::post().uri("/users/login").set_json(&credentials),
        TestRequest::post().uri("/users/refresh-login").set_json(&credentials),
        TestRequest::post().uri("/refresh").set_json(json!({"refreshToken": pair["refreshToken"]})),
    ] {
        let response = call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
        assert_eq!(response.headers().get("pragma").unwrap(), "no-cache");
    }
}

/// What schemathesis found, pinned: a documented path with another method is 405 with `Allow`
/// (also where a template would route it: `PUT /todos/count`), an empty `filter` or `where` is
/// none, bodies refuse what their schemas refuse, and `order` is exactly what the document says.
#[actix_rt::test]
async fn the_server_answers_what_its_document_says() {
    let app = app!();
    let (_, token) = signup_and_login(&app, "c@y.io").await;
    for (method, path, allow) in [
        ("TRACE", "/ping", "GET"),
        ("PUT", "/todos/count", "GET"),
        ("DELETE", "/whoAmI", "GET"),
        ("OPTIONS", "/todos", "GET, POST, PATCH"),
        ("POST", "/todos/1", "GET, PUT, PATCH, DELETE"),
    ] {
        let request = TestRequest::default().method(method.parse().unwrap()).uri(path).insert_header(bearer(&token));
        let response = call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers().get("allow").unwrap(), allow, "{method} {path}");
    }
    assert_eq!(send(&app, TestRequest::get().uri("/no/such/path")).await.status, 404);
    for uri in ["/todos?filter=", "/todos/count?where=", "/todos?filter=%7B%7D"] {
        assert_eq!(send(&app, TestRequest::get().uri(uri).insert_header(bearer(&token))).await.status, 200, "{uri}");
    }
    for order in ["title%20%20DESC", "title%09DESC", "title%20Desc", "nope"] {
        let uri = format!("/todos?filter=%7B%22order%22%3A%22{order}%22%7D");
        assert_eq!(send(&app, TestRequest::get().uri(&uri).insert_header(bearer(&token))).await.status, 400, "{order}");
    }
    let created =
        send(&app, TestRequest::post().uri("/todos").insert_header(bearer(&token)).set_json(json!({"title": "t"})))
            .await;
    let id = created.json()["id"].as_i64().unwrap();
    let null_title = TestRequest::patch()
        .uri(&format!("/todos/{id}"))
        .insert_header(bearer(&token))
        .set_json(json!({"title": null}));
    assert_eq!(send(&app, null_title).await.status, 422);
    for body in [json!({"refreshToken": ""}), json!({"refreshToken": "x", "extra": 1}), json!([])] {
        let refresh = send(&app, TestRequest::post().uri("/refresh").set_json(&body)).await;
        assert_eq!(refresh.status, 422, "{body}");
        let logout = TestRequest::post().uri("/users/logout").insert_header(bearer(&token)).set_json(&body);
        assert_eq!(send(&app, logout).await.status, 422, "{body}");
    }
    // None of that revoked the token.
    assert_eq!(send(&app, TestRequest::get().uri("/whoAmI").insert_header(bearer(&token))).await.status, 200);
}

#[actix_rt::test]
async fn who_am_i_is_the_user_id_as_text() {
    let app = app!();
    let (id, token) = signup_and_login(&app, "w@y.io").await;
    let me = send(&app, TestRequest::get().uri("/whoAmI").insert_header(bearer(&token))).await;
    assert_eq!((me.status, me.body.as_str()), (200, id.as_str()));
    assert!(me.content_type.starts_with("text/plain"));
}

#[actix_rt::test]
async fn the_whole_todo_api() {
    let app = app!();
    let (_, token) = signup_and_login(&app, "t@y.io").await;
    let auth = bearer(&token);
    let mut ids = Vec::new();
    for (title, done) in [("b milk", false), ("a eggs", true), ("c bread", false)] {
        let created = send(
            &app,
            TestRequest::post()
                .uri("/todos")
                .insert_header(auth.clone())
                .set_json(json!({"title": title, "isComplete": done})),
        )
        .await;
        assert_eq!(created.status, 200, "{}", created.body);
        ids.push(created.json()["id"].as_i64().unwrap());
    }
    let list = |filter: &str| {
        TestRequest::get().uri(&format!("/todos?filter={}", urlencode(filter))).insert_header(auth.clone())
    };
    let titles =
        |v: Value| v.as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(titles(send(&app, list(r#"{"order": "title ASC"}"#)).await.json()), ["a eggs", "b milk", "c bread"]);
    assert_eq!(
        titles(send(&app, list(r#"{"where": {"isComplete": false}, "order": ["title DESC"]}"#)).await.json()),
        ["c bread", "b milk"]
    );
    assert_eq!(
        titles(
            send(&app, list(r#"{"where": {"or": [{"title": "a eggs"}, {"title": "c bread"}]}, "order": "title"}"#))
                .await
                .json()
        ),
        ["a eggs", "c bread"]
    );
    assert_eq!(titles(send(&app, list(r#"{"order": "title", "limit": 1, "skip": 1}"#)).await.json()), ["b milk"]);
    assert_eq!(send(&app, list(r#"{"where": {"title": {"like": "%"}}}"#)).await.status, 400);

    let count =
        |w: &str| TestRequest::get().uri(&format!("/todos/count?where={}", urlencode(w))).insert_header(auth.clone());
    assert_eq!(send(&app, count(r#"{"isComplete": true}"#)).await.json(), json!({"count": 1}));
    assert_eq!(
        send(&app, TestRequest::get().uri("/todos/count").insert_header(auth.clone())).await.json(),
        json!({"count": 3})
    );

    let patched = TestRequest::patch()
        .uri(&format!("/todos?where={}", urlencode(r#"{"isComplete": false}"#)))
        .insert_header(auth.clone())
        .set_json(json!({"isComplete": true}));
    assert_eq!(send(&app, patched).await.json(), json!({"count": 2}));
    assert_eq!(send(&app, count(r#"{"isComplete": true}"#)).await.json(), json!({"count": 3}));

    let one = format!("/todos/{}", ids[0]);
    assert_eq!(
        send(&app, TestRequest::get().uri(&one).insert_header(auth.clone())).await.json(),
        json!({"id": ids[0], "title": "b milk", "isComplete": true})
    );
    let put = TestRequest::put().uri(&one).insert_header(auth.clone()).set_json(json!({"title": "oat milk"}));
    assert_eq!(send(&app, put).await.status, 204);
    assert_eq!(
        send(&app, TestRequest::get().uri(&one).insert_header(auth.clone())).await.json(),
        json!({"id": ids[0], "title": "oat milk"}),
        "PUT replaces"
    );
    let patch = TestRequest::patch().uri(&one).insert_header(auth.clone()).set_json(json!({"desc": "2 litres"}));
    assert_eq!(send(&app, patch).await.status, 204);
    assert_eq!(
        send(&app, TestRequest::get().uri(&one).insert_header(auth.clone())).await.json(),
        json!({"id": ids[0], "title": "oat milk", "desc": "2 litres"}),
        "PATCH merges"
    );
    assert_eq!(send(&app, TestRequest::delete().uri(&one).insert_header(auth.clone())).await.status, 204);
    let gone = send(&app, TestRequest::get().uri(&one).insert_header(auth.clone())).await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.json()["error"],
        json!({"statusCode": 404, "name": "Error", "message": format!("Entity not found: Todo with id {}", ids[0]), "code": "ENTITY_NOT_FOUND"})
    );
    let bad_id = send(&app, TestRequest::get().uri("/todos/abc").insert_header(auth.clone())).await;
    assert_eq!(
        (bad_id.status, bad_id.json()["error"]["message"].as_str()),
        (400, Some("Invalid data \"abc\" for parameter \"id\"."))
    );
}

#[actix_rt::test]
async fn order_of_checks_is_401_then_400_422_then_404() {
    let app = app!();
    let (_, token) = signup_and_login(&app, "o@y.io").await;
    let no_token_bad_body = TestRequest::post().uri("/todos").set_json(json!({"nope": 1}));
    assert_eq!(send(&app, no_token_bad_body).await.status, 401);
    let unparsable = TestRequest::post()
        .uri("/todos")
        .insert_header(bearer(&token))
        .insert_header(("content-type", "application/json"))
        .set_payload("{");
    assert_eq!(send(&app, unparsable).await.status, 400);
    let invalid =
        TestRequest::post().uri("/todos").insert_header(bearer(&token)).set_json(json!({"title": 5, "extra": true}));
    let invalid = send(&app, invalid).await;
    assert_eq!(invalid.status, 422);
    assert_eq!(invalid.json()["error"]["details"].as_array().unwrap().len(), 2);
    let missing = TestRequest::put().uri("/todos/999").insert_header(bearer(&token)).set_json(json!({"title": "x"}));
    assert_eq!(send(&app, missing).await.status, 404);
    assert_eq!(send(&app, TestRequest::get().uri("/nowhere")).await.status, 404);
    let large = TestRequest::post()
        .uri("/todos")
        .insert_header(bearer(&token))
        .set_json(json!({"title": "x".repeat(100 * 1024)}));
    assert_eq!(send(&app, large).await.status, 413);
}

#[actix_rt::test]
async fn users_never_see_each_others_todos() {
    let app = app!();
    let (_, alice) = signup_and_login(&app, "alice@y.io").await;
    let (_, bob) = signup_and_login(&app, "bob@y.io").await;
    let created = send(
        &app,
        TestRequest::post().uri("/todos").insert_header(bearer(&alice)).set_json(json!({"title": "alice's"})),
    )
    .await;
    let id = created.json()["id"].as_i64().unwrap();
    let path = format!("/todos/{id}");
    for request in [
        TestRequest::get().uri(&path),
        TestRequest::put().uri(&path).set_json(json!({"title": "bob was here"})),
        TestRequest::patch().uri(&path).set_json(json!({"title": "bob was here"})),
        TestRequest::delete().uri(&path),
    ] {
        let answer = send(&app, request.insert_header(bearer(&bob))).await;
        assert_eq!(answer.status, 404, "{}", answer.body);
    }
    assert_eq!(send(&app, TestRequest::get().uri("/todos").insert_header(bearer(&bob))).await.json(), json!([]));
    assert_eq!(
        send(&app, TestRequest::get().uri("/todos/count").insert_header(bearer(&bob))).await.json(),
        json!({"count": 0})
    );
    let bulk =
        TestRequest::patch().uri("/todos").insert_header(bearer(&bob)).set_json(json!({"title": "bob was here"}));
    assert_eq!(send(&app, bulk).await.json(), json!({"count": 0}));
    let still = send(&app, TestRequest::get().uri(&path).insert_header(bearer(&alice))).await;
    assert_eq!(still.json()["title"], "alice's");
}

#[actix_rt::test]
async fn refresh_login_refresh_and_logout() {
    let app = app!();
    let credentials = json!({"email": "r@y.io", "password": "testuser2"});
    send(&app, TestRequest::post().uri("/signup").set_json(&credentials)).await;
    let pair = send(&app, TestRequest::post().uri("/users/refresh-login").set_json(&credentials)).await.json();
    assert!(pair["expiresIn"].as_u64().unwrap() > 0);
    let next =
        send(&app, TestRequest::post().uri("/refresh").set_json(json!({"refreshToken": pair["refreshToken"]}))).await;
    assert_eq!(next.status, 200);
    let next = next.json();
    let access = next["accessToken"].as_str().unwrap();
    assert_eq!(send(&app, TestRequest::get().uri("/whoAmI").insert_header(bearer(access))).await.status, 200);
    let logout = TestRequest::post()
        .uri("/users/logout")
        .insert_header(bearer(access))
        .set_json(json!({"refreshToken": next["refreshToken"]}));
    assert_eq!(send(&app, logout).await.status, 204);
    assert_eq!(send(&app, TestRequest::get().uri("/whoAmI").insert_header(bearer(access))).await.status, 401);
    let reuse =
        send(&app, TestRequest::post().uri("/refresh").set_json(json!({"refreshToken": pair["refreshToken"]}))).await;
    assert_eq!(reuse.status, 401);
}

#[actix_rt::test]
async fn data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("todo.db");
    let token = {
        let (config, state) = app_parts(Database::open(&path).unwrap(), SqliteStore::open(&path).unwrap());
        let app = init_service(App::new().configure(configure(config, state))).await;
        let (_, token) = signup_and_login(&app, "p@y.io").await;
        let created = send(
            &app,
            TestRequest::post().uri("/todos").insert_header(bearer(&token)).set_json(json!({"title": "persist me"})),
        )
        .await;
        assert_eq!(created.status, 200);
        token
    };
    // The file holds password hashes: its owner's only (its WAL went with the last connection).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (config, state) = app_parts(Database::open(&path).unwrap(), SqliteStore::open(&path).unwrap());
    let app = init_service(App::new().configure(configure(config, state))).await;
    // The token (same key) and the data both survive.
    let list = send(&app, TestRequest::get().uri("/todos").insert_header(bearer(&token))).await;
    assert_eq!(list.json(), json!([{"id": 1, "title": "persist me"}]));
    let login = send(
        &app,
        TestRequest::post().uri("/users/login").set_json(json!({"email": "p@y.io", "password": "testuser2"})),
    )
    .await;
    assert_eq!(login.status, 200);
}

/// The database goes away under a running server (its tables dropped by another connection, as
/// a botched migration or a restored backup would): every request that needs it answers 503
/// with `Retry-After` and a stable JSON body, never a 500 and never the database's own words.
#[actix_rt::test]
async fn a_database_that_went_away_is_a_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("todo.db");
    let (config, state) = app_parts(Database::open(&path).unwrap(), SqliteStore::open(&path).unwrap());
    let app = init_service(App::new().configure(configure(config, state))).await;
    let (_, token) = signup_and_login(&app, "gone@y.io").await;
    let credentials = json!({"email": "gone@y.io", "password": "testuser2"});
    let pair = send(&app, TestRequest::post().uri("/users/refresh-login").set_json(&credentials)).await.json();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TABLE todos; DROP TABLE users; DROP TABLE authn_refresh;")
        .unwrap();
    let cases = [
        ("SERVICE_UNAVAILABLE", TestRequest::get().uri("/todos").insert_header(bearer(&token))),
        (
            "SERVICE_UNAVAILABLE",
            TestRequest::post().uri("/todos").insert_header(bearer(&token)).set_json(json!({"title": "t"})),
        ),
        ("AUTHENTICATION_UNAVAILABLE", TestRequest::post().uri("/users/login").set_json(&credentials)),
        (
            "AUTHENTICATION_UNAVAILABLE",
            TestRequest::post().uri("/refresh").set_json(json!({"refreshToken": pair["refreshToken"]})),
        ),
    ];
    for (code, request) in cases {
        let answer = send(&app, request).await;
        assert_eq!(answer.status, 503, "{}", answer.body);
        assert_eq!(answer.json()["error"]["code"], code, "{}", answer.body);
        assert_eq!(answer.json()["error"]["statusCode"], 503);
        assert!(answer.retry_after.as_deref().is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)));
        assert!(!answer.body.contains("no such table") && !answer.body.contains("sqlite"), "{}", answer.body);
    }
}

#[actix_rt::test]
async fn ping_is_public() {
    let app = app!();
    let ping = send(&app, TestRequest::get().uri("/ping")).await;
    assert_eq!((ping.status, ping.json()), (200, json!({"running": true})));
    authn::validate().unwrap();
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[actix_rt::test]
async fn openapi_security_is_exact_per_operation_and_the_explorer_is_served() {
    let app = app!();
    let doc = send(&app, TestRequest::get().uri("/openapi.json")).await.json();
    assert_eq!(
        doc["components"]["securitySchemes"]["jwt"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    );
    // Only the schemes the API uses are documented.
    assert_eq!(doc["components"]["securitySchemes"].as_object().map(|s| s.len()), Some(1));
    let security = |path: &str, method: &str| doc["paths"][path][method]["security"].clone();
    for (path, method) in [
        ("/signup", "post"),
        ("/users/login", "post"),
        ("/users/refresh-login", "post"),
        ("/refresh", "post"),
        ("/ping", "get"),
    ] {
        assert_eq!(security(path, method), json!([]), "{method} {path} is public");
    }
    for (path, method) in [
        ("/whoAmI", "get"),
        ("/users/logout", "post"),
        ("/todos", "get"),
        ("/todos", "post"),
        ("/todos", "patch"),
        ("/todos/count", "get"),
        ("/todos/{id}", "get"),
        ("/todos/{id}", "put"),
        ("/todos/{id}", "patch"),
        ("/todos/{id}", "delete"),
    ] {
        assert_eq!(security(path, method), json!([{"jwt": []}]), "{method} {path} is secured");
    }
    // Every documented operation has its security decided (none left to a global default).
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(operation.get("security").is_some(), "{method} {path}");
        }
    }
    let explorer = send(&app, TestRequest::get().uri("/explorer/")).await;
    assert_eq!(explorer.status, 200);
    assert!(explorer.content_type.starts_with("text/html") && explorer.body.contains("<title>Swagger UI"));
}
