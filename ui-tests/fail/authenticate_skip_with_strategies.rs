use authn::authenticate;

#[authenticate("jwt", skip)]
async fn handler() {}

fn main() {}
