use actix_web::HttpRequest;
use authn::{AuthenticationStrategy, StrategyOptions, strategy};

#[derive(Default)]
struct Key;

#[strategy("key")]
impl AuthenticationStrategy for Key {
    async fn authenticate(&self, _request: &HttpRequest, _options: &StrategyOptions) {}
}

fn main() {}
