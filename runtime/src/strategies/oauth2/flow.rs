//! The state of one login between the redirect and the callback, kept in the browser as an
//! encrypted, authenticated cookie (no server-side session, so any instance can take the
//! callback). Binding the state to the browser this way is what stops login CSRF: a callback
//! URL made in another browser carries a state this browser never got.
//!
//! Each flow has a cookie of its own, named after its state, so two logins in two tabs do not
//! overwrite each other; `__Host-` prefixed when Secure (no domain, path `/`, HTTPS only). The
//! callback clears it, so reloading a finished callback does not send the used code to the
//! provider again (some revoke the whole grant when a code is replayed).

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::util::clock::now;

/// How the names of the cookies that carry logins in progress start (after `__Host-` when they
/// are Secure): `authn_oauth2_` and 16 hex digits of the SHA-256 of the flow's state.
pub const FLOW_COOKIE_PREFIX: &str = "authn_oauth2_";

/// The cookie name of the flow whose state is `state`.
pub(crate) fn cookie_name(state: &str, secure: bool) -> String {
    let digest = crate::util::secret::digest(state);
    let id: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}{FLOW_COOKIE_PREFIX}{id}", if secure { "__Host-" } else { "" })
}

/// What the callback needs to finish the login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Flow {
    /// The provider the login started with.
    pub(crate) provider: String,
    /// The `state` sent to the provider.
    pub(crate) state: String,
    /// The PKCE verifier (RFC 7636).
    pub(crate) verifier: String,
    /// The OpenID Connect `nonce` sent with the request, which the ID token must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nonce: Option<String>,
    /// Seconds since the epoch after which the login is void.
    pub(crate) expires_at: u64,
}

impl Flow {
    pub(crate) fn new(provider: &str, state: String, verifier: String, nonce: Option<String>, ttl: Duration) -> Self {
        Flow { provider: provider.to_owned(), state, verifier, nonce, expires_at: now().saturating_add(ttl.as_secs()) }
    }

    /// Whether `nonce` (from the ID token) is this flow's, compared in constant time; a flow
    /// without a nonce matches nothing.
    pub(crate) fn nonce_matches(&self, nonce: Option<&str>) -> bool {
        match (&self.nonce, nonce) {
            (Some(ours), Some(theirs)) => ours.as_bytes().ct_eq(theirs.as_bytes()).into(),
            _ => false,
        }
    }

    /// The `Set-Cookie` value that stores the flow: HttpOnly, SameSite=Lax (the callback is a
    /// top-level navigation from the provider), Secure (and `__Host-`) over HTTPS.
    pub(crate) fn cookie(&self, key: &Key, ttl: Duration, secure: bool) -> Option<String> {
        let value = serde_json::to_string(self).ok()?;
        let mut jar = CookieJar::new();
        let mut cookie = Cookie::new(cookie_name(&self.state, secure), value);
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_secure(secure);
        cookie.set_path("/");
        cookie.set_max_age(actix_web::cookie::time::Duration::seconds(ttl.as_secs() as i64));
        jar.private_mut(key).add(cookie);
        jar.delta().next().map(|c| c.encoded().to_string())
    }

    /// The `Set-Cookie` value that clears the cookie of the flow whose state is `state`.
    pub(crate) fn removal(state: &str, secure: bool) -> String {
        let mut cookie = Cookie::new(cookie_name(state, secure), "");
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_secure(secure);
        cookie.set_path("/");
        cookie.set_max_age(actix_web::cookie::time::Duration::ZERO);
        cookie.encoded().to_string()
    }

    /// The flow whose state is `state`, from this request's cookie of that name, when it
    /// decrypts, parses and has not expired.
    pub(crate) fn from_request(request: &HttpRequest, key: &Key, state: &str, secure: bool) -> Option<Flow> {
        let name = cookie_name(state, secure);
        let cookie = request.cookie(&name)?;
        let mut jar = CookieJar::new();
        jar.add_original(cookie.into_owned());
        let opened = jar.private(key).get(&name)?;
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
        let flow = Flow::new("mock", "st4te".into(), "verifier".into(), Some("n0nce".into()), Duration::from_secs(60));
        let set_cookie = flow.cookie(&key, Duration::from_secs(60), true).unwrap();
        assert!(
            set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax") && set_cookie.contains("Secure")
        );
        assert!(set_cookie.starts_with("__Host-authn_oauth2_") && set_cookie.contains("Path=/"), "{set_cookie}");
        assert!(!set_cookie.contains("Domain"), "{set_cookie}");
        assert!(!set_cookie.contains("verifier") && !set_cookie.contains("st4te"), "encrypted: {set_cookie}");
        assert!(!set_cookie.contains("n0nce"), "encrypted: {set_cookie}");
        let pair = set_cookie.split(';').next().unwrap();
        assert_eq!(Flow::from_request(&request_with(pair), &key, "st4te", true), Some(flow.clone()));
        assert_eq!(Flow::from_request(&request_with(pair), &Key::derive_from(&[4; 32]), "st4te", true), None);
        assert_eq!(Flow::from_request(&request_with(pair), &key, "other", true), None, "another flow's name");
        let mut tampered = pair.to_owned();
        let at = pair.find('=').unwrap() + 3;
        tampered.insert(at, 'x');
        assert_eq!(Flow::from_request(&request_with(&tampered), &key, "st4te", true), None);
        assert!(flow.matches("mock", "st4te"));
        assert!(!flow.matches("mock", "st4tf") && !flow.matches("other", "st4te"));
        assert!(flow.nonce_matches(Some("n0nce")));
        assert!(!flow.nonce_matches(Some("n0ncf")) && !flow.nonce_matches(None));
    }

    #[test]
    fn each_flow_has_its_own_cookie_and_a_removal() {
        assert_ne!(cookie_name("a", false), cookie_name("b", false));
        assert!(!cookie_name("a", false).starts_with("__Host-"));
        let removal = Flow::removal("a", true);
        assert!(removal.starts_with(&format!("{}=;", cookie_name("a", true))), "{removal}");
        assert!(removal.contains("Max-Age=0") && removal.contains("Path=/") && removal.contains("Secure"));
    }

    #[test]
    fn an_expired_flow_is_void() {
        let key = Key::derive_from(&[3; 32]);
        let mut flow = Flow::new("mock", "s".into(), "v".into(), None, Duration::from_secs(60));
        flow.expires_at = now() - 1;
        let set_cookie = flow.cookie(&key, Duration::from_secs(60), false).unwrap();
        assert!(!set_cookie.contains("Secure"));
        let pair = set_cookie.split(';').next().unwrap();
        assert_eq!(Flow::from_request(&request_with(pair), &key, "s", false), None);
    }
}
