//! The shared secret of an OTP account, and its base32 text form.

use std::fmt;
use zeroize::Zeroizing;

use super::AccountError;
use crate::codec::base32;

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
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, AccountError> {
        let bytes = Zeroizing::new(bytes);
        if bytes.is_empty() {
            return Err(AccountError::EmptySecret);
        }
        if bytes.len() > MAX_SECRET_BYTES {
            return Err(AccountError::SecretTooLong);
        }
        Ok(Self(bytes))
    }

    /// Parses base32 as services print it: any case, spaces and `-` as separators, with or
    /// without `=` padding. Trailing bits that do not fill a byte are dropped, as every
    /// mainstream decoder does.
    pub fn from_base32(text: &str) -> Result<Self, AccountError> {
        // Each base32 character carries 5 bits; refuse to even decode absurd inputs.
        if text.len() > MAX_SECRET_BYTES * 2 + 64 {
            return Err(AccountError::SecretTooLong);
        }
        let bytes = base32::decode(text).map_err(|_| AccountError::SecretNotBase32)?;
        Self::from_bytes(bytes.to_vec())
    }

    /// The unpadded upper-case RFC 4648 base32 form, as otpauth URIs carry it.
    pub fn to_base32(&self) -> Zeroizing<String> {
        base32::encode(&self.0, false)
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
    fn base32_accepts_what_services_print() {
        let reference = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        for variant in ["jbswy3dpehpk3pxp", "JBSW Y3DP EHPK 3PXP", "JBSW-Y3DP-EHPK-3PXP", "JBSWY3DPEHPK3PXP======"] {
            assert_eq!(Secret::from_base32(variant).unwrap(), reference, "{variant}");
        }
    }

    #[test]
    fn base32_rejects_what_is_not_base32() {
        assert_eq!(Secret::from_base32("JBSWY3DP1"), Err(AccountError::SecretNotBase32));
        assert_eq!(Secret::from_base32("JBSW==Y3DP"), Err(AccountError::SecretNotBase32));
        assert_eq!(Secret::from_base32(""), Err(AccountError::EmptySecret));
        assert_eq!(Secret::from_base32(" = "), Err(AccountError::EmptySecret));
        assert_eq!(Secret::from_base32(&"A".repeat(4000)), Err(AccountError::SecretTooLong));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let s = Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("123") && !shown.contains("GEZDG"), "{shown}");
    }
}
