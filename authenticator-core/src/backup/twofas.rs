//! 2FAS `.2fas` exports, plain and password-encrypted.
//!
//! A 2FAS export (schema v4, also read for older schemas) is JSON with a `services` list. An
//! encrypted export leaves `services` empty and carries `servicesEncrypted`:
//! `base64(ciphertext ‖ tag):base64(salt):base64(iv)`, AES-256-GCM under a key derived from the
//! password with PBKDF2-HMAC-SHA256 (10 000 iterations, 256-byte salt). Its `reference` field is
//! a known text encrypted the same way, which tells a wrong password from damaged data.

use std::num::NonZeroU32;

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::{ImportEntry, display_name};
use crate::account::{AccountData, clean_text};
use crate::error::{Error, Result};
use crate::otp::{Algorithm, OtpParams, Secret, truncated};
use crate::uri::UriError;

/// PBKDF2-HMAC-SHA256 iterations 2FAS uses (checked against a real export).
const PBKDF2_ITERATIONS: u32 = 10_000;

/// Reads a 2FAS export; encrypted vaults need `password`.
pub fn parse(bytes: &[u8], password: Option<&str>) -> Result<Vec<ImportEntry>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let file: Value = serde_json::from_slice(bytes).map_err(|e| invalid(format!("not JSON ({e})")))?;
    let file = file.as_object().ok_or_else(|| invalid("the file is not a JSON object"))?;
    let groups = groups(file);
    match file.get("servicesEncrypted") {
        Some(Value::String(sealed)) if !sealed.trim().is_empty() => {
            let password = password.ok_or(Error::PasswordRequired)?;
            let plaintext = decrypt(sealed, file.get("reference").and_then(Value::as_str), password)?;
            let services: Value = serde_json::from_slice(&plaintext)
                .map_err(|e| invalid(format!("the decrypted services are not JSON ({e})")))?;
            let services = services.as_array().ok_or_else(|| invalid("the decrypted services are not a list"))?;
            Ok(entries(services, &groups))
        }
        None | Some(Value::Null) | Some(Value::String(_)) => {
            let services = file
                .get("services")
                .and_then(Value::as_array)
                .ok_or_else(|| invalid("the file has no services list"))?;
            Ok(entries(services, &groups))
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
        (iv.len() == 12 && data.len() >= 16).then_some(Self { data, salt, iv })
    }

    fn key(&self, password: &str) -> Zeroizing<[u8; 32]> {
        let mut key = Zeroizing::new([0u8; 32]);
        let iterations = NonZeroU32::new(PBKDF2_ITERATIONS).unwrap_or(NonZeroU32::MIN);
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            &self.salt,
            password.as_bytes(),
            key.as_mut(),
        );
        key
    }

    fn open(&self, key: &[u8; 32]) -> Option<Zeroizing<Vec<u8>>> {
        use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        let cipher = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
        let nonce = Nonce::try_assume_unique_for_key(&self.iv).ok()?;
        let mut buffer = self.data.clone();
        let plaintext = cipher.open_in_place(nonce, Aad::empty(), &mut buffer).ok()?;
        Some(Zeroizing::new(plaintext.to_vec()))
    }
}

fn decrypt(services: &str, reference: Option<&str>, password: &str) -> Result<Zeroizing<Vec<u8>>> {
    let sealed = Sealed::read(services)
        .ok_or_else(|| invalid("servicesEncrypted is not base64(data):base64(salt):base64(iv)"))?;
    let key = sealed.key(password);
    if let Some(plaintext) = sealed.open(&key) {
        return Ok(plaintext);
    }
    // Authentication failed: a wrong password, unless the same password opens the reference.
    let reference_opens = reference.and_then(Sealed::read).is_some_and(|r| {
        let key = if r.salt == sealed.salt { key } else { r.key(password) };
        r.open(&key).is_some()
    });
    if reference_opens {
        Err(invalid("the encrypted services are damaged or were modified"))
    } else {
        Err(Error::WrongPassword)
    }
}

/// Group id → name.
fn groups(file: &Map<String, Value>) -> Vec<(String, String)> {
    let Some(list) = file.get("groups").and_then(Value::as_array) else { return Vec::new() };
    list.iter()
        .filter_map(|g| Some((g.get("id")?.as_str()?.to_owned(), clean_text(g.get("name")?.as_str()?))))
        .filter(|(_, name)| !name.is_empty())
        .collect()
}

fn entries(services: &[Value], groups: &[(String, String)]) -> Vec<ImportEntry> {
    services.iter().enumerate().map(|(i, service)| entry_of(i, service, groups)).collect()
}

fn entry_of(index: usize, service: &Value, groups: &[(String, String)]) -> ImportEntry {
    let otp = service.get("otp").and_then(Value::as_object);
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(clean_text).unwrap_or_default();
    // `name` is the service as the user sees it in 2FAS; `otp.issuer` comes from the original URI.
    let mut issuer = text(service.get("name"));
    if issuer.is_empty() {
        issuer = text(otp.and_then(|o| o.get("issuer")));
    }
    let mut label = text(otp.and_then(|o| o.get("account")));
    if label.is_empty() {
        label = text(otp.and_then(|o| o.get("label")));
    }
    let mut name = display_name(&issuer, &label);
    if name.is_empty() {
        name = format!("service {}", index + 1);
    }
    match account_of(service, otp, issuer, label, groups) {
        Ok(account) => ImportEntry { name, outcome: Ok(account) },
        Err(reason) => ImportEntry::refused(name, reason),
    }
}

fn account_of(
    service: &Value,
    otp: Option<&Map<String, Value>>,
    issuer: String,
    label: String,
    groups: &[(String, String)],
) -> std::result::Result<AccountData, String> {
    let secret = service.get("secret").and_then(Value::as_str).ok_or(UriError::MissingSecret.to_string())?;
    let secret = Secret::from_base32(secret).map_err(|e| e.to_string())?;
    let field = |name: &str| otp.and_then(|o| o.get(name)).filter(|v| !v.is_null());
    let number = |name: &str, default: u64, error: fn(String) -> UriError| match field(name) {
        None => Ok(default),
        Some(v) => v.as_u64().ok_or_else(|| error(truncated(&v.to_string())).to_string()),
    };
    let algorithm = || -> std::result::Result<Algorithm, String> {
        match field("algorithm") {
            None => Ok(Algorithm::Sha1),
            Some(Value::String(a)) => a.parse().map_err(|e: UriError| e.to_string()),
            Some(other) => Err(UriError::UnknownAlgorithm(truncated(&other.to_string())).to_string()),
        }
    };
    let digits = || -> std::result::Result<u8, String> {
        let d = number("digits", 6, UriError::InvalidDigits)?;
        u8::try_from(d).map_err(|_| UriError::InvalidDigits(d.to_string()).to_string())
    };
    let kind = match field("tokenType") {
        None => "TOTP".to_owned(),
        Some(Value::String(t)) => t.clone(),
        Some(other) => other.to_string(),
    };
    let params = match kind.to_ascii_uppercase().as_str() {
        "TOTP" => {
            let period = number("period", 30, UriError::InvalidPeriod)?;
            let period = u32::try_from(period).map_err(|_| UriError::InvalidPeriod(period.to_string()).to_string())?;
            OtpParams::totp(algorithm()?, digits()?, period)
        }
        "HOTP" => {
            if field("counter").is_none() {
                return Err(UriError::MissingCounter.to_string());
            }
            OtpParams::hotp(algorithm()?, digits()?, number("counter", 0, UriError::InvalidCounter)?)
        }
        "STEAM" => Ok(OtpParams::steam()),
        _ => return Err(format!("unsupported token type '{}'", truncated(&kind))),
    }
    .map_err(|e| e.to_string())?;
    let group = service
        .get("groupId")
        .and_then(Value::as_str)
        .and_then(|id| groups.iter().find(|(gid, _)| gid == id))
        .map(|(_, name)| name.clone());
    Ok(AccountData { issuer, label, params, secret, group })
}
