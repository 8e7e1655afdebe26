//! The minimal server of `minimal_whoami.rs`, written with authn instead: the same `/whoAmI`
//! and `/ping`, the token checked by the `"jwt"` strategy (HS256, issuer and audience, as
//! todo-jwt's; no revocation store). The load benchmark compares the two processes, so what
//! differs is authn alone: its CPU per request and its memory.
//!
//!   JWT_SECRET=... PORT=3997 WORKERS=1 cargo run --release -p todo-jwt --example minimal_authn

use actix_web::{App, HttpResponse, HttpServer, get};
use authn::jwt::{Algorithm, JwtConfig, JwtKey};
use authn::{CurrentUser, authenticate};

#[authenticate("jwt")]
#[get("/whoAmI")]
async fn who_am_i(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body(user.id.clone())
}

#[get("/ping")]
async fn ping() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("pong")
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("JWT_SECRET")?;
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3997);
    let workers: usize = std::env::var("WORKERS").ok().and_then(|w| w.parse().ok()).unwrap_or(1);
    let cache: u64 = std::env::var("TOKEN_CACHE_BYTES").ok().and_then(|b| b.parse().ok()).unwrap_or(4 << 20);
    let config = JwtConfig::builder()
        .key(JwtKey::hmac(Algorithm::HS256, secret.as_bytes())?)
        .issuer("todo-jwt")
        .audience("todo-jwt")
        .verified_token_cache(cache)
        .build()?;
    authn::validate_or_exit(&[&config]);
    HttpServer::new(move || App::new().app_data(config.clone()).service(who_am_i).service(ping))
        .workers(workers)
        .bind(("127.0.0.1", port))?
        .run()
        .await?;
    Ok(())
}
