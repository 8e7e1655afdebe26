use authn::{CurrentUser, authenticate};

#[authenticate("jwt")]
async fn handler(user: CurrentUser, again: Option<CurrentUser>) -> String {
    let _ = again;
    user.id.clone()
}

fn main() {}
