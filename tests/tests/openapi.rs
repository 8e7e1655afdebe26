//! OpenAPI security from the route report: alternatives per strategy, scopes, optional, skip.

use actix_web::get;
use authn::openapi::RouteSecurity;
use authn::{CurrentUser, authenticate};
use serde_json::json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};

#[get("/optional")]
#[authenticate("jwt", scopes = ["todo:read"], "api-key")]
async fn optional(user: Option<CurrentUser>) -> String {
    user.map(|u| u.id.clone()).unwrap_or_default()
}

#[get("/mixed")]
#[authenticate("jwt", "some-custom-strategy")]
async fn mixed(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate(skip)]
#[get("/public")]
async fn public() -> &'static str {
    "public"
}

fn spec(name: &str) -> &'static authn::RouteSpec {
    authn::routes().iter().find(|r| r.handler == name).unwrap()
}

#[test]
fn requirements_follow_the_attribute() {
    let security = RouteSecurity::new().scheme(
        "api-key",
        "serviceKey",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-service-key"))),
    );
    let alternatives = serde_json::to_value(security.requirements(spec("optional"))).unwrap();
    assert_eq!(alternatives, json!([{"jwt": ["todo:read"]}, {"serviceKey": []}, {}]));
    assert_eq!(serde_json::to_value(security.requirements(spec("public"))).unwrap(), json!([]));
    // Built-in strategies come mapped; one without a documented scheme is left out rather
    // than invented.
    let defaults = RouteSecurity::new();
    assert_eq!(
        serde_json::to_value(defaults.requirements(spec("optional"))).unwrap(),
        json!([{"jwt": ["todo:read"]}, {"apiKey": []}, {}])
    );
    assert_eq!(serde_json::to_value(defaults.requirements(spec("mixed"))).unwrap(), json!([{"jwt": []}]));
}
