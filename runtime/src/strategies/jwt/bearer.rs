//! Where the token comes from: `Authorization: Bearer <token>` (RFC 6750 §2.1) and, when
//! configured, a cookie, another header or a query parameter.

use actix_web::HttpRequest;

use crate::AuthError;
use crate::util::credentials::{self, SchemeValue, cookie, query};

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
pub(crate) const NOT_FOUND: &str = crate::strategies::HEADER_NOT_FOUND;
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
    use actix_web::test::TestRequest;

    use super::*;

    /// What `find` makes of one `Authorization` value, with the header as the only source: the
    /// token, or the message of the error or of the missing case.
    pub(super) fn header(value: &[u8]) -> Result<Option<String>, String> {
        let request = TestRequest::default().insert_header(("authorization", value)).to_http_request();
        match find(&request, &[TokenSource::AuthorizationHeader]) {
            Ok(Presented::Token(token)) => Ok(Some(token.to_owned())),
            Ok(Presented::Missing(message)) => Err(message.to_owned()),
            Err(error) => Err(error.message().to_owned()),
        }
    }

    fn token(value: &str) -> Result<Option<String>, String> {
        header(value.as_bytes())
    }

    fn found(token: &str) -> Result<Option<String>, String> {
        Ok(Some(token.to_owned()))
    }

    fn refused(message: &str) -> Result<Option<String>, String> {
        Err(message.to_owned())
    }

    #[test]
    fn scheme_is_case_insensitive() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            assert_eq!(token(&format!("{scheme} a.b.c")), found("a.b.c"));
        }
    }

    #[test]
    fn other_schemes_are_not_ours() {
        assert_eq!(token("Basic dXNlcjpwYXNz"), refused(NOT_BEARER));
        assert_eq!(token("BearerX a.b.c"), refused(NOT_BEARER));
        assert_eq!(token("Bearer"), found(""));
    }

    #[test]
    fn tokens_are_text() {
        assert_eq!(token("Bearer a.b.c=="), found("a.b.c=="));
        assert_eq!(header(b"Bearer caf\xff"), refused(MALFORMED));
    }

    #[test]
    fn exactly_one_token() {
        assert_eq!(token("Bearer a.b.c d"), refused(TOO_MANY_PARTS));
        assert_eq!(token("Bearer a.b.c\td"), refused(TOO_MANY_PARTS));
        assert_eq!(token("Bearer  a.b.c"), found("a.b.c"));
        assert_eq!(token("Bearer "), found(""));
    }

    #[test]
    fn sources_are_tried_in_order() {
        let sources =
            [TokenSource::AuthorizationHeader, TokenSource::Cookie("at".into()), TokenSource::Query("t".into())];
        let ask = |request: TestRequest| {
            let request = request.to_http_request();
            match find(&request, &sources) {
                Ok(Presented::Token(token)) => Ok(token.to_owned()),
                Ok(Presented::Missing(message)) => Err(message),
                Err(error) => Err(if error.message() == TOO_MANY_PARTS { TOO_MANY_PARTS } else { MALFORMED }),
            }
        };
        assert_eq!(ask(TestRequest::default()), Err(NOT_FOUND));
        assert_eq!(ask(TestRequest::default().insert_header(("cookie", "x=1; at=c.o.k"))), Ok("c.o.k".into()));
        assert_eq!(ask(TestRequest::with_uri("/?t=q.u.e")), Ok("q.u.e".into()));
        let both = TestRequest::with_uri("/?t=q.u.e").insert_header(("authorization", "Bearer h.e.a"));
        assert_eq!(ask(both), Ok("h.e.a".into()));
        // A header of another scheme leaves the later sources their turn, and names itself when
        // none has a token.
        let basic = || TestRequest::default().insert_header(("authorization", "Basic dXNlcjpwYXNz"));
        assert_eq!(ask(basic()), Err(NOT_BEARER));
        assert_eq!(ask(basic().insert_header(("cookie", "at=c.o.k"))), Ok("c.o.k".into()));
        // A broken Bearer header is final: no later source may stand in for it.
        let broken = TestRequest::with_uri("/?t=q.u.e").insert_header(("authorization", "Bearer a b"));
        assert_eq!(ask(broken), Err(TOO_MANY_PARTS));
    }
}

#[cfg(test)]
mod properties {
    use actix_web::http::header::HeaderValue;
    use proptest::prelude::*;

    use super::tests::header;

    /// Any byte a client can put in a header value (RFC 9110 §5.5: visible ASCII, space, tab and
    /// obs-text); actix refuses the others before any handler runs.
    fn header_byte() -> impl Strategy<Value = u8> {
        prop_oneof![Just(b'\t'), Just(b' '), 0x21u8..=0x7e, 0x80u8..=0xff]
    }

    proptest! {
        #[test]
        fn never_panics_and_tokens_have_no_spaces(
            prefix in proptest::sample::select(vec!["", "Bearer", "Bearer ", "bearer  ", "BEARER\t", "Basic "]),
            rest in proptest::collection::vec(header_byte(), 0..200),
        ) {
            let value = [prefix.as_bytes(), &rest].concat();
            prop_assert!(HeaderValue::from_bytes(&value).is_ok());
            if let Ok(Some(token)) = header(&value) {
                prop_assert!(!token.contains(' ') && !token.contains('\t'));
                prop_assert!(value.to_ascii_lowercase().starts_with(b"bearer"));
            }
        }

        #[test]
        fn a_token68_round_trips(token in "[A-Za-z0-9_.~+/-]{1,100}=*", spaces in 1usize..4) {
            let value = format!("Bearer{}{token}", " ".repeat(spaces));
            prop_assert_eq!(header(value.as_bytes()), Ok(Some(token)));
        }
    }
}
