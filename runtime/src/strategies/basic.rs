//! The `"basic"` strategy (RFC 7617): `Authorization: Basic base64(user-id:password)`, checked
//! by the app's [`UserService`], with LoopBack's messages.
//!
//! ```
//! use std::sync::Arc;
//! use actix_web::{get, App};
//! use authn::basic::BasicConfig;
//! use authn::users::{DefaultUserService, MemoryUserStore};
//! use authn::{authenticate, CurrentUser};
//!
//! #[authenticate("basic")]
//! #[get("/whoAmI")]
//! async fn who_am_i(user: CurrentUser) -> String {
//!     user.id.clone()
//! }
//!
//! let users = DefaultUserService::new(Arc::new(MemoryUserStore::new()));
//! let app = App::new().app_data(BasicConfig::new(users).realm("admin")).service(who_am_i);
//! # drop(app);
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::HttpRequest;
use base64::Engine as _;

use crate::options::OptionSpec;
use crate::users::{Credentials, UserService};
use crate::util::credentials::{self, SchemeValue};
use crate::{AuthError, AuthenticationStrategy, Challenge, Outcome, StrategyOptions};

/// LoopBack's messages for the header (its Basic fixture's, word for word).
pub const NOT_FOUND: &str = crate::strategies::HEADER_NOT_FOUND;
/// A header of another scheme.
pub const NOT_BASIC: &str = "Authorization header is not of type 'Basic'.";
/// More than one token after `Basic`.
pub const TOO_MANY_PARTS: &str = "Authorization header value has too many parts. It must follow the pattern: \
     'Basic xxyyzz' where xxyyzz is a base64 string.";
/// The decoded value has no `:` between a user-id and a password.
pub const NOT_TWO_PARTS: &str = "Authorization header 'Basic' value does not contain two parts separated by ':'.";
/// Not base64, or not UTF-8 once decoded (RFC 7617 §2.1: authn announces `charset="UTF-8"`).
pub const MALFORMED: &str = "Authorization header 'Basic' value is not base64-encoded UTF-8.";

/// The `"basic"` strategy's configuration, as app data: who checks the credentials and the realm
/// of the challenge.
#[derive(Clone)]
pub struct BasicConfig {
    users: Arc<dyn UserService>,
    realm: Cow<'static, str>,
}

impl std::fmt::Debug for BasicConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicConfig").field("realm", &self.realm).finish_non_exhaustive()
    }
}

impl BasicConfig {
    /// Credentials are checked by `users` (the user-id is the login, e.g. the email of
    /// [`crate::users::DefaultUserService`]). Realm `"authn"` by default.
    pub fn new(users: impl UserService) -> Self {
        BasicConfig::shared(Arc::new(users))
    }

    /// The same over a user service the app already shares.
    pub fn shared(users: Arc<dyn UserService>) -> Self {
        BasicConfig { users, realm: Cow::Borrowed("authn") }
    }

    /// The realm of the `WWW-Authenticate: Basic` challenge.
    pub fn realm(mut self, realm: impl Into<Cow<'static, str>>) -> Self {
        self.realm = realm.into();
        self
    }

    fn challenge(&self) -> Challenge {
        Challenge::new("Basic").param("realm", self.realm.clone()).param("charset", "UTF-8")
    }
}

/// Authenticates `Authorization: Basic` with the app's [`BasicConfig`]. Route option:
/// `scopes = [...]`, checked against the profile's scopes (403 `insufficient_scope`).
///
/// A header of another scheme is "no credentials" for this strategy (the next one is tried),
/// carrying LoopBack's message for the case where none succeeds. A malformed Basic value ends
/// the chain with 401; wrong credentials answer the user service's single message, after the
/// same work whether the user exists or not.
#[derive(Debug, Default)]
pub struct BasicStrategy;

fn config_of(request: &HttpRequest) -> Result<&BasicConfig, AuthError> {
    crate::strategies::app_config(request, "basic")
}

/// The user-id and password of a Basic token68.
pub(crate) fn decode(token: &[u8]) -> Result<Credentials, &'static str> {
    let decoded = base64::engine::general_purpose::STANDARD.decode(token).map_err(|_| MALFORMED)?;
    let decoded = String::from_utf8(decoded).map_err(|_| MALFORMED)?;
    // RFC 7617 §2: the user-id cannot contain a colon, the password can; so the first colon
    // splits them (LoopBack refused any second colon, locking such passwords out).
    match decoded.split_once(':') {
        Some((user, password)) => Ok(Credentials::new(user, password)),
        None => Err(NOT_TWO_PARTS),
    }
}

#[crate::strategy("basic")]
impl AuthenticationStrategy for BasicStrategy {
    async fn authenticate(&self, request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
        let config = config_of(request)?;
        let malformed =
            |message: &'static str| AuthError::unauthorized(message).with_challenge(config.challenge()).stop_chain();
        let token = match credentials::read(request, b"basic") {
            SchemeValue::Absent => {
                return Err(AuthError::missing_credentials(NOT_FOUND).with_challenge(config.challenge()));
            }
            SchemeValue::OtherScheme => {
                return Err(AuthError::missing_credentials(NOT_BASIC).with_challenge(config.challenge()));
            }
            SchemeValue::TooManyParts => return Err(malformed(TOO_MANY_PARTS)),
            SchemeValue::Credentials(token) => token,
        };
        let credentials = decode(token).map_err(malformed)?;
        // The user service's error, with this scheme's challenge on a 401.
        let origin = crate::events::Origin::of(request);
        let profile = config
            .users
            .verify_credentials_from(&credentials, &origin)
            .await
            .map_err(|e| if e.status() == 401 { e.with_challenge(config.challenge()) } else { e })?;
        crate::scope::require(&profile, options, config.challenge())?;
        Ok(Outcome::User(profile))
    }

    fn challenge(&self, request: &HttpRequest, _options: &StrategyOptions) -> Option<Challenge> {
        config_of(request).ok().map(BasicConfig::challenge)
    }

    fn config_type(&self) -> Option<crate::options::ConfigType> {
        Some(crate::options::ConfigType::of::<BasicConfig>())
    }

    fn accepted_options(&self) -> &'static [OptionSpec] {
        crate::scope::OPTIONS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(s: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn the_first_colon_splits() {
        let ok = decode(encode(b"joe888:joepa55w0rd").as_bytes()).unwrap();
        assert_eq!((ok.login.as_str(), ok.password.as_str()), ("joe888", "joepa55w0rd"));
        assert_eq!(decode(encode(b"joe888|joepa55w0rd").as_bytes()).err(), Some(NOT_TWO_PARTS));
        let colons = decode(encode(b"user:pa:ss:").as_bytes()).unwrap();
        assert_eq!((colons.login.as_str(), colons.password.as_str()), ("user", "pa:ss:"));
        let empty = decode(encode(b":").as_bytes()).unwrap();
        assert_eq!((empty.login.as_str(), empty.password.as_str()), ("", ""));
    }

    #[test]
    fn utf8_credentials() {
        let c = decode(encode("jürgen:pässwörd✓".as_bytes()).as_bytes()).unwrap();
        assert_eq!((c.login.as_str(), c.password.as_str()), ("jürgen", "pässwörd✓"));
        assert_eq!(decode(encode(b"caf\xe9:x").as_bytes()).err(), Some(MALFORMED));
        assert_eq!(decode(b"not base64!").err(), Some(MALFORMED));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_bytes_decode_or_refuse_without_panicking(token in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&token);
        }

        #[test]
        fn credentials_round_trip(user in "[^:]{0,40}", password in "\\PC{0,40}") {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            let credentials = decode(token.as_bytes()).unwrap();
            prop_assert_eq!((credentials.login, credentials.password), (user, password));
        }
    }
}
