use authn::authenticate;

#[authenticate("jwt")]
async fn handler() -> &'static str;

fn main() {}
