//! The `"oauth2"` strategy: the login redirect and the callback of the authorization-code flow.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, web};
use oauth2::basic::BasicErrorResponse;
use oauth2::{
    AuthorizationCode, CsrfToken, HttpClientError, PkceCodeChallenge, PkceCodeVerifier, RequestTokenError, Scope,
    TokenResponse,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::config::{ClientAuth, OAuth2Config, Oidc, Provider};
use super::flow::Flow;
use crate::events::{EventKind, Origin, SecurityEvent, emit};
use crate::jwt::JwtKey;
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

/// The callback's query (RFC 6749 §4.1.2 and §4.1.2.1, RFC 9207's `iss`).
#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
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

/// What went wrong with a call to the provider, in words that tell a timeout from a refused
/// connection from an error answer.
fn transport(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if let Some(status) = error.status() {
        return format!("answered {status}");
    } else {
        "request failed"
    };
    crate::util::http::with_causes(what.to_owned(), error)
}

fn exchange_failure(error: &RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>) -> String {
    match error {
        RequestTokenError::Request(HttpClientError::Reqwest(e)) => transport(e),
        RequestTokenError::ServerResponse(answer) => format!("the provider refused: {}", answer.error()),
        other => other.to_string(),
    }
}

/// A random value for `state` and `nonce` (256 bits, URL-safe).
fn random_token() -> Result<String, AuthError> {
    crate::util::secret::random_id(32).map_err(|_| AuthError::internal())
}

/// Starts a login: 303 to the authorize URL, the flow in a cookie.
async fn start(config: &OAuth2Config, provider: &Provider) -> Result<Outcome, AuthError> {
    let endpoints = provider.endpoints().await.map_err(|e| upstream(provider, "discovery", e))?;
    let client = provider.client(&endpoints);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut authorize = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge);
    for scope in &provider.scopes {
        authorize = authorize.add_scope(Scope::new(scope.clone()));
    }
    let nonce = match provider.oidc {
        Some(_) => Some(random_token()?),
        None => None,
    };
    if let Some(nonce) = &nonce {
        authorize = authorize.add_extra_param("nonce", nonce.clone());
    }
    let (url, state) = authorize.url();
    let ttl = config.inner.flow_ttl;
    let flow = Flow::new(&provider.name, state.secret().clone(), verifier.secret().clone(), nonce, ttl);
    let cookie = flow
        .cookie(&config.inner.key, ttl, provider.secure)
        .and_then(|c| HeaderValue::from_str(&c).ok())
        .ok_or_else(AuthError::internal)?;
    Ok(Outcome::Redirect(Redirect::to(url.to_string()).with_header(header::SET_COOKIE, cookie)))
}

/// RFC 7523's client assertion for `private_key_jwt`: the client id as `iss` and `sub`, the
/// token endpoint as `aud`, a minute of validity, a fresh `jti`.
fn client_assertion(provider: &Provider, key: &JwtKey, token_url: &reqwest::Url) -> Result<String, AuthError> {
    let now = crate::util::clock::now();
    let claims = serde_json::json!({
        "iss": provider.client_id.as_str(),
        "sub": provider.client_id.as_str(),
        "aud": token_url.as_str(),
        "jti": random_token()?,
        "iat": now,
        "exp": now + 60,
    });
    let mut header = jsonwebtoken::Header::new(key.alg);
    header.kid = key.kid.clone();
    let encoding = key.encoding.as_ref().ok_or_else(AuthError::internal)?;
    jsonwebtoken::encode(&header, &claims, encoding).map_err(|e| upstream(provider, "client assertion", e))
}

/// Finishes a login: state, `iss`, code exchange, ID token or user info, local user.
async fn finish(
    request: &HttpRequest,
    config: &OAuth2Config,
    provider: &Provider,
    callback: Callback,
) -> Result<Outcome, AuthError> {
    let (Some(code), Some(state)) = (callback.code, callback.state) else {
        return Err(rejected(STATE_MISMATCH));
    };
    let flow = Flow::from_request(request, &config.inner.key, &state, provider.secure)
        .filter(|flow| flow.matches(&provider.name, &state))
        .ok_or_else(|| rejected(STATE_MISMATCH))?;
    // Used once, whatever comes next: a reloaded callback must not send this code again.
    if let Ok(removal) = HeaderValue::from_str(&Flow::removal(&state, provider.secure)) {
        crate::append_header(request, header::SET_COOKIE, removal);
    }
    let endpoints = provider.endpoints().await.map_err(|e| upstream(provider, "discovery", e))?;
    // RFC 9207 §2.4: the authorization response's issuer, when sent (or promised), must be
    // the provider's; a mix-up attack sends the code of another.
    if let Some(oidc) = &provider.oidc {
        match &callback.iss {
            Some(iss) if iss != &oidc.issuer => return Err(upstream(provider, "callback", "iss is another issuer")),
            None if endpoints.iss_required => return Err(upstream(provider, "callback", "iss missing")),
            _ => {}
        }
    }
    let http = &config.inner.http;
    let client = provider.client(&endpoints);
    let mut exchange = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()));
    if let ClientAuth::PrivateKeyJwt(key) = &endpoints.auth {
        exchange = exchange
            .add_extra_param("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            .add_extra_param("client_assertion", client_assertion(provider, key, &endpoints.token)?);
    }
    let token =
        exchange.request_async(http).await.map_err(|e| upstream(provider, "code exchange", exchange_failure(&e)))?;
    let mut claims = match &provider.oidc {
        Some(oidc) => {
            let id_token = token
                .extra_fields()
                .id_token
                .as_deref()
                .ok_or_else(|| upstream(provider, "ID token", "none in the token response"))?;
            id_token_claims(provider, oidc, id_token, &flow).await?
        }
        None => Map::new(),
    };
    if let Some(userinfo) = &endpoints.userinfo {
        let response = http
            .get(userinfo.clone())
            .bearer_auth(token.access_token().secret())
            .header("accept", "application/json")
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| upstream(provider, "user info", transport(&e)))?;
        let body = crate::util::http::read_capped(response, MAX_USERINFO_BYTES)
            .await
            .map_err(|e| upstream(provider, "user info", e))?;
        let info: Map<String, Value> = serde_json::from_slice(&body).map_err(|e| upstream(provider, "user info", e))?;
        if provider.oidc.is_some() {
            // OpenID Connect Core §5.3.2: user info about another subject is not this user's.
            if info.get("sub") != claims.get("sub") {
                return Err(upstream(provider, "user info", "sub is not the ID token's"));
            }
            for (key, value) in info {
                claims.entry(key).or_insert(value);
            }
        } else {
            claims = info;
        }
    }
    let identity = identity_of(&provider.name, claims).ok_or_else(|| upstream(provider, "identity", "no sub or id"))?;
    let profile = config.inner.identities.find_or_create_user(&identity).await?;
    Ok(Outcome::User(profile))
}

/// The ID token's claims once it proved itself: signature by the provider's keys, `iss`,
/// `aud` naming this client, `exp`, `iat` (the `"jwt"` path, with the keys fetched and kept
/// the same way), then `azp` and the flow's `nonce`, compared in constant time.
async fn id_token_claims(
    provider: &Provider,
    oidc: &Oidc,
    id_token: &str,
    flow: &Flow,
) -> Result<Map<String, Value>, AuthError> {
    let verified = crate::jwt::verify_token(&oidc.id_tokens, id_token).await.map_err(|e| {
        if e.status() == StatusCode::SERVICE_UNAVAILABLE {
            return e;
        }
        upstream(provider, "ID token", e.message())
    })?;
    // The signature is good: the payload is read again for the registered claims the profile
    // does not keep.
    let payload = id_token.split('.').nth(1).unwrap_or_default();
    let registered: Value = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null);
    let client_id = provider.client_id.as_str();
    let several_audiences = registered.get("aud").and_then(Value::as_array).is_some_and(|a| a.len() > 1);
    match registered.get("azp").and_then(Value::as_str) {
        Some(azp) if azp != client_id => return Err(upstream(provider, "ID token", "azp is another client")),
        None if several_audiences => return Err(upstream(provider, "ID token", "several audiences and no azp")),
        _ => {}
    }
    if !flow.nonce_matches(registered.get("nonce").and_then(Value::as_str)) {
        return Err(upstream(provider, "ID token", "nonce is not this login's"));
    }
    let profile = verified.profile;
    let mut claims = profile.claims;
    claims.insert("sub".into(), Value::String(profile.id));
    if let Some(email) = profile.email {
        claims.insert("email".into(), Value::String(email));
    }
    if let Some(name) = profile.name {
        claims.insert("name".into(), Value::String(name));
    }
    Ok(claims)
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
        let callback = callback.into_inner();
        if let Some(error) = &callback.error {
            // RFC 6749 error codes are [a-z_]; anything else is not worth a log line as is.
            let error: String = error.chars().filter(|c| c.is_ascii_lowercase() || *c == '_').take(64).collect();
            tracing::info!(provider = %provider.name, error, "the OAuth2 provider did not authorize the login");
            return Err(refused(request, PROVIDER_ERROR, "provider_error"));
        }
        match (&callback.code, &callback.state) {
            (Some(_), Some(_)) => {
                let outcome = finish(request, config, provider, callback).await;
                if let Err(error) = &outcome {
                    let reason = if error.message() == STATE_MISMATCH { "state_mismatch" } else { "upstream_failure" };
                    callback_refused(request, reason);
                }
                outcome
            }
            (Some(_), None) => Err(refused(request, STATE_MISMATCH, "state_mismatch")),
            (None, _) => start(config, provider).await,
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

    #[actix_rt::test]
    async fn a_timeout_is_told_from_a_refused_connection() {
        // Connections complete in the backlog; nothing ever answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let client = reqwest::Client::builder().timeout(std::time::Duration::from_millis(200)).build().unwrap();
        let error = client.get(format!("http://{address}/token")).send().await.unwrap_err();
        assert!(transport(&error).starts_with("timed out"), "{}", transport(&error));
        drop(listener);
        let error = client.get(format!("http://{address}/token")).send().await.unwrap_err();
        assert!(transport(&error).starts_with("connection failed"), "{}", transport(&error));
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
