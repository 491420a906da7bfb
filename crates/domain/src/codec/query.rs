//! Query strings and percent-encoding (RFC 3986) as otpauth, enrollment and migration URIs use
//! them, on the `percent-encoding` crate. Decoded text lands in zeroizing buffers: secrets pass
//! through here.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use zeroize::Zeroizing;

/// Decoded bytes that are not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUtf8;

/// Everything but RFC 3986 unreserved characters is escaped.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// In a path (an otpauth label), `@` stays readable too.
const ESCAPED_IN_PATH: &AsciiSet = &ESCAPED.remove(b'@');

/// Decodes `%XX` escapes; with `plus_is_space`, `+` means a space (form encoding, which many QR
/// generators use for query values). A `%` not followed by two hex digits is kept as is.
pub fn decode(text: &str, plus_is_space: bool) -> Result<Zeroizing<String>, NotUtf8> {
    let spaces = plus_is_space && text.contains('+');
    if !spaces && !text.contains('%') {
        return Ok(Zeroizing::new(text.to_owned()));
    }
    let spaced;
    let text = if spaces {
        spaced = Zeroizing::new(text.replace('+', " "));
        spaced.as_str()
    } else {
        text
    };
    // Decoding never lengthens: one buffer of the input's size is never reallocated, so no copy of
    // a secret is left behind in freed memory.
    let mut bytes = Vec::with_capacity(text.len());
    bytes.extend(percent_decode_str(text));
    match String::from_utf8(bytes) {
        Ok(decoded) => Ok(Zeroizing::new(decoded)),
        Err(not_utf8) => {
            Zeroizing::new(not_utf8.into_bytes());
            Err(NotUtf8)
        }
    }
}

/// Escapes everything but RFC 3986 unreserved characters (and `@` when `in_path`).
pub fn encode(text: &str, in_path: bool) -> String {
    utf8_percent_encode(text, if in_path { ESCAPED_IN_PATH } else { ESCAPED }).to_string()
}

/// The parameters of a query string: keys compared without regard to ASCII case, the first
/// occurrence of a key wins, values kept raw until asked for. `Debug` shows the keys only: a
/// value may be a secret (`secret=`, Google's `data=`).
#[derive(Default)]
pub struct Query<'a> {
    pairs: Vec<(std::borrow::Cow<'a, str>, &'a str)>,
}

impl std::fmt::Debug for Query<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query").field("keys", &self.pairs.iter().map(|(k, _)| k).collect::<Vec<_>>()).finish()
    }
}

impl<'a> Query<'a> {
    /// Splits `query` (without the `?`) at `&` and `=`.
    pub fn parse(query: &'a str) -> Result<Self, NotUtf8> {
        let mut pairs: Vec<(std::borrow::Cow<'a, str>, &'a str)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = if key.contains(['%', '+']) {
                std::borrow::Cow::Owned(decode(key, true)?.to_string())
            } else {
                std::borrow::Cow::Borrowed(key)
            };
            if !pairs.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) {
                pairs.push((key, value));
            }
        }
        Ok(Self { pairs })
    }

    /// The decoded value of `key` (any ASCII case), `+` read as a space.
    pub fn get(&self, key: &str) -> Result<Option<Zeroizing<String>>, NotUtf8> {
        self.pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| decode(v, true)).transpose()
    }
}

/// Splits `scheme://rest` into the scheme, the path (before `?`) and the query (after it),
/// dropping any `#fragment`.
pub fn split_uri(uri: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = uri.split_once("://")?;
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Some((scheme, path, query))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_form_spaces() {
        assert_eq!(decode("ACME%20Co%3Aalice", false).unwrap().as_str(), "ACME Co:alice");
        assert_eq!(decode("a+b", true).unwrap().as_str(), "a b");
        assert_eq!(decode("a+b", false).unwrap().as_str(), "a+b");
        assert_eq!(decode("100%", false).unwrap().as_str(), "100%");
        assert_eq!(decode("%zz", false).unwrap().as_str(), "%zz");
        assert_eq!(decode("%FF", false), Err(NotUtf8));
    }

    #[test]
    fn encodes_all_but_unreserved() {
        assert_eq!(encode("ACME Co:a@b.c~_-", false), "ACME%20Co%3Aa%40b.c~_-");
        assert_eq!(encode("a@b", true), "a@b");
        assert_eq!(encode("é", false), "%C3%A9");
    }

    #[test]
    fn first_key_wins_in_any_case() {
        let q = Query::parse("Secret=A&secret=B&empty&x=1+2").unwrap();
        assert_eq!(q.get("secret").unwrap().unwrap().as_str(), "A");
        assert_eq!(q.get("empty").unwrap().unwrap().as_str(), "");
        assert_eq!(q.get("x").unwrap().unwrap().as_str(), "1 2");
        assert!(q.get("missing").unwrap().is_none());
        assert_eq!(split_uri("otpauth://totp/a?b=c#d"), Some(("otpauth", "totp/a", "b=c")));
        let shown = format!("{:?}", Query::parse("secret=JBSWY3DPEHPK3PXP&issuer=X").unwrap());
        assert!(!shown.contains("JBSWY3DP") && shown.contains("secret"), "{shown}");
    }
}
