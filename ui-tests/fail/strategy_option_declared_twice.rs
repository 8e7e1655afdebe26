use actix_web::HttpRequest;
use authn::{AuthError, Outcome, StrategyOptions, strategy};

#[strategy("key", options(a = str, a = int))]
async fn key(_request: &HttpRequest, _options: &StrategyOptions) -> Result<Outcome, AuthError> {
    Ok(Outcome::NoCredentials)
}

fn main() {}
