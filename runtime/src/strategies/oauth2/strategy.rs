//! The `"oauth2"` strategy: the login redirect and the callback of the authorization-code flow.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, web};
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, Scope, TokenResponse};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::config::{OAuth2Config, Provider};
use super::flow::Flow;
use crate::events::{EventKind, Origin, SecurityEvent, emit};
use crate::options::{OptionKind, OptionSpec};
use crate::users::ExternalIdentity;
use crate::{AuthError, AuthenticationStrategy, Outcome, Redirect, StrategyOptions};

/// The route names a provider that is not configured.
pub const UNKNOWN_PROVIDER: &str = "Unknown OAuth2 provider.";
/// The provider sent the user back with an error (they declined, say).
pub const PROVIDER_ERROR: &str = "The OAuth2 provider did not authorize the login.";
/// The callback's `state` is missing, expired, forged, or was issued to another browser.
pub const STATE_MISMATCH: &str = "Invalid OAuth2 state.";
/// The code exchange or the user-info call failed; details are in the log.
pub const UPSTREAM_FAILURE: &str = "The OAuth2 login could not be completed.";

/// The login redirect and the callback of the authorization-code flow, configured by the app's
/// [`OAuth2Config`]. Route option: `provider = "..."` for routes without a `{provider}` segment.
#[derive(Debug, Default)]
pub struct OAuth2Strategy;

/// The callback's query (RFC 6749 §4.1.2 and §4.1.2.1).
#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn config_of(request: &HttpRequest) -> Result<&OAuth2Config, AuthError> {
    crate::strategies::app_config(request, "oauth2")
}

fn rejected(message: &'static str) -> AuthError {
    AuthError::unauthorized(message).stop_chain()
}

/// The callback is refused: one `oauth2_callback_refused` event, and the 401.
fn refused(request: &HttpRequest, message: &'static str, reason: &'static str) -> AuthError {
    callback_refused(request, reason);
    rejected(message)
}

fn callback_refused(request: &HttpRequest, reason: &'static str) {
    let event = SecurityEvent::new(EventKind::OAuth2CallbackRefused).strategy("oauth2").reason(reason);
    emit(&Origin::of(request), event);
}

fn upstream(provider: &Provider, step: &str, error: impl std::fmt::Display) -> AuthError {
    tracing::warn!(provider = %provider.name, step, %error, "OAuth2 login failed");
    rejected(UPSTREAM_FAILURE)
}

/// Starts a login: 303 to the authorize URL, the flow in a cookie.
fn start(config: &OAuth2Config, provider: &Provider) -> Result<Outcome, AuthError> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut authorize = provider.client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge);
    for scope in &provider.scopes {
        authorize = authorize.add_scope(Scope::new(scope.clone()));
    }
    let (url, state) = authorize.url();
    let ttl = config.inner.flow_ttl;
    let flow = Flow::new(&provider.name, state.secret().clone(), verifier.secret().clone(), ttl);
    let cookie = flow
        .cookie(&config.inner.key, ttl, provider.secure)
        .and_then(|c| HeaderValue::from_str(&c).ok())
        .ok_or_else(AuthError::internal)?;
    Ok(Outcome::Redirect(Redirect::to(url.to_string()).with_header(header::SET_COOKIE, cookie)))
}

/// Finishes a login: state, code exchange, user info, local user.
async fn finish(
    request: &HttpRequest,
    config: &OAuth2Config,
    provider: &Provider,
    code: String,
    state: &str,
) -> Result<Outcome, AuthError> {
    let flow = Flow::from_request(request, &config.inner.key, state, provider.secure)
        .filter(|flow| flow.matches(&provider.name, state))
        .ok_or_else(|| rejected(STATE_MISMATCH))?;
    // Used once, whatever comes next: a reloaded callback must not send this code again.
    if let Ok(removal) = HeaderValue::from_str(&Flow::removal(state, provider.secure)) {
        crate::append_header(request, header::SET_COOKIE, removal);
    }
    let http = &config.inner.http;
    let token = provider
        .client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier))
        .request_async(http)
        .await
        .map_err(|e| upstream(provider, "code exchange", e))?;
    let response = http
        .get(provider.userinfo_url.clone())
        .bearer_auth(token.access_token().secret())
        .header("accept", "application/json")
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| upstream(provider, "user info", e))?;
    let body = crate::util::http::read_capped(response, MAX_USERINFO_BYTES)
        .await
        .map_err(|e| upstream(provider, "user info", e))?;
    let info: Map<String, Value> = serde_json::from_slice(&body).map_err(|e| upstream(provider, "user info", e))?;
    let identity = identity_of(&provider.name, info).ok_or_else(|| upstream(provider, "user info", "no sub or id"))?;
    let profile = config.inner.identities.find_or_create_user(&identity).await?;
    Ok(Outcome::User(profile))
}

/// The largest user-info answer read: a few claims, not a download.
const MAX_USERINFO_BYTES: usize = 64 * 1024;

/// The external identity in a user-info answer: OpenID Connect's `sub`, or the `id` most
/// OAuth 2.0 providers' user APIs have (a number on some).
pub(crate) fn identity_of(provider: &str, claims: Map<String, Value>) -> Option<ExternalIdentity> {
    let subject = match claims.get("sub").or_else(|| claims.get("id"))? {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let text = |key: &str| claims.get(key).and_then(Value::as_str).map(str::to_owned);
    Some(ExternalIdentity {
        provider: provider.to_owned(),
        subject,
        email: text("email"),
        email_verified: claims.get("email_verified").and_then(Value::as_bool).unwrap_or(false),
        name: text("name"),
        claims,
    })
}

#[crate::strategy("oauth2")]
impl AuthenticationStrategy for OAuth2Strategy {
    async fn authenticate(&self, request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
        let config = config_of(request)?;
        let named = request.match_info().get("provider").or_else(|| options.str("provider"));
        let provider = match named {
            Some(name) => config.provider(name),
            None => config.only_provider(),
        }
        .ok_or_else(|| rejected(UNKNOWN_PROVIDER).with_status(StatusCode::NOT_FOUND))?;
        let Ok(callback) = web::Query::<Callback>::from_query(request.query_string()) else {
            return Err(rejected(STATE_MISMATCH));
        };
        let Callback { code, state, error } = callback.into_inner();
        if let Some(error) = error {
            // RFC 6749 error codes are [a-z_]; anything else is not worth a log line as is.
            let error: String = error.chars().filter(|c| c.is_ascii_lowercase() || *c == '_').take(64).collect();
            tracing::info!(provider = %provider.name, error, "the OAuth2 provider did not authorize the login");
            return Err(refused(request, PROVIDER_ERROR, "provider_error"));
        }
        match (code, state) {
            (Some(code), Some(state)) => {
                let outcome = finish(request, config, provider, code, &state).await;
                if let Err(error) = &outcome {
                    let reason = if error.message() == STATE_MISMATCH { "state_mismatch" } else { "upstream_failure" };
                    callback_refused(request, reason);
                }
                outcome
            }
            (Some(_), None) => Err(refused(request, STATE_MISMATCH, "state_mismatch")),
            (None, _) => start(config, provider),
        }
    }

    fn config_type(&self) -> Option<crate::options::ConfigType> {
        Some(crate::options::ConfigType::of::<OAuth2Config>())
    }

    fn accepted_options(&self) -> &'static [OptionSpec] {
        const ACCEPTED: &[OptionSpec] = &[OptionSpec::new("provider", OptionKind::Str)];
        ACCEPTED
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn subject_from_sub_or_numeric_id() {
        let oidc = identity_of("g", claims(json!({"sub": "abc", "email": "a@x", "email_verified": true}))).unwrap();
        assert_eq!((oidc.subject.as_str(), oidc.email_verified), ("abc", true));
        let github = identity_of("gh", claims(json!({"id": 583231, "name": "Ada"}))).unwrap();
        assert_eq!(
            (github.subject.as_str(), github.name.as_deref(), github.email_verified),
            ("583231", Some("Ada"), false)
        );
        assert!(identity_of("x", claims(json!({"sub": ""}))).is_none());
        assert!(identity_of("x", claims(json!({"email": "a@x"}))).is_none());
    }
}
