//! OAuth 2.0 / OpenID Connect login (feature `oauth2`): the authorization-code flow with PKCE
//! (RFC 7636) and `state`, through the `oauth2` crate, ending in a local user found or created
//! by the app's [`UserIdentityService`](crate::users::UserIdentityService).
//!
//! One strategy, `"oauth2"`, serves both routes of the flow, as in LoopBack:
//!
//! - on the login route (`GET /auth/thirdparty/{provider}`) it answers 303 to the provider's
//!   authorize URL, with a fresh `state` and PKCE challenge, and sets a short-lived cookie that
//!   holds the state and the verifier, encrypted and authenticated (AES-GCM, the `cookie`
//!   crate's private jar) and bound to this browser;
//! - on the callback (`GET /auth/thirdparty/{provider}/callback?code=..&state=..`) it checks
//!   the state against the cookie in constant time, clears the cookie (with
//!   [`ResponseHeaders`](crate::ResponseHeaders) wrapping the app), exchanges the code with the
//!   verifier, reads the provider's user-info endpoint (at most 64 KiB), and hands the handler
//!   the local user, to whom the app issues its own tokens.
//!
//! With [`OAuth2Provider::issuer`] the provider is an OpenID Connect one: discovery, `openid`,
//! a `nonce` in the flow cookie, and an ID token verified (signature by the provider's keys,
//! `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`) before the identity is trusted; user info is then
//! optional and must be about the same subject. RFC 9207's `iss` callback parameter is checked.
//!
//! The provider is the route's `{provider}` segment, else the `provider` route option, else the
//! only one configured. A provider error (`?error=access_denied`), a missing, expired or forged
//! state, a failed exchange or user-info call all answer 401 with a fixed message; the details
//! go to the log only.
//!
//! ```
//! use actix_web::{get, web, App, HttpResponse};
//! use authn::oauth2::{OAuth2Config, OAuth2Provider};
//! use authn::users::MemoryUserIdentityService;
//! use authn::{authenticate, CurrentUser};
//!
//! #[authenticate("oauth2")]
//! #[get("/auth/thirdparty/{provider}")]
//! async fn login() -> HttpResponse {
//!     unreachable!("the strategy redirects to the provider before the handler runs")
//! }
//!
//! #[authenticate("oauth2")]
//! #[get("/auth/thirdparty/{provider}/callback")]
//! async fn callback(user: CurrentUser) -> HttpResponse {
//!     // Issue the app's own tokens here (e.g. with authn::jwt::TokenService).
//!     HttpResponse::Ok().body(user.id.clone())
//! }
//!
//! let config = OAuth2Config::builder()
//!     .cookie_key(&[42; 32]) // 32+ random bytes, e.g. from an environment variable
//!     .identities(MemoryUserIdentityService::new())
//!     .provider(
//!         OAuth2Provider::new("github", "client-id")
//!             .client_secret("client-secret")
//!             .authorize_url("https://github.com/login/oauth/authorize")
//!             .token_url("https://github.com/login/oauth/access_token")
//!             .userinfo_url("https://api.github.com/user")
//!             .redirect_url("https://app.example.com/auth/thirdparty/github/callback")
//!             .scopes(["read:user", "user:email"]),
//!     )
//!     .build()?;
//! // ResponseHeaders applies the cookie the callback clears.
//! let app = App::new().wrap(authn::ResponseHeaders::new()).app_data(config).service(login).service(callback);
//! # drop(app);
//! # Ok::<(), authn::oauth2::OAuth2ConfigError>(())
//! ```

mod config;
mod flow;
mod strategy;

pub use config::{ClientAuth, OAuth2Config, OAuth2ConfigBuilder, OAuth2ConfigError, OAuth2Provider};
pub use flow::FLOW_COOKIE_PREFIX;
pub use strategy::{OAuth2Strategy, PROVIDER_ERROR, STATE_MISMATCH, UNKNOWN_PROVIDER, UPSTREAM_FAILURE};
