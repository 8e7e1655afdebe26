use authn::authenticate;

#[authenticate(42)]
async fn handler() -> &'static str {
    "hi"
}

fn main() {}
