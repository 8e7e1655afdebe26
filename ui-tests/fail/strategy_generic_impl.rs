use actix_web::HttpRequest;
use authn::{AuthError, AuthenticationStrategy, Outcome, StrategyOptions, strategy};

#[derive(Default)]
struct Key<T>(std::marker::PhantomData<T>);

#[strategy("key")]
impl<T: Send + Sync + 'static> AuthenticationStrategy for Key<T> {
    async fn authenticate(&self, _request: &HttpRequest, _options: &StrategyOptions) -> Result<Outcome, AuthError> {
        Ok(Outcome::NoCredentials)
    }
}

fn main() {}
