//! The OpenAPI document: request and response shapes for the spec, and the document itself,
//! whose per-operation `security` comes from each handler's `#[authenticate]`.

use serde::Serialize;
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshGrant {
    #[schema(min_length = 1)]
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTodo {
    #[schema(min_length = 1)]
    pub title: String,
    pub desc: Option<String>,
    pub is_complete: Option<bool>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TodoPatch {
    /// Absent leaves the title alone; it cannot be cleared.
    #[schema(min_length = 1, nullable = false)]
    pub title: Option<String>,
    pub desc: Option<String>,
    pub is_complete: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct Count {
    pub count: i64,
}

/// Security from the route report (`authn::openapi`), which also documents authn's 401s; then
/// what the server itself answers.
pub struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        authn::openapi::RouteSecurity::new().modify(openapi);
        Contract.modify(openapi);
    }
}

/// The statuses the app answers itself, per operation, besides success and authn's 401: the
/// document says every status the server can give.
const ERRORS: &[(&str, &str, &[u16])] = &[
    ("get", "/ping", &[431]),
    ("post", "/signup", &[400, 409, 413, 422, 431, 503]),
    ("post", "/users/login", &[400, 401, 413, 422, 429, 431, 503]),
    ("post", "/users/refresh-login", &[400, 401, 413, 422, 429, 431, 503]),
    ("post", "/refresh", &[400, 401, 413, 422, 431, 503]),
    ("post", "/users/logout", &[400, 413, 422, 431, 503]),
    ("get", "/whoAmI", &[431, 503]),
    ("post", "/todos", &[400, 413, 422, 431, 503]),
    ("get", "/todos", &[400, 431, 503]),
    ("get", "/todos/count", &[400, 431, 503]),
    ("patch", "/todos", &[400, 413, 422, 431, 503]),
    ("get", "/todos/{id}", &[400, 404, 431, 503]),
    ("put", "/todos/{id}", &[400, 404, 413, 422, 431, 503]),
    ("patch", "/todos/{id}", &[400, 404, 413, 422, 431, 503]),
    ("delete", "/todos/{id}", &[400, 404, 431, 503]),
];

fn describe(status: u16) -> &'static str {
    match status {
        400 => "The body is not JSON, or a parameter cannot be read (INVALID_PARAMETER_VALUE)",
        401 => "Invalid email, password or refresh token",
        404 => "No such todo of the caller's (ENTITY_NOT_FOUND)",
        409 => "Email already registered",
        413 => "The body is over 64 KiB",
        422 => "The body does not fit its schema (VALIDATION_FAILED, with details)",
        429 => "Too many failed logins: retry after Retry-After seconds",
        431 => "The request's headers are over 16 KiB",
        503 => "The database is unavailable, or password hashing is at its bound: retry after Retry-After seconds",
        _ => "Error",
    }
}

/// The `where` of LoopBack's filters as the server reads it: equality on properties, `and`/`or`.
fn where_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "description": "Equality on properties (`null` matches a missing value), combined with `and` / `or`.",
        "additionalProperties": false,
        "properties": {
            "id": {"type": ["integer", "null"], "format": "int64",
                   "minimum": i64::MIN, "maximum": i64::MAX},
            "title": {"type": ["string", "null"]},
            "desc": {"type": ["string", "null"]},
            "isComplete": {"type": ["boolean", "null"]},
            "and": {"type": "array", "items": {"$ref": "#/components/schemas/TodoWhere"}},
            "or": {"type": "array", "items": {"$ref": "#/components/schemas/TodoWhere"}}
        }
    })
}

fn filter_schema() -> serde_json::Value {
    let order = serde_json::json!({"type": "string", "pattern": "^(id|title|desc|isComplete)( (ASC|DESC|asc|desc))?$"});
    let count = serde_json::json!({"type": "integer", "minimum": 0, "maximum": 10000});
    serde_json::json!({
        "type": "object",
        "description": "LoopBack's filter: `where`, `limit`, `skip` (or `offset`), `order`.",
        "additionalProperties": false,
        "properties": {
            "where": {"$ref": "#/components/schemas/TodoWhere"},
            "limit": count,
            "skip": count,
            "offset": count,
            "order": {"oneOf": [order, {"type": "array", "items": order}]}
        }
    })
}

/// A query parameter holding JSON of `schema` (an empty value means none), with an example the
/// server accepts (the explorer pre-fills it).
fn json_query(
    name: &str,
    description: &str,
    schema: &str,
    example: serde_json::Value,
) -> utoipa::openapi::RefOr<utoipa::openapi::path::Parameter> {
    let parameter = serde_json::json!({
        "name": name,
        "in": "query",
        "required": false,
        "description": description,
        "content": {"application/json": {
            "schema": {"$ref": format!("#/components/schemas/{schema}")},
            "example": example
        }}
    });
    utoipa::openapi::RefOr::T(serde_json::from_value(parameter).expect("a valid parameter"))
}

/// The todo id path parameter: a 64-bit integer (anything else answers 400).
fn id_parameter() -> utoipa::openapi::RefOr<utoipa::openapi::path::Parameter> {
    let parameter = serde_json::json!({
        "name": "id",
        "in": "path",
        "required": true,
        "description": "Todo id",
        "schema": {"type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX}
    });
    utoipa::openapi::RefOr::T(serde_json::from_value(parameter).expect("a valid parameter"))
}

/// Statuses, parameters and schemas exactly as the server has them.
struct Contract;

impl Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let error = |status: u16| -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
            let mut response = serde_json::json!({
                "description": describe(status),
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{}", authn::openapi::ERROR_BODY)}}}
            });
            if matches!(status, 429 | 503) {
                response["headers"] = serde_json::json!({"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}});
            }
            serde_json::from_value(response).expect("a valid response")
        };
        for (method, path, statuses) in ERRORS {
            let Some(item) = openapi.paths.paths.get_mut(*path) else { continue };
            let operation = match *method {
                "get" => item.get.as_mut(),
                "post" => item.post.as_mut(),
                "put" => item.put.as_mut(),
                "patch" => item.patch.as_mut(),
                "delete" => item.delete.as_mut(),
                _ => None,
            };
            let Some(operation) = operation else { continue };
            for status in *statuses {
                operation.responses.responses.insert(status.to_string(), error(*status));
            }
            let parameters = operation.parameters.get_or_insert_with(Vec::new);
            parameters.retain(|p| match p {
                utoipa::openapi::RefOr::T(p) => !matches!(p.name.as_str(), "filter" | "where" | "id"),
                utoipa::openapi::RefOr::Ref(_) => true,
            });
            match (*method, *path) {
                ("get", "/todos") => parameters.push(json_query(
                    "filter",
                    "LoopBack filter (JSON)",
                    "TodoFilter",
                    serde_json::json!({"where": {"isComplete": null}, "order": "id DESC", "limit": 10}),
                )),
                (_, "/todos/count") | ("patch", "/todos") => parameters.push(json_query(
                    "where",
                    "LoopBack where (JSON)",
                    "TodoWhere",
                    serde_json::json!({"isComplete": null}),
                )),
                (_, "/todos/{id}") => parameters.push(id_parameter()),
                _ => {}
            }
            if parameters.is_empty() {
                operation.parameters = None;
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, schema) in [("TodoWhere", where_schema()), ("TodoFilter", filter_schema())] {
            components.schemas.insert(name.to_owned(), serde_json::from_value(schema).expect("a valid schema"));
        }
    }
}

/// A documented path and the methods the document gives it.
struct DocumentedPath {
    segments: Vec<String>,
    methods: Vec<&'static str>,
}

impl DocumentedPath {
    /// Whether `path` is this one, as OpenAPI matches paths: `{...}` stands for one segment.
    fn matches(&self, path: &str) -> bool {
        let mut given = path.strip_prefix('/').unwrap_or(path).split('/');
        self.segments.iter().all(|segment| match given.next() {
            Some(part) => part == segment || (segment.starts_with('{') && !part.is_empty()),
            None => false,
        }) && given.next().is_none()
    }
}

/// The methods the document allows on `path`, when it documents that path: literal paths are
/// matched before templated ones (`/todos/count` before `/todos/{id}`), as OpenAPI says.
pub fn allowed_methods(path: &str) -> Option<&'static [&'static str]> {
    static PATHS: std::sync::LazyLock<Vec<DocumentedPath>> = std::sync::LazyLock::new(|| {
        let doc = <ApiDoc as OpenApi>::openapi();
        let mut paths: Vec<DocumentedPath> = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                DocumentedPath {
                    segments: path.trim_start_matches('/').split('/').map(str::to_owned).collect(),
                    methods: methods.into_iter().filter(|(_, on)| *on).map(|(m, _)| m).collect(),
                }
            })
            .collect();
        paths.sort_by_key(|p| p.segments.iter().filter(|s| s.starts_with('{')).count());
        paths
    });
    PATHS.iter().find(|p| p.matches(path)).map(|p| p.methods.as_slice())
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
