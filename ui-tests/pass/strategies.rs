use actix_web::HttpRequest;
use authn::{AuthError, AuthenticationStrategy, Challenge, Outcome, StrategyOptions, UserProfile, strategy};

#[derive(Default)]
struct Key;

#[strategy("key")]
impl AuthenticationStrategy for Key {
    /// Doc comments and attributes stay on the method.
    #[inline]
    async fn authenticate(&self, request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
        let header = options.str("header").unwrap_or("x-api-key");
        match request.headers().get(header) {
            Some(_) => Ok(Outcome::User(UserProfile::new("k"))),
            None => Ok(Outcome::NoCredentials),
        }
    }

    fn challenge(&self, _request: &HttpRequest, _options: &StrategyOptions) -> Option<Challenge> {
        Some(Challenge::new("ApiKey"))
    }
}

#[strategy("fn-key", options(header = str, scopes = [str], level = int))]
async fn fn_key(request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
    let _ = options.strings("scopes").count();
    Ok(if request.headers().contains_key("x-key") { Outcome::User(UserProfile::new("f")) } else { Outcome::NoCredentials })
}

#[strategy("fn-no-options")]
pub async fn fn_no_options(_request: &HttpRequest) -> Result<Outcome, AuthError> {
    Ok(Outcome::NoCredentials)
}

fn main() {
    let names = authn::introspect::registry().names();
    assert!(["fn-key", "fn-no-options", "key"].iter().all(|n| names.contains(n)), "{names:?}");
}
