use authn::{AuthError, Outcome, strategy};

#[strategy("key")]
async fn key() -> Result<Outcome, AuthError> {
    Ok(Outcome::NoCredentials)
}

fn main() {}
