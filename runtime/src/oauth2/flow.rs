//! The state of one login between the redirect and the callback, kept in the browser as an
//! encrypted, authenticated cookie (no server-side session, so any instance can take the
//! callback). Binding the state to the browser this way is what stops login CSRF: a callback
//! URL made in another browser carries a state this browser never got.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::clock::now;

/// The name of the cookie that carries a login in progress.
pub const FLOW_COOKIE: &str = "authn_oauth2";

/// What the callback needs to finish the login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Flow {
    /// The provider the login started with.
    pub(crate) provider: String,
    /// The `state` sent to the provider.
    pub(crate) state: String,
    /// The PKCE verifier (RFC 7636).
    pub(crate) verifier: String,
    /// Seconds since the epoch after which the login is void.
    pub(crate) expires_at: u64,
}

impl Flow {
    pub(crate) fn new(provider: &str, state: String, verifier: String, ttl: Duration) -> Self {
        Flow { provider: provider.to_owned(), state, verifier, expires_at: now().saturating_add(ttl.as_secs()) }
    }

    /// The `Set-Cookie` value that stores the flow: HttpOnly, SameSite=Lax (the callback is a
    /// top-level navigation from the provider), Secure over HTTPS.
    pub(crate) fn cookie(&self, key: &Key, ttl: Duration, secure: bool) -> Option<String> {
        let value = serde_json::to_string(self).ok()?;
        let mut jar = CookieJar::new();
        let mut cookie = Cookie::new(FLOW_COOKIE, value);
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_secure(secure);
        cookie.set_path("/");
        cookie.set_max_age(actix_web::cookie::time::Duration::seconds(ttl.as_secs() as i64));
        jar.private_mut(key).add(cookie);
        jar.delta().next().map(|c| c.encoded().to_string())
    }

    /// The flow of this request's cookie, when it decrypts, parses and has not expired.
    pub(crate) fn from_request(request: &HttpRequest, key: &Key) -> Option<Flow> {
        let cookie = request.cookie(FLOW_COOKIE)?;
        let mut jar = CookieJar::new();
        jar.add_original(cookie.into_owned());
        let opened = jar.private(key).get(FLOW_COOKIE)?;
        let flow: Flow = serde_json::from_str(opened.value()).ok()?;
        (now() < flow.expires_at).then_some(flow)
    }

    /// Whether `state` (from the callback's query) is this flow's, compared in constant time.
    pub(crate) fn matches(&self, provider: &str, state: &str) -> bool {
        let same_state: bool = self.state.as_bytes().ct_eq(state.as_bytes()).into();
        same_state && self.provider == provider
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request_with(cookie_header: &str) -> HttpRequest {
        TestRequest::get().insert_header(("cookie", cookie_header)).to_http_request()
    }

    #[test]
    fn the_cookie_round_trips_only_with_its_key() {
        let key = Key::derive_from(&[3; 32]);
        let flow = Flow::new("mock", "st4te".into(), "verifier".into(), Duration::from_secs(60));
        let set_cookie = flow.cookie(&key, Duration::from_secs(60), true).unwrap();
        assert!(
            set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax") && set_cookie.contains("Secure")
        );
        assert!(!set_cookie.contains("verifier") && !set_cookie.contains("st4te"), "encrypted: {set_cookie}");
        let pair = set_cookie.split(';').next().unwrap();
        assert_eq!(Flow::from_request(&request_with(pair), &key), Some(flow.clone()));
        assert_eq!(Flow::from_request(&request_with(pair), &Key::derive_from(&[4; 32])), None);
        let mut tampered = pair.to_owned();
        tampered.insert(FLOW_COOKIE.len() + 3, 'x');
        assert_eq!(Flow::from_request(&request_with(&tampered), &key), None);
        assert!(flow.matches("mock", "st4te"));
        assert!(!flow.matches("mock", "st4tf") && !flow.matches("other", "st4te"));
    }

    #[test]
    fn an_expired_flow_is_void() {
        let key = Key::derive_from(&[3; 32]);
        let mut flow = Flow::new("mock", "s".into(), "v".into(), Duration::from_secs(60));
        flow.expires_at = now() - 1;
        let set_cookie = flow.cookie(&key, Duration::from_secs(60), false).unwrap();
        assert!(!set_cookie.contains("Secure"));
        let pair = set_cookie.split(';').next().unwrap();
        assert_eq!(Flow::from_request(&request_with(pair), &key), None);
    }
}
