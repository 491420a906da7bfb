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

/// Google Authenticator migration URIs: printed, drawn as QR codes (`qr`), or written as PNG
/// files into `png`.
pub fn export_google(vault: &Vault, qr: bool, png: Option<&Path>) -> CliResult<()> {
    let export = backup::google::export(&vault.all_account_data()?);
    for warning in &export.warnings {
        note!("not exported: {warning}");
    }
    if !qr {
        for uri in &export.uris {
            say!("{uri}");
        }
        return Ok(());
    }
    let count = export.uris.len();
    if let Some(dir) = png {
        crate::qr::png_dir(dir)?;
    }
    for (i, uri) in export.uris.iter().enumerate() {
        let n = i + 1;
        match png {
            Some(dir) => {
                let path = crate::qr::write_png(dir, &format!("google-migration-{n}-of-{count}.png"), uri)?;
                note!("Wrote {}", path.display());
            }
            None => {
                if i > 0 {
                    say!("");
                }
                eprintln!("QR code {n} of {count}: scan it with Google Authenticator (Transfer accounts → Import)");
                crate::qr::print(uri)?;
            }
        }
    }
    Ok(())
}

/// A file named by the user ("-": stdin), read up to the input cap (16 MiB) and never past it.
pub(crate) fn read(path: &Path) -> CliResult<Vec<u8>> {
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
    if crate::qr::is_image(&bytes) {
        let codes = image_codes(path, &bytes)?;
        return import_entries(
            vault,
            &format!("QR image ({} codes)", codes.len()),
            &crate::qr::entries(&codes)?,
            dry_run,
        );
    }
    let parsed = match backup::parse(&bytes, None) {
        Err(Error::PasswordRequired) => backup::parse(&bytes, Some(&password("Password of the file: ")?))?,
        other => other?,
    };
    import_entries(vault, &format!("{:?} file", parsed.format), &parsed.entries, dry_run)
}

/// The QR codes in an image file's `bytes`; errors name the file.
fn image_codes(path: &Path, bytes: &[u8]) -> CliResult<Vec<crate::qr::Code>> {
    crate::qr::read_codes(bytes).map_err(|CliError(e)| CliError::msg(format!("{}: {e}", path.display())))
}

/// `add --qr IMAGE`: one account code is added like `add URI`; several codes, or a Google
/// Authenticator export, are imported with a report. `group` files every account.
pub fn add_from_image(vault: &Vault, path: &Path, group: Option<&str>) -> CliResult<()> {
    use crate::qr::Code;
    let bytes = read(path)?;
    let codes = image_codes(path, &bytes)?;
    let group = group.map(authenticator_core::account::Name::from);
    if let [Code::Account(text)] = codes.as_slice() {
        let mut data = authenticator_core::uri::parse(text)?;
        data.group = group;
        let account = vault.add(&data)?;
        note!("Added {} [id {}]", account.display_name(), account.id);
        return Ok(());
    }
    if let [Code::Push(_)] = codes.as_slice() {
        return Err(CliError::msg(format!(
            "this is a push token; enroll it with `authenticator push enroll --qr {}`",
            path.display()
        )));
    }
    let mut entries = crate::qr::entries(&codes)?;
    for entry in &mut entries {
        if let Ok(data) = &mut entry.outcome {
            data.group = group.clone();
        }
    }
    import_entries(vault, &format!("QR image ({} codes)", codes.len()), &entries, false)
}

/// Imports `entries` (or, as a dry run, says what it would do) and prints the report.
fn import_entries(vault: &Vault, source: &str, entries: &[backup::ImportEntry], dry_run: bool) -> CliResult<()> {
    let report = authenticator_core::backup::import(vault, entries, dry_run)?;
    let verb = if dry_run { "would import" } else { "imported" };
    eprintln!(
        "{source}: {verb} {}, {} duplicate(s) skipped, {} refused",
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
