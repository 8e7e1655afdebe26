//! Testing an app's strategies and handlers: handlers through `authn::test::as_user` (no
//! signature needed), the strategies through real signed requests.

use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, web};
use authn::UserProfile;
use custom_strategy_example::{SigningKeys, configure};
use example_strategies::{content_digest, now, sign};

const SECRET: &[u8] = b"test-secret";

fn keys() -> web::Data<SigningKeys> {
    web::Data::new(SigningKeys::default().with_client("billing", SECRET))
}

/// Status, challenges, `Location` and body.
async fn call(request: actix_http::Request) -> (u16, Vec<String>, Option<String>, String) {
    let app = init_service(App::new().configure(configure(keys()))).await;
    let response = call_service(&app, request).await;
    let status = response.status().as_u16();
    let headers = response.headers();
    let challenges = headers.get_all("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).collect();
    let location = headers.get("location").map(|v| v.to_str().unwrap().to_owned());
    (status, challenges, location, String::from_utf8(read_body(response).await.to_vec()).unwrap())
}

/// A request signed by the billing client, without a body.
fn signed(method: &str, path: &str, timestamp: u64) -> TestRequest {
    signed_with_body(method, path, timestamp, b"")
}

/// A request signed by the billing client, with `body` (sent as JSON) and its digest.
fn signed_with_body(method: &str, path: &str, timestamp: u64, body: &'static [u8]) -> TestRequest {
    let request = match method {
        "POST" => TestRequest::post(),
        _ => TestRequest::get(),
    };
    let digest = content_digest(body);
    request
        .uri(path)
        .insert_header(("x-client-id", "billing"))
        .insert_header(("x-timestamp", timestamp.to_string()))
        .insert_header(("x-signature", sign(SECRET, method, path, timestamp, &digest)))
        .insert_header(("content-digest", digest))
        .insert_header(("content-type", "application/json"))
        .set_payload(body)
}

#[actix_rt::test]
async fn the_set_up_is_valid() {
    // Fails if the strategy crate were dropped by the linker, or an option were misspelt.
    authn::validate().unwrap();
    assert!(authn::introspect::registry().get("signed").is_some());
}

#[actix_rt::test]
async fn handlers_are_tested_as_a_given_user_without_credentials() {
    let request = authn::test::as_user(TestRequest::get().uri("/whoAmI"), UserProfile::new("ci-user"));
    let (status, _, _, body) = call(request).await;
    assert_eq!((status, body.as_str()), (200, "ci-user"));
    // Groups honour it too.
    let stats = authn::test::as_user(TestRequest::get().uri("/admin/stats"), UserProfile::new("ci-user"));
    assert_eq!(call(stats).await.0, 200);
}

#[actix_rt::test]
async fn a_signed_request_is_authenticated() {
    let (status, _, _, body) = call(signed("GET", "/whoAmI", now()).to_request()).await;
    assert_eq!((status, body.as_str()), (200, "billing"));
}

#[actix_rt::test]
async fn bad_signatures_are_refused_and_end_the_chain() {
    let tampered = signed("GET", "/whoAmI", now()).insert_header(("x-signature", "00".repeat(32))).to_request();
    let (status, challenges, _, body) = call(tampered).await;
    assert_eq!(status, 401);
    assert!(body.contains("Invalid signature."), "{body}");
    assert!(challenges[0].contains(r#"error="invalid_signature""#), "{challenges:?}");
    // Signed for another path: refused.
    let moved = signed("GET", "/admin/stats", now()).uri("/whoAmI").to_request();
    assert_eq!(call(moved).await.0, 401);
    // A browser with a bad signature is refused too, not sent to the login page.
    let browser =
        signed("GET", "/reports", now()).insert_header(("x-signature", "ab")).insert_header(("accept", "text/html"));
    let (status, _, location, _) = call(browser.to_request()).await;
    assert_eq!((status, location), (401, None));
}

#[actix_rt::test]
async fn the_route_option_bounds_the_clock_skew() {
    let two_minutes_ago = now() - 120;
    assert_eq!(call(signed("GET", "/whoAmI", two_minutes_ago).to_request()).await.0, 200);
    let webhook = signed_with_body("POST", "/webhooks", two_minutes_ago, br#"{"kind":"paid"}"#);
    let (status, _, _, body) = call(webhook.to_request()).await;
    assert_eq!(status, 401);
    assert!(body.contains("Request timestamp out of range."), "{body}");
    let fresh = signed_with_body("POST", "/webhooks", now(), br#"{"kind":"paid"}"#);
    let (status, _, _, body) = call(fresh.to_request()).await;
    assert_eq!((status, body.as_str()), (202, r#"{"from":"billing","received":"paid"}"#));
}

/// Issue: the signature covered method, path and time but not the body, so a captured webhook
/// could be replayed within the window with another body.
#[actix_rt::test]
async fn a_captured_request_cannot_be_replayed_with_another_body() {
    let captured = || signed_with_body("POST", "/webhooks", now(), br#"{"kind":"paid"}"#);
    // Same headers, another body.
    let (status, _, _, body) = call(captured().set_payload(r#"{"kind":"refunded"}"#).to_request()).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("The body does not match its Content-Digest."), "{body}");
    // Another body with its own digest: the signature no longer fits.
    let forged = captured()
        .insert_header(("content-digest", content_digest(br#"{"kind":"refunded"}"#)))
        .set_payload(r#"{"kind":"refunded"}"#);
    let (status, _, _, body) = call(forged.to_request()).await;
    assert_eq!(status, 401);
    assert!(body.contains("Invalid signature."), "{body}");
    // No digest at all.
    let mut bare = TestRequest::post().uri("/webhooks").set_payload(r#"{"kind":"paid"}"#);
    let timestamp = now();
    bare = bare
        .insert_header(("x-client-id", "billing"))
        .insert_header(("x-timestamp", timestamp.to_string()))
        .insert_header(("x-signature", sign(SECRET, "POST", "/webhooks", timestamp, "")));
    let (status, _, _, body) = call(bare.to_request()).await;
    assert_eq!(status, 401);
    assert!(body.contains("Missing Content-Digest."), "{body}");
    // The untouched capture still works once (within its window).
    assert_eq!(call(captured().to_request()).await.0, 202);
}

#[actix_rt::test]
async fn browsers_are_sent_to_the_sign_in_page_and_api_clients_get_a_401() {
    let browser = TestRequest::get().uri("/reports?year=2026&q=a%20b").insert_header(("accept", "text/html,*/*"));
    let (status, _, location, _) = call(browser.to_request()).await;
    assert_eq!((status, location.as_deref()), (303, Some("/sign-in?next=/reports%3Fyear%3D2026%26q%3Da%2520b")));

    let api = TestRequest::get().uri("/reports").insert_header(("accept", "application/json"));
    let (status, challenges, location, _) = call(api.to_request()).await;
    assert_eq!((status, location), (401, None));
    assert_eq!(challenges.len(), 2, "{challenges:?}");
}

#[actix_rt::test]
async fn the_group_protects_handlers_without_an_attribute() {
    assert_eq!(call(TestRequest::get().uri("/admin/stats").to_request()).await.0, 401);
    assert_eq!(call(signed("GET", "/admin/stats", now()).to_request()).await.0, 200);
    // The reported bypass: one percent-encoded letter, and no credentials at all.
    for path in ["/admin/st%61ts", "/admin/%73tats", "/%61dmin/stats", "/admin//stats"] {
        let (status, _, _, body) = call(TestRequest::get().uri(path).to_request()).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert!(!body.contains("requests"), "{path}: {body}");
    }
}

#[actix_rt::test]
async fn ping_is_public() {
    let (status, _, _, body) = call(TestRequest::get().uri("/ping").to_request()).await;
    assert_eq!((status, body.as_str()), (200, r#"{"running":true}"#));
}
