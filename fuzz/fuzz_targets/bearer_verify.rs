//! Any bytes as an `Authorization` header (or a token) through the "jwt" strategy and the token
//! service: no input may panic, and none may authenticate without the secret.

#![no_main]

use std::sync::LazyLock;

use actix_web::http::header::HeaderValue;
use actix_web::test::TestRequest;
use authn::jwt::{Algorithm, JwtConfig, JwtKey, JwtStrategy, JwtTokenService, TokenService};
use authn::{AuthenticationStrategy, Outcome, StrategyOptions};
use futures_util::FutureExt;
use libfuzzer_sys::fuzz_target;

static CONFIG: LazyLock<JwtConfig> = LazyLock::new(|| {
    JwtConfig::builder()
        .key(JwtKey::hmac(Algorithm::HS256, b"fuzzing-secret-fuzzing-secret-32").unwrap())
        .issuer("fuzz")
        .build()
        .unwrap()
});

fuzz_target!(|data: &[u8]| {
    // As a header value, when actix would accept it as one.
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let request = TestRequest::default()
            .insert_header(("authorization", value))
            .app_data(CONFIG.clone())
            .to_http_request();
        let outcome = JwtStrategy.authenticate(&request, &StrategyOptions::EMPTY).now_or_never();
        if let Some(Ok(Outcome::User(_))) = outcome {
            panic!("authenticated without a token signed with the secret: {data:?}");
        }
    }
    // As a bare token.
    if let Ok(token) = std::str::from_utf8(data) {
        let service = JwtTokenService::new(CONFIG.clone());
        assert!(!matches!(service.verify_token(token).now_or_never(), Some(Ok(_))));
    }
});
