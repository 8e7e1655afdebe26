use authn::authenticate;

#[authenticate(group, realm = "admin")]
async fn handler() {}

fn main() {}
