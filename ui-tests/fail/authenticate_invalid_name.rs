use authn::authenticate;

#[authenticate("my jwt")]
async fn handler() {}

fn main() {}
