//! `WWW-Authenticate` challenges (RFC 7235 §4.1, RFC 6750 §3).

use std::borrow::Cow;
use std::fmt;

/// One challenge: an auth-scheme and its parameters, e.g.
/// `Bearer realm="api", error="invalid_token"`.
///
/// Parameter values are always sent as quoted strings, with `"` and `\` escaped and control
/// characters dropped, so a value taken from a request can never split or forge a header.
///
/// ```
/// use authn::Challenge;
/// let c = Challenge::new("Bearer").param("realm", "api").param("error", "invalid_token");
/// assert_eq!(c.to_string(), r#"Bearer realm="api", error="invalid_token""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    scheme: Cow<'static, str>,
    params: Vec<(Cow<'static, str>, Cow<'static, str>)>,
}

impl Challenge {
    /// A challenge for `scheme` (a token such as `Bearer`, `Basic`, `ApiKey`).
    pub fn new(scheme: impl Into<Cow<'static, str>>) -> Self {
        Challenge { scheme: scheme.into(), params: Vec::new() }
    }

    /// Adds an auth-param; a later param with the same name replaces the earlier one.
    pub fn param(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<Cow<'static, str>>) -> Self {
        let name = name.into();
        let value = value.into();
        match self.params.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            Some(slot) => slot.1 = value,
            None => self.params.push((name, value)),
        }
        self
    }

    /// The auth-scheme.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The value of a parameter (names compare case-insensitively, RFC 7235 §2.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| &**v)
    }
}

impl Challenge {
    /// The challenge as a header value, rendered in one pass into one buffer: a 401 answers with
    /// it on every refused request, so it should cost no more than the request it refuses.
    pub(crate) fn header_value(&self) -> Option<actix_web::http::header::HeaderValue> {
        let mut out = String::with_capacity(self.rendered_len());
        self.render(&mut out);
        actix_web::http::header::HeaderValue::from_maybe_shared(actix_web::web::Bytes::from(out)).ok()
    }

    /// The rendered length when nothing needs escaping, at most one byte over (a capacity hint).
    fn rendered_len(&self) -> usize {
        self.scheme.len() + self.params.iter().map(|(n, v)| n.len() + v.len() + 5).sum::<usize>()
    }

    fn render(&self, out: &mut String) {
        push_token(out, &self.scheme);
        for (i, (name, value)) in self.params.iter().enumerate() {
            out.push_str(if i == 0 { " " } else { ", " });
            push_token(out, name);
            out.push('=');
            push_quoted(out, value);
        }
    }
}

/// RFC 7230 §3.2.6 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}

/// Appends `s` keeping only token characters; a scheme or a param name is never quoted.
fn push_token(out: &mut String, s: &str) {
    if s.bytes().all(is_tchar) {
        return out.push_str(s);
    }
    // Token characters are ASCII, so keeping bytes keeps whole characters.
    out.extend(s.bytes().filter(|b| is_tchar(*b)).map(char::from));
}

/// Appends `s` as an RFC 7230 quoted-string; control characters are dropped and non-ASCII
/// characters replaced, since header values are ASCII on the wire.
fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    // The common case, plain printable ASCII, goes out in one copy.
    if s.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\') {
        out.push_str(s);
        return out.push('"');
    }
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' ' | '\t' => out.push(c),
            c if c.is_ascii_control() => {}
            c if c.is_ascii() => out.push(c),
            _ => out.push('?'),
        }
    }
    out.push('"');
}

impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(self.rendered_len());
        self.render(&mut out);
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes_values() {
        let c = Challenge::new("Bearer").param("error_description", "bad \"token\" \\ here\r\nX-Injected: 1");
        assert_eq!(c.to_string(), r#"Bearer error_description="bad \"token\" \\ hereX-Injected: 1""#);
        assert!(actix_web::http::header::HeaderValue::from_str(&c.to_string()).is_ok());
    }

    #[test]
    fn scheme_and_names_are_reduced_to_tokens() {
        let c = Challenge::new("Api Key\n").param("re alm", "x");
        assert_eq!(c.to_string(), r#"ApiKey realm="x""#);
    }

    #[test]
    fn later_param_replaces_earlier() {
        let c = Challenge::new("Basic").param("realm", "a").param("REALM", "b");
        assert_eq!(c.get("realm"), Some("b"));
        assert_eq!(c.to_string(), r#"Basic realm="b""#);
    }

    #[test]
    fn non_ascii_is_replaced_not_sent_raw() {
        let c = Challenge::new("Basic").param("realm", "café");
        assert_eq!(c.to_string(), r#"Basic realm="caf?""#);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Reads the first param's quoted-string back (RFC 7230 §3.2.6 unescaping).
    fn unquote_first(rendered: &str) -> String {
        let start = rendered.find('"').unwrap() + 1;
        let mut out = String::new();
        let mut chars = rendered[start..].chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.push(chars.next().unwrap()),
                '"' => break,
                c => out.push(c),
            }
        }
        out
    }

    proptest! {
        #[test]
        fn any_value_renders_a_valid_header_that_reads_back(value in any::<String>(), scheme in "[A-Za-z][A-Za-z0-9-]{0,12}") {
            let rendered = Challenge::new(scheme.clone()).param("error_description", value.clone()).to_string();
            prop_assert!(actix_web::http::header::HeaderValue::from_str(&rendered).is_ok(), "{rendered:?}");
            let prefix = format!("{scheme} error_description=\"");
            prop_assert!(rendered.starts_with(&prefix));
            let expected: String = value
                .chars()
                .filter(|c| !c.is_ascii_control() || *c == '\t')
                .map(|c| if c.is_ascii() { c } else { '?' })
                .collect();
            prop_assert_eq!(unquote_first(&rendered), expected);
        }
    }
}
