//! The one place that seals and opens, derives keys and draws randomness.
//!
//! Every other module — the vault, the push PIN seal, our backup format, the Aegis and 2FAS
//! importers — goes through here; nothing else names ring's AEAD, argon2, scrypt or the
//! AES-CBC of other apps' legacy exports ([`aes256_cbc_decrypt`]). Keys are
//! wiped on drop and never shown by `Debug`.

mod aead;
mod cbc;
pub mod kdf;
pub mod secretstream;

pub use aead::{NONCE_LEN, Sealer, TAG_LEN, open_detached, seal_with_nonce};
pub use cbc::{CBC_IV_LEN, aes256_cbc_decrypt};

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::Error;

/// Length of every symmetric key in bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// A 32-byte AES-256 key: the vault's data key, a key derived from a PIN or password, or a
/// foreign app's master key. Wiped on drop; `Debug` shows nothing.
#[derive(Clone)]
pub struct Key(Zeroizing<[u8; KEY_LEN]>);

impl Key {
    /// Wraps key bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// From a slice that must be exactly [`KEY_LEN`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| Error::InvalidKeyLength(bytes.len()))?;
        Ok(Self::from_bytes(array))
    }

    /// A fresh random key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        fill_random(&mut bytes[..])?;
        Ok(Self(bytes))
    }

    /// 16 random bytes to salt a key derivation; store them beside what the key seals.
    pub fn random_salt() -> Result<[u8; 16], Error> {
        random_array()
    }

    /// Derives a key from a passphrase with PBKDF2-HMAC-SHA256 (`iterations` at most
    /// [`kdf::MAX_PBKDF2_ITERATIONS`], the per-file budget: more is [`Error::TooCostly`]).
    pub fn from_passphrase(passphrase: &str, salt: &[u8], iterations: u32) -> Result<Self, Error> {
        kdf::pbkdf2_sha256(passphrase.as_bytes(), salt, iterations)
    }

    /// The key bytes, to hand to a keystore. Never log them.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

/// Fills `out` from the operating system's CSPRNG.
pub fn fill_random(out: &mut [u8]) -> Result<(), Error> {
    SystemRandom::new().fill(out).map_err(|_| Error::Crypto("no system randomness"))
}

/// `N` random bytes (salts, nonces, batch ids).
pub fn random_array<const N: usize>() -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    fill_random(&mut out)?;
    Ok(out)
}

/// SHA-256 of `data`: identities that must not hold key material (duplicate detection).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}
