//! The OpenAPI document: request and response shapes for the spec, and the document itself,
//! whose per-operation `security` comes from each handler's `#[authenticate]`.

use serde::Serialize;
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct NewUser {
    #[schema(format = "email")]
    pub email: String,
    #[schema(min_length = 8)]
    pub password: String,
    pub username: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub username: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Credentials {
    #[schema(format = "email")]
    pub email: String,
    #[schema(min_length = 8)]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Token {
    pub token: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshGrant {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewTodo {
    #[schema(min_length = 1)]
    pub title: String,
    pub desc: Option<String>,
    pub is_complete: Option<bool>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TodoPatch {
    pub title: Option<String>,
    pub desc: Option<String>,
    pub is_complete: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct Count {
    pub count: i64,
}

/// Security from the route report (`authn::openapi`).
pub struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        authn::openapi::RouteSecurity::new().modify(openapi);
    }
}

/// The API's OpenAPI 3 document.
#[derive(OpenApi)]
#[openapi(
    info(title = "todo-jwt", description = "LoopBack's todo-jwt API on authn"),
    paths(
        crate::ping,
        crate::users::signup,
        crate::users::login,
        crate::users::refresh_login,
        crate::users::refresh,
        crate::users::logout,
        crate::users::who_am_i,
        crate::todos::create,
        crate::todos::list,
        crate::todos::count,
        crate::todos::patch_all,
        crate::todos::show,
        crate::todos::replace,
        crate::todos::patch_one,
        crate::todos::remove,
    ),
    components(schemas(crate::db::Todo)),
    modifiers(&Security)
)]
pub struct ApiDoc;
