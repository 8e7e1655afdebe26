//! The "basic" strategy through real requests: LoopBack's Basic suite
//! (basic-auth-extension.acceptance.ts), RFC 7617's UTF-8 and the challenge, chains with "jwt".

use std::sync::Arc;

use actix_web::test::init_service;
use actix_web::{App, get};
use authn::basic::BasicConfig;
use authn::users::{DefaultUserService, MemoryUserStore, StoredUser};
use authn::{CurrentUser, authenticate};
use authn_tests::http::{get, send};
use authn_tests::jwt::{self, fast_hasher};
use base64::Engine as _;

#[authenticate("basic")]
#[get("/whoAmI")]
async fn who_am_i(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("basic", scopes = ["admin"])]
#[get("/admin")]
async fn admin(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("jwt", "basic")]
#[get("/either")]
async fn either(user: CurrentUser) -> String {
    user.id.clone()
}

#[get("/ping")]
async fn ping() -> &'static str {
    "{\"running\":true}"
}

async fn users() -> DefaultUserService {
    let hasher = fast_hasher();
    let store = MemoryUserStore::new();
    for (id, login, password, scope) in [
        ("1", "joe888", "joepa55w0rd", "read"),
        ("2", "jürgen", "pässwörd✓", "read admin"),
        ("3", "colon", "a:b:c", ""),
    ] {
        store.insert(StoredUser {
            id: id.into(),
            email: login.into(),
            name: None,
            password_hash: hasher.hash(password).await.unwrap(),
            claims: serde_json::json!({ "scope": scope }).as_object().unwrap().clone(),
        });
    }
    DefaultUserService::new(Arc::new(store)).with_hasher(hasher)
}

macro_rules! app {
    () => {{
        let services = jwt::memory_services().await;
        init_service(
            App::new()
                .app_data(BasicConfig::new(users().await).realm("users"))
                .app_data(services.config.clone())
                .service(who_am_i)
                .service(admin)
                .service(either)
                .service(ping),
        )
        .await
    }};
}

fn basic(raw: &[u8]) -> (&'static str, String) {
    ("authorization", format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw)))
}

const CHALLENGE: &str = r#"Basic realm="users", charset="UTF-8""#;

#[actix_rt::test]
async fn authenticates_successfully_for_correct_credentials() {
    let app = app!();
    let answer = send(&app, get("/whoAmI").insert_header(basic(b"joe888:joepa55w0rd"))).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "1"));
}

#[actix_rt::test]
async fn utf8_credentials_authenticate() {
    let app = app!();
    let answer = send(&app, get("/whoAmI").insert_header(basic("jürgen:pässwörd✓".as_bytes()))).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "2"));
}

#[actix_rt::test]
async fn missing_header() {
    let app = app!();
    let answer = send(&app, get("/whoAmI")).await;
    assert_eq!((answer.status, answer.message().as_str()), (401, "Authorization header not found."));
    assert_eq!(answer.challenges, [CHALLENGE]);
}

#[actix_rt::test]
async fn malformed_headers_get_loopbacks_messages() {
    let app = app!();
    let encoded = |raw: &[u8]| base64::engine::general_purpose::STANDARD.encode(raw);
    let cases = [
        (format!("NotB@sic {}", encoded(b"joe888:joepa55w0rd")), authn::basic::NOT_BASIC),
        (format!("Basic {} someOtherValue", encoded(b"joe888:joepa55w0rd")), authn::basic::TOO_MANY_PARTS),
        (format!("Basic {}", encoded(b"joe888|joepa55w0rd")), authn::basic::NOT_TWO_PARTS),
        ("Basic %%%".to_owned(), authn::basic::MALFORMED),
        (format!("Basic {}", encoded(b"caf\xe9:latin-1")), authn::basic::MALFORMED),
    ];
    for (header, message) in cases {
        let answer = send(&app, get("/whoAmI").insert_header(("authorization", header.clone()))).await;
        assert_eq!((answer.status, answer.message().as_str()), (401, message), "{header}");
        assert_eq!(answer.challenges, [CHALLENGE], "{header}");
    }
}

/// Issue: RFC 7617 lets a password contain `:` (only the user-id cannot); LoopBack's "exactly one
/// colon" locked such users out. The first colon splits.
#[actix_rt::test]
async fn a_password_may_contain_colons() {
    let app = app!();
    let answer = send(&app, get("/whoAmI").insert_header(basic(b"colon:a:b:c"))).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "3"));
    let wrong = send(&app, get("/whoAmI").insert_header(basic(b"colon:a:b"))).await;
    assert_eq!((wrong.status, wrong.message().as_str()), (401, "Invalid email or password."));
}

#[actix_rt::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let app = app!();
    let wrong = send(&app, get("/whoAmI").insert_header(basic(b"joe888:nope"))).await;
    let unknown = send(&app, get("/whoAmI").insert_header(basic(b"nobody:nope"))).await;
    assert_eq!((wrong.status, wrong.message().as_str()), (401, "Invalid email or password."));
    assert_eq!((wrong.status, &wrong.body, &wrong.challenges), (unknown.status, &unknown.body, &unknown.challenges));
    assert_eq!(wrong.challenges, [CHALLENGE]);
}

#[actix_rt::test]
async fn scopes_come_from_the_user() {
    let app = app!();
    let joe = send(&app, get("/admin").insert_header(basic(b"joe888:joepa55w0rd"))).await;
    assert_eq!(joe.status, 403);
    assert_eq!(joe.challenges, [r#"Basic realm="users", charset="UTF-8", error="insufficient_scope", scope="admin""#]);
    let jurgen = send(&app, get("/admin").insert_header(basic("jürgen:pässwörd✓".as_bytes()))).await;
    assert_eq!((jurgen.status, jurgen.body.as_str()), (200, "2"));
}

#[actix_rt::test]
async fn jwt_or_basic() {
    let app = app!();
    let by_basic = send(&app, get("/either").insert_header(basic(b"joe888:joepa55w0rd"))).await;
    assert_eq!((by_basic.status, by_basic.body.as_str()), (200, "1"));
    let token = jwt::sign_hs256(&jwt::claims());
    let by_jwt = send(&app, get("/either").insert_header(("authorization", format!("Bearer {token}")))).await;
    assert_eq!((by_jwt.status, by_jwt.body.as_str()), (200, jwt::USER_ID));
    let nothing = send(&app, get("/either")).await;
    assert_eq!((nothing.status, nothing.message().as_str()), (401, "Authorization header not found."));
    assert_eq!(nothing.challenges, [r#"Bearer realm="todo""#, CHALLENGE]);
    // A bad password on the second strategy is that strategy's failure, not the first's
    // "not of type 'Bearer'" (LoopBack answers the latter).
    let wrong = send(&app, get("/either").insert_header(basic(b"joe888:nope"))).await;
    assert_eq!((wrong.status, wrong.message().as_str()), (401, "Invalid email or password."));
}

#[actix_rt::test]
async fn allows_anonymous_requests_to_methods_with_no_decorator() {
    let app = app!();
    let answer = send(&app, get("/ping")).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "{\"running\":true}"));
}

/// Two `Authorization` headers, one of them right: refused (taking the first would pass).
#[actix_rt::test]
async fn a_repeated_authorization_header_is_refused() {
    let app = app!();
    let right = basic(b"joe888:joepa55w0rd");
    let wrong = basic(b"joe888:nope");
    for (first, second) in [(right.clone(), wrong.clone()), (wrong, right.clone()), (right.clone(), right)] {
        let answer = send(&app, get("/whoAmI").append_header(first.clone()).append_header(second.clone())).await;
        assert_eq!(answer.status, 401, "{first:?} then {second:?}: {}", answer.body);
    }
}
