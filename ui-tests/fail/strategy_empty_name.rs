use actix_web::HttpRequest;
use authn::{AuthError, Outcome, strategy};

#[strategy("")]
async fn key(_request: &HttpRequest) -> Result<Outcome, AuthError> {
    Ok(Outcome::NoCredentials)
}

fn main() {}
