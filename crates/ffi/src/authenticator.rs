//! The foreign API (uniffi): one `Authenticator` object for Kotlin and Swift.
//!
//! A thin facade: each method takes the vault lock for a synchronous step or hands an async push
//! call to the library's own tokio runtime, and converts errors to [`AuthError`]. No logic lives
//! here, so the Rust API and the foreign API cannot drift apart.
//!
//! Every export returns `Result`: uniffi turns a Rust panic into a thrown error only for
//! throwing functions, and a panic in a non-throwing one kills a Swift app.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::account::Name;
use crate::backup::auto::{self, BackupDestination, BackupFailure, BackupStatus};
use crate::backup::google::GoogleExport;
use crate::backup::{self, BackupCheck, ImportFormat, ImportReport};
use crate::clock::{self, ClockStatus};
use crate::error::Error;
use crate::otp::{Algorithm, OtpKind, OtpParams};
use crate::push::{self, DeclineReason, EnrollOptions, HistoryEntry, PushClient, PushRequest, PushToken};
use crate::sync;
use crate::time::DeviceClock;
use crate::vault::{Account, DataKey, Vault};
use crate::{AccountData, AccountError, uri};

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
    fn invalid_argument(reason: String) -> Self {
        AuthError::InvalidArgument { detail: format!("invalid argument: {reason}"), reason }
    }

    fn internal(reason: String) -> Self {
        AuthError::Internal { detail: reason.clone(), reason }
    }
}

/// A count the core keeps small, for an `i32` field; saturates (never wraps) if it were not.
fn count_i32(n: impl TryInto<i32>) -> i32 {
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
}

impl From<Error> for AuthError {
    fn from(e: Error) -> Self {
        // The message of every variant (`detail`, and `reason` where there is one) is the internal
        // error's text: it never carries secrets, codes, keys or PINs, and must stay that way.
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
            Error::WeakPin { min_chars } => AuthError::WeakPin { min_chars: count_i32(min_chars), detail },
            Error::KdfParameters(_) | Error::TooCostly { .. } => AuthError::InvalidImport { reason, detail },
            Error::NoSuchAccount(id) => AuthError::NoSuchAccount { id, detail },
            Error::DamagedAccount { id, .. } => AuthError::DamagedAccount { id, detail },
            Error::InvalidEnrollment(_) => AuthError::InvalidEnrollment { reason, detail },
            Error::InsecureUrl(_) | Error::UnicodeHost(_) | Error::Protocol(_) => {
                AuthError::Protocol { reason, detail }
            }
            Error::AlreadyEnrolled(serial) => AuthError::AlreadyEnrolled { serial, detail },
            Error::NoSuchToken(id) => AuthError::NoSuchToken { id, detail },
            Error::NoSuchRequest(id) => AuthError::NoSuchRequest { id, detail },
            Error::AlreadyAnswered => AuthError::AlreadyAnswered { detail },
            Error::Expired => AuthError::Expired { detail },
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
            Error::Network(reason) => AuthError::Network { reason, detail },
            Error::SyncNotSetUp => AuthError::Sync { problem: SyncProblem::NotSetUp, status: 0, detail },
            Error::SyncWrongSecret => AuthError::Sync { problem: SyncProblem::WrongSecret, status: 0, detail },
            Error::SyncTampered(_) => AuthError::Sync { problem: SyncProblem::Tampered, status: 0, detail },
            Error::SyncConflict => AuthError::Sync { problem: SyncProblem::Conflict, status: 0, detail },
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

impl From<AccountError> for AuthError {
    fn from(e: AccountError) -> Self {
        Error::from(e).into()
    }
}

type FfiResult<T> = Result<T, AuthError>;

/// An account as a list row shows it. Never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccountRecord {
    /// Stable identifier (0 in a preview of an unsaved account).
    pub id: i64,
    /// Service name ("GitHub"); may be empty.
    pub issuer: String,
    /// Account name at the service; may be empty.
    pub label: String,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
    /// The HMAC hash function.
    pub algorithm: Algorithm,
    /// Length of a code, in characters.
    pub digits: i32,
    /// Seconds (TOTP, Steam).
    pub period: i32,
    /// HOTP counter of the next code (0 ..= i64::MAX).
    pub counter: i64,
    /// The folder the account is filed under, if any.
    pub group: Option<String>,
    /// Position in the user's list, ascending.
    pub sort_order: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last edit.
    pub updated_at: i64,
    /// Unix seconds when a code was last taken, if ever.
    pub last_used_at: Option<i64>,
    /// Lower-case issuer with only letters and digits ("github"), to pick an icon.
    pub icon_hint: String,
}

impl From<Account> for AccountRecord {
    fn from(a: Account) -> Self {
        let p = a.params;
        AccountRecord {
            icon_hint: a.issuer.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect(),
            id: a.id,
            issuer: a.issuer,
            label: a.label,
            kind: p.kind(),
            algorithm: p.algorithm(),
            digits: p.digits().into(),
            // Bounded by the core (1..=3600 s, counter ≤ i64::MAX): saturating never triggers.
            period: count_i32(p.period()),
            counter: i64::try_from(p.counter()).unwrap_or(i64::MAX),
            group: a.group,
            sort_order: a.sort_order,
            created_at: a.created_at,
            updated_at: a.updated_at,
            last_used_at: a.last_used_at,
        }
    }
}

/// An account whose stored record does not open (tampered with or damaged). It is left out of
/// `list_accounts`, `codes` and exports; `remove_account(id)` deletes it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DamagedAccountRecord {
    /// The account's id.
    pub id: i64,
    /// What is wrong, in a few words (no name or secret: they are what failed to open).
    pub reason: String,
}

/// One account's code at one moment. `Debug` hides the codes.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeRecord {
    /// The account the code belongs to.
    pub account_id: i64,
    /// The code to type now.
    pub value: String,
    /// The code of the following period (TOTP, Steam) or counter (HOTP).
    pub next_value: String,
    /// Unix seconds (clock offset applied); 0 for HOTP.
    pub valid_from: i64,
    /// Unix seconds when `value` stops being valid; 0 for HOTP, which never expires.
    pub valid_until: i64,
    /// 1..=period; 0 for HOTP.
    pub seconds_left: i32,
    /// Seconds per code (TOTP, Steam); meaningless for HOTP.
    pub period: i32,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
    /// A clock correction is in force (manual or measured; see `clock_status`): the code is
    /// for the corrected time, not the device's.
    pub clock_corrected: bool,
}

impl std::fmt::Debug for CodeRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeRecord")
            .field("account_id", &self.account_id)
            .field("seconds_left", &self.seconds_left)
            .finish_non_exhaustive()
    }
}

/// Fields of an account typed in by hand; the secret travels separately. The numbers default to
/// what most services use (6 digits, 30 s, counter 0); out-of-range values are `InvalidUri`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AccountFields {
    /// Service name ("GitHub"); may be empty.
    pub issuer: String,
    /// Account name at the service; may be empty.
    pub label: String,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
    /// The HMAC hash function.
    pub algorithm: Algorithm,
    /// Length of a code, 4 to 10 characters; ignored for Steam.
    #[uniffi(default = 6)]
    pub digits: i32,
    /// Seconds (TOTP); ignored for HOTP and Steam.
    #[uniffi(default = 30)]
    pub period: i32,
    /// HOTP: the counter of the first code; ignored for TOTP and Steam.
    #[uniffi(default = 0)]
    pub counter: i64,
    /// The folder to file the account under, if any.
    #[uniffi(default = None)]
    pub group: Option<String>,
}

/// What an import did, or as a preview would do.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportResult {
    /// The format recognised.
    pub format: ImportFormat,
    /// What was imported, skipped as a duplicate or refused.
    pub report: ImportReport,
}

/// What one poll found.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PollResult {
    /// Requests this poll received, to show.
    pub new_requests: Vec<PushRequest>,
    /// Why forged or tampered challenges were dropped.
    pub rejected: Vec<String>,
    /// Tokens that could not be polled, and why.
    pub failures: Vec<PollFailure>,
}

/// A token that could not be polled.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PollFailure {
    /// The token's serial.
    pub serial: String,
    /// Why the poll failed, in one line.
    pub reason: String,
    /// The PIN is needed to poll this token (its poll is signed with the PIN-sealed key).
    pub needs_pin: bool,
}

/// The library's own runtime for network calls: one per process, two worker threads.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("authenticator-core")
            .enable_all()
            .build()
            .expect("the OS refused to start the network threads")
    })
}

/// Runs `future` on the library's runtime, whatever executor awaits the result.
async fn spawn<T: Send + 'static>(future: impl Future<Output = crate::Result<T>> + Send + 'static) -> FfiResult<T> {
    match runtime().spawn(future).await {
        Ok(result) => result.map_err(AuthError::from),
        Err(e) => Err(AuthError::internal(format!("background task failed: {e}"))),
    }
}

/// The authenticator: a vault opened with the app's data key, and push approvals. Safe to call
/// from several threads at once (a UI thread and a push service).
#[derive(uniffi::Object)]
pub struct Authenticator {
    vault: Arc<Mutex<Vault>>,
    client: PushClient,
    backups: Arc<Backups>,
}

/// Automatic backups of one `Authenticator`: the destination the shell set, and the one
/// scheduled run that coalesces a burst of changes.
#[derive(Default)]
struct Backups {
    destination: Mutex<Option<Arc<dyn BackupDestination>>>,
    scheduled: AtomicBool,
    running: Mutex<()>,
}

impl Backups {
    fn run(&self, vault: &Mutex<Vault>) -> crate::Result<String> {
        let _one_at_a_time = self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.run_locked(vault)
    }

    /// The scheduled run: only when still due once it is this run's turn (another may just have
    /// made the backup).
    fn run_if_due(&self, vault: &Mutex<Vault>) {
        let _one_at_a_time = self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let due = crate::VaultAccess::with_vault(vault, |v| auto::wait_seconds(v, crate::time::now()));
        if let Ok(Some(0)) = due {
            let _ = self.run_locked(vault);
        }
    }

    fn run_locked(&self, vault: &Mutex<Vault>) -> crate::Result<String> {
        let destination = self.destination.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        match destination {
            Some(destination) => auto::run(vault, &*destination),
            None => {
                crate::VaultAccess::with_vault(vault, auto::record_no_destination)?;
                let detail = "no backup destination is set".into();
                Err(Error::BackupFailed { failure: BackupFailure::NoDestination, detail })
            }
        }
    }
}

impl Authenticator {
    fn import_bytes(&self, file: &[u8], password: Option<String>, dry_run: bool) -> FfiResult<ImportResult> {
        let password = password.map(zeroize::Zeroizing::new);
        let parsed = backup::parse(file, password.as_deref().map(|p| p.as_str()))?;
        let import = |v: &Vault| backup::import(v, &parsed.entries, dry_run);
        let report = if dry_run { self.with(import)? } else { self.changing(import)? };
        Ok(ImportResult { format: parsed.format, report })
    }

    fn with<T>(&self, f: impl FnOnce(&Vault) -> crate::Result<T>) -> FfiResult<T> {
        crate::VaultAccess::with_vault(&*self.vault, f).map_err(AuthError::from)
    }

    /// [`Self::with`] for a change to the accounts: then an automatic backup is scheduled.
    fn changing<T>(&self, f: impl FnOnce(&Vault) -> crate::Result<T>) -> FfiResult<T> {
        let result = self.with(f);
        self.schedule_backup();
        result
    }

    /// Schedules one automatic backup on a background thread when one is due, after the wait
    /// that coalesces a burst (at most one attempt a minute). Never blocks the caller; the
    /// outcome goes to `backup_status()`.
    fn schedule_backup(&self) {
        // Nothing due (automatic backups off): no thread, which would hold the vault open for a
        // moment after the app closed it.
        if !matches!(self.with(|v| auto::wait_seconds(v, crate::time::now())), Ok(Some(_))) {
            return;
        }
        if self.backups.scheduled.swap(true, Ordering::SeqCst) {
            return;
        }
        let (vault, backups) = (self.vault.clone(), self.backups.clone());
        // A plain thread, not a task on the runtime: no async machinery to pay for in the
        // library's size, and the wait and the backup block nobody.
        let started = std::thread::Builder::new().name("authenticator-backup".into()).spawn(move || {
            // Until due (another attempt meanwhile postpones it), or nothing is due any more.
            while let Ok(Some(seconds @ 1..)) =
                crate::VaultAccess::with_vault(&*vault, |v| auto::wait_seconds(v, crate::time::now()))
            {
                std::thread::sleep(std::time::Duration::from_secs(seconds));
            }
            backups.scheduled.store(false, Ordering::SeqCst);
            backups.run_if_due(&vault);
        });
        if started.is_err() {
            self.backups.scheduled.store(false, Ordering::SeqCst);
        }
    }
}

#[uniffi::export]
impl Authenticator {
    /// Opens (or creates) the vault at `db_path` with the 32-byte `data_key` from the platform
    /// keystore. Fails with `WrongKey` when the vault was sealed with another key.
    #[uniffi::constructor]
    pub fn new(db_path: String, data_key: Vec<u8>) -> FfiResult<Arc<Self>> {
        let key = DataKey::from_slice(&zeroize::Zeroizing::new(data_key))?;
        let vault = Vault::open(db_path, &key)?;
        Ok(Arc::new(Self { vault: Arc::new(Mutex::new(vault)), client: PushClient::new()?, backups: Arc::default() }))
    }

    /// All OTP accounts in the user's order.
    pub fn list_accounts(&self) -> FfiResult<Vec<AccountRecord>> {
        self.with(|v| Ok(v.accounts()?.into_iter().map(AccountRecord::from).collect()))
    }

    /// Accounts whose record does not open (tampered with or damaged): shown apart, by id, so the
    /// user can remove them or restore them from a backup. Every other call keeps working.
    pub fn damaged_accounts(&self) -> FfiResult<Vec<DamagedAccountRecord>> {
        self.with(|v| {
            Ok(v.damaged_accounts()?
                .into_iter()
                .map(|d| DamagedAccountRecord { id: d.id, reason: d.reason.into() })
                .collect())
        })
    }

    /// Accounts whose issuer, label or group contains `query` (any case).
    pub fn search_accounts(&self, query: String) -> FfiResult<Vec<AccountRecord>> {
        self.with(|v| Ok(v.search(&query)?.into_iter().map(AccountRecord::from).collect()))
    }

    /// Adds an account from an `otpauth://` URI (as scanned from a QR code).
    pub fn add_account_from_uri(&self, uri: String) -> FfiResult<AccountRecord> {
        let data = uri::parse(&uri)?;
        self.changing(|v| Ok(v.add(&data)?.into()))
    }

    /// Adds an account typed in by hand; `secret_base32` as the service shows it.
    pub fn add_account(&self, fields: AccountFields, secret_base32: String) -> FfiResult<AccountRecord> {
        let secret_base32 = zeroize::Zeroizing::new(secret_base32);
        // Checked narrowing: a negative or oversized number is refused like one in a URI.
        let digits = u8::try_from(fields.digits).map_err(|_| AccountError::InvalidDigits(fields.digits.to_string()))?;
        let period =
            u32::try_from(fields.period).map_err(|_| AccountError::InvalidPeriod(fields.period.to_string()))?;
        let counter =
            u64::try_from(fields.counter).map_err(|_| AccountError::InvalidCounter(fields.counter.to_string()))?;
        let params = OtpParams::new(fields.kind, fields.algorithm, digits, period, counter)?;
        let data =
            AccountData::from_fields(&fields.issuer, &fields.label, fields.group.as_deref(), params, &secret_base32)?;
        self.changing(|v| Ok(v.add(&data)?.into()))
    }

    /// Changes an account's issuer and label.
    pub fn rename_account(&self, id: i64, issuer: String, label: String) -> FfiResult<()> {
        self.changing(|v| v.rename(id, &Name::new(&issuer), &Name::new(&label)))
    }

    /// Files an account under `group`, or under none (the default).
    #[uniffi::method(default(group = None))]
    pub fn set_account_group(&self, id: i64, group: Option<String>) -> FfiResult<()> {
        self.changing(|v| v.set_group(id, group.map(Name::from).as_ref()))
    }

    /// Group names in use, sorted.
    pub fn groups(&self) -> FfiResult<Vec<String>> {
        self.with(|v| v.groups())
    }

    /// Puts `ids` first, in that order; the rest keep their order after them.
    pub fn reorder_accounts(&self, ids: Vec<i64>) -> FfiResult<()> {
        self.changing(|v| v.reorder(&ids))
    }

    /// Deletes an account and its secret from the vault.
    pub fn remove_account(&self, id: i64) -> FfiResult<()> {
        self.changing(|v| v.remove(id))
    }

    /// Every account's code at `now` (Unix seconds, device clock): one call per screen refresh.
    pub fn codes(&self, now: i64) -> FfiResult<Vec<CodeRecord>> {
        let now = unix_seconds(now)?;
        let (codes, offset) = self.with(|v| Ok((v.codes(now)?, v.clock_offset()?)))?;
        codes.into_iter().map(|c| code_record(c.account.id, &c.account.params, c.code, offset != 0)).collect()
    }

    /// Takes a code to use it (copy, autofill): records the use; advances an HOTP counter.
    pub fn take_code(&self, id: i64, now: i64) -> FfiResult<CodeRecord> {
        let now = unix_seconds(now)?;
        let (params, code, offset) =
            self.changing(|v| Ok((v.account(id)?.params, v.take_code(id, now)?, v.clock_offset()?)))?;
        code_record(id, &params, code, offset != 0)
    }

    /// An encrypted backup of every OTP account (not push tokens: they are bound to this
    /// device), as file bytes to save or share. Argon2id + AES-256-GCM; see `backup::format`.
    pub fn export_backup(&self, password: String) -> FfiResult<Vec<u8>> {
        let password = zeroize::Zeroizing::new(password);
        let accounts = self.with(|v| v.all_account_data())?;
        Ok(backup::format::encrypt(&accounts, &password, backup::format::KdfParams::default())?)
    }

    /// Sets where automatic backups go: the app's implementation of `BackupDestination` (the
    /// Storage Access Framework, a file provider, iCloud Drive, a folder). Set it after every
    /// start; a backup due (changes made while the app was closed) is scheduled at once.
    pub fn set_backup_destination(&self, destination: Arc<dyn BackupDestination>) -> FfiResult<()> {
        *self.backups.destination.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(destination);
        self.schedule_backup();
        Ok(())
    }

    /// Turns automatic backups on, keeping the newest `keep` copies (default 10): derives the
    /// backup key from `password` once (Argon2id, 64 MiB: about a second; call it off the UI
    /// thread) and keeps it sealed in the vault. When already on, changes the password (later
    /// copies open with the new one, older ones with the old) and `keep`. A first backup is
    /// scheduled at once; the files open with `verify_backup` and `import_file` like any backup.
    #[uniffi::method(default(keep = 10))]
    pub fn enable_backups(&self, password: String, keep: i32) -> FfiResult<()> {
        let password = zeroize::Zeroizing::new(password);
        self.with(|v| auto::enable(v, &password, keep, None, backup::format::KdfParams::default()))?;
        self.schedule_backup();
        Ok(())
    }

    /// Changes the password of automatic backups (a new key, derived once); see `enable_backups`.
    pub fn change_backup_password(&self, password: String) -> FfiResult<()> {
        let password = zeroize::Zeroizing::new(password);
        self.with(|v| auto::change_password(v, &password, backup::format::KdfParams::default()))?;
        self.schedule_backup();
        Ok(())
    }

    /// Turns automatic backups off and forgets their key; copies already made stay.
    pub fn disable_backups(&self) -> FfiResult<()> {
        self.with(auto::disable)
    }

    /// Automatic backups: on or off, last success, last failure and why, and `warning`, the text
    /// to show while the last attempt failed or no backup succeeded for 7 days.
    pub fn backup_status(&self) -> FfiResult<BackupStatus> {
        self.with(|v| auto::status(v, crate::time::now()))
    }

    /// Makes an automatic backup now (written, read back, verified, rotated), whether or not
    /// anything changed. Fails with `BackupFailed` (and records it) when it cannot.
    pub fn backup_now(&self) -> FfiResult<BackupStatus> {
        self.backups.run(&self.vault)?;
        self.backup_status()
    }

    /// What importing `file` would do (format detected automatically), without writing anything.
    #[uniffi::method(default(password = None))]
    pub fn preview_import(&self, file: Vec<u8>, password: Option<String>) -> FfiResult<ImportResult> {
        self.import_bytes(&file, password, true)
    }

    /// Imports a backup or another app's export (Aegis, 2FAS, Google Authenticator migration
    /// URIs, otpauth URI lists): one transaction; duplicates skipped; bad entries reported.
    #[uniffi::method(default(password = None))]
    pub fn import_file(&self, file: Vec<u8>, password: Option<String>) -> FfiResult<ImportResult> {
        self.import_bytes(&file, password, false)
    }

    /// Every account as an `otpauth://` URI. These carry the secrets: call only after the user
    /// explicitly confirmed. With `steam_as_totp`, Steam accounts are written as
    /// `otpauth://totp/…&encoder=steam`, for apps that do not read `otpauth://steam`.
    #[uniffi::method(default(steam_as_totp = false))]
    pub fn export_otpauth_uris(&self, steam_as_totp: bool) -> FfiResult<Vec<String>> {
        let steam = if steam_as_totp { crate::uri::SteamUri::TotpEncoder } else { crate::uri::SteamUri::Scheme };
        // uniffi lowers owned Strings: the copy handed over is the foreign side's to wipe.
        self.with(|v| Ok(v.export_uris_with(steam)?.iter().map(|uri| uri.as_str().to_owned()).collect()))
    }

    /// Google Authenticator migration payloads for every account the format can carry.
    pub fn export_google_migration(&self) -> FfiResult<GoogleExport> {
        let accounts = self.with(|v| v.all_account_data())?;
        Ok(backup::google::export(&accounts))
    }

    /// Seconds added to the device clock for every code.
    pub fn clock_offset(&self) -> FfiResult<i64> {
        self.with(|v| v.clock_offset())
    }

    /// Sets the seconds added to the device clock for every code (at most 100 years either way),
    /// and puts this manual offset in force (automatic correction off).
    pub fn set_clock_offset(&self, seconds: i64) -> FfiResult<()> {
        self.with(|v| v.set_clock_offset(seconds))
    }

    /// The offset in force, where it came from, the last measurement, and a banner line when the
    /// device clock was measured more than 10 s off.
    pub fn clock_status(&self) -> FfiResult<ClockStatus> {
        self.with(clock::status)
    }

    /// Automatic correction on (measured offsets apply) or off (the manual offset applies).
    pub fn set_clock_automatic(&self, automatic: bool) -> FfiResult<()> {
        self.with(|v| clock::set_automatic(v, automatic))
    }

    /// Measures the device clock against the servers the user named: an SNTP server
    /// (`host`, `host:port`) and/or the `Date` header of an https URL, the device clock reading
    /// `now_ms` (Unix milliseconds) at the call; each result is recorded. One call for both (each
    /// async export costs the phones' library kilobytes). A failure leaves the offset unchanged
    /// (`TimeSource`, `ImplausibleClock`, `Network`, `Protocol`).
    #[uniffi::method(default(ntp_server = None, https_url = None))]
    pub async fn check_clock(
        &self,
        now_ms: i64,
        ntp_server: Option<String>,
        https_url: Option<String>,
    ) -> FfiResult<ClockStatus> {
        if ntp_server.is_none() && https_url.is_none() {
            return Err(AuthError::invalid_argument("name an NTP server or an https URL".into()));
        }
        let (vault, client, device) = (self.vault.clone(), self.client.clone(), DeviceClock::reading(now_ms));
        spawn(async move {
            use crate::VaultAccess;
            if let Some(server) = ntp_server {
                let m = tokio::task::spawn_blocking(move || clock::sntp::query(&server, device, clock::NTP_TIMEOUT))
                    .await
                    .map_err(|_| Error::Network("the time check was interrupted".into()))??;
                vault.with_vault(|v| clock::record(v, m))?;
            }
            if let Some(url) = https_url {
                let m = clock::measure_https(&client, &url, device).await?;
                vault.with_vault(|v| clock::record(v, m))?;
            }
            vault.with_vault(clock::status)
        })
        .await
    }

    /// Enrolls from a scanned code: `otpauth://pipush/…` or `pia://…` (privacyIDEA; an RSA-4096
    /// key generated off the calling thread), `edumfa-push://…` (eduMFA's eduPUSH; a P-256 key),
    /// or `tiqrenroll://…` (tiqr; a 32-byte secret). `pin` locks the token's key or secret;
    /// `fb_token` None: poll only; `allow_insecure_tls` skips certificate checks only when the
    /// server itself says `sslverify=0` (for tiqr, which has no such flag: whenever set).
    #[uniffi::method(default(pin = None, fb_token = None, allow_insecure_tls = false))]
    pub async fn enroll_push(
        &self,
        uri: String,
        pin: Option<String>,
        fb_token: Option<String>,
        allow_insecure_tls: bool,
    ) -> FfiResult<PushToken> {
        let (vault, client) = (self.vault.clone(), self.client.clone());
        let options = EnrollOptions { pin, fb_token, allow_insecure_tls, key_bits: None };
        spawn(async move { push::enroll(&*vault, &client, &uri, options).await }).await
    }

    /// Polls every push token. PIN-locked tokens are polled only when `pins` has their PIN
    /// (token id → PIN); the others report `needs_pin` in `failures`.
    #[uniffi::method(default(pins))]
    pub async fn poll_push(&self, pins: HashMap<i64, String>) -> FfiResult<PollResult> {
        let (vault, client) = (self.vault.clone(), self.client.clone());
        let pins: BTreeMap<i64, String> = pins.into_iter().collect();
        let report = spawn(async move { push::poll(&*vault, &client, &pins).await }).await?;
        Ok(PollResult {
            new_requests: report.new_requests,
            rejected: report.rejected,
            failures: report
                .failures
                .into_iter()
                .map(|(serial, e)| PollFailure {
                    serial,
                    needs_pin: matches!(e, Error::PinRequired),
                    reason: e.to_string(),
                })
                .collect(),
        })
    }

    /// A scanned tiqr sign-in code (`tiqrauth://…` or its https form) as a pending request, for
    /// an identity enrolled here (else `UnknownIdentity`). Scanning the same code again returns
    /// the same request. Approve or deny it like a push request.
    pub fn scan_sign_in(&self, uri: String) -> FfiResult<PushRequest> {
        push::tiqr::scan(&*self.vault, &uri).map_err(AuthError::from)
    }

    /// Handles the data payload of a Firebase/APNs push message. Returns the request to show, or
    /// None when it was already received. Forged requests fail with `ForgedRequest`.
    pub fn handle_push_payload(&self, payload: HashMap<String, String>) -> FfiResult<Option<PushRequest>> {
        let payload: BTreeMap<String, String> = payload.into_iter().collect();
        push::handle_push_payload(&*self.vault, &payload).map_err(AuthError::from)
    }

    /// Requests waiting for an answer, oldest first.
    pub fn pending_push_requests(&self) -> FfiResult<Vec<PushRequest>> {
        self.with(|v| v.pending_push_requests())
    }

    /// Approves a request; `answer` is the picked number for number matching, `pin` the token's PIN
    /// when it has one.
    #[uniffi::method(default(answer = None, pin = None))]
    pub async fn approve(&self, request_id: i64, answer: Option<String>, pin: Option<String>) -> FfiResult<()> {
        let (vault, client) = (self.vault.clone(), self.client.clone());
        spawn(async move { push::approve(&*vault, &client, request_id, answer.as_deref(), pin.as_deref()).await }).await
    }

    /// Denies a request, with a reason when the server accepts one.
    #[uniffi::method(default(reason = None, pin = None))]
    pub async fn deny(&self, request_id: i64, reason: Option<DeclineReason>, pin: Option<String>) -> FfiResult<()> {
        let (vault, client) = (self.vault.clone(), self.client.clone());
        spawn(async move { push::deny(&*vault, &client, request_id, reason, pin.as_deref()).await }).await
    }

    /// Every enrolled push token.
    pub fn push_tokens(&self) -> FfiResult<Vec<PushToken>> {
        self.with(|v| v.push_tokens())
    }

    /// Removes a push token from this device (the server is not told).
    pub fn remove_push_token(&self, token_id: i64) -> FfiResult<()> {
        self.with(|v| v.remove_push_token(token_id))
    }

    /// Sets, changes (`current` = the PIN in force) or removes (`new` None) a token's PIN.
    /// `current` defaults to None (no PIN yet); `new` has no default: removing a PIN is explicit.
    #[uniffi::method(default(current = None))]
    pub fn set_push_pin(&self, token_id: i64, current: Option<String>, new: Option<String>) -> FfiResult<()> {
        self.with(|v| push::pin::set_pin(v, token_id, current.as_deref(), new.as_deref()))
    }

    /// Decisions, newest first; at most `limit` (not negative).
    pub fn push_history(&self, limit: i32) -> FfiResult<Vec<HistoryEntry>> {
        let limit =
            u32::try_from(limit).map_err(|_| AuthError::invalid_argument(format!("limit {limit} is negative")))?;
        self.with(|v| v.push_history(limit))
    }

    /// Registers a new Firebase/APNs token with the server.
    #[uniffi::method(default(pin = None))]
    pub async fn update_push_token(&self, token_id: i64, fb_token: String, pin: Option<String>) -> FfiResult<()> {
        let (vault, client) = (self.vault.clone(), self.client.clone());
        spawn(async move { push::update_fb_token(&*vault, &client, token_id, &fb_token, pin.as_deref()).await }).await
    }

    /// Sets up end-to-end encrypted sync with a WebDAV folder (`url`: https, or http on
    /// loopback), as `user` with the server `password`. Give the sync passphrase (the first
    /// device draws the salt; later ones must give the same: `Sync { problem: WrongSecret }`)
    /// or a pairing code from a device already set up. Does not sync: call `sync_now`.
    #[uniffi::method(default(passphrase = None, pairing_code = None))]
    pub async fn setup_sync(
        &self,
        url: String,
        user: String,
        password: String,
        passphrase: Option<String>,
        pairing_code: Option<String>,
    ) -> FfiResult<()> {
        let vault = self.vault.clone();
        spawn(async move {
            let secret = match (&passphrase, &pairing_code) {
                (Some(p), None) => sync::SyncSecret::Passphrase(p),
                (None, Some(c)) => sync::SyncSecret::PairingCode(c),
                _ => return Err(Error::InvalidInput("give a sync passphrase or a pairing code, not both".into())),
            };
            sync::setup(&*vault, &sync::SyncClient::new()?, &url, &user, &password, secret).await
        })
        .await
    }

    /// One sync round: merges this device's accounts with the server's and writes the result
    /// to both. On any error the local accounts are unchanged.
    pub async fn sync_now(&self) -> FfiResult<SyncResult> {
        let vault = self.vault.clone();
        let report = spawn(async move { sync::sync_now(&*vault, &sync::SyncClient::new()?).await }).await?;
        Ok(SyncResult {
            changed_here: count_i32(report.changed_here),
            uploaded: report.uploaded,
            generation: i64::try_from(report.generation).unwrap_or(i64::MAX),
        })
    }

    /// Sync's status: server, last success and error, changes not yet on the server.
    pub fn sync_status(&self) -> FfiResult<SyncStatusRecord> {
        let s = sync::status(&*self.vault)?;
        Ok(SyncStatusRecord {
            server: s.server,
            user: s.user,
            last_success: s.last_success,
            last_error: s.last_error,
            pending_changes: i64::try_from(s.pending_changes).unwrap_or(i64::MAX),
        })
    }

    /// The pairing code (the sync key as text, to show as text or a QR code) for another device.
    pub fn sync_pairing_code(&self) -> FfiResult<String> {
        Ok(sync::pairing_code(&*self.vault)?.as_str().to_owned())
    }

    /// Leaves sync: forgets the server, its password and the sync key; the accounts stay.
    pub fn leave_sync(&self) -> FfiResult<()> {
        Ok(sync::leave(&*self.vault)?)
    }
}

/// What one sync round did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncResult {
    /// Accounts added, changed or removed on this device.
    pub changed_here: i32,
    /// Whether the round wrote a new state to the server.
    pub uploaded: bool,
    /// The server's state generation now current.
    pub generation: i64,
}

/// Sync's status, for a settings screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatusRecord {
    /// The server folder; None when sync is not set up.
    pub server: Option<String>,
    /// The user name on the server.
    pub user: Option<String>,
    /// Unix seconds of the last successful round.
    pub last_success: Option<i64>,
    /// Why the last round failed (cleared by a success).
    pub last_error: Option<String>,
    /// Changes made here that are not on the server yet.
    pub pending_changes: i64,
}

/// `now` from the app: Unix seconds, not before 1970.
fn unix_seconds(now: i64) -> FfiResult<u64> {
    u64::try_from(now)
        .map_err(|_| AuthError::invalid_argument(format!("time {now} is before 1970 (negative Unix seconds)")))
}

fn code_record(account_id: i64, params: &OtpParams, code: crate::Code, corrected: bool) -> FfiResult<CodeRecord> {
    // Checked: a `now` near i64::MAX plus the clock offset can end a window past i64::MAX.
    let time = |t: u64| {
        i64::try_from(t).map_err(|_| AuthError::invalid_argument(format!("time {t} is beyond the range of i64")))
    };
    Ok(CodeRecord {
        account_id,
        value: code.value,
        next_value: code.next_value,
        valid_from: time(code.valid_from)?,
        valid_until: time(code.valid_until)?,
        seconds_left: count_i32(code.seconds_left),
        period: count_i32(params.period()),
        kind: params.kind(),
        clock_corrected: corrected,
    })
}

/// Exports to other apps.
#[uniffi::export]
impl Authenticator {
    /// An Aegis vault file of every OTP account, as file bytes to save or share; Aegis imports
    /// it. With a `password` (at least 8 characters) it is encrypted as Aegis encrypts its vault
    /// (scrypt key slot, AES-256-GCM); with `None` it is plain JSON holding every secret: call
    /// that only after the user explicitly confirmed.
    pub fn export_aegis(&self, password: Option<String>) -> FfiResult<Vec<u8>> {
        let password = password.map(zeroize::Zeroizing::new);
        let accounts = self.with(|v| v.all_account_data())?;
        // uniffi lowers an owned Vec: the copy handed over is the foreign side's to wipe.
        Ok(backup::aegis::export(&accounts, password.as_deref().map(String::as_str))?.to_vec())
    }

    /// A 2FAS `.2fas` file of every OTP account, as file bytes; 2FAS imports it. With a
    /// `password` (at least 8 characters) the accounts are encrypted as 2FAS does (PBKDF2,
    /// AES-256-GCM; group names stay readable, as in 2FAS's own files); with `None` it is plain
    /// JSON holding every secret: call that only after the user explicitly confirmed.
    pub fn export_two_fas(&self, password: Option<String>) -> FfiResult<Vec<u8>> {
        let password = password.map(zeroize::Zeroizing::new);
        let accounts = self.with(|v| v.all_account_data())?;
        Ok(backup::twofas::export(&accounts, password.as_deref().map(String::as_str))?.to_vec())
    }
}

/// The printable sheet, for builds with the `paper` feature (desktop JVM or Swift apps): its QR
/// encoder is not in the phones' default library, which stays within its 5 MB budget without it
/// (see Cargo.toml); phones draw QR codes with the platform's APIs.
#[cfg(feature = "paper")]
#[uniffi::export]
impl Authenticator {
    /// A printable HTML page (UTF-8 bytes): one card per account with its issuer, label, QR code
    /// and secret; self-contained (nothing fetched). It holds every secret in clear: call only
    /// after the user explicitly confirmed, and offer to print rather than to keep the file.
    pub fn export_paper(&self) -> FfiResult<Vec<u8>> {
        let accounts = self.with(|v| v.all_account_data())?;
        Ok(backup::paper::html(&accounts)?.to_vec())
    }
}

/// Proves a backup restores, without importing it: decrypts it and rebuilds every account.
#[uniffi::export]
pub fn verify_backup(file: Vec<u8>, password: String) -> FfiResult<BackupCheck> {
    Ok(backup::verify_backup(&file, &zeroize::Zeroizing::new(password))?)
}

/// Parses an `otpauth://` URI without storing it, to preview what a QR code holds.
#[uniffi::export]
pub fn preview_uri(uri: String) -> FfiResult<AccountRecord> {
    let data = uri::parse(&uri)?;
    let unsaved = Account {
        id: 0,
        issuer: data.issuer.into_string(),
        label: data.label.into_string(),
        params: data.params,
        group: None,
        sort_order: 0,
        created_at: 0,
        updated_at: 0,
        last_used_at: None,
    };
    Ok(unsaved.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ffi-unit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn errors_a_ui_branches_on() {
        let d = dir("errors");
        let db = d.join("vault.db").display().to_string();
        let app = Authenticator::new(db.clone(), vec![1; 32]).unwrap();
        assert!(matches!(Authenticator::new(db.clone(), vec![2; 32]), Err(AuthError::WrongKey { .. })));
        assert!(matches!(Authenticator::new(db, vec![1; 31]), Err(AuthError::InvalidKey { .. })));
        match app.add_account_from_uri("otpauth://totp/x?secret=JBSWY3DP&digits=11".into()) {
            Err(AuthError::InvalidUri { reason, .. }) => assert!(reason.contains("digits"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(app.remove_account(99), Err(AuthError::NoSuchAccount { id: 99, .. })));
        std::fs::write(d.join("notes.txt"), "not a database at all, just some text").unwrap();
        let notes = d.join("notes.txt").display().to_string();
        assert!(matches!(Authenticator::new(notes, vec![1; 32]), Err(AuthError::VaultUnreadable { .. })));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn every_error_names_its_problem_in_detail_and_display() {
        let errors = [
            Error::WrongKey,
            Error::AlreadyAnswered,
            Error::PasswordRequired,
            Error::WrongPassword,
            Error::Expired,
            Error::PinRequired,
            Error::WrongAnswer,
            Error::NoSuchAccount(7),
            Error::WrongPin { attempts_left: 2 },
            Error::LockedOut { retry_after_seconds: u64::MAX },
            Error::WeakPassword(usize::MAX),
            Error::ImplausibleClock { offset_seconds: -172_800 },
            Error::TimeSource(crate::clock::TimeSourceError::KissOfDeath("RATE".into())),
        ];
        for e in errors {
            let display = e.to_string();
            let mapped = AuthError::from(e);
            assert_eq!(mapped.to_string(), display);
            assert!(!display.is_empty());
            match &mapped {
                AuthError::WrongKey { detail } => assert!(detail.contains("wrong key"), "{detail}"),
                AuthError::AlreadyAnswered { detail } => assert!(detail.contains("already answered"), "{detail}"),
                AuthError::PasswordRequired { detail } => assert!(detail.contains("password"), "{detail}"),
                AuthError::LockedOut { retry_after_seconds, .. } => assert_eq!(*retry_after_seconds, i64::MAX),
                AuthError::WeakPassword { min_chars, .. } => assert_eq!(*min_chars, i32::MAX),
                AuthError::ImplausibleClock { offset_seconds, detail } => {
                    assert_eq!((*offset_seconds, detail.contains("24 hours")), (-172_800, true))
                }
                AuthError::TimeSource { reason, .. } => assert!(reason.contains("kiss-of-death code RATE"), "{reason}"),
                AuthError::WrongPin { attempts_left, detail } => {
                    assert_eq!((*attempts_left, detail.contains('2')), (2, true))
                }
                _ => {}
            }
        }
    }

    #[test]
    fn out_of_range_numbers_are_typed_errors_not_panics() {
        let d = dir("ranges");
        let app = Authenticator::new(d.join("vault.db").display().to_string(), vec![1; 32]).unwrap();
        let account = app.add_account_from_uri("otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP".into()).unwrap();
        assert!(matches!(app.codes(-1), Err(AuthError::InvalidArgument { .. })));
        assert!(matches!(app.take_code(account.id, i64::MIN), Err(AuthError::InvalidArgument { .. })));
        assert!(matches!(app.push_history(-1), Err(AuthError::InvalidArgument { .. })));
        // The far end of i64: a code, or a typed error when the window would end past i64::MAX.
        app.set_clock_offset(3_000_000_000).unwrap();
        match app.codes(i64::MAX) {
            Ok(codes) => assert!(codes.iter().all(|c| c.valid_until >= c.valid_from)),
            Err(e) => assert!(matches!(e, AuthError::InvalidArgument { .. }), "{e:?}"),
        }
        let fields = |digits, period, counter| AccountFields {
            issuer: "X".into(),
            label: "x".into(),
            kind: OtpKind::Hotp,
            algorithm: Algorithm::Sha1,
            digits,
            period,
            counter,
            group: None,
        };
        for (digits, period, counter, name) in
            [(-6, 30, 0, "digits"), (262, 30, 0, "digits"), (6, -30, 0, "period"), (6, 30, -1, "counter")]
        {
            match app.add_account(fields(digits, period, counter), "JBSWY3DPEHPK3PXP".into()) {
                Err(AuthError::InvalidUri { reason, .. }) => assert!(reason.contains(name), "{reason}"),
                other => panic!("{other:?}"),
            }
        }
        let hotp = app.add_account(fields(8, 30, i64::MAX), "JBSWY3DPEHPK3PXP".into()).unwrap();
        assert_eq!((hotp.digits, hotp.counter), (8, i64::MAX));
        assert_eq!(app.list_accounts().unwrap().len(), 2);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn records_render_accounts_and_codes_without_secrets() {
        let d = dir("records");
        let app = Authenticator::new(d.join("vault.db").display().to_string(), vec![1; 32]).unwrap();
        let uri = "otpauth://totp/GitHub:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=GitHub&digits=8";
        let account = app.add_account_from_uri(uri.into()).unwrap();
        assert_eq!((account.icon_hint.as_str(), account.kind, account.digits), ("github", OtpKind::Totp, 8));
        assert!(!format!("{account:?}").contains("GEZDGNBV"));
        let codes = app.codes(59).unwrap();
        assert!(!format!("{codes:?}").contains("94287082"), "Debug shows no code");
        let google = app.export_google_migration().unwrap();
        assert_eq!(google.uris.len(), 1);
        let aegis = app.export_aegis(Some("correct horse battery".into())).unwrap();
        let parsed = backup::parse(&aegis, Some("correct horse battery")).unwrap();
        assert_eq!((parsed.format, parsed.entries.len()), (backup::ImportFormat::Aegis, 1));
        let twofas = app.export_two_fas(None).unwrap();
        assert_eq!(backup::parse(&twofas, None).unwrap().format, backup::ImportFormat::TwoFas);
        assert!(matches!(app.export_aegis(Some("short".into())), Err(AuthError::WeakPassword { .. })));
        #[cfg(feature = "paper")]
        assert!(String::from_utf8(app.export_paper().unwrap()).unwrap().contains("GEZD GNBV"));
        let steam = app.add_account_from_uri("otpauth://steam/Steam:gaben?secret=GEZDGNBVGY3TQOJQ".into()).unwrap();
        let uris = app.export_otpauth_uris(true).unwrap();
        assert!(uris[1].starts_with("otpauth://totp/Steam:gaben?") && uris[1].ends_with("&encoder=steam"), "{uris:?}");
        app.remove_account(steam.id).unwrap();
        assert!(!format!("{google:?}").contains("otpauth-migration"), "Debug shows no secret-bearing URI");
        assert_eq!((codes[0].account_id, codes[0].value.as_str(), codes[0].seconds_left), (account.id, "94287082", 1));
        assert_eq!(preview_uri(uri.into()).unwrap().issuer, "GitHub");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn one_object_serves_several_threads_at_once() {
        let d = dir("threads");
        let app = Authenticator::new(d.join("vault.db").display().to_string(), vec![1; 32]).unwrap();
        std::thread::scope(|scope| {
            for t in 0..4 {
                let app = &app;
                scope.spawn(move || {
                    for i in 0..25 {
                        let uri = format!("otpauth://totp/T{t}:a{i}?secret=JBSWY3DPEHPK3PXP");
                        app.add_account_from_uri(uri).unwrap();
                        app.codes(1_700_000_000).unwrap();
                    }
                });
            }
        });
        assert_eq!(app.list_accounts().unwrap().len(), 100);
        assert_eq!(app.damaged_accounts().unwrap(), []);
        let _ = std::fs::remove_dir_all(&d);
    }

    /// A change returns at once and the backup follows on the library's thread; without a
    /// destination the failure is recorded, typed, not swallowed.
    #[test]
    fn a_change_schedules_a_backup_that_reports_its_outcome() {
        let d = dir("auto-backup");
        let app = Authenticator::new(d.join("vault.db").display().to_string(), vec![1; 32]).unwrap();
        assert!(matches!(app.backup_now(), Err(AuthError::BackupsOff { .. })));
        app.enable_backups("correct horse battery".into(), 2).unwrap();
        let wait_for = |done: &dyn Fn(&BackupStatus) -> bool| {
            for _ in 0..500 {
                let status = app.backup_status().unwrap();
                if done(&status) {
                    return status;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            panic!("no backup outcome: {:?}", app.backup_status());
        };
        let status = wait_for(&|s| s.last_failure.is_some());
        assert_eq!(status.last_failure, Some(BackupFailure::NoDestination));
        assert!(status.warning.is_some());
        let folder = d.join("backups");
        std::fs::create_dir(&folder).unwrap();
        app.set_backup_destination(Arc::new(auto::FolderDestination::new(&folder))).unwrap();
        app.add_account_from_uri("otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP".into()).unwrap();
        let status = wait_for(&|s| s.last_success_at.is_some());
        assert!(!status.pending_changes && status.warning.is_none(), "{status:?}");
        let file = std::fs::read(folder.join(status.last_success_name.unwrap())).unwrap();
        assert_eq!(verify_backup(file, "correct horse battery".into()).unwrap().accounts, 1);
        std::fs::remove_dir_all(&folder).unwrap();
        match app.backup_now() {
            Err(AuthError::BackupFailed { failure: BackupFailure::DestinationGone, .. }) => {}
            other => panic!("{other:?}"),
        }
        app.disable_backups().unwrap();
        assert!(!app.backup_status().unwrap().enabled);
        let _ = std::fs::remove_dir_all(&d);
    }
}
