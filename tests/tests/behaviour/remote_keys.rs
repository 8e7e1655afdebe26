//! Tokens of an identity provider the app does not run: node oidc-provider (`tests/idp/`),
//! installed from its lockfile and started on 127.0.0.1 by these tests, issuing real
//! client-credentials access tokens (RFC 9068 JWTs for our audience). The provider's own
//! middleware counts `/jwks` fetches, sets `Cache-Control` and fakes an outage on demand.

use std::time::{Duration, Instant};

use actix_web::test::init_service;
use actix_web::{App, get};
use authn::jwt::{JwtConfig, JwtConfigBuilder, RemoteKeyOptions};
use authn::{CurrentUser, authenticate};
use authn_tests::http::{Answer, get as get_req, send};
use authn_tests::idp::{AUDIENCE, Idp, free_port, key_file, signed};
use authn_tests::jwt::{now, raw_token};
use serde_json::{Value, json};

#[authenticate("jwt")]
#[get("/whoAmI")]
async fn who_am_i(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("jwt", scopes = ["todo:read"])]
#[get("/scoped")]
async fn scoped(user: CurrentUser) -> String {
    user.id.clone()
}

fn builder(idp: &Idp) -> JwtConfigBuilder {
    JwtConfig::builder().issuer_discovery(idp.issuer.clone()).audience(AUDIENCE)
}

async fn call(config: &JwtConfig, path: &str, token: &str) -> Answer {
    let app = init_service(App::new().app_data(config.clone()).service(who_am_i).service(scoped)).await;
    send(&app, get_req(path).insert_header(("authorization", format!("Bearer {token}")))).await
}

/// Claims as the provider would issue them, for tokens signed by the tests.
fn claims(idp: &Idp) -> Value {
    json!({"sub": "machine", "iss": idp.issuer, "aud": AUDIENCE, "iat": now(), "exp": now() + 300, "scope": "todo:read"})
}

#[actix_rt::test]
async fn a_real_client_credentials_token_is_accepted_and_its_scope_read() {
    let keys = key_file(&["k1"]);
    let idp = Idp::start(&keys, &[]);
    let config = builder(&idp).require_token_type("at+jwt").build().unwrap();
    let token = idp.token().await;
    let answer = call(&config, "/whoAmI", &token).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "machine"), "{answer:?}");
    assert_eq!(call(&config, "/scoped", &token).await.status, 200);
    // Discovery once, the JWK Set once, whatever the number of requests.
    for _ in 0..20 {
        assert_eq!(call(&config, "/whoAmI", &token).await.status, 200);
    }
    assert_eq!(idp.jwks_fetches().await, 1);
}

#[actix_rt::test]
async fn tokens_not_meant_for_this_api_are_401() {
    let keys = key_file(&["k1"]);
    let idp = Idp::start(&keys, &[]);
    let config = builder(&idp).leeway(Duration::ZERO).build().unwrap();
    let base = claims(&idp);
    let with = |key: &str, value: Value| {
        let mut c = base.clone();
        c[key] = value;
        c
    };
    assert_eq!(call(&config, "/whoAmI", &signed(&keys, "k1", &base, "RS256")).await.status, 200);
    let cases = [
        ("another audience", with("aud", json!("https://other.test")), "RS256", "jwt audience invalid"),
        ("another issuer", with("iss", json!("http://127.0.0.1:1")), "RS256", "jwt issuer invalid"),
        ("expired", with("exp", json!(now() - 10)), "RS256", "jwt expired"),
        ("HS256 keyed with the public key", base.clone(), "HS256-public-key", "invalid algorithm"),
    ];
    for (what, claims, mode, reason) in cases {
        let answer = call(&config, "/whoAmI", &signed(&keys, "k1", &claims, mode)).await;
        assert_eq!(answer.status, 401, "{what}: {answer:?}");
        assert_eq!(answer.message(), format!("Error verifying token : {reason}"), "{what}");
    }
    for alg in ["none", "None", "HS256"] {
        let token = raw_token(&json!({"alg": alg, "kid": "k1", "typ": "at+jwt"}), &base, b"");
        assert_eq!(call(&config, "/whoAmI", &token).await.status, 401, "alg {alg}");
    }
    // The real provider's token, at an API that is another audience.
    let elsewhere =
        JwtConfig::builder().issuer_discovery(idp.issuer.clone()).audience("https://other.test").build().unwrap();
    assert_eq!(call(&elsewhere, "/whoAmI", &idp.token().await).await.status, 401);
}

#[actix_rt::test]
async fn a_scope_the_token_lacks_is_403_insufficient_scope() {
    let keys = key_file(&["k1"]);
    let idp = Idp::start(&keys, &[]);
    let config = builder(&idp).build().unwrap();
    let mut c = claims(&idp);
    c["scope"] = json!("todo:write");
    let answer = call(&config, "/scoped", &signed(&keys, "k1", &c, "RS256")).await;
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(answer.challenges[0].contains(r#"error="insufficient_scope""#), "{:?}", answer.challenges);
}

#[actix_rt::test]
async fn a_rotated_key_is_picked_up_with_exactly_one_fetch() {
    let old = key_file(&["k1"]);
    let mut idp = Idp::start(&old, &[]);
    let config = builder(&idp).build().unwrap();
    assert_eq!(call(&config, "/whoAmI", &idp.token().await).await.status, 200);
    // The provider now signs with k2 and still publishes k1.
    let rotated = key_file(&["k2", "k1"]);
    idp.restart(&rotated);
    let token = idp.token().await;
    assert!(token.starts_with(&authn_tests::jwt::b64(br#"{"alg":"RS256","typ":"at+jwt","kid":"k2"}"#)[..20]));
    assert_eq!(call(&config, "/whoAmI", &token).await.status, 200);
    assert_eq!(call(&config, "/whoAmI", &token).await.status, 200);
    assert_eq!(idp.jwks_fetches().await, 1, "one fetch for the new kid, none after");
}

#[actix_rt::test]
async fn a_key_gone_from_the_set_stops_verifying_at_the_next_refresh() {
    let keys = key_file(&["k1"]);
    let mut idp = Idp::start(&keys, &[("JWKS_CACHE_CONTROL", "max-age=1")]);
    let options = RemoteKeyOptions::default().max_age_bounds(Duration::from_secs(1), Duration::from_secs(60));
    let config = builder(&idp).remote_key_options(options).verified_token_cache(0).build().unwrap();
    let old_token = idp.token().await;
    assert_eq!(call(&config, "/whoAmI", &old_token).await.status, 200);
    let replaced = key_file(&["k2"]);
    idp.restart(&replaced);
    let new_token = idp.token().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = call(&config, "/whoAmI", &old_token).await.status;
        if status == 401 {
            break;
        }
        assert_eq!(status, 200, "until the refresh, the old key verifies");
        assert!(Instant::now() < deadline, "the removed key still verifies after 10 s");
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(call(&config, "/whoAmI", &new_token).await.status, 200);
}

#[actix_rt::test]
async fn a_flood_of_random_kids_costs_at_most_one_fetch_per_cooldown() {
    let keys = key_file(&["k1"]);
    let idp = Idp::start(&keys, &[]);
    let config = builder(&idp).build().unwrap();
    assert_eq!(call(&config, "/whoAmI", &idp.token().await).await.status, 200);
    let before = idp.jwks_fetches().await;
    let app = init_service(App::new().app_data(config.clone()).service(who_am_i)).await;
    let base = claims(&idp);
    let requests = (0..500).map(|i| {
        let token = raw_token(&json!({"alg": "RS256", "kid": format!("random-{i}")}), &base, b"junk-signature");
        send(&app, get_req("/whoAmI").insert_header(("authorization", format!("Bearer {token}"))))
    });
    let answers = futures_util::future::join_all(requests).await;
    assert!(answers.iter().all(|a| a.status == 401), "every random kid is refused");
    assert!(idp.jwks_fetches().await - before <= 1, "at most one fetch for 500 concurrent unknown kids");
    // One after another, each waiting for the last: the cooldown, not the single flight, holds.
    for i in 0..50 {
        let token = raw_token(&json!({"alg": "RS256", "kid": format!("sequential-{i}")}), &base, b"junk-signature");
        assert_eq!(call(&config, "/whoAmI", &token).await.status, 401);
    }
    assert!(idp.jwks_fetches().await - before <= 1, "at most one fetch per cooldown for 550 unknown kids");
    // Known kids never touch the limiter.
    assert_eq!(call(&config, "/whoAmI", &idp.token().await).await.status, 200);
}

#[actix_rt::test]
async fn an_outage_keeps_the_last_good_keys_then_answers_503_never_hangs() {
    let keys = key_file(&["k1"]);
    let idp = Idp::start(&keys, &[("JWKS_CACHE_CONTROL", "max-age=1")]);
    let options = RemoteKeyOptions::default()
        .max_age_bounds(Duration::from_secs(1), Duration::from_secs(60))
        .stale_if_error(Duration::from_secs(2))
        .max_backoff(Duration::from_secs(1));
    let config = builder(&idp).remote_key_options(options).verified_token_cache(0).build().unwrap();
    let token = idp.token().await;
    assert_eq!(call(&config, "/whoAmI", &token).await.status, 200);
    idp.jwks("status=503").await;
    // Past the key set's freshness, inside the stale-if-error window: still verified.
    actix_rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(call(&config, "/whoAmI", &token).await.status, 200);
    // Past the window: 503 with Retry-After, answered at once.
    actix_rt::time::sleep(Duration::from_millis(2500)).await;
    let started = Instant::now();
    let answer = call(&config, "/whoAmI", &token).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(answer.code().as_deref(), Some("AUTHENTICATION_UNAVAILABLE"));
    assert!(answer.retry_after.is_some());
    assert!(started.elapsed() < Duration::from_secs(6), "bounded by the fetch timeout");
    // The provider is back: service recovers by itself.
    idp.jwks("status=200").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while call(&config, "/whoAmI", &token).await.status != 200 {
        assert!(Instant::now() < deadline, "no recovery within 10 s");
        actix_rt::time::sleep(Duration::from_millis(200)).await;
    }
}

#[actix_rt::test]
async fn a_cold_start_without_the_provider_is_503_not_401() {
    let port = free_port();
    let config =
        JwtConfig::builder().issuer_discovery(format!("http://127.0.0.1:{port}")).audience(AUDIENCE).build().unwrap();
    let token = raw_token(&json!({"alg": "RS256", "kid": "k1"}), &json!({"sub": "x"}), b"sig");
    let answer = call(&config, "/whoAmI", &token).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    assert!(answer.retry_after.is_some());
    assert!(answer.challenges.is_empty(), "a 503 carries no WWW-Authenticate");
    let error = config.fetch_keys().await.unwrap_err();
    assert!(matches!(error, authn::jwt::KeyFetchError::Connect { .. }), "{error}");
}

#[actix_rt::test]
async fn the_discovery_document_must_name_the_configured_issuer() {
    let keys = key_file(&["k1"]);
    let idp = Idp::start(&keys, &[]);
    // The same provider under another name (localhost for 127.0.0.1): not its issuer.
    let config = JwtConfig::builder()
        .issuer_discovery(format!("http://localhost:{}", idp.port))
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let error = config.fetch_keys().await.unwrap_err();
    assert!(matches!(error, authn::jwt::KeyFetchError::IssuerMismatch { .. }), "{error}");
    assert_eq!(call(&config, "/whoAmI", &idp.token().await).await.status, 503);
}

#[test]
fn remote_keys_need_https_an_issuer_and_an_audience() {
    let refused = |b: JwtConfigBuilder| b.build().unwrap_err().to_string();
    assert!(refused(JwtConfig::builder().issuer_discovery("http://idp.example.com").audience("a")).contains("HTTPS"));
    assert!(refused(JwtConfig::builder().issuer_discovery("https://idp.example.com")).contains("audience"));
    assert!(refused(JwtConfig::builder().jwks_uri("https://idp.example.com/jwks").audience("a")).contains("issuer"));
    assert!(JwtConfig::builder().issuer_discovery("https://idp.example.com").allow_any_audience().build().is_ok());
}

#[actix_rt::test]
async fn several_issuers_each_verify_their_own_tokens_and_an_unverified_iss_only_chooses() {
    let (keys_a, keys_b) = (key_file(&["a1"]), key_file(&["b1"]));
    let (a, b) = (Idp::start(&keys_a, &[]), Idp::start(&keys_b, &[]));
    let config = builder(&a).also_issuer(builder(&b).build().unwrap()).build().unwrap();
    assert_eq!(call(&config, "/whoAmI", &a.token().await).await.status, 200);
    assert_eq!(call(&config, "/whoAmI", &b.token().await).await.status, 200);
    // B's key, claiming to be A: A's configuration verifies it, and A has no such key.
    let mut claims = claims(&b);
    claims["iss"] = json!(a.issuer);
    let answer = call(&config, "/whoAmI", &signed(&keys_b, "b1", &claims, "RS256")).await;
    assert_eq!(answer.status, 401, "{answer:?}");
    // An issuer nobody configured: the primary configuration refuses it.
    claims["iss"] = json!("https://unknown.example");
    let answer = call(&config, "/whoAmI", &signed(&keys_b, "b1", &claims, "RS256")).await;
    assert_eq!(answer.status, 401);
}

#[actix_rt::test]
async fn a_set_past_the_size_cap_is_refused_and_redirects_are_not_followed() {
    let keys = key_file(&["k1", "k2", "k3"]);
    let idp = Idp::start(&keys, &[]);
    let small = RemoteKeyOptions::default().max_bytes(1024);
    let config = builder(&idp).remote_key_options(small).build().unwrap();
    let error = config.fetch_keys().await.unwrap_err();
    assert!(matches!(error, authn::jwt::KeyFetchError::TooLarge { .. }), "{error}");

    // A discovery document that redirects elsewhere: refused, not followed (SSRF).
    #[get("/.well-known/openid-configuration")]
    async fn moved() -> actix_web::HttpResponse {
        actix_web::HttpResponse::Found().insert_header(("location", "http://169.254.169.254/latest/meta-data")).finish()
    }
    let (address, server) = authn_tests::http::serve(|| App::new().service(moved));
    let config = JwtConfig::builder().issuer_discovery(format!("http://{address}")).audience(AUDIENCE).build().unwrap();
    let error = config.fetch_keys().await.unwrap_err();
    assert!(matches!(error, authn::jwt::KeyFetchError::Status { status: 302, .. }), "{error}");
    server.stop(false).await;
}

#[actix_rt::test]
async fn a_provider_that_never_answers_is_a_timeout_not_a_hang() {
    // Accepts connections, never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let held = std::thread::spawn(move || {
        // Holds whatever connects for 3 s, then lets go (bounded: the test never waits longer).
        let until = Instant::now() + Duration::from_secs(3);
        let mut connections = Vec::new();
        while Instant::now() < until {
            if let Ok((connection, _)) = listener.accept() {
                connections.push(connection);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let options = RemoteKeyOptions::default().timeout(Duration::from_millis(500));
    let config = JwtConfig::builder()
        .issuer_discovery(format!("http://127.0.0.1:{port}"))
        .audience(AUDIENCE)
        .remote_key_options(options)
        .build()
        .unwrap();
    let started = Instant::now();
    let error = config.fetch_keys().await.unwrap_err();
    assert!(matches!(error, authn::jwt::KeyFetchError::Timeout { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // A request meanwhile: 503 at once (the failed fetch backs off), not a wait.
    let token = raw_token(&json!({"alg": "RS256", "kid": "k1"}), &json!({"sub": "x"}), b"sig");
    let started = Instant::now();
    assert_eq!(call(&config, "/whoAmI", &token).await.status, 503);
    assert!(started.elapsed() < Duration::from_millis(400), "{:?}", started.elapsed());
    held.join().unwrap();
}

#[actix_rt::test]
async fn a_required_token_type_refuses_id_tokens_and_untyped_tokens() {
    let keys = key_file(&["k1"]);
    let idp = Idp::start(&keys, &[]);
    let config = builder(&idp).require_token_type("at+jwt").build().unwrap();
    let claims = claims(&idp);
    let typed = |typ: &str| {
        let output = std::process::Command::new("node")
            .arg("sign.mjs")
            .arg(keys.path())
            .args(["k1", &claims.to_string(), typ, "RS256"])
            .current_dir(authn_tests::idp::installed())
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(call(&config, "/whoAmI", &typed("application/at+jwt")).await.status, 200, "RFC 9068's long form");
    for typ in ["JWT", "id_token+jwt", ""] {
        let answer = call(&config, "/whoAmI", &typed(typ)).await;
        assert_eq!(answer.status, 401, "typ {typ:?}");
        assert_eq!(answer.message(), "Error verifying token : jwt type invalid");
    }
}
