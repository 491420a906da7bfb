//! Percent-encoding as otpauth URIs use it (RFC 3986), without a URL crate for two functions.

use super::UriError;
use zeroize::Zeroizing;

/// Decodes `%XX` escapes; with `plus_is_space`, `+` means a space (form encoding, which many
/// QR generators use for query values). A `%` not followed by two hex digits is kept as is.
pub(crate) fn decode(text: &str, plus_is_space: bool) -> Result<String, UriError> {
    let bytes = text.as_bytes();
    // The secret passes through here: keep the intermediate bytes wiped too.
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() && hex(bytes[i + 1]).is_some() && hex(bytes[i + 2]).is_some() => {
                out.push(hex(bytes[i + 1]).unwrap_or(0) << 4 | hex(bytes[i + 2]).unwrap_or(0));
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(std::mem::take(&mut *out)).map_err(|_| UriError::InvalidEncoding)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Encodes everything but RFC 3986 unreserved characters; in a path, `@` stays readable.
pub(crate) fn encode(text: &str, in_path: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || (in_path && b == b'@') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
