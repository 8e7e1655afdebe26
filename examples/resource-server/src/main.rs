//! `cargo run -p resource-server -- --issuer https://YOUR-IDP/ --audience YOUR-API`: an API on
//! http://127.0.0.1:3001 that accepts only the identity provider's access tokens.

use actix_web::{App, HttpServer, middleware};
use authn::jwt::JwtConfig;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// An API that accepts only access tokens from an external identity provider.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Examples of --issuer and --audience: Auth0 https://TENANT.auth0.com/ and the API's identifier; \
    Keycloak https://HOST/realms/REALM and the client id (with an audience mapper); Entra ID \
    https://login.microsoftonline.com/TENANT_ID/v2.0 and the app's client id; Cognito \
    https://cognito-idp.REGION.amazonaws.com/POOL_ID and the app client id; Google https://accounts.google.com \
    and the OAuth client id. Environment: RUST_LOG (log filter, default info)."
)]
struct Args {
    /// The identity provider's issuer URL, exactly as its tokens' `iss` says it.
    #[arg(long, env = "ISSUER")]
    issuer: String,
    /// The audience tokens must name: this API's identifier at the provider.
    #[arg(long, env = "AUDIENCE")]
    audience: String,
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3001)]
    port: u16,
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let config = JwtConfig::builder().issuer_discovery(args.issuer.clone()).audience(args.audience).build()?;
    authn::validate_with(&[&config])?;
    // Warm up, so the first callers do not wait; a provider that is down now is retried (with
    // back-off) by the requests, which get 503 until its keys are had.
    match config.fetch_keys().await {
        Ok(keys) => tracing::info!(issuer = %args.issuer, keys, "identity provider keys fetched"),
        Err(error) => tracing::warn!(issuer = %args.issuer, %error, "identity provider unreachable for now"),
    }
    tracing::info!(host = %args.host, port = args.port, "listening");
    HttpServer::new(move || {
        App::new()
            .wrap(middleware::Logger::new("%r %s %Dms"))
            .app_data(config.clone())
            .configure(resource_server::routes)
    })
    .bind((args.host.as_str(), args.port))?
    .run()
    .await?;
    Ok(())
}
