//! The built-in strategies over a real socket, as a client meets them: success, failure and the
//! challenge header for "basic", "api-key" and an adapted actix-web-httpauth extractor, all on
//! one route, with an HTTP client on the other end.

use std::sync::Arc;

use actix_web::{App, get, web};
use actix_web_httpauth::extractors::bearer::BearerAuth;
use authn::adapter::Verdict;
use authn::api_key::{ApiKeyConfig, MemoryApiKeyStore};
use authn::basic::BasicConfig;
use authn::users::{DefaultUserService, MemoryUserStore, StoredUser};
use authn::{CurrentUser, UserProfile, authenticate, strategy};
use authn_tests::http::serve;
use authn_tests::jwt::fast_hasher;

#[strategy("static-bearer")]
async fn static_bearer(auth: BearerAuth) -> Verdict {
    match auth.token() {
        "opaque-1" => Verdict::Success(UserProfile::new("bearer-user")),
        _ => Verdict::fail("Unknown token."),
    }
}

#[authenticate("api-key", "basic", "static-bearer")]
#[get("/whoAmI")]
async fn who_am_i(user: CurrentUser) -> String {
    user.id.clone()
}

struct Server {
    base: String,
    key: String,
    handle: actix_web::dev::ServerHandle,
}

async fn start() -> Server {
    let hasher = fast_hasher();
    let store = MemoryUserStore::new();
    store.insert(StoredUser {
        id: "7".into(),
        email: "ada".into(),
        name: None,
        password_hash: hasher.hash("lovelace").await.unwrap(),
        claims: Default::default(),
    });
    let users = Arc::new(DefaultUserService::new(Arc::new(store)).with_hasher(hasher));
    let keys = MemoryApiKeyStore::new();
    keys.add_client(UserProfile::new("service"));
    let key = keys.issue("service", None).unwrap();
    let (address, handle) = serve(move || {
        App::new()
            .app_data(BasicConfig::shared(users.clone()))
            .app_data(web::Data::new(ApiKeyConfig::new(keys.clone())))
            .service(who_am_i)
    });
    Server { base: format!("http://{address}"), key, handle }
}

async fn get_with(server: &Server, header: Option<(&str, &str)>) -> (u16, Vec<String>, String) {
    let mut request = reqwest::Client::new().get(format!("{}/whoAmI", server.base));
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenges =
        response.headers().get_all("www-authenticate").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    (status, challenges, response.text().await.unwrap())
}

#[actix_rt::test]
async fn each_strategy_succeeds_fails_and_challenges_over_http() {
    let server = start().await;

    assert_eq!(get_with(&server, Some(("x-api-key", &server.key))).await.2, "service");
    assert_eq!(get_with(&server, Some(("authorization", "Basic YWRhOmxvdmVsYWNl"))).await.2, "7");
    assert_eq!(get_with(&server, Some(("authorization", "Bearer opaque-1"))).await.2, "bearer-user");

    let (status, _, body) = get_with(&server, Some(("x-api-key", "0123456789abcdef.nope"))).await;
    assert_eq!(status, 401);
    assert!(body.contains("Invalid API key."), "{body}");
    let (status, _, body) = get_with(&server, Some(("authorization", "Basic YWRhOnhlbm8="))).await;
    assert_eq!(status, 401);
    assert!(body.contains("Invalid email or password."), "{body}");
    let (status, _, body) = get_with(&server, Some(("authorization", "Bearer forged"))).await;
    assert_eq!(status, 401);
    assert!(body.contains("Unknown token."), "{body}");

    // Nothing sent: every strategy's challenge, in the route's order.
    let (status, challenges, _) = get_with(&server, None).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenges,
        [r#"ApiKey realm="authn", header="x-api-key""#, r#"Basic realm="authn", charset="UTF-8""#, "static-bearer"]
    );
    server.handle.stop(true).await;
}
