use actix_web::HttpRequest;
use authn::{AuthError, AuthenticationStrategy, Outcome, strategy};

#[derive(Default)]
struct Key;

#[strategy("key")]
impl AuthenticationStrategy for Key {
    async fn authenticate(&self, _request: &HttpRequest) -> Result<Outcome, AuthError> {
        Ok(Outcome::NoCredentials)
    }
}

fn main() {}
