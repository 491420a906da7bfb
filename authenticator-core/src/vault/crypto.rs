//! At-rest encryption: the data key and AES-256-GCM sealing of secrets.

use std::fmt;
use std::num::NonZeroU32;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::Error;

/// Length of a data key in bytes.
pub const DATA_KEY_LEN: usize = 32;
/// PBKDF2-HMAC-SHA256 iterations for passphrase-derived keys (OWASP 2023 guidance).
pub const PASSPHRASE_ITERATIONS: u32 = 600_000;

/// The 32-byte key that seals the vault's secrets. The platform keystore (Android Keystore, iOS
/// Keychain) or the CLI's key file supplies it. Wiped on drop; `Debug` shows nothing.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; DATA_KEY_LEN]>);

impl DataKey {
    pub fn from_bytes(bytes: [u8; DATA_KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// From a slice that must be exactly [`DATA_KEY_LEN`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let array: [u8; DATA_KEY_LEN] = bytes.try_into().map_err(|_| Error::InvalidKeyLength(bytes.len()))?;
        Ok(Self::from_bytes(array))
    }

    /// A fresh random key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = Zeroizing::new([0u8; DATA_KEY_LEN]);
        SystemRandom::new().fill(&mut bytes[..]).map_err(|_| Error::Crypto("no system randomness"))?;
        Ok(Self(bytes))
    }

    /// 16 random bytes to salt [`DataKey::from_passphrase`]; store them beside the vault.
    pub fn random_salt() -> Result<[u8; 16], Error> {
        let mut salt = [0u8; 16];
        SystemRandom::new().fill(&mut salt).map_err(|_| Error::Crypto("no system randomness"))?;
        Ok(salt)
    }

    /// Derives a key from a passphrase with PBKDF2-HMAC-SHA256.
    pub fn from_passphrase(passphrase: &str, salt: &[u8], iterations: NonZeroU32) -> Self {
        let mut bytes = Zeroizing::new([0u8; DATA_KEY_LEN]);
        ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA256, iterations, salt, passphrase.as_bytes(), &mut bytes[..]);
        Self(bytes)
    }

    /// The key bytes, to hand to a keystore. Never log them.
    pub fn expose(&self) -> &[u8; DATA_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// Seals and opens values under the data key. The associated data binds a sealed value to the
/// place it is stored, so values cannot be swapped between rows.
pub(crate) struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl Sealer {
    pub(crate) fn new(key: &DataKey) -> Self {
        // Only fails for a wrong key length, which DataKey's type rules out.
        let unbound = UnboundKey::new(&AES_256_GCM, &key.0[..]).expect("AES-256 key is 32 bytes");
        Self { key: LessSafeKey::new(unbound), rng: SystemRandom::new() }
    }

    /// `nonce || ciphertext || tag`, with a fresh random nonce.
    pub(crate) fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| Error::Crypto("no system randomness"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut out[NONCE_LEN..])
            .map_err(|_| Error::Crypto("sealing failed"))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Opens a value from [`Sealer::seal`]; `None` when the key, the place or the bytes differ.
    pub(crate) fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return None;
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed[..NONCE_LEN]).ok()?;
        let mut buffer = Zeroizing::new(sealed[NONCE_LEN..].to_vec());
        let len = self.key.open_in_place(nonce, Aad::from(aad), &mut buffer[..]).ok()?.len();
        buffer.truncate(len);
        Some(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_same_key_and_place() {
        let sealer = Sealer::new(&DataKey::from_bytes([7; 32]));
        let sealed = sealer.seal(b"secret", b"row:1").unwrap();
        assert_eq!(sealer.open(&sealed, b"row:1").unwrap().as_slice(), b"secret");
        assert!(sealer.open(&sealed, b"row:2").is_none());
        assert!(Sealer::new(&DataKey::from_bytes([8; 32])).open(&sealed, b"row:1").is_none());
        let mut tampered = sealed.clone();
        tampered[NONCE_LEN] ^= 1;
        assert!(sealer.open(&tampered, b"row:1").is_none());
        assert!(sealer.open(&sealed[..10], b"row:1").is_none());
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let sealer = Sealer::new(&DataKey::from_bytes([7; 32]));
        assert_ne!(sealer.seal(b"x", b"a").unwrap()[..NONCE_LEN], sealer.seal(b"x", b"a").unwrap()[..NONCE_LEN]);
    }

    #[test]
    fn passphrase_keys_depend_on_passphrase_and_salt() {
        let n = NonZeroU32::new(1000).unwrap();
        let a = DataKey::from_passphrase("correct horse", b"salt-one-16bytes", n);
        assert_eq!(a.expose(), DataKey::from_passphrase("correct horse", b"salt-one-16bytes", n).expose());
        assert_ne!(a.expose(), DataKey::from_passphrase("correct horse", b"salt-two-16bytes", n).expose());
        assert_ne!(a.expose(), DataKey::from_passphrase("wrong horse", b"salt-one-16bytes", n).expose());
        assert_eq!(format!("{a:?}"), "DataKey(<redacted>)");
    }
}
