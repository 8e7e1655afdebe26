//! Password hashing under load: a bound on concurrent argon2 work, and the same work for an
//! unknown user as for a wrong password, counted (not timed).

use std::sync::Arc;

use actix_web::test::{TestRequest, init_service};
use actix_web::{App, HttpResponse, post, web};
use authn::users::HashingLimit;
use authn::users::{Credentials, DefaultUserService, MemoryUserStore, PasswordHasher, StoredUser, UserService};
use authn_tests::http::send;

/// Slow enough that a burst arrives while the first hashes still run.
fn slow_params() -> authn::users::Argon2Params {
    authn::users::Argon2Params::new(8 * 1024, 2, 1, None).unwrap()
}

async fn service(hasher: PasswordHasher) -> DefaultUserService {
    let store = Arc::new(MemoryUserStore::new());
    let users = DefaultUserService::new(store.clone()).with_hasher(hasher);
    let hash = users.hasher().hash("right").await.unwrap();
    store.insert(StoredUser {
        id: "1".into(),
        email: "ada@example.com".into(),
        name: None,
        password_hash: hash,
        claims: Default::default(),
    });
    users
}

fn credentials(email: &str, password: &str) -> Credentials {
    Credentials::new(email, password)
}

#[post("/login")]
async fn login(users: web::Data<DefaultUserService>, body: web::Json<Credentials>) -> actix_web::Result<HttpResponse> {
    let profile = users.verify_credentials(&body).await?;
    Ok(HttpResponse::Ok().body(profile.id))
}

/// Issue: every login ran argon2 at once (up to the blocking pool's 512 threads, ~9.5 GiB).
#[actix_rt::test]
async fn a_login_flood_is_bounded_and_the_excess_gets_503_with_retry_after() {
    let users = service(PasswordHasher::with_params(slow_params()).with_limit(HashingLimit::new(1, 2))).await;
    let app = init_service(App::new().app_data(web::Data::new(users.clone())).service(login)).await;
    let requests = (0..12).map(|_| {
        send(
            &app,
            TestRequest::post()
                .uri("/login")
                .set_json(serde_json::json!({"email": "ada@example.com", "password": "right"})),
        )
    });
    let answers = futures_util::future::join_all(requests).await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let busy: Vec<_> = answers.iter().filter(|a| a.status == 503).collect();
    assert_eq!(ok, 3, "one running and two waiting get through: {answers:?}");
    assert_eq!(busy.len(), 9, "{answers:?}");
    for answer in busy {
        assert_eq!(answer.code().as_deref(), Some("AUTHENTICATION_BUSY"));
        assert_eq!(answer.json()["error"]["name"], "ServiceUnavailableError");
    }
    // The 503 carries Retry-After.
    let response = authn::AuthError::unavailable(std::time::Duration::from_secs(1));
    let response = actix_web::ResponseError::error_response(&response);
    assert_eq!(response.headers().get("retry-after").unwrap(), "1");
    // The refused ones did no argon2 work.
    assert_eq!(users.hasher().stats().verified, 3);
}

/// SQLite work runs on the blocking pool too: hashing at its bound must not hold it up.
#[actix_rt::test]
async fn store_work_is_not_held_up_behind_hashing() {
    let hasher = PasswordHasher::with_params(slow_params()).with_limit(HashingLimit::new(2, 64));
    let hashes: Vec<_> = (0..16)
        .map(|_| {
            let hasher = hasher.clone();
            actix_rt::spawn(async move { hasher.hash("x").await.unwrap() })
        })
        .collect();
    let store = authn::jwt::SqliteStore::open_in_memory().unwrap();
    let started = std::time::Instant::now();
    authn::jwt::TokenStore::deny(&store, "j", u64::MAX / 2).await.unwrap();
    let store_took = started.elapsed();
    let hashed_before = hasher.stats().hashed;
    for hash in hashes {
        hash.await.unwrap();
    }
    assert!(hashed_before < 16, "the store answered while hashes were still queued ({store_took:?})");
}

/// Issue: "the same argon2 work whether the email exists" had no test that would fail if the
/// unknown-user path skipped verification. Counted here for the user service and "basic".
#[actix_rt::test]
async fn an_unknown_user_costs_exactly_one_verification_like_a_wrong_password() {
    let users = service(authn_tests::jwt::fast_hasher()).await;
    let before = users.hasher().stats().verified;
    for (email, password) in [("ada@example.com", "wrong"), ("nobody@example.com", "right"), ("", "")] {
        let error = users.verify_credentials(&credentials(email, password)).await.unwrap_err();
        assert_eq!(error.message(), "Invalid email or password.");
    }
    assert_eq!(users.hasher().stats().verified - before, 3, "one verification per attempt, known or not");
    users.verify_credentials(&credentials("ada@example.com", "right")).await.unwrap();
    assert_eq!(users.hasher().stats().verified - before, 4);
}

#[authn::authenticate("basic")]
#[actix_web::get("/basic")]
async fn basic_route(user: authn::CurrentUser) -> String {
    user.id.clone()
}

#[actix_rt::test]
async fn basic_does_the_same_work_for_unknown_users() {
    use base64::Engine;
    let users = service(authn_tests::jwt::fast_hasher()).await;
    let hasher = users.hasher().clone();
    let app = init_service(App::new().app_data(authn::basic::BasicConfig::new(users)).service(basic_route)).await;
    let before = hasher.stats().verified;
    for pair in ["ada@example.com:wrong", "nobody@example.com:right"] {
        let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
        let answer = send(&app, TestRequest::get().uri("/basic").insert_header(("authorization", value))).await;
        assert_eq!(answer.status, 401);
        assert_eq!(answer.message(), "Invalid email or password.");
    }
    assert_eq!(hasher.stats().verified - before, 2);
}
