//! Backups you can trust, and imports from the apps people are leaving.
//!
//! Bytes from outside (a backup file, another app's export, a QR payload) are parsed once here
//! into [`ImportEntry`]s: each either an [`AccountData`] or the reason it cannot be imported.
//! One bad entry never aborts the rest; the vault then imports all good entries in one
//! transaction, skipping duplicates ([`import`]).

pub mod aegis;
pub mod andotp;
pub mod authy;
pub mod format;
pub mod freeotp_v2;
pub mod google;
mod import;
pub mod stratum;
pub mod totp_authenticator;
pub mod twofas;

pub use import::import;

use std::io::Read;

use crate::account::{AccountData, display_name};
use crate::error::{Error, Result};
use crate::text::clean;
use crate::uri;

/// The input cap: the largest file an import, a restore or a backup check reads, 16 MiB. A
/// backup of some 60,000 accounts fits; a reader stops one byte past it ([`read_capped`]), so an
/// endless input (`/dev/zero`, a pipe) costs no more memory than this.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

fn too_large() -> Error {
    Error::FileTooLarge { limit_bytes: MAX_FILE_BYTES as u64 }
}

/// Reads all of `reader`, up to [`MAX_FILE_BYTES`]: never reads more than one byte past the cap,
/// and refuses a longer input with [`Error::FileTooLarge`].
pub fn read_capped(reader: impl Read) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Refuses bytes beyond the input cap (for callers that hand over a whole file, like the FFI).
fn check_size(bytes: &[u8]) -> Result<()> {
    if bytes.len() > MAX_FILE_BYTES { Err(too_large()) } else { Ok(()) }
}

/// Where imported data came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ImportFormat {
    /// Our own encrypted backup ([`format`]).
    Backup,
    /// Aegis JSON export, plain or password-encrypted.
    Aegis,
    /// 2FAS `.2fas` export, plain or password-encrypted.
    TwoFas,
    /// Google Authenticator `otpauth-migration://offline?data=…` (one or more QR payloads).
    GoogleMigration,
    /// Text with one `otpauth://` URI per line.
    UriList,
    /// andOTP backup: plain JSON, or encrypted (new PBKDF2 or old SHA-256 format).
    AndOtp,
    /// Stratum (Authenticator Pro) backup: plain JSON, encrypted, legacy encrypted.
    Stratum,
    /// Stratum's own SQLite database.
    StratumDatabase,
    /// Authy's token store (Android shared preferences), plain or with encrypted secrets.
    Authy,
    /// TOTP Authenticator: its encrypted backup, or its internal preferences.
    TotpAuthenticator,
    /// FreeOTP 2's password-protected backup (a Java-serialized map).
    FreeOtpBackup,
}

/// One entry of an import: the account, or why it cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportEntry {
    /// How to name the entry to the user ("GitHub (alice)"), even when it is refused.
    pub name: String,
    /// The account to import, or why the entry cannot be imported.
    pub outcome: std::result::Result<AccountData, String>,
}

impl ImportEntry {
    /// An entry that can be imported, named after its issuer and label.
    pub fn account(data: AccountData) -> Self {
        Self { name: display_name(&data.issuer, &data.label), outcome: Ok(data) }
    }

    /// An entry that cannot be imported, with the reason. Both are shown to the user and may
    /// quote the file: they are cleaned like names (no control, bidi or invisible characters).
    pub fn refused(name: impl AsRef<str>, reason: impl AsRef<str>) -> Self {
        Self { name: clean(name.as_ref()), outcome: Err(clean(reason.as_ref())) }
    }
}

/// An export read and decrypted, not yet imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedImport {
    /// The format the file was recognised as.
    pub format: ImportFormat,
    /// The file's entries, importable or not.
    pub entries: Vec<ImportEntry>,
}

/// What an import did (or, as a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ImportReport {
    /// Names of the accounts imported.
    pub imported: Vec<String>,
    /// Names of accounts skipped because the vault already has them (same secret and account).
    pub duplicates: Vec<String>,
    /// Entries that cannot be imported, with the reason.
    pub refused: Vec<RefusedEntry>,
}

/// An entry an import refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RefusedEntry {
    /// The entry's name as shown to the user ("GitHub (alice)").
    pub name: String,
    /// Why the entry cannot be imported.
    pub reason: String,
}

/// What [`verify_backup`] found: the backup opens and every account in it restores.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BackupCheck {
    /// Accounts that would be restored.
    pub accounts: i64,
    /// Entries that could not be restored (only possible in a file this app did not write).
    pub refused: Vec<RefusedEntry>,
}

/// Proves a backup restores, without importing it: decrypts it with `password`, rebuilds every
/// account and computes a code for each.
pub fn verify_backup(bytes: &[u8], password: &str) -> Result<BackupCheck> {
    check_size(bytes)?;
    if detect(bytes) != Some(ImportFormat::Backup) {
        return Err(Error::InvalidImport("not a backup of this app".into()));
    }
    let mut check = BackupCheck { accounts: 0, refused: Vec::new() };
    for entry in format::decrypt(bytes, password)? {
        match entry.outcome {
            Ok(data) => {
                crate::otp::Generator::new(data.params, &data.secret).code(0);
                check.accounts += 1;
            }
            Err(reason) => check.refused.push(RefusedEntry { name: entry.name, reason }),
        }
    }
    Ok(check)
}

/// The name of an import entry: its display name, or "entry 3" when it has none.
fn entry_name(display_name: String, noun: &str, index: usize) -> String {
    if display_name.is_empty() { format!("{noun} {}", index + 1) } else { display_name }
}

/// One entry of another app's export, from its loose fields: named after its issuer and label
/// (cleaned; "entry 3" when both are empty), imported or refused with the reason.
fn loose_entry(
    index: usize,
    issuer: &str,
    label: &str,
    secret: std::result::Result<crate::otp::Secret, String>,
    loose: &crate::otp::LooseParams,
) -> ImportEntry {
    let (issuer, label) = (clean(issuer), clean(label));
    let name = entry_name(display_name(&issuer, &label), "entry", index);
    let account = secret.and_then(|secret| {
        let params = crate::otp::OtpParams::from_loose(loose).map_err(|e| e.to_string())?;
        Ok(AccountData { issuer: issuer.into(), label: label.into(), params, secret, group: None })
    });
    match account {
        Ok(account) => ImportEntry { name, outcome: Ok(account) },
        Err(reason) => ImportEntry::refused(name, reason),
    }
}

/// A JSON error as an import error. serde's own messages can quote the offending value, which
/// may be a secret: only the kind of error and where it is are kept.
fn json_error(what: &str, e: &serde_json::Error) -> Error {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "cannot be read",
        serde_json::error::Category::Syntax => "is not valid JSON",
        serde_json::error::Category::Data => "has a field of the wrong type or a missing field",
        serde_json::error::Category::Eof => "ends too early (truncated?)",
    };
    if e.line() == 0 {
        Error::InvalidImport(format!("{what} {kind}"))
    } else {
        Error::InvalidImport(format!("{what} {kind} (line {}, column {})", e.line(), e.column()))
    }
}

/// A loose JSON field as text for [`crate::otp::LooseParams`]: strings as they are, numbers as
/// their digits, `null` as absent, anything else as its JSON text (which then fails to parse).
fn loose_text(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Recognises the format of `bytes` without decrypting anything.
pub fn detect(bytes: &[u8]) -> Option<ImportFormat> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return detect_binary(bytes);
    };
    let text = text.trim_start_matches('\u{feff}').trim();
    if crate::codec::prefs::looks_like_prefs(text.as_bytes()) {
        return detect_prefs(text.as_bytes());
    }
    if text.starts_with('[') {
        let json = serde_json::from_str::<serde_json::Value>(text).ok()?;
        return andotp::is_plain(&json).then_some(ImportFormat::AndOtp);
    }
    if text.starts_with('{') {
        let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
            // Broken JSON (a truncated download, a damaged file): recognise whose it was, so the
            // reader for that format reports it as damaged rather than as a foreign file.
            return [
                (format!("\"{}\"", format::FORMAT_NAME), ImportFormat::Backup),
                // Members are written in alphabetical order: a cut file may keep only this one.
                ("\"ciphertext\"".to_owned(), ImportFormat::Backup),
                ("\"servicesEncrypted\"".to_owned(), ImportFormat::TwoFas),
                ("\"services\"".to_owned(), ImportFormat::TwoFas),
                ("\"db\"".to_owned(), ImportFormat::Aegis),
                ("\"Authenticators\"".to_owned(), ImportFormat::Stratum),
            ]
            .into_iter()
            .find(|(marker, _)| text.contains(marker.as_str()))
            .map(|(_, format)| format);
        };
        if json.get("format").and_then(|f| f.as_str()) == Some(format::FORMAT_NAME) {
            return Some(ImportFormat::Backup);
        }
        if json.get("header").is_some() && json.get("db").is_some() {
            return Some(ImportFormat::Aegis);
        }
        if json.get("services").is_some() || json.get("servicesEncrypted").is_some() {
            return Some(ImportFormat::TwoFas);
        }
        if stratum::is_plain(&json) {
            return Some(ImportFormat::Stratum);
        }
        return None;
    }
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?.to_ascii_lowercase();
    if first.starts_with("otpauth-migration://") {
        Some(ImportFormat::GoogleMigration)
    } else if first.starts_with("otpauth://") {
        Some(ImportFormat::UriList)
    } else if totp_authenticator::looks_like_backup(text) {
        Some(ImportFormat::TotpAuthenticator)
    } else {
        None
    }
}

/// Android shared preferences: whose they are, by the keys they hold.
fn detect_prefs(bytes: &[u8]) -> Option<ImportFormat> {
    let prefs = crate::codec::prefs::parse(bytes).ok()?;
    if authy::is_token_store(&prefs) {
        return Some(ImportFormat::Authy);
    }
    if totp_authenticator::is_internal(&prefs) {
        return Some(ImportFormat::TotpAuthenticator);
    }
    None
}

/// Binary files: known magic numbers first, then andOTP's encrypted backups, which have none.
fn detect_binary(bytes: &[u8]) -> Option<ImportFormat> {
    if bytes.starts_with(stratum::HEADER) || bytes.starts_with(stratum::HEADER_LEGACY) {
        return Some(ImportFormat::Stratum);
    }
    if stratum::is_database(bytes) {
        return Some(ImportFormat::StratumDatabase);
    }
    if crate::codec::javaser::is_java_serialization(bytes) {
        return Some(ImportFormat::FreeOtpBackup);
    }
    const NOT_ANDOTP: [&[u8]; 6] = [
        b"\x89PNG",           // images (QR codes) are not backups
        b"\xff\xd8\xff",      // JPEG
        b"PK\x03\x04",        // zip (Authenticator Plus)
        b"SQLite format 3\0", // databases of other apps
        b"\xac\xed",          // Java serialization (FreeOTP v2)
        b"AUTHENTICATORPRO",  // Stratum
    ];
    if NOT_ANDOTP.iter().any(|magic| bytes.starts_with(magic)) || bytes.starts_with(b"AuthenticatorPro") {
        return None;
    }
    andotp::could_be_encrypted(bytes).then_some(ImportFormat::AndOtp)
}

/// Reads any supported export. `password` is needed for encrypted ones
/// ([`Error::PasswordRequired`] without it, [`Error::WrongPassword`] when it does not open).
pub fn parse(bytes: &[u8], password: Option<&str>) -> Result<ParsedImport> {
    check_size(bytes)?;
    let format = detect(bytes).ok_or(Error::UnknownImportFormat)?;
    let entries = match format {
        ImportFormat::Backup => format::open(bytes, password)?,
        ImportFormat::Aegis => aegis::parse(bytes, password)?,
        ImportFormat::TwoFas => twofas::parse(bytes, password)?,
        ImportFormat::GoogleMigration => google::parse_lines(text_of(bytes)?)?,
        ImportFormat::UriList => parse_uri_list(text_of(bytes)?),
        ImportFormat::AndOtp if std::str::from_utf8(bytes).is_ok() => andotp::parse_plain(bytes)?,
        ImportFormat::AndOtp => andotp::parse_encrypted(bytes, password)?,
        ImportFormat::Stratum if std::str::from_utf8(bytes).is_ok() => stratum::parse_plain(bytes)?,
        ImportFormat::Stratum => stratum::parse_encrypted(bytes, password)?,
        ImportFormat::StratumDatabase => stratum::parse_database(bytes)?,
        ImportFormat::Authy => authy::parse(bytes, password)?,
        ImportFormat::TotpAuthenticator if crate::codec::prefs::looks_like_prefs(bytes) => {
            totp_authenticator::parse_internal(bytes)?
        }
        ImportFormat::TotpAuthenticator => totp_authenticator::parse_backup(bytes, password)?,
        ImportFormat::FreeOtpBackup => freeotp_v2::parse(bytes, password)?,
    };
    Ok(ParsedImport { format, entries })
}

fn text_of(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| Error::InvalidImport("the file is not UTF-8 text".into()))
}

/// One `otpauth://` URI per line; blank lines and `#` comments are skipped. Every other line is
/// an entry: imported, or refused with the parser's reason.
pub fn parse_uri_list(text: &str) -> Vec<ImportEntry> {
    // Numbered before blank and comment lines are skipped: "line N" is the line in the file.
    text.lines()
        .map(|line| line.trim().trim_start_matches('\u{feff}'))
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(i, line)| match uri::parse(line) {
            Ok(data) => ImportEntry::account(data),
            Err(e) => ImportEntry::refused(format!("line {}", i + 1), e.to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests;
