//! Writing your own strategies, the example the guide (`docs/strategies.md`) walks through:
//!
//! - `"signed"` (crate `example-strategies`): a strategy type in its own crate, configured
//!   through actix app data, with a route option (`max_skew`);
//! - `"login-page"` (below): a function strategy with an option (`page`) that sends browsers to
//!   a login page (a redirect) and lets API clients get their 401;
//! - routes combining them, and a protected group;
//! - `tests/api.rs`: testing handlers with `authn::test::as_user` and the strategy with real
//!   signed requests.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use authn::{AuthError, CurrentUser, Group, Outcome, Redirect, StrategyOptions, authenticate, strategy};
// Linking rule: the registration of "signed" lives in another crate; naming the crate keeps it.
use example_strategies as _;
pub use example_strategies::{SignedBody, SigningKeys};
use serde::Deserialize;

/// Browsers (`Accept: text/html`) without credentials go to the login page, with the page they
/// wanted in `next`; other clients are not this strategy's business, so they get the 401 and the
/// challenges of the route's other strategies. Option: `page = "/path"` (default `/login`).
#[strategy("login-page", options(page = str))]
async fn login_page(request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|t| t.trim().starts_with("text/html")));
    if !wants_html {
        return Ok(Outcome::NoCredentials);
    }
    let page = options.str("page").unwrap_or("/login");
    let next = request.uri().path_and_query().map_or("/", |p| p.as_str());
    Ok(Outcome::Redirect(Redirect::to(format!("{page}?next={}", query_escape(next)))))
}

/// Percent-encodes all but unreserved characters and `/`, so `next` stays one query value.
fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Public.
#[get("/ping")]
async fn ping() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"running": true}))
}

/// Signed requests only.
#[authenticate("signed")]
#[get("/whoAmI")]
async fn who_am_i(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body(user.id.clone())
}

/// Services sign their requests; people in a browser are sent to the sign-in page.
#[authenticate("signed", "login-page", page = "/sign-in")]
#[get("/reports")]
async fn reports(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"reports": [], "for": user.id}))
}

/// A webhook event.
#[derive(Deserialize)]
pub struct Event {
    /// What happened.
    pub kind: String,
}

/// Webhooks allow one minute of clock skew, not five; the body is read only after the
/// signature checked out, and only if it is the body the signature covers.
#[authenticate("signed", max_skew = 60)]
#[post("/webhooks")]
async fn webhook(body: SignedBody, user: CurrentUser) -> actix_web::Result<HttpResponse> {
    let event: Event = body.json()?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({"received": event.kind, "from": user.id})))
}

/// In the protected `/admin` group without an attribute of its own: still protected.
#[get("/stats")]
async fn stats() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"requests": 0}))
}

/// The sign-in page browsers are sent to (a placeholder: it says where they wanted to go).
#[get("/sign-in")]
async fn sign_in(query: web::Query<std::collections::HashMap<String, String>>) -> HttpResponse {
    let next = query.get("next").map_or("/", String::as_str);
    HttpResponse::Ok().content_type("text/plain").body(format!("sign in to continue to {next}"))
}

/// Mounts the API with the clients' signing keys.
pub fn configure(keys: web::Data<SigningKeys>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(keys)
            .service(ping)
            .service(who_am_i)
            .service(reports)
            .service(webhook)
            .service(sign_in)
            .service(web::scope("/admin").wrap(Group::new(["signed"])).service(stats));
    }
}
