use authn::authenticate;

#[authenticate("jwt", "basic", "jwt")]
async fn handler() {}

fn main() {}
