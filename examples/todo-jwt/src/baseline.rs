//! The code a user would write without authn: a `/whoAmI` that parses the header and decodes
//! the JWT by hand with jsonwebtoken, with the same key and checks. Mounted only when the load
//! benchmark asks for it (`--bench-baseline`), so both run in the same binary and the same run.

use actix_web::{HttpRequest, HttpResponse, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// The decoding key and validation, built once.
pub struct Baseline {
    key: DecodingKey,
    validation: Validation,
}

impl Baseline {
    /// For an HS256 secret, with the server's issuer and audience.
    pub fn new(secret: &[u8], issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.validate_nbf = true;
        Baseline { key: DecodingKey::from_secret(secret), validation }
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
}

/// `GET /baseline/whoAmI`.
/// Answers 404 unless the server was started with `--bench-baseline`.
pub async fn who_am_i(baseline: Option<web::Data<Baseline>>, request: HttpRequest) -> HttpResponse {
    let token =
        request.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let Some(baseline) = baseline else { return HttpResponse::NotFound().finish() };
    match token.map(|t| jsonwebtoken::decode::<Claims>(t, &baseline.key, &baseline.validation)) {
        Some(Ok(data)) => HttpResponse::Ok().content_type("text/plain").body(data.claims.sub),
        _ => HttpResponse::Unauthorized().finish(),
    }
}
