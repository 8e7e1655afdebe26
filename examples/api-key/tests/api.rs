//! The example's API through real requests.

use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, web};
use api_key_example::{ApiKeys, NewNote, configure};

const WRITER: &str = "writer-key-0123456789";
const READER: &str = "reader-key-0123456789";

fn keys() -> web::Data<ApiKeys> {
    web::Data::new(ApiKeys::default().with_key(WRITER, "writer", &["notes:read", "notes:write"]).with_key(
        READER,
        "reader",
        &["notes:read"],
    ))
}

async fn call(request: TestRequest) -> (u16, Vec<String>, String) {
    let app = init_service(App::new().configure(configure(keys()))).await;
    let response = call_service(&app, request.to_request()).await;
    let status = response.status().as_u16();
    let challenges = response.headers().get_all("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).collect();
    (status, challenges, String::from_utf8(read_body(response).await.to_vec()).unwrap())
}

#[actix_rt::test]
async fn the_set_up_is_valid() {
    authn::validate().unwrap();
    assert!(authn::registry().names().contains(&"notes-key"));
}

#[actix_rt::test]
async fn who_am_i_needs_a_valid_key() {
    let (status, _, body) = call(TestRequest::get().uri("/whoAmI").insert_header(("x-api-key", READER))).await;
    assert_eq!((status, body.as_str()), (200, "reader"));

    let (status, challenges, body) = call(TestRequest::get().uri("/whoAmI")).await;
    assert_eq!(status, 401);
    assert_eq!(challenges, [r#"ApiKey realm="api-key-example""#]);
    assert!(body.contains("USER_PROFILE_NOT_FOUND"));

    let (status, challenges, body) =
        call(TestRequest::get().uri("/whoAmI").insert_header(("x-api-key", "guess"))).await;
    assert_eq!(status, 401);
    assert_eq!(challenges, [r#"ApiKey realm="api-key-example", error="invalid_token""#]);
    assert!(body.contains("INVALID_API_KEY") && !body.contains("guess"), "{body}");
}

#[actix_rt::test]
async fn scopes_from_the_attribute_are_enforced_with_403() {
    let note = NewNote { text: "hi".into() };
    let request = TestRequest::post().uri("/notes").insert_header(("x-api-key", READER)).set_json(&note);
    let (status, challenges, body) = call(request).await;
    assert_eq!(status, 403);
    assert_eq!(challenges, [r#"ApiKey realm="api-key-example", error="insufficient_scope", scope="notes:write""#]);
    assert!(body.contains("Missing scope: notes:write."));

    let request = TestRequest::post().uri("/notes").insert_header(("x-api-key", WRITER)).set_json(&note);
    let (status, _, body) = call(request).await;
    assert_eq!(status, 201);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json, serde_json::json!({"text": "hi", "author": "writer", "scopes": ["notes:read", "notes:write"]}));
}

#[actix_rt::test]
async fn optional_and_public_routes() {
    assert_eq!(call(TestRequest::get().uri("/hello")).await.2, "Hello, stranger!");
    assert_eq!(call(TestRequest::get().uri("/hello").insert_header(("x-api-key", READER))).await.2, "Hello, reader!");
    assert_eq!(call(TestRequest::get().uri("/hello").insert_header(("x-api-key", "wrong"))).await.0, 401);
    assert_eq!(call(TestRequest::get().uri("/ping")).await.2, r#"{"running":true}"#);
}

#[actix_rt::test]
async fn the_admin_group_protects_handlers_without_an_attribute() {
    assert_eq!(call(TestRequest::get().uri("/admin/stats")).await.0, 401);
    assert_eq!(call(TestRequest::get().uri("/admin/stats").insert_header(("x-api-key", READER))).await.0, 200);
    assert_eq!(call(TestRequest::get().uri("/admin/health")).await.2, "ok");
}

#[test]
fn key_lists_parse_and_refuse_short_keys() {
    assert!(ApiKeys::parse("0123456789abcdef=a:x,y;fedcba9876543210=b").is_ok());
    assert!(ApiKeys::parse("short=a:x").err().unwrap().contains("shorter than 16"));
    assert!(ApiKeys::parse("no-separator").is_err());
}
