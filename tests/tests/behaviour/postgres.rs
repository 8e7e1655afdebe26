//! Several instances, one PostgreSQL: a revocation on one reaches the others within the
//! staleness bound (measured), survives the listener's connection being killed, fails closed
//! while the database is down and recovers by itself; exactly one of many concurrent refreshes
//! spread over instances wins.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authn::jwt::{Consumed, PostgresOptions, PostgresStore, RefreshRecord, TokenStore, hash_token};
use authn_tests::jwt::now;
use authn_tests::pg::Postgres;

async fn instances(url: &str, n: usize, options: &PostgresOptions) -> Vec<PostgresStore> {
    let mut stores = Vec::new();
    for _ in 0..n {
        stores.push(PostgresStore::connect_with(url, options.clone()).await.unwrap());
    }
    stores
}

/// How long until `store` answers "denied" for `jti` from its mirror, polling each millisecond.
async fn until_denied(store: &PostgresStore, jti: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if let Some(Ok(true)) = store.is_denied_now(jti) {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{jti} not denied after {limit:?}");
        actix_rt::time::sleep(Duration::from_millis(1)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[actix_rt::test]
async fn a_logout_on_one_instance_reaches_the_others_within_the_bound() {
    let pg = Postgres::start();
    let options = PostgresOptions::default();
    let stores = instances(&pg.url(), 3, &options).await;
    let mut latencies = Vec::new();
    for i in 0..40 {
        let jti = format!("jti-{i}");
        let (a, others) = (&stores[i % 3], [&stores[(i + 1) % 3], &stores[(i + 2) % 3]]);
        assert!(a.deny(&jti, now() + 3600).await.unwrap());
        assert_eq!(a.is_denied_now(&jti).map(Result::unwrap), Some(true), "the revoking instance at once");
        for other in others {
            latencies.push(until_denied(other, &jti, options.staleness()).await);
        }
    }
    latencies.sort();
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    println!("revocation propagation over {} observations: p50 {p50:?}, p99 {p99:?}", latencies.len());
    assert!(p99 <= options.staleness(), "the guarantee: within max_staleness");
}

#[actix_rt::test]
async fn revocations_made_while_the_listener_was_away_are_caught_up() {
    let pg = Postgres::start();
    let options = PostgresOptions::default().poll_interval(Duration::from_millis(200));
    let stores = instances(&pg.url(), 2, &options).await;
    let (a, b) = (&stores[0], &stores[1]);
    // Kill every listening connection (B's among them), then revoke while it reconnects.
    let killed = pg.psql(&format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{}'",
        authn::jwt::POSTGRES_LISTENER_NAME
    ));
    assert_ne!(killed, "0", "the listeners were found");
    for i in 0..20 {
        a.deny(&format!("away-{i}"), now() + 3600).await.unwrap();
    }
    for i in 0..20 {
        until_denied(b, &format!("away-{i}"), Duration::from_secs(5)).await;
    }
}

#[actix_rt::test]
async fn a_database_that_went_away_fails_closed_then_recovers() {
    let pg = Postgres::start();
    let options = PostgresOptions::default()
        .max_staleness(Duration::from_millis(500))
        .query_timeout(Duration::from_secs(1))
        .connect_timeout(Duration::from_secs(1));
    let store = PostgresStore::connect_with(&pg.url(), options).await.unwrap();
    store.deny("before", now() + 3600).await.unwrap();
    pg.stop();
    actix_rt::time::sleep(Duration::from_millis(800)).await;
    // The mirror is too old to answer, and the database cannot: an error (503), never "not denied".
    assert!(store.is_denied_now("anything").is_none(), "a stale mirror does not answer");
    let started = Instant::now();
    assert!(store.is_denied("anything").await.is_err());
    assert!(started.elapsed() < Duration::from_secs(3), "bounded by the timeouts: {:?}", started.elapsed());
    assert!(store.deny("during", now() + 3600).await.is_err(), "a revocation that cannot be stored is an error");
    pg.start_again();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(denied) = store.is_denied("before").await {
            assert!(denied);
            break;
        }
        assert!(Instant::now() < deadline, "no recovery within 15 s");
        actix_rt::time::sleep(Duration::from_millis(200)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while store.is_denied_now("before").is_none() {
        assert!(Instant::now() < deadline, "the mirror never became fresh again");
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_rt::test]
async fn of_fifty_concurrent_refreshes_over_three_instances_exactly_one_wins() {
    let pg = Postgres::start();
    let stores = instances(&pg.url(), 3, &PostgresOptions::default()).await;
    let record =
        RefreshRecord { hash: hash_token("r"), family: "fam".into(), user_id: "u".into(), expires_at: now() + 3600 };
    stores[0].insert_refresh(record).await.unwrap();
    let stores: Vec<Arc<PostgresStore>> = stores.into_iter().map(Arc::new).collect();
    let attempts: Vec<_> = (0..50)
        .map(|i| {
            let store = Arc::clone(&stores[i % 3]);
            actix_rt::spawn(async move { store.consume_refresh(hash_token("r"), now()).await.unwrap() })
        })
        .collect();
    let mut fresh = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Consumed::Fresh(_) => fresh += 1,
            Consumed::Replayed(_) => {}
            Consumed::Invalid => panic!("the token exists"),
        }
    }
    assert_eq!(fresh, 1);
    // The replays revoked the family everywhere: a sibling token is dead on every instance.
    let sibling =
        RefreshRecord { hash: hash_token("s"), family: "fam".into(), user_id: "u".into(), expires_at: now() + 3600 };
    stores[1].insert_refresh(sibling).await.unwrap();
    assert!(matches!(stores[2].consume_refresh(hash_token("s"), now()).await.unwrap(), Consumed::Replayed(_)));
}

#[actix_rt::test]
async fn the_reuse_interval_is_off_by_default_and_bounded_when_on() {
    let pg = Postgres::start();
    let record = |token: &str| RefreshRecord {
        hash: hash_token(token),
        family: format!("fam-{token}"),
        user_id: "u".into(),
        expires_at: now() + 3600,
    };
    let strict = PostgresStore::connect(&pg.database("strict")).await.unwrap();
    strict.insert_refresh(record("a")).await.unwrap();
    let t = now();
    assert!(matches!(strict.consume_refresh(hash_token("a"), t).await.unwrap(), Consumed::Fresh(_)));
    assert!(
        matches!(strict.consume_refresh(hash_token("a"), t).await.unwrap(), Consumed::Replayed(_)),
        "off by default"
    );

    let lenient = PostgresStore::connect_with(
        &pg.database("lenient"),
        PostgresOptions::default().refresh_reuse_interval(Duration::from_secs(10)),
    )
    .await
    .unwrap();
    lenient.insert_refresh(record("b")).await.unwrap();
    assert!(matches!(lenient.consume_refresh(hash_token("b"), t).await.unwrap(), Consumed::Fresh(_)));
    // A retry 9 s after the first use: let through (the client lost the answer).
    assert!(matches!(lenient.consume_refresh(hash_token("b"), t + 9).await.unwrap(), Consumed::Fresh(_)));
    // Past the interval, counted from the first use: a replay, and the family is revoked.
    assert!(matches!(lenient.consume_refresh(hash_token("b"), t + 11).await.unwrap(), Consumed::Replayed(_)));
    assert!(
        matches!(lenient.consume_refresh(hash_token("b"), t + 5).await.unwrap(), Consumed::Replayed(_)),
        "revoked stays revoked"
    );
}

#[actix_rt::test]
async fn users_and_api_keys_are_shared_by_every_instance() {
    use authn::api_key::{ApiKeyConfig, generate};
    use authn::users::{Credentials, DefaultUserService, PasswordHasher, StoredUser, UserService};
    let pg = Postgres::start();
    let stores = instances(&pg.url(), 2, &PostgresOptions::default()).await;
    let (a, b) = (&stores[0], &stores[1]);

    // A user signed up through one instance logs in through the other; the email is unique
    // across instances.
    let hasher = PasswordHasher::for_tests();
    let hash = hasher.hash("correct horse").await.unwrap();
    let user = StoredUser::new("u-1", "ada@example.com", hash.clone()).with_name("Ada").with_claim("role", "admin");
    assert!(a.insert_user(&user).await.unwrap());
    assert!(!b.insert_user(&StoredUser::new("u-2", "ada@example.com", hash)).await.unwrap(), "email taken");
    let service = DefaultUserService::new(Arc::new(b.clone())).with_hasher(hasher);
    let profile = service.verify_credentials(&Credentials::new("ada@example.com", "correct horse")).await.unwrap();
    assert_eq!((profile.id.as_str(), profile.name.as_deref()), ("u-1", Some("Ada")));
    assert_eq!(profile.claims["role"], "admin");
    assert!(service.verify_credentials(&Credentials::new("ada@example.com", "wrong")).await.is_err());

    // An API key issued on one instance works on the other, until revoked anywhere.
    let issued = generate("billing", None).unwrap();
    a.insert_api_key(&issued.stored, &authn::UserProfile::new("billing")).await.unwrap();
    #[authn::authenticate("api-key")]
    #[actix_web::get("/whoAmI")]
    async fn who_am_i(client: authn::CurrentUser) -> String {
        client.id.clone()
    }
    let app =
        actix_web::test::init_service(actix_web::App::new().app_data(ApiKeyConfig::new(b.clone())).service(who_am_i))
            .await;
    let call = || authn_tests::http::get("/whoAmI").insert_header(("x-api-key", issued.key.clone()));
    let answer = authn_tests::http::send(&app, call()).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "billing"));
    // Only the secret's hash is stored: the row holds neither the key nor its secret half.
    let row = pg.psql("SELECT id || encode(secret_hash, 'escape') || client || profile FROM authn_api_keys");
    let secret = issued.key.split_once('.').map(|(_, secret)| secret.to_owned()).unwrap();
    assert!(!row.contains(&issued.key) && !row.contains(&secret), "{row}");
    assert!(a.revoke_api_key(&issued.stored.id).await.unwrap());
    assert_eq!(authn_tests::http::send(&app, call()).await.status, 401);
}
