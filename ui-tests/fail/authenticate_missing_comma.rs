use authn::authenticate;

#[authenticate("jwt" "basic")]
async fn handler() -> &'static str {
    "hi"
}

fn main() {}
