//! The shared secret of an OTP account, and its base32 text form.

use std::fmt;
use zeroize::Zeroizing;

use crate::uri::UriError;

/// Largest secret accepted, in bytes. Real secrets are 10 to 64 bytes; anything near this limit
/// is a mistake or an attack on memory, not a key.
pub const MAX_SECRET_BYTES: usize = 1024;

/// The raw bytes of an HMAC key. Wiped from memory on drop; `Debug` never shows the bytes.
///
/// Any non-empty length up to [`MAX_SECRET_BYTES`] is accepted: 80-bit (10-byte) secrets are
/// printed by many real services even though RFC 4226 recommends 160 bits.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps raw key bytes; fails when empty or longer than [`MAX_SECRET_BYTES`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, UriError> {
        let bytes = Zeroizing::new(bytes);
        if bytes.is_empty() {
            return Err(UriError::EmptySecret);
        }
        if bytes.len() > MAX_SECRET_BYTES {
            return Err(UriError::SecretTooLong);
        }
        Ok(Self(bytes))
    }

    /// Parses base32 as services print it: any case, spaces and `-` as separators, with or
    /// without `=` padding. Trailing bits that do not fill a byte are dropped, as every
    /// mainstream decoder does.
    pub fn from_base32(text: &str) -> Result<Self, UriError> {
        // Each base32 character carries 5 bits; refuse to even decode absurd inputs.
        if text.len() > MAX_SECRET_BYTES * 2 + 64 {
            return Err(UriError::SecretTooLong);
        }
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
                _ => return Err(UriError::SecretNotBase32),
            };
            if padding {
                // Data after padding is not base32, it is two secrets glued together.
                return Err(UriError::SecretNotBase32);
            }
            buffer = (buffer << 5) | value;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                out.push((buffer >> bits) as u8);
                buffer &= (1 << bits) - 1;
            }
        }
        if out.is_empty() {
            return Err(UriError::EmptySecret);
        }
        if out.len() > MAX_SECRET_BYTES {
            return Err(UriError::SecretTooLong);
        }
        Ok(Self(out))
    }

    /// The unpadded upper-case RFC 4648 base32 form, as otpauth URIs carry it.
    pub fn to_base32(&self) -> Zeroizing<String> {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut out = Zeroizing::new(String::with_capacity(self.0.len().div_ceil(5) * 8));
        let mut buffer: u32 = 0;
        let mut bits = 0u32;
        for &byte in self.0.iter() {
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
        out
    }

    /// The key bytes. Keep the borrow short; never log it.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Key length in bytes (not secret).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: an empty secret cannot be constructed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_round_trips_rfc4648_vectors() {
        for (plain, encoded) in [
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            let s = Secret::from_base32(encoded).unwrap();
            assert_eq!(s.expose(), plain.as_bytes());
            assert_eq!(s.to_base32().as_str(), encoded);
        }
    }

    #[test]
    fn base32_accepts_what_services_print() {
        let reference = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        for variant in ["jbswy3dpehpk3pxp", "JBSW Y3DP EHPK 3PXP", "JBSW-Y3DP-EHPK-3PXP", "JBSWY3DPEHPK3PXP======"] {
            assert_eq!(Secret::from_base32(variant).unwrap(), reference, "{variant}");
        }
    }

    #[test]
    fn base32_rejects_what_is_not_base32() {
        assert_eq!(Secret::from_base32("JBSWY3DP1"), Err(UriError::SecretNotBase32));
        assert_eq!(Secret::from_base32("JBSW==Y3DP"), Err(UriError::SecretNotBase32));
        assert_eq!(Secret::from_base32(""), Err(UriError::EmptySecret));
        assert_eq!(Secret::from_base32(" = "), Err(UriError::EmptySecret));
        assert_eq!(Secret::from_base32(&"A".repeat(4000)), Err(UriError::SecretTooLong));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let s = Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("123") && !shown.contains("GEZDG"), "{shown}");
    }
}
