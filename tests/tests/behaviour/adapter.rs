//! Existing actix authentication crates adapted into strategies (LoopBack's Passport adapter):
//! actix-web-httpauth's `BasicAuth` and `BearerAuth`, and an actix-identity + actix-session
//! login session carried by a cookie. Every Passport outcome is checked through requests.

use actix_identity::{Identity, IdentityMiddleware};
use actix_session::SessionMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::Key;
use actix_web::dev::ServiceRequest;
use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, HttpMessage, HttpRequest, HttpResponse, get, post, web};
use actix_web_httpauth::extractors::AuthenticationError;
use actix_web_httpauth::extractors::basic::BasicAuth;
use actix_web_httpauth::extractors::bearer::{self, BearerAuth};
use authn::adapter::Verdict;
use authn::{Challenge, CurrentUser, Redirect, UserProfile, authenticate, strategy};
use authn_tests::http::{get, send};
use subtle::ConstantTimeEq;

/// passport-http's Basic, as LoopBack's passport-login example configures it (one user).
#[strategy("httpauth-basic")]
async fn httpauth_basic(auth: BasicAuth) -> Verdict {
    let password_ok: bool = auth.password().unwrap_or_default().as_bytes().ct_eq(b"password").into();
    if auth.user_id() == "admin" && password_ok {
        Verdict::Success(UserProfile::new("admin"))
    } else {
        Verdict::fail_with(
            StatusCode::UNAUTHORIZED,
            "Invalid credentials.",
            Some(Challenge::new("Basic").param("realm", "adapter")),
        )
    }
}

/// Opaque bearer tokens looked up in a table; a locked account is a 403 the adapter keeps.
#[strategy("httpauth-bearer")]
async fn httpauth_bearer(auth: BearerAuth, tokens: web::Data<Tokens>) -> Verdict {
    match tokens.0.iter().find(|(token, _)| token.as_bytes().ct_eq(auth.token().as_bytes()).into()) {
        Some((_, "locked")) => Verdict::fail_with(StatusCode::FORBIDDEN, "Account locked.", None),
        Some((_, "broken")) => Verdict::error(std::io::Error::other("user table unreachable at db-password-xyz")),
        Some((_, user)) => Verdict::Success(UserProfile::new(*user)),
        None => Verdict::fail_with(
            StatusCode::UNAUTHORIZED,
            "Invalid token.",
            Some(Challenge::new("Bearer").param("error", "invalid_token")),
        ),
    }
}

struct Tokens(Vec<(&'static str, &'static str)>);

/// Existing code written for actix-web-httpauth's `HttpAuthentication::bearer(validator)`
/// middleware, adapted as it is.
struct LegacyCaller(String);

async fn legacy_validator(
    request: ServiceRequest,
    credentials: BearerAuth,
) -> Result<ServiceRequest, (actix_web::Error, ServiceRequest)> {
    match credentials.token().strip_prefix("legacy-") {
        Some(user) if !user.is_empty() => {
            request.extensions_mut().insert(LegacyCaller(user.to_owned()));
            Ok(request)
        }
        Some(_) => Err((actix_web::error::ErrorInternalServerError("directory at ldap://10.0.0.7 down"), request)),
        None => {
            let config = bearer::Config::default().realm("legacy");
            Err((AuthenticationError::from(config).with_error(bearer::Error::InvalidToken).into(), request))
        }
    }
}

#[strategy("legacy")]
async fn legacy(request: &HttpRequest) -> Result<authn::Outcome, authn::AuthError> {
    authn::adapter::from_validator(request, legacy_validator, |accepted| {
        accepted.extensions().get::<LegacyCaller>().map(|c| UserProfile::new(c.0.clone()))
    })
    .await
}

#[authenticate("legacy")]
#[get("/legacy")]
async fn legacy_route(user: CurrentUser) -> String {
    user.id.clone()
}

/// The login session of actix-identity (on actix-session's cookie store): no identity is a
/// pass, so an optional route runs anonymously and a chain tries the next strategy.
#[strategy("session")]
async fn session(identity: Option<Identity>) -> Verdict {
    match identity.map(|i| i.id()) {
        None => Verdict::Pass,
        Some(Ok(id)) => Verdict::Success(UserProfile::new(id)),
        Some(Err(error)) => Verdict::error(std::io::Error::other(error.to_string())),
    }
}

/// A login page for browsers without a session.
#[strategy("session-or-login")]
async fn session_or_login(identity: Option<Identity>, request: HttpRequest) -> Verdict {
    match identity.and_then(|i| i.id().ok()) {
        Some(id) => Verdict::Success(UserProfile::new(id)),
        None => Verdict::Redirect(Redirect::to(format!("/login?next={}", request.path()))),
    }
}

#[authenticate("httpauth-basic")]
#[post("/login")]
async fn login(user: CurrentUser, request: HttpRequest) -> HttpResponse {
    match Identity::login(&request.extensions(), user.id.clone()) {
        Ok(_) => HttpResponse::NoContent().finish(),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

#[authenticate("session")]
#[post("/logout")]
async fn logout(identity: Identity) -> HttpResponse {
    identity.logout();
    HttpResponse::NoContent().finish()
}

#[authenticate("session", "httpauth-bearer", "httpauth-basic")]
#[get("/whoAmI")]
async fn who_am_i(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("session-or-login")]
#[get("/account")]
async fn account(user: CurrentUser) -> String {
    format!("account of {}", user.id)
}

#[authenticate("session")]
#[get("/greeting")]
async fn greeting(user: Option<CurrentUser>) -> String {
    user.map_or_else(|| "hello, stranger".to_owned(), |u| format!("hello, {}", u.id))
}

macro_rules! app {
    () => {
        init_service(
            App::new()
                .app_data(web::Data::new(Tokens(vec![
                    ("t-alice", "alice"),
                    ("t-locked", "locked"),
                    ("t-broken", "broken"),
                ])))
                .wrap(IdentityMiddleware::default())
                .wrap(SessionMiddleware::new(CookieSessionStore::default(), Key::from(&[7u8; 64])))
                .service(login)
                .service(logout)
                .service(who_am_i)
                .service(account)
                .service(greeting)
                .service(legacy_route),
        )
        .await
    };
}

fn basic(user: &str, password: &str) -> (&'static str, String) {
    use base64::Engine as _;
    (
        "authorization",
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))),
    )
}

#[actix_rt::test]
async fn the_registry_lists_adapted_strategies() {
    for name in ["httpauth-basic", "httpauth-bearer", "session", "session-or-login"] {
        assert!(authn::introspect::registry().get(name).is_some(), "{name}");
    }
    // Nothing but the group tests' deliberate traps (see main.rs).
    assert!(authn::validate().unwrap_err().problems().iter().all(|p| p.contains("#[authenticate(skip)] is below")));
}

#[actix_rt::test]
async fn success_from_basic_auth_and_bearer_auth() {
    let app = app!();
    let by_basic = send(&app, get("/whoAmI").insert_header(basic("admin", "password"))).await;
    assert_eq!((by_basic.status, by_basic.body.as_str()), (200, "admin"));
    let by_bearer = send(&app, get("/whoAmI").insert_header(("authorization", "Bearer t-alice"))).await;
    assert_eq!((by_bearer.status, by_bearer.body.as_str()), (200, "alice"));
}

#[actix_rt::test]
async fn fail_keeps_its_message_status_and_challenge() {
    let app = app!();
    let wrong = send(&app, get("/whoAmI").insert_header(basic("admin", "nope"))).await;
    assert_eq!((wrong.status, wrong.message().as_str()), (401, "Invalid credentials."));
    assert!(wrong.challenges.contains(&r#"Basic realm="adapter""#.to_owned()), "{:?}", wrong.challenges);
    let locked = send(&app, get("/whoAmI").insert_header(("authorization", "Bearer t-locked"))).await;
    assert_eq!((locked.status, locked.message().as_str()), (403, "Account locked."));
}

#[actix_rt::test]
async fn error_is_a_500_that_leaks_nothing() {
    let app = app!();
    let broken = send(&app, get("/whoAmI").insert_header(("authorization", "Bearer t-broken"))).await;
    assert_eq!((broken.status, broken.message().as_str()), (500, "Internal Server Error"));
    assert!(!broken.body.contains("db-password"));
}

#[actix_rt::test]
async fn pass_moves_on_and_nothing_at_all_is_401() {
    let app = app!();
    // No session, no header: every strategy passes (the extractors fail, which is a pass).
    let nobody = send(&app, get("/whoAmI")).await;
    assert_eq!(nobody.status, 401);
    assert_eq!(nobody.code().as_deref(), Some("USER_PROFILE_NOT_FOUND"));
    assert_eq!(nobody.challenges.len(), 3, "{:?}", nobody.challenges);
    let optional = send(&app, get("/greeting")).await;
    assert_eq!((optional.status, optional.body.as_str()), (200, "hello, stranger"));
}

#[actix_rt::test]
async fn redirect_sends_browsers_to_the_login_page() {
    let app = app!();
    let answer = send(&app, get("/account")).await;
    assert_eq!((answer.status, answer.location.as_deref()), (303, Some("/login?next=/account")));
}

/// The session cookie of a response, as a browser would send it back.
fn session_cookie(response: &actix_web::dev::ServiceResponse) -> Option<String> {
    response.response().cookies().find(|c| c.name() == "id").map(|c| format!("id={}", c.value()))
}

#[actix_rt::test]
async fn a_login_session_works_end_to_end_with_cookies() {
    let app = app!();
    let signed_in =
        call_service(&app, TestRequest::post().uri("/login").insert_header(basic("admin", "password")).to_request())
            .await;
    assert_eq!(signed_in.status(), 204);
    let cookie = session_cookie(&signed_in).expect("the login sets the session cookie");

    let me = send(&app, get("/whoAmI").insert_header(("cookie", cookie.clone()))).await;
    assert_eq!((me.status, me.body.as_str()), (200, "admin"));
    let greeted = send(&app, get("/greeting").insert_header(("cookie", cookie.clone()))).await;
    assert_eq!(greeted.body, "hello, admin");
    let page = send(&app, get("/account").insert_header(("cookie", cookie.clone()))).await;
    assert_eq!((page.status, page.body.as_str()), (200, "account of admin"));

    // A forged cookie (the store signs and encrypts it) is no session.
    let forged = send(&app, get("/whoAmI").insert_header(("cookie", "id=forged-value"))).await;
    assert_eq!(forged.status, 401);

    let signed_out =
        call_service(&app, TestRequest::post().uri("/logout").insert_header(("cookie", cookie.clone())).to_request())
            .await;
    assert_eq!(signed_out.status(), 204);
    let cleared = session_cookie(&signed_out).unwrap_or_default();
    let after = send(&app, get("/whoAmI").insert_header(("cookie", cleared))).await;
    assert_eq!(after.status, 401);
}

#[actix_rt::test]
async fn an_httpauth_validator_is_adapted_unchanged() {
    let app = app!();
    let ok = send(&app, get("/legacy").insert_header(("authorization", "Bearer legacy-grace"))).await;
    assert_eq!((ok.status, ok.body.as_str()), (200, "grace"));
    let rejected = send(&app, get("/legacy").insert_header(("authorization", "Bearer other"))).await;
    assert_eq!((rejected.status, rejected.message().as_str()), (401, "Unauthorized."));
    let broken = send(&app, get("/legacy").insert_header(("authorization", "Bearer legacy-"))).await;
    assert_eq!(broken.status, 500);
    assert!(!broken.body.contains("ldap"), "{}", broken.body);
    let missing = send(&app, get("/legacy")).await;
    assert_eq!((missing.status, missing.code().as_deref()), (401, Some("USER_PROFILE_NOT_FOUND")));
}
