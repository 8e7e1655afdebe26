use actix_web::{App, get};
use authn::CurrentUser;

#[get("/me")]
async fn me(user: CurrentUser) -> String {
    user.id.clone()
}

fn main() {
    let _ = App::new().service(me);
}
