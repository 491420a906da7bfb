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
use crate::error::{Error, Result};
use domain::account::{AccountData, Name};
use domain::otp::{LooseParams, OtpParams, Secret};
use domain::text::clean;
use storage::crypto::kdf::{self, KdfBudget};
use storage::crypto::{self, Key};

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
    let file: Export = super::typed(bytes).map_err(|e| json_error("the export", &e))?;
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
                super::typed(&plaintext).map_err(|e| json_error("the decrypted services", &e))?;
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
        Ok(kdf::pbkdf2_sha256_within(password.as_bytes(), &self.salt, PBKDF2_ITERATIONS, budget)?)
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
    // A service with an explicitly empty issuer is named after its account (as our export
    // writes it): that name is not an issuer.
    if otp.and_then(|o| o.issuer.as_deref()) == Some("") && issuer == label {
        issuer.clear();
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
    let secret = service.secret.as_deref().ok_or(domain::AccountError::MissingSecret.to_string())?;
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

// ---------------------------------------------------------------------------------------------
// Export: a `.2fas` file of schema v4, as the 2FAS app writes it.

/// The known text 2FAS seals as `reference` (with the same key) to tell a wrong password from
/// damaged data: the 2FAS app's own constant, as its encrypted exports carry it.
const REFERENCE: &str = "tRViSsLKzd86Hprh4ceC2OP7xazn4rrt4xhfEUbOjxLX8Rc3mkISXE0lWbmnWfggogbBJhtYgpK6fMl1D6mtsy92R3HkdGfwuXbzLebqVFJsR7IZ2w58t938iymwG4824igYy1wi6n2WDpO1Q1P69zwJGs2F5a1qP4MyIiDSD7NCV2OvidXQCBnDlGfmz0f1BQySRkkt4ryiJeCjD2o4QsveJ9uDBUn8ELyOrESv5R5DMDkD4iAF8TXU7KyoJujd";
/// Salt length 2FAS uses for PBKDF2, in bytes.
const SALT_LEN: usize = 256;
/// The schema this export follows, and the 2FAS release whose files it matches.
const SCHEMA_VERSION: u64 = 4;
const APP_VERSION_CODE: u64 = 5_000_009;
const APP_VERSION_NAME: &str = "5.1.0";
/// 2FAS's default icon collection (a label icon needs one).
const ICON_COLLECTION: &str = "a5b3fb65-4ec5-43e6-8ec1-49e24ca9e7ad";

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct OutService<'a> {
    name: &'a str,
    secret: &'a str,
    updated_at: i64,
    otp: OutOtp<'a>,
    order: serde_json::Value,
    icon: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id: Option<&'a str>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct OutOtp<'a> {
    label: &'a str,
    account: &'a str,
    issuer: &'a str,
    digits: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counter: Option<u64>,
    algorithm: &'static str,
    token_type: &'static str,
    source: &'static str,
}

/// The two letters of a label icon ("GI" for GitHub); ASCII case only (no Unicode case tables in
/// the library for an icon).
fn icon_text(name: &str) -> String {
    name.chars().filter(|c| !c.is_whitespace()).take(2).map(|c| c.to_ascii_uppercase()).collect()
}

/// A `.2fas` file of `accounts` (in order, with groups), which 2FAS imports.
///
/// With a password: `services` is empty and `servicesEncrypted` holds them as
/// `base64(ciphertext ‖ tag):base64(salt):base64(iv)`, AES-256-GCM under PBKDF2-HMAC-SHA256
/// (10 000 iterations, a random 256-byte salt); `reference` is 2FAS's known text sealed with the
/// same key and a fresh iv. As in 2FAS's own files, the group list stays outside the encryption
/// (group names are readable; secrets and account names are not). The password must have at
/// least [`super::format::MIN_PASSWORD_CHARS`] characters.
///
/// Without one: every secret in clear.
pub fn export(accounts: &[AccountData], password: Option<&str>) -> Result<Zeroizing<Vec<u8>>> {
    let now_ms = domain::time::now().saturating_mul(1000);
    let groups: Vec<(String, &str)> =
        super::group_names(accounts).into_iter().map(|name| Ok((super::uuid_v4()?, name))).collect::<Result<_>>()?;
    let secrets: Vec<Zeroizing<String>> = accounts.iter().map(|a| a.secret.to_base32()).collect();
    let services: Vec<OutService<'_>> = accounts
        .iter()
        .zip(&secrets)
        .enumerate()
        .map(|(position, (a, secret))| {
            let p = &a.params;
            let (period, counter, token_type) = match p.kind() {
                domain::otp::OtpKind::Totp => (Some(p.period()), None, "TOTP"),
                domain::otp::OtpKind::Hotp => (None, Some(p.counter()), "HOTP"),
                domain::otp::OtpKind::Steam => (Some(p.period()), None, "STEAM"),
            };
            // 2FAS names a service after its issuer; one without shows its account.
            let name = if a.issuer.is_empty() { a.label.as_str() } else { a.issuer.as_str() };
            OutService {
                name,
                secret,
                updated_at: now_ms,
                otp: OutOtp {
                    label: &a.label,
                    account: &a.label,
                    issuer: &a.issuer,
                    digits: p.digits(),
                    period,
                    counter,
                    algorithm: p.algorithm().as_str(),
                    token_type,
                    source: "Manual",
                },
                order: serde_json::json!({ "position": position }),
                icon: serde_json::json!({
                    "selected": "Label",
                    "label": { "text": icon_text(name), "backgroundColor": "Default" },
                    "iconCollection": { "id": ICON_COLLECTION },
                }),
                group_id: a
                    .group
                    .as_deref()
                    .and_then(|g| groups.iter().find(|(_, n)| *n == g))
                    .map(|(id, _)| id.as_str()),
            }
        })
        .collect();
    let groups: Vec<Value> = groups
        .iter()
        .map(|(id, name)| serde_json::json!({ "id": id, "name": name, "isExpanded": true, "updatedAt": now_ms }))
        .collect();
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct OutFile<'a> {
        services: &'a [OutService<'a>],
        groups: Vec<Value>,
        updated_at: i64,
        schema_version: u64,
        app_version_code: u64,
        app_version_name: &'static str,
        app_origin: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        services_encrypted: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    }
    let mut file = OutFile {
        services: &services,
        groups,
        updated_at: now_ms,
        schema_version: SCHEMA_VERSION,
        app_version_code: APP_VERSION_CODE,
        app_version_name: APP_VERSION_NAME,
        app_origin: "android",
        services_encrypted: None,
        reference: None,
    };
    let bytes = match password {
        None => super::secret_json(&file)?,
        Some(password) => {
            super::check_export_password(password)?;
            let plaintext = super::secret_json(&services)?;
            let salt: [u8; SALT_LEN] = crypto::random_array()?;
            let key = kdf::pbkdf2_sha256(password.as_bytes(), &salt, PBKDF2_ITERATIONS)?;
            file.services = &[];
            file.services_encrypted = Some(seal_field(&key, &salt, &plaintext)?);
            file.reference = Some(seal_field(&key, &salt, REFERENCE.as_bytes())?);
            super::secret_json(&file)?
        }
    };
    super::check_output_size(&bytes)?;
    Ok(bytes)
}

/// `base64(ciphertext ‖ tag):base64(salt):base64(iv)` with a fresh iv.
fn seal_field(key: &Key, salt: &[u8], plaintext: &[u8]) -> Result<String> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let iv: [u8; crypto::NONCE_LEN] = crypto::random_array()?;
    let sealed = crypto::seal_with_nonce(key, &iv, plaintext, &[])?;
    Ok(format!("{}:{}:{}", STANDARD.encode(sealed), STANDARD.encode(salt), STANDARD.encode(iv)))
}
