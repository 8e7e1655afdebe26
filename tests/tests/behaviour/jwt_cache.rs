//! The verified-token cache: a cached answer is always the answer a full verification gives
//! (the uncached configuration is the oracle), forged tokens never enter, revocation and key
//! replacement take effect at once, expiry is honoured, and a flood cannot push out the tokens
//! in use or grow memory past the bound.

use std::sync::Arc;
use std::time::Duration;

use authn::jwt::{JwtConfig, JwtTokenService, MemoryTokenStore, TokenService};
use authn_tests::jwt::{claims, config_builder, now, sign_hs256};
use futures_util::FutureExt;
use proptest::prelude::*;

fn verify(service: &JwtTokenService, token: &str) -> Result<(String, Option<String>), String> {
    let verified = service.verify_token(token).now_or_never().expect("no I/O");
    verified.map(|v| (v.profile.id, v.jti)).map_err(|e| e.to_string())
}

fn cached(bytes: u64) -> JwtConfig {
    config_builder().verified_token_cache(bytes).build().unwrap()
}

#[test]
fn a_token_seen_again_is_answered_from_the_cache_with_the_same_profile() {
    let config = cached(1 << 20);
    let service = JwtTokenService::new(config.clone());
    let token = sign_hs256(&claims());
    let first = service.verify_token(&token).now_or_never().unwrap().unwrap();
    let again = service.verify_token(&token).now_or_never().unwrap().unwrap();
    assert_eq!(first, again);
    let stats = config.cache_stats();
    assert_eq!((stats.tokens, stats.hits, stats.misses), (1, 1, 1), "{stats:?}");
}

#[test]
fn forged_and_altered_tokens_never_enter_nor_match() {
    let config = cached(1 << 20);
    let service = JwtTokenService::new(config.clone());
    let token = sign_hs256(&claims());
    assert!(verify(&service, &token).is_ok());
    // The cached token with one signature character changed, and with its claims changed.
    let mut altered = token.clone().into_bytes();
    let last = altered.len() - 2;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut other = claims();
    other["sub"] = "mallory".into();
    let payload = authn_tests::jwt::b64(other.to_string().as_bytes());
    parts[1] = &payload;
    let swapped = parts.join(".");
    for forged in [altered, swapped, format!("{token}x"), token[..token.len() - 1].to_owned()] {
        for _ in 0..3 {
            assert!(verify(&service, &forged).unwrap_err().contains("Error verifying token"), "{forged}");
        }
    }
    assert_eq!(config.cache_stats().tokens, 1, "only the genuine token is cached");
}

#[test]
fn revocation_is_checked_on_every_request() {
    let store = Arc::new(MemoryTokenStore::new());
    let config = config_builder().store(store).build().unwrap();
    let service = JwtTokenService::new(config.clone());
    let token = sign_hs256(&claims());
    assert!(verify(&service, &token).is_ok());
    assert!(verify(&service, &token).is_ok());
    assert_eq!(config.cache_stats().hits, 1);
    assert!(service.revoke_token(&token).now_or_never().unwrap().unwrap());
    let refused = service.verify_token(&token).now_or_never().expect("in memory").unwrap_err();
    assert_eq!(refused.to_string(), "401 Error verifying token : jwt revoked");
}

#[test]
fn replacing_the_keys_empties_the_cache() {
    let jwks = |k: &str| {
        format!(
            r#"{{"keys":[{{"kty":"oct","kid":"{k}","alg":"HS256","k":"{}"}}]}}"#,
            authn_tests::jwt::b64(&authn_tests::jwt::SECRET)
        )
    };
    let config = JwtConfig::builder().jwks_json(jwks("one")).issuer("authn-tests").audience("todo").build().unwrap();
    let service = JwtTokenService::new(config.clone());
    let key = jsonwebtoken::EncodingKey::from_secret(&authn_tests::jwt::SECRET);
    let token = authn_tests::jwt::sign(jsonwebtoken::Algorithm::HS256, &key, &claims(), Some("one"));
    assert!(verify(&service, &token).is_ok());
    assert!(verify(&service, &token).is_ok());
    assert_eq!(config.cache_stats().tokens, 1);
    // Rotation: the key "one" is gone; its tokens no longer verify, cached or not.
    config.set_jwks(&jwks("two")).unwrap();
    assert_eq!(config.cache_stats().tokens, 0);
    assert_eq!(verify(&service, &token).unwrap_err(), "401 Error verifying token : unknown key id");
}

#[test]
fn a_cached_token_expires_on_time() {
    let config = config_builder().leeway(Duration::ZERO).build().unwrap();
    let service = JwtTokenService::new(config.clone());
    let mut c = claims();
    c["exp"] = (now() + 1).into();
    let token = sign_hs256(&c);
    assert!(verify(&service, &token).is_ok());
    assert!(verify(&service, &token).is_ok());
    assert_eq!(config.cache_stats().hits, 1);
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(verify(&service, &token).unwrap_err(), "401 Error verifying token : jwt expired");
    assert_eq!(config.cache_stats().tokens, 0);
}

#[test]
fn a_flood_of_distinct_tokens_keeps_the_working_set_and_the_bound() {
    let max = 64 * 1024;
    let config = cached(max);
    let service = JwtTokenService::new(config.clone());
    let working: Vec<String> = (0..8)
        .map(|i| {
            let mut c = claims();
            c["jti"] = format!("working-{i}").into();
            sign_hs256(&c)
        })
        .collect();
    for _ in 0..3 {
        working.iter().for_each(|t| assert!(verify(&service, t).is_ok()));
    }
    // 6,000 valid tokens, each seen once: some 80 times what the bound holds.
    for i in 0..6_000 {
        let mut c = claims();
        c["jti"] = format!("flood-{i}").into();
        c["padding"] = "x".repeat(200).into();
        assert!(verify(&service, &sign_hs256(&c)).is_ok());
        if i % 500 == 0 {
            working.iter().for_each(|t| assert!(verify(&service, t).is_ok()));
        }
    }
    let before = config.cache_stats();
    assert!(before.bytes <= max, "{before:?}");
    working.iter().for_each(|t| assert!(verify(&service, t).is_ok()));
    let after = config.cache_stats();
    assert_eq!(after.hits - before.hits, working.len() as u64, "the working set was pushed out: {after:?}");
}

/// The cache's answers against the uncached configuration's, on random mixes of genuine,
/// altered, expired, immature and foreign tokens presented in random order and repeated.
#[derive(Debug, Clone)]
enum Kind {
    Genuine,
    Expired,
    Immature,
    OtherAudience,
    Altered,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        4 => Just(Kind::Genuine),
        1 => Just(Kind::Expired),
        1 => Just(Kind::Immature),
        1 => Just(Kind::OtherAudience),
        1 => Just(Kind::Altered),
    ]
}

fn token(kind: &Kind, n: usize) -> String {
    let mut c = claims();
    c["jti"] = format!("p-{n}").into();
    c["sub"] = format!("user-{n}").into();
    match kind {
        Kind::Genuine | Kind::Altered => {}
        Kind::Expired => c["exp"] = (now() - 3600).into(),
        Kind::Immature => c["nbf"] = (now() + 3600).into(),
        Kind::OtherAudience => c["aud"] = "someone-else".into(),
    }
    let token = sign_hs256(&c);
    if let Kind::Altered = kind { format!("{}A", &token[..token.len() - 1]) } else { token }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_cache_answers_exactly_what_a_full_verification_answers(
        kinds in proptest::collection::vec(kind(), 1..12),
        order in proptest::collection::vec(any::<prop::sample::Index>(), 1..60),
    ) {
        let tokens: Vec<String> = kinds.iter().enumerate().map(|(n, k)| token(k, n)).collect();
        let with_cache = JwtTokenService::new(cached(1 << 20));
        let oracle = JwtTokenService::new(cached(0));
        for index in order {
            let token = index.get(&tokens);
            prop_assert_eq!(verify(&with_cache, token), verify(&oracle, token));
        }
    }
}
