//! `cargo run -p api-key-example`, then:
//! `curl -H 'x-api-key: demo-key-0123456789' localhost:8080/whoAmI`

use actix_web::{App, HttpServer, web};
use api_key_example::{ApiKeys, configure};
use tracing_subscriber::EnvFilter;

/// Used when `API_KEYS` is unset, so the example runs with nothing to configure.
const DEMO_KEYS: &str = "demo-key-0123456789=demo:notes:read,notes:write;reader-key-0123456789=reader:notes:read";

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();

    // Every misconfiguration the compiler could not see, before a single request is served.
    authn::validate()?;
    for route in authn::routes() {
        tracing::info!("route {route}");
    }

    let keys = match std::env::var("API_KEYS") {
        Ok(spec) => ApiKeys::parse(&spec)?,
        Err(_) => {
            tracing::warn!("API_KEYS is not set: using the two demo keys from the README");
            ApiKeys::parse(DEMO_KEYS)?
        }
    };
    let keys = web::Data::new(keys);
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8080);
    tracing::info!("listening on http://{host}:{port}");
    HttpServer::new(move || App::new().configure(configure(keys.clone()))).bind((host.as_str(), port))?.run().await?;
    Ok(())
}
