//! Handlers written on one line, under `deny(warnings)`: the expansion adds no warning of its
//! own (no `unused_braces` from wrapping the body in a block, no `unused_qualifications`) to
//! the user's code; an inner attribute in the body still applies to the body.
#![deny(warnings, unused_braces, unused_qualifications, unused_results)]

use actix_web::{App, HttpResponse, get, web};
use authn::{CurrentUser, authenticate};

#[authenticate("jwt")]
#[get("/a")]
async fn a(user: CurrentUser) -> String { user.id.clone() }

#[authenticate("jwt", "basic")]
#[get("/b/{id}")]
async fn b(id: web::Path<u32>, user: Option<CurrentUser>) -> String { format!("{id} {}", user.is_some()) }

#[authenticate(skip)]
#[get("/c")]
async fn c() -> HttpResponse { HttpResponse::Ok().finish() }

#[authenticate("jwt")]
#[get("/d")]
async fn d() -> &'static str { "d" }

#[authenticate("jwt")]
#[get("/e")]
async fn e(user: CurrentUser) -> String {
    #![allow(unused_results)]
    user.id.clone()
}

fn main() { drop(App::new().service(a).service(b).service(c).service(d).service(e)); }
