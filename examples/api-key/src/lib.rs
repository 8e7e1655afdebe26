//! A small API secured with a custom strategy, `"notes-key"`.
//!
//! - the strategy is a type registered with `#[strategy]`, built once, and configured per app
//!   through actix app data ([`ApiKeys`]);
//! - keys are kept as SHA-256 digests only: a leaked table does not leak keys;
//! - routes ask for scopes in the attribute (`scopes = ["notes:write"]`); a key without them
//!   gets 403 with RFC 6750's `insufficient_scope` challenge;
//! - `/admin` is a protected group: a handler there that forgot its attribute is protected.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use authn::{
    AuthError, AuthenticationStrategy, Challenge, CurrentUser, Group, OptionKind, OptionSpec, Outcome, StrategyOptions,
    UserProfile, authenticate, strategy,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The header clients send their key in.
pub const HEADER: &str = "x-api-key";
const REALM: &str = "api-key-example";

/// The API keys an app accepts: digest → client.
#[derive(Default)]
pub struct ApiKeys {
    by_digest: HashMap<[u8; 32], Client>,
}

#[derive(Clone)]
struct Client {
    id: String,
    scopes: Vec<String>,
}

impl ApiKeys {
    /// Adds a key for `client` with `scopes`. The key itself is not kept.
    pub fn with_key(mut self, key: &str, client: &str, scopes: &[&str]) -> Self {
        let client = Client { id: client.to_owned(), scopes: scopes.iter().map(|s| (*s).to_owned()).collect() };
        self.by_digest.insert(digest(key), client);
        self
    }

    /// Parses `key=client:scope,scope;key=client:scope` (the `API_KEYS` variable).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut keys = ApiKeys::default();
        for entry in spec.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (key, rest) = entry.split_once('=').ok_or("expected key=client:scopes")?;
            let (client, scopes) = rest.split_once(':').unwrap_or((rest, ""));
            if key.len() < 16 {
                return Err(format!("the key of {client} is shorter than 16 characters"));
            }
            let scopes: Vec<&str> = scopes.split(',').filter(|s| !s.is_empty()).collect();
            keys = keys.with_key(key, client, &scopes);
        }
        Ok(keys)
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The strategy. Stateless: its configuration comes from the app's [`ApiKeys`].
#[derive(Default)]
pub struct ApiKeyStrategy;

#[strategy("notes-key")]
impl AuthenticationStrategy for ApiKeyStrategy {
    async fn authenticate(&self, request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> {
        let Some(value) = request.headers().get(HEADER) else {
            return Ok(Outcome::NoCredentials);
        };
        let keys = request
            .app_data::<web::Data<ApiKeys>>()
            .ok_or_else(|| AuthError::unauthorized("API keys are not configured.").with_code("API_KEYS_MISSING"))?;
        // A lookup by digest: the comparison never touches the key bytes, so its timing says
        // nothing about them.
        let client = value.to_str().ok().and_then(|key| keys.by_digest.get(&digest(key))).ok_or_else(|| {
            AuthError::unauthorized("Invalid API key.")
                .with_code("INVALID_API_KEY")
                .with_challenge(Challenge::new("ApiKey").param("realm", REALM).param("error", "invalid_token"))
                .stop_chain()
        })?;
        let missing: Vec<&str> = options.strings("scopes").filter(|s| !client.scopes.iter().any(|c| c == s)).collect();
        if !missing.is_empty() {
            let scope = missing.join(" ");
            return Err(AuthError::forbidden(format!("Missing scope: {scope}."))
                .with_code("INSUFFICIENT_SCOPE")
                .with_challenge(
                    Challenge::new("ApiKey")
                        .param("realm", REALM)
                        .param("error", "insufficient_scope")
                        .param("scope", scope),
                )
                .stop_chain());
        }
        Ok(Outcome::User(UserProfile::new(client.id.clone()).with_claim("scopes", client.scopes.clone())))
    }

    fn challenge(&self, _request: &HttpRequest, _options: &StrategyOptions) -> Option<Challenge> {
        Some(Challenge::new("ApiKey").param("realm", REALM))
    }

    fn accepted_options(&self) -> &'static [OptionSpec] {
        const ACCEPTED: &[OptionSpec] = &[OptionSpec::new("scopes", OptionKind::List(&OptionKind::Str))];
        ACCEPTED
    }
}

/// Public.
#[get("/ping")]
async fn ping() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"running": true}))
}

/// The caller's id, as LoopBack's examples answer it.
#[get("/whoAmI")]
#[authenticate("notes-key")]
async fn who_am_i(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body(user.id.clone())
}

/// Works for everyone; says more to callers with a key.
#[get("/hello")]
#[authenticate("notes-key")]
async fn hello(user: Option<CurrentUser>) -> String {
    match user {
        Some(user) => format!("Hello, {}!", user.id),
        None => "Hello, stranger!".to_owned(),
    }
}

/// What `POST /notes` accepts.
#[derive(Deserialize, Serialize)]
pub struct NewNote {
    /// The note.
    pub text: String,
}

#[derive(Deserialize)]
struct Caller {
    id: String,
    scopes: Vec<String>,
}

/// Needs the `notes:write` scope; the body is read only once the caller is known.
#[post("/notes")]
#[authenticate("notes-key", scopes = ["notes:write"])]
async fn create_note(note: web::Json<NewNote>, user: CurrentUser<Caller>) -> HttpResponse {
    HttpResponse::build(StatusCode::CREATED).json(serde_json::json!({
        "text": note.text,
        "author": user.id,
        "scopes": user.scopes,
    }))
}

/// In the protected `/admin` group without an attribute of its own: still protected.
#[get("/stats")]
async fn stats() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"notes": 0}))
}

/// Public even inside `/admin`: the attribute sits above the route macro, where the group
/// can see it.
#[authenticate(skip)]
#[get("/health")]
async fn admin_health() -> &'static str {
    "ok"
}

/// Mounts the API; `keys` is the app's key table.
pub fn configure(keys: web::Data<ApiKeys>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(keys)
            .service(ping)
            .service(who_am_i)
            .service(hello)
            .service(create_note)
            .service(web::scope("/admin").wrap(Group::new(["notes-key"])).service(stats).service(admin_health));
    }
}
