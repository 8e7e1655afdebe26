//! Login throttling: failures per account and per client address slow down, then answer 429 with
//! `Retry-After`; unknown logins are throttled exactly like known ones; a success resets the
//! account; "basic" shares the throttle; SQLite shares it between instances.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, HttpRequest, HttpResponse, post, web};
use authn::jwt::SqliteStore;
use authn::users::{Backoff, LoginThrottle, MemoryThrottleStore, ThrottleStore};
use authn::users::{Credentials, DefaultUserService, MemoryUserStore, StoredUser, UserService};
use authn_tests::jwt::fast_hasher;

const QUICK: Backoff = Backoff {
    free_failures: 3,
    first_delay: Duration::from_millis(400),
    max_delay: Duration::from_secs(2),
    forget_after: Duration::from_secs(60),
};

async fn users(throttle: LoginThrottle) -> DefaultUserService {
    let store = Arc::new(MemoryUserStore::new());
    let users = DefaultUserService::new(store.clone()).with_hasher(fast_hasher()).with_throttle(throttle);
    let hash = users.hasher().hash("right").await.unwrap();
    store.insert(StoredUser {
        id: "ada".into(),
        email: "ada@example.com".into(),
        name: None,
        password_hash: hash,
        claims: Default::default(),
    });
    users
}

fn quick(store: Arc<dyn ThrottleStore>) -> LoginThrottle {
    LoginThrottle::new(store).account_backoff(QUICK).client_backoff(Backoff { free_failures: 6, ..QUICK })
}

#[post("/login")]
async fn login(
    users: web::Data<DefaultUserService>,
    request: HttpRequest,
    body: web::Json<Credentials>,
) -> actix_web::Result<HttpResponse> {
    let profile = users.verify_credentials_from(&body, &authn::events::Origin::of(&request)).await?;
    Ok(HttpResponse::Ok().body(profile.id))
}

/// Status, Retry-After and body of one login.
async fn attempt<S, B>(app: &S, email: &str, password: &str, from: &str) -> (u16, Option<String>, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let request = TestRequest::post()
        .uri("/login")
        .peer_addr(from.parse::<SocketAddr>().unwrap())
        .set_json(serde_json::json!({"email": email, "password": password}))
        .to_request();
    let response = call_service(app, request).await;
    let status = response.status().as_u16();
    let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let body = String::from_utf8(read_body(response).await.to_vec()).unwrap();
    (status, retry, body)
}

macro_rules! app {
    ($users:expr) => {
        init_service(App::new().app_data(web::Data::new($users)).service(login)).await
    };
}

#[actix_rt::test]
async fn failures_slow_down_then_answer_429_without_password_work() {
    let users = users(quick(Arc::new(MemoryThrottleStore::new()))).await;
    let hasher = users.hasher().clone();
    let app = app!(users);
    for _ in 0..3 {
        assert_eq!(attempt(&app, "ada@example.com", "wrong", "10.0.0.1:1").await.0, 401);
    }
    let verified = hasher.stats().verified;
    let (status, retry, body) = attempt(&app, "ada@example.com", "right", "10.0.0.1:1").await;
    assert_eq!((status, retry.as_deref()), (429, Some("1")), "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"error": {"statusCode": 429, "name": "TooManyRequestsError",
            "message": "Too many failed attempts; retry later.", "code": "TOO_MANY_ATTEMPTS"}})
    );
    assert_eq!(hasher.stats().verified, verified, "a throttled attempt does no argon2 work");
    // After the window, the right password gets in and resets the account.
    actix_rt::time::sleep(QUICK.first_delay + Duration::from_millis(50)).await;
    assert_eq!(attempt(&app, "ada@example.com", "right", "10.0.0.1:1").await.0, 200);
    for _ in 0..3 {
        assert_eq!(attempt(&app, "ADA@example.com ", "wrong", "10.0.0.2:1").await.0, 401, "counted from zero again");
    }
    assert_eq!(
        attempt(&app, "ada@example.com", "wrong", "10.0.0.3:1").await.0,
        429,
        "the login as typed is one account"
    );
}

#[actix_rt::test]
async fn the_window_doubles_while_failures_continue() {
    let app = app!(users(quick(Arc::new(MemoryThrottleStore::new()))).await);
    for _ in 0..3 {
        attempt(&app, "ada@example.com", "wrong", "10.0.0.1:1").await;
    }
    actix_rt::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(attempt(&app, "ada@example.com", "wrong", "10.0.0.1:1").await.0, 401, "the first window is over");
    // That failure doubled it: 800 ms.
    actix_rt::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(attempt(&app, "ada@example.com", "right", "10.0.0.1:1").await.0, 429, "still inside the second");
    actix_rt::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(attempt(&app, "ada@example.com", "right", "10.0.0.1:1").await.0, 200);
}

/// The throttle must not tell which logins exist: an unknown email gets exactly the answers a
/// known one with a wrong password gets.
#[actix_rt::test]
async fn unknown_logins_are_throttled_exactly_like_known_ones() {
    let app = app!(users(quick(Arc::new(MemoryThrottleStore::new()))).await);
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..6 {
        known.push(attempt(&app, "ada@example.com", "wrong", &format!("10.1.0.{i}:1")).await);
        unknown.push(attempt(&app, "nobody@example.com", "wrong", &format!("10.2.0.{i}:1")).await);
    }
    assert_eq!(known, unknown);
    assert_eq!(known.iter().map(|a| a.0).collect::<Vec<_>>(), [401, 401, 401, 429, 429, 429]);
}

#[actix_rt::test]
async fn one_address_trying_many_accounts_is_throttled() {
    let app = app!(users(quick(Arc::new(MemoryThrottleStore::new()))).await);
    for i in 0..6 {
        assert_eq!(attempt(&app, &format!("user{i}@example.com"), "guess", "192.0.2.7:1").await.0, 401);
    }
    assert_eq!(attempt(&app, "ada@example.com", "right", "192.0.2.7:9").await.0, 429, "the address waits");
    assert_eq!(attempt(&app, "ada@example.com", "right", "192.0.2.8:1").await.0, 200, "another address does not");
}

#[authn::authenticate("basic")]
#[actix_web::get("/basic")]
async fn basic_route(user: authn::CurrentUser) -> String {
    user.id.clone()
}

#[actix_rt::test]
async fn basic_authentication_shares_the_throttle() {
    use base64::Engine;
    let users = users(quick(Arc::new(MemoryThrottleStore::new()))).await;
    let shared = web::Data::new(users.clone());
    let app = init_service(
        App::new().app_data(authn::basic::BasicConfig::new(users)).app_data(shared).service(basic_route).service(login),
    )
    .await;
    let basic = |pair: &str| {
        let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
        TestRequest::get()
            .uri("/basic")
            .peer_addr("10.9.0.1:1".parse().unwrap())
            .insert_header(("authorization", value))
    };
    for _ in 0..3 {
        assert_eq!(call_service(&app, basic("ada@example.com:wrong").to_request()).await.status(), 401);
    }
    let response = call_service(&app, basic("ada@example.com:right").to_request()).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    // The JSON login sees the same account throttled.
    assert_eq!(attempt(&app, "ada@example.com", "right", "10.9.0.2:1").await.0, 429);
}

#[actix_rt::test]
async fn instances_sharing_a_sqlite_file_share_the_throttle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let one = app!(users(quick(Arc::new(SqliteStore::open(&path).unwrap()))).await);
    let two = app!(users(quick(Arc::new(SqliteStore::open(&path).unwrap()))).await);
    for _ in 0..3 {
        assert_eq!(attempt(&one, "ada@example.com", "wrong", "10.3.0.1:1").await.0, 401);
    }
    assert_eq!(attempt(&two, "ada@example.com", "right", "10.3.0.2:1").await.0, 429);
    // Only the SHA-256 of each key is stored: no login or address in the file.
    let bytes = std::fs::read(&path).unwrap();
    let wal = std::fs::read(dir.path().join("shared.db-wal")).unwrap_or_default();
    for needle in [&b"ada@example.com"[..], b"10.3.0.1"] {
        assert!(!bytes.windows(needle.len()).chain(wal.windows(needle.len())).any(|w| w == needle));
    }
}

#[actix_rt::test]
async fn instances_sharing_a_postgres_database_share_the_throttle() {
    use authn::jwt::PostgresStore;
    let pg = authn_tests::pg::Postgres::start();
    let one = app!(users(quick(Arc::new(PostgresStore::connect(&pg.url()).await.unwrap()))).await);
    let two = app!(users(quick(Arc::new(PostgresStore::connect(&pg.url()).await.unwrap()))).await);
    for _ in 0..3 {
        assert_eq!(attempt(&one, "ada@example.com", "wrong", "10.4.0.1:1").await.0, 401);
    }
    assert_eq!(attempt(&two, "ada@example.com", "right", "10.4.0.2:1").await.0, 429);
    // Only the SHA-256 of each key is stored.
    let stored = pg.psql("SELECT string_agg(encode(key, 'escape'), ',') FROM authn_throttle");
    assert!(!stored.contains("ada@example.com") && !stored.contains("10.4.0.1"), "{stored}");
    assert_eq!(
        pg.psql("SELECT count(*) FROM authn_throttle WHERE length(key) = 32"),
        pg.psql("SELECT count(*) FROM authn_throttle")
    );
}
