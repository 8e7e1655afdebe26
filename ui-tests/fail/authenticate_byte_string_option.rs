use authn::authenticate;

#[authenticate("jwt", realm = b"x")]
async fn handler() {}

fn main() {}
