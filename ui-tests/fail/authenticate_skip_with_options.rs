use authn::authenticate;

#[authenticate(skip, realm = "x")]
async fn handler() {}

fn main() {}
