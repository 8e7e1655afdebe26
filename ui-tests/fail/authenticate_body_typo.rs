use authn::{CurrentUser, authenticate};

// A typo inside the body: only the compiler's own error about it, not the macro's.
#[authenticate("jwt")]
async fn handler(user: CurrentUser) -> String {
    let id = user.id.clone()
    id
}

fn main() {}
