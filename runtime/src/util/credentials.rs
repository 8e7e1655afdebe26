//! Where the built-in strategies read credentials: the `Authorization` header (RFC 7235 §2.1,
//! `<scheme> <credentials>`, split the same way for Bearer and Basic), another header that must
//! be sent once, a query parameter, a cookie.

// Each reader serves some of the strategies; a build with only some of them leaves others unused.
#![cfg_attr(not(all(feature = "jwt", feature = "basic", feature = "api-key")), allow(dead_code))]

use actix_web::HttpRequest;
use actix_web::http::header::{self, AsHeaderName, HeaderValue};

/// A header that must be sent at most once.
pub(crate) enum Single<'r> {
    Absent,
    /// Sent twice or more: which one a proxy would have kept is anybody's guess.
    Repeated,
    One(&'r HeaderValue),
}

pub(crate) fn single<'r>(req: &'r HttpRequest, name: impl AsHeaderName) -> Single<'r> {
    let mut values = req.headers().get_all(name);
    match (values.next(), values.next()) {
        (None, _) => Single::Absent,
        (Some(_), Some(_)) => Single::Repeated,
        (Some(value), None) => Single::One(value),
    }
}

/// The raw value of query parameter `name`. Not percent-decoded: the credentials read here
/// (JWTs, API keys) are base64url, hex and dots, which need none.
pub(crate) fn query<'r>(req: &'r HttpRequest, name: &str) -> Option<&'r str> {
    req.query_string().split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then_some(value)
    })
}

/// The value of cookie `name`, read from the raw header so that no cookie jar is parsed.
pub(crate) fn cookie<'r>(req: &'r HttpRequest, name: &str) -> Option<&'r str> {
    req.headers().get_all(header::COOKIE).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then(|| value.trim_matches('"'))
    })
}

/// What the `Authorization` header of a request holds for one scheme.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SchemeValue<'r> {
    /// No `Authorization` header.
    Absent,
    /// A header of another scheme: not ours to judge.
    OtherScheme,
    /// Our scheme and its one credentials token (possibly empty).
    Credentials(&'r [u8]),
    /// Our scheme followed by more than one token, or the header sent twice.
    TooManyParts,
}

/// Splits an `Authorization` value: the scheme is case-insensitive; one or more spaces; exactly
/// one token after them. Only whitespace is searched for (with SIMD `memchr`); the token's
/// characters are the scheme decoder's to check.
pub(crate) fn split<'v>(value: &'v [u8], scheme: &[u8]) -> SchemeValue<'v> {
    let space = memchr::memchr(b' ', value).unwrap_or(value.len());
    if !value[..space].eq_ignore_ascii_case(scheme) {
        return SchemeValue::OtherScheme;
    }
    let rest = value.get(space..).unwrap_or_default();
    let start = rest.iter().position(|b| *b != b' ').unwrap_or(rest.len());
    let token = &rest[start..];
    if memchr::memchr2(b' ', b'\t', token).is_some() {
        return SchemeValue::TooManyParts;
    }
    SchemeValue::Credentials(token)
}

/// The request's `Authorization` header read for `scheme` (lower case); sent twice, it is "too
/// many parts".
pub(crate) fn read<'r>(req: &'r HttpRequest, scheme: &[u8]) -> SchemeValue<'r> {
    match single(req, header::AUTHORIZATION) {
        Single::Absent => SchemeValue::Absent,
        Single::Repeated => SchemeValue::TooManyParts,
        Single::One(value) => split(value.as_bytes(), scheme),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_token_after_a_case_insensitive_scheme() {
        assert_eq!(split(b"BASIC  abc", b"basic"), SchemeValue::Credentials(b"abc"));
        assert_eq!(split(b"Basic", b"basic"), SchemeValue::Credentials(b""));
        assert_eq!(split(b"Basic a b", b"basic"), SchemeValue::TooManyParts);
        assert_eq!(split(b"Basic a\tb", b"basic"), SchemeValue::TooManyParts);
        assert_eq!(split(b"Basically a", b"basic"), SchemeValue::OtherScheme);
        assert_eq!(split(b"", b"basic"), SchemeValue::OtherScheme);
    }
}
