//! Authenticator Plus backups: a password-protected ZIP (traditional ZIP encryption, the
//! backup password) holding `Accounts.txt`, one `otpauth://` URI per line.
//!
//! (The app's own database is SQLCipher; that is not what its backup is, and it is not read.)

use super::{ImportEntry, MAX_FILE_BYTES, parse_uri_list};
use crate::backup::codec::zip::{self, ZipError};
use crate::error::{Error, Result};

const ACCOUNTS: &str = "Accounts.txt";

/// Whether `bytes` is a ZIP archive holding `Accounts.txt`.
pub fn is_authenticator_plus(bytes: &[u8]) -> bool {
    zip::is_zip(bytes) && zip::entries(bytes).is_ok_and(|entries| entries.iter().any(is_accounts))
}

fn is_accounts(entry: &zip::Entry) -> bool {
    entry.name.rsplit('/').next() == Some(ACCOUNTS)
}

/// Reads the backup; it needs its password.
pub fn parse(bytes: &[u8], password: Option<&str>) -> Result<Vec<ImportEntry>> {
    let entries = zip::entries(bytes).map_err(error)?;
    let entry = entries.iter().find(|e| is_accounts(e)).ok_or(error(ZipError::NotFound))?;
    let text = zip::read(bytes, entry, password, MAX_FILE_BYTES).map_err(error)?;
    let text = std::str::from_utf8(&text).map_err(|_| Error::InvalidImport("Accounts.txt is not UTF-8 text".into()))?;
    Ok(parse_uri_list(text))
}

fn error(e: ZipError) -> Error {
    match e {
        ZipError::PasswordRequired => Error::PasswordRequired,
        ZipError::WrongPassword => Error::WrongPassword,
        ZipError::NotFound => Error::InvalidImport("the backup has no Accounts.txt".into()),
        ZipError::TooLarge => Error::FileTooLarge { limit_bytes: MAX_FILE_BYTES as u64 },
        ZipError::Invalid(why) => Error::InvalidImport(format!("the backup is not a valid ZIP file: {why}")),
        ZipError::Unsupported(what) => Error::InvalidImport(format!(
            "this backup uses {what}, which this app does not read; unzip it with its password and import Accounts.txt"
        )),
    }
}
