//! `authenticator export --backup`, `import`, `verify-backup`.

use std::path::Path;

use authenticator_core::backup::{self, format};
use authenticator_core::{Error, Vault};
use zeroize::Zeroizing;

use crate::{CliError, CliResult, note, prompt, say};

/// Non-interactive backup password (scripts, tests).
pub const PASSWORD_ENV: &str = "AUTHENTICATOR_BACKUP_PASSWORD";

fn password(question: &str) -> CliResult<Zeroizing<String>> {
    match std::env::var(PASSWORD_ENV) {
        Ok(value) => Ok(Zeroizing::new(value)),
        Err(_) => typed(question),
    }
}

/// A password asked for without echo. Nothing typed (no terminal and nothing piped, or stdin
/// already read as the file) is "no password", not a wrong one.
fn typed(question: &str) -> CliResult<Zeroizing<String>> {
    let password = prompt::hidden(question)?;
    if password.is_empty() {
        return Err(CliError::msg(format!(
            "the file is encrypted and no password was given: type it in a terminal or set {PASSWORD_ENV}"
        )));
    }
    Ok(password)
}

pub fn export_backup(vault: &Vault, path: &Path) -> CliResult<()> {
    if path.exists() {
        return Err(CliError::msg(format!("{} exists; choose a new file name", path.display())));
    }
    let password = match std::env::var(PASSWORD_ENV) {
        Ok(value) => Zeroizing::new(value),
        Err(_) => {
            let first = prompt::hidden("Backup password: ")?;
            if first.is_empty() {
                return Err(CliError::msg(format!(
                    "no backup password given: type it in a terminal or set {PASSWORD_ENV}"
                )));
            }
            if *prompt::hidden("Repeat the password: ")? != *first {
                return Err(CliError::msg("the passwords differ"));
            }
            first
        }
    };
    let accounts = vault.all_account_data()?;
    crate::warn_damaged(vault, "not in the backup:")?;
    eprintln!("Encrypting {} accounts (Argon2id, 64 MiB)…", accounts.len());
    let bytes = format::encrypt(&accounts, &password, format::KdfParams::default())?;
    // Write a new file beside the target, then link it into place: a crash never leaves half a
    // backup under its name, and neither step can replace a file someone else put there.
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&partial)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
    }
    let linked = std::fs::hard_link(&partial, path);
    let _ = std::fs::remove_file(&partial);
    linked.map_err(|e| CliError::msg(format!("cannot write {}: {e}", path.display())))?;
    let check = backup::verify_backup(&read(path)?, &password)?;
    note!("Wrote {}: verified, {} accounts restore from it.", path.display(), check.accounts);
    let push_tokens = vault.push_tokens()?.len();
    if push_tokens > 0 {
        eprintln!(
            "Not included: {push_tokens} push token(s). Their keys are bound to this device; enroll them again on a new one."
        );
    }
    Ok(())
}

/// Google Authenticator migration URIs. When the format cannot carry some accounts, nothing is
/// printed and the command fails naming them, unless `allow_partial`.
pub fn export_google(vault: &Vault, allow_partial: bool) -> CliResult<()> {
    let export = backup::google::export(&vault.all_account_data()?);
    for warning in &export.warnings {
        note!("not exported: {warning}");
    }
    if !export.warnings.is_empty() && !allow_partial {
        return Err(CliError::msg(format!(
            "Google Authenticator's format cannot carry {} of your accounts (named above); nothing was \
             exported. Pass --allow-partial to export the others.",
            export.warnings.len()
        )));
    }
    for uri in &export.uris {
        say!("{uri}");
    }
    Ok(())
}

/// A file named by the user ("-": stdin), read up to the input cap (16 MiB) and never past it.
fn read(path: &Path) -> CliResult<Vec<u8>> {
    let cannot = |e: Error| match e {
        Error::Io(e) => CliError::msg(format!("cannot read {}: {e}", path.display())),
        e => CliError::msg(format!("cannot read {}: {e}", path.display())),
    };
    if path.as_os_str() == "-" {
        return backup::read_capped(std::io::stdin().lock()).map_err(cannot);
    }
    let file = std::fs::File::open(path).map_err(|e| cannot(Error::Io(e)))?;
    backup::read_capped(file).map_err(cannot)
}

pub fn import(vault: &Vault, path: &Path, dry_run: bool) -> CliResult<()> {
    let bytes = read(path)?;
    let parsed = match backup::parse(&bytes, None) {
        Err(Error::PasswordRequired) => backup::parse(&bytes, Some(&password("Password of the file: ")?))?,
        other => other?,
    };
    let report = authenticator_core::backup::import(vault, &parsed.entries, dry_run)?;
    let verb = if dry_run { "would import" } else { "imported" };
    eprintln!(
        "{:?} file: {verb} {}, {} duplicate(s) skipped, {} refused",
        parsed.format,
        report.imported.len(),
        report.duplicates.len(),
        report.refused.len()
    );
    for name in &report.imported {
        say!("{verb}: {name}");
    }
    for name in &report.duplicates {
        say!("duplicate: {name}");
    }
    for refused in &report.refused {
        say!("refused: {} ({})", refused.name, refused.reason);
    }
    Ok(())
}

pub fn verify(path: &Path) -> CliResult<()> {
    let bytes = read(path)?;
    // A backup that will not open (damaged, or too costly to open) is refused before its
    // password is asked for.
    if backup::detect(&bytes) == Some(backup::ImportFormat::Backup) {
        match format::open(&bytes, None) {
            Err(Error::PasswordRequired) | Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let check = backup::verify_backup(&bytes, &password("Backup password: ")?)?;
    say!("OK: {} accounts restore from {}", check.accounts, path.display());
    for refused in &check.refused {
        say!("cannot restore: {} ({})", refused.name, refused.reason);
    }
    if check.refused.is_empty() { Ok(()) } else { Err(CliError::msg("some entries would not restore")) }
}
