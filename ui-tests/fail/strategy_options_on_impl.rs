use actix_web::HttpRequest;
use authn::{AuthError, AuthenticationStrategy, Outcome, StrategyOptions, strategy};

#[derive(Default)]
struct Key;

#[strategy("key", options(a = str))]
impl AuthenticationStrategy for Key {
    async fn authenticate(&self, _request: &HttpRequest, _options: &StrategyOptions) -> Result<Outcome, AuthError> {
        Ok(Outcome::NoCredentials)
    }
}

fn main() {}
