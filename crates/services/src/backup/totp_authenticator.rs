//! TOTP Authenticator (com.authenticator.authservice2): its encrypted backup and its internal
//! preferences.
//!
//! - Backup (`.bin`): base64 text of AES-256-CBC (zero IV, PKCS#7) under the SHA-256 of the
//!   password (the app's choice: no salt, no stretching, so no [`storage::crypto::kdf::KdfBudget`]
//!   work to charge), as Aegis's `TotpAuthenticatorImporter` reads it. Backups made without a
//!   password use the app's built-in one, tried first when no password is given. The
//!   plaintext is a JSON object whose first member's *name* is the JSON list of accounts.
//! - Internal preferences (`shared_prefs/TOTP_Authenticator_Preferences.xml`, rooted phone or
//!   device backup): the same list, in the string `STATIC_TOTP_CODES_LIST`.
//!
//! Accounts are TOTP SHA-1. Their `key` is hex, base32 or base64 as `base` says; `digits` and
//! `period` are read when the file has them (Aegis ignores them and uses 6 and 30, but the app
//! stores what the user chose, and codes must match the app's).

use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

use super::{ImportEntry, json_error, loose_entry, loose_text};
use crate::backup::codec::prefs;
use crate::error::{Error, Result};
use domain::otp::{LooseParams, Secret};
use storage::crypto::{self, CBC_IV_LEN};

/// The preference holding the accounts.
pub const PREF_KEY: &str = "STATIC_TOTP_CODES_LIST";
/// The password the app encrypts with when the user sets none (public: it is in the app).
const BUILT_IN_PASSWORD: &str = "TotpAuthenticator";

/// One account, its fields still loose: a bad field refuses this account only.
#[derive(Deserialize)]
struct Account {
    issuer: Option<String>,
    name: Option<String>,
    key: Option<String>,
    base: Option<Value>,
    digits: Option<Value>,
    period: Option<Value>,
}

/// Whether `text` looks like a backup: base64 of a whole number of AES blocks, nothing else.
pub fn looks_like_backup(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    compact.len() >= 24
        && compact.len().is_multiple_of(4)
        && compact.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        && (compact.len() / 4 * 3 - compact.chars().rev().take_while(|&c| c == '=').count()).is_multiple_of(CBC_IV_LEN)
}

/// Whether `prefs` are TOTP Authenticator's internal preferences.
pub fn is_internal(prefs: &prefs::Prefs) -> bool {
    prefs.string(PREF_KEY).is_some()
}

/// Reads an encrypted backup with `password`, or with the app's built-in one when none is
/// given (and asks for one when that does not open it).
pub fn parse_backup(bytes: &[u8], password: Option<&str>) -> Result<Vec<ImportEntry>> {
    use base64::Engine;
    let text = std::str::from_utf8(bytes).map_err(|_| invalid("the backup is not base64 text"))?;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| invalid("the backup is not base64 text"))?;
    let plaintext = match password {
        Some(password) => decrypt(&ciphertext, password).ok_or(Error::WrongPassword)?,
        None => decrypt(&ciphertext, BUILT_IN_PASSWORD).ok_or(Error::PasswordRequired)?,
    };
    let object: serde_json::Map<String, Value> =
        super::typed(&plaintext).map_err(|e| json_error("the decrypted backup", &e))?;
    let list = object.keys().next().ok_or_else(|| invalid("the decrypted backup holds no accounts"))?;
    parse_list(list)
}

/// Reads the app's internal preferences.
pub fn parse_internal(bytes: &[u8]) -> Result<Vec<ImportEntry>> {
    let prefs = prefs::parse(bytes).map_err(|e| invalid(format!("the preferences are not valid XML: {e}")))?;
    let list = prefs.string(PREF_KEY).ok_or_else(|| invalid(format!("the preferences have no {PREF_KEY}")))?;
    parse_list(list)
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidImport(reason.into())
}

/// The plaintext under `password`, when the padding is valid and it is a JSON object (CBC
/// authenticates nothing: this is how a wrong password shows).
fn decrypt(ciphertext: &[u8], password: &str) -> Option<Zeroizing<Vec<u8>>> {
    let key = Zeroizing::new(crypto::sha256(password.as_bytes()));
    let plaintext = crypto::aes256_cbc_decrypt(&key[..], &[0; CBC_IV_LEN], ciphertext)?;
    plaintext.starts_with(b"{").then_some(plaintext)
}

/// The accounts' list: JSON objects, or JSON strings each holding one.
fn parse_list(list: &str) -> Result<Vec<ImportEntry>> {
    let items: Vec<Value> = super::typed(list.as_bytes()).map_err(|e| json_error("the list of accounts", &e))?;
    Ok(items.iter().enumerate().map(|(i, item)| entry_of(i, item)).collect())
}

fn entry_of(index: usize, item: &Value) -> ImportEntry {
    let parsed = match item {
        Value::String(text) => super::typed::<Account>(text.as_bytes()),
        other => serde_json::from_value::<Account>(other.clone()),
    };
    let account = match parsed {
        Ok(account) => account,
        Err(e) => {
            return ImportEntry::refused(format!("entry {}", index + 1), json_error("the account", &e).to_string());
        }
    };
    let secret = secret_of(&account);
    let loose = LooseParams {
        kind: Some("totp".into()),
        algorithm: Some("SHA1".into()),
        digits: loose_text(account.digits.as_ref()).filter(|d| !d.trim().is_empty()),
        period: loose_text(account.period.as_ref()).filter(|p| !p.trim().is_empty()),
        counter: None,
    };
    let issuer = account.issuer.as_deref().unwrap_or_default();
    loose_entry(index, issuer, account.name.as_deref().unwrap_or_default(), secret, &loose)
}

fn secret_of(account: &Account) -> std::result::Result<Secret, String> {
    use base64::Engine;
    let key = account.key.as_deref().map(str::trim).ok_or(domain::AccountError::MissingSecret.to_string())?;
    let base = loose_text(account.base.as_ref()).unwrap_or_else(|| "16".into());
    let bytes = match base.trim() {
        "16" => hex::decode(key).map_err(|_| "the key is not hexadecimal".to_owned())?,
        "32" => return Secret::from_base32(key).map_err(|e| e.to_string()),
        "64" => {
            base64::engine::general_purpose::STANDARD.decode(key).map_err(|_| "the key is not base64".to_owned())?
        }
        _ => return Err("the key's encoding (base) is not 16, 32 or 64".into()),
    };
    Secret::from_bytes(bytes).map_err(|e| e.to_string())
}
