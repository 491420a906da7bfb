//! Backups you can trust, and imports from the apps people are leaving.
//!
//! Bytes from outside (a backup file, another app's export, a QR payload) are parsed once here
//! into [`ImportEntry`]s: each either an [`AccountData`] or the reason it cannot be imported.
//! One bad entry never aborts the rest; the vault then imports all good entries in one
//! transaction, skipping duplicates ([`import`]).

pub mod aegis;
pub mod andotp;
pub mod authplus;
pub mod authy;
pub mod auto;
pub mod battlenet;
pub mod bitwarden;
pub mod codec;
pub mod duo;
pub mod ente;
pub mod format;
pub mod freeotp;
pub mod freeotp_v2;
pub mod google;
pub mod google_db;
mod import;
pub mod microsoft;
pub mod paper;
pub mod proton;
mod sqlite;
pub mod steam;
pub mod stratum;
pub mod totp_authenticator;
pub mod twofas;

pub use import::import;

use std::io::Read;

use crate::error::{Error, Result};
use domain::account::{AccountData, display_name};
use domain::text::clean;
use domain::uri;
use serde_json::Value;

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

domain::foreign_type! { $ import_format_definition {
/// Where imported data came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// Our own encrypted backup ([`format`]).
    Backup,
    /// Aegis JSON export, plain or password-encrypted.
    Aegis,
    /// 2FAS `.2fas` export, plain or password-encrypted.
    TwoFas,
    /// Google Authenticator `otpauth-migration://offline?data=…` (one or more QR payloads).
    GoogleMigration,
    /// Text with one `otpauth://` (or `steam://SECRET`) URI per line (also WinAuth's export).
    UriList,
    /// Bitwarden's unencrypted JSON or CSV export (login items with a `totp` field).
    Bitwarden,
    /// Ente Auth's export: otpauth URIs with Ente's `codeDisplay` (trash, tags), plain or
    /// password-encrypted (Argon2id, XChaCha20-Poly1305).
    EnteAuth,
    /// Proton Authenticator's JSON export.
    ProtonAuthenticator,
    /// Steam's mobile authenticator file (`Steamguard-…`, or the older single-account one).
    Steam,
    /// Google Authenticator's own SQLite database (rooted phone or device backup).
    GoogleAuthenticatorDb,
    /// Microsoft Authenticator's own SQLite database (rooted phone or device backup).
    MicrosoftAuthenticatorDb,
    /// Duo Mobile's accounts file (`accounts.json`, rooted phone or device backup).
    Duo,
    /// FreeOTP's v1 token store (shared-preferences XML; FreeOTP+ keeps the same file).
    FreeOtp,
    /// FreeOTP+'s JSON export.
    FreeOtpPlus,
    /// The Battle.net app's authenticator prefs (shared-preferences XML).
    BattleNet,
    /// Authenticator Plus's backup: a password-protected ZIP holding an otpauth URI list.
    AuthenticatorPlus,
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
}}

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

domain::foreign_type! { $ import_report_definition {
/// What an import did (or, as a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Names of the accounts imported.
    pub imported: Vec<String>,
    /// Names of accounts skipped because the vault already has them (same secret and account).
    pub duplicates: Vec<String>,
    /// Entries that cannot be imported, with the reason.
    pub refused: Vec<RefusedEntry>,
}
}}

domain::foreign_type! { $ refused_entry_definition {
/// An entry an import refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedEntry {
    /// The entry's name as shown to the user ("GitHub (alice)").
    pub name: String,
    /// Why the entry cannot be imported.
    pub reason: String,
}
}}

domain::foreign_type! { $ backup_check_definition {
/// What [`verify_backup`] found: the backup opens and every account in it restores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupCheck {
    /// Accounts that would be restored.
    pub accounts: i64,
    /// Entries that could not be restored (only possible in a file this app did not write).
    pub refused: Vec<RefusedEntry>,
}
}}

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
                domain::otp::Generator::new(data.params, &data.secret).code(0);
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
    secret: std::result::Result<domain::otp::Secret, String>,
    loose: &domain::otp::LooseParams,
) -> ImportEntry {
    let (issuer, label) = (clean(issuer), clean(label));
    let name = entry_name(display_name(&issuer, &label), "entry", index);
    let account = secret.and_then(|secret| {
        let params = domain::otp::OtpParams::from_loose(loose).map_err(|e| e.to_string())?;
        Ok(AccountData { issuer: issuer.into(), label: label.into(), params, secret, group: None })
    });
    match account {
        Ok(account) => ImportEntry { name, outcome: Ok(account) },
        Err(reason) => ImportEntry::refused(name, reason),
    }
}

/// A JSON error as an import error. serde's own messages can quote the offending value, which
/// may be a secret: only the kind of error and where it is are kept.
/// Typed JSON, always through a [`Value`]: then each type has one deserializer in the phones'
/// library (from a `Value`, which importers need anyway), not a second one from bytes (about
/// 2 KB a type). Syntax errors keep their line and column.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    serde_json::from_value(serde_json::from_slice::<Value>(bytes)?)
}

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

/// A loose JSON field as text for [`domain::otp::LooseParams`]: strings as they are, numbers as
/// their digits, `null` as absent, anything else as its JSON text (which then fails to parse).
fn loose_text(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `value` as JSON in one zeroizing buffer of exactly its size, measured first: for plaintexts
/// that hold secrets, so no growing step leaves a copy behind in freed memory.
pub(crate) fn secret_json<T: serde::Serialize>(value: &T) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    /// Counts, then fills: one writer type for both passes keeps one copy of the serialiser
    /// code per `T` in the library.
    struct SizedWriter {
        len: usize,
        out: Option<zeroize::Zeroizing<Vec<u8>>>,
    }
    impl std::io::Write for SizedWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.len += buf.len();
            if let Some(out) = &mut self.out {
                out.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = SizedWriter { len: 0, out: None };
    serde_json::to_writer(&mut counter, value)?;
    let mut writer = SizedWriter { len: 0, out: Some(zeroize::Zeroizing::new(Vec::with_capacity(counter.len))) };
    serde_json::to_writer(&mut writer, value)?;
    Ok(writer.out.unwrap_or_default())
}

/// A random (version 4) UUID, as Aegis and 2FAS name entries and groups.
pub(crate) fn uuid_v4() -> Result<String> {
    let mut b: [u8; 16] = storage::crypto::random_array()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]))
}

/// The distinct group names of `accounts`, in order of first use.
pub(crate) fn group_names(accounts: &[AccountData]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for group in accounts.iter().filter_map(|a| a.group.as_deref()) {
        if !group.is_empty() && !names.contains(&group) {
            names.push(group);
        }
    }
    names
}

/// Refuses an export password shorter than our own backups accept.
pub(crate) fn check_export_password(password: &str) -> Result<()> {
    if password.chars().count() < format::MIN_PASSWORD_CHARS {
        return Err(Error::WeakPassword(format::MIN_PASSWORD_CHARS));
    }
    Ok(())
}

/// Never hand out an export that the input cap would refuse to read back.
pub(crate) fn check_output_size(bytes: &[u8]) -> Result<()> {
    check_size(bytes)
}

/// Recognises the format of `bytes` without decrypting anything.
pub fn detect(bytes: &[u8]) -> Option<ImportFormat> {
    if crate::backup::codec::zip::is_zip(bytes) {
        return authplus::is_authenticator_plus(bytes).then_some(ImportFormat::AuthenticatorPlus);
    }
    if sqlite::is_sqlite(bytes) {
        return detect_database(bytes);
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return detect_binary(bytes);
    };
    let text = text.trim_start_matches('\u{feff}').trim();
    if crate::backup::codec::prefs::looks_like_prefs(text.as_bytes()) {
        return detect_prefs(text.as_bytes());
    }
    if text.starts_with('[') {
        let json = serde_json::from_str::<Value>(text).ok()?;
        if duo::is_duo(&json) {
            return Some(ImportFormat::Duo);
        }
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
                ("\"items\"".to_owned(), ImportFormat::Bitwarden),
                ("\"Authenticators\"".to_owned(), ImportFormat::Stratum),
                ("\"kdfParams\"".to_owned(), ImportFormat::EnteAuth),
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
        if ente::is_encrypted(&json) {
            return Some(ImportFormat::EnteAuth);
        }
        if freeotp::is_freeotp_plus(&json) {
            return Some(ImportFormat::FreeOtpPlus);
        }
        if steam::is_steam(&json) {
            return Some(ImportFormat::Steam);
        }
        if proton::is_proton(&json) {
            return Some(ImportFormat::ProtonAuthenticator);
        }
        if stratum::is_plain(&json) {
            return Some(ImportFormat::Stratum);
        }
        if json.get("items").is_some_and(Value::is_array) || json.get("passwordProtected").is_some() {
            return Some(ImportFormat::Bitwarden);
        }
        return None;
    }
    if text.lines().next().is_some_and(|header| header.split(',').any(|h| h.trim() == "login_totp")) {
        return Some(ImportFormat::Bitwarden);
    }
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?.to_ascii_lowercase();
    if first.starts_with("otpauth-migration://") {
        Some(ImportFormat::GoogleMigration)
    } else if first.starts_with("otpauth://") && ente::is_ente(text) {
        Some(ImportFormat::EnteAuth)
    } else if first.starts_with("otpauth://") || first.starts_with("steam://") {
        Some(ImportFormat::UriList)
    } else if totp_authenticator::looks_like_backup(text) {
        Some(ImportFormat::TotpAuthenticator)
    } else {
        None
    }
}

/// Android shared preferences: whose they are, by the keys they hold.
fn detect_prefs(bytes: &[u8]) -> Option<ImportFormat> {
    let prefs = crate::backup::codec::prefs::parse(bytes).ok()?;
    if battlenet::is_battle_net(&prefs) {
        return Some(ImportFormat::BattleNet);
    }
    if freeotp::is_freeotp_prefs(&prefs) {
        return Some(ImportFormat::FreeOtp);
    }
    if authy::is_token_store(&prefs) {
        return Some(ImportFormat::Authy);
    }
    if totp_authenticator::is_internal(&prefs) {
        return Some(ImportFormat::TotpAuthenticator);
    }
    None
}

/// Which app's database `bytes` is (opened as a private in-memory copy).
fn detect_database(bytes: &[u8]) -> Option<ImportFormat> {
    let conn = sqlite::open(bytes).ok()?;
    if google_db::is_google(&conn) {
        return Some(ImportFormat::GoogleAuthenticatorDb);
    }
    if microsoft::is_microsoft(&conn) {
        return Some(ImportFormat::MicrosoftAuthenticatorDb);
    }
    if stratum::is_database(bytes) {
        return Some(ImportFormat::StratumDatabase);
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
    if crate::backup::codec::javaser::is_java_serialization(bytes) {
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
        ImportFormat::Bitwarden if text_of(bytes)?.trim_start_matches('\u{feff}').trim_start().starts_with('{') => {
            bitwarden::parse_json(bytes)?
        }
        ImportFormat::Bitwarden => bitwarden::parse_csv(text_of(bytes)?)?,
        ImportFormat::EnteAuth if text_of(bytes)?.trim_start_matches('\u{feff}').trim_start().starts_with('{') => {
            ente::parse_encrypted(bytes, password)?
        }
        ImportFormat::EnteAuth => ente::parse(text_of(bytes)?),
        ImportFormat::ProtonAuthenticator => proton::parse(bytes)?,
        ImportFormat::Steam => steam::parse(bytes)?,
        ImportFormat::GoogleAuthenticatorDb => google_db::parse(bytes)?,
        ImportFormat::MicrosoftAuthenticatorDb => microsoft::parse(bytes)?,
        ImportFormat::Duo => duo::parse(bytes)?,
        ImportFormat::FreeOtp => freeotp::parse_prefs(bytes)?,
        ImportFormat::FreeOtpPlus => freeotp::parse_plus(bytes)?,
        ImportFormat::BattleNet => battlenet::parse(bytes)?,
        ImportFormat::AuthenticatorPlus => authplus::parse(bytes, password)?,
        ImportFormat::AndOtp if std::str::from_utf8(bytes).is_ok() => andotp::parse_plain(bytes)?,
        ImportFormat::AndOtp => andotp::parse_encrypted(bytes, password)?,
        ImportFormat::Stratum if std::str::from_utf8(bytes).is_ok() => stratum::parse_plain(bytes)?,
        ImportFormat::Stratum => stratum::parse_encrypted(bytes, password)?,
        ImportFormat::StratumDatabase => stratum::parse_database(bytes)?,
        ImportFormat::Authy => authy::parse(bytes, password)?,
        ImportFormat::TotpAuthenticator if crate::backup::codec::prefs::looks_like_prefs(bytes) => {
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

/// An OTP field as password managers and other apps store it: an `otpauth://` URI, a
/// `steam://SECRET` URI, or a bare base32 secret (TOTP, SHA-1, 6 digits, 30 s; no names). The
/// error is the reason to show for the entry.
fn otp_field(text: &str) -> std::result::Result<AccountData, String> {
    let text = text.trim();
    if text.contains("://") {
        return uri::parse(text).map_err(|e| e.to_string());
    }
    let secret = domain::otp::Secret::from_base32(text).map_err(|e| e.to_string())?;
    let params = domain::otp::OtpParams::from_loose(&Default::default()).map_err(|e| e.to_string())?;
    Ok(AccountData { issuer: "".into(), label: "".into(), params, secret, group: None })
}

/// One `otpauth://` (or `steam://SECRET`) URI per line; blank lines and `#` comments are skipped. Every other line is
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
