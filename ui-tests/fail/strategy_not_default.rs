use actix_web::HttpRequest;
use authn::{AuthError, AuthenticationStrategy, Outcome, StrategyOptions, strategy};

struct Key {
    secret: String,
}

#[strategy("key")]
impl AuthenticationStrategy for Key {
    async fn authenticate(&self, _request: &HttpRequest, _options: &StrategyOptions) -> Result<Outcome, AuthError> {
        let _ = &self.secret;
        Ok(Outcome::NoCredentials)
    }
}

fn main() {}
