//! The built-in strategies, one module each, and what they share: where their configuration
//! is found, and LoopBack's messages common to every `Authorization` scheme.
// Each helper serves some of the strategies; a build with only some of them leaves others unused.
#![cfg_attr(not(all(feature = "jwt", feature = "basic", feature = "api-key", feature = "oauth2")), allow(dead_code))]

use actix_web::{HttpRequest, web};

use crate::AuthError;

#[cfg(feature = "api-key")]
pub mod api_key;
#[cfg(feature = "basic")]
pub mod basic;
#[cfg(feature = "jwt")]
pub mod jwt;
#[cfg(feature = "oauth2")]
pub mod oauth2;

/// LoopBack's message when a request has no `Authorization` header, whatever the scheme.
pub(crate) const HEADER_NOT_FOUND: &str = "Authorization header not found.";

/// The configuration `T` of a built-in strategy, registered as app data either bare
/// (`app_data(config)`, the convention) or shared (`app_data(web::Data::new(config))`).
/// Missing, it is the app's set-up mistake: answered 500 `AUTHENTICATION_MISCONFIGURED`
/// without detail, and logged once per strategy with what to add.
pub(crate) fn app_config<'r, T: 'static>(request: &'r HttpRequest, strategy: &'static str) -> Result<&'r T, AuthError> {
    if let Some(config) = request.app_data::<T>() {
        return Ok(config);
    }
    if let Some(config) = request.app_data::<web::Data<T>>() {
        return Ok(config.get_ref());
    }
    static REPORTED: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let first = REPORTED.lock().map(|mut reported| {
        let first = !reported.contains(&strategy);
        if first {
            reported.push(strategy);
        }
        first
    });
    if first.unwrap_or(true) {
        let type_name = std::any::type_name::<T>().rsplit("::").next().unwrap_or_default();
        tracing::error!(
            strategy,
            "the \"{strategy}\" strategy needs a {type_name} in the app data: App::new().app_data(config); \
             authn::validate_with(&[&config]) checks this at start-up"
        );
    }
    Err(AuthError::misconfigured())
}
