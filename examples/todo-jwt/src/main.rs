//! `cargo run --release -p todo-jwt`: the API on http://127.0.0.1:3000, data in `./data`;
//! with `--database-url postgres://...` (and `JWT_SECRET`), data in PostgreSQL, shared by every
//! instance started with the same two.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::Service;
use actix_web::{App, HttpMessage, HttpServer, web};
use authn::Authentication;
use authn::jwt::{Algorithm, JwtConfig, JwtKey, PostgresStore, SqliteStore, TokenStore};
use authn::users::{DefaultUserService, LoginThrottle, ThrottleStore};
use clap::Parser;
use todo_jwt::db::Database;
use todo_jwt::{AppState, configure, configure_with_baseline, secret};
use tracing_subscriber::EnvFilter;

/// LoopBack's todo-jwt API on authn, on SQLite or PostgreSQL.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Environment: JWT_SECRET (the HMAC key, used as raw bytes, not decoded: at least 32 of \
    them, e.g. `openssl rand -base64 32`, 256 random bits; when unset, a secret is generated into \
    DATA_DIR/jwt-secret on first start; required with DATABASE_URL, since every instance must \
    share it), RUST_LOG (log filter, default info)."
)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    /// Directory of the SQLite database and the generated secret.
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// PostgreSQL instead of SQLite (`postgres://user:password@host:port/database`): users,
    /// todos and all authn state (revocations, refresh tokens, the login throttle) live there,
    /// and every instance started with the same URL and JWT_SECRET behaves as one server.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long, env = "WORKERS")]
    workers: Option<usize>,
    /// Bound of the verified-token cache, in bytes (0: verify every token in full).
    #[arg(long, env = "TOKEN_CACHE_BYTES", default_value_t = 4 * 1024 * 1024)]
    token_cache_bytes: u64,
    /// Also serve /baseline/whoAmI, a hand-written JWT handler, for the load benchmark.
    #[arg(long, hide = true)]
    bench_baseline: bool,
}

static REQUEST_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();

    let (db, token_store, throttle_store): (Database, Arc<dyn TokenStore>, Arc<dyn ThrottleStore>) = match &args
        .database_url
    {
        Some(url) => {
            if std::env::var("JWT_SECRET").is_err() {
                return Err("DATABASE_URL needs JWT_SECRET: every instance on the database must sign with the same \
                        key (export JWT_SECRET=$(openssl rand -base64 32))"
                    .into());
            }
            // The URL may hold a password: it is never logged.
            let store = PostgresStore::connect(url).await?;
            tracing::info!("data in PostgreSQL");
            (Database::postgres(store.clone()).await?, Arc::new(store.clone()), Arc::new(store))
        }
        None => {
            std::fs::create_dir_all(&args.data_dir)?;
            let database_path = args.data_dir.join("todo.db");
            let store = SqliteStore::open(&database_path)?;
            tracing::info!(path = %database_path.display(), "data in SQLite");
            (Database::open(&database_path)?, Arc::new(store.clone()), Arc::new(store))
        }
    };
    let (key, origin) = secret::load(&args.data_dir, std::env::var("JWT_SECRET").ok())?;
    match &origin {
        secret::Origin::Environment => tracing::info!("JWT secret from JWT_SECRET"),
        secret::Origin::File(path) => tracing::info!(path = %path.display(), "JWT secret from the data directory"),
        secret::Origin::Generated(path) => {
            tracing::warn!(path = %path.display(), "JWT_SECRET is not set: generated a secret and stored it (mode 0600)")
        }
    }
    let baseline =
        args.bench_baseline.then(|| web::Data::new(todo_jwt::baseline::Baseline::new(&key, "todo-jwt", "todo-jwt")));
    let config = JwtConfig::builder()
        .key(JwtKey::hmac(Algorithm::HS256, &key)?)
        .issuer("todo-jwt")
        .audience("todo-jwt")
        .realm("todo-jwt")
        .store(Arc::clone(&token_store))
        .verified_token_cache(args.token_cache_bytes)
        .build()?;
    // Failed logins are counted in the same database, so every process serving it shares them.
    let users = DefaultUserService::new(Arc::new(db.clone())).with_throttle(LoginThrottle::new(throttle_store));
    let state = web::Data::new(AppState::new(db, config.clone(), users)?);

    // Expired denials, refresh tokens and idle throttle counters go every ten minutes (and
    // once now), so the database does not grow with every logout.
    let purging = token_store;
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            match purging.purge_expired(now).await {
                Ok(removed) => tracing::debug!(removed, "purged expired token records"),
                Err(error) => tracing::warn!(%error, "purging expired token records failed"),
            }
        }
    });

    authn::validate()?;
    for route in authn::routes() {
        tracing::info!("route {route}");
    }

    let mut server = HttpServer::new(move || {
        App::new()
            .wrap_fn(|request, service| {
                // A request id and, once known, the user id on every log line; never a token.
                let id = REQUEST_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // The same id on authn's security events (authn::audit).
                request.extensions_mut().insert(authn::events::RequestId(id.to_string()));
                let span = tracing::info_span!("request", id, method = %request.method(), path = %request.path());
                let started = Instant::now();
                let response = service.call(request);
                async move {
                    let response = response.await?;
                    let _entered = span.enter();
                    // Borrowed, not cloned: nothing is copied when the line is filtered out.
                    let extensions = response.request().extensions();
                    let user = extensions.get::<Authentication>().map_or("-", |a| a.profile().id.as_str());
                    tracing::info!(
                        status = response.status().as_u16(),
                        user,
                        elapsed_us = started.elapsed().as_micros() as u64,
                        "served"
                    );
                    drop(extensions);
                    Ok(response)
                }
            })
            .configure(|cfg| match baseline.clone() {
                Some(baseline) => configure_with_baseline(config.clone(), state.clone(), baseline)(cfg),
                None => configure(config.clone(), state.clone())(cfg),
            })
    });
    if let Some(workers) = args.workers {
        server = server.workers(workers);
    }
    let server = server.bind((args.host.as_str(), args.port))?;
    // The bound addresses, not the requested ones: with PORT=0 the system picks a free port.
    for address in server.addrs() {
        tracing::info!("listening on http://{address}");
    }
    // actix stops gracefully on SIGINT and SIGTERM: in-flight requests finish first.
    server.run().await?;
    Ok(())
}
