//! Duo Mobile's accounts file (`files/duokit/accounts.json`, from a rooted phone or a device
//! backup): a JSON array of accounts. Third-party accounts (`OtpAccount`) carry an
//! `otpGenerator` with a base32 `otpSecret`, and a `counter` when they are HOTP; Duo's own push
//! accounts carry no OTP secret and are refused with that reason.

use serde::Deserialize;
use serde_json::Value;

use super::{ImportEntry, entry_name, json_error, loose_text};
use crate::error::Result;
use domain::account::AccountData;
use domain::otp::{LooseParams, OtpParams, Secret};
use domain::text::clean;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Account {
    name: Option<String>,
    otp_generator: Option<Generator>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Generator {
    otp_secret: Option<String>,
    counter: Option<Value>,
}

/// Whether `json` is Duo's accounts file.
pub fn is_duo(json: &Value) -> bool {
    json.as_array().is_some_and(|accounts| {
        !accounts.is_empty()
            && accounts.iter().take(1).all(|a| a.get("otpGenerator").is_some() || a.get("accountType").is_some())
    })
}

/// Reads the accounts file.
pub fn parse(bytes: &[u8]) -> Result<Vec<ImportEntry>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let accounts: Vec<Value> = super::typed(bytes).map_err(|e| json_error("the accounts file", &e))?;
    Ok(accounts.iter().enumerate().map(|(i, value)| entry_of(i, value)).collect())
}

fn entry_of(index: usize, value: &Value) -> ImportEntry {
    let account: Account = match serde_json::from_value(value.clone()) {
        Ok(account) => account,
        Err(e) => {
            return ImportEntry::refused(format!("account {}", index + 1), json_error("the account", &e).to_string());
        }
    };
    let label = clean(account.name.as_deref().unwrap_or_default());
    let name = entry_name(label.clone(), "account", index);
    match account_of(&account, label) {
        Ok(data) => ImportEntry { name, outcome: Ok(data) },
        Err(reason) => ImportEntry::refused(name, reason),
    }
}

fn account_of(account: &Account, label: String) -> std::result::Result<AccountData, String> {
    let generator = account.otp_generator.as_ref().ok_or("a Duo push account: it has no one-time code secret")?;
    let secret = generator.otp_secret.as_deref().ok_or(domain::AccountError::MissingSecret.to_string())?;
    let secret = Secret::from_base32(secret).map_err(|e| e.to_string())?;
    let counter = loose_text(generator.counter.as_ref());
    let loose = LooseParams {
        kind: Some(if counter.is_some() { "hotp" } else { "totp" }.into()),
        counter,
        ..Default::default()
    };
    let params = OtpParams::from_loose(&loose).map_err(|e| e.to_string())?;
    Ok(AccountData { issuer: "".into(), label: label.into(), params, secret, group: None })
}
