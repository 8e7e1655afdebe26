//! The token stores: nothing lost across a restart, exactly one winner among concurrent
//! refreshes, expired entries purged; the same contract for memory and SQLite.

use std::sync::Arc;

use authn::jwt::{Consumed, MemoryStore, RefreshRecord, SqliteStore, TokenStore, hash_token};
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
    contract(Arc::new(MemoryStore::new())).await;
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
    // Only hashes are stored: the token text is nowhere in the file.
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(4).any(|w| w == b"keep"));
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
    exactly_one_refresh_wins(Arc::new(MemoryStore::new())).await;
}

#[actix_rt::test]
async fn concurrent_refreshes_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    exactly_one_refresh_wins(Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap())).await;
}

#[test]
fn two_processes_worth_of_connections_still_have_one_winner() {
    // Two connections to one file, as two server processes would have, racing on threads.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    actix_rt::System::new().block_on(a.insert_refresh(record("shared", "fam", now() + 60))).unwrap();
    let results: Vec<Consumed> = std::thread::scope(|scope| {
        let handles: Vec<_> = [a, b]
            .into_iter()
            .map(|store| {
                scope.spawn(move || {
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
