//! 2FAS `.2fas` exports, plain and password-encrypted.
//!
//! A 2FAS export (schema v4, also read for older schemas) is JSON with a `services` list. An
//! encrypted export leaves `services` empty and carries `servicesEncrypted`:
//! `base64(ciphertext ‖ tag):base64(salt):base64(iv)`, AES-256-GCM under a key derived from the
//! password with PBKDF2-HMAC-SHA256 (10 000 iterations, 256-byte salt). Its `reference` field is
//! a known text encrypted the same way, which tells a wrong password from damaged data.

use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

use super::{ImportEntry, display_name, entry_name, json_error, loose_text};
use crate::account::{AccountData, Name};
use crate::crypto::kdf::{self, KdfBudget};
use crate::crypto::{self, Key};
use crate::error::{Error, Result};
use crate::otp::{LooseParams, OtpParams, Secret};
use crate::text::clean;

/// PBKDF2-HMAC-SHA256 iterations 2FAS uses (checked against a real export).
const PBKDF2_ITERATIONS: u32 = 10_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Export {
    services: Option<Vec<Value>>,
    services_encrypted: Option<Value>,
    reference: Option<String>,
    #[serde(default)]
    groups: Vec<Value>,
}

#[derive(Deserialize)]
struct Group {
    id: String,
    name: String,
}

/// One service, its fields still loose: a bad field refuses this service only.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Service {
    name: Option<String>,
    secret: Option<String>,
    otp: Option<Otp>,
    group_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Otp {
    issuer: Option<String>,
    account: Option<String>,
    label: Option<String>,
    algorithm: Option<Value>,
    digits: Option<Value>,
    period: Option<Value>,
    counter: Option<Value>,
    token_type: Option<Value>,
}

/// Reads a 2FAS export; encrypted vaults need `password`.
pub fn parse(bytes: &[u8], password: Option<&str>) -> Result<Vec<ImportEntry>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let file: Export = serde_json::from_slice(bytes).map_err(|e| json_error("the export", &e))?;
    let groups: Vec<(String, String)> = file
        .groups
        .into_iter()
        .filter_map(|g| serde_json::from_value::<Group>(g).ok())
        .map(|g| (g.id, clean(&g.name)))
        .filter(|(_, name)| !name.is_empty())
        .collect();
    match file.services_encrypted {
        Some(Value::String(sealed)) if !sealed.trim().is_empty() => {
            let password = password.ok_or(Error::PasswordRequired)?;
            let plaintext = decrypt(&sealed, file.reference.as_deref(), password)?;
            let services: Vec<Value> =
                serde_json::from_slice(&plaintext).map_err(|e| json_error("the decrypted services", &e))?;
            Ok(entries(&services, &groups))
        }
        None | Some(Value::Null) | Some(Value::String(_)) => {
            let services = file.services.ok_or_else(|| invalid("the file has no services list"))?;
            Ok(entries(&services, &groups))
        }
        Some(_) => Err(invalid("servicesEncrypted is not a string")),
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidImport(reason.into())
}

/// One `base64(ciphertext ‖ tag):base64(salt):base64(iv)` field.
struct Sealed {
    data: Zeroizing<Vec<u8>>,
    salt: Vec<u8>,
    iv: Vec<u8>,
}

impl Sealed {
    fn read(text: &str) -> Option<Self> {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        let mut parts = text.trim().split(':');
        let (data, salt, iv) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let data = Zeroizing::new(STANDARD.decode(data).ok()?);
        let (salt, iv) = (STANDARD.decode(salt).ok()?, STANDARD.decode(iv).ok()?);
        (iv.len() == crypto::NONCE_LEN && data.len() >= crypto::TAG_LEN).then_some(Self { data, salt, iv })
    }

    fn key(&self, password: &str, budget: &mut KdfBudget) -> Result<Key> {
        kdf::pbkdf2_sha256_within(password.as_bytes(), &self.salt, PBKDF2_ITERATIONS, budget)
    }

    fn open(&self, key: &Key) -> Option<Zeroizing<Vec<u8>>> {
        crypto::open_detached(key.expose(), &self.iv, &self.data, &[])
    }
}

fn decrypt(services: &str, reference: Option<&str>, password: &str) -> Result<Zeroizing<Vec<u8>>> {
    let sealed = Sealed::read(services)
        .ok_or_else(|| invalid("servicesEncrypted is not base64(data):base64(salt):base64(iv)"))?;
    let mut budget = KdfBudget::per_file();
    let key = sealed.key(password, &mut budget)?;
    if let Some(plaintext) = sealed.open(&key) {
        return Ok(plaintext);
    }
    // Authentication failed: a wrong password, unless the same password opens the reference.
    let reference_opens = match reference.and_then(Sealed::read) {
        Some(r) if r.salt == sealed.salt => r.open(&key).is_some(),
        Some(r) => r.key(password, &mut budget).is_ok_and(|k| r.open(&k).is_some()),
        None => false,
    };
    if reference_opens {
        Err(invalid("the encrypted services are damaged or were modified"))
    } else {
        Err(Error::WrongPassword)
    }
}

fn entries(services: &[Value], groups: &[(String, String)]) -> Vec<ImportEntry> {
    services.iter().enumerate().map(|(i, service)| entry_of(i, service, groups)).collect()
}

fn entry_of(index: usize, value: &Value, groups: &[(String, String)]) -> ImportEntry {
    let service: Service = match serde_json::from_value(value.clone()) {
        Ok(service) => service,
        Err(e) => {
            return ImportEntry::refused(format!("service {}", index + 1), json_error("the service", &e).to_string());
        }
    };
    let otp = service.otp.as_ref();
    let text = |value: Option<&String>| value.map(|v| clean(v)).unwrap_or_default();
    // `name` is the service as the user sees it in 2FAS; `otp.issuer` comes from the original URI.
    let mut issuer = text(service.name.as_ref());
    if issuer.is_empty() {
        issuer = text(otp.and_then(|o| o.issuer.as_ref()));
    }
    let mut label = text(otp.and_then(|o| o.account.as_ref()));
    if label.is_empty() {
        label = text(otp.and_then(|o| o.label.as_ref()));
    }
    let name = entry_name(display_name(&issuer, &label), "service", index);
    match account_of(&service, issuer, label, groups) {
        Ok(account) => ImportEntry { name, outcome: Ok(account) },
        Err(reason) => ImportEntry::refused(name, reason),
    }
}

fn account_of(
    service: &Service,
    issuer: String,
    label: String,
    groups: &[(String, String)],
) -> std::result::Result<AccountData, String> {
    let secret = service.secret.as_deref().ok_or(crate::AccountError::MissingSecret.to_string())?;
    let secret = Secret::from_base32(secret).map_err(|e| e.to_string())?;
    let otp = service.otp.as_ref();
    let field = |f: fn(&Otp) -> Option<&Value>| loose_text(otp.and_then(f));
    let loose = LooseParams {
        kind: field(|o| o.token_type.as_ref()),
        algorithm: field(|o| o.algorithm.as_ref()),
        digits: field(|o| o.digits.as_ref()),
        period: field(|o| o.period.as_ref()),
        counter: field(|o| o.counter.as_ref()),
    };
    let params = OtpParams::from_loose(&loose).map_err(|e| e.to_string())?;
    let group = service
        .group_id
        .as_deref()
        .and_then(|id| groups.iter().find(|(gid, _)| gid == id))
        .map(|(_, name)| name.clone());
    Ok(AccountData { issuer: issuer.into(), label: label.into(), params, secret, group: group.map(Name::from) })
}
