//! Test helpers for apps built with authn (feature `test-util`; enable it in
//! `[dev-dependencies]` only).
//!
//! - [`as_user`] marks a request built with actix's test harness as authenticated: every
//!   `#[authenticate]` handler and [`Group`](crate::Group) on its way accepts it without running
//!   any strategy, so a handler test needs no token, user store or key. The route's `scopes`
//!   options are still checked against the profile, so 403 paths stay testable. Only code
//!   that builds the request can do this: nothing a client sends can set request extensions.
//! - [`bearer`] (feature `jwt`) mints a real token for a profile with the app's own
//!   [`JwtConfig`](crate::jwt::JwtConfig), for tests that exercise the whole strategy.
//!
//! ```
//! use actix_web::{get, test, App};
//! use authn::{authenticate, CurrentUser, UserProfile};
//!
//! #[authenticate("jwt")]
//! #[get("/whoAmI")]
//! async fn who_am_i(user: CurrentUser) -> String {
//!     user.id.clone()
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let app = test::init_service(App::new().service(who_am_i)).await;
//! let request = authn::test::as_user(test::TestRequest::get().uri("/whoAmI"), UserProfile::new("42"));
//! let body = test::call_and_read_body(&app, request).await;
//! assert_eq!(body, "42");
//! # });
//! ```

use actix_web::HttpMessage;
use actix_web::test::TestRequest;

use crate::UserProfile;

/// The profile a test put on a request (see [`as_user`]).
#[derive(Debug, Clone)]
pub(crate) struct TestUser(pub(crate) UserProfile);

/// The request, authenticated as `profile` for every `#[authenticate]` route and group.
pub fn as_user(request: TestRequest, profile: UserProfile) -> actix_http::Request {
    let request = request.to_request();
    request.extensions_mut().insert(TestUser(profile));
    request
}

/// An `Authorization` header value, `Bearer <jwt>`, for `profile`, signed with the app's
/// configuration (so its issuer, audience, lifetime and key apply).
///
/// ```
/// use authn::jwt::{Algorithm, JwtConfig, JwtKey};
/// use authn::UserProfile;
///
/// let config = JwtConfig::builder().key(JwtKey::hmac(Algorithm::HS256, &[7; 32])?).build()?;
/// let header = authn::test::bearer(&config, &UserProfile::new("42"));
/// assert!(header.starts_with("Bearer ey"));
/// # Ok::<(), authn::jwt::JwtConfigError>(())
/// ```
///
/// # Panics
/// When the configuration cannot sign (it holds only public keys): a test set-up mistake.
#[cfg(feature = "jwt")]
pub fn bearer(config: &crate::jwt::JwtConfig, profile: &UserProfile) -> String {
    use crate::jwt::TokenService as _;
    let issued = crate::jwt::JwtTokenService::new(config.clone())
        .generate_token(profile)
        .unwrap_or_else(|e| panic!("authn::test::bearer: this JwtConfig cannot sign tokens ({e})"));
    format!("Bearer {}", issued.token)
}
