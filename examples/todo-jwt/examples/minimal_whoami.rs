//! What a user would write instead of authn, in its own process: a minimal actix-web server
//! whose `/whoAmI` reads `Authorization: Bearer`, decodes the JWT with jsonwebtoken (HS256,
//! issuer and audience checked, as todo-jwt's) and answers the subject; and `/ping`. No
//! middleware, no logging, no revocation: the floor the load benchmark compares todo-jwt with.
//!
//!   JWT_SECRET=... PORT=3998 WORKERS=1 cargo run --release -p todo-jwt --example minimal_whoami

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, get, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

struct Keys {
    key: DecodingKey,
    validation: Validation,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
}

#[get("/whoAmI")]
async fn who_am_i(keys: web::Data<Keys>, request: HttpRequest) -> HttpResponse {
    let token =
        request.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match token.map(|t| jsonwebtoken::decode::<Claims>(t, &keys.key, &keys.validation)) {
        Some(Ok(data)) => HttpResponse::Ok().content_type("text/plain").body(data.claims.sub),
        _ => HttpResponse::Unauthorized().finish(),
    }
}

#[get("/ping")]
async fn ping() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("pong")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    // jsonwebtoken's default backend, as authn's default (both backends are compiled here).
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    let secret = std::env::var("JWT_SECRET").expect("JWT_SECRET");
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3998);
    let workers: usize = std::env::var("WORKERS").ok().and_then(|w| w.parse().ok()).unwrap_or(1);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&["todo-jwt"]);
    validation.set_audience(&["todo-jwt"]);
    validation.validate_nbf = true;
    let keys = web::Data::new(Keys { key: DecodingKey::from_secret(secret.as_bytes()), validation });
    HttpServer::new(move || App::new().app_data(keys.clone()).service(who_am_i).service(ping))
        .workers(workers)
        .bind(("127.0.0.1", port))?
        .run()
        .await
}
