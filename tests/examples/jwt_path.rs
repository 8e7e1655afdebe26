//! Runs one path 20 000 times, for instruction counting with callgrind (deterministic where the
//! machine's timings are not): `bash bench/callgrind-jwt.sh`.
//!
//! `jwt_path bare` decodes with jsonwebtoken alone; `jwt_path strategy` runs authn's "jwt"
//! strategy on a request carrying the same HS256 token, verifying it in full every time;
//! `jwt_path cached` the same with the verified-token cache on (the default).

use actix_web::test::TestRequest;
use authn::jwt::JwtStrategy;
use authn::{AuthenticationStrategy, StrategyOptions};
use authn_tests::jwt::{BareClaims, SECRET, bare_validation, claims, config_builder, sign_hs256};
use futures_util::FutureExt;
use jsonwebtoken::DecodingKey;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let cache_bytes = if mode == "cached" { 4 << 20 } else { 0 };
    let config = config_builder().verified_token_cache(cache_bytes).build().unwrap();
    let token = sign_hs256(&claims());
    let request = TestRequest::default()
        .insert_header(("authorization", format!("Bearer {token}")))
        .app_data(config)
        .to_http_request();
    let key = DecodingKey::from_secret(&SECRET);
    let validation = bare_validation(jsonwebtoken::Algorithm::HS256);
    for _ in 0..20_000 {
        match mode.as_str() {
            "bare" => {
                std::hint::black_box(jsonwebtoken::decode::<BareClaims>(&token, &key, &validation).unwrap());
            }
            "strategy" | "cached" => {
                let outcome = JwtStrategy.authenticate(&request, &StrategyOptions::EMPTY).now_or_never();
                std::hint::black_box(outcome.unwrap().unwrap());
            }
            _ => panic!("usage: jwt_path bare|strategy|cached"),
        }
    }
}
