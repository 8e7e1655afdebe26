use authn::authenticate;

#[authenticate("jwt")]
async fn handler() -> String {
    format!("{}", __authn_args.len())
}

fn main() {}
