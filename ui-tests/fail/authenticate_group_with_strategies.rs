use authn::authenticate;

#[authenticate(group, "jwt")]
async fn handler() {}

fn main() {}
