//! `cargo run -p custom-strategy-example` serves the example on port 8080;
//! `cargo run -p custom-strategy-example -- sign GET /whoAmI` prints the headers of a signed
//! request for the demo client, ready for curl; `sign POST /webhooks '{"kind":"paid"}'` signs a
//! body too.

use actix_web::{App, HttpServer, web};
use custom_strategy_example::{SigningKeys, configure};
use tracing_subscriber::EnvFilter;

/// Used when `CLIENT_SECRET` is unset, so the example runs with nothing to configure.
const DEMO_SECRET: &str = "demo-secret-change-me";

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("CLIENT_SECRET").unwrap_or_else(|_| DEMO_SECRET.to_owned());
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [command, method, path, body @ ..] = args.as_slice()
        && command == "sign"
        && body.len() <= 1
    {
        let body = body.first().map_or("", String::as_str);
        let timestamp = example_strategies::now();
        let digest = example_strategies::content_digest(body.as_bytes());
        let signature = example_strategies::sign(secret.as_bytes(), method, path, timestamp, &digest);
        print!(
            "-H 'x-client-id: demo' -H 'x-timestamp: {timestamp}' -H 'content-digest: {digest}' -H 'x-signature: {signature}'"
        );
        if !body.is_empty() {
            print!(" -H 'content-type: application/json' --data-raw '{body}'");
        }
        println!();
        return Ok(());
    }

    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    // Every misconfiguration the compiler could not see, before a single request is served:
    // a strategy crate the linker dropped would be reported here.
    authn::validate()?;
    for route in authn::routes() {
        tracing::info!("route {route}");
    }
    if std::env::var("CLIENT_SECRET").is_err() {
        tracing::warn!("CLIENT_SECRET is not set: the demo client signs with the README's demo secret");
    }
    let keys = web::Data::new(SigningKeys::default().with_client("demo", secret.into_bytes()));
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8080);
    tracing::info!("listening on http://{host}:{port}");
    HttpServer::new(move || App::new().configure(configure(keys.clone()))).bind((host.as_str(), port))?.run().await?;
    Ok(())
}
