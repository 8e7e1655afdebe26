//! The smallest useful deployment of authn: an API whose callers bring access tokens from an
//! identity provider it does not run. The keys come from the provider's discovery document and
//! JWK Set, fetched, cached and rotated by authn (feature `oidc`).
//!
//! | route | who |
//! |---|---|
//! | `GET /ping` | anyone |
//! | `GET /whoAmI` | a valid access token: its `sub`, as `text/plain` |
//! | `GET /scoped` | a valid access token granting `todo:read`; 403 `insufficient_scope` otherwise |

use actix_web::{HttpResponse, get, web};
use authn::{CurrentUser, authenticate};

/// Liveness: public.
#[get("/ping")]
async fn ping() -> &'static str {
    "pong"
}

/// The caller's subject, from the token's `sub`.
#[authenticate("jwt")]
#[get("/whoAmI")]
async fn who_am_i(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(user.id.clone())
}

/// Needs the `todo:read` scope (from the token's `scope` or `scp`).
#[authenticate("jwt", scopes = ["todo:read"])]
#[get("/scoped")]
async fn scoped(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(format!("{} may read todos", user.id))
}

/// The routes, for `App::configure`.
pub fn routes(config: &mut web::ServiceConfig) {
    config.service(ping).service(who_am_i).service(scoped);
}
