//! Security events: what an operator ships to a SIEM. Each is emitted once, on the tracing
//! target `authn::audit` (level INFO) with stable field names, and to the app's [`EventSink`]
//! when one is installed as app data. No event carries a credential, a hash or the login a
//! client typed (it may be a password typed in the wrong field).
//!
//! | event | when | fields |
//! |---|---|---|
//! | `login_succeeded` | a password checked out (login routes, `"basic"`) | `user_id`, `client_ip`, `request_id` |
//! | `login_failed` | a password did not | `user_id` when the account exists, `client_ip`, `request_id`, `reason` |
//! | `login_throttled` | an attempt refused by the login throttle | `client_ip`, `request_id`, `reason` |
//! | `refresh_token_reused` | a used refresh token came back; its family is revoked | `user_id`, `client_ip`, `request_id` |
//! | `token_revoked` | an access token was revoked | `user_id`, `client_ip`, `request_id` |
//! | `logout` | a session ended (refresh family revoked) | `user_id`, `client_ip`, `request_id` |
//! | `strategy_misconfigured` | a route's or group's strategies cannot be used (once each) | `strategy`, `reason` |
//! | `oauth2_callback_refused` | an OAuth2 callback failed | `strategy`, `client_ip`, `request_id`, `reason` |
//!
//! ```
//! use actix_web::App;
//! use authn::events::{EventSink, SecurityEvent};
//!
//! let sink = EventSink::new(|event: &SecurityEvent| {
//!     // e.g. serialise to your SIEM's format
//!     println!("{} user={:?} ip={:?}", event.kind.name(), event.user_id, event.client_ip);
//! });
//! let app = App::new().app_data(sink);
//! # drop(app);
//! ```

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use actix_web::{HttpMessage, HttpRequest};

/// What happened.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A password checked out.
    LoginSucceeded,
    /// A password did not.
    LoginFailed,
    /// The login throttle refused an attempt.
    LoginThrottled,
    /// A used refresh token was presented again: its family is revoked.
    RefreshTokenReused,
    /// An access token was revoked.
    TokenRevoked,
    /// A session ended.
    Logout,
    /// A route's or group's strategies cannot be used.
    StrategyMisconfigured,
    /// An OAuth2 callback was refused.
    OAuth2CallbackRefused,
}

impl EventKind {
    /// The stable name: the `event` field.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::LoginSucceeded => "login_succeeded",
            EventKind::LoginFailed => "login_failed",
            EventKind::LoginThrottled => "login_throttled",
            EventKind::RefreshTokenReused => "refresh_token_reused",
            EventKind::TokenRevoked => "token_revoked",
            EventKind::Logout => "logout",
            EventKind::StrategyMisconfigured => "strategy_misconfigured",
            EventKind::OAuth2CallbackRefused => "oauth2_callback_refused",
        }
    }
}

/// One security event. Fields are absent when unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecurityEvent {
    /// What happened.
    pub kind: EventKind,
    /// The user it happened to, when known.
    pub user_id: Option<String>,
    /// The strategy involved.
    pub strategy: Option<&'static str>,
    /// The client's address (the socket's peer).
    pub client_ip: Option<IpAddr>,
    /// The request's id: a [`RequestId`] extension, else a sane `X-Request-Id` header.
    pub request_id: Option<String>,
    /// A stable reason code (`invalid_credentials`, `state_mismatch`, ...).
    pub reason: Option<&'static str>,
}

impl SecurityEvent {
    /// An event of this kind, nothing else known yet.
    pub fn new(kind: EventKind) -> Self {
        SecurityEvent { kind, user_id: None, strategy: None, client_ip: None, request_id: None, reason: None }
    }

    /// With the user it happened to.
    pub fn user(mut self, id: impl Into<String>) -> Self {
        self.user_id = Some(id.into());
        self
    }

    /// With the strategy involved.
    pub fn strategy(mut self, name: &'static str) -> Self {
        self.strategy = Some(name);
        self
    }

    /// With a reason code.
    pub fn reason(mut self, code: &'static str) -> Self {
        self.reason = Some(code);
        self
    }
}

impl fmt::Display for SecurityEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.name())
    }
}

type Sink = dyn Fn(&SecurityEvent) + Send + Sync;

/// Where the app wants events, besides the `authn::audit` tracing target: install it as app
/// data.
#[derive(Clone)]
pub struct EventSink(Arc<Sink>);

impl EventSink {
    /// Calls `sink` with every event of requests served by the app it is installed in.
    pub fn new(sink: impl Fn(&SecurityEvent) + Send + Sync + 'static) -> Self {
        EventSink(Arc::new(sink))
    }
}

impl fmt::Debug for EventSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EventSink(..)")
    }
}

/// The id an app gives a request (put it in the request's extensions); events carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Where a call comes from, for the events it emits: the client's address, the request id and
/// the app's sink, read from the request (so services that run off the request, on any thread,
/// can carry them).
///
/// ```
/// use actix_web::test::TestRequest;
/// let request = TestRequest::default().peer_addr("192.0.2.9:1".parse().unwrap()).to_http_request();
/// let origin = authn::events::Origin::of(&request);
/// assert_eq!(origin.client_ip(), Some("192.0.2.9".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Origin {
    client_ip: Option<IpAddr>,
    request_id: Option<String>,
    sink: Option<EventSink>,
}

impl Origin {
    /// The origin of this request.
    pub fn of(request: &HttpRequest) -> Self {
        Origin {
            client_ip: request.peer_addr().map(|a| a.ip()),
            request_id: request_id(request),
            sink: request.app_data::<EventSink>().cloned(),
        }
    }

    /// No request: events go to the tracing target only.
    pub fn none() -> Self {
        Origin::default()
    }

    /// The client's address.
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }
}

/// The request id: the extension, else an `X-Request-Id` header of at most 64 safe characters.
fn request_id(request: &HttpRequest) -> Option<String> {
    if let Some(id) = request.extensions().get::<RequestId>() {
        return Some(id.0.clone());
    }
    let value = request.headers().get("x-request-id")?.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    sane.then(|| value.to_owned())
}

/// Emits `event` with what `origin` knows (client, request id) to the tracing target and the
/// app's sink.
pub(crate) fn emit(origin: &Origin, mut event: SecurityEvent) {
    event.client_ip = event.client_ip.or(origin.client_ip);
    event.request_id = event.request_id.take().or_else(|| origin.request_id.clone());
    tracing::info!(
        target: "authn::audit",
        event = event.kind.name(),
        user_id = event.user_id.as_deref(),
        strategy = event.strategy,
        client_ip = event.client_ip.map(tracing::field::display),
        request_id = event.request_id.as_deref(),
        reason = event.reason,
        "security event"
    );
    if let Some(sink) = &origin.sink {
        (sink.0)(&event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_request_fills_in_client_and_id_and_reaches_the_sink() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let into = Arc::clone(&seen);
        let request = TestRequest::default()
            .peer_addr("192.0.2.1:5000".parse().unwrap())
            .insert_header(("x-request-id", "req-42"))
            .app_data(EventSink::new(move |e| into.lock().unwrap().push(e.clone())))
            .to_http_request();
        emit(&Origin::of(&request), SecurityEvent::new(EventKind::Logout).user("7"));
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].client_ip, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(seen[0].request_id.as_deref(), Some("req-42"));
        assert_eq!((seen[0].kind.name(), seen[0].user_id.as_deref()), ("logout", Some("7")));
    }

    #[test]
    fn an_odd_request_id_header_is_not_copied() {
        for value in ["", "has space", &"x".repeat(65), "semi;colon"] {
            let request = TestRequest::default().insert_header(("x-request-id", value)).to_http_request();
            assert_eq!(request_id(&request), None, "{value:?}");
        }
        let request = TestRequest::default().to_http_request();
        request.extensions_mut().insert(RequestId("mine".into()));
        assert_eq!(request_id(&request).as_deref(), Some("mine"));
    }
}
