//! No response body ever contains a credential it was sent: random credentials go through every
//! failure path of every built-in strategy and credentials endpoint (bearer, basic, API key,
//! login, refresh, logout), and each body is searched for them.

use actix_web::test::{TestRequest, init_service};
use actix_web::{App, get};
use authn::api_key::{ApiKeyConfig, MemoryApiKeyStore};
use authn::basic::BasicConfig;
use authn::{CurrentUser, UserProfile, authenticate};
use authn_tests::http::send;
use authn_tests::jwt::{self, routes};
use base64::Engine;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

#[authenticate("basic")]
#[get("/basic")]
async fn by_basic(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("api-key")]
#[get("/key")]
async fn by_key(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("jwt", "basic", "api-key")]
#[get("/any")]
async fn by_any(user: CurrentUser) -> String {
    user.id.clone()
}

/// Long enough that no fixed message contains it by chance; printable, with the characters
/// parsers trip on.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+/=._~:%\"'<>{}-]{12,48}"
}

#[test]
fn no_failure_echoes_a_credential() {
    let mut runner = TestRunner::new(ProptestConfig { cases: 300, ..ProptestConfig::default() });
    runner
        .run(&(secret(), secret()), |(user, password)| {
            actix_rt::System::new().block_on(async {
                let services = jwt::memory_services().await;
                let keys = MemoryApiKeyStore::new();
                keys.add_client(UserProfile::new("client"));
                let basic = BasicConfig::shared(services.users.clone());
                let app = init_service(
                    App::new()
                        .app_data(basic)
                        .app_data(ApiKeyConfig::new(keys))
                        .configure(routes(services))
                        .service(by_basic)
                        .service(by_key)
                        .service(by_any),
                )
                .await;
                let basic_value = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                let requests = [
                    TestRequest::get().uri("/whoAmI").insert_header(("authorization", format!("Bearer {password}"))),
                    TestRequest::get()
                        .uri("/whoAmI")
                        .insert_header(("authorization", format!("Bearer {user}.{password}.x"))),
                    TestRequest::get().uri("/basic").insert_header(("authorization", format!("Basic {basic_value}"))),
                    TestRequest::get().uri("/basic").insert_header(("authorization", format!("Basic {password}"))),
                    TestRequest::get().uri("/key").insert_header(("x-api-key", format!("{user}.{password}"))),
                    TestRequest::get().uri("/any").insert_header(("authorization", format!("Basic {basic_value}"))),
                    TestRequest::post()
                        .uri("/users/login")
                        .set_json(serde_json::json!({"email": user, "password": password})),
                    TestRequest::post().uri("/refresh").set_json(serde_json::json!({"refreshToken": password})),
                    TestRequest::post()
                        .uri("/users/logout")
                        .insert_header(("authorization", format!("Bearer {user}")))
                        .set_json(serde_json::json!({"refreshToken": password})),
                ];
                for request in requests {
                    let answer = send(&app, request).await;
                    prop_assert!(answer.status >= 400, "{answer:?}");
                    for secret in [&user, &password, &basic_value] {
                        prop_assert!(!answer.body.contains(secret.as_str()), "{secret:?} echoed in {:?}", answer.body);
                        for challenge in &answer.challenges {
                            prop_assert!(!challenge.contains(secret.as_str()), "{secret:?} in {challenge}");
                        }
                    }
                }
                Ok(())
            })
        })
        .unwrap();
}
