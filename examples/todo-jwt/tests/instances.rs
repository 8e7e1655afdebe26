//! Three todo-jwt processes on one PostgreSQL database (a real server, started by the test) and
//! one `JWT_SECRET` behave as one server: a logout on one is refused by the others within the
//! documented bound, a listener that lost its connection catches up, a database that went away
//! is a 503 (never a 500 or a hang) until it is back, concurrent refreshes over the instances
//! have one winner, and an instance killed under load loses no acknowledged write.

mod support;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use authn_tests::pg::Postgres;
use serde_json::{Value, json};
use support::{Response, Server, connect, connect_to, kill, request, start_with};

const SECRET: &str = "the-cluster-tests-shared-secret-of-44-bytes!";
/// `PostgresOptions::default()`'s `max_staleness`, which the example keeps.
const MAX_STALENESS: Duration = Duration::from_secs(1);

/// `n` instances started at the same moment on the empty database at `url` (their migrations
/// run together: none may fail on a table another is creating).
fn instances(url: &str, n: usize) -> (Vec<Server>, Vec<tempfile::TempDir>) {
    let dirs: Vec<_> = (0..n).map(|_| tempfile::tempdir().unwrap()).collect();
    let servers = std::thread::scope(|scope| {
        let started: Vec<_> = dirs
            .iter()
            .map(|dir| {
                let path = dir.path().to_owned();
                scope.spawn(move || start_with(&path, &[("DATABASE_URL", url), ("JWT_SECRET", SECRET)]))
            })
            .collect();
        started.into_iter().map(|s| s.join().unwrap()).collect()
    });
    (servers, dirs)
}

fn credentials(email: &str) -> Value {
    json!({"email": email, "password": "cluster-test"})
}

/// One request on a connection of its own: a test's pauses (argon2 logins elsewhere, a stopped
/// database) outlast actix's keep-alive, and a reused idle connection would be a 408.
fn send(server: &Server, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
    request(&mut connect(server), method, path, token, body).unwrap()
}

fn call(server: &Server, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let response = send(server, method, path, token, body);
    (response.status, response.body)
}

fn signup(server: &Server, email: &str) {
    assert_eq!(call(server, "POST", "/signup", None, Some(&credentials(email))).0, 200);
}

/// `(access, refresh)` from `/users/refresh-login`.
fn pair(server: &Server, email: &str) -> (String, String) {
    let (status, body) = call(server, "POST", "/users/refresh-login", None, Some(&credentials(email)));
    assert_eq!(status, 200, "{body}");
    (body["accessToken"].as_str().unwrap().to_owned(), body["refreshToken"].as_str().unwrap().to_owned())
}

fn who_am_i(server: &Server, token: &str) -> u16 {
    call(server, "GET", "/whoAmI", Some(token), None).0
}

/// How long after `since` the instance behind `conn` first refused `token`.
fn until_refused(server: &Server, token: &str, since: Instant) -> Duration {
    loop {
        let status = who_am_i(server, token);
        let elapsed = since.elapsed();
        if status == 401 {
            return elapsed;
        }
        assert_eq!(status, 200, "a token is either accepted or refused");
        assert!(elapsed < Duration::from_secs(10), "still accepted {elapsed:?} after the logout");
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn a_logout_on_one_instance_is_refused_by_the_others_within_the_bound() {
    let pg = Postgres::start();
    let (servers, _dirs) = instances(&pg.database("logout"), 3);
    signup(&servers[0], "logout@test.io");
    let mut propagation = Vec::new();
    for _ in 0..30 {
        let (access, refresh) = pair(&servers[0], "logout@test.io");
        for server in &servers[1..] {
            assert_eq!(who_am_i(server, &access), 200, "every instance accepts a fresh token");
        }
        let logout = call(&servers[0], "POST", "/users/logout", Some(&access), Some(&json!({"refreshToken": refresh})));
        assert_eq!(logout.0, 204);
        let acknowledged = Instant::now();
        for server in &servers[1..] {
            propagation.push(until_refused(server, &access, acknowledged));
        }
        assert_eq!(who_am_i(&servers[0], &access), 401, "refused where it was revoked");
    }
    propagation.sort();
    let (p50, p99, max) =
        (percentile(&propagation, 0.5), percentile(&propagation, 0.99), propagation[propagation.len() - 1]);
    println!("logout propagation over {} observations: p50 {p50:?}, p99 {p99:?}, max {max:?}", propagation.len());
    // The guarantee: a request that starts after T + max_staleness is refused. A request takes
    // well under the slack on loopback.
    assert!(max <= MAX_STALENESS + Duration::from_millis(250), "a revoked token was accepted after the bound: {max:?}");
}

#[test]
fn revocations_made_while_listeners_were_cut_off_are_caught_up() {
    let pg = Postgres::start();
    let url = pg.database("listener");
    let (servers, _dirs) = instances(&url, 3);
    signup(&servers[0], "listener@test.io");
    let pairs: Vec<_> = (0..20).map(|_| pair(&servers[0], "listener@test.io")).collect();
    for (access, _) in &pairs {
        for server in &servers[1..] {
            assert_eq!(who_am_i(server, access), 200);
        }
    }
    let database = url.rsplit('/').next().unwrap().to_owned();
    let cut = format!(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE application_name = 'authn-denylist-listener' AND datname = '{database}'"
    );
    let mut terminated = 0;
    for (i, (access, refresh)) in pairs.iter().enumerate() {
        if i % 4 == 0 {
            terminated += pg.psql(&cut).parse::<u32>().unwrap();
        }
        let logout = call(&servers[0], "POST", "/users/logout", Some(access), Some(&json!({"refreshToken": refresh})));
        assert_eq!(logout.0, 204);
    }
    assert!(terminated >= 3, "the listeners were cut off ({terminated} connections terminated)");
    let last = Instant::now();
    for (access, _) in &pairs {
        for server in &servers[1..] {
            let refused_after = until_refused(server, access, last);
            assert!(refused_after <= MAX_STALENESS + Duration::from_millis(250), "caught up late: {refused_after:?}");
        }
    }
}

#[test]
fn a_database_that_went_away_is_a_503_until_it_is_back() {
    let pg = Postgres::start();
    let (servers, _dirs) = instances(&pg.database("outage"), 3);
    signup(&servers[0], "outage@test.io");
    let (access, _) = pair(&servers[0], "outage@test.io");
    assert_eq!(call(&servers[1], "POST", "/todos", Some(&access), Some(&json!({"title": "before"}))).0, 200);

    pg.stop();
    // Past the bound every answer needs the database: the login, the todos, and the token
    // itself (its revocation can no longer be ruled out).
    std::thread::sleep(MAX_STALENESS + Duration::from_millis(100));
    for server in &servers {
        for (method, path, token, body) in [
            ("GET", "/whoAmI", Some(access.as_str()), None),
            ("GET", "/todos", Some(access.as_str()), None),
            ("POST", "/users/login", None, Some(credentials("outage@test.io"))),
            ("POST", "/signup", None, Some(credentials("new@test.io"))),
        ] {
            let started = Instant::now();
            let response = send(server, method, path, token, body.as_ref());
            let took = started.elapsed();
            assert_eq!(response.status, 503, "{method} {path} with the database gone: {}", response.body);
            assert!(response.retry_after.is_some(), "{method} {path}: a 503 says when to retry");
            assert!(response.body["error"]["code"].is_string(), "{method} {path}: a stable JSON body");
            assert!(took < Duration::from_secs(5), "{method} {path} took {took:?}: bounded by the timeouts");
        }
    }

    pg.start_again();
    // Back by itself: no restart of the instances.
    let deadline = Instant::now() + Duration::from_secs(30);
    for server in &servers {
        loop {
            let whoami = who_am_i(server, &access);
            let todos = call(server, "GET", "/todos", Some(&access), None);
            if whoami == 200 && todos.0 == 200 {
                assert_eq!(todos.1[0]["title"], "before");
                break;
            }
            assert!(whoami == 503 || whoami == 200, "recovering: {whoami}");
            assert!(Instant::now() < deadline, "the service did not recover");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let (status, _) = call(&servers[2], "POST", "/users/login", None, Some(&credentials("outage@test.io")));
    assert_eq!(status, 200);
}

#[test]
fn of_fifty_concurrent_refreshes_over_three_instances_exactly_one_wins() {
    let pg = Postgres::start();
    let (servers, _dirs) = instances(&pg.database("refresh"), 3);
    let addresses: Vec<_> = servers.iter().map(|s| s.address).collect();
    signup(&servers[0], "race@test.io");
    let (_, refresh) = pair(&servers[0], "race@test.io");

    let barrier = Arc::new(Barrier::new(50));
    let racers: Vec<_> = (0..50)
        .map(|i| {
            let (barrier, refresh, address) = (Arc::clone(&barrier), refresh.clone(), addresses[i % 3]);
            std::thread::spawn(move || {
                let mut conn = connect_to(address);
                barrier.wait();
                support::call(&mut conn, "POST", "/refresh", None, Some(&json!({"refreshToken": refresh}))).unwrap()
            })
        })
        .collect();
    let results: Vec<_> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    let winners: Vec<_> = results.iter().filter(|(status, _)| *status == 200).collect();
    assert_eq!(winners.len(), 1, "statuses: {:?}", results.iter().map(|r| r.0).collect::<Vec<_>>());
    assert!(results.iter().all(|(status, _)| *status == 200 || *status == 401));
    // The losers replayed a used token: the family is revoked, the winner's new token with it.
    let next = json!({"refreshToken": winners[0].1["refreshToken"]});
    assert_eq!(call(&servers[1], "POST", "/refresh", None, Some(&next)).0, 401);

    // A replay on another instance revokes the family everywhere.
    let (_, first) = pair(&servers[0], "race@test.io");
    let (status, rotated) = call(&servers[0], "POST", "/refresh", None, Some(&json!({"refreshToken": first})));
    assert_eq!(status, 200);
    assert_eq!(call(&servers[1], "POST", "/refresh", None, Some(&json!({"refreshToken": first}))).0, 401);
    let rotated = json!({"refreshToken": rotated["refreshToken"]});
    assert_eq!(call(&servers[2], "POST", "/refresh", None, Some(&rotated)).0, 401, "the family is dead");
}

/// What the writer saw acknowledged before its instance was killed.
#[derive(Default)]
struct Acknowledged {
    signups: Vec<String>,
    todos: Vec<i64>,
    logouts: Vec<String>,
}

#[test]
fn an_instance_killed_under_load_loses_no_acknowledged_write() {
    let pg = Postgres::start();
    let (mut servers, _dirs) = instances(&pg.database("sigkill"), 3);
    signup(&servers[1], "owner@test.io");
    let (owner, _) = pair(&servers[1], "owner@test.io");

    let victim = servers.remove(0);
    let survivor = &servers[0];
    let address = victim.address;
    let (progress, acknowledged) = std::sync::mpsc::channel();
    let writer_owner = owner.clone();
    let writer = std::thread::spawn(move || {
        let mut conn = connect_to(address);
        let mut seen = Acknowledged::default();
        for i in 0.. {
            let ok = match i % 3 {
                0 => {
                    let email = format!("writer{i}@test.io");
                    let done = support::call(&mut conn, "POST", "/signup", None, Some(&credentials(&email)));
                    done.is_ok_and(|(status, _)| status == 200).then(|| seen.signups.push(email)).is_some()
                }
                1 => match support::call(
                    &mut conn,
                    "POST",
                    "/todos",
                    Some(&writer_owner),
                    Some(&json!({"title": format!("t{i}")})),
                ) {
                    Ok((200, todo)) => {
                        seen.todos.push(todo["id"].as_i64().unwrap());
                        true
                    }
                    _ => false,
                },
                _ => {
                    let Ok((200, body)) = support::call(
                        &mut conn,
                        "POST",
                        "/users/refresh-login",
                        None,
                        Some(&credentials("owner@test.io")),
                    ) else {
                        break;
                    };
                    let access = body["accessToken"].as_str().unwrap().to_owned();
                    let refresh = json!({"refreshToken": body["refreshToken"]});
                    let done = support::call(&mut conn, "POST", "/users/logout", Some(&access), Some(&refresh));
                    done.is_ok_and(|(status, _)| status == 204).then(|| seen.logouts.push(access)).is_some()
                }
            };
            if !ok {
                break;
            }
            let _ = progress.send(());
        }
        seen
    });
    // Killed mid-load, after enough acknowledged writes of each kind, however slow the machine.
    let deadline = Instant::now() + Duration::from_secs(120);
    for _ in 0..30 {
        acknowledged.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("the load did not run");
    }
    kill(victim);
    let seen = writer.join().unwrap();
    assert!(seen.signups.len() >= 10 && seen.todos.len() >= 10 && seen.logouts.len() >= 9, "the load ran");

    // Everything the killed instance acknowledged is there, seen from another instance.
    for email in &seen.signups {
        let (status, _) = call(survivor, "POST", "/users/login", None, Some(&credentials(email)));
        assert_eq!(status, 200, "acknowledged signup {email} lost");
    }
    let (status, todos) = call(&servers[1], "GET", "/todos", Some(&owner), None);
    assert_eq!(status, 200);
    let stored: Vec<i64> = todos.as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    let lost: Vec<_> = seen.todos.iter().filter(|id| !stored.contains(id)).collect();
    assert!(lost.is_empty(), "acknowledged todos lost: {lost:?}");
    let checked = Instant::now();
    for access in &seen.logouts {
        let refused_after = until_refused(&servers[1], access, checked);
        assert!(refused_after <= MAX_STALENESS + Duration::from_millis(250), "an acknowledged logout was lost");
    }
}

/// `todo-jwt` with `env`, expected to refuse to start: its exit status and what it said, and how
/// long it took.
fn refused_start(env: &[(&str, &str)]) -> (Option<i32>, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_todo-jwt"));
    command.env("PORT", "0").env("DATA_DIR", dir.path()).env_remove("JWT_SECRET").env("NO_COLOR", "1");
    for (name, value) in env {
        command.env(name, value);
    }
    let started = Instant::now();
    let output = command.output().unwrap();
    let said = String::from_utf8_lossy(&output.stderr).into_owned() + &String::from_utf8_lossy(&output.stdout);
    (output.status.code(), said, started.elapsed())
}

#[test]
fn an_unreachable_database_or_a_missing_secret_stops_the_start_with_a_reason() {
    let port = authn_tests::idp::free_port();
    let url = format!("postgres://todo:hunter2@127.0.0.1:{port}/todo");
    let (code, said, took) = refused_start(&[("DATABASE_URL", &url), ("JWT_SECRET", SECRET)]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("PostgreSQL"), "the reason names the database: {said}");
    assert!(!said.contains("hunter2"), "the URL's password is never printed: {said}");
    assert!(took < Duration::from_secs(10), "bounded by the connect timeout: {took:?}");

    let (code, said, _) = refused_start(&[("DATABASE_URL", &url)]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("JWT_SECRET"), "several instances must share the secret: {said}");
}
