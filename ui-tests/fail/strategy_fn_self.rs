use actix_web::HttpRequest;
use authn::{AuthError, Outcome, strategy};

struct Keys;

impl Keys {
    #[strategy("key")]
    async fn key(&self, _request: &HttpRequest) -> Result<Outcome, AuthError> {
        Ok(Outcome::NoCredentials)
    }
}

fn main() {}
