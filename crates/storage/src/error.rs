//! Errors of storage: the vault's file and rows, and the crypto under them.
//!
//! Messages are shown to users and may reach logs: they name the problem and the place (a path,
//! an account id) but never a secret, a code, a key or a PIN.

use std::path::PathBuf;

use domain::AccountError;

/// Storage's result type: [`Error`] unless another error type is named.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An account definition was refused; the reason says why.
    #[error("invalid account: {0}")]
    InvalidAccount(#[from] AccountError),
    /// The vault exists but was sealed with another data key (or passphrase).
    #[error("wrong key: this vault was sealed with a different key")]
    WrongKey,
    /// The data key does not have 32 bytes.
    #[error("a data key has 32 bytes, not {0}")]
    InvalidKeyLength(usize),
    /// The file is not an SQLite database, or a database of another program, or empty. It was
    /// not changed: an existing file is never re-initialised.
    #[error("{} is not an authenticator vault ({reason}); it was left untouched", path.display())]
    NotAVault {
        /// The file that was opened.
        path: PathBuf,
        /// What the file is instead ("the file is empty", "not an SQLite database", …).
        reason: &'static str,
    },
    /// The vault's file (or its folder) cannot be opened: permissions, a missing file, I/O.
    #[error("cannot open {}: {source}", path.display())]
    FileAccess {
        /// The file that could not be opened.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The vault must be upgraded to this build's schema, which a read-only open cannot do.
    #[error("the vault has schema version {found} and needs an upgrade to {latest}, which needs write access")]
    UpgradeNeedsWriteAccess {
        /// The vault's schema version.
        found: i64,
        /// The schema version this build writes.
        latest: i64,
    },
    /// One account's sealed record does not open under its row's identity and code parameters:
    /// tampered with (names swapped, parameters edited) or damaged. Names the row, nothing else.
    #[error("account {id} is damaged or was tampered with ({reason}); remove it or restore it from a backup")]
    DamagedAccount {
        /// The account's id.
        id: i64,
        /// What failed.
        reason: &'static str,
    },
    /// The vault's file is damaged.
    #[error("the vault is damaged: {0}")]
    Corrupt(String),
    /// The vault was written by a newer version of the app.
    #[error("the vault has schema version {found}, newer than this build understands ({supported}); update the app")]
    NewerSchema {
        /// The vault's schema version.
        found: i64,
        /// The newest schema version this build reads.
        supported: i64,
    },
    /// A clock offset beyond [`crate::vault::MAX_CLOCK_OFFSET`].
    #[error("a clock offset of {0} s is beyond 100 years")]
    InvalidClockOffset(i64),
    /// An HOTP account's counter reached its maximum: it can hand out no more codes.
    #[error("account {0} has used up its HOTP counter")]
    CounterExhausted(i64),
    /// A value given by the user or app is not acceptable; the reason says which and why.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Key-derivation parameters (from a file, or stored) beyond the bounds this app accepts.
    #[error("refusing key-derivation parameters: {0}")]
    KdfParameters(&'static str),
    /// Opening the file would cost more key-derivation work or memory than the budget of
    /// [`crate::crypto::kdf::KdfBudget`]; it was refused before any work.
    #[error(
        "too costly to open: its key derivation asks for about {work_ms} ms of CPU and {memory_mib} MiB of memory, beyond this app's budget of {budget_ms} ms in all and {budget_mib} MiB per file"
    )]
    TooCostly {
        /// Estimated CPU time of every derivation asked for so far, this one included, in ms.
        work_ms: u64,
        /// Memory the refused derivation would hold, in MiB.
        memory_mib: u64,
        /// The budget's CPU time for the whole file, in ms.
        budget_ms: u64,
        /// The budget's memory per derivation, in MiB.
        budget_mib: u64,
    },
    /// No account has this id (it may have been removed meanwhile).
    #[error("no account with id {0}")]
    NoSuchAccount(i64),
    /// A token with this serial is already stored on this device.
    #[error("push token {0} is already enrolled on this device")]
    AlreadyEnrolled(String),
    /// No push token has this id (it may have been removed meanwhile).
    #[error("no push token with id {0}")]
    NoSuchToken(i64),
    /// No push request has this id.
    #[error("no push request with id {0}")]
    NoSuchRequest(i64),
    /// The request was approved or denied already; a challenge is answered at most once.
    #[error("this request was already answered")]
    AlreadyAnswered,
    /// The request is older than its validity window and can no longer be answered.
    #[error("this request has expired")]
    Expired,
    /// SQLite reports the database file itself as damaged or not a database.
    #[error("the vault is damaged: {0}")]
    CorruptDatabase(#[source] rusqlite::Error),
    /// The database failed for another reason (disk full, permissions, …).
    #[error("storage error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    /// The database could not be put in the state the vault needs (e.g. WAL refused).
    #[error("storage error: {0}")]
    Storage(String),
    /// The operating system refused a cryptographic operation (no randomness).
    #[error("cryptography failed: {0}")]
    Crypto(&'static str),
    /// A file could not be read or written.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Writing JSON failed (serde reports why; no value is quoted).
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
        match e.sqlite_error_code() {
            Some(DatabaseCorrupt) | Some(NotADatabase) => Error::CorruptDatabase(e),
            // rusqlite's messages carry SQLite's text and, for conversion errors, column names,
            // never bound values, so no secret can surface here.
            _ => Error::Sqlite(e),
        }
    }
}

/// The domain's refusals, in storage's terms (a stored name this build does not know is
/// corruption; the rest is input).
impl From<domain::Error> for Error {
    fn from(e: domain::Error) -> Self {
        match e {
            domain::Error::Corrupt(reason) => Error::Corrupt(reason),
            domain::Error::InvalidInput(reason) => Error::InvalidInput(reason),
            domain::Error::NotCanonical => Error::InvalidInput("cannot canonicalise JSON".into()),
        }
    }
}
