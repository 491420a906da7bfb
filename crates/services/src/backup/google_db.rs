//! Google Authenticator's own database (`databases` in the app's data, from a rooted phone or
//! a device backup): SQLite with a table `accounts`. Google Authenticator knows only its
//! defaults, SHA-1, 6 digits and 30 s; `type` 0 is TOTP and 1 HOTP with its `counter`. The
//! `email` column is the label, often prefixed `Issuer:`, and `issuer` the issuer.

use super::sqlite;
use super::{ImportEntry, display_name, entry_name};
use crate::error::{Error, Result};
use domain::account::AccountData;
use domain::otp::{Algorithm, OtpParams, Secret};
use domain::text::clean;
use domain::uri::split_label;

/// Whether `conn` holds Google Authenticator's accounts table.
pub fn is_google(conn: &rusqlite::Connection) -> bool {
    sqlite::has_columns(conn, "accounts", &["email", "secret", "type"])
        && !sqlite::has_columns(conn, "accounts", &["oath_secret_key"])
}

struct Row {
    email: Option<String>,
    issuer: Option<String>,
    secret: Option<String>,
    kind: Option<String>,
    counter: Option<String>,
}

/// Reads the database.
pub fn parse(bytes: &[u8]) -> Result<Vec<ImportEntry>> {
    let conn = sqlite::open(bytes)?;
    let columns = sqlite::table_columns(&conn, "accounts").unwrap_or_default();
    if !is_google(&conn) {
        return Err(Error::InvalidImport("not Google Authenticator's database (no accounts table)".into()));
    }
    // Older versions have no issuer column, some no counter.
    let optional = |c: &str| if columns.iter().any(|have| have == c) { c.to_owned() } else { "NULL".to_owned() };
    let sql = format!(
        "SELECT email, {}, secret, type, {} FROM accounts ORDER BY _rowid_",
        optional("issuer"),
        optional("counter")
    );
    let rows = sqlite::each_row(&conn, &sql, |r| Row {
        email: r.get_ref(0).ok().and_then(sqlite::text),
        issuer: r.get_ref(1).ok().and_then(sqlite::text),
        secret: r.get_ref(2).ok().and_then(sqlite::text),
        kind: r.get_ref(3).ok().and_then(sqlite::text),
        counter: r.get_ref(4).ok().and_then(sqlite::text),
    })?;
    Ok(rows.iter().enumerate().map(|(i, row)| entry_of(i, row)).collect())
}

fn entry_of(index: usize, row: &Row) -> ImportEntry {
    let email = clean(row.email.as_deref().unwrap_or_default());
    let issuer = clean(row.issuer.as_deref().unwrap_or_default());
    let (issuer, label) = split_label(&email, &issuer);
    let name = entry_name(display_name(&issuer, &label), "account", index);
    match account_of(row, issuer, label) {
        Ok(data) => ImportEntry { name, outcome: Ok(data) },
        Err(reason) => ImportEntry::refused(name, reason),
    }
}

fn account_of(row: &Row, issuer: String, label: String) -> std::result::Result<AccountData, String> {
    let secret = row.secret.as_deref().ok_or(domain::AccountError::MissingSecret.to_string())?;
    let secret = Secret::from_base32(secret).map_err(|e| e.to_string())?;
    let params = match row.kind.as_deref().map(str::trim) {
        Some("0") | None => OtpParams::totp(Algorithm::Sha1, 6, 30),
        Some("1") => {
            let counter = row.counter.as_deref().unwrap_or("0").trim();
            let counter =
                counter.parse::<u64>().map_err(|_| format!("invalid counter '{}'", domain::text::excerpt(counter)))?;
            OtpParams::hotp(Algorithm::Sha1, 6, counter)
        }
        Some(other) => {
            return Err(format!("unsupported Google Authenticator account type {}", domain::text::excerpt(other)));
        }
    }
    .map_err(|e| e.to_string())?;
    Ok(AccountData { issuer: issuer.into(), label: label.into(), params, secret, group: None })
}
