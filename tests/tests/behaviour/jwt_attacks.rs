//! RFC 8725's attack catalogue against the "jwt" strategy: every forged, stripped, confused,
//! expired or oversized token is a 4xx, and the server keeps answering.

use std::time::Duration;

use actix_web::test::init_service;
use actix_web::{App, get};
use authn::jwt::{Algorithm, JwtConfig, JwtKey};
use authn::{CurrentUser, authenticate};
use authn_tests::http::{Answer, get as get_req, send};
use authn_tests::jwt::{self, SECRET, b64, claims, key_file, raw_token, sign, sign_hs256};
use jsonwebtoken::EncodingKey;
use serde_json::json;

#[authenticate("jwt")]
#[get("/me")]
async fn me(user: CurrentUser) -> String {
    user.id.clone()
}

fn hs256_config() -> JwtConfig {
    jwt::config_builder().leeway(Duration::from_secs(5)).build().unwrap()
}

async fn call(config: JwtConfig, token: &str) -> Answer {
    let app = init_service(App::new().app_data(config).service(me)).await;
    send(&app, get_req("/me").insert_header(("authorization", format!("Bearer {token}")))).await
}

async fn rejected(config: JwtConfig, token: &str, reason: &str) {
    let answer = call(config, token).await;
    assert_eq!(answer.status, 401, "{reason}: {}", answer.body);
    assert_eq!(answer.message(), format!("Error verifying token : {reason}"));
    assert!(
        answer.challenges[0].starts_with(r#"Bearer realm="authn", error="invalid_token""#),
        "{:?}",
        answer.challenges
    );
}

#[actix_rt::test]
async fn a_valid_token_passes() {
    let answer = call(hs256_config(), &sign_hs256(&claims())).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, jwt::USER_ID));
}

#[actix_rt::test]
async fn alg_none_in_every_casing() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = raw_token(&json!({"alg": alg, "typ": "JWT"}), &claims(), b"");
        rejected(hs256_config(), &token, "invalid token").await;
    }
    // With a signature made with the real secret: headers_naming_another_algorithm_over_a_real_hmac.
}

#[actix_rt::test]
async fn stripped_or_empty_signature() {
    let token = sign_hs256(&claims());
    let unsigned = &token[..token.rfind('.').unwrap() + 1];
    rejected(hs256_config(), unsigned, "invalid signature").await;
}

#[actix_rt::test]
async fn tampered_payload() {
    let token = sign_hs256(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let mut forged = claims();
    forged["sub"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], b64(forged.to_string().as_bytes()), parts[2]);
    rejected(hs256_config(), &tampered, "invalid signature").await;
}

#[actix_rt::test]
async fn wrong_key() {
    let token = sign(jsonwebtoken::Algorithm::HS256, &EncodingKey::from_secret(&[7u8; 32]), &claims(), None);
    rejected(hs256_config(), &token, "invalid signature").await;
}

#[actix_rt::test]
async fn another_hmac_strength_is_not_accepted() {
    let token = sign(jsonwebtoken::Algorithm::HS512, &EncodingKey::from_secret(&SECRET), &claims(), None);
    rejected(hs256_config(), &token, "invalid algorithm").await;
}

#[actix_rt::test]
async fn rs256_to_hs256_confusion_is_impossible() {
    let public = key_file("rsa-public.pem");
    let config = JwtConfig::builder()
        .key(JwtKey::from_pem(Algorithm::RS256, &public, Some(&key_file("rsa-private.pem"))).unwrap())
        .audience("todo")
        .build()
        .unwrap();
    // The classic attack: HMAC-sign with the public key's bytes and claim HS256.
    let forged = sign(jsonwebtoken::Algorithm::HS256, &EncodingKey::from_secret(&public), &claims(), None);
    rejected(config.clone(), &forged, "invalid algorithm").await;
    // A real RS256 token verifies.
    let real = sign(
        jsonwebtoken::Algorithm::RS256,
        &EncodingKey::from_rsa_pem(&key_file("rsa-private.pem")).unwrap(),
        &claims(),
        None,
    );
    assert_eq!(call(config, &real).await.status, 200);
}

#[actix_rt::test]
async fn expired_and_not_yet_valid() {
    let mut expired = claims();
    expired["exp"] = json!(jwt::now() - 60);
    rejected(hs256_config(), &sign_hs256(&expired), "jwt expired").await;
    let mut early = claims();
    early["nbf"] = json!(jwt::now() + 3600);
    rejected(hs256_config(), &sign_hs256(&early), "jwt not active").await;
    // Within the leeway: accepted.
    let mut skewed = claims();
    skewed["exp"] = json!(jwt::now() - 2);
    assert_eq!(call(hs256_config(), &sign_hs256(&skewed)).await.status, 200);
    // No exp at all: refused.
    let mut eternal = claims();
    eternal.as_object_mut().unwrap().remove("exp");
    assert_eq!(call(hs256_config(), &sign_hs256(&eternal)).await.status, 401);
}

#[actix_rt::test]
async fn wrong_or_missing_issuer_and_audience() {
    let mut wrong_iss = claims();
    wrong_iss["iss"] = json!("evil");
    rejected(hs256_config(), &sign_hs256(&wrong_iss), "jwt issuer invalid").await;
    let mut wrong_aud = claims();
    wrong_aud["aud"] = json!("other-api");
    rejected(hs256_config(), &sign_hs256(&wrong_aud), "jwt audience invalid").await;
    let mut no_iss = claims();
    no_iss.as_object_mut().unwrap().remove("iss");
    rejected(hs256_config(), &sign_hs256(&no_iss), "jwt is missing a required claim").await;
}

#[actix_rt::test]
async fn a_token_for_another_audience_is_refused_when_none_is_configured() {
    let config = JwtConfig::builder().key(JwtKey::hmac(Algorithm::HS256, &SECRET).unwrap()).build().unwrap();
    rejected(config, &sign_hs256(&claims()), "jwt audience invalid").await;
}

#[actix_rt::test]
async fn a_crit_header_is_refused() {
    jwt::install_backend();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.crit = Some(vec!["exp-ext".into()]);
    let token = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&SECRET)).unwrap();
    rejected(hs256_config(), &token, "unsupported critical header").await;
}

#[actix_rt::test]
async fn jwks_with_rotation_and_unknown_kid() {
    let jwks = String::from_utf8(key_file("jwks.json")).unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let hook = seen.clone();
    let config = JwtConfig::builder()
        .jwks_json(jwks)
        .on_unknown_kid(move |kid| hook.lock().unwrap().push(kid.to_owned()))
        .audience("todo")
        .build()
        .unwrap();
    let k1 = EncodingKey::from_rsa_pem(&key_file("rsa-private.pem")).unwrap();
    let k2 = EncodingKey::from_rsa_pem(&key_file("rsa2-private.pem")).unwrap();
    // Both keys of the set are valid at once.
    for (key, kid) in [(&k1, "k1"), (&k2, "k2")] {
        let token = sign(jsonwebtoken::Algorithm::RS256, key, &claims(), Some(kid));
        assert_eq!(call(config.clone(), &token).await.status, 200, "{kid}");
    }
    // A kid naming the other key: its signature does not verify.
    let swapped = sign(jsonwebtoken::Algorithm::RS256, &k1, &claims(), Some("k2"));
    rejected(config.clone(), &swapped, "invalid signature").await;
    let unknown = sign(jsonwebtoken::Algorithm::RS256, &k1, &claims(), Some("k9"));
    rejected(config.clone(), &unknown, "unknown key id").await;
    assert_eq!(*seen.lock().unwrap(), ["k9"]);
    // Rotation: after the set is replaced without k1, k1's tokens stop verifying.
    let only_k2 = serde_json::from_slice::<serde_json::Value>(&key_file("jwks.json")).unwrap();
    let only_k2 = json!({"keys": [only_k2["keys"][1]]});
    config.set_jwks(&only_k2.to_string()).unwrap();
    let token = sign(jsonwebtoken::Algorithm::RS256, &k1, &claims(), Some("k1"));
    rejected(config, &token, "unknown key id").await;
}

#[actix_rt::test]
async fn es256_and_eddsa_keys_verify_their_own_tokens_only() {
    for (alg, jalg, public, private) in [
        (Algorithm::ES256, jsonwebtoken::Algorithm::ES256, "ec-public.pem", "ec-private.pem"),
        (Algorithm::EdDSA, jsonwebtoken::Algorithm::EdDSA, "ed-public.pem", "ed-private.pem"),
    ] {
        let config = JwtConfig::builder()
            .key(JwtKey::from_pem(alg, &key_file(public), Some(&key_file(private))).unwrap())
            .audience("todo")
            .build()
            .unwrap();
        let key = match jalg {
            jsonwebtoken::Algorithm::ES256 => EncodingKey::from_ec_pem(&key_file(private)).unwrap(),
            _ => EncodingKey::from_ed_pem(&key_file(private)).unwrap(),
        };
        assert_eq!(call(config.clone(), &sign(jalg, &key, &claims(), None)).await.status, 200, "{alg:?}");
        assert_eq!(call(config, &sign_hs256(&claims())).await.status, 401, "{alg:?} refuses HS256");
    }
}

#[actix_rt::test]
async fn a_64_kib_token_is_refused_unread() {
    let mut big = claims();
    big["padding"] = json!("x".repeat(64 * 1024));
    rejected(hs256_config(), &sign_hs256(&big), "jwt too large").await;
}

#[actix_rt::test]
async fn configuration_mistakes_are_start_up_errors() {
    let short = JwtKey::hmac(Algorithm::HS256, b"secret").unwrap_err().to_string();
    assert!(short.contains("at least 32 bytes (256 bits)"), "{short}");
    assert!(JwtKey::hmac(Algorithm::HS512, &[1; 32]).is_err());
    assert!(JwtKey::hmac(Algorithm::RS256, &[1; 64]).is_err());
    let none = JwtConfig::builder().build().unwrap_err().to_string();
    assert!(none.contains("there is no default secret"), "{none}");
    let unnamed = JwtConfig::builder()
        .key(JwtKey::hmac(Algorithm::HS256, &[1; 32]).unwrap())
        .key(JwtKey::hmac(Algorithm::HS256, &[2; 32]).unwrap())
        .build()
        .unwrap_err();
    assert!(unnamed.to_string().contains("every key needs a kid"));
    assert!(JwtKey::from_pem(Algorithm::RS256, b"not a pem", None).is_err());
    assert!(JwtConfig::builder().jwks_json(r#"{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}"#).build().is_err());
    assert!(JwtConfig::builder().jwks_file("/nonexistent/jwks.json").build().is_err());
}

#[test]
fn the_unknown_kid_hook_may_replace_the_key_set() {
    // The hook is where an app refreshes its JWK Set; doing so from inside it must not wait on
    // the verification that called it.
    let jwks = String::from_utf8(key_file("jwks.json")).unwrap();
    let slot: std::sync::Arc<std::sync::OnceLock<JwtConfig>> = Default::default();
    let hook_slot = slot.clone();
    let hook_jwks = jwks.clone();
    let config = JwtConfig::builder()
        .jwks_json(jwks)
        .audience("todo")
        .on_unknown_kid(move |_| {
            if let Some(config) = hook_slot.get() {
                config.set_jwks(&hook_jwks).unwrap();
            }
        })
        .build()
        .unwrap();
    slot.set(config.clone()).unwrap();
    let k1 = EncodingKey::from_rsa_pem(&key_file("rsa-private.pem")).unwrap();
    let token = sign(jsonwebtoken::Algorithm::RS256, &k1, &claims(), Some("k9"));
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let service = authn::jwt::JwtTokenService::new(config);
        let result = futures_util::FutureExt::now_or_never(authn::jwt::TokenService::verify_token(&service, &token));
        let _ = done.send(result.map(|r| r.is_ok()));
    });
    let verified =
        finished.recv_timeout(std::time::Duration::from_secs(10)).expect("verification deadlocked in the hook");
    assert_eq!(verified, Some(false), "the unknown kid is still refused");
}

/// Issue: the unknown-kid hook (where apps fetch their JWK Set) ran on every request naming a
/// kid of the attacker's choosing.
#[actix_rt::test]
async fn random_kids_cannot_flood_the_unknown_kid_hook() {
    let jwks = String::from_utf8(key_file("jwks.json")).unwrap();
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let hook = calls.clone();
    let config = JwtConfig::builder()
        .jwks_json(jwks)
        .audience("todo")
        .unknown_kid_cooldown(Duration::from_secs(1))
        .on_unknown_kid(move |kid| hook.lock().unwrap().push(kid.to_owned()))
        .build()
        .unwrap();
    let k1 = EncodingKey::from_rsa_pem(&key_file("rsa-private.pem")).unwrap();
    let service = authn::jwt::JwtTokenService::new(config.clone());
    let verify = |kid: String| {
        let token = sign(jsonwebtoken::Algorithm::RS256, &k1, &claims(), Some(&kid));
        let service = service.clone();
        async move { authn::jwt::TokenService::verify_token(&service, &token).await.is_err() }
    };
    // Signed first: the flood itself must fit in the cooldown.
    let flood: Vec<_> =
        (0..500).map(|i| sign(jsonwebtoken::Algorithm::RS256, &k1, &claims(), Some(&format!("random-{i}")))).collect();
    for token in &flood {
        assert!(authn::jwt::TokenService::verify_token(&service, token).await.is_err());
    }
    assert_eq!(*calls.lock().unwrap(), ["random-0"], "one call per cooldown");
    // Known kids never touch the limiter.
    assert!(!verify("k1".into()).await);
    actix_rt::time::sleep(Duration::from_millis(1100)).await;
    assert!(verify("random-0".into()).await, "remembered kids expire with the cooldown too");
    assert!(verify("fresh".into()).await);
    assert!(verify("fresh".into()).await);
    assert_eq!(calls.lock().unwrap().len(), 2, "{:?}", calls.lock().unwrap());
}

/// Issue: `set_jwks` replaced every verification key, including keys configured in code.
#[actix_rt::test]
async fn replacing_the_jwk_set_keeps_keys_configured_locally() {
    let jwks = String::from_utf8(key_file("jwks.json")).unwrap();
    let config = JwtConfig::builder()
        .key(JwtKey::hmac(Algorithm::HS256, &SECRET).unwrap().with_kid("local"))
        .jwks_json(jwks)
        .audience("todo")
        .build()
        .unwrap();
    let local = sign(jsonwebtoken::Algorithm::HS256, &EncodingKey::from_secret(&SECRET), &claims(), Some("local"));
    assert_eq!(call(config.clone(), &local).await.status, 200);
    let only_k2 = serde_json::from_slice::<serde_json::Value>(&key_file("jwks.json")).unwrap();
    config.set_jwks(&json!({"keys": [only_k2["keys"][1]]}).to_string()).unwrap();
    assert_eq!(call(config.clone(), &local).await.status, 200, "the local key survives");
    let k1 = EncodingKey::from_rsa_pem(&key_file("rsa-private.pem")).unwrap();
    rejected(config, &sign(jsonwebtoken::Algorithm::RS256, &k1, &claims(), Some("k1")), "unknown key id").await;
}

/// A header naming another algorithm over a signature made with the real secret: the catalogue
/// promised `alg: none` signed with the secret; here it is, with HS384 and HS512 headers too.
#[actix_rt::test]
async fn headers_naming_another_algorithm_over_a_real_hmac_are_refused() {
    jwt::install_backend();
    let key = EncodingKey::from_secret(&SECRET);
    for (header_alg, signed_with) in [
        ("none", jsonwebtoken::Algorithm::HS256),
        ("None", jsonwebtoken::Algorithm::HS256),
        ("HS384", jsonwebtoken::Algorithm::HS384),
        ("HS512", jsonwebtoken::Algorithm::HS512),
        ("HS384", jsonwebtoken::Algorithm::HS256),
        ("HS512", jsonwebtoken::Algorithm::HS256),
    ] {
        let header = b64(json!({"alg": header_alg, "typ": "JWT"}).to_string().as_bytes());
        let payload = b64(claims().to_string().as_bytes());
        let message = format!("{header}.{payload}");
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, signed_with).unwrap();
        let token = format!("{message}.{signature}");
        let answer = call(hs256_config(), &token).await;
        assert_eq!(answer.status, 401, "{header_alg} signed with {signed_with:?}: {}", answer.body);
    }
}

/// Two `Authorization` headers: which one a proxy kept is anybody's guess, so neither counts
/// (taking the first, valid one would let this pass).
#[actix_rt::test]
async fn a_repeated_authorization_header_is_refused() {
    let valid = format!("Bearer {}", sign_hs256(&claims()));
    let app = init_service(App::new().app_data(hs256_config()).service(me)).await;
    for pair in [[valid.as_str(), "Bearer x.y.z"], ["Bearer x.y.z", valid.as_str()], [valid.as_str(), valid.as_str()]] {
        let request =
            get_req("/me").append_header(("authorization", pair[0])).append_header(("authorization", pair[1]));
        let answer = send(&app, request).await;
        assert_eq!(answer.status, 401, "{pair:?}: {}", answer.body);
    }
}
