//! The "api-key" strategy through real requests: header and query sources, scopes, rotation,
//! revocation, and one answer for every bad key.

use actix_web::test::init_service;
use actix_web::{App, get};
use authn::api_key::{ApiKeyConfig, MemoryApiKeyStore};
use authn::{CurrentUser, UserProfile, authenticate};
use authn_tests::http::{get, send};

#[authenticate("api-key", scopes = ["reports:read"])]
#[get("/reports")]
async fn reports(client: CurrentUser) -> String {
    client.id.clone()
}

#[authenticate("api-key")]
#[get("/whoAmI")]
async fn who_am_i(client: CurrentUser) -> String {
    client.id.clone()
}

fn keys() -> MemoryApiKeyStore {
    let keys = MemoryApiKeyStore::new();
    keys.add_client(UserProfile::new("billing").with_claim("scopes", ["reports:read"]));
    keys.add_client(UserProfile::new("mailer"));
    keys
}

const CHALLENGE: &str = r#"ApiKey realm="authn", header="x-api-key""#;

#[actix_rt::test]
async fn a_key_authenticates_its_client() {
    let keys = keys();
    let key = keys.issue("billing", None).unwrap();
    let app = init_service(App::new().app_data(ApiKeyConfig::new(keys)).service(who_am_i)).await;
    let answer = send(&app, get("/whoAmI").insert_header(("x-api-key", key))).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "billing"));
}

#[actix_rt::test]
async fn no_key_is_401_with_the_challenge() {
    let app = init_service(App::new().app_data(ApiKeyConfig::new(keys())).service(who_am_i)).await;
    let answer = send(&app, get("/whoAmI")).await;
    assert_eq!((answer.status, answer.message().as_str()), (401, authn::api_key::NOT_FOUND));
    assert_eq!(answer.challenges, [CHALLENGE]);
}

#[actix_rt::test]
async fn every_bad_key_gets_the_same_answer() {
    let keys = keys();
    let key = keys.issue("billing", None).unwrap();
    let (id, secret) = key.split_once('.').unwrap();
    let revoked = keys.issue("billing", None).unwrap();
    keys.revoke(revoked.split_once('.').unwrap().0);
    let app = init_service(App::new().app_data(ApiKeyConfig::new(keys)).service(who_am_i)).await;
    let wrong_secret = format!("{id}.{}", secret.chars().rev().collect::<String>());
    let unknown_id = format!("0000000000000000.{secret}");
    let mut bodies = Vec::new();
    for bad in [wrong_secret.as_str(), unknown_id.as_str(), id, secret, revoked.as_str(), "x", "ü"] {
        let answer = send(&app, get("/whoAmI").insert_header(("x-api-key", bad))).await;
        assert_eq!(answer.status, 401, "{bad}");
        assert_eq!(answer.challenges, [r#"ApiKey realm="authn", header="x-api-key", error="invalid_key""#]);
        bodies.push(answer.body);
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let twice =
        send(&app, get("/whoAmI").insert_header(("x-api-key", key.clone())).append_header(("x-api-key", key))).await;
    assert_eq!(twice.status, 401);
}

#[actix_rt::test]
async fn scopes_belong_to_the_client() {
    let keys = keys();
    let billing = keys.issue("billing", None).unwrap();
    let mailer = keys.issue("mailer", None).unwrap();
    let app = init_service(App::new().app_data(ApiKeyConfig::new(keys)).service(reports)).await;
    let allowed = send(&app, get("/reports").insert_header(("x-api-key", billing))).await;
    assert_eq!((allowed.status, allowed.body.as_str()), (200, "billing"));
    let denied = send(&app, get("/reports").insert_header(("x-api-key", mailer))).await;
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.challenges,
        [r#"ApiKey realm="authn", header="x-api-key", error="insufficient_scope", scope="reports:read""#]
    );
}

#[actix_rt::test]
async fn rotation_keeps_both_keys_working_until_the_old_one_is_revoked() {
    let keys = keys();
    let old = keys.issue("billing", None).unwrap();
    let app = init_service(App::new().app_data(ApiKeyConfig::new(keys.clone())).service(who_am_i)).await;
    let new = keys.issue("billing", None).unwrap();
    for key in [&old, &new] {
        assert_eq!(send(&app, get("/whoAmI").insert_header(("x-api-key", key.as_str()))).await.status, 200);
    }
    keys.revoke(old.split_once('.').unwrap().0);
    assert_eq!(send(&app, get("/whoAmI").insert_header(("x-api-key", old))).await.status, 401);
    assert_eq!(send(&app, get("/whoAmI").insert_header(("x-api-key", new))).await.status, 200);
}

#[actix_rt::test]
async fn custom_header_and_opt_in_query_parameter() {
    let keys = keys();
    let key = keys.issue("billing", None).unwrap();
    let config = ApiKeyConfig::new(keys).header("X-Service-Key").query("api_key").realm("billing");
    let app = init_service(App::new().app_data(config).service(who_am_i)).await;
    let by_header = send(&app, get("/whoAmI").insert_header(("x-service-key", key.as_str()))).await;
    assert_eq!(by_header.status, 200);
    let by_query = send(&app, get(&format!("/whoAmI?x=1&api_key={key}"))).await;
    assert_eq!(by_query.status, 200);
    let default_header_ignored = send(&app, get("/whoAmI").insert_header(("x-api-key", key.as_str()))).await;
    assert_eq!(default_header_ignored.status, 401);
    assert_eq!(default_header_ignored.challenges, [r#"ApiKey realm="billing", header="x-service-key""#]);
}

#[actix_rt::test]
async fn query_keys_are_refused_unless_configured() {
    let keys = keys();
    let key = keys.issue("billing", None).unwrap();
    let app = init_service(App::new().app_data(ApiKeyConfig::new(keys)).service(who_am_i)).await;
    let answer = send(&app, get(&format!("/whoAmI?api_key={key}"))).await;
    assert_eq!((answer.status, answer.message().as_str()), (401, authn::api_key::NOT_FOUND));
}
