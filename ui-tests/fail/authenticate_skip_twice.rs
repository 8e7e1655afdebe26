use authn::authenticate;

#[authenticate(skip, skip)]
async fn handler() {}

fn main() {}
