use actix_web::HttpRequest;
use authn::strategy;

#[strategy("wrong-return")]
async fn wrong_return(request: HttpRequest) -> bool {
    request.headers().contains_key("x-user")
}

fn main() {}
