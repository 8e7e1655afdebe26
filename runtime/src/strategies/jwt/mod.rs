//! The JWT extension (feature `jwt`): the `"jwt"` strategy, token, user and refresh services,
//! revocation, and their storage. The Rust counterpart of `@loopback/authentication-jwt`, with
//! RFC 8725's rules: algorithms come from the configuration only, `iss`/`aud`/`nbf` are checked
//! with leeway, there is no default secret, and revocation and refresh rotation work.
//!
//! ```
//! use actix_web::{get, App};
//! use authn::{authenticate, CurrentUser};
//! use authn::jwt::{Algorithm, JwtConfig, JwtKey};
//!
//! #[authenticate("jwt")]
//! #[get("/whoAmI")]
//! async fn who_am_i(user: CurrentUser) -> String {
//!     user.id.clone()
//! }
//!
//! let secret = [9u8; 32]; // 32 random bytes, e.g. from JWT_SECRET
//! let config = JwtConfig::builder().key(JwtKey::hmac(Algorithm::HS256, &secret)?).build()?;
//! let app = App::new().app_data(config).service(who_am_i);
//! # drop(app);
//! # Ok::<(), authn::jwt::JwtConfigError>(())
//! ```

mod bearer;
mod cache;
mod config;
mod hmac;
#[cfg(feature = "postgres")]
mod postgres;
mod refresh;
#[cfg(feature = "oidc")]
mod remote;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
mod strategy;
mod token;

pub use bearer::TokenSource;
pub use cache::CacheStats;
pub use config::{JwtConfig, JwtConfigBuilder, JwtConfigError, JwtKey};
pub use jsonwebtoken::Algorithm;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::{LISTENER_NAME as POSTGRES_LISTENER_NAME, PostgresOptions, PostgresStore};
pub use refresh::{RefreshTokenService, TokenPair, token_response};
#[cfg(feature = "oauth2")]
pub(crate) use remote::secure as remote_url_is_secure;
#[cfg(feature = "oidc")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
pub use remote::{KeyFetchError, RemoteKeyOptions};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteStore;
pub use store::{Consumed, MemoryTokenStore, RefreshRecord, TokenHash, TokenStore, hash_token};
pub use strategy::JwtStrategy;
#[cfg(feature = "oauth2")]
pub(crate) use token::verify as verify_token;
pub use token::{IssuedToken, JwtTokenService, TokenService, VerifiedToken};
/// The PostgreSQL client [`PostgresStore::with_client`] lends, re-exported so that an app
/// names the same version.
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use tokio_postgres;

/// jsonwebtoken panics at first use unless exactly one of its backends is enabled, and any crate
/// in the build can enable the other one (feature unification). So authn installs its backend
/// explicitly; if the app installed one first, that one stays.
pub(crate) fn install_crypto_provider() {
    #[cfg(feature = "jwt-aws-lc")]
    let provider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
    #[cfg(not(feature = "jwt-aws-lc"))]
    let provider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
    let _ = provider.install_default();
}
