use authn::authenticate;

#[authenticate("jwt", scopes = read_scopes())]
async fn handler() {}

fn main() {}
