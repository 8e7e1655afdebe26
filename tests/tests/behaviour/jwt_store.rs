//! The token stores: nothing lost across a restart, exactly one winner among concurrent
//! refreshes, expired entries purged; the same contract for memory and SQLite.

use std::sync::Arc;

use authn::jwt::{Consumed, MemoryTokenStore, RefreshRecord, SqliteStore, TokenStore, hash_token};
use authn_tests::jwt::{self, now};

fn record(token: &str, family: &str, expires_at: u64) -> RefreshRecord {
    RefreshRecord { hash: hash_token(token), family: family.into(), user_id: "u1".into(), expires_at }
}

async fn contract(store: Arc<dyn TokenStore>) {
    let later = now() + 3600;
    assert!(store.deny("jti-1", later).await.unwrap());
    assert!(!store.deny("jti-1", later).await.unwrap(), "denying twice reports it");
    assert!(store.is_denied("jti-1").await.unwrap());
    assert!(!store.is_denied("jti-2").await.unwrap());

    store.insert_refresh(record("r1", "fam", later)).await.unwrap();
    store.insert_refresh(record("r2", "fam", later)).await.unwrap();
    assert!(
        matches!(store.consume_refresh(hash_token("r1"), now()).await.unwrap(), Consumed::Fresh(r) if r.family == "fam")
    );
    // A replay of r1 revokes the family: r2, unused, is dead too.
    assert!(matches!(store.consume_refresh(hash_token("r1"), now()).await.unwrap(), Consumed::Replayed(_)));
    assert!(matches!(store.consume_refresh(hash_token("r2"), now()).await.unwrap(), Consumed::Replayed(_)));
    assert_eq!(store.consume_refresh(hash_token("nope"), now()).await.unwrap(), Consumed::Invalid);

    // Expired entries are refused and purged.
    store.insert_refresh(record("old", "fam-old", now() - 1)).await.unwrap();
    store.deny("jti-old", now() - 1).await.unwrap();
    assert_eq!(store.consume_refresh(hash_token("old"), now()).await.unwrap(), Consumed::Invalid);
    let purged = store.purge_expired(now()).await.unwrap();
    assert_eq!(purged, 2, "the expired refresh token and the expired denial");
    assert!(!store.is_denied("jti-old").await.unwrap());
    assert!(store.is_denied("jti-1").await.unwrap(), "live entries stay");
}

#[actix_rt::test]
async fn memory_store_contract() {
    contract(Arc::new(MemoryTokenStore::new())).await;
}

#[actix_rt::test]
async fn sqlite_store_contract() {
    contract(Arc::new(SqliteStore::open_in_memory().unwrap())).await;
}

#[actix_rt::test]
async fn nothing_is_lost_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.deny("jti-restart", now() + 3600).await.unwrap();
        store.insert_refresh(record("keep", "fam", now() + 3600)).await.unwrap();
        store.insert_refresh(record("used", "fam2", now() + 3600)).await.unwrap();
        assert!(matches!(store.consume_refresh(hash_token("used"), now()).await.unwrap(), Consumed::Fresh(_)));
    }
    let store = SqliteStore::open(&path).unwrap();
    assert!(store.is_denied("jti-restart").await.unwrap());
    assert!(matches!(store.consume_refresh(hash_token("keep"), now()).await.unwrap(), Consumed::Fresh(_)));
    assert!(matches!(store.consume_refresh(hash_token("used"), now()).await.unwrap(), Consumed::Replayed(_)));
}

/// "Refresh tokens exist in storage only as hashes": tokens issued, rotated and logged out by
/// the service (so the test never hashes them itself), then the file and its WAL are searched
/// for their text and their base64-decoded bytes.
#[actix_rt::test]
async fn refresh_tokens_never_reach_the_file_or_its_wal() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let services = jwt::services(store).await;
    let profile = authn::UserProfile::new(jwt::USER_ID);
    let first = services.refresh.issue(&profile).await.unwrap();
    let second = services.refresh.refresh(&first.refresh_token).await.unwrap();
    let third = services.refresh.issue(&profile).await.unwrap();
    services.refresh.logout(Some(&third.refresh_token), Some(&third.access_token)).await.unwrap();
    let mut files = std::fs::read(&path).unwrap();
    files.extend(std::fs::read(dir.path().join("tokens.db-wal")).unwrap());
    for token in [&first.refresh_token, &second.refresh_token, &third.refresh_token] {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).unwrap();
        for needle in [token.as_bytes(), &raw[..]] {
            assert!(!files.windows(needle.len()).any(|w| w == needle), "a refresh token is stored in clear");
        }
        // What is stored is its hash.
        assert!(files.windows(32).any(|w| w == hash_token(token)));
    }
}

async fn exactly_one_refresh_wins(store: Arc<dyn TokenStore>) {
    let services = jwt::services(store).await;
    let profile = authn::UserProfile::new(jwt::USER_ID);
    let pair = services.refresh.issue(&profile).await.unwrap();
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let refresh = services.refresh.clone();
            let token = pair.refresh_token.clone();
            actix_rt::spawn(async move { refresh.refresh(&token).await })
        })
        .collect();
    let mut wins = 0;
    for attempt in attempts {
        if attempt.await.unwrap().is_ok() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1, "of eight concurrent refreshes with one token, exactly one succeeds");
}

#[actix_rt::test]
async fn concurrent_refreshes_memory() {
    exactly_one_refresh_wins(Arc::new(MemoryTokenStore::new())).await;
}

// (One SqliteStore serialises its calls on its connection's mutex, so a race on a single store
// cannot show non-atomic SQL: the test below races separate connections instead.)

#[test]
fn separate_connections_racing_on_one_token_have_one_winner() {
    // Four connections to one file, as four server processes would have, racing on threads.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let stores: Vec<SqliteStore> = (0..4).map(|_| SqliteStore::open(&path).unwrap()).collect();
    actix_rt::System::new().block_on(stores[0].insert_refresh(record("shared", "fam", now() + 60))).unwrap();
    let start = std::sync::Barrier::new(stores.len());
    let results: Vec<Consumed> = std::thread::scope(|scope| {
        let start = &start;
        let handles: Vec<_> = stores
            .into_iter()
            .map(|store| {
                scope.spawn(move || {
                    start.wait();
                    actix_rt::System::new().block_on(store.consume_refresh(hash_token("shared"), now())).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| matches!(r, Consumed::Fresh(_))).count(), 1, "{results:?}");
}

#[actix_rt::test]
async fn a_denial_by_another_connection_is_seen_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let here = SqliteStore::open(&path).unwrap();
    let there = SqliteStore::open(&path).unwrap();
    assert!(!here.is_denied("elsewhere").await.unwrap());
    there.deny("elsewhere", now() + 600).await.unwrap();
    // This process read the denylist a moment ago; within a second it reads it again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while !here.is_denied("elsewhere").await.unwrap() {
        assert!(std::time::Instant::now() < deadline, "the denial was never seen");
        actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Its own denials are seen at once.
    here.deny("mine", now() + 600).await.unwrap();
    assert!(here.is_denied("mine").await.unwrap());
}

/// Issue: the denylist had no AUTOINCREMENT, so a purge of the highest row let SQLite reuse its
/// rowid, and other processes' mirrors (reading `rowid > last`) skipped the new denial.
#[actix_rt::test]
async fn a_denial_after_a_purge_still_reaches_other_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    a.deny("old", now() - 1).await.unwrap();
    // b reads the file (the expired denial itself no longer matters).
    b.is_denied("old").await.unwrap();
    assert_eq!(a.purge_expired(now()).await.unwrap(), 1);
    a.deny("new", now() + 600).await.unwrap();
    actix_rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(b.is_denied("new").await.unwrap(), "b must see the denial made after the purge");
}

/// Files made before the sequence existed are migrated with their denials, and several stores
/// opening one file at once migrate it once.
#[test]
fn an_old_file_is_migrated_and_concurrent_opens_agree() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE authn_denied (jti TEXT PRIMARY KEY, until INTEGER NOT NULL);
             INSERT INTO authn_denied VALUES ('kept', 9999999999);",
        )
        .unwrap();
    }
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || SqliteStore::open(&path).map(drop))
        })
        .collect();
    for open in opens {
        open.join().unwrap().unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let denied = actix_rt::System::new().block_on(async move { store.is_denied("kept").await.unwrap() });
    assert!(denied);
    let c = rusqlite::Connection::open(&path).unwrap();
    let versions: i64 = c.query_row("SELECT COUNT(*) FROM authn_schema_version", [], |r| r.get(0)).unwrap();
    assert_eq!(versions, 3, "each migration recorded once");
}

/// Issue: a replay recorded the replayed token's expiry as the family's, shortening an earlier,
/// longer revocation; after a purge the family's other tokens worked again.
async fn a_replay_never_shortens_a_family_revocation(store: Arc<dyn TokenStore>) {
    let t = now();
    store.insert_refresh(record("long", "fam", t + 10_000)).await.unwrap();
    store.insert_refresh(record("short", "fam", t + 100)).await.unwrap();
    assert!(matches!(store.consume_refresh(hash_token("short"), t).await.unwrap(), Consumed::Fresh(_)));
    assert!(matches!(store.consume_refresh(hash_token("short"), t).await.unwrap(), Consumed::Replayed(_)));
    store.purge_expired(t + 200).await.unwrap();
    assert!(
        matches!(store.consume_refresh(hash_token("long"), t + 300).await.unwrap(), Consumed::Replayed(_)),
        "the family stays revoked while any of its tokens could be used"
    );
}

#[actix_rt::test]
async fn memory_replay_keeps_the_family_revoked() {
    a_replay_never_shortens_a_family_revocation(Arc::new(MemoryTokenStore::new())).await;
}

#[actix_rt::test]
async fn sqlite_replay_keeps_the_family_revoked() {
    a_replay_never_shortens_a_family_revocation(Arc::new(SqliteStore::open_in_memory().unwrap())).await;
}

/// Issue: denials ended at `exp` while tokens verify until `exp + leeway`, so a purge in between
/// brought a revoked token back.
#[actix_rt::test]
async fn a_revoked_token_stays_revoked_through_a_purge_within_the_leeway() {
    use authn::jwt::TokenService;
    let store: Arc<dyn TokenStore> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let config = jwt::config_builder()
        .leeway(std::time::Duration::from_secs(30))
        .access_token_ttl(std::time::Duration::from_secs(60))
        .store(Arc::clone(&store))
        .build()
        .unwrap();
    let tokens = authn::jwt::JwtTokenService::new(config);
    let issued = tokens.generate_token(&authn::UserProfile::new("u")).unwrap();
    assert!(tokens.revoke_token(&issued.token).await.unwrap());
    // Any purge up to the last second the token could verify keeps the denial.
    store.purge_expired(issued.expires_at + 30).await.unwrap();
    let error = tokens.verify_token(&issued.token).await.unwrap_err();
    assert_eq!(error.message(), "Error verifying token : jwt revoked");
    // One second later the token itself is expired: the denial may go.
    assert_eq!(store.purge_expired(issued.expires_at + 31).await.unwrap(), 1);
}

/// Issue: the file holding token hashes (and the throttle's counters) was created world-readable.
#[cfg(unix)]
#[actix_rt::test]
async fn the_store_file_and_its_wal_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private.db");
    let store = SqliteStore::open(&path).unwrap();
    store.deny("j", now() + 60).await.unwrap();
    for file in [path.clone(), dir.path().join("private.db-wal"), dir.path().join("private.db-shm")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }
}

/// The same contract, and the same race, on PostgreSQL (a throwaway server of the test's own).
#[actix_rt::test]
async fn postgres_store_contract() {
    use authn::jwt::PostgresStore;
    let pg = authn_tests::pg::Postgres::start();
    contract(Arc::new(PostgresStore::connect(&pg.database("contract")).await.unwrap())).await;
    a_replay_never_shortens_a_family_revocation(Arc::new(
        PostgresStore::connect(&pg.database("replay")).await.unwrap(),
    ))
    .await;
    exactly_one_refresh_wins(Arc::new(PostgresStore::connect(&pg.database("race")).await.unwrap())).await;
}
