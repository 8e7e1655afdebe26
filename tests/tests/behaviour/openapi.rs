//! OpenAPI security from the route report: alternatives per strategy, scopes, optional, skip.

use actix_web::get;
use authn::openapi::RouteSecurity;
use authn::{CurrentUser, authenticate};
use serde_json::json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};

#[authenticate("jwt", scopes = ["todo:read"], "api-key")]
#[get("/optional")]
async fn openapi_optional(user: Option<CurrentUser>) -> String {
    user.map(|u| u.id.clone()).unwrap_or_default()
}

/// A strategy of the app's own, which the OpenAPI mapping knows nothing about.
#[authn::strategy("some-custom-strategy")]
async fn some_custom_strategy(_request: &actix_web::HttpRequest) -> Result<authn::Outcome, authn::AuthError> {
    Ok(authn::Outcome::NoCredentials)
}

#[authenticate("jwt", "some-custom-strategy")]
#[get("/mixed")]
async fn openapi_mixed(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate(skip)]
#[get("/public")]
async fn openapi_public() -> &'static str {
    "public"
}

fn spec(name: &str) -> &'static authn::introspect::RouteSpec {
    authn::routes().iter().find(|r| r.handler() == name && r.location().module == module_path!()).unwrap()
}

#[test]
fn requirements_follow_the_attribute() {
    let security = RouteSecurity::new().scheme(
        "api-key",
        "serviceKey",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-service-key"))),
    );
    let alternatives = serde_json::to_value(security.requirements(spec("openapi_optional"))).unwrap();
    assert_eq!(alternatives, json!([{"jwt": ["todo:read"]}, {"serviceKey": []}, {}]));
    assert_eq!(serde_json::to_value(security.requirements(spec("openapi_public"))).unwrap(), json!([]));
    // Built-in strategies come mapped; one without a documented scheme is left out rather
    // than invented.
    let defaults = RouteSecurity::new();
    assert_eq!(
        serde_json::to_value(defaults.requirements(spec("openapi_optional"))).unwrap(),
        json!([{"jwt": ["todo:read"]}, {"apiKey": []}, {}])
    );
    assert_eq!(serde_json::to_value(defaults.requirements(spec("openapi_mixed"))).unwrap(), json!([{"jwt": []}]));
}

#[authenticate(group)]
#[get("/mine")]
async fn openapi_group(user: CurrentUser) -> String {
    user.id.clone()
}

/// `group` is the enclosing group's: the app names the group, or the document cannot know.
#[test]
fn group_handlers_are_documented_with_the_group_the_app_names() {
    let unknown = RouteSecurity::new();
    assert_eq!(serde_json::to_value(unknown.requirements(spec("openapi_group"))).unwrap(), json!([]));
    let named = RouteSecurity::new().group(&authn::Group::new(["jwt", "basic"]));
    assert_eq!(
        serde_json::to_value(named.requirements(spec("openapi_group"))).unwrap(),
        json!([{"jwt": []}, {"basic": []}])
    );
}

// Documentation only: utoipa reads these; nothing calls them.
#[utoipa::path(get, path = "/optional")]
#[allow(dead_code)]
fn openapi_optional_doc() {}

#[utoipa::path(get, path = "/public")]
#[allow(dead_code)]
fn openapi_public_doc() {}

#[utoipa::path(get, path = "/mixed", responses((status = 401, description = "hand-written")))]
#[allow(dead_code)]
fn openapi_mixed_doc() {}

#[derive(utoipa::OpenApi)]
#[openapi(paths(openapi_optional_doc, openapi_public_doc, openapi_mixed_doc))]
struct Doc;

/// authn documents what authn answers: every secured operation gets its 401 (and 403 where the
/// route requires scopes) with the error body and the challenge header; public ones get none.
#[test]
fn refusals_are_documented_by_authn() {
    let mut doc = <Doc as utoipa::OpenApi>::openapi();
    for path in doc.paths.paths.values_mut() {
        for op in path.get.iter_mut() {
            op.operation_id = op.operation_id.as_ref().map(|id| id.trim_end_matches("_doc").to_owned());
        }
    }
    utoipa::Modify::modify(&RouteSecurity::new(), &mut doc);
    let json = serde_json::to_value(&doc).unwrap();
    let responses = |path: &str| json["paths"][path]["get"]["responses"].clone();
    let with_scopes = responses("/optional");
    assert_eq!(with_scopes["401"]["headers"]["WWW-Authenticate"]["schema"]["type"], "string");
    assert_eq!(with_scopes["401"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody");
    assert!(with_scopes["403"].is_object(), "scopes: 403 documented");
    let without = responses("/mixed");
    assert!(
        without["401"]["description"].as_str().unwrap().contains("authn"),
        "authn's own 401 replaces one written by hand"
    );
    assert!(without["403"].is_null(), "no scopes, no 403");
    assert!(responses("/public").get("401").is_none());
    let body = &json["components"]["schemas"]["ErrorBody"];
    assert_eq!(body["required"], json!(["error"]));
    assert_eq!(body["properties"]["error"]["required"], json!(["statusCode", "name", "message"]));
}
