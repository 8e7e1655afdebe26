use authn::authenticate;

#[authenticate("jwt", level = 99999999999999999999, floor = -99999999999999999999)]
async fn handler() {}

fn main() {}
