use authn::authenticate;

#[authenticate("jwt")]
struct Handler;

fn main() {}
