use actix_web::HttpRequest;
use authn::{AuthError, Outcome, strategy};

#[strategy("key", options(header = string))]
async fn key(_request: &HttpRequest) -> Result<Outcome, AuthError> {
    Ok(Outcome::NoCredentials)
}

fn main() {}
