use authn::authenticate;

#[authenticate("")]
async fn handler() {}

fn main() {}
