use authn::authenticate;

#[authenticate(scopes = ["read"], "jwt")]
async fn handler() {}

fn main() {}
