//! Errors of the core.
//!
//! Messages are shown to users and may reach logs: they name the problem and the place (a path,
//! an account id) but never a secret, a code, a key or a PIN.

use std::path::PathBuf;

use crate::account::AccountError;

/// The core's result type: [`Error`] unless another error type is named.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An account definition (URI or form fields) was refused; the reason says why.
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
    /// A measured clock offset beyond 24 hours: refused (the time server is wrong, or lying);
    /// the offset in force is unchanged.
    #[error("the measured clock offset of {offset_seconds} s is beyond 24 hours: refused as implausible")]
    ImplausibleClock {
        /// The offset measured, in seconds (server time minus device time).
        offset_seconds: i64,
    },
    /// A time server's answer was missing or refused; the offset in force is unchanged.
    #[error("time check failed: {0}")]
    TimeSource(#[from] crate::clock::TimeSourceError),
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
    Json(#[source] serde_json::Error),

    // Backups and imports.
    /// The file is encrypted and no password was given.
    #[error("this file is encrypted: a password is needed")]
    PasswordRequired,
    /// The password does not open the file (or the file was tampered with).
    #[error("wrong password, or the file was modified")]
    WrongPassword,
    /// A backup password shorter than the minimum (characters).
    #[error("a backup password needs at least {0} characters")]
    WeakPassword(usize),
    /// A file larger than the input cap ([`crate::backup::MAX_FILE_BYTES`]); it was not read past it.
    #[error("the file is larger than {} MiB, the most this app reads", limit_bytes / (1024 * 1024))]
    FileTooLarge {
        /// The cap, in bytes.
        limit_bytes: u64,
    },
    /// Not a format this app imports.
    #[error(
        "not a backup or export this app can read (see the README's list of formats: Aegis, 2FAS, Bitwarden, Google and Microsoft Authenticator, FreeOTP, Steam, otpauth URIs, this app's backup, …)"
    )]
    UnknownImportFormat,
    /// The file has the right format but its content is broken (truncated, malformed).
    #[error("the file cannot be read: {0}")]
    InvalidImport(String),
    /// An automatic-backup call while automatic backups are off.
    #[error("automatic backups are off")]
    BackupsOff,
    /// An automatic backup failed; the failure is recorded in the backup status too.
    #[error("the backup failed ({}): {detail}", failure.describe())]
    BackupFailed {
        /// Why, typed.
        failure: crate::backup::auto::BackupFailure,
        /// What happened, in one line (no secret, no account data).
        detail: String,
    },

    // Push approvals.
    /// A push enrollment URI was refused; the reason says why.
    #[error("invalid push enrollment: {0}")]
    InvalidEnrollment(String),
    /// A push server URL that is not https (plain http is allowed only on loopback).
    #[error("refusing {0}: push servers must use https (plain http only on loopback)")]
    InsecureUrl(String),
    /// A push server URL whose host is not ASCII: the library carries no Unicode tables for
    /// international domain names (IDNA), to stay small; their `xn--` form works.
    #[error("refusing {0}: write an international domain name in its xn-- form")]
    UnicodeHost(String),
    /// A token with this serial is already enrolled on this device.
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
    /// Number matching: the pick is not among the choices shown.
    #[error("'{0}' is not one of the choices")]
    NotAChoice(String),
    /// Number matching: the server says the picked number is wrong; the request stays open.
    #[error("the server did not accept that number; pick the one shown on the sign-in screen")]
    WrongAnswer,
    /// The token is locked behind a PIN and none was given.
    #[error("this account requires its PIN")]
    PinRequired,
    /// A new PIN shorter than the minimum (characters).
    #[error("a PIN needs at least {min_chars} characters")]
    WeakPin {
        /// The minimum length, in characters.
        min_chars: usize,
    },
    /// The PIN is wrong; after too many wrong PINs the token locks for a while.
    #[error("wrong PIN; {attempts_left} attempts left before a lockout")]
    WrongPin {
        /// Wrong PINs still allowed before the lockout.
        attempts_left: u32,
    },
    /// Too many wrong PINs: the token refuses PINs until `retry_after_seconds` have passed.
    #[error("too many wrong PINs; try again in {retry_after_seconds} s")]
    LockedOut {
        /// Seconds until a PIN can be tried again.
        retry_after_seconds: u64,
    },
    /// A push request failed verification (signature, serial, URL) and was dropped.
    #[error("dropped a forged or tampered push request: {0}")]
    ForgedRequest(String),
    /// The server could not be reached (offline, DNS, TLS, timeout).
    #[error("network error: {0}")]
    Network(String),
    /// The server answered with an error.
    #[error("the server refused: {message}")]
    ServerRejected {
        /// The server's error message.
        message: String,
    },
    /// The server's reply did not follow the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// tiqr: the server refused the response (`INVALID_RESPONSE:<n>`); counted by the server.
    #[error("the server refused the response{}", attempts_left.map(|n| format!("; {n} attempts left")).unwrap_or_default())]
    ResponseRefused {
        /// Attempts the server still allows, when it says.
        attempts_left: Option<u32>,
    },
    /// tiqr: the server knows no open sign-in with this session (expired or answered already).
    #[error("the server knows no open sign-in for this code (expired or answered already)")]
    InvalidChallenge,
    /// tiqr: the server blocked this identity after too many wrong responses.
    #[error("the server has blocked this account")]
    AccountBlocked,
    /// tiqr: a sign-in code for an identity not enrolled on this device.
    #[error("no identity enrolled on this device matches this sign-in code")]
    UnknownIdentity,

    // Sync.
    /// Sync is not set up on this device.
    #[error("sync is not set up on this device")]
    SyncNotSetUp,
    /// The sync passphrase or pairing code does not open this server's sync data.
    #[error("wrong sync passphrase or pairing code for this server's sync data")]
    SyncWrongSecret,
    /// An object on the sync server was modified, replaced by an older one, or is missing; it was
    /// not applied. The reason says which, in a few words.
    #[error("refused the sync server's data: {0}; nothing was applied")]
    SyncTampered(&'static str),
    /// Other devices kept writing at the same time; the round gave up and changed nothing here.
    #[error("other devices were syncing at the same time; try again")]
    SyncConflict,
    /// The sync server answered with an HTTP error status.
    #[error("the sync server answered HTTP {status}{}", if *status == 401 { " (wrong user name or server password)" } else { "" })]
    SyncServer {
        /// The HTTP status.
        status: u16,
    },
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e)
    }
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
