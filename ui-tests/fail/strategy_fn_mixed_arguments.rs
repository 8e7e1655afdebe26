use actix_web::HttpRequest;
use actix_web::web::Data;
use authn::adapter::Verdict;
use authn::strategy;

struct Users;

#[strategy("mixed")]
async fn mixed(request: &HttpRequest, users: Data<Users>) -> Verdict {
    let _ = (request, users);
    Verdict::Pass
}

fn main() {}
