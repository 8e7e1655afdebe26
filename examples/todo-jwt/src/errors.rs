//! LoopBack's error bodies for what the API itself refuses: 400, 404 `ENTITY_NOT_FOUND`, 409,
//! 422 `VALIDATION_FAILED` with `details`, and 503 `SERVICE_UNAVAILABLE` with `Retry-After` when
//! the database fails (its cause is logged, never sent).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

/// What a 503 tells the client to wait: a restarting database is back within seconds.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// One failed check of a request body, in LoopBack's `details` shape.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Detail {
    /// Where, e.g. `/title`.
    pub path: String,
    /// A keyword: `required`, `type`, `format`, `minLength`, `additionalProperties`.
    pub code: &'static str,
    /// For people.
    pub message: String,
}

/// An error answered with LoopBack's JSON body.
#[derive(Debug)]
pub enum ApiError {
    /// 400 with a code, e.g. `INVALID_PARAMETER_VALUE`.
    BadRequest { code: &'static str, message: String },
    /// 422 `VALIDATION_FAILED`.
    Validation(Vec<Detail>),
    /// 404 `ENTITY_NOT_FOUND`.
    NotFound { entity: &'static str, id: String },
    /// 409, e.g. an email already registered.
    Conflict(String),
    /// 503: the database (or the system's random generator) failed; the cause is logged, never
    /// sent, and the client is told when to retry.
    Unavailable(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::BadRequest { message, .. } | ApiError::Conflict(message) => f.write_str(message),
            ApiError::Validation(_) => f.write_str("validation failed"),
            ApiError::NotFound { entity, id } => write!(f, "Entity not found: {entity} with id {id}"),
            ApiError::Unavailable(cause) => write!(f, "unavailable: {cause}"),
        }
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// A 503 from any failure of the database, logged here.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        tracing::error!(%cause, "database failure");
        ApiError::Unavailable(cause.to_string())
    }
}

/// authn's store failing under the example's own queries (the PostgreSQL pool, its timeout).
impl From<authn::StoreError> for ApiError {
    fn from(error: authn::StoreError) -> Self {
        ApiError::unavailable(error)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (name, message, code, details) = match self {
            ApiError::BadRequest { code, message } => ("BadRequestError", message.clone(), Some(*code), None),
            ApiError::Validation(details) => (
                "UnprocessableEntityError",
                "The request body is invalid. See error object `details` property for more info.".to_owned(),
                Some("VALIDATION_FAILED"),
                Some(details),
            ),
            ApiError::NotFound { .. } => ("Error", self.to_string(), Some("ENTITY_NOT_FOUND"), None),
            ApiError::Conflict(message) => ("ConflictError", message.clone(), Some("CONFLICT"), None),
            ApiError::Unavailable(_) => (
                "ServiceUnavailableError",
                "The service is unavailable; retry later.".to_owned(),
                Some("SERVICE_UNAVAILABLE"),
                None,
            ),
        };
        let mut error = serde_json::json!({"statusCode": status.as_u16(), "name": name, "message": message});
        if let Some(code) = code {
            error["code"] = code.into();
        }
        if let Some(details) = details {
            error["details"] = serde_json::to_value(details).unwrap_or_default();
        }
        let mut response = HttpResponse::build(status);
        if let ApiError::Unavailable(_) = self {
            response.insert_header((actix_web::http::header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string()));
        }
        response.json(serde_json::json!({"error": error}))
    }
}

/// An authn error from login, refresh or logout, answered with authn's body; a 401 without a
/// challenge of its own gets the API's `Bearer` challenge (RFC 7235 wants one on every 401).
pub fn auth(error: authn::AuthError) -> actix_web::Error {
    let error = match error.challenge() {
        None if error.status() == StatusCode::UNAUTHORIZED => {
            error.with_challenge(authn::Challenge::new("Bearer").param("realm", "todo-jwt"))
        }
        _ => error,
    };
    error.into()
}
