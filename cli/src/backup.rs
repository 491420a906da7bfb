//! `authenticator export` (--backup, --aegis, --2fas, --html, --google), `import`, `verify-backup`.

use std::path::Path;

use services::Error;
use services::backup::{self, format};
use storage::Vault;
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

/// A new password for a file: typed twice without echo, or AUTHENTICATOR_BACKUP_PASSWORD.
pub(crate) fn new_password() -> CliResult<Zeroizing<String>> {
    if let Ok(value) = std::env::var(PASSWORD_ENV) {
        return Ok(Zeroizing::new(value));
    }
    let first = prompt::hidden("Backup password: ")?;
    if first.is_empty() {
        return Err(CliError::msg(format!("no backup password given: type it in a terminal or set {PASSWORD_ENV}")));
    }
    if *prompt::hidden("Repeat the password: ")? != *first {
        return Err(CliError::msg("the passwords differ"));
    }
    Ok(first)
}

fn refuse_existing(path: &Path) -> CliResult<()> {
    if path.exists() {
        return Err(CliError::msg(format!("{} exists; choose a new file name", path.display())));
    }
    Ok(())
}

/// Writes `bytes` to the new file `path`, readable by its owner only (0600): first into a new
/// file beside it, then linked into place, so a crash never leaves half a file under its name
/// and neither step replaces a file someone else put there. (A plain rename would: it is used
/// only on file systems without hard links, and only while `path` does not exist.)
fn write_new_file(path: &Path, bytes: &[u8]) -> CliResult<()> {
    use std::io::Write;
    refuse_existing(path)?;
    let cannot = |e: std::io::Error| CliError::msg(format!("cannot write {}: {e}", path.display()));
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&partial).map_err(cannot)?;
        let written = file.write_all(bytes).and_then(|()| file.sync_all());
        if let Err(e) = written {
            drop(file);
            let _ = std::fs::remove_file(&partial);
            return Err(cannot(e));
        }
    }
    let placed = match std::fs::hard_link(&partial, path) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists && !path.exists() => std::fs::rename(&partial, path),
        other => other,
    };
    let _ = std::fs::remove_file(&partial);
    placed.map_err(cannot)
}

fn note_push_tokens(vault: &Vault) -> CliResult<()> {
    let push_tokens = vault.push_tokens()?.len();
    if push_tokens > 0 {
        eprintln!(
            "Not included: {push_tokens} push token(s). Their keys are bound to this device; enroll them again on a new one."
        );
    }
    Ok(())
}

pub fn export_backup(vault: &Vault, path: &Path) -> CliResult<()> {
    refuse_existing(path)?;
    let password = new_password()?;
    let accounts = vault.all_account_data()?;
    crate::warn_damaged(vault, "not in the backup:")?;
    eprintln!("Encrypting {} accounts (Argon2id, 64 MiB)…", accounts.len());
    let bytes = format::encrypt(&accounts, &password, format::KdfParams::default())?;
    write_new_file(path, &bytes)?;
    let check = backup::verify_backup(&read(path)?, &password)?;
    note!("Wrote {}: verified, {} accounts restore from it.", path.display(), check.accounts);
    note_push_tokens(vault)
}

/// Another app's file format.
#[derive(Debug, Clone, Copy)]
pub enum App {
    Aegis,
    TwoFas,
}

/// `export --aegis FILE` / `export --2fas FILE`: encrypted with a new password, or with `plain`
/// unencrypted after a warning (asked unless `yes`). The file is read back before reporting.
pub fn export_to_app(vault: &Vault, path: &Path, app: App, plain: bool, yes: bool) -> CliResult<()> {
    refuse_existing(path)?;
    let name = match app {
        App::Aegis => "Aegis",
        App::TwoFas => "2FAS",
    };
    let password = if plain {
        warn_or_confirm(
            &format!(
                "This writes every secret unencrypted to {}: anyone who gets the file can make your codes.",
                path.display()
            ),
            yes,
        )?;
        None
    } else {
        Some(new_password()?)
    };
    let accounts = vault.all_account_data()?;
    crate::warn_damaged(vault, "not exported:")?;
    let password = password.as_deref().map(String::as_str);
    let bytes = match app {
        App::Aegis => backup::aegis::export(&accounts, password)?,
        App::TwoFas => backup::twofas::export(&accounts, password)?,
    };
    write_new_file(path, &bytes)?;
    let parsed = backup::parse(&read(path)?, password)?;
    let readable = parsed.entries.iter().filter(|e| e.outcome.is_ok()).count();
    if readable != accounts.len() {
        return Err(CliError::msg(format!("{} was written but does not read back whole", path.display())));
    }
    let how = if plain { "unencrypted" } else { "encrypted" };
    note!("Wrote {} ({name} format, {how}): verified, {readable} accounts import from it.", path.display());
    note_push_tokens(vault)
}

/// With `yes` (scripts), prints `warning`; otherwise asks the user to confirm it.
fn warn_or_confirm(warning: &str, yes: bool) -> CliResult<()> {
    if yes {
        eprintln!("warning: {warning}");
        Ok(())
    } else {
        prompt::confirm(warning, "yes")
    }
}

/// `export --html FILE`: the printable paper backup, after a warning (asked unless `yes`).
pub fn export_html(vault: &Vault, path: &Path, yes: bool) -> CliResult<()> {
    refuse_existing(path)?;
    warn_or_confirm(
        &format!(
            "This writes every secret, with its QR code, unencrypted to {}: print it, then delete the file.",
            path.display()
        ),
        yes,
    )?;
    let accounts = vault.all_account_data()?;
    crate::warn_damaged(vault, "not exported:")?;
    write_new_file(path, &backup::paper::html(&accounts)?)?;
    note!("Wrote {}: a paper backup of {} accounts.", path.display(), accounts.len());
    note_push_tokens(vault)
}

/// Google Authenticator migration URIs: printed, drawn as QR codes (`qr`), or written as PNG
/// files into `png`. When the format cannot carry some accounts, nothing is exported and the
/// command fails naming them, unless `allow_partial`.
pub fn export_google(vault: &Vault, allow_partial: bool, qr: bool, png: Option<&Path>) -> CliResult<()> {
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
    let group = group.map(domain::account::Name::from);
    if let [Code::Account(text)] = codes.as_slice() {
        let mut data = domain::uri::parse(text)?;
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
    let report = services::backup::import(vault, entries, dry_run)?;
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
