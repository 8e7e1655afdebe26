use authn::{CurrentUser, authenticate};

#[authenticate(skip)]
async fn handler(user: CurrentUser) -> String {
    user.id.clone()
}

fn main() {}
