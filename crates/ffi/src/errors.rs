//! The errors a UI branches on ([`AuthError`]), and the exhaustive mapping from every internal
//! error (the services', storage's, the network's, the domain's) to them.

use domain::AccountError;
use domain::passkey::PasskeyError;
use services::Error;
use services::backup::auto::BackupFailure;

/// The errors a UI branches on: one variant per problem, with the fields a UI needs (attempts
/// left, seconds to wait, the id that was not found, …).
///
/// Every variant also carries `detail`, the problem in one line for a dialog or a log: the same
/// text as `Display`, which is exported too (Kotlin `toString()`, Swift `description`). Kotlin
/// builds an exception's `message` from the variant's fields only, so without a field a variant
/// would have an empty `message`; `detail` gives every one a message that names the problem.
/// Messages never carry a secret, code, key or PIN.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum AuthError {
    /// The vault was sealed with another data key.
    #[error("{detail}")]
    WrongKey {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The data key is not 32 bytes.
    #[error("{detail}")]
    InvalidKey {
        /// Why the key was refused.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The file is not an authenticator vault, or is damaged; it was left untouched.
    #[error("{detail}")]
    VaultUnreadable {
        /// Why the vault cannot be read.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The vault was written by a newer app version.
    #[error("{detail}")]
    NewerVault {
        /// The vault's schema version and the newest this app reads.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// An otpauth URI or account fields were refused; `reason` names the problem.
    #[error("{detail}")]
    InvalidUri {
        /// Why the URI or the fields were refused.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// A push enrollment URI was refused.
    #[error("{detail}")]
    InvalidEnrollment {
        /// Why the enrollment URI was refused.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// No account has this id (it may have been removed meanwhile).
    #[error("{detail}")]
    NoSuchAccount {
        /// The account id that was not found.
        id: i64,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The account's stored record does not open (tampered with or damaged); it can be removed.
    #[error("{detail}")]
    DamagedAccount {
        /// The damaged account's id.
        id: i64,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// No push token has this id.
    #[error("{detail}")]
    NoSuchToken {
        /// The token id that was not found.
        id: i64,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// No push request has this id.
    #[error("{detail}")]
    NoSuchRequest {
        /// The request id that was not found.
        id: i64,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// A token with this serial is already enrolled on this device.
    #[error("{detail}")]
    AlreadyEnrolled {
        /// The serial of the token already enrolled.
        serial: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// A request is answered at most once.
    #[error("{detail}")]
    AlreadyAnswered {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The request is past its validity window and can no longer be answered.
    #[error("{detail}")]
    Expired {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// Number matching: the pick is not among the choices.
    #[error("{detail}")]
    NotAChoice {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// Number matching: the server refused the number; the request stays answerable.
    #[error("{detail}")]
    WrongAnswer {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The push token needs its PIN and none was given, or its server forbids removing the PIN.
    #[error("{detail}")]
    PinRequired {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The PIN is wrong; after too many wrong PINs the token locks for a while.
    #[error("{detail}")]
    WrongPin {
        /// Wrong PINs still allowed before the lockout.
        attempts_left: i32,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// Too many wrong PINs: the token refuses PINs until `retry_after_seconds` have passed.
    #[error("{detail}")]
    LockedOut {
        /// Seconds until a PIN can be tried again.
        retry_after_seconds: i64,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// A push request failed verification and was dropped.
    #[error("{detail}")]
    ForgedRequest {
        /// Which check the request failed.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// Sync failed; `problem` says how, for a UI to branch on (set up again, retry later, warn
    /// that the server's data was tampered with). The local vault was left unchanged.
    #[error("{detail}")]
    Sync {
        /// What went wrong.
        problem: SyncProblem,
        /// The HTTP status when the server answered with an error, else 0.
        status: i32,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// Offline, DNS, TLS or timeout.
    #[error("{detail}")]
    Network {
        /// What failed, in one line.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The server refused, with its own message (named so: Kotlin exceptions own `message`).
    #[error("{detail}")]
    ServerRejected {
        /// The server's own error message.
        server_message: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// tiqr: the server refused the response; it counts such refusals.
    #[error("{detail}")]
    ResponseRefused {
        /// Attempts the server still allows; -1 when it does not say.
        attempts_left: i32,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// tiqr: the server knows no open sign-in for this code (expired or answered already).
    #[error("{detail}")]
    InvalidChallenge {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// tiqr: the server blocked this identity.
    #[error("{detail}")]
    AccountBlocked {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// tiqr: the sign-in code names an identity not enrolled here.
    #[error("{detail}")]
    UnknownIdentity {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The server's reply broke the protocol, or a URL is not https.
    #[error("{detail}")]
    Protocol {
        /// What broke the protocol, or which URL is not https.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The backup or export is encrypted and needs its password.
    #[error("{detail}")]
    PasswordRequired {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The password does not open the file, or the file was modified.
    #[error("{detail}")]
    WrongPassword {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// A new PIN is too short.
    #[error("{detail}")]
    WeakPin {
        /// The minimum length, in characters.
        min_chars: i32,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// A new sync passphrase is too easy to guess offline (the storage server holds what an
    /// offline attack needs): nothing was stored or written. Offer a random key and its pairing
    /// code instead, or ask for four or more random words.
    #[error("{detail}")]
    WeakPassphrase {
        /// Why, in a few words ("a common password or word", "too short: 6 characters", …).
        reason: String,
        /// log10 of the guesses an attacker needs (the estimate; 12 are needed).
        guesses_log10: f64,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// A backup password is too short.
    #[error("{detail}")]
    WeakPassword {
        /// The minimum length, in characters.
        min_chars: i32,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// Not a readable backup or export; `reason` says why.
    #[error("{detail}")]
    InvalidImport {
        /// Why the file cannot be read.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// A time server did not answer, or its answer was refused (wrong address, wrong origin,
    /// malformed, kiss-of-death, unsynchronised, no `Date`). The offset in force is unchanged.
    #[error("{detail}")]
    TimeSource {
        /// What went wrong, in one line.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// A measured clock offset beyond 24 hours was refused as implausible; the offset in force
    /// is unchanged.
    #[error("{detail}")]
    ImplausibleClock {
        /// The offset measured, in seconds (server time minus device time).
        offset_seconds: i64,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// An argument is out of range: a negative time or limit, a number too large for the core.
    #[error("{detail}")]
    InvalidArgument {
        /// Which argument was refused, and why.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// Automatic backups are off (enable them first).
    #[error("{detail}")]
    BackupsOff {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// A backup attempt failed (it is recorded in `backup_status()` too).
    #[error("{detail}")]
    BackupFailed {
        /// Why, typed: destination gone, no permission, disk full, verification failed, ….
        failure: BackupFailure,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// A passkey request is malformed (bad JSON, a missing challenge, a `user.id` not 1–64
    /// bytes, over 64 KiB, …): nothing was stored or signed. Tell the calling app it failed.
    #[error("{detail}")]
    PasskeyRequestInvalid {
        /// The JSON path of the field refused (`user.id`, `challenge`, `request` for the whole).
        field: String,
        /// What is wrong with it.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The caller's origin may not act for the request's relying party (another site, a public
    /// suffix, plain http other than localhost, a malformed origin): nothing was stored or signed.
    #[error("{detail}")]
    PasskeyOriginRefused {
        /// Why, naming the hosts.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// A credential the relying party excluded is stored here: this account has a passkey on
    /// this device already (Credential Manager: `InvalidStateError`). Nothing was stored.
    #[error("{detail}")]
    PasskeyAlreadyRegistered {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The request asks for what this authenticator does not do (no ES256 offered, a security
    /// key asked for): `NotSupportedError`. Nothing was stored.
    #[error("{detail}")]
    PasskeyNotSupported {
        /// What is not supported.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// No stored passkey matches (an unknown credential, another relying party's, one the
    /// request does not allow).
    #[error("{detail}")]
    PasskeyNotFound {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// The relying party requires user verification and the shell did not verify the user:
    /// verify (biometrics, device credential) and call again with `user_verified`.
    #[error("{detail}")]
    UserVerificationRequired {
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
    /// Storage or platform failure (disk full, no randomness, …).
    #[error("{detail}")]
    Internal {
        /// What failed, in one line.
        reason: String,
        /// The problem in one line, for a dialog or a log.
        detail: String,
    },
}

impl AuthError {
    pub(crate) fn invalid_argument(reason: String) -> Self {
        AuthError::InvalidArgument { detail: format!("invalid argument: {reason}"), reason }
    }

    pub(crate) fn internal(reason: String) -> Self {
        AuthError::Internal { detail: reason.clone(), reason }
    }
}

/// A count the core keeps small, for an `i32` field; saturates (never wraps) if it were not.
pub(crate) fn count_i32(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

/// How a sync round failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncProblem {
    /// Sync is not set up on this device.
    NotSetUp,
    /// The sync passphrase or pairing code is wrong for this server's data.
    WrongSecret,
    /// The server's data was modified, rolled back or is missing: nothing was applied.
    Tampered,
    /// Other devices kept writing at the same time: try again.
    Conflict,
    /// The server answered with an HTTP error (`status`; 401: wrong user or password).
    ServerError,
    /// The sync key was changed on another device (a lost device was locked out): set sync up
    /// again with the new passphrase or pairing code.
    KeyChanged,
}

impl From<Error> for AuthError {
    fn from(e: Error) -> Self {
        // The message of every variant (`detail`, and `reason` where there is one) is the internal
        // error's text: it never carries secrets, codes, keys or PINs, and must stay that way.
        let detail = e.to_string();
        let reason = detail.clone();
        match e {
            Error::Storage(e) => e.into(),
            Error::Net(e) => e.into(),
            Error::InvalidAccount(e) => AuthError::InvalidUri { reason: e.to_string(), detail },
            Error::Corrupt(_) => AuthError::VaultUnreadable { reason, detail },
            Error::InvalidInput(_) => AuthError::InvalidArgument { reason, detail },
            Error::WeakPin { min_chars } => AuthError::WeakPin { min_chars: count_i32(min_chars), detail },
            Error::InvalidEnrollment(_) => AuthError::InvalidEnrollment { reason, detail },
            Error::Protocol(_) => AuthError::Protocol { reason, detail },
            Error::NotAChoice(_) => AuthError::NotAChoice { detail },
            Error::WrongAnswer => AuthError::WrongAnswer { detail },
            Error::PinRequired => AuthError::PinRequired { detail },
            Error::WrongPin { attempts_left } => {
                AuthError::WrongPin { attempts_left: count_i32(attempts_left), detail }
            }
            Error::LockedOut { retry_after_seconds } => AuthError::LockedOut {
                retry_after_seconds: i64::try_from(retry_after_seconds).unwrap_or(i64::MAX),
                detail,
            },
            Error::ForgedRequest(reason) => AuthError::ForgedRequest { reason, detail },
            Error::SyncNotSetUp => AuthError::Sync { problem: SyncProblem::NotSetUp, status: 0, detail },
            Error::SyncWrongSecret => AuthError::Sync { problem: SyncProblem::WrongSecret, status: 0, detail },
            Error::SyncTampered(_) => AuthError::Sync { problem: SyncProblem::Tampered, status: 0, detail },
            Error::SyncConflict => AuthError::Sync { problem: SyncProblem::Conflict, status: 0, detail },
            Error::SyncKeyChanged => AuthError::Sync { problem: SyncProblem::KeyChanged, status: 0, detail },
            Error::WeakSyncPassphrase { weakness, guesses_log10 } => {
                AuthError::WeakPassphrase { reason: weakness.to_string(), guesses_log10, detail }
            }
            // The detail names the object and says the next round republishes.
            Error::SyncStateMissing { .. } => AuthError::Sync { problem: SyncProblem::Tampered, status: 0, detail },
            Error::SyncServer { status } => {
                AuthError::Sync { problem: SyncProblem::ServerError, status: i32::from(status), detail }
            }
            Error::ServerRejected { message } => AuthError::ServerRejected { server_message: message, detail },
            Error::ResponseRefused { attempts_left } => {
                AuthError::ResponseRefused { attempts_left: attempts_left.map_or(-1, count_i32), detail }
            }
            Error::InvalidChallenge => AuthError::InvalidChallenge { detail },
            Error::AccountBlocked => AuthError::AccountBlocked { detail },
            Error::UnknownIdentity => AuthError::UnknownIdentity { detail },
            Error::PasswordRequired => AuthError::PasswordRequired { detail },
            Error::WeakPassword(min) => AuthError::WeakPassword { min_chars: count_i32(min), detail },
            Error::WrongPassword => AuthError::WrongPassword { detail },
            Error::UnknownImportFormat | Error::InvalidImport(_) | Error::FileTooLarge { .. } => {
                AuthError::InvalidImport { reason, detail }
            }
            Error::BackupsOff => AuthError::BackupsOff { detail },
            Error::BackupFailed { failure, .. } => AuthError::BackupFailed { failure, detail },
            Error::TimeSource(e) => AuthError::TimeSource { reason: e.to_string(), detail },
            Error::ImplausibleClock { offset_seconds } => AuthError::ImplausibleClock { offset_seconds, detail },
            Error::Passkey(e) => e.into(),
            Error::Crypto(_) | Error::Json(_) | Error::Io(_) => AuthError::Internal { reason, detail },
        }
    }
}

impl From<storage::Error> for AuthError {
    fn from(e: storage::Error) -> Self {
        use storage::Error;
        let detail = e.to_string();
        let reason = detail.clone();
        match e {
            Error::WrongKey => AuthError::WrongKey { detail },
            Error::InvalidKeyLength(_) => AuthError::InvalidKey { reason, detail },
            Error::NotAVault { .. } | Error::Corrupt(_) | Error::CorruptDatabase(_) | Error::FileAccess { .. } => {
                AuthError::VaultUnreadable { reason, detail }
            }
            Error::NewerSchema { .. } => AuthError::NewerVault { reason, detail },
            Error::InvalidAccount(e) => AuthError::InvalidUri { reason: e.to_string(), detail },
            Error::InvalidClockOffset(_) | Error::InvalidInput(_) => AuthError::InvalidArgument { reason, detail },
            Error::KdfParameters(_) | Error::TooCostly { .. } => AuthError::InvalidImport { reason, detail },
            Error::NoSuchAccount(id) => AuthError::NoSuchAccount { id, detail },
            Error::DamagedAccount { id, .. } => AuthError::DamagedAccount { id, detail },
            Error::AlreadyEnrolled(serial) => AuthError::AlreadyEnrolled { serial, detail },
            Error::NoSuchToken(id) => AuthError::NoSuchToken { id, detail },
            Error::NoSuchRequest(id) => AuthError::NoSuchRequest { id, detail },
            Error::AlreadyAnswered => AuthError::AlreadyAnswered { detail },
            Error::Expired => AuthError::Expired { detail },
            Error::CounterExhausted(_)
            | Error::UpgradeNeedsWriteAccess { .. }
            | Error::Storage(_)
            | Error::Sqlite(_)
            | Error::Json(_)
            | Error::Crypto(_)
            | Error::Io(_) => AuthError::Internal { reason, detail },
        }
    }
}

impl From<net::Error> for AuthError {
    fn from(e: net::Error) -> Self {
        use net::Error;
        let detail = e.to_string();
        let reason = detail.clone();
        match e {
            Error::Network(reason) => AuthError::Network { reason, detail },
            Error::InsecureUrl(_) | Error::UnicodeHost(_) | Error::Redirected { .. } | Error::TooLarge { .. } => {
                AuthError::Protocol { reason, detail }
            }
        }
    }
}

impl From<PasskeyError> for AuthError {
    fn from(e: PasskeyError) -> Self {
        let detail = e.to_string();
        match e {
            PasskeyError::Invalid { field, reason } => AuthError::PasskeyRequestInvalid { field, reason, detail },
            PasskeyError::OriginRefused(reason) => AuthError::PasskeyOriginRefused { reason, detail },
            PasskeyError::AlreadyRegistered => AuthError::PasskeyAlreadyRegistered { detail },
            PasskeyError::NotSupported(reason) => AuthError::PasskeyNotSupported { reason, detail },
            PasskeyError::NotFound => AuthError::PasskeyNotFound { detail },
            PasskeyError::UserVerificationRequired => AuthError::UserVerificationRequired { detail },
        }
    }
}

impl From<AccountError> for AuthError {
    fn from(e: AccountError) -> Self {
        Error::from(e).into()
    }
}

impl From<domain::Error> for AuthError {
    fn from(e: domain::Error) -> Self {
        storage::Error::from(e).into()
    }
}

/// The result of every export.
pub type FfiResult<T> = Result<T, AuthError>;
