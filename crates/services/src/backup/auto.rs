//! Automatic backups: after every change to the accounts, a new encrypted backup (this app's
//! format, [`super::format`]) in a destination, verified before it counts, rotated, and a
//! status that says loudly when it stopped working.
//!
//! - **Key.** [`enable`] derives a [`BackupKey`] from the password once (Argon2id, 64 MiB) and
//!   seals it in the vault (`meta.backup_key`); each backup then costs an AES-GCM seal, not a
//!   key derivation. Every file opens with the password alone, in `verify-backup` and `import`.
//!   [`change_password`] derives a new key; older copies keep opening with the old password.
//! - **When.** The vault counts changes (`meta.accounts_version`, kept by SQL triggers in the
//!   change's own transaction), so "changed since the last backup" survives a crash and sees
//!   every process. [`wait_seconds`] coalesces a burst into one backup: at most one attempt per
//!   [`MIN_INTERVAL_SECONDS`]. The caller (a background task on phones, the CLI at exit) runs
//!   [`run`]; the change itself is committed before and never waits for it.
//! - **Where.** A [`BackupDestination`] only moves named blobs: [`FolderDestination`] for the
//!   CLI and desktops, a foreign implementation (Storage Access Framework, a file provider) on
//!   phones. The core picks the names: `authenticator-backup-YYYYMMDD-HHMMSS-mmm.json` in UTC,
//!   which sort by time and carry no account data.
//! - **Never half a file under a good name.** A copy is written under `<name>.partial`, read
//!   back and decrypted with the kept key, compared with the accounts it must hold, and only
//!   then renamed to its name. A failed copy is deleted (best effort) and never counted; a
//!   `.partial` left by a killed process is deleted by a later run once 10 minutes old.
//! - **Rotation.** Only after a verified copy got its name, the oldest copies beyond the newest
//!   `keep` are deleted, never the new copy: so the only verified copy is never deleted, and a
//!   failure deletes nothing. Only copies this vault wrote are counted and deleted: their names
//!   are recorded in the vault (`meta.backup_written`, at most [`MAX_WRITTEN`]), so files named
//!   like backups that someone else put there (junk named like future backups, another vault's
//!   copies) are never deleted and never push a real copy out.
//! - **The folder chosen.** [`enable`] records the folder's identity (device and inode); a
//!   [`FolderDestination::chosen`] refuses a path where another folder or a symlink now stands
//!   (`destination_gone`, "not the folder chosen"), so backups never follow a swapped folder.
//! - **Status.** Last success, last failure with its typed reason ([`BackupFailure`]), and a
//!   [`BackupStatus::warning`] while the last attempt failed or no backup succeeded for
//!   [`STALE_AFTER_SECONDS`]: the CLI prints it on every command, apps show it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::format::{self, BackupKey, KdfParams};
use crate::error::{Error, Result};
use domain::account::AccountData;
use storage::vault::{Vault, VaultAccess};

/// Copies kept unless the user says otherwise.
pub const DEFAULT_KEEP: i32 = 10;
/// At most one automatic attempt per this many seconds (a burst of changes makes one backup).
pub const MIN_INTERVAL_SECONDS: i64 = 60;
/// With automatic backups on, no success for this long (7 days) is worth a warning.
pub const STALE_AFTER_SECONDS: i64 = 7 * 86_400;
const PREFIX: &str = "authenticator-backup-";
const SUFFIX: &str = ".json";
const PARTIAL: &str = ".partial";
/// A `.partial` older than this (10 minutes, by its name) is a killed run's: deleted.
const STALE_PARTIAL_MS: i64 = 10 * 60 * 1000;
const SETTINGS: &str = "backup";
const KEY: &str = "backup_key";
/// The names of the copies this vault wrote and has not deleted (a JSON array): what rotation
/// may delete. Kept when backups are turned off, so copies made before stay this vault's.
const WRITTEN: &str = "backup_written";
/// The chosen folder's [`folder_identity`] (CLI, desktops).
const FOLDER_ID: &str = "backup_folder_id";
/// Names remembered at most (the newest); a copy forgotten is never deleted, only left.
pub const MAX_WRITTEN: usize = 1000;

domain::foreign_type! { $ backup_failure_definition {
/// Why a backup failed, for a UI to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupFailure {
    /// The folder or storage is gone (unmounted, deleted, permission to it revoked by the OS).
    DestinationGone,
    /// The destination refuses writes (read-only, no permission).
    NoPermission,
    /// The destination is full (or a file-size limit was hit).
    DiskFull,
    /// The copy written did not read back and decrypt to the accounts: it was discarded.
    VerificationFailed,
    /// No destination is set (phones: the shell has not registered one since starting).
    NoDestination,
    /// Anything else the destination reported.
    Other,
}
}}

impl BackupFailure {
    const ALL: [Self; 6] = [
        Self::DestinationGone,
        Self::NoPermission,
        Self::DiskFull,
        Self::VerificationFailed,
        Self::NoDestination,
        Self::Other,
    ];

    /// Its name in the status JSON: `destination_gone`, `no_permission`, `disk_full`, ….
    pub fn code(self) -> &'static str {
        match self {
            Self::DestinationGone => "destination_gone",
            Self::NoPermission => "no_permission",
            Self::DiskFull => "disk_full",
            Self::VerificationFailed => "verification_failed",
            Self::NoDestination => "no_destination",
            Self::Other => "other",
        }
    }

    /// A few words for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::DestinationGone => "destination gone",
            Self::NoPermission => "no permission",
            Self::DiskFull => "disk full",
            Self::VerificationFailed => "verification failed",
            Self::NoDestination => "no destination",
            Self::Other => "destination error",
        }
    }
}

/// What a destination reports when it cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// The folder or storage is not there any more.
    #[error("{detail}")]
    Gone {
        /// What happened, in one line (no account data).
        detail: String,
    },
    /// Writing is not allowed.
    #[error("{detail}")]
    NoPermission {
        /// What happened, in one line.
        detail: String,
    },
    /// No space left.
    #[error("{detail}")]
    Full {
        /// What happened, in one line.
        detail: String,
    },
    /// Anything else.
    #[error("{detail}")]
    Other {
        /// What happened, in one line.
        detail: String,
    },
}

impl From<std::io::Error> for DestinationError {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind::*;
        let detail = e.to_string();
        match e.kind() {
            NotFound => Self::Gone { detail },
            PermissionDenied | ReadOnlyFilesystem => Self::NoPermission { detail },
            StorageFull | FileTooLarge | QuotaExceeded => Self::Full { detail },
            _ => Self::Other { detail },
        }
    }
}

impl DestinationError {
    fn failure(&self) -> BackupFailure {
        match self {
            Self::Gone { .. } => BackupFailure::DestinationGone,
            Self::NoPermission { .. } => BackupFailure::NoPermission,
            Self::Full { .. } => BackupFailure::DiskFull,
            Self::Other { .. } => BackupFailure::Other,
        }
    }
}

/// Where automatic backups go: a flat set of named blobs. The core decides names, rotation and
/// verification; an implementation only moves bytes. Names are plain file names (letters,
/// digits, `-`, `.`).
pub trait BackupDestination: Send + Sync {
    /// Stores `bytes` under the new name `name`, durably (flushed to storage) when it returns.
    fn write(&self, name: String, bytes: Vec<u8>) -> Result<(), DestinationError>;
    /// The bytes stored under `name`, read from storage.
    fn read(&self, name: String) -> Result<Vec<u8>, DestinationError>;
    /// Gives the blob `from` the name `to` (which does not exist), at once.
    fn rename(&self, from: String, to: String) -> Result<(), DestinationError>;
    /// Every name stored (others' files included: the core picks out its own).
    fn list(&self) -> Result<Vec<String>, DestinationError>;
    /// Deletes `name`.
    fn delete(&self, name: String) -> Result<(), DestinationError>;
}

/// A folder as a destination: files readable by their owner only, fsynced, renamed into place.
#[derive(Debug, Clone)]
pub struct FolderDestination {
    dir: std::path::PathBuf,
    /// The identity ([`folder_identity`]) the folder had when it was chosen, checked before
    /// every write, listing and deletion.
    identity: Option<String>,
}

/// The identity of the folder at `dir` (`device:inode` on Unix), following no symlink: None
/// when it is missing, is a symlink, or the platform has no such notion.
pub fn folder_identity(dir: &std::path::Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(dir).ok().filter(std::fs::Metadata::is_dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(format!("{}:{}", meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

impl FolderDestination {
    /// The folder `dir` (it must exist when backups run: a missing one is "destination gone").
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Self {
        Self { dir: dir.into(), identity: None }
    }

    /// The folder `dir` that had `identity` when it was chosen: if another folder or a symlink
    /// stands at its path now, every operation fails with "destination gone" and moves nothing.
    pub fn chosen(dir: impl Into<std::path::PathBuf>, identity: Option<String>) -> Self {
        Self { dir: dir.into(), identity }
    }

    fn check(&self) -> Result<(), DestinationError> {
        let Some(expected) = &self.identity else { return Ok(()) };
        match std::fs::symlink_metadata(&self.dir) {
            Err(e) => Err(self.error(e)),
            Ok(_) if folder_identity(&self.dir).as_ref() == Some(expected) => Ok(()),
            Ok(_) => Err(DestinationError::Gone {
                detail: format!(
                    "{}: not the folder chosen for backups any more (another folder or a symlink stands at its \
                     path); nothing was written: choose the folder again with `backup enable`",
                    self.dir.display()
                ),
            }),
        }
    }

    fn sync_dir(&self) -> std::io::Result<()> {
        std::fs::File::open(&self.dir)?.sync_all()
    }

    /// The error, naming the folder (a path, never account data).
    fn error(&self, e: std::io::Error) -> DestinationError {
        let mut error = DestinationError::from(e);
        let (DestinationError::Gone { detail }
        | DestinationError::NoPermission { detail }
        | DestinationError::Full { detail }
        | DestinationError::Other { detail }) = &mut error;
        *detail = format!("{}: {detail}", self.dir.display());
        error
    }
}

impl BackupDestination for FolderDestination {
    fn write(&self, name: String, bytes: Vec<u8>) -> Result<(), DestinationError> {
        use std::io::Write;
        self.check()?;
        let path = self.dir.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(|e| self.error(e))?;
        file.write_all(&bytes).and_then(|()| file.sync_all()).map_err(|e| {
            let _ = std::fs::remove_file(&path);
            self.error(e)
        })
    }

    fn read(&self, name: String) -> Result<Vec<u8>, DestinationError> {
        std::fs::read(self.dir.join(name)).map_err(|e| self.error(e))
    }

    fn rename(&self, from: String, to: String) -> Result<(), DestinationError> {
        self.check()?;
        std::fs::rename(self.dir.join(from), self.dir.join(to))
            .and_then(|()| self.sync_dir())
            .map_err(|e| self.error(e))
    }

    fn list(&self) -> Result<Vec<String>, DestinationError> {
        self.check()?;
        let entries = std::fs::read_dir(&self.dir).and_then(|dir| dir.collect::<std::io::Result<Vec<_>>>());
        Ok(entries
            .map_err(|e| self.error(e))?
            .iter()
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .collect())
    }

    fn delete(&self, name: String) -> Result<(), DestinationError> {
        self.check()?;
        std::fs::remove_file(self.dir.join(name)).map_err(|e| self.error(e))
    }
}

/// Automatic backups' settings and status (`meta.backup`), and what a UI shows. Holds no secret
/// and no account data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupStatus {
    /// Automatic backups are on.
    pub enabled: bool,
    /// The destination folder (CLI, desktops); None where the app supplies a destination.
    pub folder: Option<String>,
    /// Copies kept (at least 1).
    pub keep: i32,
    /// Unix seconds when backups were enabled (or the password last changed).
    pub enabled_at: i64,
    /// Unix seconds of the last verified backup, if any.
    pub last_success_at: Option<i64>,
    /// The name of the last verified backup.
    pub last_success_name: Option<String>,
    /// Unix seconds of the last failed attempt, if any.
    pub last_failure_at: Option<i64>,
    /// Why the last failed attempt failed.
    pub last_failure: Option<BackupFailure>,
    /// The last failure in one line (no secret, no account data).
    pub last_failure_detail: Option<String>,
    /// Unix seconds of the last attempt, successful or not.
    pub last_attempt_at: Option<i64>,
    /// The last attempt failed.
    pub last_attempt_failed: bool,
    /// The accounts have changed since the last verified backup.
    pub pending_changes: bool,
    /// What a UI must show (the last attempt failed, or no success for 7 days); None when fine.
    pub warning: Option<String>,
    /// `meta.accounts_version` when the last verified backup was taken.
    pub backed_up_version: i64,
}

// The status is kept as JSON read and written through `Value` (no serde derive: the mobile
// library's size budget).
fn settings(vault: &Vault) -> Result<Option<BackupStatus>> {
    let Some(text) = vault.setting(SETTINGS)? else { return Ok(None) };
    let v: Value = serde_json::from_str(&text).map_err(|_| Error::Corrupt("meta.backup is not JSON".into()))?;
    let int = |key: &str| v[key].as_i64();
    let text = |key: &str| v[key].as_str().map(str::to_owned);
    Ok(Some(BackupStatus {
        folder: text("folder"),
        keep: int("keep").and_then(|k| i32::try_from(k).ok()).unwrap_or(DEFAULT_KEEP),
        enabled_at: int("enabled_at").unwrap_or_default(),
        last_success_at: int("last_success_at"),
        last_success_name: text("last_success_name"),
        last_failure_at: int("last_failure_at"),
        last_failure: v["last_failure"].as_str().and_then(|c| BackupFailure::ALL.into_iter().find(|f| f.code() == c)),
        last_failure_detail: text("last_failure_detail"),
        last_attempt_at: int("last_attempt_at"),
        last_attempt_failed: v["last_attempt_failed"].as_bool().unwrap_or_default(),
        backed_up_version: int("backed_up_version").unwrap_or(-1),
        ..BackupStatus::default()
    }))
}

fn save(vault: &Vault, s: &BackupStatus) -> Result<()> {
    let value = json!({
        "folder": s.folder,
        "keep": s.keep,
        "enabled_at": s.enabled_at,
        "last_success_at": s.last_success_at,
        "last_success_name": s.last_success_name,
        "last_failure_at": s.last_failure_at,
        "last_failure": s.last_failure.map(BackupFailure::code),
        "last_failure_detail": s.last_failure_detail,
        "last_attempt_at": s.last_attempt_at,
        "last_attempt_failed": s.last_attempt_failed,
        "backed_up_version": s.backed_up_version,
    });
    Ok(vault.set_setting(SETTINGS, Some(&value.to_string()))?)
}

/// Turns automatic backups on (or, when on, changes the password, copies kept and folder,
/// keeping the history): derives the key from `password` once and seals it in the vault. The
/// first backup is due at once.
pub fn enable(vault: &Vault, password: &str, keep: i32, folder: Option<&str>, kdf: KdfParams) -> Result<()> {
    if keep < 1 {
        return Err(Error::InvalidInput("keep at least 1 backup".into()));
    }
    let key = BackupKey::derive(password, kdf)?;
    let mut status = settings(vault)?.unwrap_or_default();
    status.keep = keep;
    status.folder = folder.map(str::to_owned);
    status.enabled_at = domain::time::now();
    status.backed_up_version = -1;
    status.last_attempt_at = None;
    vault.set_sealed_setting(KEY, Some(&key.to_bytes()))?;
    vault.set_setting(FOLDER_ID, folder.and_then(|f| folder_identity(std::path::Path::new(f))).as_deref())?;
    save(vault, &status)
}

/// The folder backups go into (CLI, desktops), held to the identity it had when it was chosen;
/// None when the app supplies the destination. A vault from before identities were recorded
/// records the folder's identity now.
pub fn folder_destination(vault: &Vault) -> Result<Option<FolderDestination>> {
    let Some(folder) = settings(vault)?.and_then(|s| s.folder) else { return Ok(None) };
    let identity = match vault.setting(FOLDER_ID)? {
        Some(identity) => Some(identity),
        None => {
            let identity = folder_identity(std::path::Path::new(&folder));
            vault.set_setting(FOLDER_ID, identity.as_deref())?;
            identity
        }
    };
    Ok(Some(FolderDestination::chosen(folder, identity)))
}

/// The names of the copies this vault wrote (only backup names; anything else is dropped).
fn written(vault: &Vault) -> Result<Vec<String>> {
    let Some(text) = vault.setting(WRITTEN)? else { return Ok(Vec::new()) };
    let v: Value = serde_json::from_str(&text).map_err(|_| Error::Corrupt("meta.backup_written is not JSON".into()))?;
    let names = v.as_array().map(Vec::as_slice).unwrap_or_default();
    Ok(names.iter().filter_map(Value::as_str).filter(|n| is_backup_name(n)).map(str::to_owned).collect())
}

fn set_written(vault: &Vault, names: &[String]) -> Result<()> {
    Ok(vault.set_setting(WRITTEN, Some(&Value::from(names.to_vec()).to_string()))?)
}

/// Changes the password of automatic backups: a new key (and salt), used from the next backup
/// on, which is due at once.
pub fn change_password(vault: &Vault, password: &str, kdf: KdfParams) -> Result<()> {
    let status = settings(vault)?.ok_or(Error::BackupsOff)?;
    enable(vault, password, status.keep, status.folder.as_deref(), kdf)
}

/// Turns automatic backups off: forgets the key and the status. Copies made stay.
pub fn disable(vault: &Vault) -> Result<()> {
    vault.set_sealed_setting(KEY, None)?;
    vault.set_setting(FOLDER_ID, None)?;
    Ok(vault.set_setting(SETTINGS, None)?)
}

/// The status at `now` (Unix seconds), with the warning to show.
pub fn status(vault: &Vault, now: i64) -> Result<BackupStatus> {
    let Some(mut status) = settings(vault)? else { return Ok(BackupStatus::default()) };
    status.enabled = true;
    status.pending_changes = status.backed_up_version != vault.accounts_version()?;
    let since = status.last_success_at.unwrap_or(status.enabled_at);
    status.warning = if status.last_attempt_failed {
        let reason = status.last_failure.map_or("failed", BackupFailure::describe);
        let detail = status.last_failure_detail.as_deref().unwrap_or_default();
        Some(format!("the last automatic backup failed ({reason}: {detail}); recent changes may not be backed up"))
    } else if now - since >= STALE_AFTER_SECONDS {
        Some(format!("no automatic backup has succeeded for {} days", (now - since) / 86_400))
    } else {
        None
    };
    Ok(status)
}

/// Seconds to wait before the next automatic backup is due, or None when none is (off, or no
/// change since the last verified backup). Coalesces: at most one attempt per minute.
pub fn wait_seconds(vault: &Vault, now: i64) -> Result<Option<u64>> {
    let status = status(vault, now)?;
    if !status.enabled || !status.pending_changes {
        return Ok(None);
    }
    let next = status.last_attempt_at.map_or(now, |t| t + MIN_INTERVAL_SECONDS);
    Ok(Some(next.saturating_sub(now).max(0) as u64))
}

/// Makes one backup now into `destination`, then records the outcome in the vault. The vault is
/// only held to read the accounts and to record the outcome, never while bytes move. A failed
/// attempt is recorded and returned as [`Error::BackupFailed`].
pub fn run(access: &impl VaultAccess, destination: &dyn BackupDestination) -> Result<String> {
    let (accounts, key, version, keep, ours) = access.with_vault(|v| -> Result<_> {
        let keep = settings(v)?.ok_or(Error::BackupsOff)?.keep;
        let key = v.sealed_setting(KEY)?.ok_or(Error::BackupsOff)?;
        Ok((v.all_account_data()?, BackupKey::from_bytes(&key)?, v.accounts_version()?, keep, written(v)?))
    })?;
    let now_ms = domain::time::now_ms();
    let outcome = write_copy(&accounts, &key, destination, keep.max(1) as usize, &ours, now_ms);
    access.with_vault(|v| {
        if let Ok(placed) = &outcome {
            // Merged with what another process recorded meanwhile.
            let mut names: Vec<String> =
                written(v)?.into_iter().filter(|n| !placed.forgotten.contains(n) && *n != placed.name).collect();
            // Oldest first: names are appended as copies are made.
            names.push(placed.name.clone());
            let excess = names.len().saturating_sub(MAX_WRITTEN);
            set_written(v, &names[excess..])?;
        }
        // Turned off meanwhile: nothing more to record.
        let Some(mut status) = settings(v)? else { return Ok(()) };
        let now = now_ms / 1000;
        status.last_attempt_at = Some(now);
        status.last_attempt_failed = outcome.is_err();
        match &outcome {
            Ok(Placed { name, .. }) => {
                status.last_success_at = Some(now);
                status.last_success_name = Some(name.clone());
                status.backed_up_version = version;
            }
            Err((failure, detail)) => {
                status.last_failure_at = Some(now);
                status.last_failure = Some(*failure);
                status.last_failure_detail = Some(detail.clone());
            }
        }
        save(v, &status)
    })?;
    outcome.map(|placed| placed.name).map_err(|(failure, detail)| Error::BackupFailed { failure, detail })
}

/// Records that no destination was there to back up to (phones before the shell set one). Not
/// an attempt: nothing was written, so the next one (once a destination is set) need not wait.
pub fn record_no_destination(vault: &Vault) -> Result<()> {
    let Some(mut status) = settings(vault)? else { return Err(Error::BackupsOff) };
    (status.last_failure_at, status.last_attempt_failed) = (Some(domain::time::now()), true);
    status.last_failure = Some(BackupFailure::NoDestination);
    status.last_failure_detail = Some("no backup destination is set".into());
    save(vault, &status)
}

/// Automatic backups of one open vault, for a facade that keeps the vault behind a mutex (the
/// phones' `Authenticator`): the destination the app set, and the one scheduled run that
/// coalesces a burst of changes. One per open vault; cheap to share (`Arc`).
#[derive(Default)]
pub struct Scheduler {
    destination: Mutex<Option<Arc<dyn BackupDestination>>>,
    scheduled: AtomicBool,
    running: Mutex<()>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler").field("scheduled", &self.scheduled.load(Ordering::SeqCst)).finish_non_exhaustive()
    }
}

impl Scheduler {
    /// Sets where backups go (the app sets it after every start), then schedules one if due
    /// (changes made while the app was closed).
    pub fn set_destination(self: &Arc<Self>, vault: &Arc<Mutex<Vault>>, destination: Arc<dyn BackupDestination>) {
        *lock(&self.destination) = Some(destination);
        self.schedule(vault);
    }

    /// Makes a backup now, whether or not anything changed; without a destination the failure
    /// is recorded and returned ([`BackupFailure::NoDestination`]).
    pub fn run_now(&self, vault: &Mutex<Vault>) -> Result<String> {
        let _one_at_a_time = lock(&self.running);
        self.run_locked(vault)
    }

    /// Schedules one backup on a background thread when one is due, after the wait that
    /// coalesces a burst (at most one attempt a minute). Never blocks the caller; the outcome
    /// goes to [`status`]. Call it after every change to the accounts.
    pub fn schedule(self: &Arc<Self>, vault: &Arc<Mutex<Vault>>) {
        // Nothing due (automatic backups off): no thread, which would hold the vault open for a
        // moment after the app closed it.
        if !matches!(vault.with_vault(|v| wait_seconds(v, domain::time::now())), Ok(Some(_))) {
            return;
        }
        if self.scheduled.swap(true, Ordering::SeqCst) {
            return;
        }
        let (vault, scheduler) = (vault.clone(), self.clone());
        // A plain thread, not a task on a runtime: no async machinery to pay for in the phones'
        // library, and the wait and the backup block nobody.
        let started = std::thread::Builder::new().name("authenticator-backup".into()).spawn(move || {
            // Until due (another attempt meanwhile postpones it), or nothing is due any more.
            while let Ok(Some(seconds @ 1..)) = vault.with_vault(|v| wait_seconds(v, domain::time::now())) {
                std::thread::sleep(std::time::Duration::from_secs(seconds));
            }
            scheduler.scheduled.store(false, Ordering::SeqCst);
            scheduler.run_if_due(&vault);
        });
        if started.is_err() {
            self.scheduled.store(false, Ordering::SeqCst);
        }
    }

    /// The scheduled run: only when still due once it is this run's turn (another may just have
    /// made the backup).
    fn run_if_due(&self, vault: &Mutex<Vault>) {
        let _one_at_a_time = lock(&self.running);
        if let Ok(Some(0)) = vault.with_vault(|v| wait_seconds(v, domain::time::now())) {
            let _ = self.run_locked(vault);
        }
    }

    fn run_locked(&self, vault: &Mutex<Vault>) -> Result<String> {
        let destination = lock(&self.destination).clone();
        match destination {
            Some(destination) => run(vault, &*destination),
            None => {
                vault.with_vault(record_no_destination)?;
                let detail = "no backup destination is set".into();
                Err(Error::BackupFailed { failure: BackupFailure::NoDestination, detail })
            }
        }
    }
}

/// A poisoned lock is still good: nothing it guards is left half-written by a panic.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `authenticator-backup-20261129-171544-123.json` for Unix milliseconds `ms`.
pub fn name_at(ms: i64) -> String {
    let stamp = domain::time::iso8601_utc(ms.div_euclid(1000));
    let digits: String = stamp[..19].chars().filter(char::is_ascii_digit).collect();
    format!("{PREFIX}{}-{}-{:03}{SUFFIX}", &digits[..8], &digits[8..], ms.rem_euclid(1000))
}

/// Whether `name` is one of our backups (not a `.partial`, not someone else's file).
pub fn is_backup_name(name: &str) -> bool {
    name.len() == name_at(0).len()
        && name.strip_prefix(PREFIX).and_then(|n| n.strip_suffix(SUFFIX)).is_some_and(|stamp| {
            stamp.bytes().enumerate().all(|(i, b)| if i == 8 || i == 15 { b == b'-' } else { b.is_ascii_digit() })
        })
}

type Failed = (BackupFailure, String);

/// A verified copy in place, and the names of ours that are no longer there to remember.
struct Placed {
    name: String,
    /// Deleted by rotation, or gone from the destination.
    forgotten: Vec<String>,
}

fn write_copy(
    accounts: &[AccountData],
    key: &BackupKey,
    destination: &dyn BackupDestination,
    keep: usize,
    ours: &[String],
    now_ms: i64,
) -> std::result::Result<Placed, Failed> {
    let failed = |e: DestinationError| (e.failure(), e.to_string());
    let bytes = format::encrypt_with(accounts, key).map_err(|e| (BackupFailure::Other, e.to_string()))?;
    let existing = destination.list().map_err(failed)?;
    let mut ms = now_ms;
    while existing.iter().any(|n| n.starts_with(&name_at(ms))) {
        ms += 1;
    }
    let name = name_at(ms);
    let stale = name_at(now_ms - STALE_PARTIAL_MS);
    for leftover in
        existing.iter().filter(|n| n.strip_suffix(PARTIAL).is_some_and(|n| is_backup_name(n) && *n < *stale))
    {
        let _ = destination.delete(leftover.clone());
    }
    let partial = format!("{name}{PARTIAL}");
    let placed = destination
        .write(partial.clone(), bytes)
        .map_err(failed)
        .and_then(|()| verify(destination, &partial, accounts, key))
        .and_then(|()| destination.rename(partial.clone(), name.clone()).map_err(failed));
    if let Err(e) = placed {
        let _ = destination.delete(partial);
        return Err(e);
    }
    // Rotation, only now that a verified copy has its name; never the new copy, and only copies
    // this vault wrote (a file named like a backup may be anyone's).
    // A sorted list and binary search: the one sort of `&String` the rotation has anyway (each
    // new sort or hash table instantiated costs kilobytes of the phones' library).
    let mut present: Vec<&String> = existing.iter().collect();
    present.sort();
    let there = |n: &&String| present.binary_search(n).is_ok();
    let mut forgotten: Vec<String> = ours.iter().filter(|n| !there(n)).cloned().collect();
    let mut good: Vec<&String> = ours.iter().filter(|n| there(n) && **n != name).collect();
    good.sort();
    let excess = good.len().saturating_sub(keep.saturating_sub(1));
    for old in &good[..excess] {
        if destination.delete((*old).clone()).is_ok() {
            forgotten.push((*old).clone());
        }
    }
    Ok(Placed { name, forgotten })
}

fn verify(
    destination: &dyn BackupDestination,
    partial: &str,
    accounts: &[AccountData],
    key: &BackupKey,
) -> std::result::Result<(), Failed> {
    let back = destination.read(partial.to_owned()).map_err(|e| (e.failure(), e.to_string()))?;
    let failed = |what: &str| (BackupFailure::VerificationFailed, format!("the copy written {what}; it was discarded"));
    let entries = format::decrypt_with(&back, key).map_err(|_| failed("does not decrypt"))?;
    let restored: Vec<AccountData> = entries
        .into_iter()
        .map(|e| e.outcome)
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| failed("holds an unreadable account"))?;
    if restored != accounts {
        return Err(failed("differs from the accounts"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
