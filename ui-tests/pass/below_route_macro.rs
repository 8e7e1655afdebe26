use actix_web::{App, HttpResponse, post, web};
use authn::{CurrentUser, authenticate};
use serde::Deserialize;

#[derive(Deserialize)]
struct Todo {
    title: String,
}

#[post("/lists/{id}/todos")]
#[authenticate("jwt", "basic", scopes = ["todo:write"])]
async fn create(id: web::Path<u32>, todo: web::Json<Todo>, user: Option<CurrentUser>) -> HttpResponse {
    let owner = user.map(|u| u.id.clone()).unwrap_or_default();
    HttpResponse::Created().body(format!("{id} {} {owner}", todo.title))
}

fn main() {
    let _ = App::new().service(create);
}
