//! Steam's mobile authenticator files: `Steamguard-<id>` of the Steam app (`{ "accounts": {
//! id: {...} } }`) and the older single-account file (also Steam Desktop Authenticator's
//! `.maFile`). Each account's `shared_secret` (base64) is its Steam Guard key; the account is
//! named after `account_name`, with the issuer "Steam".

use serde::Deserialize;
use serde_json::Value;

use super::{ImportEntry, entry_name, json_error};
use crate::error::{Error, Result};
use domain::account::AccountData;
use domain::otp::{OtpParams, Secret};
use domain::text::clean;

#[derive(Deserialize)]
struct Account {
    shared_secret: Option<String>,
    account_name: Option<String>,
}

/// Whether `json` is a Steam authenticator file (either shape).
pub fn is_steam(json: &Value) -> bool {
    json.get("shared_secret").is_some()
        || json
            .get("accounts")
            .and_then(Value::as_object)
            .is_some_and(|accounts| accounts.values().take(1).all(|a| a.get("shared_secret").is_some()))
}

/// Reads either shape of the file.
pub fn parse(bytes: &[u8]) -> Result<Vec<ImportEntry>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let json: Value = serde_json::from_slice(bytes).map_err(|e| json_error("the file", &e))?;
    if json.get("shared_secret").is_some() {
        return Ok(vec![entry_of(0, &json)]);
    }
    let accounts = json
        .get("accounts")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::InvalidImport("the file has neither shared_secret nor accounts".into()))?;
    Ok(accounts.values().enumerate().map(|(i, account)| entry_of(i, account)).collect())
}

fn entry_of(index: usize, value: &Value) -> ImportEntry {
    let account: Account = match serde_json::from_value(value.clone()) {
        Ok(account) => account,
        Err(e) => {
            return ImportEntry::refused(format!("account {}", index + 1), json_error("the account", &e).to_string());
        }
    };
    let label = clean(account.account_name.as_deref().unwrap_or_default());
    let name = entry_name(super::display_name("Steam", &label), "account", index);
    match secret_of(account.shared_secret.as_deref()) {
        Ok(secret) => ImportEntry {
            name,
            outcome: Ok(AccountData {
                issuer: "Steam".into(),
                label: label.as_str().into(),
                params: OtpParams::steam(),
                secret,
                group: None,
            }),
        },
        Err(reason) => ImportEntry::refused(name, reason),
    }
}

fn secret_of(shared_secret: Option<&str>) -> std::result::Result<Secret, String> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let text = shared_secret.ok_or("the account has no shared_secret")?;
    let bytes = STANDARD.decode(text.trim()).map_err(|_| "the shared_secret is not base64")?;
    Secret::from_bytes(bytes).map_err(|e| e.to_string())
}
