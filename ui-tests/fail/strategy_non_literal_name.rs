use actix_web::HttpRequest;
use authn::{AuthError, Outcome, strategy};

const NAME: &str = "key";

#[strategy(NAME)]
async fn key(_request: &HttpRequest) -> Result<Outcome, AuthError> {
    Ok(Outcome::NoCredentials)
}

fn main() {}
