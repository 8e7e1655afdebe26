use actix_web::web::Path;
use authn::authenticate;

#[authenticate("jwt")]
async fn handler(#[allow(unused)] id: Path<u32>) {}

fn main() {}
