//! `GET /whoAmI` through authn and through the hand-written baseline, in process, N times: the
//! program `bench/callgrind-whoami.sh` counts instructions of, to see where the authenticated
//! path spends what the hand-written one does not.
//!
//!     whoami_path <authn|authn-uncached|forged|baseline|ping> <requests>

use std::sync::Arc;

use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, web};
use authn::UserProfile;
use authn::jwt::{Algorithm, JwtConfig, JwtKey, JwtTokenService, SqliteStore, TokenService};
use authn::users::DefaultUserService;
use todo_jwt::baseline::Baseline;
use todo_jwt::db::Database;
use todo_jwt::{AppState, configure_with_baseline};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str);
    let path = match mode {
        Some("authn" | "authn-uncached" | "forged") => "/whoAmI",
        Some("baseline") => "/baseline/whoAmI",
        Some("ping") => "/ping",
        _ => return Err("usage: whoami_path <authn|authn-uncached|forged|baseline|ping> <requests>".into()),
    };
    let cache_bytes = if mode == Some("authn-uncached") { 0 } else { 4 << 20 };
    let requests: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let key = [7u8; 32];
    let db = Database::open_in_memory()?;
    let config = JwtConfig::builder()
        .key(JwtKey::hmac(Algorithm::HS256, &key)?)
        .issuer("todo-jwt")
        .audience("todo-jwt")
        .realm("todo-jwt")
        .store(Arc::new(SqliteStore::open_in_memory()?))
        .verified_token_cache(cache_bytes)
        .build()?;
    let users = DefaultUserService::new(Arc::new(db.clone()));
    let state = web::Data::new(AppState::new(db, config.clone(), users)?);
    let baseline = web::Data::new(Baseline::new(&key, "todo-jwt", "todo-jwt"));
    let token = JwtTokenService::new(config.clone())
        .generate_token(&UserProfile::new("user-1").with_email("load@bench.io"))?
        .token;
    // A forgery costs a full verification: the token with its signature's last characters altered.
    let (token, status) =
        if mode == Some("forged") { (format!("{}AAAAA", &token[..token.len() - 5]), 401) } else { (token, 200) };
    actix_web::rt::System::new().block_on(async move {
        let app = init_service(App::new().configure(configure_with_baseline(config, state, baseline))).await;
        for _ in 0..requests {
            let request =
                TestRequest::get().uri(path).insert_header(("authorization", format!("Bearer {token}"))).to_request();
            let response = call_service(&app, request).await;
            assert_eq!(response.status(), status);
        }
    });
    Ok(())
}
