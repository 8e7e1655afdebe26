//! The OAuth 2.0 login end to end against a small authorization server started on 127.0.0.1
//! (as LoopBack's oauth2 acceptance test does): the redirect chain, PKCE, the code exchange,
//! find-or-create of the local user, the app's own token, and every way the flow is refused.

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::http::header;
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, HttpRequest, HttpResponse, get, post, web};
use authn::jwt::{JwtTokenService, TokenService};
use authn::oauth2::{FLOW_COOKIE_PREFIX, OAuth2Config, OAuth2Provider};
use authn::users::MemoryUserIdentityService;
use authn::{CurrentUser, authenticate};
use authn_tests::http::{send, serve};
use authn_tests::jwt;
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};

// ---- the authorization server -------------------------------------------------------------

const CLIENT_ID: &str = "authn-test";
const CLIENT_SECRET: &str = "mock-client-secret";
const CALLBACK: &str = "http://app.test/auth/thirdparty/mock/callback";

#[derive(Default)]
struct Mock {
    /// code → (PKCE challenge, redirect_uri, user)
    codes: Mutex<HashMap<String, (String, String, String)>>,
    /// access token → user
    tokens: Mutex<HashMap<String, String>>,
    counter: Mutex<u64>,
}

impl Mock {
    fn next(&self, prefix: &str) -> String {
        let mut counter = self.counter.lock().unwrap();
        *counter += 1;
        format!("{prefix}-{counter}")
    }
}

#[derive(Deserialize)]
struct Authorize {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
    scope: Option<String>,
}

/// The authorize endpoint sends the browser to its login page.
#[get("/authorize")]
async fn mock_authorize(query: web::Query<Authorize>, request: HttpRequest) -> HttpResponse {
    let ok = query.response_type == "code"
        && query.client_id == CLIENT_ID
        && query.redirect_uri == CALLBACK
        && query.code_challenge_method == "S256"
        && query.scope.as_deref() == Some("openid email");
    if !ok {
        return HttpResponse::BadRequest().body("bad authorization request");
    }
    let _ = &query.state;
    let _ = &query.code_challenge;
    HttpResponse::Found().insert_header((header::LOCATION, format!("/login?{}", request.query_string()))).finish()
}

#[derive(Deserialize)]
struct Login {
    redirect_uri: String,
    state: String,
    code_challenge: String,
    user: Option<String>,
    deny: Option<String>,
}

/// The login page: the user (chosen by the test) signs in, or declines.
#[get("/login")]
async fn mock_login(query: web::Query<Login>, mock: web::Data<Mock>) -> HttpResponse {
    let state = &query.state;
    let location = if query.deny.is_some() {
        format!("{}?error=access_denied&state={state}", query.redirect_uri)
    } else {
        let code = mock.next("code");
        let user = query.user.clone().unwrap_or_else(|| "ada".into());
        mock.codes
            .lock()
            .unwrap()
            .insert(code.clone(), (query.code_challenge.clone(), query.redirect_uri.clone(), user));
        format!("{}?code={code}&state={state}", query.redirect_uri)
    };
    HttpResponse::Found().insert_header((header::LOCATION, location)).finish()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: String,
    code_verifier: String,
}

/// The token endpoint: client authentication, a single-use code, and PKCE (RFC 7636 §4.6).
#[post("/token")]
async fn mock_token(form: web::Form<TokenForm>, mock: web::Data<Mock>, request: HttpRequest) -> HttpResponse {
    let expected =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")));
    if request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return HttpResponse::Unauthorized().json(serde_json::json!({"error": "invalid_client"}));
    }
    let Some((challenge, redirect_uri, user)) = mock.codes.lock().unwrap().remove(&form.code) else {
        return HttpResponse::BadRequest().json(serde_json::json!({"error": "invalid_grant"}));
    };
    let computed =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(form.code_verifier.as_bytes()));
    if form.grant_type != "authorization_code" || redirect_uri != form.redirect_uri || computed != challenge {
        return HttpResponse::BadRequest().json(serde_json::json!({"error": "invalid_grant"}));
    }
    let access = mock.next("access");
    mock.tokens.lock().unwrap().insert(access.clone(), user);
    HttpResponse::Ok().json(serde_json::json!({"access_token": access, "token_type": "Bearer", "expires_in": 3600}))
}

#[get("/userinfo")]
async fn mock_userinfo(mock: web::Data<Mock>, request: HttpRequest) -> HttpResponse {
    let token = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let user = token.strip_prefix("Bearer ").and_then(|t| mock.tokens.lock().unwrap().get(t).cloned());
    match user {
        // A provider answering far more than a few claims.
        Some(user) if user == "big" => HttpResponse::Ok().json(serde_json::json!({
            "sub": "sub-big",
            "padding": "x".repeat(1024 * 1024),
        })),
        Some(user) => HttpResponse::Ok().json(serde_json::json!({
            "sub": format!("sub-{user}"),
            "email": format!("{user}@mock.test"),
            "email_verified": true,
            "name": user,
        })),
        None => HttpResponse::Unauthorized().finish(),
    }
}

fn start_mock() -> (String, actix_web::dev::ServerHandle) {
    let mock = web::Data::new(Mock::default());
    let (address, handle) = serve(move || {
        App::new()
            .app_data(mock.clone())
            .service(mock_authorize)
            .service(mock_login)
            .service(mock_token)
            .service(mock_userinfo)
    });
    (format!("http://{address}"), handle)
}

// ---- the app ------------------------------------------------------------------------------

#[authenticate("oauth2")]
#[get("/auth/thirdparty/{provider}")]
async fn third_party_login() -> HttpResponse {
    // Never reached: the strategy redirects to the provider first.
    HttpResponse::InternalServerError().finish()
}

#[authenticate("oauth2")]
#[get("/auth/thirdparty/{provider}/callback")]
async fn third_party_callback(
    user: CurrentUser,
    tokens: web::Data<JwtTokenService>,
) -> actix_web::Result<HttpResponse> {
    let issued = tokens.generate_token(&user)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"token": issued.token})))
}

#[authenticate("jwt")]
#[get("/whoAmI")]
async fn who_am_i(user: CurrentUser) -> String {
    format!("{} <{}>", user.id, user.email.as_deref().unwrap_or("-"))
}

fn oauth2_config(mock: &str) -> OAuth2Config {
    OAuth2Config::builder()
        .cookie_key(&[9; 32])
        .identities(MemoryUserIdentityService::new())
        .provider(
            OAuth2Provider::new("mock", CLIENT_ID)
                .client_secret(CLIENT_SECRET)
                .authorize_url(format!("{mock}/authorize"))
                .token_url(format!("{mock}/token"))
                .userinfo_url(format!("{mock}/userinfo"))
                .redirect_url(CALLBACK)
                .scopes(["openid", "email"]),
        )
        .build()
        .unwrap()
}

macro_rules! app {
    ($mock:expr) => {{
        let services = jwt::memory_services().await;
        init_service(
            App::new()
                .wrap(authn::ResponseHeaders::new())
                .app_data(oauth2_config($mock))
                .app_data(services.config.clone())
                .app_data(web::Data::new(JwtTokenService::new(services.config.clone())))
                .service(third_party_login)
                .service(third_party_callback)
                .service(who_am_i),
        )
        .await
    }};
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").expect("a redirect").to_str().unwrap().to_owned()
}

/// The steps of one login as a browser makes them: the app's redirect, the provider's
/// authorize and login pages; returns the callback path and the flow cookie.
async fn to_callback<S, B>(app: &S, mock: &str, login_query: &str) -> (String, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let start = call_service(app, TestRequest::get().uri("/auth/thirdparty/mock").to_request()).await;
    assert_eq!(start.status(), 303, "LoopBack: call is redirected to third party authorization url");
    let authorize_url = start.headers().get(header::LOCATION).unwrap().to_str().unwrap().to_owned();
    assert!(authorize_url.starts_with(&format!("{mock}/authorize?")), "{authorize_url}");
    assert!(authorize_url.contains("code_challenge_method=S256") && authorize_url.contains("state="));
    let cookie =
        start.response().cookies().find(|c| c.name().starts_with(FLOW_COOKIE_PREFIX)).expect("the flow cookie");
    assert!(cookie.http_only() == Some(true) && cookie.same_site() == Some(actix_web::cookie::SameSite::Lax));
    let cookie = format!("{}={}", cookie.name(), cookie.value());

    let browser = browser();
    let authorize = browser.get(&authorize_url).send().await.unwrap();
    assert_eq!(authorize.status(), 302, "LoopBack: redirected to the provider's login page");
    let login = location(&authorize);
    assert!(login.starts_with("/login?"), "{login}");
    let login = browser.get(format!("{mock}{login}{login_query}")).send().await.unwrap();
    assert_eq!(login.status(), 302, "LoopBack: login page redirects to the app's callback");
    let callback = location(&login);
    let path = callback.strip_prefix("http://app.test").expect("the registered callback").to_owned();
    (path, cookie)
}

async fn call<S, B>(app: &S, path: &str, cookie: &str) -> authn_tests::http::Answer
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    send(app, TestRequest::get().uri(path).insert_header((header::COOKIE, cookie.to_owned()))).await
}

/// Finishes a login through the provider as `login_query` says, and asks the app who the token
/// it issued belongs to.
async fn log_in_and_ask<S, B>(app: &S, mock: &str, login_query: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (callback, cookie) = to_callback(app, mock, login_query).await;
    assert!(callback.contains("code="), "LoopBack: callback url contains access code");
    let answer = call(app, &callback, &cookie).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let token = answer.json()["token"].as_str().unwrap().to_owned();
    let me =
        send(app, TestRequest::get().uri("/whoAmI").insert_header(("authorization", format!("Bearer {token}")))).await;
    assert_eq!(me.status, 200, "{}", me.body);
    me.body
}

#[actix_rt::test]
async fn login_with_the_provider_issues_the_apps_own_token() {
    let (mock, server) = start_mock();
    let app = app!(&mock);
    assert_eq!(log_in_and_ask(&app, &mock, "").await, "mock-1 <ada@mock.test>");
    // The same provider user again: the same local user. Another one: a new local user.
    assert_eq!(log_in_and_ask(&app, &mock, "").await, "mock-1 <ada@mock.test>");
    assert_eq!(log_in_and_ask(&app, &mock, "&user=bob").await, "mock-2 <bob@mock.test>");
    server.stop(true).await;
}

#[actix_rt::test]
async fn a_forged_or_foreign_state_is_refused() {
    let (mock, server) = start_mock();
    let app = app!(&mock);
    let (callback, cookie) = to_callback(&app, &mock, "").await;

    let forged = callback.replace("state=", "state=x");
    let answer = call(&app, &forged, &cookie).await;
    assert_eq!((answer.status, answer.message().as_str()), (401, authn::oauth2::STATE_MISMATCH));

    let no_cookie = send(&app, TestRequest::get().uri(&callback)).await;
    assert_eq!((no_cookie.status, no_cookie.message().as_str()), (401, authn::oauth2::STATE_MISMATCH));

    // Login CSRF: the attacker's callback URL in a browser whose flow is another one.
    let (_, victims_cookie) = to_callback(&app, &mock, "").await;
    let crossed = call(&app, &callback, &victims_cookie).await;
    assert_eq!((crossed.status, crossed.message().as_str()), (401, authn::oauth2::STATE_MISMATCH));

    let tampered = call(&app, &callback, &cookie.replacen('=', "=A", 1)).await;
    assert_eq!(tampered.status, 401);

    // The genuine pair still works once, and the code cannot be replayed.
    assert_eq!(call(&app, &callback, &cookie).await.status, 200);
    let replay = call(&app, &callback, &cookie).await;
    assert_eq!((replay.status, replay.message().as_str()), (401, authn::oauth2::UPSTREAM_FAILURE));
    server.stop(true).await;
}

#[actix_rt::test]
async fn an_error_from_the_provider_is_a_clean_401() {
    let (mock, server) = start_mock();
    let app = app!(&mock);
    let (callback, cookie) = to_callback(&app, &mock, "&deny=1").await;
    assert!(callback.contains("error=access_denied"));
    let answer = call(&app, &callback, &cookie).await;
    assert_eq!((answer.status, answer.message().as_str()), (401, authn::oauth2::PROVIDER_ERROR));
    assert!(answer.challenges.len() == 1, "{:?}", answer.challenges);
    server.stop(true).await;
}

#[actix_rt::test]
async fn a_provider_that_is_down_is_a_clean_401() {
    let (mock, server) = start_mock();
    let app = app!(&mock);
    let (callback, cookie) = to_callback(&app, &mock, "").await;
    server.stop(true).await;
    let answer = call(&app, &callback, &cookie).await;
    assert_eq!((answer.status, answer.message().as_str()), (401, authn::oauth2::UPSTREAM_FAILURE));
}

#[actix_rt::test]
async fn an_unknown_provider_is_404() {
    let app = app!("http://127.0.0.1:9");
    let response = call_service(&app, TestRequest::get().uri("/auth/thirdparty/nope").to_request()).await;
    assert_eq!(response.status(), 404);
    let body = read_body(response).await;
    assert!(String::from_utf8_lossy(&body).contains(authn::oauth2::UNKNOWN_PROVIDER));
}

/// Issue: the flow cookie outlived the callback, so reloading a finished callback sent the used
/// code to the provider again (some providers then revoke the user's whole grant).
#[actix_rt::test]
async fn the_callback_clears_its_flow_cookie_so_a_reload_never_reaches_the_provider() {
    let (mock, server) = start_mock();
    let app = app!(&mock);
    let (callback, cookie) = to_callback(&app, &mock, "").await;
    let request = TestRequest::get().uri(&callback).insert_header((header::COOKIE, cookie.clone()));
    let response = call_service(&app, request.to_request()).await;
    assert_eq!(response.status(), 200);
    let name = cookie.split('=').next().unwrap();
    let cleared = response.response().cookies().find(|c| c.name() == name).expect("the flow cookie is cleared");
    assert_eq!(cleared.max_age(), Some(actix_web::cookie::time::Duration::ZERO));
    assert_eq!(cleared.value(), "");
    // A browser that obeyed reloads without the cookie: refused before any code exchange
    // (the provider down proves nothing was sent: the answer is the state's, not upstream's).
    server.stop(true).await;
    let reload = send(&app, TestRequest::get().uri(&callback)).await;
    assert_eq!((reload.status, reload.message().as_str()), (401, authn::oauth2::STATE_MISMATCH));
}

/// Two logins in two tabs: each flow has a cookie of its own, so neither breaks the other.
#[actix_rt::test]
async fn two_logins_at_once_do_not_overwrite_each_other() {
    let (mock, server) = start_mock();
    let app = app!(&mock);
    let (first, first_cookie) = to_callback(&app, &mock, "").await;
    let (second, second_cookie) = to_callback(&app, &mock, "&user=bob").await;
    assert_ne!(first_cookie.split('=').next(), second_cookie.split('=').next());
    // The browser sends both cookies with each callback.
    let both = format!("{first_cookie}; {second_cookie}");
    assert_eq!(call(&app, &second, &both).await.status, 200);
    assert_eq!(call(&app, &first, &both).await.status, 200);
    server.stop(true).await;
}

#[actix_rt::test]
async fn an_oversized_user_info_answer_is_refused() {
    let (mock, server) = start_mock();
    let app = app!(&mock);
    let (callback, cookie) = to_callback(&app, &mock, "&user=big").await;
    let answer = call(&app, &callback, &cookie).await;
    assert_eq!((answer.status, answer.message().as_str()), (401, authn::oauth2::UPSTREAM_FAILURE));
    server.stop(true).await;
}

#[test]
fn over_https_the_flow_cookie_is_secure_and_host_prefixed() {
    let config = OAuth2Config::builder()
        .cookie_key(&[9; 32])
        .identities(MemoryUserIdentityService::new())
        .provider(
            OAuth2Provider::new("mock", CLIENT_ID)
                .authorize_url("https://idp.test/authorize")
                .token_url("https://idp.test/token")
                .userinfo_url("https://idp.test/userinfo")
                .redirect_url("https://app.test/auth/thirdparty/mock/callback"),
        )
        .build()
        .unwrap();
    actix_rt::System::new().block_on(async move {
        let app = init_service(App::new().app_data(config).service(third_party_login)).await;
        let start = call_service(&app, TestRequest::get().uri("/auth/thirdparty/mock").to_request()).await;
        let cookie = start.response().cookies().next().expect("the flow cookie");
        assert!(cookie.name().starts_with(&format!("__Host-{FLOW_COOKIE_PREFIX}")), "{}", cookie.name());
        assert_eq!((cookie.secure(), cookie.path(), cookie.domain()), (Some(true), Some("/"), None));
    });
}

#[actix_rt::test]
async fn a_refused_callback_is_one_security_event() {
    let (mock, server) = start_mock();
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let into = seen.clone();
    let services = jwt::memory_services().await;
    let app = init_service(
        App::new()
            .wrap(authn::ResponseHeaders::new())
            .app_data(authn::events::EventSink::new(move |e| into.lock().unwrap().push(e.clone())))
            .app_data(oauth2_config(&mock))
            .app_data(services.config.clone())
            .app_data(web::Data::new(JwtTokenService::new(services.config.clone())))
            .service(third_party_login)
            .service(third_party_callback),
    )
    .await;
    let (callback, cookie) = to_callback(&app, &mock, "").await;
    assert_eq!(call(&app, &callback.replace("state=", "state=x"), &cookie).await.status, 401);
    let (denied, denied_cookie) = to_callback(&app, &mock, "&deny=1").await;
    assert_eq!(call(&app, &denied, &denied_cookie).await.status, 401);
    let events = seen.lock().unwrap().clone();
    let reasons: Vec<_> = events.iter().map(|e| (e.kind, e.strategy, e.reason)).collect();
    use authn::events::EventKind::OAuth2CallbackRefused;
    assert_eq!(
        reasons,
        [
            (OAuth2CallbackRefused, Some("oauth2"), Some("state_mismatch")),
            (OAuth2CallbackRefused, Some("oauth2"), Some("provider_error"))
        ]
    );
    server.stop(true).await;
}
