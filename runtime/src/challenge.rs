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

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Writes `s` keeping only token characters; a scheme or a param name is never quoted.
fn write_token(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if s.chars().all(is_tchar) {
        return f.write_str(s);
    }
    for c in s.chars().filter(|c| is_tchar(*c)) {
        fmt::Write::write_char(f, c)?;
    }
    Ok(())
}

/// Writes `s` as an RFC 7230 quoted-string; control characters are dropped and non-ASCII
/// characters replaced, since header values are ASCII on the wire.
fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    // The common case, plain printable ASCII, goes out in one write.
    if s.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\') {
        f.write_str(s)?;
        return f.write_str("\"");
    }
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                f.write_str("\\")?;
                fmt::Write::write_char(f, c)?;
            }
            ' ' | '\t' => fmt::Write::write_char(f, c)?,
            c if c.is_ascii_control() => {}
            c if c.is_ascii() => fmt::Write::write_char(f, c)?,
            _ => f.write_str("?")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_token(f, &self.scheme)?;
        for (i, (name, value)) in self.params.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            write_token(f, name)?;
            f.write_str("=")?;
            write_quoted(f, value)?;
        }
        Ok(())
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
