//! Errors of the services: their own, and storage's and the network's, wrapped.
//!
//! Messages are shown to users and may reach logs: they name the problem and the place (a path,
//! an account id) but never a secret, a code, a key or a PIN.

use domain::AccountError;

/// The services' result type: [`Error`] unless another error type is named.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An account definition (URI or form fields) was refused; the reason says why.
    #[error("invalid account: {0}")]
    InvalidAccount(#[from] AccountError),
    /// Stored or received data is damaged (a record of this app's that does not read back).
    #[error("the vault is damaged: {0}")]
    Corrupt(String),
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
    /// A value given by the user or app is not acceptable; the reason says which and why.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The operating system refused a cryptographic operation (no randomness).
    #[error("cryptography failed: {0}")]
    Crypto(&'static str),
    /// A file could not be read or written.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Storage refused (the vault's file or rows, crypto); its message says why.
    #[error(transparent)]
    Storage(#[from] storage::Error),
    /// A server could not be reached, or its reply broke the network rules (net's error).
    #[error(transparent)]
    Net(#[from] net::Error),
    /// A passkey request was refused (malformed, wrong origin, already registered, …); nothing
    /// was stored or signed.
    #[error(transparent)]
    Passkey(domain::passkey::PasskeyError),
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
        "not a backup or export this app can read (see docs/backups-and-formats.md for the list of formats: Aegis, 2FAS, Bitwarden, Google and Microsoft Authenticator, FreeOTP, Steam, otpauth URIs, this app's backup, …)"
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
    /// A new sync passphrase an offline attacker (the storage server) would guess: refused, and
    /// nothing was stored or written. The weakness says why.
    #[error(
        "this sync passphrase is too easy to guess offline ({weakness}: about 10^{} guesses, 10^{} needed); use four or more random words, or a random sync key and its pairing code",
        // As whole numbers: formatting an f64 would bring 18 KB of float printing into the
        // phones' library.
        guesses_log10.floor() as i64,
        domain::passphrase::MIN_GUESSES_LOG10 as i64
    )]
    WeakSyncPassphrase {
        /// Why it is too weak.
        weakness: domain::passphrase::Weakness,
        /// The estimated guesses, log10.
        guesses_log10: f64,
    },
    /// The sync key was changed on another device (`sync rekey`, after a device was lost): this
    /// device's key no longer opens the server's data. Nothing was applied; set sync up again
    /// with the new passphrase or pairing code.
    #[error(
        "the sync key was changed on another device: set sync up again with the new passphrase or pairing code; nothing was applied"
    )]
    SyncKeyChanged,
    /// Other devices kept writing at the same time; the round gave up and changed nothing here.
    #[error("other devices were syncing at the same time; try again")]
    SyncConflict,
    /// The state object the server's manifest points to is not on the server (deleted, or lost
    /// in a restore): nothing was applied. The next round republishes this device's state.
    #[error(
        "the sync server has lost the state object '{object}' its manifest points to (deleted, or lost in a restore); nothing was applied, and the next round republishes this device's accounts there"
    )]
    SyncStateMissing {
        /// The missing object's name.
        object: String,
    },
    /// The sync server answered with an HTTP error status.
    #[error("the sync server answered HTTP {status}{}", if *status == 401 { " (wrong user name or server password)" } else { "" })]
    SyncServer {
        /// The HTTP status.
        status: u16,
    },
}

impl Error {
    /// A server (an SNTP one included) could not be reached: the network's error.
    pub fn network(reason: String) -> Self {
        Error::Net(net::Error::Network(reason))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e)
    }
}

/// SQLite errors in services come from other apps' databases read by importers: storage's
/// classification (damaged file, or another failure) applies.
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Storage(e.into())
    }
}

/// The domain's refusals, as storage classifies them.
impl From<domain::Error> for Error {
    fn from(e: domain::Error) -> Self {
        Error::Storage(e.into())
    }
}
