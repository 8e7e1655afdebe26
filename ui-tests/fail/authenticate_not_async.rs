use authn::authenticate;

#[authenticate("jwt")]
fn handler() -> &'static str {
    "sync"
}

fn main() {}
