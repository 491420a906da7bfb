//! RFC 4648 base32, shared by OTP secrets (unpadded, tolerant input) and push signatures
//! (padded on the wire).
//!
//! Hand-written rather than a crate on purpose: secrets are printed by services with spaces,
//! dashes, lower case and stray padding, which crates reject or need a pre-pass (a copy of the
//! secret) to accept; and both directions write straight into zeroizing buffers, so no decoded
//! key or encoded secret is left behind in freed memory. Sixty lines, tested with RFC 4648's
//! vectors.

use zeroize::Zeroizing;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Why text is not base32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base32Error {
    /// A character outside the alphabet, or data after `=` padding.
    InvalidCharacter,
}

/// Decodes any case, skipping spaces, tabs and `-` and ignoring `=` padding at the end. Bits
/// that do not fill a last byte are dropped, as mainstream decoders do. The output is wiped on
/// drop because it is often a key.
pub fn decode(text: &str) -> Result<Zeroizing<Vec<u8>>, Base32Error> {
    let mut out = Zeroizing::new(Vec::with_capacity(text.len() * 5 / 8));
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    let mut padding = false;
    for c in text.chars() {
        let value = match c {
            ' ' | '-' | '\t' => continue,
            '=' => {
                padding = true;
                continue;
            }
            'A'..='Z' => c as u32 - 'A' as u32,
            'a'..='z' => c as u32 - 'a' as u32,
            '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return Err(Base32Error::InvalidCharacter),
        };
        if padding {
            // Data after padding is not base32: it is two values glued together.
            return Err(Base32Error::InvalidCharacter);
        }
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// Upper-case base32; with `pad`, `=` up to a multiple of 8 characters (as privacyIDEA sends).
pub fn encode(bytes: &[u8], pad: bool) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(bytes.len().div_ceil(5) * 8));
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    while pad && !out.len().is_multiple_of(8) {
        out.push('=');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_test_vectors_padded_and_unpadded() {
        for (plain, padded) in [
            ("", ""),
            ("f", "MY======"),
            ("fo", "MZXQ===="),
            ("foo", "MZXW6==="),
            ("foob", "MZXW6YQ="),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI======"),
        ] {
            assert_eq!(encode(plain.as_bytes(), true).as_str(), padded);
            assert_eq!(encode(plain.as_bytes(), false).as_str(), padded.trim_end_matches('='));
            assert_eq!(decode(padded).unwrap().as_slice(), plain.as_bytes());
            assert_eq!(decode(&padded.to_lowercase()).unwrap().as_slice(), plain.as_bytes());
        }
    }

    #[test]
    fn rejects_foreign_characters_and_data_after_padding() {
        assert_eq!(decode("MZXW1").unwrap_err(), Base32Error::InvalidCharacter);
        assert_eq!(decode("MY==MY").unwrap_err(), Base32Error::InvalidCharacter);
    }
}
