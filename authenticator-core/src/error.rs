//! Errors of the core.
//!
//! Messages are shown to users and may reach logs: they name the problem and the place (a path,
//! an account id) but never a secret, a code, a key or a PIN.

use std::path::PathBuf;

use crate::uri::UriError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An account definition (URI or form fields) was refused; the reason says why.
    #[error("invalid account: {0}")]
    InvalidAccount(#[from] UriError),
    /// The vault exists but was sealed with another data key (or passphrase).
    #[error("wrong key: this vault was sealed with a different key")]
    WrongKey,
    /// The data key does not have 32 bytes.
    #[error("a data key has 32 bytes, not {0}")]
    InvalidKeyLength(usize),
    /// The file is not an SQLite database, or a database of another program. It was not changed.
    #[error("{} is not an authenticator vault; it was left untouched", path.display())]
    NotAVault { path: PathBuf },
    /// The vault's file is damaged.
    #[error("the vault is damaged: {0}")]
    Corrupt(String),
    /// The vault was written by a newer version of the app.
    #[error("the vault has schema version {found}, newer than this build understands ({supported}); update the app")]
    NewerSchema { found: i64, supported: i64 },
    /// A clock offset beyond [`crate::vault::MAX_CLOCK_OFFSET`].
    #[error("a clock offset of {0} s is beyond 100 years")]
    InvalidClockOffset(i64),
    /// No account has this id (it may have been removed meanwhile).
    #[error("no account with id {0}")]
    NoSuchAccount(i64),
    /// The database failed for another reason (disk full, permissions, …).
    #[error("storage error: {0}")]
    Storage(String),
    /// The operating system refused a cryptographic operation (no randomness).
    #[error("cryptography failed: {0}")]
    Crypto(&'static str),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
        match e.sqlite_error_code() {
            Some(DatabaseCorrupt) | Some(NotADatabase) => Error::Corrupt(e.to_string()),
            // rusqlite's messages carry SQLite's text and, for conversion errors, column names,
            // never bound values, so no secret can surface here.
            _ => Error::Storage(e.to_string()),
        }
    }
}
