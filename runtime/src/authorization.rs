//! The `Authorization` header (RFC 7235 §2.1): `<scheme> <credentials>`, split the same way for
//! every scheme authn reads (Bearer, Basic).

use actix_web::HttpRequest;
use actix_web::http::header;

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

/// The request's `Authorization` header read for `scheme` (lower case). Two headers are "too
/// many parts": which one a proxy would have kept is anybody's guess.
pub(crate) fn read<'r>(req: &'r HttpRequest, scheme: &[u8]) -> SchemeValue<'r> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    match (values.next(), values.next()) {
        (None, _) => SchemeValue::Absent,
        (Some(_), Some(_)) => SchemeValue::TooManyParts,
        (Some(value), None) => split(value.as_bytes(), scheme),
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
