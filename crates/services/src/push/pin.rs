//! The PIN that locks a push token's private key: how it seals the key, and the attempt policy.
//!
//! The key (PKCS#8) is sealed under a key derived from the PIN with Argon2id ([`PIN_KDF`]: 64 MiB,
//! so every guess costs that memory and about a third of a second, also offline), and that seal
//! is what the vault stores (sealed again under the data key). Without the PIN the key cannot
//! sign at all. Wrong PINs are counted before each try, atomically in the vault, and lead to
//! growing lockouts that survive restarts. Seals made with PBKDF2 by earlier versions still open,
//! and are re-sealed with Argon2id at the next right PIN.
//!
//! A PIN is any text of [`MIN_PIN_CHARS`] to [`MAX_PIN_CHARS`] characters, digits or a
//! passphrase in any script. Its UTF-8 bytes are used exactly as given: no Unicode
//! normalisation, so a shell whose keyboards may produce different forms of one text (a
//! precomposed `é` or `e` + combining accent) should normalise (NFC) before passing it.

use std::sync::atomic::{AtomicU64, Ordering};

use zeroize::Zeroizing;

use super::keys::DeviceKey;
use crate::error::{Error, Result};
use domain::time::now;
use domain::{PinAttempt, PinKdf, PinSeal};
use storage::crypto::kdf::{Argon2Params, argon2id};
use storage::crypto::{Key, Sealer};
use storage::vault::Vault;

/// How new PIN seals derive their key: Argon2id with 64 MiB, 7 passes, 1 lane (RFC 9106's
/// 64 MiB option, with more passes). One derivation takes 64 MiB and, on the 2-core machine
/// docs/performance.md's figures come from, about 0.3 s (the target is at least 0.25 s; 5 passes measured
/// 0.22 s), for the app and for anyone guessing offline alike.
pub const PIN_KDF: PinKdf = PinKdf::Argon2id { memory_kib: 64 * 1024, passes: 7, lanes: 1 };
/// Wrong PINs in a row before lockouts begin.
pub const PIN_ATTEMPTS: u32 = 5;
/// Shortest PIN accepted, in characters.
pub const MIN_PIN_CHARS: usize = 4;
/// Longest PIN or passphrase accepted, in characters (Unicode scalar values).
pub const MAX_PIN_CHARS: usize = 256;
/// Longest PIN tried at all, in UTF-8 bytes (`MAX_PIN_CHARS` of the widest characters): a longer
/// one cannot be right, and is refused without counting or deriving anything.
const MAX_PIN_BYTES: usize = MAX_PIN_CHARS * 4;
/// Lockout after the 5th, 6th, … wrong PIN in a row, in seconds; the last repeats.
const LOCKOUTS: [i64; 5] = [30, 60, 300, 900, 3600];

/// Seconds of lockout once `attempts` wrong PINs in a row are reached, if any.
fn lockout_after(attempts: u32) -> Option<i64> {
    attempts.checked_sub(PIN_ATTEMPTS).map(|n| LOCKOUTS[(n as usize).min(LOCKOUTS.len() - 1)])
}

/// PINs tried against a seal in this process (each one a full key derivation).
static PIN_CHECKS: AtomicU64 = AtomicU64::new(0);

/// How many PINs this process has tried against a seal, each a full key derivation, right or
/// wrong. Attempts refused by a lockout are not tried and not counted here. For tests that check
/// the attempt limit holds under parallel guessing, and for diagnostics.
pub fn pin_checks() -> u64 {
    PIN_CHECKS.load(Ordering::Relaxed)
}

fn pin_aad(token_id: i64) -> Vec<u8> {
    format!("push_tokens.pin:{token_id}").into_bytes()
}

/// Refuses new PINs shorter than [`MIN_PIN_CHARS`] or longer than [`MAX_PIN_CHARS`].
pub fn check_pin_format(pin: &str) -> Result<()> {
    let chars = pin.chars().count();
    if chars < MIN_PIN_CHARS {
        return Err(Error::WeakPin { min_chars: MIN_PIN_CHARS });
    }
    if chars > MAX_PIN_CHARS {
        return Err(Error::InvalidInput(format!("a PIN can have at most {MAX_PIN_CHARS} characters")));
    }
    Ok(())
}

/// The key a PIN derives under `seal`'s salt and derivation.
fn pin_key(pin: &str, seal: &PinSeal) -> Result<Key> {
    match seal.kdf {
        PinKdf::Pbkdf2 { iterations } => Ok(Key::from_passphrase(pin, &seal.salt, iterations)?),
        PinKdf::Argon2id { memory_kib, passes, lanes } => Ok(argon2id(
            pin.as_bytes(),
            &seal.salt,
            Argon2Params { memory_kib, iterations: passes, parallelism: lanes },
        )?),
    }
}

fn pin_sealer(pin: &str, seal: &PinSeal) -> Result<Sealer> {
    Ok(Sealer::new(&pin_key(pin, seal)?))
}

/// A fresh PIN seal (random salt, [`PIN_KDF`]) for a new or changed PIN.
pub fn new_seal() -> Result<PinSeal> {
    Ok(PinSeal { salt: Key::random_salt()?.to_vec(), kdf: PIN_KDF })
}

/// The blob to store for token `token_id`'s key: the PKCS#8 itself, or its seal under `pin`.
pub fn seal_key(pkcs8: &[u8], pin: Option<(&str, &PinSeal)>, token_id: i64) -> Result<Zeroizing<Vec<u8>>> {
    match pin {
        None => Ok(Zeroizing::new(pkcs8.to_vec())),
        Some((pin, seal)) => Ok(Zeroizing::new(pin_sealer(pin, seal)?.seal(pkcs8, &pin_aad(token_id))?)),
    }
}

/// The token's private key (PKCS#8), unlocked with `pin` when it has one. A wrong PIN is
/// counted before the check; while locked out, no PIN is tried. A right PIN for a seal made
/// with an older derivation (PBKDF2) re-seals the key with [`PIN_KDF`].
pub fn unlock(vault: &Vault, token_id: i64, pin: Option<&str>) -> Result<Zeroizing<Vec<u8>>> {
    let stored = vault.push_key(token_id)?;
    let Some(seal) = stored.pin else { return Ok(stored.key) };
    let pin = pin.ok_or(Error::PinRequired)?;
    if pin.len() > MAX_PIN_BYTES {
        return Err(Error::InvalidInput(format!("a PIN can have at most {MAX_PIN_CHARS} characters")));
    }
    let now = now();
    let attempts = match vault.count_pin_attempt(token_id, now, lockout_after)? {
        PinAttempt::LockedUntil(until) => {
            return Err(Error::LockedOut { retry_after_seconds: until.saturating_sub(now).max(0) as u64 });
        }
        PinAttempt::Counted { attempts } => attempts,
    };
    PIN_CHECKS.fetch_add(1, Ordering::Relaxed);
    match pin_sealer(pin, &seal)?.open(&stored.key, &pin_aad(token_id)) {
        Some(pkcs8) if seal.kdf != PIN_KDF => {
            // An older seal: re-seal at today's cost, which also clears the attempt count. When
            // this returns false the PIN was changed meanwhile, and that change cleared it.
            let upgraded = new_seal()?;
            let blob = seal_key(&pkcs8, Some((pin, &upgraded)), token_id)?;
            vault.upgrade_pin_seal(token_id, &blob, &upgraded, &seal.salt)?;
            Ok(pkcs8)
        }
        Some(pkcs8) => {
            vault.reset_pin_attempts(token_id)?;
            Ok(pkcs8)
        }
        None => match lockout_after(attempts) {
            Some(seconds) => Err(Error::LockedOut { retry_after_seconds: seconds as u64 }),
            None => Err(Error::WrongPin { attempts_left: PIN_ATTEMPTS - attempts }),
        },
    }
}

/// The token's key, ready to sign (see [`unlock`]).
pub fn device_key(vault: &Vault, token_id: i64, pin: Option<&str>) -> Result<DeviceKey> {
    DeviceKey::from_pkcs8(&unlock(vault, token_id, pin)?)
}

/// Sets, changes or removes a token's PIN. `current` must be the PIN in force (if any); `new`
/// None removes the PIN, which a token whose server demands one refuses.
pub fn set_pin(vault: &Vault, token_id: i64, current: Option<&str>, new: Option<&str>) -> Result<()> {
    let token = vault.push_token(token_id)?;
    if new.is_none() && token.pin_required_by_server {
        return Err(Error::PinRequired);
    }
    if let Some(new) = new {
        check_pin_format(new)?;
    }
    let pkcs8 = unlock(vault, token_id, current)?;
    let seal = new.map(|_| new_seal()).transpose()?;
    let blob = seal_key(&pkcs8, new.zip(seal.as_ref()), token_id)?;
    Ok(vault.replace_push_key(token_id, &blob, seal.as_ref())?)
}
