use authn::authenticate;

#[authenticate("jwt", scopes = ["read", write])]
async fn handler() {}

fn main() {}
