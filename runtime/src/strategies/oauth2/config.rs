//! Providers and the app-wide settings of the OAuth 2.0 login, checked once at start-up.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use actix_web::cookie::Key;
use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RedirectUrl, TokenUrl};

use crate::users::UserIdentityService;

/// A provider client with its authorize and token endpoints set.
pub(crate) type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

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
        }
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
    pub(crate) client: Client,
    pub(crate) userinfo_url: reqwest::Url,
    pub(crate) scopes: Vec<String>,
    /// Cookies for this flow are `Secure` when the callback is served over HTTPS.
    pub(crate) secure: bool,
}

pub(crate) struct Inner {
    pub(crate) providers: HashMap<String, Provider>,
    pub(crate) key: Key,
    pub(crate) identities: Arc<dyn UserIdentityService>,
    /// Follows no redirect: a token endpoint that redirects is refused, not followed (SSRF).
    pub(crate) http: reqwest::Client,
    pub(crate) flow_ttl: Duration,
}

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
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
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
    let mut url = |what: &str, value: &str| match reqwest::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "https" | "http") => Some(url),
        Ok(_) | Err(_) => {
            problems.push(format!("provider {:?}: {what} {value:?} is not an http(s) URL", p.name));
            None
        }
    };
    let authorize = url("authorize_url", &p.authorize_url);
    let token = url("token_url", &p.token_url);
    let userinfo = url("userinfo_url", &p.userinfo_url);
    let redirect = url("redirect_url", &p.redirect_url);
    let (Some(authorize), Some(token), Some(userinfo), Some(redirect)) = (authorize, token, userinfo, redirect) else {
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let secure = redirect.scheme() == "https";
    let mut client = BasicClient::new(ClientId::new(p.client_id.clone()))
        .set_auth_uri(AuthUrl::from_url(authorize))
        .set_token_uri(TokenUrl::from_url(token))
        .set_redirect_uri(RedirectUrl::from_url(redirect));
    if let Some(secret) = &p.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    Ok(Provider { name: p.name.clone(), client, userinfo_url: userinfo, scopes: p.scopes.clone(), secure })
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
        assert!(config.provider("mock").is_some_and(|p| p.secure));
        assert!(config.only_provider().is_some());
    }
}
