//! The foreign API (uniffi): one `Authenticator` object for Kotlin and Swift.
//!
//! A thin facade: each method takes the vault lock for a synchronous step or hands an async push
//! call to the library's own tokio runtime, and converts errors to [`AuthError`]. No logic lives
//! here, so the Rust API and the foreign API cannot drift apart.
//!
//! Every export returns `Result`: uniffi turns a Rust panic into a thrown error only for
//! throwing functions, and a panic in a non-throwing one kills a Swift app.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use crate::backup::google::GoogleExport;
use crate::backup::{self, BackupCheck, ImportFormat, ImportReport};
use crate::error::Error;
use crate::otp::{Algorithm, OtpKind, OtpParams, Secret};
use crate::push::{self, DeclineReason, EnrollOptions, HistoryEntry, PushClient, PushRequest, PushToken};
use crate::vault::{Account, DataKey, Vault};
use crate::{AccountData, AccountError, uri};

/// The errors a UI branches on. Messages never carry a secret, code, key or PIN.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum AuthError {
    /// The vault was sealed with another data key.
    #[error("wrong key")]
    WrongKey,
    /// The data key is not 32 bytes.
    #[error("invalid data key: {reason}")]
    InvalidKey { reason: String },
    /// The file is not an authenticator vault, or is damaged; it was left untouched.
    #[error("{reason}")]
    VaultUnreadable { reason: String },
    /// The vault was written by a newer app version.
    #[error("{reason}")]
    NewerVault { reason: String },
    /// An otpauth URI or account fields were refused; `reason` names the problem.
    #[error("invalid account: {reason}")]
    InvalidUri { reason: String },
    /// A push enrollment URI was refused.
    #[error("invalid push enrollment: {reason}")]
    InvalidEnrollment { reason: String },
    #[error("no account with id {id}")]
    NoSuchAccount { id: i64 },
    #[error("no push token with id {id}")]
    NoSuchToken { id: i64 },
    #[error("no push request with id {id}")]
    NoSuchRequest { id: i64 },
    #[error("push token {serial} is already enrolled")]
    AlreadyEnrolled { serial: String },
    /// A request is answered at most once.
    #[error("already answered")]
    AlreadyAnswered,
    #[error("expired")]
    Expired,
    /// Number matching: the pick is not among the choices.
    #[error("not one of the choices")]
    NotAChoice,
    /// Number matching: the server refused the number; the request stays answerable.
    #[error("wrong number")]
    WrongAnswer,
    #[error("PIN required")]
    PinRequired,
    #[error("wrong PIN, {attempts_left} attempts left")]
    WrongPin { attempts_left: u32 },
    #[error("locked out for {retry_after_seconds} s")]
    LockedOut { retry_after_seconds: u64 },
    /// A push request failed verification and was dropped.
    #[error("forged request dropped: {reason}")]
    ForgedRequest { reason: String },
    /// Offline, DNS, TLS or timeout.
    #[error("network: {reason}")]
    Network { reason: String },
    /// The server refused, with its own message (named so: Kotlin exceptions own `message`).
    #[error("server refused: {server_message}")]
    ServerRejected { server_message: String },
    /// The server's reply broke the protocol, or a URL is not https.
    #[error("protocol: {reason}")]
    Protocol { reason: String },
    /// The backup or export is encrypted and needs its password.
    #[error("password required")]
    PasswordRequired,
    /// The password does not open the file, or the file was modified.
    #[error("wrong password")]
    WrongPassword,
    /// A backup password is too short.
    #[error("backup password too short (at least {min_chars} characters)")]
    WeakPassword { min_chars: u32 },
    /// Not a readable backup or export; `reason` says why.
    #[error("cannot import: {reason}")]
    InvalidImport { reason: String },
    /// Storage or platform failure (disk full, no randomness, …).
    #[error("{reason}")]
    Internal { reason: String },
}

impl From<Error> for AuthError {
    fn from(e: Error) -> Self {
        let reason = e.to_string();
        match e {
            Error::WrongKey => AuthError::WrongKey,
            Error::InvalidKeyLength(_) => AuthError::InvalidKey { reason },
            Error::NotAVault { .. } | Error::Corrupt(_) | Error::CorruptDatabase(_) => {
                AuthError::VaultUnreadable { reason }
            }
            Error::NewerSchema { .. } => AuthError::NewerVault { reason },
            Error::InvalidAccount(e) => AuthError::InvalidUri { reason: e.to_string() },
            Error::InvalidClockOffset(_) | Error::InvalidInput(_) => AuthError::InvalidUri { reason },
            Error::CounterExhausted(_) | Error::KdfParameters(_) => AuthError::Internal { reason },
            Error::WeakPin { .. } => AuthError::InvalidEnrollment { reason },
            Error::NoSuchAccount(id) => AuthError::NoSuchAccount { id },
            Error::InvalidEnrollment(_) => AuthError::InvalidEnrollment { reason },
            Error::InsecureUrl(_) | Error::Protocol(_) => AuthError::Protocol { reason },
            Error::AlreadyEnrolled(serial) => AuthError::AlreadyEnrolled { serial },
            Error::NoSuchToken(id) => AuthError::NoSuchToken { id },
            Error::NoSuchRequest(id) => AuthError::NoSuchRequest { id },
            Error::AlreadyAnswered => AuthError::AlreadyAnswered,
            Error::Expired => AuthError::Expired,
            Error::NotAChoice(_) => AuthError::NotAChoice,
            Error::WrongAnswer => AuthError::WrongAnswer,
            Error::PinRequired => AuthError::PinRequired,
            Error::WrongPin { attempts_left } => AuthError::WrongPin { attempts_left },
            Error::LockedOut { retry_after_seconds } => AuthError::LockedOut { retry_after_seconds },
            Error::ForgedRequest(reason) => AuthError::ForgedRequest { reason },
            Error::Network(reason) => AuthError::Network { reason },
            Error::ServerRejected { message } => AuthError::ServerRejected { server_message: message },
            Error::PasswordRequired => AuthError::PasswordRequired,
            Error::WeakPassword(min) => AuthError::WeakPassword { min_chars: min as u32 },
            Error::WrongPassword => AuthError::WrongPassword,
            Error::UnknownImportFormat | Error::InvalidImport(_) => AuthError::InvalidImport { reason },
            Error::Storage(_) | Error::Sqlite(_) | Error::Json(_) | Error::Crypto(_) | Error::Io(_) => {
                AuthError::Internal { reason }
            }
        }
    }
}

impl From<AccountError> for AuthError {
    fn from(e: AccountError) -> Self {
        AuthError::InvalidUri { reason: e.to_string() }
    }
}

type FfiResult<T> = Result<T, AuthError>;

/// An account as a list row shows it. Never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccountRecord {
    pub id: i64,
    pub issuer: String,
    pub label: String,
    pub kind: OtpKind,
    pub algorithm: Algorithm,
    pub digits: u8,
    /// Seconds (TOTP, Steam).
    pub period: u32,
    /// HOTP counter of the next code.
    pub counter: u64,
    pub group: Option<String>,
    pub sort_order: i64,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
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
            digits: p.digits(),
            period: p.period(),
            counter: p.counter(),
            group: a.group,
            sort_order: a.sort_order,
            created_at: a.created_at,
            updated_at: a.updated_at,
            last_used_at: a.last_used_at,
        }
    }
}

/// One account's code at one moment. `Debug` hides the codes.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeRecord {
    pub account_id: i64,
    pub value: String,
    pub next_value: String,
    /// Unix seconds (clock offset applied); 0 for HOTP.
    pub valid_from: u64,
    pub valid_until: u64,
    /// 1..=period; 0 for HOTP.
    pub seconds_left: u32,
    pub period: u32,
    pub kind: OtpKind,
}

impl std::fmt::Debug for CodeRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeRecord")
            .field("account_id", &self.account_id)
            .field("seconds_left", &self.seconds_left)
            .finish_non_exhaustive()
    }
}

/// Fields of an account typed in by hand; the secret travels separately.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AccountFields {
    pub issuer: String,
    pub label: String,
    pub kind: OtpKind,
    pub algorithm: Algorithm,
    pub digits: u8,
    pub period: u32,
    pub counter: u64,
    pub group: Option<String>,
}

/// What an import did, or as a preview would do.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportResult {
    /// The format recognised.
    pub format: ImportFormat,
    pub report: ImportReport,
}

/// What one poll found.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PollResult {
    pub new_requests: Vec<PushRequest>,
    /// Why forged or tampered challenges were dropped.
    pub rejected: Vec<String>,
    pub failures: Vec<PollFailure>,
}

/// A token that could not be polled.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PollFailure {
    pub serial: String,
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
        Err(e) => Err(AuthError::Internal { reason: format!("background task failed: {e}") }),
    }
}

/// The authenticator: a vault opened with the app's data key, and push approvals. Safe to call
/// from several threads at once (a UI thread and a push service).
#[derive(uniffi::Object)]
pub struct Authenticator {
    vault: Arc<Mutex<Vault>>,
    client: PushClient,
}

impl Authenticator {
    fn import_bytes(&self, file: &[u8], password: Option<String>, dry_run: bool) -> FfiResult<ImportResult> {
        let password = password.map(zeroize::Zeroizing::new);
        let parsed = backup::parse(file, password.as_deref().map(|p| p.as_str()))?;
        let report = self.with(|v| backup::import(v, &parsed.entries, dry_run))?;
        Ok(ImportResult { format: parsed.format, report })
    }

    fn with<T>(&self, f: impl FnOnce(&Vault) -> crate::Result<T>) -> FfiResult<T> {
        crate::VaultAccess::with_vault(&*self.vault, f).map_err(AuthError::from)
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
        Ok(Arc::new(Self { vault: Arc::new(Mutex::new(vault)), client: PushClient::new()? }))
    }

    /// All OTP accounts in the user's order.
    pub fn list_accounts(&self) -> FfiResult<Vec<AccountRecord>> {
        self.with(|v| Ok(v.accounts()?.into_iter().map(AccountRecord::from).collect()))
    }

    /// Accounts whose issuer, label or group contains `query` (any case).
    pub fn search_accounts(&self, query: String) -> FfiResult<Vec<AccountRecord>> {
        self.with(|v| Ok(v.search(&query)?.into_iter().map(AccountRecord::from).collect()))
    }

    /// Adds an account from an `otpauth://` URI (as scanned from a QR code).
    pub fn add_account_from_uri(&self, uri: String) -> FfiResult<AccountRecord> {
        let data = uri::parse(&uri)?;
        self.with(|v| Ok(v.add(&data)?.into()))
    }

    /// Adds an account typed in by hand; `secret_base32` as the service shows it.
    pub fn add_account(&self, fields: AccountFields, secret_base32: String) -> FfiResult<AccountRecord> {
        let secret = Secret::from_base32(&zeroize::Zeroizing::new(secret_base32))?;
        let params = OtpParams::new(fields.kind, fields.algorithm, fields.digits, fields.period, fields.counter)?;
        let data = AccountData { issuer: fields.issuer, label: fields.label, params, secret, group: fields.group };
        self.with(|v| Ok(v.add(&data)?.into()))
    }

    pub fn rename_account(&self, id: i64, issuer: String, label: String) -> FfiResult<()> {
        self.with(|v| v.rename(id, &issuer, &label))
    }

    /// Files an account under `group`, or under none.
    pub fn set_account_group(&self, id: i64, group: Option<String>) -> FfiResult<()> {
        self.with(|v| v.set_group(id, group.as_deref()))
    }

    /// Group names in use, sorted.
    pub fn groups(&self) -> FfiResult<Vec<String>> {
        self.with(|v| v.groups())
    }

    /// Puts `ids` first, in that order; the rest keep their order after them.
    pub fn reorder_accounts(&self, ids: Vec<i64>) -> FfiResult<()> {
        self.with(|v| v.reorder(&ids))
    }

    pub fn remove_account(&self, id: i64) -> FfiResult<()> {
        self.with(|v| v.remove(id))
    }

    /// Every account's code at `now` (Unix seconds, device clock): one call per screen refresh.
    pub fn codes(&self, now: u64) -> FfiResult<Vec<CodeRecord>> {
        self.with(|v| {
            Ok(v.codes(now)?.into_iter().map(|c| code_record(c.account.id, &c.account.params, c.code)).collect())
        })
    }

    /// Takes a code to use it (copy, autofill): records the use; advances an HOTP counter.
    pub fn take_code(&self, id: i64, now: u64) -> FfiResult<CodeRecord> {
        self.with(|v| {
            let params = v.account(id)?.params;
            Ok(code_record(id, &params, v.take_code(id, now)?))
        })
    }

    /// An encrypted backup of every OTP account (not push tokens: they are bound to this
    /// device), as file bytes to save or share. Argon2id + AES-256-GCM; see `backup::format`.
    pub fn export_backup(&self, password: String) -> FfiResult<Vec<u8>> {
        let password = zeroize::Zeroizing::new(password);
        let accounts = self.with(|v| v.all_account_data())?;
        Ok(backup::format::encrypt(&accounts, &password, backup::format::KdfParams::default())?)
    }

    /// What importing `file` would do (format detected automatically), without writing anything.
    pub fn preview_import(&self, file: Vec<u8>, password: Option<String>) -> FfiResult<ImportResult> {
        self.import_bytes(&file, password, true)
    }

    /// Imports a backup or another app's export (Aegis, 2FAS, Google Authenticator migration
    /// URIs, otpauth URI lists): one transaction; duplicates skipped; bad entries reported.
    pub fn import_file(&self, file: Vec<u8>, password: Option<String>) -> FfiResult<ImportResult> {
        self.import_bytes(&file, password, false)
    }

    /// Every account as an `otpauth://` URI. These carry the secrets: call only after the user
    /// explicitly confirmed.
    pub fn export_otpauth_uris(&self) -> FfiResult<Vec<String>> {
        self.with(|v| v.export_uris())
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

    pub fn set_clock_offset(&self, seconds: i64) -> FfiResult<()> {
        self.with(|v| v.set_clock_offset(seconds))
    }

    /// Enrolls a push token from an `otpauth://pipush/…` or `pia://…` URI (generates an RSA-4096
    /// key off the calling thread, registers it). `fb_token` None: poll only.
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

    /// Approves a request; `answer` is the picked number for number matching.
    pub async fn approve(&self, request_id: i64, answer: Option<String>, pin: Option<String>) -> FfiResult<()> {
        let (vault, client) = (self.vault.clone(), self.client.clone());
        spawn(async move { push::approve(&*vault, &client, request_id, answer.as_deref(), pin.as_deref()).await }).await
    }

    /// Denies a request, with a reason when the server accepts one.
    pub async fn deny(&self, request_id: i64, reason: Option<DeclineReason>, pin: Option<String>) -> FfiResult<()> {
        let (vault, client) = (self.vault.clone(), self.client.clone());
        spawn(async move { push::deny(&*vault, &client, request_id, reason, pin.as_deref()).await }).await
    }

    pub fn push_tokens(&self) -> FfiResult<Vec<PushToken>> {
        self.with(|v| v.push_tokens())
    }

    /// Removes a push token from this device (the server is not told).
    pub fn remove_push_token(&self, token_id: i64) -> FfiResult<()> {
        self.with(|v| v.remove_push_token(token_id))
    }

    /// Sets, changes (`current` = the PIN in force) or removes (`new` None) a token's PIN.
    pub fn set_push_pin(&self, token_id: i64, current: Option<String>, new: Option<String>) -> FfiResult<()> {
        self.with(|v| push::pin::set_pin(v, token_id, current.as_deref(), new.as_deref()))
    }

    /// Decisions, newest first.
    pub fn push_history(&self, limit: u32) -> FfiResult<Vec<HistoryEntry>> {
        self.with(|v| v.push_history(limit))
    }

    /// Registers a new Firebase/APNs token with the server.
    pub async fn update_push_token(&self, token_id: i64, fb_token: String, pin: Option<String>) -> FfiResult<()> {
        let (vault, client) = (self.vault.clone(), self.client.clone());
        spawn(async move { push::update_fb_token(&*vault, &client, token_id, &fb_token, pin.as_deref()).await }).await
    }
}

fn code_record(account_id: i64, params: &OtpParams, code: crate::Code) -> CodeRecord {
    CodeRecord {
        account_id,
        value: code.value,
        next_value: code.next_value,
        valid_from: code.valid_from,
        valid_until: code.valid_until,
        seconds_left: code.seconds_left,
        period: params.period(),
        kind: params.kind(),
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
        issuer: data.issuer,
        label: data.label,
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
        assert!(matches!(Authenticator::new(db.clone(), vec![2; 32]), Err(AuthError::WrongKey)));
        assert!(matches!(Authenticator::new(db, vec![1; 31]), Err(AuthError::InvalidKey { .. })));
        match app.add_account_from_uri("otpauth://totp/x?secret=JBSWY3DP&digits=11".into()) {
            Err(AuthError::InvalidUri { reason }) => assert!(reason.contains("digits"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(app.remove_account(99), Err(AuthError::NoSuchAccount { id: 99 })));
        std::fs::write(d.join("notes.txt"), "not a database at all, just some text").unwrap();
        let notes = d.join("notes.txt").display().to_string();
        assert!(matches!(Authenticator::new(notes, vec![1; 32]), Err(AuthError::VaultUnreadable { .. })));
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
        let _ = std::fs::remove_dir_all(&d);
    }
}
