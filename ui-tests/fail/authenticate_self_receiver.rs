use authn::authenticate;

struct Controller;

impl Controller {
    #[authenticate("jwt")]
    async fn handler(&self) -> &'static str {
        "method"
    }
}

fn main() {}
