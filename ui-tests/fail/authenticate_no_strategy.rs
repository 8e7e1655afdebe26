use authn::authenticate;

#[authenticate]
async fn handler() -> &'static str {
    "public by accident in LoopBack"
}

fn main() {}
