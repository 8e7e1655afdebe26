use authn::authenticate;

#[authenticate(jwt)]
async fn handler() {}

fn main() {}
