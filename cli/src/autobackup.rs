//! `authenticator backup enable|disable|status|now|password`: automatic backups into a folder,
//! made at the exit of every command that changed the accounts, and a warning on every command
//! while they fail.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use domain::time::{iso8601_utc, now};
use services::Error;
use services::backup::auto::{self, BackupStatus, FolderDestination};
use services::backup::format::{self, KdfParams};
use storage::Vault;

use crate::{CliError, CliResult, note, say};

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Turn automatic backups on, into DIR (made if missing): after every change, a new
    /// encrypted backup, verified, the newest N kept. The password is asked twice without echo
    /// (or AUTHENTICATOR_BACKUP_PASSWORD); files open with it in `verify-backup` and `import`.
    /// When on already: a new folder, password and count.
    Enable {
        dir: PathBuf,
        /// Backups to keep (the newest).
        #[arg(long, default_value_t = auto::DEFAULT_KEEP, value_parser = clap::value_parser!(i32).range(1..))]
        keep: i32,
    },
    /// Turn automatic backups off (the backups made stay).
    Disable,
    /// Show whether backups are on, the last success and the last failure.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make a backup now.
    Now,
    /// Change the backup password (later backups use it; older ones keep theirs).
    Password,
}

pub fn run(vault: &Vault, command: BackupCommand) -> CliResult<()> {
    match command {
        BackupCommand::Enable { dir, keep } => {
            let password = crate::backup::new_password()?;
            if password.chars().count() < format::MIN_PASSWORD_CHARS {
                return Err(Error::WeakPassword(format::MIN_PASSWORD_CHARS).into());
            }
            std::fs::create_dir_all(&dir).map_err(|e| CliError::msg(format!("cannot make {}: {e}", dir.display())))?;
            let dir = std::fs::canonicalize(&dir)?;
            let folder = dir.to_str().ok_or_else(|| CliError::msg("the folder's path is not UTF-8"))?;
            eprintln!("Deriving the backup key (Argon2id, 64 MiB), once…");
            auto::enable(vault, &password, keep, Some(folder), KdfParams::default())?;
            note!("Automatic backups on: into {}, keeping the newest {keep}.", dir.display());
            now_into(vault, &dir)
        }
        BackupCommand::Disable => {
            auto::disable(vault)?;
            eprintln!("Automatic backups off (the backups made stay).");
            Ok(())
        }
        BackupCommand::Status { json } => print_status(&auto::status(vault, now())?, json),
        BackupCommand::Now => now_into(vault, &folder(vault)?),
        BackupCommand::Password => {
            folder(vault)?;
            let password = crate::backup::new_password()?;
            auto::change_password(vault, &password, KdfParams::default())?;
            eprintln!("Backup password changed: later backups open with the new one, older ones with the old.");
            now_into(vault, &folder(vault)?)
        }
    }
}

fn folder(vault: &Vault) -> CliResult<PathBuf> {
    auto::status(vault, now())?
        .folder
        .map(PathBuf::from)
        .ok_or_else(|| CliError::msg("automatic backups are off: `authenticator backup enable DIR` turns them on"))
}

fn now_into(vault: &Vault, dir: &Path) -> CliResult<()> {
    let destination = auto::folder_destination(vault)?.unwrap_or_else(|| FolderDestination::new(dir));
    let name = auto::run(vault, &destination)?;
    note!("Backed up and verified: {}", dir.join(name).display());
    Ok(())
}

/// At the exit of a command that may have changed the accounts: the backup, when changes wait
/// for one. The change is committed already; a failure is a warning, not the command's failure.
/// True when it warned.
pub fn at_exit(vault: &Vault) -> bool {
    let Ok(status) = auto::status(vault, now()) else { return false };
    if let (Ok(Some(destination)), true) = (auto::folder_destination(vault), status.pending_changes)
        && let Err(e) = auto::run(vault, &destination)
    {
        note!(
            "warning: {e}; your changes are saved in the vault but not backed up (see `authenticator backup status`)"
        );
        return true;
    }
    false
}

/// Printed on every command while the last backup failed or none succeeded for 7 days.
pub fn warn(vault: &Vault) {
    if let Ok(BackupStatus { warning: Some(warning), .. }) = auto::status(vault, now()) {
        note!("warning: {warning} (see `authenticator backup status`)");
    }
}

fn time(unix: Option<i64>) -> String {
    unix.map_or_else(|| "never".into(), |t| format!("{} UTC", iso8601_utc(t)[..19].replace('T', " ")))
}

fn print_status(status: &BackupStatus, json: bool) -> CliResult<()> {
    if json {
        let value = serde_json::json!({
            "enabled": status.enabled,
            "folder": status.folder,
            "keep": status.keep,
            "last_success_at": status.last_success_at,
            "last_success_name": status.last_success_name,
            "last_failure_at": status.last_failure_at,
            "last_failure": status.last_failure.map(|f| f.code()),
            "last_failure_detail": status.last_failure_detail,
            "pending_changes": status.pending_changes,
            "warning": status.warning,
        });
        say!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    if !status.enabled {
        say!("Automatic backups: off (`authenticator backup enable DIR` turns them on)");
        return Ok(());
    }
    say!("Automatic backups: on, into {}, keeping the newest {}", status.folder.as_deref().unwrap_or("?"), status.keep);
    say!(
        "Last success: {}{}",
        time(status.last_success_at),
        status.last_success_name.as_ref().map_or(String::new(), |n| format!(" ({n})"))
    );
    if let (Some(at), Some(failure)) = (status.last_failure_at, status.last_failure) {
        say!(
            "Last failure: {} ({}: {})",
            time(Some(at)),
            failure.describe(),
            status.last_failure_detail.as_deref().unwrap_or_default()
        );
    }
    say!("Changes not backed up yet: {}", if status.pending_changes { "yes" } else { "no" });
    if let Some(warning) = &status.warning {
        say!("WARNING: {warning}");
    }
    Ok(())
}
