use authn::{CurrentUser, authenticate};

#[authenticate("", "jwt", "jwt")]
fn handler(_user: CurrentUser, _other: CurrentUser) {}

fn main() {}
