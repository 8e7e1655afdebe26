//! Route scopes: what a profile was granted (RFC 6749 §3.3) against what a route's `scopes`
//! option asks for, and the 403 RFC 6750 §3.1 prescribes when something is missing. Shared by
//! every strategy that grants scopes, so they all answer the same way.

use crate::options::{OptionKind, OptionSpec};
use crate::{AuthError, Challenge, StrategyOptions, UserProfile};

/// The `scopes = ["..."]` route option, for the `accepted_options` of a strategy that grants
/// scopes.
pub const OPTIONS: &[OptionSpec] = &[OptionSpec::new("scopes", OptionKind::List(&OptionKind::Str))];

/// The code of the 403 a route answers when the caller lacks a scope.
pub const INSUFFICIENT_SCOPE: &str = "INSUFFICIENT_SCOPE";

/// Checks the route's `scopes` option (all required) against the profile's grants; the error is
/// 403 with `challenge` carrying `error="insufficient_scope"` and the missing scopes, and it
/// ends the chain (another strategy cannot lend scopes to this caller). A custom strategy that
/// grants scopes calls it before answering its user, and accepts the option in
/// `accepted_options` (e.g. `#[strategy("mine", options(scopes = [str]))]`).
///
/// ```
/// use authn::{Challenge, StrategyOptions, UserProfile, scope};
/// use authn::options::OptionValue;
///
/// static ROUTE: [(&str, OptionValue); 1] = [("scopes", OptionValue::List(&[OptionValue::Str("admin")]))];
/// let options = StrategyOptions::new(&ROUTE);
/// let user = UserProfile::new("7").with_claim("scope", "read");
/// let error = scope::require(&user, &options, Challenge::new("ApiKey")).unwrap_err();
/// assert_eq!(error.status(), 403);
/// ```
pub fn require(profile: &UserProfile, options: &StrategyOptions, challenge: Challenge) -> Result<(), AuthError> {
    let mut required = options.strings("scopes").peekable();
    if required.peek().is_none() {
        return Ok(());
    }
    let missing: Vec<&str> = required.filter(|s| !profile.has_scope(s)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(AuthError::forbidden("Insufficient scope.")
        .with_code(INSUFFICIENT_SCOPE)
        .with_challenge(challenge.param("error", "insufficient_scope").param("scope", missing.join(" ")))
        .stop_chain())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::OptionValue;

    fn options(scopes: &'static [OptionValue]) -> StrategyOptions {
        StrategyOptions::new(Box::leak(Box::new([("scopes", OptionValue::List(scopes))])))
    }

    #[test]
    fn every_required_scope_must_be_granted() {
        let profile = UserProfile::new("1").with_claim("scope", "read write");
        let read = options(&[OptionValue::Str("read")]);
        assert!(require(&profile, &read, Challenge::new("Bearer")).is_ok());
        let both = options(&[OptionValue::Str("read"), OptionValue::Str("admin"), OptionValue::Str("audit")]);
        let error = require(&profile, &both, Challenge::new("Bearer")).unwrap_err();
        assert_eq!(error.status(), 403);
        assert!(error.stops_chain());
        let mut error = error;
        let challenge = error.take_challenge().unwrap();
        assert_eq!(challenge.get("error"), Some("insufficient_scope"));
        assert_eq!(challenge.get("scope"), Some("admin audit"));
    }

    #[test]
    fn no_option_no_check() {
        assert!(require(&UserProfile::new("1"), &StrategyOptions::default(), Challenge::new("X")).is_ok());
    }
}
