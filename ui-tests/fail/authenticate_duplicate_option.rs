use authn::authenticate;

#[authenticate("jwt", scopes = ["read"], scopes = ["write"])]
async fn handler() {}

fn main() {}
