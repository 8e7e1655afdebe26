//! LoopBack's user routes: signup, login, refresh-login, refresh, logout, whoAmI.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use authn::events::Origin;
use authn::jwt::TokenService;
use authn::users::{Credentials, UserService};
use authn::{CurrentUser, authenticate};
use serde_json::Value;

use crate::AppState;
use crate::db::NewUser;
use crate::errors::{self, ApiError};
use crate::validate;

/// Signs up a user.
///
/// `{email, password, username?}` → the user, without any password field. The id is the
/// server's: a client cannot choose one, so it cannot take another user's over.
#[utoipa::path(tag = "users", request_body = crate::docs::NewUser, responses((status = 200, description = "The user, without any password field", body = crate::docs::User), (status = 409, description = "Email already registered"), (status = 422, description = "Invalid body")))]
#[authenticate(skip)]
#[post("/signup")]
pub(crate) async fn signup(state: web::Data<AppState>, body: web::Json<Value>) -> actix_web::Result<HttpResponse> {
    let (email, password, map) = validate::credentials(&body, &["username"])?;
    let username = validate::username(map)?;
    let password_hash = state.users.hasher().hash(&password).await.map_err(errors::auth)?;
    let id = crate::random_uuid().map_err(ApiError::unavailable)?;
    state
        .db
        .insert_user(NewUser { id: id.clone(), email: email.clone(), username: username.clone(), password_hash })
        .await?;
    tracing::info!(user = %id, "signed up");
    let mut user = serde_json::json!({"id": id, "email": email});
    if let Some(username) = username {
        user["username"] = username.into();
    }
    Ok(HttpResponse::Ok().json(user))
}

/// The user these credentials name. Failures count against the login and the client's address
/// (the login throttle: 429 with `Retry-After` after repeated failures).
async fn verified(state: &AppState, request: &HttpRequest, body: &Value) -> actix_web::Result<authn::UserProfile> {
    let (email, password, _) = validate::credentials(body, &[])?;
    let origin = Origin::of(request);
    state.users.verify_credentials_from(&Credentials::new(email, password), &origin).await.map_err(errors::auth)
}

/// Logs in: an access token.
///
/// `{email, password}` → `{token}`.
#[utoipa::path(tag = "users", request_body = crate::docs::Credentials, responses((status = 200, description = "An access token", body = crate::docs::Token), (status = 401, description = "Invalid email or password.")))]
#[authenticate(skip)]
#[post("/users/login")]
pub(crate) async fn login(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<Value>,
) -> actix_web::Result<HttpResponse> {
    let profile = verified(&state, &request, &body).await?;
    let issued = state.tokens.generate_token(&profile).map_err(errors::auth)?;
    Ok(authn::jwt::token_response(&serde_json::json!({"token": issued.token})))
}

/// Logs in: an access token and a refresh token.
///
/// `{email, password}` → `{accessToken, refreshToken, expiresIn}`.
#[utoipa::path(tag = "users", request_body = crate::docs::Credentials, responses((status = 200, description = "A token pair", body = crate::docs::TokenPair), (status = 401, description = "Invalid email or password.")))]
#[authenticate(skip)]
#[post("/users/refresh-login")]
pub(crate) async fn refresh_login(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<Value>,
) -> actix_web::Result<HttpResponse> {
    let profile = verified(&state, &request, &body).await?;
    Ok(authn::jwt::token_response(&state.refresh.issue(&profile).await.map_err(errors::auth)?))
}

/// Exchanges a refresh token for a new pair.
///
/// `{refreshToken}` → a new pair; the old refresh token stops working.
#[utoipa::path(tag = "users", request_body = crate::docs::RefreshGrant, responses((status = 200, description = "A new token pair; the old refresh token stops working", body = crate::docs::TokenPair), (status = 401, description = "Invalid or reused refresh token")))]
#[authenticate(skip)]
#[post("/refresh")]
pub(crate) async fn refresh(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<Value>,
) -> actix_web::Result<HttpResponse> {
    let token = validate::refresh_token(&body)?;
    let pair = state.refresh.refresh_from(&token, &Origin::of(&request)).await.map_err(errors::auth)?;
    Ok(authn::jwt::token_response(&pair))
}

/// Ends the session: the bearer token and the refresh token's family are revoked.
#[utoipa::path(tag = "users", request_body = crate::docs::RefreshGrant, responses((status = 204, description = "Access token and refresh-token family revoked"), (status = 401, description = "Not authenticated")))]
#[authenticate("jwt")]
#[post("/users/logout")]
pub(crate) async fn logout(
    state: web::Data<AppState>,
    request: HttpRequest,
    _user: CurrentUser,
    body: web::Json<Value>,
) -> actix_web::Result<HttpResponse> {
    let token = validate::refresh_token(&body)?;
    let access = state.tokens.config().presented_token(&request);
    state.refresh.logout_from(Some(&token), access, &Origin::of(&request)).await.map_err(errors::auth)?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's id, as text.
#[utoipa::path(tag = "users", responses((status = 200, description = "The user id", body = String, content_type = "text/plain"), (status = 401, description = "Not authenticated")))]
#[authenticate("jwt")]
#[get("/whoAmI")]
pub(crate) async fn who_am_i(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body(user.id.clone())
}
