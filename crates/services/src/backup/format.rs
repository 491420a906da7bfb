//! This app's encrypted backup format, version 1.
//!
//! A backup is one UTF-8 JSON object:
//!
//! ```json
//! {
//!   "format": "authenticator-backup",
//!   "version": 1,
//!   "kdf": {"algorithm": "argon2id", "version": 19, "memory_kib": 65536, "iterations": 3,
//!           "parallelism": 1, "salt": "<base64, 16 bytes>"},
//!   "cipher": {"algorithm": "aes-256-gcm", "nonce": "<base64, 12 bytes>"},
//!   "ciphertext": "<base64: AES-256-GCM ciphertext || 16-byte tag>"
//! }
//! ```
//!
//! - The key is Argon2id(password, salt) with the parameters written in the file, so later
//!   versions can raise them and old files still open. Hostile parameters are bounded: a file
//!   may name at most 1 GiB of memory, 64 iterations and 16 lanes, and the derivation must fit
//!   the per-file budget of [`KdfBudget`] (2 s of CPU, 128 MiB), or the file is refused with
//!   [`Error::TooCostly`] before any work, so a crafted file cannot exhaust the phone.
//! - The associated data is the RFC 8785 canonical JSON of every field but `ciphertext`, so
//!   changing a parameter, the version or the nonce makes the file fail to open, like changing
//!   the ciphertext does.
//! - The plaintext is JSON: `{"accounts": [{"type": "totp"|"hotp"|"steam", "issuer", "label",
//!   "secret": "<base32>", "algorithm": "SHA1"|"SHA256"|"SHA512", "digits", "period",
//!   "counter", "group": null|"…"}, …]}` in the user's order. Nothing is in clear text outside
//!   the ciphertext, not even the number of accounts.
//! - Push tokens are not in backups: their keys are bound to this device and the server.
//!
//! - Automatic backups ([`super::auto`]) derive the key once, when they are enabled, and keep
//!   it sealed in the vault as a [`BackupKey`]: the key together with the salt and cost it was
//!   derived with. Every file made with it writes that same salt and cost in its header, so the
//!   password re-derives the same key and `verify-backup` and `import` read these files like
//!   any other; only the nonce is drawn per file (random 96 bits: safe for 2^32 files under one
//!   key, far beyond any number of backups). Changing the password derives a new key and salt.
//!
//! A wrong password, a truncated file or any modified byte give [`Error::WrongPassword`] or
//! [`Error::InvalidImport`]: never a partial result.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::{ImportEntry, display_name, loose_text};
use crate::error::{Error, Result};
use domain::account::{AccountData, Name};
use domain::codec::canonical_json;
use domain::otp::{LooseParams, OtpParams, Secret};
use domain::text::clean;
use storage::crypto::kdf::{self, Argon2Params, KdfBudget};
use storage::crypto::{self, Key};

/// The `format` field of a backup file.
pub const FORMAT_NAME: &str = "authenticator-backup";
/// The version this build writes (and the newest it reads).
pub const VERSION: u64 = 1;
/// Shortest backup password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Argon2id cost of a backup's key (defaults: 64 MiB, 3 passes, 1 lane).
pub type KdfParams = Argon2Params;

fn derive_key(password: &str, salt: &[u8], params: KdfParams) -> Result<Key> {
    Ok(kdf::argon2id(password.as_bytes(), salt, params)?)
}

/// The header: every field but the ciphertext. Its canonical JSON is the associated data.
fn header(kdf: KdfParams, salt: &[u8], nonce: &[u8]) -> Value {
    json!({
        "format": FORMAT_NAME,
        "version": VERSION,
        "kdf": {
            "algorithm": "argon2id",
            "version": 19,
            "memory_kib": kdf.memory_kib,
            "iterations": kdf.iterations,
            "parallelism": kdf.parallelism,
            "salt": B64.encode(salt),
        },
        "cipher": {"algorithm": "aes-256-gcm", "nonce": B64.encode(nonce)},
    })
}

/// A backup key derived once from a password, with the salt and cost it was derived with (see
/// the module doc). Wiped on drop; `Debug` shows nothing.
#[derive(Clone)]
pub struct BackupKey {
    key: Key,
    salt: [u8; SALT_LEN],
    kdf: KdfParams,
}

const SALT_LEN: usize = 16;
/// Length of [`BackupKey::to_bytes`]: key, salt, then memory, passes and lanes as u32 LE.
const KEY_RECORD_LEN: usize = crypto::KEY_LEN + SALT_LEN + 12;

impl std::fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackupKey(<redacted>)")
    }
}

impl BackupKey {
    /// Draws a salt and derives the key from `password` (at least [`MIN_PASSWORD_CHARS`]).
    pub fn derive(password: &str, kdf: KdfParams) -> Result<Self> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(Error::WeakPassword(MIN_PASSWORD_CHARS));
        }
        let salt = crypto::random_array()?;
        Ok(Self { key: derive_key(password, &salt, kdf)?, salt, kdf })
    }

    /// The key, salt and cost as bytes, to seal in the vault.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(KEY_RECORD_LEN));
        out.extend_from_slice(self.key.expose());
        out.extend_from_slice(&self.salt);
        for n in [self.kdf.memory_kib, self.kdf.iterations, self.kdf.parallelism] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out
    }

    /// Reads what [`BackupKey::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != KEY_RECORD_LEN {
            return Err(Error::Corrupt("the backup key record has the wrong length".into()));
        }
        let (key, rest) = bytes.split_at(crypto::KEY_LEN);
        let (salt, cost) = rest.split_at(SALT_LEN);
        let n = |i: usize| u32::from_le_bytes(cost[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
        let kdf = KdfParams { memory_kib: n(0), iterations: n(1), parallelism: n(2) };
        Ok(Self { key: Key::from_slice(key)?, salt: salt.try_into().expect("16 bytes"), kdf })
    }
}

/// Encrypts `accounts` (in order, with groups) under `password`.
pub fn encrypt(accounts: &[AccountData], password: &str, kdf: KdfParams) -> Result<Vec<u8>> {
    encrypt_with(accounts, &BackupKey::derive(password, kdf)?)
}

/// Encrypts `accounts` under a key derived before: no key derivation, a fresh nonce.
pub fn encrypt_with(accounts: &[AccountData], backup_key: &BackupKey) -> Result<Vec<u8>> {
    let BackupKey { key, salt, kdf } = backup_key;
    let plaintext = plaintext(accounts)?;
    // The nonce is part of the associated data: draw it first, then seal with it.
    let nonce: [u8; crypto::NONCE_LEN] = crypto::random_array()?;
    let mut envelope = header(*kdf, salt, &nonce);
    let aad = canonical_json(&envelope)?;
    let sealed = crypto::seal_with_nonce(key, &nonce, &plaintext, aad.as_bytes())?;
    envelope["ciphertext"] = Value::String(B64.encode(&sealed));
    let file = serde_json::to_vec_pretty(&envelope)?;
    // Never write a backup that the input cap would refuse to read back.
    if file.len() > super::MAX_FILE_BYTES {
        return Err(Error::FileTooLarge { limit_bytes: super::MAX_FILE_BYTES as u64 });
    }
    Ok(file)
}

/// One account as the backup's plaintext holds it.
#[derive(serde::Serialize)]
struct Item<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    issuer: &'a str,
    label: &'a str,
    secret: &'a str,
    algorithm: &'a str,
    digits: u8,
    period: u32,
    counter: u64,
    group: Option<&'a str>,
}

/// The backup's plaintext, `{"accounts":[…]}`, secrets included: serialised straight from the
/// accounts (no JSON value tree holding copies of the secrets) into one zeroizing buffer of
/// exactly its size, measured first, so no reallocation leaves a copy behind.
fn plaintext(accounts: &[AccountData]) -> Result<Zeroizing<Vec<u8>>> {
    let secrets: Vec<Zeroizing<String>> = accounts.iter().map(|a| a.secret.to_base32()).collect();
    let items: Vec<Item<'_>> = accounts
        .iter()
        .zip(&secrets)
        .map(|(a, secret)| Item {
            kind: a.params.kind().as_str(),
            issuer: &a.issuer,
            label: &a.label,
            secret,
            algorithm: a.params.algorithm().as_str(),
            digits: a.params.digits(),
            period: a.params.period(),
            counter: a.params.counter(),
            group: a.group.as_deref(),
        })
        .collect();
    #[derive(serde::Serialize)]
    struct Content<'a> {
        accounts: &'a [Item<'a>],
    }
    let content = Content { accounts: &items };
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, &content)?;
    let mut out = Zeroizing::new(Vec::with_capacity(counter.0));
    serde_json::to_writer(&mut *out, &content)?;
    Ok(out)
}

/// Decrypts a backup into import entries (each account, or why it is refused).
pub fn decrypt(bytes: &[u8], password: &str) -> Result<Vec<ImportEntry>> {
    Envelope::read(bytes)?.decrypt(password)
}

/// Decrypts a backup made with `key` (its salt and cost must be the key's): no key derivation.
pub fn decrypt_with(bytes: &[u8], key: &BackupKey) -> Result<Vec<ImportEntry>> {
    let envelope = Envelope::read(bytes)?;
    if envelope.salt != key.salt || envelope.kdf != key.kdf {
        return Err(Error::WrongPassword);
    }
    envelope.open(&key.key)
}

/// Like [`decrypt`], but checks the file (and the price of its key derivation) before asking
/// for the password: [`Error::PasswordRequired`] only for a file that would be opened.
pub fn open(bytes: &[u8], password: Option<&str>) -> Result<Vec<ImportEntry>> {
    let envelope = Envelope::read(bytes)?;
    envelope.decrypt(password.ok_or(Error::PasswordRequired)?)
}

/// A backup file read and checked, not yet decrypted.
struct Envelope {
    kdf: KdfParams,
    salt: Vec<u8>,
    nonce: Vec<u8>,
    sealed: Zeroizing<Vec<u8>>,
    aad: String,
}

fn bad(what: &str) -> Error {
    Error::InvalidImport(format!("not a valid backup: {what}"))
}

impl Envelope {
    /// Parses and checks the envelope; refuses a key derivation beyond the budget
    /// ([`Error::TooCostly`]) before any work.
    fn read(bytes: &[u8]) -> Result<Self> {
        let envelope: Value = serde_json::from_slice(bytes).map_err(|_| bad("not JSON (truncated?)"))?;
        if envelope["format"] != FORMAT_NAME {
            return Err(bad("unknown format"));
        }
        let version = envelope["version"].as_u64().ok_or_else(|| bad("no version"))?;
        if version > VERSION {
            return Err(Error::InvalidImport(format!(
                "backup version {version} is newer than this app reads ({VERSION})"
            )));
        }
        let kdf_json = &envelope["kdf"];
        if kdf_json["algorithm"] != "argon2id"
            || kdf_json["version"] != 19
            || envelope["cipher"]["algorithm"] != "aes-256-gcm"
        {
            return Err(bad("unsupported algorithms"));
        }
        let number = |field: &str, max: u32| -> Result<u32> {
            kdf_json[field]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| bad(&format!("kdf {field} out of bounds")))
        };
        let kdf = KdfParams {
            memory_kib: number("memory_kib", KdfParams::MAX_MEMORY_KIB)?,
            iterations: number("iterations", KdfParams::MAX_ITERATIONS)?,
            parallelism: number("parallelism", KdfParams::MAX_PARALLELISM)?,
        };
        KdfBudget::per_file().charge(kdf.cost())?;
        let decode = |v: &Value, what: &str| -> Result<Vec<u8>> {
            v.as_str().and_then(|s| B64.decode(s).ok()).ok_or_else(|| bad(&format!("{what} is not base64")))
        };
        let salt = decode(&kdf_json["salt"], "salt")?;
        let nonce = decode(&envelope["cipher"]["nonce"], "nonce")?;
        let sealed = Zeroizing::new(decode(&envelope["ciphertext"], "ciphertext")?);
        if nonce.len() != crypto::NONCE_LEN {
            return Err(bad("nonce length"));
        }
        if salt.len() < 8 {
            return Err(bad("salt too short"));
        }
        // Rebuild the header from what was read: any field added or changed no longer matches.
        let mut header_read = envelope;
        header_read.as_object_mut().map(|o| o.remove("ciphertext"));
        let aad = canonical_json(&header_read)?;
        Ok(Self { kdf, salt, nonce, sealed, aad })
    }

    fn decrypt(&self, password: &str) -> Result<Vec<ImportEntry>> {
        self.open(&derive_key(password, &self.salt, self.kdf)?)
    }

    fn open(&self, key: &Key) -> Result<Vec<ImportEntry>> {
        let plaintext = crypto::open_detached(key.expose(), &self.nonce, &self.sealed, self.aad.as_bytes())
            .ok_or(Error::WrongPassword)?;
        let content: Value = serde_json::from_slice(&plaintext).map_err(|_| bad("content is not JSON"))?;
        let items = content["accounts"].as_array().ok_or_else(|| bad("no account list"))?;
        Ok(items.iter().enumerate().map(|(i, item)| entry(i, item)).collect())
    }
}

fn entry(index: usize, item: &Value) -> ImportEntry {
    let text = |field: &str| item[field].as_str().unwrap_or_default().to_owned();
    // Cleaned here, at the edge: the entry's name is shown (a dry run, a refusal) before any
    // `Name` is made.
    let (issuer, label) = (clean(&text("issuer")), clean(&text("label")));
    let name = super::entry_name(display_name(&issuer, &label), "entry", index);
    let parsed = (|| -> std::result::Result<AccountData, String> {
        let loose = LooseParams {
            kind: loose_text(item.get("type")),
            algorithm: loose_text(item.get("algorithm")),
            digits: loose_text(item.get("digits")),
            period: loose_text(item.get("period")),
            counter: loose_text(item.get("counter")),
        };
        let params = OtpParams::from_loose(&loose).map_err(|e| e.to_string())?;
        let secret = Secret::from_base32(&Zeroizing::new(text("secret"))).map_err(|e| e.to_string())?;
        let group = item["group"].as_str().map(str::to_owned);
        Ok(AccountData {
            issuer: Name::new(&issuer),
            label: Name::new(&label),
            params,
            secret,
            group: group.map(Name::from),
        })
    })();
    ImportEntry { name, outcome: parsed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::otp::Algorithm;

    /// Cheap Argon2 for tests; real backups use the defaults.
    const FAST: KdfParams = KdfParams { memory_kib: 256, iterations: 1, parallelism: 1 };

    fn accounts() -> Vec<AccountData> {
        vec![
            AccountData {
                issuer: "GitHub".into(),
                label: "alice".into(),
                params: OtpParams::totp(Algorithm::Sha256, 8, 60).unwrap(),
                secret: Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
                group: Some("Work".into()),
            },
            AccountData {
                issuer: "Bank".into(),
                label: Name::default(),
                params: OtpParams::hotp(Algorithm::Sha1, 6, 42).unwrap(),
                secret: Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap(),
                group: None,
            },
            AccountData {
                issuer: "Steam".into(),
                label: "gaben".into(),
                params: OtpParams::steam(),
                secret: Secret::from_base32("GEZDGNBVGY3TQOJQ").unwrap(),
                group: None,
            },
        ]
    }

    fn restored(entries: Vec<ImportEntry>) -> Vec<AccountData> {
        entries.into_iter().map(|e| e.outcome.unwrap()).collect()
    }

    #[test]
    fn a_backup_restores_every_account_with_order_and_groups() {
        let file = encrypt(&accounts(), "correct horse battery", FAST).unwrap();
        assert_eq!(restored(decrypt(&file, "correct horse battery").unwrap()), accounts());
        let again = encrypt(&accounts(), "correct horse battery", FAST).unwrap();
        assert_ne!(file, again, "fresh salt and nonce every time");
    }

    #[test]
    fn the_file_holds_no_secret_or_name_in_clear() {
        let file = encrypt(&accounts(), "correct horse battery", FAST).unwrap();
        let text = String::from_utf8(file).unwrap();
        for needle in ["JBSWY3DP", "GitHub", "alice", "Work", "accounts"] {
            assert!(!text.contains(needle), "{needle} in clear");
        }
    }

    /// The plaintext of a backup holds every secret: it is written into one zeroizing buffer of
    /// exactly its size (no reallocation leaves a copy), never through a JSON value tree.
    #[test]
    fn backup_plaintext_is_one_exactly_sized_zeroizing_buffer() {
        let plaintext: Zeroizing<Vec<u8>> = plaintext(&accounts()).unwrap();
        assert_eq!(plaintext.capacity(), plaintext.len());
        let value: Value = serde_json::from_slice(&plaintext).unwrap();
        assert_eq!(value["accounts"][0]["secret"], "JBSWY3DPEHPK3PXP");
    }

    /// Automatic backups derive the key once: their files open with the password alone, as any
    /// backup does, and with the kept key without any derivation.
    #[test]
    fn files_made_with_a_key_derived_once_open_with_the_password() {
        let key = BackupKey::derive("correct horse battery", FAST).unwrap();
        let key = BackupKey::from_bytes(&key.to_bytes()).unwrap();
        let (first, second) = (encrypt_with(&accounts(), &key).unwrap(), encrypt_with(&accounts(), &key).unwrap());
        assert_ne!(first, second, "a fresh nonce every file");
        for file in [&first, &second] {
            assert_eq!(restored(decrypt(file, "correct horse battery").unwrap()), accounts());
            assert_eq!(restored(decrypt_with(file, &key).unwrap()), accounts());
        }
        let other = BackupKey::derive("correct horse battery", FAST).unwrap();
        assert!(matches!(decrypt_with(&first, &other), Err(Error::WrongPassword)), "another salt");
        assert!(matches!(BackupKey::derive("short", FAST), Err(Error::WeakPassword(8))));
        assert!(!format!("{key:?}").contains(&format!("{:?}", &key.to_bytes()[..4])));
    }

    #[test]
    fn wrong_password_is_refused() {
        let file = encrypt(&accounts(), "correct horse battery", FAST).unwrap();
        assert!(matches!(decrypt(&file, "Correct horse battery"), Err(Error::WrongPassword)));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(encrypt(&accounts(), "1234567", FAST), Err(Error::WeakPassword(8))));
    }

    #[test]
    fn any_modified_field_or_byte_fails_to_open() {
        let file = encrypt(&accounts(), "correct horse battery", FAST).unwrap();
        let envelope: Value = serde_json::from_slice(&file).unwrap();
        let mut cases = Vec::new();
        let mut lowered = envelope.clone();
        lowered["kdf"]["iterations"] = json!(2);
        cases.push(lowered);
        let mut extra = envelope.clone();
        extra["cipher"]["note"] = json!("x");
        cases.push(extra);
        let mut flipped = envelope.clone();
        let mut sealed = B64.decode(envelope["ciphertext"].as_str().unwrap()).unwrap();
        sealed[5] ^= 1;
        flipped["ciphertext"] = json!(B64.encode(&sealed));
        cases.push(flipped);
        for case in cases {
            let bytes = serde_json::to_vec(&case).unwrap();
            assert!(matches!(decrypt(&bytes, "correct horse battery"), Err(Error::WrongPassword)), "{case}");
        }
    }

    #[test]
    fn truncated_or_hostile_files_give_clear_errors() {
        let file = encrypt(&accounts(), "correct horse battery", FAST).unwrap();
        for cut in [0, 10, file.len() / 2, file.len() - 3] {
            assert!(
                matches!(decrypt(&file[..cut], "correct horse battery"), Err(Error::InvalidImport(_))),
                "cut {cut}"
            );
        }
        let mut greedy: Value = serde_json::from_slice(&file).unwrap();
        greedy["kdf"]["memory_kib"] = json!(64 * 1024 * 1024);
        let bytes = serde_json::to_vec(&greedy).unwrap();
        assert!(matches!(decrypt(&bytes, "correct horse battery"), Err(Error::InvalidImport(_))));
        let mut future: Value = serde_json::from_slice(&file).unwrap();
        future["version"] = json!(2);
        let bytes = serde_json::to_vec(&future).unwrap();
        match decrypt(&bytes, "x") {
            Err(Error::InvalidImport(reason)) => assert!(reason.contains("newer")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn default_parameters_are_argon2id_64_mib_3_passes() {
        let file = encrypt(&accounts()[..1], "correct horse battery", KdfParams::default()).unwrap();
        let envelope: Value = serde_json::from_slice(&file).unwrap();
        assert_eq!(envelope["kdf"]["memory_kib"], 65536);
        assert_eq!(envelope["kdf"]["iterations"], 3);
        assert_eq!(restored(decrypt(&file, "correct horse battery").unwrap()), accounts()[..1]);
    }
}
