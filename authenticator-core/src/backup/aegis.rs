//! Aegis JSON exports, plain and password-encrypted.
//!
//! An Aegis vault file (`version` 1) has a `header` and a `db`. Plain exports have
//! `header.slots == null` and `db` as an object; encrypted ones have `db` as base64 ciphertext and
//! key slots in the header. A password slot (type 1) holds the master key, encrypted with
//! AES-256-GCM under a key derived from the password with scrypt; the master key then opens `db`
//! with AES-256-GCM and `header.params`. Other slot types (biometric, raw) are skipped: their keys
//! live in the exporting phone's keystore.

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::{ImportEntry, display_name};
use crate::account::{AccountData, clean_text};
use crate::error::{Error, Result};
use crate::otp::{Algorithm, OtpParams, Secret, truncated};
use crate::uri::UriError;

/// The only vault file version Aegis has written so far.
const VAULT_VERSION: u64 = 1;
/// Slot type of a password slot.
const PASSWORD_SLOT: u64 = 1;
/// Largest scrypt memory accepted (128·N·r bytes). Aegis uses N=2^15, r=8 (32 MiB); a hostile
/// file could otherwise ask for terabytes and abort the process on allocation.
const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;
/// Largest scrypt parallelism accepted (work grows linearly with it; Aegis uses 1).
const MAX_SCRYPT_P: u32 = 16;

/// Reads an Aegis export; encrypted vaults need `password`.
pub fn parse(bytes: &[u8], password: Option<&str>) -> Result<Vec<ImportEntry>> {
    let file: Value = serde_json::from_slice(strip_bom(bytes)).map_err(|e| invalid(format!("not JSON ({e})")))?;
    let file = file.as_object().ok_or_else(|| invalid("the file is not a JSON object"))?;
    match file.get("version").and_then(Value::as_u64) {
        Some(VAULT_VERSION) => {}
        Some(v) => return Err(invalid(format!("unsupported Aegis vault version {v}"))),
        None => return Err(invalid("the vault has no version")),
    }
    let header = file.get("header").and_then(Value::as_object).ok_or_else(|| invalid("the vault has no header"))?;
    let db = file.get("db").ok_or_else(|| invalid("the vault has no db"))?;
    match header.get("slots") {
        None | Some(Value::Null) => {
            let db = db.as_object().ok_or_else(|| invalid("the db of an unencrypted vault is not an object"))?;
            entries(db)
        }
        Some(Value::Array(slots)) => {
            let password = password.ok_or(Error::PasswordRequired)?;
            let ciphertext = db.as_str().ok_or_else(|| invalid("the db of an encrypted vault is not a string"))?;
            let plaintext = decrypt(header, slots, ciphertext, password)?;
            let db: Value = serde_json::from_slice(&plaintext)
                .map_err(|e| invalid(format!("the decrypted db is not JSON ({e})")))?;
            entries(db.as_object().ok_or_else(|| invalid("the decrypted db is not an object"))?)
        }
        Some(_) => Err(invalid("header.slots is neither null nor a list")),
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidImport(reason.into())
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

/// Opens the master key with the first password slot `password` fits, then the db with it.
fn decrypt(header: &Map<String, Value>, slots: &[Value], db: &str, password: &str) -> Result<Zeroizing<Vec<u8>>> {
    let params = header.get("params").ok_or_else(|| invalid("the header has no params"))?;
    let (db_nonce, db_tag) =
        nonce_and_tag(params).ok_or_else(|| invalid("header.params has no valid nonce and tag"))?;
    let mut db_ciphertext = Zeroizing::new(base64_decode(db).ok_or_else(|| invalid("the db is not base64"))?);

    let password_slots: Vec<&Value> =
        slots.iter().filter(|s| s.get("type").and_then(Value::as_u64) == Some(PASSWORD_SLOT)).collect();
    if password_slots.is_empty() {
        return Err(invalid("the vault has no password slot (it is locked with biometrics only)"));
    }
    let mut master_key = None;
    for slot in password_slots {
        let slot = PasswordSlot::read(slot)?;
        if let Some(key) = slot.open(password)? {
            master_key = Some(key);
            break;
        }
    }
    let master_key = master_key.ok_or(Error::WrongPassword)?;

    db_ciphertext.extend_from_slice(&db_tag);
    // The password opened the master key: a db that does not open was damaged or modified.
    let plaintext = aes_gcm_open(&master_key, &db_nonce, &mut db_ciphertext)
        .ok_or_else(|| invalid("the encrypted db is damaged or was modified"))?;
    Ok(Zeroizing::new(plaintext.to_vec()))
}

/// A password slot: the scrypt parameters and the encrypted master key.
struct PasswordSlot {
    log_n: u8,
    r: u32,
    p: u32,
    salt: Vec<u8>,
    key: Vec<u8>,
    nonce: Vec<u8>,
    tag: Vec<u8>,
}

impl PasswordSlot {
    fn read(slot: &Value) -> Result<Self> {
        let bad = |what: &str| invalid(format!("a password slot has no valid {what}"));
        let int = |name: &str| slot.get(name).and_then(Value::as_u64).ok_or_else(|| bad(name));
        let n = int("n")?;
        let r = u32::try_from(int("r")?).map_err(|_| bad("r"))?;
        let p = u32::try_from(int("p")?).map_err(|_| bad("p"))?;
        if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
            return Err(invalid("a password slot has invalid scrypt parameters"));
        }
        if n.saturating_mul(u64::from(r)).saturating_mul(128) > MAX_SCRYPT_MEMORY || p > MAX_SCRYPT_P {
            return Err(invalid(format!("the scrypt parameters ask for too much work (N={n}, r={r}, p={p})")));
        }
        let hex_field =
            |name: &str| slot.get(name).and_then(Value::as_str).and_then(hex_decode).ok_or_else(|| bad(name));
        let salt = hex_field("salt")?;
        let key = hex_field("key")?;
        let (nonce, tag) =
            slot.get("key_params").and_then(nonce_and_tag).ok_or_else(|| bad("key_params (nonce and tag)"))?;
        Ok(Self { log_n: n.trailing_zeros() as u8, r, p, salt, key, nonce, tag })
    }

    /// The master key, or `None` when `password` does not open this slot.
    fn open(&self, password: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let params = scrypt::Params::new(self.log_n, self.r, self.p, 32)
            .map_err(|_| invalid("a password slot has invalid scrypt parameters"))?;
        let mut derived = Zeroizing::new([0u8; 32]);
        scrypt::scrypt(password.as_bytes(), &self.salt, &params, derived.as_mut())
            .map_err(|_| Error::Crypto("scrypt failed"))?;
        let mut sealed = Zeroizing::new(self.key.clone());
        sealed.extend_from_slice(&self.tag);
        Ok(aes_gcm_open(derived.as_ref(), &self.nonce, &mut sealed).map(|key| Zeroizing::new(key.to_vec())))
    }
}

/// `{ "nonce": hex, "tag": hex }` as Aegis writes key and db parameters.
fn nonce_and_tag(params: &Value) -> Option<(Vec<u8>, Vec<u8>)> {
    let nonce = hex_decode(params.get("nonce")?.as_str()?)?;
    let tag = hex_decode(params.get("tag")?.as_str()?)?;
    (nonce.len() == 12 && tag.len() == 16).then_some((nonce, tag))
}

/// AES-256-GCM: decrypts `sealed` (ciphertext then 16-byte tag) in place; `None` when the key,
/// nonce or data do not fit or authentication fails.
fn aes_gcm_open<'a>(key: &[u8], nonce: &[u8], sealed: &'a mut [u8]) -> Option<&'a mut [u8]> {
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    key.open_in_place(nonce, Aad::empty(), sealed).ok()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.trim().as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes.chunks_exact(2).map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?)).collect()
}

/// Standard base64 as Aegis writes it (Java), tolerating missing padding and line breaks.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    ENGINE.decode(compact).ok()
}

/// The entries of a decrypted or plain db.
fn entries(db: &Map<String, Value>) -> Result<Vec<ImportEntry>> {
    let list = db.get("entries").and_then(Value::as_array).ok_or_else(|| invalid("the db has no entries list"))?;
    // Newer vaults (db version 3) keep groups in a list and refer to them by uuid.
    let groups: Vec<(&str, &str)> = db
        .get("groups")
        .and_then(Value::as_array)
        .map(|groups| {
            groups.iter().filter_map(|g| Some((g.get("uuid")?.as_str()?, g.get("name")?.as_str()?))).collect()
        })
        .unwrap_or_default();
    Ok(list.iter().enumerate().map(|(i, entry)| entry_of(i, entry, &groups)).collect())
}

fn entry_of(index: usize, entry: &Value, groups: &[(&str, &str)]) -> ImportEntry {
    let text = |name: &str| entry.get(name).and_then(Value::as_str).map(clean_text).unwrap_or_default();
    let (issuer, label) = (text("issuer"), text("name"));
    let mut name = display_name(&issuer, &label);
    if name.is_empty() {
        name = format!("entry {}", index + 1);
    }
    match account_of(entry, issuer, label, groups) {
        Ok(account) => ImportEntry { name, outcome: Ok(account) },
        Err(reason) => ImportEntry::refused(name, reason),
    }
}

fn account_of(
    entry: &Value,
    issuer: String,
    label: String,
    groups: &[(&str, &str)],
) -> std::result::Result<AccountData, String> {
    let kind = entry.get("type").and_then(Value::as_str).ok_or("the entry has no type")?;
    let info = entry.get("info").and_then(Value::as_object).ok_or("the entry has no info")?;
    let secret = info.get("secret").and_then(Value::as_str).ok_or(UriError::MissingSecret.to_string())?;
    let secret = Secret::from_base32(secret).map_err(|e| e.to_string())?;
    let algorithm = || -> std::result::Result<Algorithm, String> {
        match info.get("algo") {
            None | Some(Value::Null) => Ok(Algorithm::Sha1),
            Some(Value::String(a)) => a.parse().map_err(|e: UriError| e.to_string()),
            Some(other) => Err(UriError::UnknownAlgorithm(truncated(&other.to_string())).to_string()),
        }
    };
    let digits = || -> std::result::Result<u8, String> {
        match info.get("digits") {
            None | Some(Value::Null) => Ok(6),
            Some(d) => d
                .as_u64()
                .and_then(|d| u8::try_from(d).ok())
                .ok_or_else(|| UriError::InvalidDigits(truncated(&d.to_string())).to_string()),
        }
    };
    let params = match kind.to_ascii_lowercase().as_str() {
        "totp" => {
            let period = match info.get("period") {
                None | Some(Value::Null) => 30,
                Some(p) => p
                    .as_u64()
                    .and_then(|p| u32::try_from(p).ok())
                    .ok_or_else(|| UriError::InvalidPeriod(truncated(&p.to_string())).to_string())?,
            };
            OtpParams::totp(algorithm()?, digits()?, period)
        }
        "hotp" => {
            let counter = match info.get("counter") {
                None | Some(Value::Null) => return Err(UriError::MissingCounter.to_string()),
                Some(c) => c.as_u64().ok_or_else(|| UriError::InvalidCounter(truncated(&c.to_string())).to_string())?,
            };
            OtpParams::hotp(algorithm()?, digits()?, counter)
        }
        "steam" => Ok(OtpParams::steam()),
        other => return Err(format!("unsupported token type '{}'", truncated(other))),
    }
    .map_err(|e| e.to_string())?;
    Ok(AccountData { issuer, label, params, secret, group: group_of(entry, groups) })
}

/// The entry's group: the first of its `groups` uuids that names a group (db version 3), or the
/// `group` string of older vaults.
fn group_of(entry: &Value, groups: &[(&str, &str)]) -> Option<String> {
    let by_uuid = entry.get("groups").and_then(Value::as_array).and_then(|uuids| {
        uuids.iter().filter_map(Value::as_str).find_map(|uuid| groups.iter().find(|(u, _)| *u == uuid).map(|g| g.1))
    });
    let name = by_uuid.or_else(|| entry.get("group").and_then(Value::as_str))?;
    Some(clean_text(name)).filter(|g| !g.is_empty())
}
