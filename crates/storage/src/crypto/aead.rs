//! AES-256-GCM with associated data, in the two layouts the formats we read and write use:
//! one blob `nonce ‖ ciphertext ‖ tag` (the vault, the PIN seal), or a detached nonce beside
//! `ciphertext ‖ tag` (our backup file, Aegis, 2FAS).

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroizing;

use super::{Key, random_array};
use crate::error::Error;

/// Length of an AES-GCM nonce in bytes.
pub const NONCE_LEN: usize = ring::aead::NONCE_LEN;
/// Length of an AES-GCM tag in bytes.
pub const TAG_LEN: usize = 16;

fn cipher(key: &[u8]) -> Option<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, key).ok().map(LessSafeKey::new)
}

/// Seals and opens values under one key as `nonce ‖ ciphertext ‖ tag`, with a fresh random
/// nonce per seal. The associated data binds a value to the place it is stored, so values
/// cannot be swapped between rows or fields unnoticed.
pub struct Sealer {
    key: LessSafeKey,
}

impl Sealer {
    /// A sealer for `key`.
    pub fn new(key: &Key) -> Self {
        // A 32-byte key always fits AES-256: the type rules the error out.
        Self { key: cipher(&key.0[..]).expect("AES-256 key is 32 bytes") }
    }

    /// `nonce ‖ ciphertext ‖ tag`, with a fresh random nonce.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
        let nonce: [u8; NONCE_LEN] = random_array()?;
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
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
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        open_with(&self.key, &sealed[..NONCE_LEN], &sealed[NONCE_LEN..], aad)
    }
}

/// Seals `plaintext` under `key` with `nonce`, which the caller drew at random (see
/// [`super::random_array`]) and never reuses with this key; returns `ciphertext ‖ tag`. For
/// formats whose associated data must name the nonce before sealing.
pub fn seal_with_nonce(key: &Key, nonce: &[u8; NONCE_LEN], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
    let cipher = cipher(&key.0[..]).ok_or(Error::Crypto("sealing failed"))?;
    let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
    out.extend_from_slice(plaintext);
    let tag = cipher
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), &mut out)
        .map_err(|_| Error::Crypto("sealing failed"))?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Opens `ciphertext ‖ tag` under a raw `key` (32 bytes) and `nonce` (12 bytes); `None` when a
/// length is wrong or authentication fails.
pub fn open_detached(key: &[u8], nonce: &[u8], sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    open_with(&cipher(key)?, nonce, sealed, aad)
}

fn open_with(key: &LessSafeKey, nonce: &[u8], sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buffer = Zeroizing::new(sealed.to_vec());
    let len = key.open_in_place(nonce, Aad::from(aad), &mut buffer[..]).ok()?.len();
    buffer.truncate(len);
    Some(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_same_key_and_place() {
        let sealer = Sealer::new(&Key::from_bytes([7; 32]));
        let sealed = sealer.seal(b"secret", b"row:1").unwrap();
        assert_eq!(sealer.open(&sealed, b"row:1").unwrap().as_slice(), b"secret");
        assert!(sealer.open(&sealed, b"row:2").is_none());
        assert!(Sealer::new(&Key::from_bytes([8; 32])).open(&sealed, b"row:1").is_none());
        let mut tampered = sealed.clone();
        tampered[NONCE_LEN] ^= 1;
        assert!(sealer.open(&tampered, b"row:1").is_none());
        assert!(sealer.open(&sealed[..10], b"row:1").is_none());
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let sealer = Sealer::new(&Key::from_bytes([7; 32]));
        assert_ne!(sealer.seal(b"x", b"a").unwrap()[..NONCE_LEN], sealer.seal(b"x", b"a").unwrap()[..NONCE_LEN]);
    }

    #[test]
    fn detached_layout_round_trips_and_checks_lengths() {
        let key = Key::from_bytes([3; 32]);
        let nonce: [u8; NONCE_LEN] = random_array().unwrap();
        let sealed = seal_with_nonce(&key, &nonce, b"payload", b"header").unwrap();
        assert_eq!(open_detached(key.expose(), &nonce, &sealed, b"header").unwrap().as_slice(), b"payload");
        assert!(open_detached(key.expose(), &nonce, &sealed, b"other").is_none());
        assert!(open_detached(&key.expose()[..31], &nonce, &sealed, b"header").is_none());
        assert!(open_detached(key.expose(), &nonce[..11], &sealed, b"header").is_none());
    }
}
