//! Proton Authenticator's export: JSON `{ "version": 1, "entries": [...] }`, each entry's
//! `content` an `otpauth://` (or `steam://`) URI and the name the user gave it.
//!
//! The URI gives the codes and the issuer; the entry's `name` is the account's label, as
//! Proton shows it.

use serde::Deserialize;
use serde_json::Value;

use super::{ImportEntry, entry_name, json_error, otp_field};
use crate::error::{Error, Result};
use domain::text::clean;

#[derive(Deserialize)]
struct Export {
    version: Option<u64>,
    entries: Vec<Value>,
}

#[derive(Deserialize)]
struct Entry {
    content: Content,
}

#[derive(Deserialize)]
struct Content {
    uri: String,
    name: Option<String>,
}

/// Whether `json` is a Proton Authenticator export.
pub fn is_proton(json: &Value) -> bool {
    json.get("entries")
        .and_then(Value::as_array)
        .is_some_and(|entries| entries.iter().take(1).all(|e| e.pointer("/content/uri").is_some()))
        && json.get("version").is_some()
}

/// Reads the export.
pub fn parse(bytes: &[u8]) -> Result<Vec<ImportEntry>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let file: Export = super::typed(bytes).map_err(|e| json_error("the export", &e))?;
    if let Some(version) = file.version.filter(|&v| v != 1) {
        return Err(Error::InvalidImport(format!("unsupported Proton Authenticator export version {version}")));
    }
    Ok(file.entries.iter().enumerate().map(|(i, value)| entry_of(i, value)).collect())
}

fn entry_of(index: usize, value: &Value) -> ImportEntry {
    let entry: Entry = match serde_json::from_value(value.clone()) {
        Ok(entry) => entry,
        Err(e) => return ImportEntry::refused(format!("entry {}", index + 1), json_error("the entry", &e).to_string()),
    };
    let name = clean(entry.content.name.as_deref().unwrap_or_default());
    match otp_field(&entry.content.uri) {
        Ok(mut data) => {
            if !name.is_empty() {
                data.label = name.as_str().into();
            }
            ImportEntry::account(data)
        }
        Err(reason) => ImportEntry::refused(entry_name(name, "entry", index), reason),
    }
}
