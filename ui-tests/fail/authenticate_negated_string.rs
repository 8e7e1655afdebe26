use authn::authenticate;

#[authenticate("jwt", realm = -"x")]
async fn handler() {}

fn main() {}
