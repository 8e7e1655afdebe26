//! Providers and the app-wide settings of the OAuth 2.0 login, checked once at start-up.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use actix_web::cookie::Key;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RedirectUrl, StandardRevocableToken,
    StandardTokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jwt::{JwtConfig, JwtKey};
use crate::users::UserIdentityService;

/// The token response's fields beyond OAuth 2.0's: OpenID Connect's ID token.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct IdTokenFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id_token: Option<String>,
}

impl oauth2::ExtraTokenFields for IdTokenFields {}

/// The token endpoint's answer.
pub(crate) type TokenResponse = StandardTokenResponse<IdTokenFields, BasicTokenType>;

/// A provider client with its authorize and token endpoints set.
pub(crate) type Client = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// How the app authenticates to the token endpoint (OpenID Connect Core §9).
#[derive(Clone)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `client_secret_basic`: the secret in HTTP Basic (OAuth 2.0's default).
    SecretBasic,
    /// `client_secret_post`: the secret in the form body.
    SecretPost,
    /// `private_key_jwt`: a short-lived JWT signed with the app's key (RFC 7523); the
    /// provider holds the public key. No secret is sent.
    PrivateKeyJwt(JwtKey),
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.method())
    }
}

impl ClientAuth {
    /// The method's registered name.
    pub fn method(&self) -> &'static str {
        match self {
            ClientAuth::SecretBasic => "client_secret_basic",
            ClientAuth::SecretPost => "client_secret_post",
            ClientAuth::PrivateKeyJwt(_) => "private_key_jwt",
        }
    }
}

/// One authorization server the app logs users in with.
#[derive(Clone)]
pub struct OAuth2Provider {
    name: String,
    client_id: String,
    client_secret: Option<String>,
    authorize_url: String,
    token_url: String,
    userinfo_url: String,
    redirect_url: String,
    scopes: Vec<String>,
    issuer: Option<String>,
    userinfo: Option<bool>,
    client_auth: Option<ClientAuth>,
}

impl fmt::Debug for OAuth2Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Provider")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("userinfo_url", &self.userinfo_url)
            .field("redirect_url", &self.redirect_url)
            .field("scopes", &self.scopes)
            .field("issuer", &self.issuer)
            .field("client_auth", &self.client_auth)
            .finish()
    }
}

impl OAuth2Provider {
    /// A provider named `name` (the `{provider}` of the routes) where the app is registered as
    /// `client_id`. Set its endpoints before building the configuration.
    pub fn new(name: impl Into<String>, client_id: impl Into<String>) -> Self {
        OAuth2Provider {
            name: name.into(),
            client_id: client_id.into(),
            client_secret: None,
            authorize_url: String::new(),
            token_url: String::new(),
            userinfo_url: String::new(),
            redirect_url: String::new(),
            scopes: Vec::new(),
            issuer: None,
            userinfo: None,
            client_auth: None,
        }
    }

    /// An OpenID Connect provider: its endpoints come from discovery at `issuer` (those set
    /// here override them), `openid` is always requested, a `nonce` is bound to the flow, and
    /// the login trusts the ID token only after checking its signature (the provider's JWK Set,
    /// fetched and kept as `"jwt"` keeps remote keys), `iss`, `aud`, `azp`, `exp`, `iat` and
    /// `nonce`. The RFC 9207 `iss` callback parameter is checked when sent, and required when
    /// the provider says it sends it. User info is not read unless
    /// [`userinfo`](Self::userinfo) asks for it.
    ///
    /// ```
    /// use authn::oauth2::OAuth2Provider;
    /// let keycloak = OAuth2Provider::new("keycloak", "todo-app")
    ///     .client_secret("from-the-environment")
    ///     .issuer("https://sso.example.com/realms/demo")
    ///     .redirect_url("https://todo.example.com/auth/thirdparty/keycloak/callback")
    ///     .scopes(["email", "profile"]);
    /// # drop(keycloak);
    /// ```
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Whether the login also reads the user-info endpoint (OpenID Connect: off by default,
    /// the ID token is the trust anchor and user info only adds claims, and its `sub` must be
    /// the ID token's; plain OAuth 2.0: always, it is the only source of the identity).
    pub fn userinfo(mut self, read: bool) -> Self {
        self.userinfo = Some(read);
        self
    }

    /// How the app authenticates at the token endpoint; by default `client_secret_basic`, or
    /// for an OpenID Connect provider the first of `client_secret_basic`, `client_secret_post`
    /// its discovery document lists.
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = Some(auth);
        self
    }

    /// The client secret (confidential clients); sent with HTTP Basic to the token endpoint.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// The authorization endpoint the browser is sent to.
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = url.into();
        self
    }

    /// The token endpoint the code is exchanged at.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// The endpoint that tells who the access token belongs to (OpenID Connect's `userinfo`,
    /// or a provider's "current user" API). Its JSON must carry `sub` or `id`.
    pub fn userinfo_url(mut self, url: impl Into<String>) -> Self {
        self.userinfo_url = url.into();
        self
    }

    /// The app's callback URL, as registered with the provider.
    pub fn redirect_url(mut self, url: impl Into<String>) -> Self {
        self.redirect_url = url.into();
        self
    }

    /// The scopes to ask for (`openid email profile` for OpenID Connect).
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

/// A provider ready for requests.
pub(crate) struct Provider {
    pub(crate) name: String,
    pub(crate) client_id: ClientId,
    pub(crate) client_secret: Option<ClientSecret>,
    pub(crate) redirect: RedirectUrl,
    /// Endpoints set by hand (a plain OAuth 2.0 provider has all three; for OpenID Connect
    /// they override discovery).
    pub(crate) authorize_url: Option<reqwest::Url>,
    pub(crate) token_url: Option<reqwest::Url>,
    pub(crate) userinfo_url: Option<reqwest::Url>,
    pub(crate) scopes: Vec<String>,
    /// Cookies for this flow are `Secure` when the callback is served over HTTPS.
    pub(crate) secure: bool,
    pub(crate) read_userinfo: bool,
    pub(crate) client_auth: Option<ClientAuth>,
    pub(crate) oidc: Option<Oidc>,
}

/// An OpenID Connect provider's issuer and the verification of its ID tokens.
pub(crate) struct Oidc {
    pub(crate) issuer: String,
    /// `iss` the issuer, `aud` the client id, `iat` required; its remote keys hold the
    /// discovery document.
    pub(crate) id_tokens: JwtConfig,
}

/// Where a login goes, and how the app authenticates there: resolved per login (discovery is
/// read once and kept).
pub(crate) struct Endpoints {
    pub(crate) authorize: reqwest::Url,
    pub(crate) token: reqwest::Url,
    pub(crate) userinfo: Option<reqwest::Url>,
    /// RFC 9207: the provider sends `iss` on the callback, so it must be there.
    pub(crate) iss_required: bool,
    pub(crate) auth: ClientAuth,
}

impl Provider {
    pub(crate) async fn endpoints(&self) -> Result<Endpoints, String> {
        let Some(oidc) = &self.oidc else {
            let (Some(authorize), Some(token)) = (&self.authorize_url, &self.token_url) else {
                return Err("no authorize or token URL".into());
            };
            return Ok(Endpoints {
                authorize: authorize.clone(),
                token: token.clone(),
                userinfo: self.userinfo_url.clone(),
                iss_required: false,
                auth: self.client_auth.clone().unwrap_or(ClientAuth::SecretBasic),
            });
        };
        let metadata = oidc.id_tokens.provider_metadata().await.map_err(|e| e.to_string())?;
        let url = |explicit: &Option<reqwest::Url>, key: &str| -> Result<Option<reqwest::Url>, String> {
            if let Some(url) = explicit {
                return Ok(Some(url.clone()));
            }
            let Some(text) = metadata.get(key).and_then(Value::as_str) else { return Ok(None) };
            let url = reqwest::Url::parse(text).map_err(|e| format!("{key} {text:?}: {e}"))?;
            if !crate::jwt::remote_url_is_secure(&url) {
                return Err(format!("{key} {text:?} is not HTTPS"));
            }
            Ok(Some(url))
        };
        let authorize = url(&self.authorize_url, "authorization_endpoint")?.ok_or("no authorization_endpoint")?;
        let token = url(&self.token_url, "token_endpoint")?.ok_or("no token_endpoint")?;
        let userinfo = if self.read_userinfo {
            Some(url(&self.userinfo_url, "userinfo_endpoint")?.ok_or("no userinfo_endpoint")?)
        } else {
            None
        };
        let auth = match &self.client_auth {
            Some(auth) => auth.clone(),
            None => {
                // RFC 8414 §2: client_secret_basic when the list is absent.
                let listed = |method: &str| {
                    metadata
                        .get("token_endpoint_auth_methods_supported")
                        .and_then(Value::as_array)
                        .is_none_or(|methods| methods.iter().any(|m| m.as_str() == Some(method)))
                };
                if listed("client_secret_basic") || !listed("client_secret_post") {
                    ClientAuth::SecretBasic
                } else {
                    ClientAuth::SecretPost
                }
            }
        };
        let iss_required =
            metadata.get("authorization_response_iss_parameter_supported").and_then(Value::as_bool) == Some(true);
        Ok(Endpoints { authorize, token, userinfo, iss_required, auth })
    }

    /// The oauth2 crate's client for these endpoints.
    pub(crate) fn client(&self, endpoints: &Endpoints) -> Client {
        let mut client = oauth2::Client::new(self.client_id.clone())
            .set_auth_uri(AuthUrl::from_url(endpoints.authorize.clone()))
            .set_token_uri(TokenUrl::from_url(endpoints.token.clone()))
            .set_redirect_uri(self.redirect.clone());
        match &endpoints.auth {
            ClientAuth::SecretBasic => {}
            ClientAuth::SecretPost => client = client.set_auth_type(AuthType::RequestBody),
            // The assertion replaces the secret; the client id goes in the body.
            ClientAuth::PrivateKeyJwt(_) => return client.set_auth_type(AuthType::RequestBody),
        }
        if let Some(secret) = &self.client_secret {
            client = client.set_client_secret(secret.clone());
        }
        client
    }
}

pub(crate) struct Inner {
    pub(crate) providers: HashMap<String, Provider>,
    pub(crate) key: Key,
    pub(crate) identities: Arc<dyn UserIdentityService>,
    /// Follows no redirect: a token endpoint that redirects is refused, not followed (SSRF).
    pub(crate) http: reqwest::Client,
    pub(crate) flow_ttl: Duration,
}

/// The upstream calls' default bound (code exchange, user info): a login waits no longer.
const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);

/// The OAuth 2.0 login configuration, as app data. Cheap to clone.
#[derive(Clone)]
pub struct OAuth2Config {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for OAuth2Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.inner.providers.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("OAuth2Config").field("providers", &names).finish_non_exhaustive()
    }
}

impl OAuth2Config {
    /// Starts a configuration.
    pub fn builder() -> OAuth2ConfigBuilder {
        OAuth2ConfigBuilder::default()
    }

    pub(crate) fn provider(&self, name: &str) -> Option<&Provider> {
        self.inner.providers.get(name)
    }

    /// The provider when only one is configured.
    pub(crate) fn only_provider(&self) -> Option<&Provider> {
        let mut all = self.inner.providers.values();
        match (all.next(), all.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }
}

/// Builds an [`OAuth2Config`]; every mistake is reported by [`OAuth2ConfigBuilder::build`].
#[derive(Default)]
pub struct OAuth2ConfigBuilder {
    providers: Vec<OAuth2Provider>,
    key: Option<Vec<u8>>,
    identities: Option<Arc<dyn UserIdentityService>>,
    flow_ttl: Option<Duration>,
    timeout: Option<Duration>,
}

impl OAuth2ConfigBuilder {
    /// Adds a provider.
    pub fn provider(mut self, provider: OAuth2Provider) -> Self {
        self.providers.push(provider);
        self
    }

    /// The secret the flow cookie is encrypted and authenticated with: at least 32 random
    /// bytes, the same on every instance of the app.
    pub fn cookie_key(mut self, key: &[u8]) -> Self {
        self.key = Some(key.to_vec());
        self
    }

    /// Who turns a provider's user into a local one.
    pub fn identities(mut self, identities: impl UserIdentityService) -> Self {
        self.identities = Some(Arc::new(identities));
        self
    }

    /// The same over a service the app already shares.
    pub fn shared_identities(mut self, identities: Arc<dyn UserIdentityService>) -> Self {
        self.identities = Some(identities);
        self
    }

    /// How long a login may take between the redirect and the callback (10 minutes by default).
    pub fn flow_ttl(mut self, ttl: Duration) -> Self {
        self.flow_ttl = Some(ttl);
        self
    }

    /// The longest a call to a provider (code exchange, user info) may take, connection to
    /// last byte (10 s by default); a timeout is logged as one, apart from a refused
    /// connection.
    pub fn upstream_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Checks everything: the key, the identity service, each provider's URLs and names.
    pub fn build(self) -> Result<OAuth2Config, OAuth2ConfigError> {
        let mut problems = Vec::new();
        let key = match self.key {
            Some(key) if key.len() >= 32 => Some(Key::derive_from(&key)),
            Some(_) => {
                problems.push("the cookie key must be at least 32 bytes".to_owned());
                None
            }
            None => {
                problems.push("no cookie key: call .cookie_key(..) with 32+ random bytes".to_owned());
                None
            }
        };
        if self.identities.is_none() {
            problems.push("no identity service: call .identities(..)".to_owned());
        }
        if self.providers.is_empty() {
            problems.push("no provider".to_owned());
        }
        let mut providers = HashMap::new();
        for provider in self.providers {
            match build_provider(&provider) {
                Ok(built) => {
                    if providers.insert(provider.name.clone(), built).is_some() {
                        problems.push(format!("provider {:?} is configured twice", provider.name));
                    }
                }
                Err(mut errors) => problems.append(&mut errors),
            }
        }
        let timeout = self.timeout.unwrap_or(DEFAULT_UPSTREAM_TIMEOUT);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            // A pooled connection belongs to the worker runtime that opened it.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| problems.push(format!("HTTP client: {e}")))
            .ok();
        match (key, self.identities, http) {
            (Some(key), Some(identities), Some(http)) if problems.is_empty() => Ok(OAuth2Config {
                inner: Arc::new(Inner {
                    providers,
                    key,
                    identities,
                    http,
                    flow_ttl: self.flow_ttl.unwrap_or(Duration::from_secs(600)),
                }),
            }),
            _ => Err(OAuth2ConfigError { problems }),
        }
    }
}

fn build_provider(p: &OAuth2Provider) -> Result<Provider, Vec<String>> {
    let mut problems = Vec::new();
    let name_ok = !p.name.is_empty() && p.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !name_ok {
        problems.push(format!("provider name {:?}: use letters, digits, '-' and '_'", p.name));
    }
    let oidc = p.issuer.is_some();
    // Set or not: with an issuer, discovery fills in what is not set.
    let mut url = |what: &str, value: &str| -> Option<reqwest::Url> {
        if value.is_empty() && oidc && what != "redirect_url" {
            return None;
        }
        match reqwest::Url::parse(value) {
            Ok(url) if matches!(url.scheme(), "https" | "http") => Some(url),
            Ok(_) | Err(_) => {
                problems.push(format!("provider {:?}: {what} {value:?} is not an http(s) URL", p.name));
                None
            }
        }
    };
    let authorize = url("authorize_url", &p.authorize_url);
    let token = url("token_url", &p.token_url);
    let userinfo = url("userinfo_url", &p.userinfo_url);
    let redirect = url("redirect_url", &p.redirect_url);
    let mut scopes = p.scopes.clone();
    let id_tokens = match &p.issuer {
        Some(issuer) => {
            if !scopes.iter().any(|s| s == "openid") {
                scopes.insert(0, "openid".to_owned());
            }
            let built = JwtConfig::builder()
                .issuer_discovery(issuer.clone())
                .audience(p.client_id.clone())
                .require_claim("iat")
                .verified_token_cache(0)
                .build();
            match built {
                Ok(config) => Some(config),
                Err(e) => {
                    problems.push(format!("provider {:?}: {}", p.name, e.0));
                    None
                }
            }
        }
        None => None,
    };
    if let Some(ClientAuth::PrivateKeyJwt(key)) = &p.client_auth
        && key.encoding.is_none()
    {
        problems.push(format!("provider {:?}: private_key_jwt needs a key that can sign", p.name));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let Some(redirect) = redirect else { return Err(problems) };
    if !oidc && (authorize.is_none() || token.is_none() || userinfo.is_none()) {
        return Err(problems);
    }
    Ok(Provider {
        name: p.name.clone(),
        client_id: ClientId::new(p.client_id.clone()),
        client_secret: p.client_secret.clone().map(ClientSecret::new),
        secure: redirect.scheme() == "https",
        redirect: RedirectUrl::from_url(redirect),
        authorize_url: authorize,
        token_url: token,
        userinfo_url: userinfo,
        scopes,
        read_userinfo: p.userinfo.unwrap_or(!oidc),
        client_auth: p.client_auth.clone(),
        oidc: id_tokens.map(|id_tokens| Oidc { issuer: p.issuer.clone().unwrap_or_default(), id_tokens }),
    })
}

/// Everything wrong with an OAuth 2.0 configuration, at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2ConfigError {
    /// One line per problem.
    pub problems: Vec<String>,
}

impl fmt::Display for OAuth2ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OAuth2 configuration: {}", self.problems.join("; "))
    }
}

impl std::error::Error for OAuth2ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::MemoryUserIdentityService;

    #[test]
    fn every_problem_is_reported_at_once() {
        let error = OAuth2Config::builder()
            .cookie_key(b"short")
            .provider(OAuth2Provider::new("bad name", "id").authorize_url("ftp://x").token_url("not a url"))
            .build()
            .unwrap_err();
        let text = error.to_string();
        for expected in ["32 bytes", "identity service", "bad name", "authorize_url", "token_url", "userinfo_url"] {
            assert!(text.contains(expected), "{expected} missing from {text}");
        }
    }

    #[test]
    fn a_complete_configuration_builds() {
        let provider = OAuth2Provider::new("mock", "id")
            .client_secret("s3cret")
            .authorize_url("https://id.example/authorize")
            .token_url("https://id.example/token")
            .userinfo_url("https://id.example/userinfo")
            .redirect_url("https://app.example/cb");
        assert!(!format!("{provider:?}").contains("s3cret"));
        let config = OAuth2Config::builder()
            .cookie_key(&[1; 32])
            .identities(MemoryUserIdentityService::new())
            .provider(provider)
            .build();
        let config = config.unwrap();
        assert!(config.provider("mock").is_some_and(|p| p.secure && p.read_userinfo && p.oidc.is_none()));
        assert!(config.only_provider().is_some());
    }
}
