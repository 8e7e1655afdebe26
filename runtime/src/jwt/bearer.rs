//! Where the token comes from: `Authorization: Bearer <token>` (RFC 6750 §2.1) and, when
//! configured, a cookie, another header or a query parameter.

use actix_web::HttpRequest;

use crate::AuthError;
use crate::credentials::{self, SchemeValue, cookie, query};

/// A place the `"jwt"` strategy looks for a token, in the order configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `Authorization: Bearer <token>` (the default and usually the only one).
    AuthorizationHeader,
    /// A cookie holding the bare token.
    Cookie(String),
    /// Another header holding the bare token (e.g. `X-Access-Token`).
    Header(String),
    /// A query parameter. RFC 6750 §2.3 discourages it (URLs end up in logs): opt in knowingly.
    Query(String),
}

/// LoopBack's messages, kept so LoopBack clients see the same bodies.
pub(crate) const NOT_FOUND: &str = "Authorization header not found.";
pub(crate) const NOT_BEARER: &str = "Authorization header is not of type 'Bearer'.";
pub(crate) const TOO_MANY_PARTS: &str = "Authorization header value has too many parts. It must follow the pattern: \
     'Bearer xx.yy.zz' where xx.yy.zz is a valid JWT token.";

/// What a request carries.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Presented<'r> {
    /// A token (possibly empty or malformed: verification decides).
    Token(&'r str),
    /// Nothing of ours; the message is LoopBack's for the case.
    Missing(&'static str),
}

/// Parses an `Authorization` value: the scheme is case-insensitive (RFC 7235 §2.1); exactly one
/// token follows after one or more spaces; anything after it is "too many parts".
#[cfg(test)]
fn parse_authorization(value: &str) -> Result<Presented<'_>, &'static str> {
    parse_authorization_bytes(value.as_bytes())
}

/// The same over the raw header bytes.
#[cfg(test)]
fn parse_authorization_bytes(value: &[u8]) -> Result<Presented<'_>, &'static str> {
    match credentials::split(value, b"bearer") {
        SchemeValue::Credentials(token) => std::str::from_utf8(token).map(Presented::Token).map_err(|_| MALFORMED),
        SchemeValue::TooManyParts => Err(TOO_MANY_PARTS),
        SchemeValue::Absent | SchemeValue::OtherScheme => Ok(Presented::Missing(NOT_BEARER)),
    }
}

/// A token that is not even text.
pub(crate) const MALFORMED: &str = "Error verifying token : jwt malformed";

/// Finds the token in the first configured source that has one.
pub(crate) fn find<'r>(req: &'r HttpRequest, sources: &[TokenSource]) -> Result<Presented<'r>, AuthError> {
    let mut first_missing = NOT_FOUND;
    for (i, source) in sources.iter().enumerate() {
        let found = match source {
            TokenSource::AuthorizationHeader => match credentials::read(req, b"bearer") {
                SchemeValue::Absent => None,
                SchemeValue::OtherScheme => {
                    if i == 0 {
                        first_missing = NOT_BEARER;
                    }
                    None
                }
                SchemeValue::TooManyParts => return Err(AuthError::unauthorized(TOO_MANY_PARTS)),
                SchemeValue::Credentials(token) => {
                    Some(std::str::from_utf8(token).map_err(|_| AuthError::unauthorized(MALFORMED))?)
                }
            },
            TokenSource::Header(name) => req.headers().get(name.as_str()).and_then(|v| v.to_str().ok()),
            TokenSource::Cookie(name) => cookie(req, name),
            TokenSource::Query(name) => query(req, name),
        };
        if let Some(token) = found {
            return Ok(Presented::Token(token));
        }
    }
    Ok(Presented::Missing(first_missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_is_case_insensitive() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            assert_eq!(parse_authorization(&format!("{scheme} a.b.c")), Ok(Presented::Token("a.b.c")));
        }
    }

    #[test]
    fn other_schemes_are_not_ours() {
        assert_eq!(parse_authorization("Basic dXNlcjpwYXNz"), Ok(Presented::Missing(NOT_BEARER)));
        assert_eq!(parse_authorization("BearerX a.b.c"), Ok(Presented::Missing(NOT_BEARER)));
        assert_eq!(parse_authorization("Bearer"), Ok(Presented::Token("")));
    }

    #[test]
    fn tokens_are_text() {
        assert_eq!(parse_authorization("Bearer a.b.c=="), Ok(Presented::Token("a.b.c==")));
        assert_eq!(parse_authorization_bytes(b"Bearer caf\xff"), Err(MALFORMED));
    }

    #[test]
    fn exactly_one_token() {
        assert_eq!(parse_authorization("Bearer a.b.c d"), Err(TOO_MANY_PARTS));
        assert_eq!(parse_authorization("Bearer a.b.c\td"), Err(TOO_MANY_PARTS));
        assert_eq!(parse_authorization("Bearer  a.b.c"), Ok(Presented::Token("a.b.c")));
        assert_eq!(parse_authorization("Bearer "), Ok(Presented::Token("")));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics_and_tokens_have_no_spaces(value in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(Presented::Token(token)) = parse_authorization_bytes(&value) {
                prop_assert!(!token.contains(' ') && !token.contains('\t'));
                prop_assert!(value.to_ascii_lowercase().starts_with(b"bearer"));
            }
        }

        #[test]
        fn a_token68_round_trips(token in "[A-Za-z0-9_.~+/-]{1,100}=*", spaces in 1usize..4) {
            let value = format!("Bearer{}{token}", " ".repeat(spaces));
            prop_assert_eq!(parse_authorization(&value), Ok(Presented::Token(token.as_str())));
        }
    }
}
