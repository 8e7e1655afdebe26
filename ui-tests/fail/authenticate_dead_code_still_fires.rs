#![deny(dead_code)]

use authn::authenticate;

#[authenticate("jwt")]
async fn never_registered() {}

fn main() {}
