//! OpenID Connect login against a real provider (node oidc-provider, `tests/idp/`): the
//! authorization-code flow through its development login and consent pages, driven over HTTP
//! with a cookie jar, ending in a verified ID token and a local user; and every way an ID token
//! or a callback that is not this login's is refused.

use actix_web::http::header;
use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, HttpResponse, get};
use authn::oauth2::{ClientAuth, FLOW_COOKIE_PREFIX, OAuth2Config, OAuth2Provider, UPSTREAM_FAILURE};
use authn::users::MemoryUserIdentityService;
use authn::{CurrentUser, authenticate};
use authn_tests::http::{Answer, send};
use authn_tests::idp::{Idp, key_file};

const CALLBACK: &str = "http://app.test/auth/thirdparty/idp/callback";
const SECRET: &str = "web-secret-web-secret-web-secret-web-secret";

#[authenticate("oauth2")]
#[get("/auth/thirdparty/{provider}")]
async fn idp_login() -> HttpResponse {
    HttpResponse::InternalServerError().finish()
}

#[authenticate("oauth2")]
#[get("/auth/thirdparty/{provider}/callback")]
async fn idp_callback(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().body(format!(
        "{} <{}>",
        user.name.as_deref().unwrap_or("-"),
        user.email.as_deref().unwrap_or("-")
    ))
}

fn provider(idp: &Idp, auth: Option<&str>) -> OAuth2Provider {
    let mut provider = OAuth2Provider::new("idp", format!("web-{}", auth.unwrap_or("client_secret_basic")))
        .client_secret(SECRET)
        .issuer(idp.issuer.clone())
        .redirect_url(CALLBACK)
        .scopes(["email", "profile"]);
    if auth == Some("client_secret_post") {
        provider = provider.client_auth(ClientAuth::SecretPost);
    }
    provider
}

fn config(provider: OAuth2Provider) -> OAuth2Config {
    OAuth2Config::builder()
        .cookie_key(&[5; 32])
        .identities(MemoryUserIdentityService::new())
        .provider(provider)
        .build()
        .unwrap()
}

macro_rules! app {
    ($config:expr) => {
        init_service(
            App::new().wrap(authn::ResponseHeaders::new()).app_data($config).service(idp_login).service(idp_callback),
        )
        .await
    };
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").expect("a redirect").to_str().unwrap().to_owned()
}

fn between<'a>(text: &'a str, before: &str, after: &str) -> Option<&'a str> {
    let start = text.find(before)? + before.len();
    let end = text[start..].find(after)? + start;
    Some(&text[start..end])
}

/// The browser at the provider: from the authorize URL through its login and consent pages, as
/// `user`, to the redirect back to the app. Returns that callback URL.
async fn through_the_provider(browser: &reqwest::Client, authorize_url: &str, user: &str) -> String {
    let mut response = browser.get(authorize_url).send().await.unwrap();
    for _ in 0..12 {
        if response.status().is_redirection() {
            let next = response.url().join(&location(&response)).unwrap().to_string();
            if next.starts_with(CALLBACK) {
                return next;
            }
            response = browser.get(&next).send().await.unwrap();
            continue;
        }
        let page = response.text().await.unwrap();
        let action = between(&page, "action=\"", "\"").unwrap_or_else(|| panic!("no form in {page}")).to_owned();
        let prompt = between(&page, "name=\"prompt\" value=\"", "\"").unwrap_or("consent").to_owned();
        let mut form = vec![("prompt", prompt.as_str())];
        if prompt == "login" {
            form.extend([("login", user), ("password", "any")]);
        }
        response = browser.post(action).form(&form).send().await.unwrap();
    }
    panic!("the provider never sent the browser back")
}

/// One login up to the callback: the app's redirect (checked), the provider's pages. Returns
/// the callback's path and query, the flow cookie, and the authorize URL.
async fn to_callback<S, B>(app: &S, user: &str) -> (String, String, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let start = call_service(app, TestRequest::get().uri("/auth/thirdparty/idp").to_request()).await;
    assert_eq!(start.status(), 303);
    let authorize = start.headers().get(header::LOCATION).unwrap().to_str().unwrap().to_owned();
    let query: Vec<(String, String)> = reqwest::Url::parse(&authorize).unwrap().query_pairs().into_owned().collect();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(param("scope").as_deref(), Some("openid email profile"), "openid first, always");
    assert!(param("nonce").is_some_and(|n| n.len() >= 32), "a nonce: {authorize}");
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    let cookie = start.response().cookies().find(|c| c.name().starts_with(FLOW_COOKIE_PREFIX)).expect("flow cookie");
    let cookie = format!("{}={}", cookie.name(), cookie.value());
    let callback = through_the_provider(&browser(), &authorize, user).await;
    let path = callback.strip_prefix("http://app.test").unwrap().to_owned();
    (path, cookie, authorize)
}

async fn finish<S, B>(app: &S, path: &str, cookie: &str) -> Answer
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

#[actix_rt::test]
async fn login_trusts_the_verified_id_token_with_either_client_secret_method() {
    let keys = key_file(&["k1"]);
    let idp = Idp::start(&keys, &[("REDIRECT_URI", CALLBACK)]);
    for auth in ["client_secret_basic", "client_secret_post"] {
        let app = app!(config(provider(&idp, Some(auth))));
        let (path, cookie, _) = to_callback(&app, "ada").await;
        assert!(path.contains(&format!("iss={}", urlencode(&idp.issuer))), "RFC 9207 iss sent: {path}");
        let answer = finish(&app, &path, &cookie).await;
        assert_eq!((answer.status, answer.body.as_str()), (200, "ada <ada@idp.test>"), "{auth}: {answer:?}");
        // The same callback again (a reload, or a replay with the cookie kept): refused.
        assert_eq!(finish(&app, &path, &cookie).await.status, 401, "{auth}: replayed callback");
    }
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}

#[actix_rt::test]
async fn user_info_is_optional_and_must_be_the_same_subject() {
    let keys = key_file(&["k1"]);
    let idp = Idp::start(&keys, &[("REDIRECT_URI", CALLBACK)]);
    let app = app!(config(provider(&idp, None).userinfo(true)));
    let (path, cookie, _) = to_callback(&app, "grace").await;
    let answer = finish(&app, &path, &cookie).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "grace <grace@idp.test>"), "{answer:?}");
}

#[actix_rt::test]
async fn a_callback_from_another_issuer_or_another_login_is_refused() {
    let keys = key_file(&["k1"]);
    let idp = Idp::start(&keys, &[("REDIRECT_URI", CALLBACK)]);
    let app = app!(config(provider(&idp, None)));
    // RFC 9207 mix-up: the callback names another issuer.
    let (path, cookie, _) = to_callback(&app, "ada").await;
    let forged = path.replace(&urlencode(&idp.issuer), "https%3A%2F%2Fevil.example");
    let answer = finish(&app, &forged, &cookie).await;
    assert_eq!((answer.status, answer.message()), (401, UPSTREAM_FAILURE.to_owned()), "{answer:?}");
    // The provider advertises the parameter: a callback without it is refused too.
    let (path, cookie, _) = to_callback(&app, "ada").await;
    let without: String = path.split('&').filter(|p| !p.starts_with("iss=")).collect::<Vec<_>>().join("&");
    assert_eq!(finish(&app, &without, &cookie).await.status, 401);
    // Another login's code and state, with this browser's flow cookie: not this login.
    let (_, mine, _) = to_callback(&app, "ada").await;
    let (theirs, _, _) = to_callback(&app, "mallory").await;
    assert_eq!(finish(&app, &theirs, &mine).await.status, 401);
}

#[actix_rt::test]
async fn a_configuration_with_an_issuer_always_asks_for_openid() {
    let keys = key_file(&["k1"]);
    let idp = Idp::start(&keys, &[("REDIRECT_URI", CALLBACK)]);
    // No scope at all: openid is added, and the login works (it failed at user info before).
    let bare = OAuth2Provider::new("idp", "web-client_secret_basic")
        .client_secret(SECRET)
        .issuer(idp.issuer.clone())
        .redirect_url(CALLBACK);
    let app = app!(config(bare));
    let start = call_service(&app, TestRequest::get().uri("/auth/thirdparty/idp").to_request()).await;
    let authorize = start.headers().get(header::LOCATION).unwrap().to_str().unwrap().to_owned();
    assert!(authorize.contains("scope=openid"), "{authorize}");
}

/// What the token endpoint proxy does to the provider's answer.
#[derive(Clone)]
struct Swap {
    upstream: String,
    /// Replaces the ID token, when set.
    id_token: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    /// The last ID token that went through.
    seen: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

/// Between the app and the provider's token endpoint: forwards the exchange, and can put
/// another ID token in the answer, as a token response an attacker controls would.
#[actix_web::post("/token")]
async fn token_proxy(
    request: actix_web::HttpRequest,
    body: actix_web::web::Bytes,
    swap: actix_web::web::Data<Swap>,
) -> HttpResponse {
    let mut forward = reqwest::Client::new().post(&swap.upstream).body(body.to_vec());
    for name in ["authorization", "content-type"] {
        if let Some(value) = request.headers().get(name) {
            forward = forward.header(name, value.as_bytes());
        }
    }
    let mut answer: serde_json::Value = forward.send().await.unwrap().json().await.unwrap();
    *swap.seen.lock().unwrap() = answer["id_token"].as_str().map(str::to_owned);
    if let Some(replacement) = swap.id_token.lock().unwrap().clone() {
        answer["id_token"] = serde_json::Value::String(replacement);
    }
    HttpResponse::Ok().json(answer)
}

#[actix_rt::test]
async fn an_id_token_of_another_login_or_with_a_foreign_nonce_is_refused() {
    let keys = key_file(&["k1"]);
    let idp = Idp::start(&keys, &[("REDIRECT_URI", CALLBACK)]);
    let swap =
        Swap { upstream: format!("{}/token", idp.issuer), id_token: Default::default(), seen: Default::default() };
    let data = actix_web::web::Data::new(swap.clone());
    let (proxy, server) = authn_tests::http::serve(move || App::new().app_data(data.clone()).service(token_proxy));
    let app = app!(config(provider(&idp, None).token_url(format!("http://{proxy}/token"))));
    // Through the proxy unchanged: the login works.
    let (path, cookie, _) = to_callback(&app, "ada").await;
    assert_eq!(finish(&app, &path, &cookie).await.status, 200);
    let earlier = swap.seen.lock().unwrap().clone().expect("an ID token went through");
    // A replayed ID token: signed by the provider, for this client, unexpired, but its nonce
    // is the earlier login's.
    *swap.id_token.lock().unwrap() = Some(earlier.clone());
    let (path, cookie, _) = to_callback(&app, "ada").await;
    let answer = finish(&app, &path, &cookie).await;
    assert_eq!((answer.status, answer.message()), (401, UPSTREAM_FAILURE.to_owned()), "replayed nonce: {answer:?}");
    // A foreign nonce, and none at all, in tokens the provider's key signed.
    let payload = |nonce: Option<&str>| {
        let mut claims = serde_json::json!({
            "sub": "ada", "iss": idp.issuer, "aud": "web-client_secret_basic",
            "iat": authn_tests::jwt::now(), "exp": authn_tests::jwt::now() + 300,
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = nonce.into();
        }
        claims
    };
    for claims in [payload(Some("foreign-nonce-foreign-nonce-foreign-nonce")), payload(None)] {
        *swap.id_token.lock().unwrap() = Some(authn_tests::idp::signed(&keys, "k1", &claims, "RS256"));
        let (path, cookie, _) = to_callback(&app, "ada").await;
        assert_eq!(finish(&app, &path, &cookie).await.status, 401, "{claims}");
    }
    // Another client's ID token (azp and aud), signed by the provider: not ours.
    let mut other = payload(None);
    other["aud"] = serde_json::json!(["web-client_secret_basic", "web-client_secret_post"]);
    other["azp"] = "web-client_secret_post".into();
    *swap.id_token.lock().unwrap() = Some(authn_tests::idp::signed(&keys, "k1", &other, "RS256"));
    let (path, cookie, _) = to_callback(&app, "ada").await;
    assert_eq!(finish(&app, &path, &cookie).await.status, 401, "azp of another client");
    server.stop(false).await;
}

#[actix_rt::test]
async fn private_key_jwt_authenticates_the_client_without_a_secret() {
    let output = std::process::Command::new("node")
        .args(["client-key.mjs", "client-1"])
        .current_dir(authn_tests::idp::installed())
        .output()
        .unwrap();
    let pair: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let keys = key_file(&["k1"]);
    let client_jwks = pair["jwks"].to_string();
    let idp = Idp::start(&keys, &[("REDIRECT_URI", CALLBACK), ("CLIENT_JWKS", &client_jwks)]);
    let key = authn::jwt::JwtKey::from_pem(
        authn::jwt::Algorithm::RS256,
        pair["public_pem"].as_str().unwrap().as_bytes(),
        Some(pair["private_pem"].as_str().unwrap().as_bytes()),
    )
    .unwrap()
    .with_kid("client-1");
    let provider = OAuth2Provider::new("idp", "web-private_key_jwt")
        .issuer(idp.issuer.clone())
        .redirect_url(CALLBACK)
        .scopes(["email", "profile"])
        .client_auth(ClientAuth::PrivateKeyJwt(key));
    let app = app!(config(provider));
    let (path, cookie, _) = to_callback(&app, "ada").await;
    let answer = finish(&app, &path, &cookie).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "ada <ada@idp.test>"), "{answer:?}");
}
