//! Microsoft Authenticator's own database (`databases/PhoneFactor`, from a rooted phone or a
//! device backup: the app exports nothing). SQLite with a table `accounts`: `name` is the
//! issuer, `username` the label, `oath_secret_key` the secret. `account_type` 0 is a
//! third-party account, TOTP SHA-1, 6 digits, 30 s with a base32 secret; 1 is a personal
//! Microsoft account, TOTP with 8 digits and a base64 secret. Work and school accounts that
//! only approve sign-ins by push carry no secret and are refused with that reason.

use super::sqlite;
use super::{ImportEntry, display_name, entry_name};
use crate::error::{Error, Result};
use domain::account::AccountData;
use domain::otp::{Algorithm, OtpParams, Secret};
use domain::text::clean;

const COLUMNS: [&str; 4] = ["name", "username", "oath_secret_key", "account_type"];

/// Whether `conn` holds Microsoft Authenticator's accounts table.
pub fn is_microsoft(conn: &rusqlite::Connection) -> bool {
    sqlite::has_columns(conn, "accounts", &COLUMNS)
}

struct Row {
    issuer: Option<String>,
    label: Option<String>,
    secret: Option<String>,
    kind: Option<String>,
}

/// Reads the database.
pub fn parse(bytes: &[u8]) -> Result<Vec<ImportEntry>> {
    let conn = sqlite::open(bytes)?;
    if !is_microsoft(&conn) {
        return Err(Error::InvalidImport("not Microsoft Authenticator's database (no accounts table)".into()));
    }
    let sql = "SELECT name, username, oath_secret_key, account_type FROM accounts ORDER BY _rowid_";
    let rows = sqlite::each_row(&conn, sql, |r| Row {
        issuer: r.get_ref(0).ok().and_then(sqlite::text),
        label: r.get_ref(1).ok().and_then(sqlite::text),
        secret: r.get_ref(2).ok().and_then(sqlite::text),
        kind: r.get_ref(3).ok().and_then(sqlite::text),
    })?;
    Ok(rows.iter().enumerate().map(|(i, row)| entry_of(i, row)).collect())
}

fn entry_of(index: usize, row: &Row) -> ImportEntry {
    let issuer = clean(row.issuer.as_deref().unwrap_or_default());
    let label = clean(row.label.as_deref().unwrap_or_default());
    let name = entry_name(display_name(&issuer, &label), "account", index);
    match account_of(row, issuer, label) {
        Ok(data) => ImportEntry { name, outcome: Ok(data) },
        Err(reason) => ImportEntry::refused(name, reason),
    }
}

fn account_of(row: &Row, issuer: String, label: String) -> std::result::Result<AccountData, String> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let secret = row.secret.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let secret = secret.ok_or("a sign-in approval (push) account: it has no one-time code secret")?;
    let (secret, digits) = match row.kind.as_deref().map(str::trim) {
        Some("0") => (Secret::from_base32(secret).map_err(|e| e.to_string())?, 6),
        Some("1") => {
            let bytes = STANDARD.decode(secret).map_err(|_| "the secret of a Microsoft account is not base64")?;
            (Secret::from_bytes(bytes).map_err(|e| e.to_string())?, 8)
        }
        other => {
            let kind = domain::text::excerpt(other.unwrap_or("none"));
            return Err(format!("unsupported Microsoft Authenticator account type {kind}"));
        }
    };
    let params = OtpParams::totp(Algorithm::Sha1, digits, 30).map_err(|e| e.to_string())?;
    Ok(AccountData { issuer: issuer.into(), label: label.into(), params, secret, group: None })
}
