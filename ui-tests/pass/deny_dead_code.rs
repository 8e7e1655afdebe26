#![deny(dead_code, unused)]

use actix_web::{App, get, web};
use authn::{CurrentUser, authenticate};

#[authenticate("jwt")]
#[get("/a")]
async fn a(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate(skip)]
async fn b() -> &'static str {
    "b"
}

fn main() {
    let _ = App::new().service(a).route("/b", web::get().to(b));
}
