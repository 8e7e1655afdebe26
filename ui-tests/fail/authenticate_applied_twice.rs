use authn::authenticate;

#[authenticate("jwt")]
#[authenticate("basic")]
async fn handler() {}

fn main() {}
