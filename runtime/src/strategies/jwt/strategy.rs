//! The `"jwt"` strategy: a bearer token in, a profile out.

use actix_web::HttpRequest;

use super::bearer::{self, Presented};
use super::config::JwtConfig;
use crate::options::OptionSpec;
use crate::{AuthError, AuthenticationStrategy, Challenge, Outcome, StrategyOptions};

/// Authenticates `Authorization: Bearer <jwt>` (and the other sources configured) with the
/// app's [`JwtConfig`], registered as app data. Route option: `scopes = ["..."]`, all required
/// (from the token's space-separated `scope` or its `scopes` array), else 403
/// `insufficient_scope`.
#[derive(Debug, Default)]
pub struct JwtStrategy;

/// `Bearer realm="..."`, without `error` (RFC 6750 §3.1: none when no credentials were sent).
pub(crate) fn challenge(config: &JwtConfig) -> Challenge {
    Challenge::new("Bearer").param("realm", config.realm().to_owned())
}

fn config_of(request: &HttpRequest) -> Result<&JwtConfig, AuthError> {
    crate::strategies::app_config(request, "jwt")
}

impl JwtStrategy {
    /// What `"jwt"` does, with `config` instead of the app's: the way to a second JWT strategy
    /// under a name of its own, with its own issuer and keys (another identity provider).
    ///
    /// ```
    /// use actix_web::{HttpRequest, web};
    /// use authn::jwt::{JwtConfig, JwtStrategy};
    /// use authn::{AuthError, Outcome, StrategyOptions, strategy};
    ///
    /// /// The partner's configuration, as app data of its own type.
    /// struct Partner(JwtConfig);
    ///
    /// #[strategy("partner-jwt")]
    /// async fn partner(request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
    ///     let config = request.app_data::<web::Data<Partner>>().ok_or_else(AuthError::misconfigured)?;
    ///     JwtStrategy::authenticate_with(&config.0, request, options).await
    /// }
    /// ```
    pub async fn authenticate_with(
        config: &JwtConfig,
        request: &HttpRequest,
        options: &StrategyOptions,
    ) -> Result<Outcome, AuthError> {
        let token = match bearer::find(request, &config.inner.sources) {
            Ok(Presented::Token(token)) => token,
            Ok(Presented::Missing(message)) => {
                return Err(AuthError::missing_credentials(message).with_challenge(challenge(config)));
            }
            Err(error) => {
                return Err(error
                    .with_challenge(
                        challenge(config)
                            .param("error", "invalid_token")
                            .param("error_description", "malformed Authorization header"),
                    )
                    .stop_chain());
            }
        };
        let verified = super::token::verify(config, token).await?;
        crate::scope::require(&verified.profile, options, challenge(config))?;
        Ok(Outcome::User(verified.profile))
    }
}

#[crate::strategy("jwt")]
impl AuthenticationStrategy for JwtStrategy {
    async fn authenticate(&self, request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
        JwtStrategy::authenticate_with(config_of(request)?, request, options).await
    }

    fn challenge(&self, request: &HttpRequest, _options: &StrategyOptions) -> Option<Challenge> {
        config_of(request).ok().map(challenge)
    }

    fn config_type(&self) -> Option<crate::options::ConfigType> {
        Some(crate::options::ConfigType::of::<JwtConfig>())
    }

    fn accepted_options(&self) -> &'static [OptionSpec] {
        crate::scope::OPTIONS
    }
}
