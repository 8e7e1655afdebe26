use actix_web::HttpRequest;
use authn::{AuthError, Outcome, strategy};

#[strategy("key")]
async fn key<T>(_request: &HttpRequest) -> Result<Outcome, AuthError> {
    Ok(Outcome::NoCredentials)
}

fn main() {}
