//! `#[authenticate(group)]` takes the enclosing group's user, required or optional, with other
//! extractors beside it.
use actix_web::{App, get, web};
use authn::{CurrentUser, Group, authenticate};

#[authenticate(group)]
#[get("/me")]
async fn me(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate(group)]
#[get("/maybe/{id}")]
async fn maybe(user: Option<CurrentUser>, id: web::Path<u32>) -> String {
    format!("{}:{id}", user.map(|u| u.id.clone()).unwrap_or_default())
}

fn main() {
    let _ = App::new().service(web::scope("/admin").wrap(Group::new(["jwt"])).service(me).service(maybe));
}
