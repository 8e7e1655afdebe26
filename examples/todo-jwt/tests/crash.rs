//! Crash safety: the server is killed with SIGKILL in the middle of a write load, and right after
//! acknowledging a logout; after a restart on the same data directory every acknowledged write
//! and revocation is there. The server runs as the real binary, on a port it picks itself.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{call, connect, connect_to, kill, login, start};

#[test]
fn no_acknowledged_write_is_lost_to_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let token = login(&mut connect(&server), "crash@test.io");

    // Write until killed; remember every todo the server acknowledged.
    let writer_token = token.clone();
    let writer_address = server.address;
    let written = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&written);
    let writer = std::thread::spawn(move || {
        let mut conn = connect_to(writer_address);
        let mut acknowledged = Vec::new();
        for i in 0.. {
            match call(&mut conn, "POST", "/todos", Some(&writer_token), Some(&json!({"title": format!("todo {i}")}))) {
                Ok((200, todo)) => {
                    acknowledged.push(todo["id"].as_i64().unwrap());
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                _ => break,
            }
        }
        acknowledged
    });
    // Killed mid-load, after enough acknowledged writes, however slow the machine.
    let deadline = Instant::now() + Duration::from_secs(120);
    while written.load(Ordering::SeqCst) < 50 {
        assert!(Instant::now() < deadline, "the load did not run");
        std::thread::sleep(Duration::from_millis(5));
    }
    kill(server);
    let acknowledged = writer.join().unwrap();
    assert!(acknowledged.len() >= 50, "the load ran ({} writes)", acknowledged.len());

    let server = start(dir.path());
    let mut conn = connect(&server);
    // The generated secret was kept: the old token still works.
    let (status, todos) = call(&mut conn, "GET", "/todos", Some(&token), None).unwrap();
    assert_eq!(status, 200);
    let stored: Vec<i64> = todos.as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    let lost: Vec<_> = acknowledged.iter().filter(|id| !stored.contains(id)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}

#[test]
fn an_acknowledged_revocation_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let mut conn = connect(&server);
    let credentials = json!({"email": "revoke@test.io", "password": "crash-test"});
    assert_eq!(call(&mut conn, "POST", "/signup", None, Some(&credentials)).unwrap().0, 200);
    let (_, pair) = call(&mut conn, "POST", "/users/refresh-login", None, Some(&credentials)).unwrap();
    let access = pair["accessToken"].as_str().unwrap().to_owned();
    let refresh = json!({"refreshToken": pair["refreshToken"]});
    assert_eq!(call(&mut conn, "GET", "/whoAmI", Some(&access), None).unwrap().0, 200);
    assert_eq!(call(&mut conn, "POST", "/users/logout", Some(&access), Some(&refresh)).unwrap().0, 204);
    // Killed the moment the logout was acknowledged.
    kill(server);

    let server = start(dir.path());
    let mut conn = connect(&server);
    assert_eq!(
        call(&mut conn, "GET", "/whoAmI", Some(&access), None).unwrap().0,
        401,
        "the access token stays revoked"
    );
    assert_eq!(call(&mut conn, "POST", "/refresh", None, Some(&refresh)).unwrap().0, 401, "and the refresh family");
}

/// SIGKILL leaves the page cache to the kernel, so the tests above would pass with
/// `synchronous=OFF` too: the settings that make a write durable through a power cut are
/// checked here, on the file the server made.
#[test]
fn the_database_is_in_wal_mode_with_full_sync() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    login(&mut connect(&server), "settings@test.io");
    kill(server);
    let connection = rusqlite::Connection::open(dir.path().join("todo.db")).unwrap();
    let mode: String = connection.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    // `synchronous` is per connection, not in the file: `Database::open` and `SqliteStore::open`
    // check theirs in their unit tests (`synchronous = FULL`).
}

/// The server purges expired token records at start (and every ten minutes).
#[test]
fn expired_records_are_purged_at_start() {
    let dir = tempfile::tempdir().unwrap();
    kill(start(dir.path()));
    {
        let c = rusqlite::Connection::open(dir.path().join("todo.db")).unwrap();
        c.execute("INSERT INTO authn_denied (jti, until) VALUES ('expired', 1)", []).unwrap();
    }
    let server = start(dir.path());
    let c = rusqlite::Connection::open(dir.path().join("todo.db")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left: i64 =
            c.query_row("SELECT COUNT(*) FROM authn_denied WHERE jti = 'expired'", [], |r| r.get(0)).unwrap();
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the expired denial was never purged");
        std::thread::sleep(Duration::from_millis(50));
    }
    kill(server);
}
