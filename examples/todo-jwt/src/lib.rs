//! LoopBack's `examples/todo-jwt` on authn: sign up, log in (JWT, refresh tokens), and keep a
//! private list of todos, on an embedded SQLite file.

pub mod baseline;
pub mod db;
pub mod docs;
pub mod errors;
pub mod filter;
pub mod secret;
mod todos;
mod users;
mod validate;

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, error, get, web};
use authn::authenticate;
use authn::jwt::{JwtConfig, JwtTokenService, RefreshTokenService};
use authn::users::DefaultUserService;

use crate::db::Database;

/// What every handler shares.
pub struct AppState {
    pub db: Database,
    pub users: DefaultUserService,
    pub tokens: JwtTokenService,
    pub refresh: RefreshTokenService,
}

impl AppState {
    /// The services over `db`, with `config` (which holds the token store).
    pub fn new(db: Database, config: JwtConfig, users: DefaultUserService) -> Result<Self, authn::jwt::JwtConfigError> {
        let refresh = RefreshTokenService::new(config.clone(), Arc::new(users.clone()))?;
        Ok(AppState { db, users, tokens: JwtTokenService::new(config), refresh })
    }
}

/// Health check.
#[utoipa::path(tag = "ops", responses((status = 200, description = "The server is running")))]
#[authenticate(skip)]
#[get("/ping")]
async fn ping() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"running": true}))
}

/// A JSON body that does not parse is LoopBack's 400; one that is too large, 413.
fn json_error(error: error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let status = match &error {
        error::JsonPayloadError::OverflowKnownLength { .. } | error::JsonPayloadError::Overflow { .. } => 413,
        _ => 400,
    };
    let (name, message) = match status {
        413 => ("PayloadTooLargeError", "Request body is too large.".to_owned()),
        _ => ("BadRequestError", "Request body is not valid JSON.".to_owned()),
    };
    let body = serde_json::json!({"error": {"statusCode": status, "name": name, "message": message}});
    let status = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    error::InternalError::from_response(error, HttpResponse::build(status).json(body)).into()
}

/// Request headers larger than this, all together, are answered 431. actix itself refuses
/// only past 128 KiB; a JWT needs a fraction of this.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

async fn limit_headers(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> actix_web::Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>> {
    let size: usize = request.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if size > MAX_HEADER_BYTES {
        let status = actix_web::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
        let body = serde_json::json!({"error": {"statusCode": 431, "name": "RequestHeaderFieldsTooLargeError",
            "message": "Request header fields are too large."}});
        return Ok(request.into_response(HttpResponse::build(status).json(body)).map_into_right_body());
    }
    next.call(request).await.map(actix_web::dev::ServiceResponse::map_into_left_body)
}

/// Mounts the API. `config` and `state` become app data.
pub fn configure(config: JwtConfig, state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    mount(config, state, None)
}

/// The API plus the hand-written `/baseline/whoAmI` of the load benchmark, behind the same
/// middleware so that the comparison is fair.
pub fn configure_with_baseline(
    config: JwtConfig,
    state: web::Data<AppState>,
    baseline: web::Data<baseline::Baseline>,
) -> impl FnOnce(&mut web::ServiceConfig) {
    mount(config, state, Some(baseline))
}

fn mount(
    config: JwtConfig,
    state: web::Data<AppState>,
    baseline: Option<web::Data<baseline::Baseline>>,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        if let Some(baseline) = baseline {
            cfg.app_data(baseline);
        }
        cfg.app_data(config)
            .app_data(state)
            .app_data(web::JsonConfig::default().limit(64 * 1024).error_handler(json_error));
        cfg.service(
            web::scope("")
                .wrap(actix_web::middleware::from_fn(method_not_allowed))
                .wrap(actix_web::middleware::from_fn(limit_headers))
                // LoopBack sends it with every error: no JSON body is ever sniffed as HTML.
                .wrap(actix_web::middleware::DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff")))
                .service(ping)
                .service(users::signup)
                .service(users::login)
                .service(users::refresh_login)
                .service(users::refresh)
                .service(users::logout)
                .service(users::who_am_i)
                // Right after /whoAmI: both pay the same route matching (actix tries resources in
                // order), so the load benchmark compares the handlers, not their positions.
                .route("/baseline/whoAmI", web::get().to(baseline::who_am_i))
                // `/todos/count` before `/todos/{id}`: actix tries resources in order.
                .service(todos::count)
                .service(todos::create)
                .service(todos::list)
                .service(todos::patch_all)
                .service(todos::show)
                .service(todos::replace)
                .service(todos::patch_one)
                .service(todos::remove)
                // Last: its `{_:.*}` pattern is a regex, which every request routed past it would
                // pay (actix tries resources in order).
                .service(utoipa_swagger_ui::SwaggerUi::new("/explorer/{_:.*}").url("/openapi.json", docs_openapi()))
                .default_service(web::to(no_route)),
        );
    }
}

/// A documented path with a method it does not serve: 405 with `Allow` (RFC 9110 §15.5.6),
/// matched as the document matches paths, before routing (where `PUT /todos/count` would reach
/// `PUT /todos/{id}`).
async fn method_not_allowed(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> actix_web::Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>> {
    let path = request.match_info().as_str();
    if let Some(methods) = docs::allowed_methods(path)
        && !methods.contains(&request.method().as_str())
    {
        let body = serde_json::json!({"error": {"statusCode": 405, "name": "MethodNotAllowedError",
            "message": format!("{} is not allowed on this path.", request.method())}});
        let response = HttpResponse::MethodNotAllowed().insert_header(("Allow", methods.join(", "))).json(body);
        return Ok(request.into_response(response).map_into_right_body());
    }
    next.call(request).await.map(actix_web::dev::ServiceResponse::map_into_left_body)
}

/// No route: LoopBack's 404 body.
async fn no_route() -> HttpResponse {
    HttpResponse::NotFound().json(
        serde_json::json!({"error": {"statusCode": 404, "name": "NotFoundError", "message": "Endpoint not found."}}),
    )
}

fn docs_openapi() -> utoipa::openapi::OpenApi {
    <docs::ApiDoc as utoipa::OpenApi>::openapi()
}

/// A random v4 UUID for user ids.
pub fn random_uuid() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]))
}
