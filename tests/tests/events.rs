//! The security event stream: each event fires exactly once, with its fields, on the
//! `authn::audit` tracing target and to the app's sink; none carries a credential.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use actix_web::test::{TestRequest, init_service};
use actix_web::{App, get};
use authn::events::{EventKind, EventSink, SecurityEvent};
use authn::{CurrentUser, authenticate};
use authn_tests::http::send;
use authn_tests::jwt::{self, EMAIL, PASSWORD, USER_ID, routes};
use serde_json::json;

#[authenticate("jwt", "no-such-strategy")]
#[get("/broken")]
async fn broken(user: CurrentUser) -> String {
    user.id.clone()
}

#[derive(Clone, Default)]
struct Collected(Arc<Mutex<Vec<SecurityEvent>>>);

impl Collected {
    fn sink(&self) -> EventSink {
        let into = Arc::clone(&self.0);
        EventSink::new(move |event| into.lock().unwrap().push(event.clone()))
    }

    fn take(&self) -> Vec<SecurityEvent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// What the `authn::audit` target printed (every test of this binary prints there).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

/// The process-wide subscriber, installed once: a thread's own would miss events whose callsite
/// interest another thread cached first.
fn audit_output() -> Captured {
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let writer = captured.clone();
            let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
            tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
            captured
        })
        .clone()
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const CLIENT: &str = "198.51.100.7:4000";

fn from_client(request: TestRequest, id: &str) -> TestRequest {
    request.peer_addr(CLIENT.parse::<SocketAddr>().unwrap()).insert_header(("x-request-id", id))
}

macro_rules! app {
    ($events:expr) => {{
        let services = jwt::memory_services().await;
        init_service(App::new().app_data($events.sink()).configure(routes(services)).service(broken)).await
    }};
}

fn only(events: &[SecurityEvent], kind: EventKind) -> &SecurityEvent {
    let matching: Vec<_> = events.iter().filter(|e| e.kind == kind).collect();
    assert_eq!(matching.len(), 1, "{kind:?} exactly once in {events:?}");
    matching[0]
}

#[actix_rt::test]
async fn logins_are_reported_once_each_with_their_fields() {
    let captured = audit_output();
    let events = Collected::default();
    let app = app!(events);
    // Request ids of this test only: the other tests print to the same output.
    let login = |email: &str, password: &str, id: &str| {
        let id = format!("login-{id}");
        from_client(
            TestRequest::post().uri("/users/login").set_json(json!({"email": email, "password": password})),
            &id,
        )
    };

    assert_eq!(send(&app, login(EMAIL, PASSWORD, "r-1")).await.status, 200);
    let ok = events.take();
    let event = only(&ok, EventKind::LoginSucceeded);
    assert_eq!(event.user_id.as_deref(), Some(USER_ID));
    assert_eq!(event.client_ip, Some(CLIENT.parse::<SocketAddr>().unwrap().ip()));
    assert_eq!(event.request_id.as_deref(), Some("login-r-1"));
    assert_eq!(ok.len(), 1, "{ok:?}");

    assert_eq!(send(&app, login(EMAIL, "wrong-password", "r-2")).await.status, 401);
    let failed = events.take();
    let event = only(&failed, EventKind::LoginFailed);
    assert_eq!((event.user_id.as_deref(), event.reason), (Some(USER_ID), Some("invalid_credentials")));
    assert_eq!(send(&app, login("nobody@example.com", "wrong-password", "r-3")).await.status, 401);
    let unknown = events.take();
    assert_eq!(only(&unknown, EventKind::LoginFailed).user_id, None, "no user id for a login nobody has");

    // Four more failures reach the throttle (five free per account); the next is refused.
    for i in 0..4 {
        send(&app, login(EMAIL, "wrong-password", &format!("r-{}", 4 + i))).await;
    }
    events.take();
    assert_eq!(send(&app, login(EMAIL, PASSWORD, "r-9")).await.status, 429);
    let throttled = events.take();
    let event = only(&throttled, EventKind::LoginThrottled);
    assert_eq!((event.reason, event.request_id.as_deref()), (Some("throttled"), Some("login-r-9")));
    assert_eq!(throttled.len(), 1);

    // The tracing target carries the same stable fields; no event carries a credential.
    let printed = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let audit: Vec<&str> =
        printed.lines().filter(|l| l.contains("authn::audit") && l.contains("request_id=\"login-")).collect();
    assert_eq!(audit.len(), 8, "one line per event: {printed}");
    assert!(audit[0].contains("event=\"login_succeeded\"") && audit[0].contains(&format!("user_id=\"{USER_ID}\"")));
    assert!(
        audit[0].contains("client_ip=198.51.100.7") && audit[0].contains("request_id=\"login-r-1\""),
        "{}",
        audit[0]
    );
    for line in audit {
        assert!(!line.contains(PASSWORD) && !line.contains("wrong-password") && !line.contains(EMAIL), "{line}");
    }
}

#[actix_rt::test]
async fn refresh_reuse_logout_and_revocation_are_reported() {
    let events = Collected::default();
    let app = app!(events);
    let pair = send(
        &app,
        TestRequest::post().uri("/users/refresh-login").set_json(json!({"email": EMAIL, "password": PASSWORD})),
    )
    .await
    .json();
    let old = json!({"refreshToken": pair["refreshToken"]});
    let rotated = send(&app, from_client(TestRequest::post().uri("/refresh").set_json(&old), "r-1")).await.json();
    events.take();
    assert_eq!(send(&app, from_client(TestRequest::post().uri("/refresh").set_json(&old), "r-2")).await.status, 401);
    let reused = events.take();
    let event = only(&reused, EventKind::RefreshTokenReused);
    assert_eq!((event.user_id.as_deref(), event.request_id.as_deref()), (Some(USER_ID), Some("r-2")));
    assert_eq!(reused.len(), 1);

    // A fresh session, logged out.
    let pair = send(
        &app,
        TestRequest::post().uri("/users/refresh-login").set_json(json!({"email": EMAIL, "password": PASSWORD})),
    )
    .await
    .json();
    events.take();
    let logout = from_client(TestRequest::post().uri("/users/logout"), "r-3")
        .insert_header(("authorization", format!("Bearer {}", pair["accessToken"].as_str().unwrap())))
        .set_json(json!({"refreshToken": pair["refreshToken"]}));
    assert_eq!(send(&app, logout).await.status, 204);
    let ended = events.take();
    assert_eq!(only(&ended, EventKind::TokenRevoked).user_id.as_deref(), Some(USER_ID));
    assert_eq!(only(&ended, EventKind::Logout).user_id.as_deref(), Some(USER_ID));
    assert_eq!(ended.len(), 2, "{ended:?}");
    let _ = rotated;
}

#[actix_rt::test]
async fn a_misconfigured_route_is_reported_once() {
    let events = Collected::default();
    let app = app!(events);
    for _ in 0..3 {
        assert_eq!(send(&app, TestRequest::get().uri("/broken")).await.status, 500);
    }
    let reported = events.take();
    let event = only(&reported, EventKind::StrategyMisconfigured);
    assert_eq!((event.strategy, event.reason), (Some("no-such-strategy"), Some("strategy_not_found")));
}

/// Below the route macro: no group can see this skip.
#[actix_web::get("/hidden")]
#[authenticate(skip)]
async fn hidden_skip() -> &'static str {
    "public?"
}

#[authenticate("jwt")]
#[get("/unconfigured")]
async fn unconfigured(user: CurrentUser) -> String {
    user.id.clone()
}

fn log_lines_with(needle: &str) -> Vec<String> {
    let output = audit_output();
    let text = String::from_utf8_lossy(&output.0.lock().unwrap()).into_owned();
    text.lines().filter(|line| line.contains(needle)).map(str::to_owned).collect()
}

/// Issue: an anonymous caller of a `skip` the group cannot see got a plain 401 and nothing was
/// logged; the warning came only after an authenticated request.
#[actix_rt::test]
async fn the_first_anonymous_request_to_a_hidden_skip_logs_the_fix() {
    audit_output();
    let services = jwt::memory_services().await;
    let app = init_service(
        App::new()
            .configure(routes(services))
            .service(actix_web::web::scope("/g").wrap(authn::Group::new(["jwt"])).service(hidden_skip)),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(send(&app, TestRequest::get().uri("/g/hidden")).await.status, 401);
    }
    let lines = log_lines_with("hidden_skip");
    assert_eq!(lines.len(), 1, "once, on the first request: {lines:#?}");
    assert!(
        lines[0].contains("WARN") && lines[0].contains("write #[authenticate] above the route macro"),
        "{}",
        lines[0]
    );
}

/// A forgotten `JwtConfig`: logged once with what to add, however many requests.
#[actix_rt::test]
async fn a_missing_configuration_is_logged_once_with_the_fix() {
    audit_output();
    let app = init_service(App::new().service(unconfigured)).await;
    for _ in 0..3 {
        let answer =
            send(&app, TestRequest::get().uri("/unconfigured").insert_header(("authorization", "Bearer a.b.c"))).await;
        assert_eq!((answer.status, answer.code().as_deref()), (500, Some("AUTHENTICATION_MISCONFIGURED")));
    }
    let lines = log_lines_with("needs a JwtConfig in the app data");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("ERROR") && lines[0].contains("authn::validate_with"), "{}", lines[0]);
}
