use authn::authenticate;

#[authenticate(skip, group)]
async fn handler() {}

fn main() {}
