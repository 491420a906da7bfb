//! Aegis JSON exports, plain and password-encrypted.
//!
//! An Aegis vault file (`version` 1) has a `header` and a `db`. Plain exports have
//! `header.slots == null` and `db` as an object; encrypted ones have `db` as base64 ciphertext and
//! key slots in the header. A password slot (type 1) holds the master key, encrypted with
//! AES-256-GCM under a key derived from the password with scrypt; the master key then opens `db`
//! with AES-256-GCM and `header.params`. Other slot types (biometric, raw) are skipped: their keys
//! live in the exporting phone's keystore. A wrong password tries every password slot, so their
//! scrypt work is priced together against one [`KdfBudget`] before any of it is done.

use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

use super::{ImportEntry, display_name, entry_name, json_error, loose_text};
use crate::error::{Error, Result};
use domain::account::{AccountData, Name};
use domain::otp::{LooseParams, OtpParams, Secret};
use domain::text::clean;
use storage::crypto;
use storage::crypto::kdf::{self, KdfBudget};

/// The only vault file version Aegis has written so far.
const VAULT_VERSION: u64 = 1;
/// Slot type of a password slot.
const PASSWORD_SLOT: u64 = 1;

/// The outer file: `db` is an object (plain) or base64 ciphertext (encrypted).
#[derive(Deserialize)]
struct VaultFile {
    version: Option<u64>,
    header: Option<Header>,
    db: Option<Value>,
}

#[derive(Deserialize)]
struct Header {
    /// `null` for a plain vault; key slots for an encrypted one.
    slots: Option<Vec<Value>>,
    params: Option<NonceAndTag>,
}

/// `{ "nonce": hex, "tag": hex }` as Aegis writes key and db parameters.
#[derive(Deserialize)]
struct NonceAndTag {
    #[serde(with = "hex")]
    nonce: Vec<u8>,
    #[serde(with = "hex")]
    tag: Vec<u8>,
}

impl NonceAndTag {
    fn valid(&self) -> bool {
        self.nonce.len() == crypto::NONCE_LEN && self.tag.len() == crypto::TAG_LEN
    }
}

/// A password slot: the scrypt parameters and the encrypted master key.
#[derive(Deserialize)]
struct PasswordSlot {
    n: u64,
    r: u32,
    p: u32,
    #[serde(with = "hex")]
    salt: Vec<u8>,
    #[serde(with = "hex")]
    key: Vec<u8>,
    key_params: NonceAndTag,
}

/// The decrypted (or plain) database.
#[derive(Deserialize)]
struct Db {
    entries: Vec<Value>,
    /// Newer vaults (db version 3) keep groups in a list and refer to them by uuid.
    #[serde(default)]
    groups: Vec<Value>,
}

#[derive(Deserialize)]
struct Group {
    uuid: String,
    name: String,
}

/// One entry, its fields still loose: a bad field refuses this entry only.
#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
    info: Option<Info>,
    #[serde(default)]
    groups: Vec<String>,
    group: Option<String>,
}

#[derive(Deserialize)]
struct Info {
    secret: Option<String>,
    algo: Option<Value>,
    digits: Option<Value>,
    period: Option<Value>,
    counter: Option<Value>,
}

/// Reads an Aegis export; encrypted vaults need `password`.
pub fn parse(bytes: &[u8], password: Option<&str>) -> Result<Vec<ImportEntry>> {
    let file: VaultFile = super::typed(strip_bom(bytes)).map_err(|e| json_error("the vault", &e))?;
    match file.version {
        Some(VAULT_VERSION) => {}
        Some(v) => return Err(invalid(format!("unsupported Aegis vault version {v}"))),
        None => return Err(invalid("the vault has no version")),
    }
    let header = file.header.ok_or_else(|| invalid("the vault has no header"))?;
    let db = file.db.ok_or_else(|| invalid("the vault has no db"))?;
    let db: Db = match header.slots {
        None => serde_json::from_value(db).map_err(|e| json_error("the db of an unencrypted vault", &e))?,
        Some(slots) => {
            let ciphertext = db.as_str().ok_or_else(|| invalid("the db of an encrypted vault is not a string"))?;
            let params = header.params.filter(NonceAndTag::valid);
            let params = params.ok_or_else(|| invalid("header.params has no valid nonce and tag"))?;
            // Every password slot is checked and priced before the password is asked for.
            let slots = password_slots(&slots)?;
            let password = password.ok_or(Error::PasswordRequired)?;
            let plaintext = decrypt(&params, &slots, ciphertext, password)?;
            super::typed(&plaintext).map_err(|e| json_error("the decrypted db", &e))?
        }
    };
    let groups: Vec<Group> = db.groups.into_iter().filter_map(|g| serde_json::from_value(g).ok()).collect();
    Ok(db.entries.iter().enumerate().map(|(i, entry)| entry_of(i, entry, &groups)).collect())
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidImport(reason.into())
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

/// The password slots of `slots` (other types are skipped), each checked, and all of them
/// priced together: a wrong password tries every one, so their scrypt work must fit one
/// [`KdfBudget`] in total, or the file is refused with [`Error::TooCostly`] before any work.
fn password_slots(slots: &[Value]) -> Result<Vec<PasswordSlot>> {
    let slots = slots
        .iter()
        .filter(|s| s.get("type").and_then(Value::as_u64) == Some(PASSWORD_SLOT))
        .map(|slot| {
            let slot: PasswordSlot =
                serde_json::from_value(slot.clone()).map_err(|e| json_error("a password slot", &e))?;
            slot.scrypt_params()?;
            if !slot.key_params.valid() {
                return Err(invalid("a password slot has no valid key_params (nonce and tag)"));
            }
            Ok(slot)
        })
        .collect::<Result<Vec<_>>>()?;
    if slots.is_empty() {
        return Err(invalid("the vault has no password slot (it is locked with biometrics only)"));
    }
    let mut budget = KdfBudget::per_file();
    for slot in &slots {
        budget.charge(slot.scrypt_params()?.cost())?;
    }
    Ok(slots)
}

/// Opens the master key with the first password slot `password` fits, then the db with it.
fn decrypt(params: &NonceAndTag, slots: &[PasswordSlot], db: &str, password: &str) -> Result<Zeroizing<Vec<u8>>> {
    let mut db_ciphertext = domain::codec::base64::decode_loose(db).ok_or_else(|| invalid("the db is not base64"))?;
    let mut budget = KdfBudget::per_file();
    let mut master_key = None;
    for slot in slots {
        if let Some(key) = slot.open(password, &mut budget)? {
            master_key = Some(key);
            break;
        }
    }
    let master_key = master_key.ok_or(Error::WrongPassword)?;
    db_ciphertext.extend_from_slice(&params.tag);
    // The password opened the master key: a db that does not open was damaged or modified.
    crypto::open_detached(&master_key, &params.nonce, &db_ciphertext, &[])
        .ok_or_else(|| invalid("the encrypted db is damaged or was modified"))
}

impl PasswordSlot {
    fn scrypt_params(&self) -> Result<kdf::ScryptParams> {
        kdf::ScryptParams::from_n(self.n, self.r, self.p).map_err(|_| {
            invalid(format!(
                "a password slot's scrypt parameters are invalid (N={}, r={}, p={})",
                self.n, self.r, self.p
            ))
        })
    }

    /// The master key, or `None` when `password` does not open this slot. The derivation is
    /// charged to `budget`.
    fn open(&self, password: &str, budget: &mut KdfBudget) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let derived = kdf::scrypt_within(password.as_bytes(), &self.salt, self.scrypt_params()?, budget)?;
        let mut sealed = Zeroizing::new(self.key.clone());
        sealed.extend_from_slice(&self.key_params.tag);
        Ok(crypto::open_detached(derived.expose(), &self.key_params.nonce, &sealed, &[]))
    }
}

fn entry_of(index: usize, value: &Value, groups: &[Group]) -> ImportEntry {
    let entry: Entry = match serde_json::from_value(value.clone()) {
        Ok(entry) => entry,
        Err(e) => return ImportEntry::refused(format!("entry {}", index + 1), json_error("the entry", &e).to_string()),
    };
    let issuer = clean(entry.issuer.as_deref().unwrap_or_default());
    let label = clean(entry.name.as_deref().unwrap_or_default());
    let name = entry_name(display_name(&issuer, &label), "entry", index);
    match account_of(&entry, issuer, label, groups) {
        Ok(account) => ImportEntry { name, outcome: Ok(account) },
        Err(reason) => ImportEntry::refused(name, reason),
    }
}

fn account_of(
    entry: &Entry,
    issuer: String,
    label: String,
    groups: &[Group],
) -> std::result::Result<AccountData, String> {
    let kind = entry.kind.as_deref().ok_or("the entry has no type")?;
    let info = entry.info.as_ref().ok_or("the entry has no info")?;
    let secret = info.secret.as_deref().ok_or(domain::AccountError::MissingSecret.to_string())?;
    let secret = Secret::from_base32(secret).map_err(|e| e.to_string())?;
    let loose = LooseParams {
        kind: Some(kind.to_owned()),
        algorithm: loose_text(info.algo.as_ref()),
        digits: loose_text(info.digits.as_ref()),
        period: loose_text(info.period.as_ref()),
        counter: loose_text(info.counter.as_ref()),
    };
    let params = OtpParams::from_loose(&loose).map_err(|e| e.to_string())?;
    Ok(AccountData {
        issuer: issuer.into(),
        label: label.into(),
        params,
        secret,
        group: group_of(entry, groups).map(Name::from),
    })
}

/// The entry's group: the first of its `groups` uuids that names a group (db version 3), or the
/// `group` string of older vaults.
fn group_of(entry: &Entry, groups: &[Group]) -> Option<String> {
    let by_uuid = entry.groups.iter().find_map(|uuid| groups.iter().find(|g| g.uuid == *uuid).map(|g| g.name.as_str()));
    let name = by_uuid.or(entry.group.as_deref())?;
    Some(clean(name)).filter(|g| !g.is_empty())
}

// ---------------------------------------------------------------------------------------------
// Export: a vault file as Aegis writes it (docs/vault.md of the Aegis project), db version 3.

/// scrypt parameters of the password slot: Aegis' own (N = 2^15, r = 8, p = 1).
const EXPORT_SCRYPT: kdf::ScryptParams = kdf::ScryptParams { log_n: 15, r: 8, p: 1 };
/// The db version Aegis 2.x writes: groups listed by uuid.
const DB_VERSION: u64 = 3;

#[derive(serde::Serialize)]
struct OutDb<'a> {
    version: u64,
    entries: Vec<OutEntry<'a>>,
    groups: Vec<OutGroup<'a>>,
    icons_optimized: bool,
}

#[derive(serde::Serialize)]
struct OutGroup<'a> {
    uuid: String,
    name: &'a str,
}

#[derive(serde::Serialize)]
struct OutEntry<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    uuid: String,
    name: &'a str,
    issuer: &'a str,
    note: &'static str,
    favorite: bool,
    icon: Option<()>,
    info: OutInfo<'a>,
    groups: Vec<String>,
}

#[derive(serde::Serialize)]
struct OutInfo<'a> {
    secret: &'a str,
    algo: &'static str,
    digits: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counter: Option<u64>,
}

/// The vault's content (`db`) for `accounts`, in order, with their groups. Holds the secrets:
/// one zeroizing buffer.
fn db_plaintext(accounts: &[AccountData]) -> Result<Zeroizing<Vec<u8>>> {
    let groups: Vec<OutGroup<'_>> = super::group_names(accounts)
        .into_iter()
        .map(|name| Ok(OutGroup { uuid: super::uuid_v4()?, name }))
        .collect::<Result<_>>()?;
    let secrets: Vec<Zeroizing<String>> = accounts.iter().map(|a| a.secret.to_base32()).collect();
    let entries = accounts
        .iter()
        .zip(&secrets)
        .map(|(a, secret)| {
            let p = &a.params;
            let (period, counter) = match p.kind() {
                domain::otp::OtpKind::Hotp => (None, Some(p.counter())),
                domain::otp::OtpKind::Totp | domain::otp::OtpKind::Steam => (Some(p.period()), None),
            };
            let group = a.group.as_deref().and_then(|name| groups.iter().find(|g| g.name == name));
            Ok(OutEntry {
                kind: p.kind().as_str(),
                uuid: super::uuid_v4()?,
                name: &a.label,
                issuer: &a.issuer,
                note: "",
                favorite: false,
                icon: None,
                info: OutInfo { secret, algo: p.algorithm().as_str(), digits: p.digits(), period, counter },
                groups: group.map(|g| g.uuid.clone()).into_iter().collect(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    super::secret_json(&OutDb { version: DB_VERSION, entries, groups, icons_optimized: true })
}

fn hex_params(nonce: &[u8], tag: &[u8]) -> Value {
    serde_json::json!({ "nonce": hex::encode(nonce), "tag": hex::encode(tag) })
}

/// An Aegis vault file of `accounts` (in order, with groups), which Aegis imports.
///
/// With a password: encrypted as Aegis encrypts its vault. A random 256-bit master key seals
/// the db with AES-256-GCM (`header.params`: hex nonce and tag; `db`: base64 ciphertext); one
/// password slot holds the master key sealed with AES-256-GCM under scrypt(password, random
/// 256-bit salt, N = 2^15, r = 8, p = 1). The password must have at least
/// [`super::format::MIN_PASSWORD_CHARS`] characters.
///
/// Without one: a plain vault (`slots` and `params` null, `db` an object) that holds every
/// secret in clear.
pub fn export(accounts: &[AccountData], password: Option<&str>) -> Result<Zeroizing<Vec<u8>>> {
    let db = db_plaintext(accounts)?;
    let file = match password {
        None => {
            // The db is written as it is: one buffer for the whole file, of exactly its size.
            let head = br#"{"version":1,"header":{"slots":null,"params":null},"db":"#;
            let mut out = Zeroizing::new(Vec::with_capacity(head.len() + db.len() + 1));
            out.extend_from_slice(head);
            out.extend_from_slice(&db);
            out.push(b'}');
            out
        }
        Some(password) => {
            super::check_export_password(password)?;
            let master_key = crypto::Key::generate()?;
            let salt: [u8; 32] = crypto::random_array()?;
            let derived = kdf::scrypt(password.as_bytes(), &salt, EXPORT_SCRYPT)?;
            let key_nonce: [u8; crypto::NONCE_LEN] = crypto::random_array()?;
            let sealed_key = crypto::seal_with_nonce(&derived, &key_nonce, master_key.expose(), &[])?;
            let (key, key_tag) = sealed_key.split_at(sealed_key.len() - crypto::TAG_LEN);
            let db_nonce: [u8; crypto::NONCE_LEN] = crypto::random_array()?;
            let sealed_db = crypto::seal_with_nonce(&master_key, &db_nonce, &db, &[])?;
            let (ciphertext, db_tag) = sealed_db.split_at(sealed_db.len() - crypto::TAG_LEN);
            let n = 1u64 << EXPORT_SCRYPT.log_n;
            let file = serde_json::json!({
                "version": VAULT_VERSION,
                "header": {
                    "slots": [{
                        "type": PASSWORD_SLOT,
                        "uuid": super::uuid_v4()?,
                        "key": hex::encode(key),
                        "key_params": hex_params(&key_nonce, key_tag),
                        "n": n,
                        "r": EXPORT_SCRYPT.r,
                        "p": EXPORT_SCRYPT.p,
                        "salt": hex::encode(salt),
                        "repaired": true,
                        "is_backup": false,
                    }],
                    "params": hex_params(&db_nonce, db_tag),
                },
                "db": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, ciphertext),
            });
            super::secret_json(&file)?
        }
    };
    super::check_output_size(&file)?;
    Ok(file)
}
