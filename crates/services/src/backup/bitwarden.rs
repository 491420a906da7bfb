//! Bitwarden exports: the unencrypted JSON (`items`) and CSV (a `login_totp` column).
//!
//! Bitwarden is a password manager: most items are passwords only, and those are skipped
//! silently. A login item whose `totp` holds something is an entry: an `otpauth://` URI, a
//! `steam://SECRET` URI, or a bare base32 secret (TOTP, SHA-1, 6 digits, 30 s, as Bitwarden
//! computes it). Names the URI does not give come from the item: its name as the issuer, its
//! username as the label. Encrypted exports (account- or password-protected) are refused: their
//! keys are Bitwarden's own.

use serde::Deserialize;
use serde_json::Value;

use super::{ImportEntry, display_name, entry_name, json_error, otp_field};
use crate::error::{Error, Result};
use domain::account::AccountData;
use domain::codec::csv;
use domain::text::clean;

const ENCRYPTED: &str =
    "this Bitwarden export is encrypted; export again from Bitwarden as .json (not the encrypted kind) or .csv";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Export {
    #[serde(default)]
    encrypted: bool,
    password_protected: Option<bool>,
    items: Option<Vec<Value>>,
}

#[derive(Deserialize)]
struct Item {
    name: Option<String>,
    login: Option<Login>,
}

#[derive(Deserialize)]
struct Login {
    username: Option<String>,
    totp: Option<String>,
}

/// Reads Bitwarden's unencrypted JSON export.
pub fn parse_json(bytes: &[u8]) -> Result<Vec<ImportEntry>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let file: Export = super::typed(bytes).map_err(|e| json_error("the export", &e))?;
    if file.encrypted || file.password_protected == Some(true) {
        return Err(Error::InvalidImport(ENCRYPTED.into()));
    }
    let items = file.items.ok_or_else(|| Error::InvalidImport("the export has no items".into()))?;
    Ok(items
        .iter()
        .enumerate()
        .filter_map(|(i, value)| match serde_json::from_value::<Item>(value.clone()) {
            Err(e) => Some(ImportEntry::refused(format!("item {}", i + 1), json_error("the item", &e).to_string())),
            Ok(item) => {
                let login = item.login?;
                let totp = login.totp.filter(|t| !t.trim().is_empty())?;
                Some(entry_of(i, "item", &totp, item.name.as_deref(), login.username.as_deref()))
            }
        })
        .collect())
}

/// Reads Bitwarden's CSV export: the columns are found by their header names.
pub fn parse_csv(text: &str) -> Result<Vec<ImportEntry>> {
    let records = csv::parse(text).map_err(|e| {
        Error::InvalidImport(format!("the CSV has a quoted field that never ends (record {})", e.record))
    })?;
    let mut records = records.into_iter();
    let header = records.next().ok_or_else(|| Error::InvalidImport("the CSV is empty".into()))?;
    let column = |name: &str| header.iter().position(|h| h.trim() == name);
    let totp = column("login_totp").ok_or_else(|| Error::InvalidImport("the CSV has no login_totp column".into()))?;
    let (name, username) = (column("name"), column("login_username"));
    let field = |record: &[zeroize::Zeroizing<String>], i: Option<usize>| -> Option<String> {
        i.and_then(|i| record.get(i)).map(|f| f.to_string())
    };
    Ok(records
        .enumerate()
        .filter_map(|(i, record)| {
            let secret = record.get(totp).filter(|t| !t.trim().is_empty())?;
            // "record 1" is the first line after the header.
            Some(entry_of(i, "record", secret, field(&record, name).as_deref(), field(&record, username).as_deref()))
        })
        .collect())
}

fn entry_of(index: usize, noun: &str, totp: &str, item: Option<&str>, username: Option<&str>) -> ImportEntry {
    let (item, username) = (clean(item.unwrap_or_default()), clean(username.unwrap_or_default()));
    match otp_field(totp) {
        Ok(data) => ImportEntry::account(named(data, &item, &username)),
        Err(reason) => ImportEntry::refused(entry_name(display_name(&item, &username), noun, index), reason),
    }
}

/// Fills the names an OTP field left empty from its item: a Steam URI names only the issuer
/// ("Steam"), so the item's username (or else its name) becomes the label; a bare secret names
/// nothing, so the item's name is the issuer and its username the label.
fn named(mut data: AccountData, item: &str, username: &str) -> AccountData {
    if data.issuer.is_empty() && data.label.is_empty() {
        data.issuer = item.into();
        data.label = username.into();
    } else if data.label.is_empty() {
        let label = if username.is_empty() { item } else { username };
        if label != data.issuer.as_str() {
            data.label = label.into();
        }
    }
    data
}
