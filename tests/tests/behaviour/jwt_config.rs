//! The configuration knobs, each through a request: token sources, maximum age, required
//! claims, which claims go into issued tokens, PS256 and DER keys.

use std::time::Duration;

use actix_web::test::{TestRequest, init_service};
use actix_web::{App, HttpResponse, get};
use authn::jwt::{Algorithm, JwtConfig, JwtConfigBuilder, JwtKey, JwtTokenService, TokenService, TokenSource};
use authn::{CurrentUser, UserProfile, authenticate};
use authn_tests::http::{Answer, send};
use authn_tests::jwt::{claims, config_builder, key_file, now, sign, sign_hs256};
use futures_util::FutureExt;
use serde_json::json;

#[authenticate("jwt")]
#[get("/me")]
async fn me(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(user.profile())
}

fn builder() -> JwtConfigBuilder {
    config_builder()
}

async fn call(config: JwtConfig, request: TestRequest) -> Answer {
    let app = init_service(App::new().app_data(config).service(me)).await;
    send(&app, request.uri("/me")).await
}

#[actix_rt::test]
async fn cookie_header_and_query_sources_when_configured() {
    let token = sign_hs256(&claims());
    let config = builder()
        .token_sources([
            TokenSource::AuthorizationHeader,
            TokenSource::Cookie("access_token".into()),
            TokenSource::Header("x-access-token".into()),
            TokenSource::Query("access_token".into()),
        ])
        .build()
        .unwrap();
    let cookie = TestRequest::get().insert_header(("cookie", format!("theme=dark; access_token={token}")));
    assert_eq!(call(config.clone(), cookie).await.status, 200);
    let header = TestRequest::get().insert_header(("x-access-token", token.clone()));
    assert_eq!(call(config.clone(), header).await.status, 200);
    let query = TestRequest::get().uri(&format!("/me?x=1&access_token={token}"));
    let app = init_service(App::new().app_data(config).service(me)).await;
    assert_eq!(send(&app, query).await.status, 200);
}

#[actix_rt::test]
async fn the_query_string_is_never_read_unless_configured() {
    let token = sign_hs256(&claims());
    let app = init_service(App::new().app_data(builder().build().unwrap()).service(me)).await;
    let answer = send(&app, TestRequest::get().uri(&format!("/me?access_token={token}"))).await;
    assert_eq!((answer.status, answer.message().as_str()), (401, "Authorization header not found."));
    let cookie = TestRequest::get().uri("/me").insert_header(("cookie", format!("access_token={token}")));
    assert_eq!(send(&app, cookie).await.status, 401);
}

#[actix_rt::test]
async fn max_age_refuses_old_tokens_and_requires_iat() {
    let config = builder().max_age(Duration::from_secs(3600)).leeway(Duration::from_secs(5)).build().unwrap();
    let mut old = claims();
    old["iat"] = json!(now() - 7200);
    let answer = call(
        config.clone(),
        TestRequest::get().insert_header(("authorization", format!("Bearer {}", sign_hs256(&old)))),
    )
    .await;
    assert_eq!((answer.status, answer.message().as_str()), (401, "Error verifying token : maxAge exceeded"));
    let mut no_iat = claims();
    no_iat.as_object_mut().unwrap().remove("iat");
    let answer = call(
        config.clone(),
        TestRequest::get().insert_header(("authorization", format!("Bearer {}", sign_hs256(&no_iat)))),
    )
    .await;
    assert_eq!(answer.status, 401);
    let fresh = TestRequest::get().insert_header(("authorization", format!("Bearer {}", sign_hs256(&claims()))));
    assert_eq!(call(config, fresh).await.status, 200);
}

#[actix_rt::test]
async fn required_claims() {
    let config = builder().require_claim("tenant").require_claim("jti").build().unwrap();
    let without = TestRequest::get().insert_header(("authorization", format!("Bearer {}", sign_hs256(&claims()))));
    let answer = call(config.clone(), without).await;
    assert_eq!(answer.message(), "Error verifying token : jwt is missing a required claim");
    let mut with = claims();
    with["tenant"] = json!("acme");
    let answer =
        call(config, TestRequest::get().insert_header(("authorization", format!("Bearer {}", sign_hs256(&with)))))
            .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["tenant"], "acme");
}

#[actix_rt::test]
async fn issued_tokens_carry_the_configured_claims_only() {
    let config = builder().token_claims(["role"]).build().unwrap();
    let service = JwtTokenService::new(config.clone());
    let profile = UserProfile::new("u7")
        .with_name("Ada")
        .with_email("ada@example.com")
        .with_claim("role", "admin")
        .with_claim("internal_note", "not for tokens")
        .with_claim("exp", 1);
    let issued = service.generate_token(&profile).unwrap();
    assert_eq!(issued.expires_in, 3600);
    let verified = service.verify_token(&issued.token).now_or_never().unwrap().unwrap();
    assert_eq!(verified.profile.name.as_deref(), Some("Ada"));
    assert_eq!(verified.profile.email.as_deref(), Some("ada@example.com"));
    assert_eq!(verified.profile.claim("role"), Some(&json!("admin")));
    assert_eq!(verified.profile.claim("internal_note"), None);
    assert!(verified.expires_at > now() + 3000, "a profile claim cannot override exp");
    assert_eq!(verified.jti.as_deref(), Some(issued.jti.as_str()));
}

#[actix_rt::test]
async fn ps256_and_der_keys() {
    let pem =
        JwtKey::from_pem(Algorithm::PS256, &key_file("rsa-public.pem"), Some(&key_file("rsa-private.pem"))).unwrap();
    let der =
        JwtKey::from_der(Algorithm::RS256, &key_file("rsa-public.der"), Some(&key_file("rsa-private.der"))).unwrap();
    for key in [pem, der] {
        let alg = key.algorithm();
        let config = JwtConfig::builder().key(key).audience("todo").build().unwrap();
        let service = JwtTokenService::new(config.clone());
        let issued = service.generate_token(&UserProfile::new("rsa-user")).unwrap();
        let answer = call(
            config.clone(),
            TestRequest::get().insert_header(("authorization", format!("Bearer {}", issued.token))),
        )
        .await;
        assert_eq!((answer.status, answer.json()["id"].clone()), (200, json!("rsa-user")), "{alg:?}");
        // The same key under the other RSA algorithm is refused.
        let other =
            if alg == Algorithm::PS256 { jsonwebtoken::Algorithm::RS256 } else { jsonwebtoken::Algorithm::PS256 };
        let forged = sign(
            other,
            &jsonwebtoken::EncodingKey::from_rsa_pem(&key_file("rsa-private.pem")).unwrap(),
            &claims(),
            None,
        );
        let answer =
            call(config, TestRequest::get().insert_header(("authorization", format!("Bearer {forged}")))).await;
        assert_eq!(answer.status, 401, "{alg:?} refuses {other:?}");
    }
}

#[actix_rt::test]
async fn a_verify_only_configuration_cannot_issue() {
    let config = JwtConfig::builder()
        .key(JwtKey::from_pem(Algorithm::RS256, &key_file("rsa-public.pem"), None).unwrap())
        .build()
        .unwrap();
    let error = JwtTokenService::new(config).generate_token(&UserProfile::new("x")).unwrap_err();
    assert_eq!(error.status(), 500);
}
