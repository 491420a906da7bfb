//! Stratum (formerly Authenticator Pro) backups, and its own database.
//!
//! - Plain backup: JSON `{"Authenticators": [{Type, Issuer, Username, Secret, Algorithm,
//!   Digits, Period, Counter, …}], …}`; `Type` 1 is HOTP, 2 TOTP, 4 Steam (others, mOTP and
//!   Yandex, are refused per entry); `Algorithm` 0, 1, 2 is SHA-1, SHA-256, SHA-512.
//! - Encrypted backup: `"AUTHENTICATORPRO" ‖ salt (16) ‖ iv (12) ‖ ciphertext ‖ tag (16)`,
//!   AES-256-GCM under Argon2id of the password (64 MiB, 3 passes, 4 lanes).
//! - Legacy encrypted backup: `"AuthenticatorPro" ‖ salt (20) ‖ iv (16) ‖ ciphertext`,
//!   AES-256-CBC with PKCS#7 padding under PBKDF2-HMAC-SHA1 of the password (64,000
//!   iterations). CBC authenticates nothing: a wrong password shows as bad padding or as
//!   plaintext that is not the backup's JSON, both [`Error::WrongPassword`].
//! - The app's SQLite database (`authenticator.db3`, from a rooted phone or a device backup):
//!   its `authenticator` table has the same columns. It is read from an in-memory, read-only
//!   copy of the bytes (never opened in place), with the schema distrusted.
//!
//! The key derivations are the ones Aegis's `StratumImporter` documents, charged to a
//! [`KdfBudget`] before any work.

use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

use super::{ImportEntry, json_error, loose_entry, loose_text};
use crate::error::{Error, Result};
use domain::otp::{LooseParams, Secret};
use storage::crypto::kdf::{self, Argon2Params, KdfBudget, Pbkdf2Hash};
use storage::crypto::{self, CBC_IV_LEN, NONCE_LEN, TAG_LEN};

/// Header of the current encrypted format.
pub const HEADER: &[u8] = b"AUTHENTICATORPRO";
/// Header of the legacy encrypted format.
pub const HEADER_LEGACY: &[u8] = b"AuthenticatorPro";
const SALT_LEN: usize = 16;
const ARGON2: Argon2Params = Argon2Params { memory_kib: 64 * 1024, iterations: 3, parallelism: 4 };
const LEGACY_SALT_LEN: usize = 20;
const LEGACY_ITERATIONS: u32 = 64_000;

/// The plain (or decrypted) backup.
#[derive(Deserialize)]
struct Backup {
    #[serde(rename = "Authenticators")]
    authenticators: Vec<Value>,
}

/// One authenticator, its fields still loose: a bad field refuses this entry only.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Authenticator {
    #[serde(rename = "Type")]
    kind: Option<Value>,
    issuer: Option<String>,
    username: Option<String>,
    secret: Option<String>,
    algorithm: Option<Value>,
    digits: Option<Value>,
    period: Option<Value>,
    counter: Option<Value>,
}

/// Whether `json` is a plain Stratum backup.
pub fn is_plain(json: &Value) -> bool {
    json.get("Authenticators").is_some_and(Value::is_array)
}

/// Whether `bytes` are Stratum's SQLite database: a SQLite file whose schema names Stratum's
/// tables (the schema is text on the first page).
pub fn is_database(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    bytes.starts_with(b"SQLite format 3\0") && has(b"\"authenticator\"") && has(b"\"authenticatorcategory\"")
}

/// Reads a plain Stratum backup.
pub fn parse_plain(bytes: &[u8]) -> Result<Vec<ImportEntry>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let backup: Backup = super::typed(bytes).map_err(|e| json_error("the Stratum backup", &e))?;
    Ok(backup.authenticators.iter().enumerate().map(|(i, a)| entry_of(i, a)).collect())
}

/// Reads an encrypted Stratum backup, current or legacy format, with `password`.
pub fn parse_encrypted(bytes: &[u8], password: Option<&str>) -> Result<Vec<ImportEntry>> {
    let too_short = || Error::InvalidImport("the encrypted Stratum backup is too short".into());
    let mut budget = KdfBudget::per_file();
    let plaintext = if let Some(rest) = bytes.strip_prefix(HEADER) {
        if rest.len() < SALT_LEN + NONCE_LEN + TAG_LEN {
            return Err(too_short());
        }
        // Priced before the password is asked for.
        KdfBudget::per_file().charge(ARGON2.cost())?;
        let password = password.ok_or(Error::PasswordRequired)?;
        let (salt, rest) = rest.split_at(SALT_LEN);
        let (iv, sealed) = rest.split_at(NONCE_LEN);
        let key = kdf::argon2id_within(password.as_bytes(), salt, ARGON2, &mut budget)?;
        crypto::open_detached(key.expose(), iv, sealed, &[]).ok_or(Error::WrongPassword)?
    } else if let Some(rest) = bytes.strip_prefix(HEADER_LEGACY) {
        if rest.len() < LEGACY_SALT_LEN + CBC_IV_LEN + CBC_IV_LEN {
            return Err(too_short());
        }
        KdfBudget::per_file().charge(kdf::KdfCost::pbkdf2_with(Pbkdf2Hash::Sha1, LEGACY_ITERATIONS))?;
        let password = password.ok_or(Error::PasswordRequired)?;
        let (salt, rest) = rest.split_at(LEGACY_SALT_LEN);
        let (iv, ciphertext) = rest.split_at(CBC_IV_LEN);
        let key = kdf::pbkdf2_within(Pbkdf2Hash::Sha1, password.as_bytes(), salt, LEGACY_ITERATIONS, &mut budget)?;
        let plaintext = crypto::aes256_cbc_decrypt(key.expose(), iv, ciphertext).ok_or(Error::WrongPassword)?;
        // Unauthenticated: valid padding under a wrong key happens (1 in 256); what comes out
        // is then not the backup's JSON.
        if !plaintext.starts_with(b"{") {
            return Err(Error::WrongPassword);
        }
        plaintext
    } else {
        return Err(Error::InvalidImport("not an encrypted Stratum backup".into()));
    };
    parse_plain(&plaintext)
}

/// Reads Stratum's SQLite database from its bytes.
pub fn parse_database(bytes: &[u8]) -> Result<Vec<ImportEntry>> {
    let db = |_: rusqlite::Error| Error::InvalidImport("the Stratum database cannot be read".into());
    // An in-memory copy: the user's file is never opened, written or journaled. A database
    // in WAL mode is read as a rollback-journal one (bytes 18 and 19 of the header); whatever
    // sits in a -wal file beside it was not handed over and is not read.
    let mut copy = Zeroizing::new(bytes.to_vec());
    if copy.len() >= 20 && copy[18] == 2 && copy[19] == 2 {
        copy[18] = 1;
        copy[19] = 1;
    }
    let mut conn = rusqlite::Connection::open_in_memory().map_err(db)?;
    // The schema comes from the file: no function or view it defines may run.
    conn.execute_batch("PRAGMA trusted_schema = OFF;").map_err(db)?;
    conn.deserialize_read_exact(rusqlite::MAIN_DB, &copy[..], copy.len(), true).map_err(db)?;
    conn.execute_batch("PRAGMA query_only = ON; PRAGMA cell_size_check = ON;").map_err(db)?;
    let mut statement = conn
        .prepare(
            "SELECT type, issuer, username, secret, algorithm, digits, period, counter \
             FROM main.authenticator ORDER BY ranking, rowid",
        )
        .map_err(db)?;
    let rows = statement
        .query_map([], |row| {
            let text = |i: usize| -> rusqlite::Result<Option<String>> {
                Ok(match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => None,
                    rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                    rusqlite::types::ValueRef::Real(r) => Some(r.to_string()),
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        Some(String::from_utf8_lossy(t).into_owned())
                    }
                })
            };
            let number = |i: usize| -> rusqlite::Result<Option<Value>> { Ok(text(i)?.map(Value::String)) };
            Ok(Authenticator {
                kind: number(0)?,
                issuer: text(1)?,
                username: text(2)?,
                secret: text(3)?,
                algorithm: number(4)?,
                digits: number(5)?,
                period: number(6)?,
                counter: number(7)?,
            })
        })
        .map_err(db)?;
    let mut entries = Vec::new();
    for (index, row) in rows.enumerate() {
        entries.push(match row {
            Ok(authenticator) => entry_from(index, &authenticator),
            Err(_) => ImportEntry::refused(format!("entry {}", index + 1), "the row cannot be read"),
        });
    }
    Ok(entries)
}

fn entry_of(index: usize, value: &Value) -> ImportEntry {
    match serde_json::from_value::<Authenticator>(value.clone()) {
        Ok(authenticator) => entry_from(index, &authenticator),
        Err(e) => ImportEntry::refused(format!("entry {}", index + 1), json_error("the entry", &e).to_string()),
    }
}

fn entry_from(index: usize, a: &Authenticator) -> ImportEntry {
    let issuer = a.issuer.as_deref().unwrap_or_default();
    let label = a.username.as_deref().unwrap_or_default();
    let kind = loose_text(a.kind.as_ref());
    let kind = match kind.as_deref().map(str::trim) {
        Some("1") => Ok("hotp"),
        Some("2") => Ok("totp"),
        Some("4") => Ok("steam"),
        Some("3") => Err("mOTP accounts are not supported".to_owned()),
        Some("5") => Err("Yandex accounts are not supported".to_owned()),
        _ => Err("the entry's type is not one Stratum writes".to_owned()),
    };
    let algorithm = match loose_text(a.algorithm.as_ref()).as_deref().map(str::trim) {
        None | Some("0") => Ok("SHA1"),
        Some("1") => Ok("SHA256"),
        Some("2") => Ok("SHA512"),
        Some(_) => Err("the entry's algorithm is not one Stratum writes".to_owned()),
    };
    let secret = kind.clone().and(algorithm.clone()).and_then(|_| match a.secret.as_deref() {
        Some(secret) => Secret::from_base32(secret).map_err(|e| e.to_string()),
        None => Err(domain::AccountError::MissingSecret.to_string()),
    });
    let loose = LooseParams {
        kind: kind.ok().map(str::to_owned),
        algorithm: algorithm.ok().map(str::to_owned),
        digits: loose_text(a.digits.as_ref()),
        period: loose_text(a.period.as_ref()),
        counter: loose_text(a.counter.as_ref()),
    };
    loose_entry(index, issuer, label, secret, &loose)
}
