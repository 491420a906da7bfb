//! Key derivation from passwords and PINs, within a budget.
//!
//! Parameters often come from a file (a backup, another app's export, the CLI's `vault.kdf`),
//! which may be hostile. Every derivation is priced first ([`KdfCost`]: CPU time and memory) and
//! charged to a [`KdfBudget`]; one that does not fit is refused with [`Error::TooCostly`] before
//! any work, so no file, whatever its parameters, costs more than the budget to open: at most
//! [`KdfBudget::WORK_MS`] ms of CPU **in total over every derivation it asks for** (all the key
//! slots of an Aegis vault tried with a wrong password, say) and at most
//! [`KdfBudget::MAX_MEMORY_MIB`] MiB of key-derivation memory at once (derivations run one after
//! the other and free their memory). Malformed parameters (zero iterations, N not a power of two)
//! are [`Error::KdfParameters`].
//!
//! # Calibration
//!
//! Prices are nanoseconds of CPU time of one core of the build machine (x86-64, 2 cores shared
//! with other builds), measured with the release profile by `examples/kdf_calibration.rs` (CPU
//! time of the deriving thread, best of three), rounded up so estimates err on the costly side:
//!
//! | derivation                         | measured (CPU)                          | price                          |
//! |------------------------------------|-----------------------------------------|--------------------------------|
//! | PBKDF2-HMAC-SHA256 (ring)          | 193–196 ns / iteration                  | 200 ns / iteration             |
//! | PBKDF2-HMAC-SHA1 (ring)            | 827 ns / iteration                      | 850 ns / iteration             |
//! | PBKDF2-HMAC-SHA512 (ring)          | 547 ns / iteration                      | 560 ns / iteration             |
//! | scrypt N=2^10..2^16, r=8..15, p=1..16 | 213–359 ns / (N·r·p)                 | 370 ns / (N·r·p)               |
//! | Argon2id 32–128 MiB, 1–14 passes   | 128 MiB: 0.160 s × 1 pass, 1.288 s × 14 | 650 ns / KiB-pass + 600 ns / KiB |
//!
//! (Argon2's first pass also pays for touching fresh memory, hence its per-KiB term.) So the
//! 2 s budget allows 10 million PBKDF2 iterations; scrypt up to N·r·p ≈ 5.4 million (Aegis'
//! N=2^15, r=8, p=1 is priced 0.10 s and measured 0.09 s); Argon2id over 128 MiB with 22 passes
//! (this app's backups, 64 MiB × 3 passes, are priced 0.17 s and measured 0.16 s).

use std::num::NonZeroU32;

use zeroize::Zeroizing;

use super::{KEY_LEN, Key};
use crate::error::Error;

/// PBKDF2-HMAC-SHA256: price of one iteration, in nanoseconds (see the calibration table).
const PBKDF2_NS_PER_ITERATION: u64 = 200;
/// PBKDF2-HMAC-SHA1: price of one iteration, in nanoseconds (ring has no SHA extensions for
/// SHA-1: four times SHA-256's price).
const PBKDF2_SHA1_NS_PER_ITERATION: u64 = 850;
/// PBKDF2-HMAC-SHA512: price of one iteration, in nanoseconds.
const PBKDF2_SHA512_NS_PER_ITERATION: u64 = 560;
/// scrypt: price of one unit of N·r·p, in nanoseconds.
const SCRYPT_NS_PER_BLOCK: u64 = 370;
/// Argon2id: price of one pass over one KiB of memory, in nanoseconds.
const ARGON2_NS_PER_KIB_PASS: u64 = 650;
/// Argon2id: price of touching one fresh KiB of memory, in nanoseconds.
const ARGON2_NS_PER_KIB: u64 = 600;

/// Most PBKDF2-HMAC-SHA256 iterations one file may ask for: all of the budget (SHA-1 and
/// SHA-512 cost more an iteration: fewer fit).
pub const MAX_PBKDF2_ITERATIONS: u32 = (KdfBudget::WORK_NS / PBKDF2_NS_PER_ITERATION) as u32;

/// The price of one key derivation: estimated CPU time and peak memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfCost {
    /// Estimated CPU time on the calibration machine, in nanoseconds.
    pub work_ns: u64,
    /// Memory the derivation holds at its peak, in bytes.
    pub memory_bytes: u64,
}

impl KdfCost {
    /// PBKDF2-HMAC-SHA256 with `iterations`.
    pub fn pbkdf2(iterations: u32) -> Self {
        Self::pbkdf2_with(Pbkdf2Hash::Sha256, iterations)
    }

    /// PBKDF2 with `hash` and `iterations`.
    pub fn pbkdf2_with(hash: Pbkdf2Hash, iterations: u32) -> Self {
        let per_iteration = match hash {
            Pbkdf2Hash::Sha1 => PBKDF2_SHA1_NS_PER_ITERATION,
            Pbkdf2Hash::Sha256 => PBKDF2_NS_PER_ITERATION,
            Pbkdf2Hash::Sha512 => PBKDF2_SHA512_NS_PER_ITERATION,
        };
        Self { work_ns: u64::from(iterations).saturating_mul(per_iteration), memory_bytes: 0 }
    }
}

/// The HMAC hash of a PBKDF2 derivation. SHA-1 and SHA-512 only to open other apps' exports
/// (andOTP, Stratum legacy, Authy, FreeOTP), which chose them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pbkdf2Hash {
    /// PBKDF2-HMAC-SHA1.
    Sha1,
    /// PBKDF2-HMAC-SHA256.
    Sha256,
    /// PBKDF2-HMAC-SHA512.
    Sha512,
}

/// What opening one file may spend on key derivation: CPU time in total over every derivation
/// charged to it, and memory per derivation. Make one per file opened ([`KdfBudget::per_file`])
/// and charge each derivation to it before running it.
#[derive(Debug, Clone)]
pub struct KdfBudget {
    work_left_ns: u64,
    spent_ns: u64,
    max_memory_bytes: u64,
}

impl KdfBudget {
    /// CPU time one file may cost, in milliseconds (in total over all its derivations).
    pub const WORK_MS: u64 = 2_000;
    /// Key-derivation memory one file may use at once, in MiB.
    pub const MAX_MEMORY_MIB: u64 = 128;
    const WORK_NS: u64 = Self::WORK_MS * 1_000_000;
    const MAX_MEMORY_BYTES: u64 = Self::MAX_MEMORY_MIB * 1024 * 1024;

    /// The whole budget, for opening one file.
    pub fn per_file() -> Self {
        Self { work_left_ns: Self::WORK_NS, spent_ns: 0, max_memory_bytes: Self::MAX_MEMORY_BYTES }
    }

    /// CPU time of [`KdfBudget::strong_file`], in milliseconds.
    pub const STRONG_WORK_MS: u64 = 3_500;
    /// Memory of [`KdfBudget::strong_file`], in MiB.
    pub const STRONG_MEMORY_MIB: u64 = 256;

    /// A larger budget for the one format whose own settings cost more than [`per_file`]
    /// allows: Ente Auth derives its export key with libsodium's "sensitive" strength, Argon2id
    /// over 256 MiB × 16 passes (or 128 MiB × 32, … on phones short of memory), priced 2.9 s.
    /// At most [`KdfBudget::STRONG_WORK_MS`] ms and [`KdfBudget::STRONG_MEMORY_MIB`] MiB.
    ///
    /// [`per_file`]: KdfBudget::per_file
    pub fn strong_file() -> Self {
        Self {
            work_left_ns: Self::STRONG_WORK_MS * 1_000_000,
            spent_ns: 0,
            max_memory_bytes: Self::STRONG_MEMORY_MIB * 1024 * 1024,
        }
    }

    /// Takes `cost` out of the budget, or refuses it with [`Error::TooCostly`] (the budget is
    /// then unchanged) when it needs more memory than allowed or more time than is left.
    pub fn charge(&mut self, cost: KdfCost) -> Result<(), Error> {
        if cost.memory_bytes > self.max_memory_bytes || cost.work_ns > self.work_left_ns {
            return Err(Error::TooCostly {
                work_ms: self.spent_ns.saturating_add(cost.work_ns).div_ceil(1_000_000),
                memory_mib: cost.memory_bytes.div_ceil(1024 * 1024),
                budget_ms: (self.spent_ns + self.work_left_ns) / 1_000_000,
                budget_mib: self.max_memory_bytes / (1024 * 1024),
            });
        }
        self.work_left_ns -= cost.work_ns;
        self.spent_ns += cost.work_ns;
        Ok(())
    }
}

/// PBKDF2-HMAC-SHA256 of `password` with `salt`, at least 1 iteration, within a budget of its
/// own (one derivation per file: the vault's passphrase, a PIN seal).
pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> Result<Key, Error> {
    pbkdf2_sha256_within(password, salt, iterations, &mut KdfBudget::per_file())
}

/// [`pbkdf2_sha256`], charged to `budget`.
pub fn pbkdf2_sha256_within(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    budget: &mut KdfBudget,
) -> Result<Key, Error> {
    pbkdf2_within(Pbkdf2Hash::Sha256, password, salt, iterations, budget)
}

/// PBKDF2 with `hash` of `password` with `salt` to a 32-byte key, at least 1 iteration, charged
/// to `budget`.
pub fn pbkdf2_within(
    hash: Pbkdf2Hash,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    budget: &mut KdfBudget,
) -> Result<Key, Error> {
    let iterations = NonZeroU32::new(iterations).ok_or(Error::KdfParameters("PBKDF2 needs at least one iteration"))?;
    budget.charge(KdfCost::pbkdf2_with(hash, iterations.get()))?;
    let algorithm = match hash {
        Pbkdf2Hash::Sha1 => ring::pbkdf2::PBKDF2_HMAC_SHA1,
        Pbkdf2Hash::Sha256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
        Pbkdf2Hash::Sha512 => ring::pbkdf2::PBKDF2_HMAC_SHA512,
    };
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    ring::pbkdf2::derive(algorithm, iterations, salt, password, &mut key[..]);
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
    /// Most memory a file may name, in KiB (1 GiB); the budget allows much less.
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    /// Most passes a file may name; the budget may allow fewer.
    pub const MAX_ITERATIONS: u32 = 64;
    /// Most lanes a file may name.
    pub const MAX_PARALLELISM: u32 = 16;

    /// Whether every parameter is within the bounds a file may name (and at least 1). Whether
    /// the work fits is for [`KdfBudget`] to say.
    pub fn within_bounds(&self) -> bool {
        (1..=Self::MAX_MEMORY_KIB).contains(&self.memory_kib)
            && (1..=Self::MAX_ITERATIONS).contains(&self.iterations)
            && (1..=Self::MAX_PARALLELISM).contains(&self.parallelism)
    }

    /// The price of one derivation. Lanes run one after the other here (the `argon2` crate
    /// without its `parallel` feature), so the work is memory × passes whatever the lanes; the
    /// memory is at least 8 KiB per lane, as Argon2 rounds it up.
    pub fn cost(&self) -> KdfCost {
        let kib = u64::from(self.memory_kib).max(8 * u64::from(self.parallelism));
        let per_kib =
            u64::from(self.iterations).saturating_mul(ARGON2_NS_PER_KIB_PASS).saturating_add(ARGON2_NS_PER_KIB);
        KdfCost { work_ns: kib.saturating_mul(per_kib), memory_bytes: kib.saturating_mul(1024) }
    }
}

/// Argon2id of `password` with `salt` (at least 8 bytes), within a budget of its own.
pub fn argon2id(password: &[u8], salt: &[u8], params: Argon2Params) -> Result<Key, Error> {
    argon2id_within(password, salt, params, &mut KdfBudget::per_file())
}

/// [`argon2id`], charged to `budget`.
pub fn argon2id_within(
    password: &[u8],
    salt: &[u8],
    params: Argon2Params,
    budget: &mut KdfBudget,
) -> Result<Key, Error> {
    if !params.within_bounds() {
        return Err(Error::KdfParameters("Argon2 parameters out of bounds"));
    }
    budget.charge(params.cost())?;
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
    /// Most parallelism a file may name (work grows linearly with it).
    pub const MAX_P: u32 = 16;

    /// From N as a number (a power of two from 2 up), as files store it.
    pub fn from_n(n: u64, r: u32, p: u32) -> Result<Self, Error> {
        if n < 2 || !n.is_power_of_two() {
            return Err(Error::KdfParameters("scrypt N is not a power of two"));
        }
        let params = Self { log_n: n.trailing_zeros() as u8, r, p };
        if !params.within_bounds() {
            return Err(Error::KdfParameters("scrypt r or p out of bounds"));
        }
        Ok(params)
    }

    /// Whether N is below 2^64 and r, p are at least 1 (p at most [`Self::MAX_P`]). Whether
    /// the work fits is for [`KdfBudget`] to say.
    pub fn within_bounds(&self) -> bool {
        self.log_n >= 1 && self.log_n < 64 && self.r >= 1 && (1..=Self::MAX_P).contains(&self.p)
    }

    /// The price of one derivation: N·r·p block operations; memory of 128·r·N bytes (the
    /// table), 128·r·p (the blocks) and 256·r (scratch).
    pub fn cost(&self) -> KdfCost {
        let n = 1u64.checked_shl(u32::from(self.log_n)).unwrap_or(u64::MAX);
        let (r, p) = (u64::from(self.r), u64::from(self.p));
        let blocks = n.saturating_mul(r).saturating_mul(p);
        let memory = 128u64.saturating_mul(r).saturating_mul(n.saturating_add(p).saturating_add(2));
        KdfCost { work_ns: blocks.saturating_mul(SCRYPT_NS_PER_BLOCK), memory_bytes: memory }
    }
}

/// scrypt of `password` with `salt`, within a budget of its own.
pub fn scrypt(password: &[u8], salt: &[u8], params: ScryptParams) -> Result<Key, Error> {
    scrypt_within(password, salt, params, &mut KdfBudget::per_file())
}

/// [`scrypt`], charged to `budget`.
pub fn scrypt_within(password: &[u8], salt: &[u8], params: ScryptParams, budget: &mut KdfBudget) -> Result<Key, Error> {
    if !params.within_bounds() {
        return Err(Error::KdfParameters("scrypt parameters out of bounds"));
    }
    budget.charge(params.cost())?;
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
    fn malformed_parameters_are_refused_before_any_work() {
        assert!(matches!(pbkdf2_sha256(b"p", b"salt", 0), Err(Error::KdfParameters(_))));
        let greedy = Argon2Params { memory_kib: 64 * 1024 * 1024, iterations: 1, parallelism: 1 };
        assert!(matches!(argon2id(b"p", b"saltsalt", greedy), Err(Error::KdfParameters(_))));
        assert!(ScryptParams::from_n(3, 8, 1).is_err());
        assert!(ScryptParams::from_n(1 << 15, 8, 17).is_err());
        assert!(ScryptParams::from_n(1 << 15, 0, 1).is_err());
        assert!(matches!(scrypt(b"p", b"s", ScryptParams { log_n: 64, r: 8, p: 1 }), Err(Error::KdfParameters(_))));
    }

    fn too_costly<T: std::fmt::Debug>(result: Result<T, Error>) -> bool {
        matches!(result, Err(Error::TooCostly { .. }))
    }

    #[test]
    fn derivations_beyond_the_budget_are_refused_before_any_work() {
        // Each of these would run for minutes or take gigabytes: refused at once.
        assert!(too_costly(pbkdf2_sha256(b"p", b"salt", u32::MAX)));
        assert!(too_costly(pbkdf2_sha256(b"p", b"salt", MAX_PBKDF2_ITERATIONS + 1)));
        let argon_max = Argon2Params { memory_kib: 1024 * 1024, iterations: 64, parallelism: 16 };
        assert!(too_costly(argon2id(b"p", b"saltsalt", argon_max)));
        let argon_long = Argon2Params { memory_kib: 64 * 1024, iterations: 64, parallelism: 1 };
        assert!(too_costly(argon2id(b"p", b"saltsalt", argon_long)));
        assert!(too_costly(scrypt(b"p", b"s", ScryptParams::from_n(1 << 18, 8, 1).unwrap())), "256 MiB");
        assert!(too_costly(scrypt(b"p", b"s", ScryptParams::from_n(1 << 16, 8, 16).unwrap())), "priced 3.1 s");
        assert!(too_costly(scrypt(b"p", b"s", ScryptParams { log_n: 40, r: 8, p: 1 })));
        match pbkdf2_sha256(b"p", b"salt", u32::MAX) {
            Err(e) => assert!(e.to_string().starts_with("too costly to open"), "{e}"),
            Ok(_) => unreachable!(),
        }
    }

    #[test]
    fn the_budget_is_spent_over_all_derivations_charged_to_it() {
        let aegis = ScryptParams::from_n(1 << 15, 8, 1).unwrap();
        assert!(aegis.cost().work_ns < 200_000_000, "Aegis' own parameters cost {:?}", aegis.cost());
        let mut budget = KdfBudget::per_file();
        let mut charged = 0;
        while budget.charge(aegis.cost()).is_ok() {
            charged += 1;
        }
        assert_eq!(charged, KdfBudget::WORK_NS / aegis.cost().work_ns, "as many slots as fit in 2 s");
        assert!(too_costly(scrypt_within(b"p", b"s", aegis, &mut budget)), "the next one is refused");
        // This app's own defaults fit many times over.
        let ours = Argon2Params::default().cost();
        assert!(ours.work_ns * 4 < KdfBudget::WORK_NS && ours.memory_bytes == 64 << 20, "{ours:?}");
        assert!(KdfCost::pbkdf2(crate::vault::PASSPHRASE_ITERATIONS).work_ns * 4 < KdfBudget::WORK_NS);
    }

    #[test]
    fn pbkdf2_sha1_and_sha512_match_reference_vectors_and_are_charged() {
        // RFC 6070 (SHA-1, 4096 iterations) and its SHA-512 counterpart, first 32 bytes.
        let mut budget = KdfBudget::per_file();
        let sha1 = pbkdf2_within(Pbkdf2Hash::Sha1, b"password", b"salt", 4096, &mut budget).unwrap();
        assert_eq!(hex::encode(&sha1.expose()[..20]), "4b007901b765489abead49d926f721d065a429c1");
        let sha512 = pbkdf2_within(Pbkdf2Hash::Sha512, b"password", b"salt", 1, &mut budget).unwrap();
        assert_eq!(hex::encode(sha512.expose()), "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252");
        assert_eq!(budget.spent_ns, 4096 * PBKDF2_SHA1_NS_PER_ITERATION + PBKDF2_SHA512_NS_PER_ITERATION);
        assert!(too_costly(pbkdf2_within(Pbkdf2Hash::Sha512, b"p", b"s", MAX_PBKDF2_ITERATIONS, &mut budget)));
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
