//! andOTP backups: plain JSON, and its two encrypted formats.
//!
//! A plain backup is a JSON array of entries (`secret` in base32, `issuer`, `label`, `type`,
//! `algorithm`, `digits`, `period` or `counter`). Encrypted backups carry that JSON under
//! AES-256-GCM and have no header to tell them apart:
//!
//! - new format: `iterations (u32, big-endian) ‖ salt (12) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`,
//!   the key PBKDF2-HMAC-SHA1 of the password (as Aegis's `AndOtpImporter` reads it);
//! - old format: `nonce (12) ‖ ciphertext ‖ tag (16)`, the key the SHA-256 of the password.
//!
//! Both are tried: the new one first when its iteration count fits the [`KdfBudget`] (charged
//! before any work), then the old one. andOTP draws its iteration count between 140,000 and
//! 160,000: a file whose header says so is an andOTP backup, and a password that opens neither
//! format is [`Error::WrongPassword`]. Any other binary file can only be an old-format backup,
//! which has no header at all: when the password does not open it, it cannot be told from a
//! file of another kind, and is [`Error::UnknownImportFormat`]. Entries of old-format backups have no `issuer` and a label
//! `"Issuer - Issuer:Name"`: it is split into issuer and name.

use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

use super::{ImportEntry, json_error, loose_entry, loose_text};
use crate::error::{Error, Result};
use domain::otp::{LooseParams, Secret};
use storage::crypto::kdf::{self, KdfBudget, Pbkdf2Hash};
use storage::crypto::{self, NONCE_LEN, TAG_LEN};

const ITERATIONS_LEN: usize = 4;
const SALT_LEN: usize = 12;
/// The new format's header: iterations and salt.
const HEADER_LEN: usize = ITERATIONS_LEN + SALT_LEN;
/// The iteration counts andOTP draws from for its backups.
const ANDOTP_ITERATIONS: std::ops::RangeInclusive<u32> = 140_000..=160_000;

/// One entry, its fields still loose: a bad field refuses this entry only.
#[derive(Deserialize)]
struct Entry {
    secret: Option<String>,
    issuer: Option<String>,
    label: Option<String>,
    #[serde(rename = "type")]
    kind: Option<Value>,
    algorithm: Option<Value>,
    digits: Option<Value>,
    period: Option<Value>,
    counter: Option<Value>,
}

/// Whether `bytes` are a plain andOTP backup: a JSON array of objects with a `secret`.
pub fn is_plain(json: &Value) -> bool {
    json.as_array().is_some_and(|a| a.first().is_some_and(|e| e.get("secret").is_some() && e.get("type").is_some()))
}

/// Whether `bytes` could be an encrypted andOTP backup: binary (not text) and long enough for a
/// nonce and a tag. There is no header to check.
pub fn could_be_encrypted(bytes: &[u8]) -> bool {
    bytes.len() > NONCE_LEN + TAG_LEN && std::str::from_utf8(bytes).is_err()
}

/// Reads a plain andOTP backup.
pub fn parse_plain(bytes: &[u8]) -> Result<Vec<ImportEntry>> {
    let entries: Vec<Value> = super::typed(bytes).map_err(|e| json_error("the andOTP backup", &e))?;
    Ok(entries.iter().enumerate().map(|(i, e)| entry_of(i, e)).collect())
}

/// Reads an encrypted andOTP backup (either format) with `password`.
pub fn parse_encrypted(bytes: &[u8], password: Option<&str>) -> Result<Vec<ImportEntry>> {
    if !could_be_encrypted(bytes) {
        return Err(Error::InvalidImport("the file is too short to be an encrypted andOTP backup".into()));
    }
    // The new format's derivation is priced before the password is asked for.
    let iterations = new_format_iterations(bytes);
    if let Some(iterations) = iterations {
        KdfBudget::per_file().charge(kdf::KdfCost::pbkdf2_with(Pbkdf2Hash::Sha1, iterations))?;
    }
    let password = password.ok_or(Error::PasswordRequired)?;
    let looks_new = iterations.is_some_and(|i| ANDOTP_ITERATIONS.contains(&i));
    let refusal = if looks_new { Error::WrongPassword } else { Error::UnknownImportFormat };
    let plaintext = decrypt(bytes, iterations, password)?.ok_or(refusal)?;
    parse_plain(&plaintext)
}

/// The iteration count of the new format's header, when it is one andOTP could have written
/// and the file is long enough for that format.
fn new_format_iterations(bytes: &[u8]) -> Option<u32> {
    let header: [u8; ITERATIONS_LEN] = bytes.get(..ITERATIONS_LEN)?.try_into().ok()?;
    let iterations = u32::from_be_bytes(header);
    ((1..=kdf::MAX_PBKDF2_ITERATIONS).contains(&iterations) && bytes.len() > HEADER_LEN + NONCE_LEN + TAG_LEN)
        .then_some(iterations)
}

fn decrypt(bytes: &[u8], iterations: Option<u32>, password: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
    if let Some(iterations) = iterations {
        let salt = &bytes[ITERATIONS_LEN..HEADER_LEN];
        let key =
            kdf::pbkdf2_within(Pbkdf2Hash::Sha1, password.as_bytes(), salt, iterations, &mut KdfBudget::per_file())?;
        let (nonce, sealed) = bytes[HEADER_LEN..].split_at(NONCE_LEN);
        if let Some(plaintext) = crypto::open_detached(key.expose(), nonce, sealed, &[]) {
            return Ok(Some(plaintext));
        }
    }
    // The old format: a plain hash of the password as the key (andOTP's choice, not ours).
    let key = Zeroizing::new(crypto::sha256(password.as_bytes()));
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    Ok(crypto::open_detached(&key[..], nonce, sealed, &[]))
}

fn entry_of(index: usize, value: &Value) -> ImportEntry {
    let entry: Entry = match serde_json::from_value(value.clone()) {
        Ok(entry) => entry,
        Err(e) => return ImportEntry::refused(format!("entry {}", index + 1), json_error("the entry", &e).to_string()),
    };
    let label = entry.label.as_deref().unwrap_or_default();
    let (issuer, label) = match entry.issuer.as_deref() {
        Some(issuer) => (issuer, label),
        // Old backups: "Issuer - Name", where Name may again start with "Issuer:".
        None => match label.split_once(" - ") {
            Some((issuer, name)) => {
                (issuer, name.strip_prefix(issuer).and_then(|n| n.strip_prefix(':')).unwrap_or(name))
            }
            None => ("", label),
        },
    };
    let secret = match entry.secret.as_deref() {
        Some(secret) => Secret::from_base32(secret).map_err(|e| e.to_string()),
        None => Err(domain::AccountError::MissingSecret.to_string()),
    };
    let loose = LooseParams {
        kind: loose_text(entry.kind.as_ref()),
        algorithm: loose_text(entry.algorithm.as_ref()),
        digits: loose_text(entry.digits.as_ref()),
        period: loose_text(entry.period.as_ref()),
        counter: loose_text(entry.counter.as_ref()),
    };
    loose_entry(index, issuer, label, secret, &loose)
}
