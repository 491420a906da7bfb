//! Key derivation from passwords and PINs, with bounded parameters.
//!
//! Parameters often come from a file (a backup, another app's export, the CLI's `vault.kdf`),
//! which may be hostile: each function refuses parameters beyond its bounds with
//! [`Error::KdfParameters`] before doing any work, so a crafted file cannot exhaust memory or
//! hang the app.

use std::num::NonZeroU32;

use zeroize::Zeroizing;

use super::{KEY_LEN, Key};
use crate::error::Error;

/// Most PBKDF2 iterations accepted (about 2 s of CPU on a phone-class core).
pub const MAX_PBKDF2_ITERATIONS: u32 = 5_000_000;

/// PBKDF2-HMAC-SHA256 of `password` with `salt`, 1 to [`MAX_PBKDF2_ITERATIONS`] iterations.
pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> Result<Key, Error> {
    let iterations = NonZeroU32::new(iterations)
        .filter(|n| n.get() <= MAX_PBKDF2_ITERATIONS)
        .ok_or(Error::KdfParameters("PBKDF2 iterations out of bounds"))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA256, iterations, salt, password, &mut key[..]);
    Ok(Key(key))
}

/// Argon2id (version 0x13) cost. The default follows RFC 9106's second recommendation
/// (64 MiB, 3 passes, 1 lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self { memory_kib: 64 * 1024, iterations: 3, parallelism: 1 }
    }
}

impl Argon2Params {
    /// Most memory accepted, in KiB (1 GiB).
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    /// Most passes accepted.
    pub const MAX_ITERATIONS: u32 = 64;
    /// Most lanes accepted.
    pub const MAX_PARALLELISM: u32 = 16;

    /// Whether every parameter is within its bounds (and at least 1).
    pub fn within_bounds(&self) -> bool {
        (1..=Self::MAX_MEMORY_KIB).contains(&self.memory_kib)
            && (1..=Self::MAX_ITERATIONS).contains(&self.iterations)
            && (1..=Self::MAX_PARALLELISM).contains(&self.parallelism)
    }
}

/// Argon2id of `password` with `salt` (at least 8 bytes).
pub fn argon2id(password: &[u8], salt: &[u8], params: Argon2Params) -> Result<Key, Error> {
    if !params.within_bounds() {
        return Err(Error::KdfParameters("Argon2 parameters out of bounds"));
    }
    let bad = |_| Error::KdfParameters("invalid Argon2 parameters");
    let argon_params =
        argon2::Params::new(params.memory_kib, params.iterations, params.parallelism, Some(KEY_LEN)).map_err(bad)?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, argon_params);
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    argon.hash_password_into(password, salt, &mut key[..]).map_err(bad)?;
    Ok(Key(key))
}

/// scrypt cost: N = 2^`log_n`, block size `r`, parallelism `p`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScryptParams {
    /// log2 of the CPU/memory cost N.
    pub log_n: u8,
    /// Block size.
    pub r: u32,
    /// Parallelism.
    pub p: u32,
}

impl ScryptParams {
    /// Most memory accepted (128·N·r bytes): 256 MiB. Aegis uses N=2^15, r=8 (32 MiB).
    pub const MAX_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
    /// Most parallelism accepted (work grows linearly with it).
    pub const MAX_P: u32 = 16;

    /// From N as a number (a power of two from 2 up), as files store it.
    pub fn from_n(n: u64, r: u32, p: u32) -> Result<Self, Error> {
        if n < 2 || !n.is_power_of_two() {
            return Err(Error::KdfParameters("scrypt N is not a power of two"));
        }
        let params = Self { log_n: n.trailing_zeros() as u8, r, p };
        if !params.within_bounds() {
            return Err(Error::KdfParameters("scrypt parameters ask for too much work"));
        }
        Ok(params)
    }

    /// Whether the memory and parallelism are within bounds (and r, p at least 1).
    pub fn within_bounds(&self) -> bool {
        let n = 1u64.checked_shl(u32::from(self.log_n)).unwrap_or(u64::MAX);
        self.r >= 1
            && (1..=Self::MAX_P).contains(&self.p)
            && n.saturating_mul(u64::from(self.r)).saturating_mul(128) <= Self::MAX_MEMORY_BYTES
    }
}

/// scrypt of `password` with `salt`.
pub fn scrypt(password: &[u8], salt: &[u8], params: ScryptParams) -> Result<Key, Error> {
    if !params.within_bounds() {
        return Err(Error::KdfParameters("scrypt parameters ask for too much work"));
    }
    let scrypt_params = scrypt::Params::new(params.log_n, params.r, params.p, KEY_LEN)
        .map_err(|_| Error::KdfParameters("invalid scrypt parameters"))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    scrypt::scrypt(password, salt, &scrypt_params, &mut key[..]).map_err(|_| Error::Crypto("scrypt failed"))?;
    Ok(Key(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_keys_depend_on_passphrase_and_salt() {
        let a = pbkdf2_sha256(b"correct horse", b"salt-one-16bytes", 1000).unwrap();
        assert_eq!(a.expose(), pbkdf2_sha256(b"correct horse", b"salt-one-16bytes", 1000).unwrap().expose());
        assert_ne!(a.expose(), pbkdf2_sha256(b"correct horse", b"salt-two-16bytes", 1000).unwrap().expose());
        assert_ne!(a.expose(), pbkdf2_sha256(b"wrong horse", b"salt-one-16bytes", 1000).unwrap().expose());
        assert_eq!(format!("{a:?}"), "Key(<redacted>)");
    }

    #[test]
    fn hostile_parameters_are_refused_before_any_work() {
        assert!(matches!(pbkdf2_sha256(b"p", b"salt", 0), Err(Error::KdfParameters(_))));
        assert!(matches!(pbkdf2_sha256(b"p", b"salt", u32::MAX), Err(Error::KdfParameters(_))));
        let greedy = Argon2Params { memory_kib: 64 * 1024 * 1024, iterations: 1, parallelism: 1 };
        assert!(matches!(argon2id(b"p", b"saltsalt", greedy), Err(Error::KdfParameters(_))));
        assert!(ScryptParams::from_n(3, 8, 1).is_err());
        assert!(ScryptParams::from_n(1 << 20, 8, 1).is_err(), "1 GiB");
        assert!(ScryptParams::from_n(1 << 15, 8, 17).is_err());
        assert!(matches!(scrypt(b"p", b"s", ScryptParams { log_n: 40, r: 8, p: 1 }), Err(Error::KdfParameters(_))));
    }

    #[test]
    fn argon2id_and_scrypt_match_reference_vectors() {
        // RFC 7914 §12, second vector (N=1024, r=8, p=16), first 32 bytes.
        let key = scrypt(b"password", b"NaCl", ScryptParams::from_n(1024, 8, 16).unwrap()).unwrap();
        assert_eq!(hex::encode(key.expose()), "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162");
        let small = Argon2Params { memory_kib: 32, iterations: 3, parallelism: 4 };
        let a = argon2id(b"password", b"somesalt", small).unwrap();
        assert_eq!(a.expose(), argon2id(b"password", b"somesalt", small).unwrap().expose());
        assert_ne!(a.expose(), argon2id(b"password", b"othersalt", small).unwrap().expose());
    }
}
