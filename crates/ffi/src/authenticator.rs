//! The `Authenticator` object: a vault opened with the app's data key, and every service on it.
//! A thin facade: each method takes the vault lock for one synchronous step of a service, or
//! hands an async service call to the library's runtime, and converts errors to [`AuthError`].
//! No logic lives here, so the Rust API and the foreign API cannot drift apart.
//!
//! Every export returns `Result`: uniffi turns a Rust panic into a thrown error only for
//! throwing functions, and a panic in a non-throwing one kills a Swift app.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use domain::account::{Account, Name};
use domain::otp::OtpParams;
use domain::push::{DeclineReason, HistoryEntry, PushRequest, PushToken};
use domain::time::DeviceClock;
use domain::{AccountData, AccountError, uri};
use net::HttpClient;
use services::backup::auto::{self, BackupStatus, Scheduler};
use services::backup::google::GoogleExport;
use services::backup::{self, BackupCheck};
use services::clock::{self, ClockStatus};
use services::push::{self, EnrollOptions};
use services::{Error, sync};
use storage::{DataKey, Vault, VaultAccess};

use crate::destination::{BackupDestination, Foreign};
use crate::errors::{AuthError, FfiResult, count_i32};
use crate::records::*;
use crate::runtime::spawn;

/// The authenticator: a vault opened with the app's data key, and push approvals. Safe to call
/// from several threads at once (a UI thread and a push service).
#[derive(uniffi::Object)]
pub struct Authenticator {
    vault: Arc<Mutex<Vault>>,
    client: HttpClient,
    backups: Arc<Scheduler>,
}

impl Authenticator {
    fn import_bytes(&self, file: &[u8], password: Option<String>, dry_run: bool) -> FfiResult<ImportResult> {
        let password = password.map(zeroize::Zeroizing::new);
        let parsed = backup::parse(file, password.as_deref().map(|p| p.as_str()))?;
        let import = |v: &Vault| backup::import(v, &parsed.entries, dry_run);
        let report = if dry_run { self.with(import)? } else { self.changing(import)? };
        Ok(ImportResult { format: parsed.format, report })
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&Vault) -> services::Result<T>) -> FfiResult<T> {
        self.vault.with_vault(f).map_err(AuthError::from)
    }

    /// [`Self::with`] for a change to the accounts: then an automatic backup is scheduled.
    pub(crate) fn changing<T>(&self, f: impl FnOnce(&Vault) -> services::Result<T>) -> FfiResult<T> {
        let result = self.with(f);
        self.schedule_backup();
        result
    }

    /// Schedules an automatic backup when one is due (the backup service's scheduler).
    fn schedule_backup(&self) {
        self.backups.schedule(&self.vault);
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
        Ok(Arc::new(Self {
            vault: Arc::new(Mutex::new(vault)),
            client: HttpClient::new().map_err(services::Error::from)?,
            backups: Arc::default(),
        }))
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
        self.changing(|v| Ok(v.rename(id, &Name::new(&issuer), &Name::new(&label))?))
    }

    /// Files an account under `group`, or under none (the default).
    #[uniffi::method(default(group = None))]
    pub fn set_account_group(&self, id: i64, group: Option<String>) -> FfiResult<()> {
        self.changing(|v| Ok(v.set_group(id, group.map(Name::from).as_ref())?))
    }

    /// Group names in use, sorted.
    pub fn groups(&self) -> FfiResult<Vec<String>> {
        self.with(|v| Ok(v.groups()?))
    }

    /// Puts `ids` first, in that order; the rest keep their order after them.
    pub fn reorder_accounts(&self, ids: Vec<i64>) -> FfiResult<()> {
        self.changing(|v| Ok(v.reorder(&ids)?))
    }

    /// Deletes an account and its secret from the vault.
    pub fn remove_account(&self, id: i64) -> FfiResult<()> {
        self.changing(|v| Ok(v.remove(id)?))
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
        let accounts = self.with(|v| Ok(v.all_account_data()?))?;
        Ok(backup::format::encrypt(&accounts, &password, backup::format::KdfParams::default())?)
    }

    /// Sets where automatic backups go: the app's implementation of `BackupDestination` (the
    /// Storage Access Framework, a file provider, iCloud Drive, a folder). Set it after every
    /// start; a backup due (changes made while the app was closed) is scheduled at once.
    pub fn set_backup_destination(&self, destination: Arc<dyn BackupDestination>) -> FfiResult<()> {
        self.backups.set_destination(&self.vault, Arc::new(Foreign(destination)));
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
        self.with(|v| auto::status(v, domain::time::now()))
    }

    /// Makes an automatic backup now (written, read back, verified, rotated), whether or not
    /// anything changed. Fails with `BackupFailed` (and records it) when it cannot.
    pub fn backup_now(&self) -> FfiResult<BackupStatus> {
        self.backups.run_now(&self.vault)?;
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
        let steam = if steam_as_totp { uri::SteamUri::TotpEncoder } else { uri::SteamUri::Scheme };
        // uniffi lowers owned Strings: the copy handed over is the foreign side's to wipe.
        let accounts = self.with(|v| Ok(v.all_account_data()?))?;
        Ok(uri::format_all(&accounts, steam).iter().map(|uri| uri.as_str().to_owned()).collect())
    }

    /// Google Authenticator migration payloads for every account the format can carry.
    pub fn export_google_migration(&self) -> FfiResult<GoogleExport> {
        let accounts = self.with(|v| Ok(v.all_account_data()?))?;
        Ok(backup::google::export(&accounts))
    }

    /// Seconds added to the device clock for every code.
    pub fn clock_offset(&self) -> FfiResult<i64> {
        self.with(|v| Ok(v.clock_offset()?))
    }

    /// Sets the seconds added to the device clock for every code (at most 100 years either way),
    /// and puts this manual offset in force (automatic correction off).
    pub fn set_clock_offset(&self, seconds: i64) -> FfiResult<()> {
        self.with(|v| Ok(v.set_clock_offset(seconds)?))
    }

    /// The offset in force, where it came from, the last measurement, and a banner line.
    pub fn clock_status(&self) -> FfiResult<ClockStatus> {
        self.with(clock::status)
    }

    /// Applies `ClockStatus.proposal` as the user's decision.
    pub fn clock_accept_proposal(&self) -> FfiResult<ClockStatus> {
        self.with(clock::accept_proposal)
    }

    /// Automatic correction on (measured offsets apply) or off (the manual offset applies).
    pub fn set_clock_automatic(&self, automatic: bool) -> FfiResult<()> {
        self.with(|v| clock::set_automatic(v, automatic))
    }

    /// Measures the device clock against the servers the user named: an SNTP server
    /// (`host`, `host:port`) and/or the `Date` header of an https URL, the device clock reading
    /// `now_ms` (Unix milliseconds) at the call; both are recorded together. One call for both
    /// (each async export costs the phones' library kilobytes). A failure records nothing
    /// (`TimeSource`, `ImplausibleClock`, `Network`, `Protocol`).
    #[uniffi::method(default(ntp_server = None, https_url = None))]
    pub async fn check_clock(
        &self,
        now_ms: i64,
        ntp_server: Option<String>,
        https_url: Option<String>,
    ) -> FfiResult<ClockStatus> {
        let (vault, client, device) = (self.vault.clone(), self.client.clone(), DeviceClock::reading(now_ms));
        spawn(async move {
            let check = clock::Check {
                ntp_server: ntp_server.as_deref(),
                https_url: https_url.as_deref(),
                device,
                simulated_skew_ms: 0,
            };
            Ok(clock::check(&*vault, &client, check).await?.status)
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
    /// the same request in its state: once answered, show it as answered (its `state` is not
    /// `Pending`), without Approve. Approve or deny a pending one like a push request.
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
        self.with(|v| Ok(v.pending_push_requests()?))
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
        self.with(|v| Ok(v.push_tokens()?))
    }

    /// Removes a push token from this device (the server is not told).
    pub fn remove_push_token(&self, token_id: i64) -> FfiResult<()> {
        self.with(|v| Ok(v.remove_push_token(token_id)?))
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
        self.with(|v| Ok(v.push_history(limit)?))
    }

    /// Registers a new Firebase/APNs token with the server.
    #[uniffi::method(default(pin = None))]
    pub async fn update_push_token(&self, token_id: i64, fb_token: String, pin: Option<String>) -> FfiResult<()> {
        let (vault, client) = (self.vault.clone(), self.client.clone());
        spawn(async move { push::update_fb_token(&*vault, &client, token_id, &fb_token, pin.as_deref()).await }).await
    }

    /// Sets up end-to-end encrypted sync with a WebDAV folder (`url`: https, or http on
    /// loopback), as `user` with the server `password`. Give the sync passphrase (the first
    /// device draws the salt, and a weak new passphrase is refused with `WeakPassphrase`; later
    /// ones must give the same: `Sync { problem: WrongSecret }`), or a pairing code from a
    /// device already set up, or neither: the first device of a folder then draws a random key,
    /// whose pairing code (`sync_pairing_code`) sets up the others. Does not sync: call
    /// `sync_now`.
    #[uniffi::method(default(passphrase = None, pairing_code = None))]
    pub async fn setup_sync(
        &self,
        url: String,
        user: String,
        password: String,
        passphrase: Option<String>,
        pairing_code: Option<String>,
    ) -> FfiResult<()> {
        let (vault, client) = (self.vault.clone(), sync::SyncClient::over(self.client.clone()));
        spawn(async move {
            let secret = match (&passphrase, &pairing_code) {
                (Some(p), None) => sync::SyncSecret::Passphrase(p),
                (None, Some(c)) => sync::SyncSecret::PairingCode(c),
                (None, None) => sync::SyncSecret::RandomKey,
                _ => return Err(Error::InvalidInput("give a sync passphrase or a pairing code, not both".into())),
            };
            sync::setup(&*vault, &client, &url, &user, &password, secret).await
        })
        .await
    }

    /// One sync round: merges this device's accounts with the server's and writes the result
    /// to both. On any error the local accounts are unchanged.
    pub async fn sync_now(&self) -> FfiResult<SyncResult> {
        let vault = self.vault.clone();
        let client = sync::SyncClient::over(self.client.clone());
        Ok(sync_result(spawn(async move { sync::sync_now(&*vault, &client).await }).await?))
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
            devices: s
                .devices
                .into_iter()
                .map(|d| SyncDeviceRecord {
                    device: d.device,
                    this_device: d.this_device,
                    last_seen: d.last_seen,
                    generation: i64::try_from(d.generation).unwrap_or(i64::MAX),
                    stale: d.stale,
                })
                .collect(),
            warnings: s.warnings,
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

    /// Changes the sync key, after a device was lost: to a new `passphrase` (refused with
    /// `WeakPassphrase` when weak), or with None to a random key (show its `sync_pairing_code`).
    /// Syncs first, then the server holds every account under the new key and nothing under the
    /// old one; the other devices get `Sync { problem: KeyChanged }` and set up again.
    #[uniffi::method(default(passphrase = None))]
    pub async fn rekey_sync(&self, passphrase: Option<String>) -> FfiResult<SyncResult> {
        let (vault, client) = (self.vault.clone(), sync::SyncClient::over(self.client.clone()));
        let passphrase = passphrase.map(zeroize::Zeroizing::new);
        let report = spawn(async move {
            let secret = match &passphrase {
                Some(p) => sync::SyncSecret::Passphrase(p),
                None => sync::SyncSecret::RandomKey,
            };
            sync::rekey(&*vault, &client, secret).await
        })
        .await?;
        Ok(sync_result(report))
    }
}

fn sync_result(report: sync::SyncReport) -> SyncResult {
    SyncResult {
        changed_here: count_i32(report.changed_here),
        uploaded: report.uploaded,
        generation: i64::try_from(report.generation).unwrap_or(i64::MAX),
        refused: count_i32(report.refused.len()),
        refused_reasons: report.refused.iter().map(|r| format!("account {}: {}", r.account, r.reason)).collect(),
        removed_while_away: count_i32(report.removed_while_away),
    }
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
        let accounts = self.with(|v| Ok(v.all_account_data()?))?;
        // uniffi lowers an owned Vec: the copy handed over is the foreign side's to wipe.
        Ok(backup::aegis::export(&accounts, password.as_deref().map(String::as_str))?.to_vec())
    }

    /// A 2FAS `.2fas` file of every OTP account, as file bytes; 2FAS imports it. With a
    /// `password` (at least 8 characters) the accounts are encrypted as 2FAS does (PBKDF2,
    /// AES-256-GCM; group names stay readable, as in 2FAS's own files); with `None` it is plain
    /// JSON holding every secret: call that only after the user explicitly confirmed.
    pub fn export_two_fas(&self, password: Option<String>) -> FfiResult<Vec<u8>> {
        let password = password.map(zeroize::Zeroizing::new);
        let accounts = self.with(|v| Ok(v.all_account_data()?))?;
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
