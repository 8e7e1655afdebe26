//! JWT fixtures: a configured app with LoopBack's user routes, and token crafting.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use authn::jwt::{Algorithm, JwtConfig, JwtKey, MemoryTokenStore, RefreshTokenService, TokenStore};
use authn::users::{Credentials, DefaultUserService, MemoryUserStore, PasswordHasher, StoredUser, UserService};
use authn::{CurrentUser, authenticate};
use base64::Engine;
use serde::Deserialize;

/// The HS256 secret of the test app.
pub const SECRET: [u8; 32] = *b"0123456789abcdef0123456789abcdef";
/// The test user.
pub const EMAIL: &str = "usertest@loopback.io";
/// Its password.
pub const PASSWORD: &str = "p4ssw0rd!";
/// Its id.
pub const USER_ID: &str = "f48b7167-8d95-451c-bbfb-d48c5a4c3c5e";

/// Cheap argon2 parameters: tests hash and verify many times (in parallel, so with a bound of
/// its own rather than the process-wide one).
pub fn fast_hasher() -> PasswordHasher {
    PasswordHasher::for_tests().with_limit(authn::users::HashingLimit::new(64, 1024))
}

/// A key by file name from `fixtures/keys`.
pub fn key_file(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"))).expect("test key")
}

/// The test app's services.
#[derive(Clone)]
pub struct Services {
    /// The configuration (also app data).
    pub config: JwtConfig,
    /// Users.
    pub users: Arc<DefaultUserService>,
    /// Refresh tokens.
    pub refresh: RefreshTokenService,
}

/// An HS256 configuration over `store`, with the test user registered.
pub async fn services(store: Arc<dyn TokenStore>) -> Services {
    let config = JwtConfig::builder()
        .key(JwtKey::hmac(Algorithm::HS256, &SECRET).expect("32-byte secret"))
        .issuer("authn-tests")
        .audience("todo")
        .realm("todo")
        .access_token_ttl(Duration::from_secs(600))
        .store(store)
        .build()
        .expect("valid configuration");
    let user_store = Arc::new(MemoryUserStore::new());
    let users = Arc::new(DefaultUserService::new(user_store.clone()).with_hasher(fast_hasher()));
    let hash = users.hasher().hash(PASSWORD).await.expect("hash");
    let mut claims = serde_json::Map::new();
    claims.insert("role".into(), "tester".into());
    claims.insert("scopes".into(), serde_json::json!(["todo:read"]));
    user_store.insert(StoredUser {
        id: USER_ID.into(),
        email: EMAIL.into(),
        name: Some("Test User".into()),
        password_hash: hash,
        claims,
    });
    let refresh = RefreshTokenService::new(config.clone(), users.clone()).expect("store configured");
    Services { config, users, refresh }
}

/// Services over an in-memory store.
pub async fn memory_services() -> Services {
    services(Arc::new(MemoryTokenStore::new())).await
}

#[authenticate(skip)]
#[post("/users/login")]
async fn login(
    services: web::Data<Services>,
    request: HttpRequest,
    credentials: web::Json<Credentials>,
) -> actix_web::Result<HttpResponse> {
    let profile = services.users.verify_credentials_from(&credentials, &authn::events::Origin::of(&request)).await?;
    let token = authn::jwt::JwtTokenService::new(services.config.clone());
    let issued = authn::jwt::TokenService::generate_token(&token, &profile)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"token": issued.token})))
}

#[authenticate(skip)]
#[post("/users/refresh-login")]
async fn refresh_login(
    services: web::Data<Services>,
    credentials: web::Json<Credentials>,
) -> actix_web::Result<authn::jwt::TokenPair> {
    let profile = services.users.verify_credentials(&credentials).await?;
    Ok(services.refresh.issue(&profile).await?)
}

/// The body of `/refresh` and `/users/logout`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshGrant {
    /// The refresh token.
    pub refresh_token: String,
}

#[authenticate(skip)]
#[post("/refresh")]
async fn refresh_tokens(
    services: web::Data<Services>,
    request: HttpRequest,
    grant: web::Json<RefreshGrant>,
) -> actix_web::Result<authn::jwt::TokenPair> {
    Ok(services.refresh.refresh_from(&grant.refresh_token, &authn::events::Origin::of(&request)).await?)
}

#[authenticate("jwt")]
#[post("/users/logout")]
async fn logout(
    services: web::Data<Services>,
    request: HttpRequest,
    grant: web::Json<RefreshGrant>,
    _user: CurrentUser,
) -> actix_web::Result<HttpResponse> {
    let access = services.config.presented_token(&request);
    services.refresh.logout_from(Some(&grant.refresh_token), access, &authn::events::Origin::of(&request)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[authenticate("jwt")]
#[get("/whoAmI")]
async fn who_am_i(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body(user.id.clone())
}

#[authenticate("jwt")]
#[get("/profile")]
async fn show_profile(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(user.profile())
}

/// The identity as a handler's own type sees it.
#[derive(Deserialize)]
pub struct Identity {
    pub id: String,
    pub email: Option<String>,
}

#[authenticate("jwt")]
#[get("/identity")]
async fn identity(user: CurrentUser<Identity>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"id": user.id, "email": user.email, "logged_as": user.profile().id}))
}

#[authenticate("jwt", scopes = ["todo:write"])]
#[post("/todos")]
async fn create_todo(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("jwt", scopes = ["todo:read"])]
#[get("/todos")]
async fn list_todos(user: CurrentUser) -> String {
    user.id.clone()
}

/// Mounts the routes; `services` becomes app data, its config too.
pub fn routes(services: Services) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(services.config.clone())
            .app_data(web::Data::new(services))
            .service(login)
            .service(refresh_login)
            .service(refresh_tokens)
            .service(logout)
            .service(who_am_i)
            .service(show_profile)
            .service(identity)
            .service(create_todo)
            .service(list_todos);
    }
}

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token assembled by hand: whatever header, payload and signature an attacker likes.
pub fn raw_token(header: &serde_json::Value, payload: &serde_json::Value, signature: &[u8]) -> String {
    format!("{}.{}.{}", b64(header.to_string().as_bytes()), b64(payload.to_string().as_bytes()), b64(signature))
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Valid claims for the test app, to tweak.
pub fn claims() -> serde_json::Value {
    let now = now();
    serde_json::json!({"sub": USER_ID, "iss": "authn-tests", "aud": "todo", "iat": now, "exp": now + 600, "jti": "t-1"})
}

/// This crate enables both jsonwebtoken backends (the benchmark compares them), so one must be
/// picked before jsonwebtoken is used directly, as authn does for itself.
pub fn install_backend() {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}

/// Signs `claims` with `key` and `alg`, with optional extra header fields.
pub fn sign(
    alg: jsonwebtoken::Algorithm,
    key: &jsonwebtoken::EncodingKey,
    claims: &serde_json::Value,
    kid: Option<&str>,
) -> String {
    install_backend();
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("signing")
}

/// Signs with the test app's secret.
pub fn sign_hs256(claims: &serde_json::Value) -> String {
    sign(jsonwebtoken::Algorithm::HS256, &jsonwebtoken::EncodingKey::from_secret(&SECRET), claims, None)
}

/// What a hand-written handler would decode: the benchmarks' baseline.
#[allow(dead_code)]
#[derive(Deserialize)]
pub struct BareClaims {
    sub: String,
    exp: u64,
    iat: u64,
    iss: String,
    aud: String,
    jti: String,
}

/// The checks the test app's configuration makes, for a bare `jsonwebtoken::decode`.
pub fn bare_validation(alg: jsonwebtoken::Algorithm) -> jsonwebtoken::Validation {
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.set_issuer(&["authn-tests"]);
    validation.set_audience(&["todo"]);
    validation.validate_nbf = true;
    validation
}

/// The test app's HS256 key, issuer and audience, to finish with other settings.
pub fn config_builder() -> authn::jwt::JwtConfigBuilder {
    JwtConfig::builder()
        .key(JwtKey::hmac(Algorithm::HS256, &SECRET).expect("32-byte secret"))
        .issuer("authn-tests")
        .audience("todo")
}
