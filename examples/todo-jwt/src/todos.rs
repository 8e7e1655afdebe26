//! The todo routes of LoopBack's todo-jwt example. Every query carries the caller's id: another
//! user's todos are not found, never shown, changed, counted or deleted.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use authn::{CurrentUser, authenticate};
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::errors::ApiError;
use crate::filter::{self, Filter};
use crate::validate;

#[derive(Deserialize)]
struct Params {
    filter: Option<String>,
    #[serde(rename = "where")]
    condition: Option<String>,
}

fn params(request: &HttpRequest) -> Result<Params, ApiError> {
    web::Query::<Params>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .map_err(|_| ApiError::BadRequest { code: "INVALID_PARAMETER_VALUE", message: "Invalid query string.".into() })
}

fn todo_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::BadRequest {
        code: "INVALID_PARAMETER_VALUE",
        message: format!("Invalid data {} for parameter \"id\".", serde_json::Value::String(raw.to_owned())),
    })
}

/// An empty `where` (or `filter`) is none: `?where=` is valid to the document, so it is to us.
fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

fn condition(request: &HttpRequest) -> Result<Option<filter::Where>, ApiError> {
    present(params(request)?.condition).as_deref().map(filter::parse_where).transpose()
}

/// Creates a todo owned by the caller.
#[utoipa::path(tag = "todos", request_body = crate::docs::NewTodo, responses((status = 200, description = "The created todo", body = crate::db::Todo), (status = 401, description = "Not authenticated"), (status = 422, description = "Invalid body")))]
#[authenticate("jwt")]
#[post("/todos")]
pub(crate) async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<Value>,
) -> actix_web::Result<HttpResponse> {
    let fields = validate::todo(&body, true)?;
    let todo = state.db.create_todo(user.id.clone(), fields).await?;
    Ok(HttpResponse::Ok().json(todo))
}

/// The caller's todos, filtered.
///
/// With LoopBack's `filter` (`where`, `limit`, `skip`, `order`) as JSON; an empty one is no filter.
#[utoipa::path(tag = "todos", params(("filter" = Option<String>, Query, description = "LoopBack filter JSON: where (equality, and/or), limit, skip, order")), responses((status = 200, description = "The caller's todos", body = Vec<crate::db::Todo>), (status = 401, description = "Not authenticated")))]
#[authenticate("jwt")]
#[get("/todos")]
pub(crate) async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    request: HttpRequest,
) -> actix_web::Result<HttpResponse> {
    let filter = present(params(&request)?.filter)
        .as_deref()
        .map(filter::parse_filter)
        .transpose()?
        .unwrap_or_else(Filter::default);
    Ok(HttpResponse::Ok().json(state.db.find_todos(user.id.clone(), filter).await?))
}

/// How many of the caller's todos match.
///
/// `{count}` of the caller's todos matching `where` (JSON; empty or absent: all of them).
#[utoipa::path(tag = "todos", params(("where" = Option<String>, Query, description = "LoopBack where JSON")), responses((status = 200, description = "How many match", body = crate::docs::Count), (status = 401, description = "Not authenticated")))]
#[authenticate("jwt")]
#[get("/todos/count")]
pub(crate) async fn count(
    state: web::Data<AppState>,
    user: CurrentUser,
    request: HttpRequest,
) -> actix_web::Result<HttpResponse> {
    let condition = condition(&request)?;
    let total = state.db.count_todos(user.id.clone(), condition).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"count": total})))
}

/// Patches the caller's todos that match.
///
/// Every one matching `where`, in one transaction; answers `{count}`.
#[utoipa::path(tag = "todos", params(("where" = Option<String>, Query, description = "LoopBack where JSON")), request_body = crate::docs::TodoPatch, responses((status = 200, description = "How many were changed", body = crate::docs::Count), (status = 401, description = "Not authenticated")))]
#[authenticate("jwt")]
#[patch("/todos")]
pub(crate) async fn patch_all(
    state: web::Data<AppState>,
    user: CurrentUser,
    request: HttpRequest,
    body: web::Json<Value>,
) -> actix_web::Result<HttpResponse> {
    let condition = condition(&request)?;
    let fields = validate::todo(&body, false)?;
    let changed = state.db.update_todos(user.id.clone(), condition, fields).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"count": changed})))
}

/// One todo.
#[utoipa::path(tag = "todos", params(("id" = i64, Path, description = "Todo id")), responses((status = 200, description = "The todo", body = crate::db::Todo), (status = 401, description = "Not authenticated"), (status = 404, description = "ENTITY_NOT_FOUND")))]
#[authenticate("jwt")]
#[get("/todos/{id}")]
pub(crate) async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    let id = todo_id(&id)?;
    Ok(HttpResponse::Ok().json(state.db.get_todo(user.id.clone(), id).await?))
}

async fn update(
    state: &AppState,
    owner: String,
    id: &str,
    body: &Value,
    complete: bool,
) -> actix_web::Result<HttpResponse> {
    let id = todo_id(id)?;
    let fields = validate::todo(body, complete)?;
    let condition = filter::Where::Eq(filter::Column::Id, filter::Scalar::Integer(id));
    match state.db.update_todos(owner, Some(condition), fields).await? {
        0 => Err(ApiError::NotFound { entity: "Todo", id: id.to_string() }.into()),
        _ => Ok(HttpResponse::NoContent().finish()),
    }
}

/// Replaces a todo.
#[utoipa::path(tag = "todos", params(("id" = i64, Path, description = "Todo id")), request_body = crate::docs::NewTodo, responses((status = 204, description = "Replaced"), (status = 401, description = "Not authenticated"), (status = 404, description = "ENTITY_NOT_FOUND")))]
#[authenticate("jwt")]
#[put("/todos/{id}")]
pub(crate) async fn replace(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> actix_web::Result<HttpResponse> {
    update(&state, user.id.clone(), &id, &body, true).await
}

/// Merges fields into a todo.
#[utoipa::path(tag = "todos", params(("id" = i64, Path, description = "Todo id")), request_body = crate::docs::TodoPatch, responses((status = 204, description = "Merged"), (status = 401, description = "Not authenticated"), (status = 404, description = "ENTITY_NOT_FOUND")))]
#[authenticate("jwt")]
#[patch("/todos/{id}")]
pub(crate) async fn patch_one(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> actix_web::Result<HttpResponse> {
    update(&state, user.id.clone(), &id, &body, false).await
}

/// Deletes a todo.
#[utoipa::path(tag = "todos", params(("id" = i64, Path, description = "Todo id")), responses((status = 204, description = "Deleted"), (status = 401, description = "Not authenticated"), (status = 404, description = "ENTITY_NOT_FOUND")))]
#[authenticate("jwt")]
#[delete("/todos/{id}")]
pub(crate) async fn remove(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    let id = todo_id(&id)?;
    state.db.delete_todo(user.id.clone(), id).await?;
    Ok(HttpResponse::NoContent().finish())
}
