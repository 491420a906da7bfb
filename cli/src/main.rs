//! `authenticator`: the terminal app on the authenticator core.

mod autobackup;
mod backup;
mod clock;
mod passkey;
mod prompt;
mod push;
mod qr;
mod store;
mod sync;
mod view;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use domain::account::Name;
use domain::uri::SteamUri;
use domain::{Account, AccountData, Algorithm, Generator, OtpKind, OtpParams, uri};
use services::backup as core_backup;
use storage::Vault;

#[derive(Parser)]
#[command(
    name = "authenticator",
    version,
    about = "Rotating one-time codes (TOTP, HOTP, Steam) from an encrypted vault"
)]
struct Cli {
    /// Folder holding the vault (default: the platform's data directory).
    #[arg(long, global = true, env = "AUTHENTICATOR_HOME", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the vault (done automatically with a key file on first use).
    Init {
        /// Protect the vault with a passphrase instead of a key file
        /// (non-interactive: AUTHENTICATOR_PASSPHRASE).
        #[arg(long)]
        passphrase: bool,
    },
    /// Add an account from an otpauth:// URI, a QR code image (--qr), or fields.
    Add(AddArgs),
    /// List accounts (no codes, no secrets).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show every code, refreshed each second with a countdown (Ctrl-C quits).
    Codes {
        /// Print the codes once and exit (the default when stdout is not a terminal).
        #[arg(long)]
        once: bool,
    },
    /// Print one code and nothing else, for scripts. HOTP counters advance.
    Code {
        /// Account id, or text matching its issuer/label.
        #[arg(required_unless_present = "uri", conflicts_with = "uri")]
        query: Option<String>,
        /// Compute from this URI without touching the vault. The URI holds the secret, which `ps`
        /// and shell history see when given here: `--uri -` reads it from standard input instead.
        #[arg(long, value_name = "OTPAUTH_URI")]
        uri: Option<String>,
        /// Unix time in seconds instead of now.
        #[arg(long, value_name = "UNIX_SECONDS")]
        at: Option<u64>,
        /// Print the next code instead of the current one.
        #[arg(long)]
        next: bool,
    },
    /// Remove an account.
    Remove {
        query: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Change an account's issuer and/or label.
    Rename {
        query: String,
        #[arg(long)]
        issuer: Option<String>,
        #[arg(long)]
        label: Option<String>,
    },
    /// Put an account in a group (no group name: take it out of its group).
    Group { query: String, group: Option<String> },
    /// Move an account to a position in the list (1 = top).
    Move { query: String, position: usize },
    /// Show the clock offset in force, or set a manual one (seconds added to this device's
    /// clock; setting one turns automatic correction off).
    Offset {
        #[arg(allow_negative_numbers = true)]
        seconds: Option<i64>,
    },
    /// The clock: the offset in force, its source and age; `check` measures it against an NTP
    /// server or an HTTPS URL; `accept` applies a proposed correction; `auto on|off` chooses
    /// measured or manual correction.
    Time {
        #[command(subcommand)]
        command: Option<clock::TimeCommand>,
    },
    /// End-to-end encrypted sync through your own WebDAV server; without a command, one round.
    Sync {
        #[command(subcommand)]
        command: Option<sync::SyncCommand>,
    },
    /// Push approvals: enroll tokens, receive sign-in requests, approve or deny them.
    Push {
        #[command(subcommand)]
        command: push::PushCommand,
    },
    /// Passkeys: this vault as a passkey provider for any relying party (create, get, list,
    /// rename, remove); the options JSON on stdin, the response JSON on stdout.
    Passkey {
        #[command(subcommand)]
        command: passkey::PasskeyCommand,
    },
    /// Export accounts: an encrypted backup file, a file for Aegis or 2FAS, or (after
    /// confirmation) a printable HTML page, otpauth:// URIs or Google Authenticator migration
    /// URIs, which contain the secrets. Files are new, and readable by their owner only.
    Export {
        /// Write an encrypted backup to FILE (password asked twice without echo, or
        /// AUTHENTICATOR_BACKUP_PASSWORD); the file is verified after writing.
        #[arg(long, value_name = "FILE", group = "what")]
        backup: Option<PathBuf>,
        /// Write an Aegis vault file (Aegis imports it), encrypted like --backup unless --plain.
        #[arg(long, value_name = "FILE", groups = ["what", "app"])]
        aegis: Option<PathBuf>,
        /// Write a 2FAS .2fas file (2FAS imports it), encrypted like --backup unless --plain.
        #[arg(long = "2fas", value_name = "FILE", groups = ["what", "app"])]
        twofas: Option<PathBuf>,
        /// With --aegis or --2fas: write the file unencrypted (after a warning; --yes skips it).
        #[arg(long, requires = "app")]
        plain: bool,
        /// Write a printable HTML page: one card per account with its QR code and secret.
        #[arg(long, value_name = "FILE", group = "what")]
        html: Option<PathBuf>,
        /// Print otpauth:// URIs, one per line.
        #[arg(long, group = "what")]
        uris: bool,
        /// With --uris: write Steam accounts as otpauth://totp/…&encoder=steam, for apps that
        /// do not read otpauth://steam.
        #[arg(long, requires = "uris")]
        steam_as_totp: bool,
        /// Print Google Authenticator otpauth-migration:// URIs (one per QR code).
        #[arg(long, group = "what")]
        google: bool,
        /// With --google: draw the QR codes in the terminal, for Google Authenticator to scan.
        #[arg(long)]
        qr: bool,
        /// With --qr: write the QR codes as PNG files into DIR (0600) instead of drawing them.
        #[arg(long, value_name = "DIR", requires = "qr")]
        png: Option<PathBuf>,
        /// With --google: export what Google Authenticator can carry even when some accounts
        /// must be left out (without it, the export fails and names them).
        #[arg(long, requires = "google")]
        allow_partial: bool,
        /// Do not ask before printing or writing secrets in clear.
        #[arg(long)]
        yes: bool,
    },
    /// Draw an account's QR code in the terminal (it holds the secret: asks first), so a phone
    /// can scan it off the screen.
    ShowQr {
        /// Account id, or text matching its issuer/label.
        query: String,
        /// Write the QR code as a PNG file into DIR (0600) instead of drawing it.
        #[arg(long, value_name = "DIR")]
        png: Option<PathBuf>,
        /// Do not ask before showing the secret.
        #[arg(long)]
        yes: bool,
    },
    /// Import a backup or another app's export (Aegis, 2FAS, Bitwarden, FreeOTP, Steam, Google
    /// or Microsoft Authenticator, otpauth:// URIs, …), or the QR codes in a PNG or JPEG image:
    /// format detected, duplicates skipped.
    Import {
        /// The file ("-" reads stdin).
        file: PathBuf,
        /// Show what would be imported, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Prove a backup restores, without importing it.
    VerifyBackup { file: PathBuf },
    /// Automatic backups into a folder: enable, disable, status, now, password.
    Backup {
        #[command(subcommand)]
        command: autobackup::BackupCommand,
    },
}

#[derive(clap::Args)]
struct AddArgs {
    /// An otpauth:// URI, as in the service's QR code; `-` reads it from standard input, which
    /// keeps its secret out of `ps` and shell history.
    #[arg(conflicts_with_all = ["issuer", "label", "secret_stdin", "kind", "algorithm", "digits", "period", "counter", "qr"])]
    uri: Option<String>,
    /// Read the QR code(s) in a PNG or JPEG image (a screenshot): one account is added, several
    /// (or a Google Authenticator export) are imported with a report.
    #[arg(long, value_name = "IMAGE", conflicts_with_all = ["issuer", "label", "secret_stdin", "kind", "algorithm", "digits", "period", "counter"])]
    qr: Option<PathBuf>,
    /// Service name, for manual entry.
    #[arg(long)]
    issuer: Option<String>,
    /// Account name at the service, for manual entry.
    #[arg(long)]
    label: Option<String>,
    /// Read the base32 secret from the first line of standard input. Without it, the secret comes
    /// from AUTHENTICATOR_SECRET, or is asked for without echo (read from stdin when piped).
    #[arg(long)]
    secret_stdin: bool,
    /// Refused: a secret on the command line is visible to `ps` and kept in shell history.
    #[arg(long, hide = true, value_name = "BASE32")]
    secret: Option<String>,
    /// totp, hotp or steam.
    #[arg(long = "type", value_name = "TYPE", default_value = "totp")]
    kind: String,
    #[arg(long, default_value = "SHA1")]
    algorithm: String,
    #[arg(long, default_value_t = 6)]
    digits: u8,
    /// TOTP period in seconds.
    #[arg(long, default_value_t = 30)]
    period: u32,
    /// HOTP counter.
    #[arg(long, default_value_t = 0)]
    counter: u64,
    /// Group to file the account under.
    #[arg(long)]
    group: Option<String>,
}

/// An error for the user: printed on stderr, exit status 1. An empty message means stdout was
/// closed by its reader (`| head`): stop quietly, as a pipeline expects.
#[derive(Debug)]
pub struct CliError(String);

impl CliError {
    /// An error whose message is `text`, as the user reads it.
    pub fn msg(text: impl Into<String>) -> Self {
        Self(text.into())
    }
}

impl<E: std::error::Error + 'static> From<E> for CliError {
    fn from(e: E) -> Self {
        let any: &dyn std::any::Any = &e;
        match any.downcast_ref::<std::io::Error>() {
            Some(io) if io.kind() == std::io::ErrorKind::BrokenPipe => Self(String::new()),
            _ => Self(e.to_string()),
        }
    }
}

/// `println!` that returns an error instead of panicking when stdout is gone. What it prints
/// passes through `text::printable`: whatever a file, a QR code or a server put in it, no
/// control, bidi or invisible character reaches the terminal (line feeds and tabs excepted).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), "{}", domain::text::printable(&format!($($arg)*)))?
    }};
}

/// `eprintln!` for notes that may quote names, paths or messages from outside: printed through
/// `text::printable`, like [`say!`].
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        eprintln!("{}", domain::text::printable(&format!($($arg)*)))
    }};
}

/// What every command returns.
pub type CliResult<T> = Result<T, CliError>;

/// The runtime the network commands (push, sync, the clock's https check) block on: one
/// thread, this one.
pub fn runtime() -> CliResult<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError(message)) if message.is_empty() => ExitCode::SUCCESS,
        Err(CliError(message)) => {
            note!("authenticator: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> CliResult<()> {
    // Stateless: no vault is opened or created.
    if let Command::Code { uri: Some(uri), at, next, .. } = &cli.command {
        let account = uri::parse(&prompt::arg_or_stdin(uri.clone())?)?;
        let code = Generator::new(account.params, &account.secret).code(at.unwrap_or_else(now));
        say!("{}", if *next { &code.next_value } else { &code.value });
        return Ok(());
    }
    let dir = match cli.data_dir {
        Some(dir) => dir,
        None => store::default_data_dir()?,
    };
    let store = store::Store::new(dir);
    if let Command::VerifyBackup { file } = &cli.command {
        return backup::verify(file);
    }
    if let Command::Init { passphrase } = cli.command {
        let mode = if passphrase { store::KeyMode::Passphrase } else { store::KeyMode::KeyFile };
        store.create(mode)?;
        note!("Created {}", store.db_path().display());
        return Ok(());
    }
    // Commands that write nothing open the vault read-only, so a read-only folder still serves.
    let reads_only = match &cli.command {
        Command::List { .. } | Command::Codes { .. } | Command::Export { .. } | Command::ShowQr { .. } => true,
        Command::Code { next, .. } => *next,
        Command::Offset { seconds } => seconds.is_none(),
        Command::Time { command } => command.is_none(),
        Command::Import { dry_run, .. } => *dry_run,
        Command::Backup { command: autobackup::BackupCommand::Status { .. } } => true,
        Command::Passkey { command } => passkey::reads_only(command),
        _ => false,
    };
    let backup_command = matches!(cli.command, Command::Backup { .. });
    let vault = if reads_only { store.open_for_reading()? } else { store.open()? };
    // A passphrase vault is opened by someone who knows it: that verifies the user for passkeys
    // (WebAuthn's UV). A key-file vault verifies nobody.
    let user_verified = store.key_mode() == store::KeyMode::Passphrase;
    let result = match cli.command {
        Command::Passkey { command } => passkey::run(&vault, command, user_verified),
        other => command(&vault, other),
    };
    // The change is committed; its backup follows, and a failing one is reported every time.
    let warned = !reads_only && autobackup::at_exit(&vault);
    if !backup_command && !warned {
        autobackup::warn(&vault);
    }
    result
}

fn command(vault: &Vault, command: Command) -> CliResult<()> {
    match command {
        Command::Init { .. } => unreachable!("handled above"),
        Command::Code { uri: Some(_), .. } => unreachable!("handled above"),
        Command::Add(args) => add(vault, args),
        Command::List { json } => list(vault, json),
        Command::Codes { once } => {
            warn_damaged(vault, "no codes for")?;
            if let Some(warning) = clock::warning(vault)? {
                say!("{warning}");
            }
            view::codes(vault, once)
        }
        Command::Code { query, at, next, .. } => {
            let account = find(vault, query.as_deref().unwrap_or_default())?;
            let time = at.unwrap_or_else(now);
            if next {
                // A preview: it is not used yet, so an HOTP counter must not move.
                say!("{}", vault.code(account.id, time)?.next_value);
            } else {
                say!("{}", vault.take_code(account.id, time)?.value);
            }
            Ok(())
        }
        Command::Remove { query, yes } => {
            if let Ok(id) = query.parse::<i64>()
                && vault.damaged_accounts()?.iter().any(|d| d.id == id)
            {
                if !yes {
                    prompt::confirm(&format!("Remove damaged account {id}? Its codes will be gone for good."), "yes")?;
                }
                vault.remove(id)?;
                eprintln!("Removed damaged account {id}");
                return Ok(());
            }
            let account = find(vault, &query)?;
            if !yes {
                prompt::confirm(
                    &format!("Remove {}? Its codes will be gone for good.", account.display_name()),
                    "yes",
                )?;
            }
            vault.remove(account.id)?;
            note!("Removed {}", account.display_name());
            Ok(())
        }
        Command::Rename { query, issuer, label } => {
            let account = find(vault, &query)?;
            if issuer.is_none() && label.is_none() {
                return Err(CliError::msg("give --issuer and/or --label"));
            }
            vault.rename(
                account.id,
                &Name::new(issuer.as_deref().unwrap_or(&account.issuer)),
                &Name::new(label.as_deref().unwrap_or(&account.label)),
            )?;
            note!("Renamed to {}", vault.account(account.id)?.display_name());
            Ok(())
        }
        Command::Group { query, group } => {
            let account = find(vault, &query)?;
            vault.set_group(account.id, group.map(Name::from).as_ref())?;
            Ok(())
        }
        Command::Move { query, position } => {
            let account = find(vault, &query)?;
            let mut ids: Vec<i64> = vault.accounts()?.iter().map(|a| a.id).filter(|id| *id != account.id).collect();
            ids.insert(position.saturating_sub(1).min(ids.len()), account.id);
            vault.reorder(&ids)?;
            Ok(())
        }
        Command::Offset { seconds: Some(seconds) } => {
            vault.set_clock_offset(seconds)?;
            eprintln!("Codes now use this device's clock {seconds:+} s");
            Ok(())
        }
        Command::Offset { seconds: None } => {
            say!("{}", vault.clock_offset()?);
            Ok(())
        }
        Command::Time { command } => clock::run(vault, command),
        Command::Push { command } => push::run(vault, command),
        Command::Sync { command } => sync::run(vault, command),
        Command::Export { backup: Some(_), qr: true, .. } => {
            Err(CliError::msg("--qr draws Google Authenticator migration codes: use it with --google"))
        }
        Command::Export { backup: Some(path), .. } => backup::export_backup(vault, &path),
        Command::Export { aegis: Some(path), plain, yes, .. } => {
            backup::export_to_app(vault, &path, backup::App::Aegis, plain, yes)
        }
        Command::Export { twofas: Some(path), plain, yes, .. } => {
            backup::export_to_app(vault, &path, backup::App::TwoFas, plain, yes)
        }
        Command::Export { html: Some(path), yes, .. } => backup::export_html(vault, &path, yes),
        Command::Export { uris, steam_as_totp, google, allow_partial, qr, png, yes, .. } => {
            if !uris && !google {
                return Err(CliError::msg(
                    "choose --backup FILE, --aegis FILE, --2fas FILE, --html FILE, --uris or --google",
                ));
            }
            if qr && !google {
                return Err(CliError::msg("--qr draws Google Authenticator migration codes: use it with --google"));
            }
            if !yes {
                prompt::confirm(
                    "This prints every secret in plain text; anyone who sees it can make your codes.",
                    "yes",
                )?;
            }
            warn_damaged(vault, "not exported:")?;
            if google {
                return backup::export_google(vault, allow_partial, qr, png.as_deref());
            }
            let steam = if steam_as_totp { SteamUri::TotpEncoder } else { SteamUri::Scheme };
            for line in uri::format_all(&vault.all_account_data()?, steam) {
                say!("{}", line.as_str());
            }
            Ok(())
        }
        Command::ShowQr { query, png, yes } => show_qr(vault, &query, png.as_deref(), yes),
        Command::Import { file, dry_run } => backup::import(vault, &file, dry_run),
        Command::VerifyBackup { .. } => unreachable!("handled before opening the vault"),
        Command::Backup { command } => autobackup::run(vault, command),
        Command::Passkey { .. } => unreachable!("handled in run"),
    }
}

fn add(vault: &Vault, args: AddArgs) -> CliResult<()> {
    if let Some(secret) = args.secret {
        zeroize::Zeroizing::new(secret);
        return Err(CliError::msg(
            "a secret is never taken from the command line (ps and shell history would see it): use \
             --secret-stdin, AUTHENTICATOR_SECRET, or type it when asked",
        ));
    }
    if let Some(image) = &args.qr {
        return backup::add_from_image(vault, image, args.group.as_deref());
    }
    let data = match args.uri {
        Some(text) => {
            let text = prompt::arg_or_stdin(text)?;
            if services::push::enrollment::is_push_uri(&text) {
                return Err(CliError::msg("this is a push token; enroll it with `authenticator push enroll <uri>`"));
            }
            if core_backup::detect(text.as_bytes()) == Some(core_backup::ImportFormat::GoogleMigration) {
                return Err(CliError::msg("this is a Google Authenticator export; `authenticator import` reads those"));
            }
            let mut data = uri::parse(&text)?;
            data.group = args.group.map(Name::from);
            data
        }
        None => {
            if args.issuer.is_none() && args.label.is_none() {
                return Err(CliError::msg("give an otpauth:// URI, or --issuer and/or --label for manual entry"));
            }
            let kind: OtpKind = args.kind.parse()?;
            let algorithm: Algorithm = args.algorithm.parse()?;
            let params = OtpParams::new(kind, algorithm, args.digits, args.period, args.counter)?;
            let secret = match std::env::var(prompt::SECRET_ENV) {
                Ok(secret) if !args.secret_stdin => zeroize::Zeroizing::new(secret),
                _ if args.secret_stdin => prompt::stdin_line()?,
                _ => prompt::hidden("Secret (base32): ")?,
            };
            AccountData::from_fields(
                args.issuer.as_deref().unwrap_or_default(),
                args.label.as_deref().unwrap_or_default(),
                args.group.as_deref(),
                params,
                &secret,
            )?
        }
    };
    let account = vault.add(&data)?;
    note!("Added {} [id {}]", account.display_name(), account.id);
    Ok(())
}

fn show_qr(vault: &Vault, query: &str, png: Option<&std::path::Path>, yes: bool) -> CliResult<()> {
    let account = find(vault, query)?;
    if !yes {
        prompt::confirm(
            &format!(
                "The QR code of {} holds its secret; anyone who sees or scans it can make your codes.",
                account.display_name()
            ),
            "yes",
        )?;
    }
    let uri = uri::format(&vault.account_data(account.id)?);
    match png {
        Some(dir) => {
            qr::png_dir(dir)?;
            let path = qr::write_png(dir, &format!("account-{}.png", account.id), &uri)?;
            note!("Wrote {} ({})", path.display(), account.display_name());
        }
        None => {
            note!("{}: scan this with the phone's authenticator app", account.display_name());
            qr::print(&uri)?;
        }
    }
    Ok(())
}

/// Names each damaged account on stderr: `what` says what happens to it ("no codes for", …).
pub(crate) fn warn_damaged(vault: &Vault, what: &str) -> CliResult<()> {
    for d in vault.damaged_accounts()? {
        eprintln!(
            "warning: {what} account {}: it is damaged ({}); `authenticator remove {}` deletes it",
            d.id, d.reason, d.id
        );
    }
    Ok(())
}

fn list(vault: &Vault, json: bool) -> CliResult<()> {
    let accounts = vault.accounts()?;
    let damaged = vault.damaged_accounts()?;
    if json {
        let mut items: Vec<serde_json::Value> = accounts.iter().map(Account::to_json).collect();
        items.extend(damaged.iter().map(|d| serde_json::json!({ "id": d.id, "damaged": d.reason })));
        say!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    if accounts.is_empty() && damaged.is_empty() {
        eprintln!("No accounts yet. Add one: authenticator add 'otpauth://totp/…'");
        return Ok(());
    }
    say!("{:>4}  {:<24} {:<28} {:<18} GROUP", "ID", "ISSUER", "LABEL", "TYPE");
    for a in &accounts {
        say!(
            "{:>4}  {:<24} {:<28} {:<18} {}",
            a.id,
            a.issuer,
            a.label,
            view::describe(&a.params),
            a.group.as_deref().unwrap_or("")
        );
    }
    for d in &damaged {
        say!("{:>4}  DAMAGED: {} (`authenticator remove {}` deletes it)", d.id, d.reason, d.id);
    }
    Ok(())
}

/// Finds one account by id, exact name, or unambiguous part of its name (the vault's search).
fn find(vault: &Vault, query: &str) -> CliResult<Account> {
    if let Ok(id) = query.parse::<i64>()
        && let Ok(account) = vault.account(id)
    {
        return Ok(account);
    }
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return Err(CliError::msg("give an account id or part of its name"));
    }
    let found = vault.search(&q)?;
    let full = |a: &Account| format!("{}:{}", a.issuer, a.label).to_lowercase();
    let exact: Vec<&Account> =
        found.iter().filter(|a| a.issuer.to_lowercase() == q || a.label.to_lowercase() == q || full(a) == q).collect();
    let matches = if exact.is_empty() { found.iter().collect() } else { exact };
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(CliError::msg(format!("no account matches '{query}' (see `authenticator list`)"))),
        many => {
            let names: Vec<String> = many.iter().map(|a| format!("  {:>4}  {}", a.id, a.display_name())).collect();
            Err(CliError::msg(format!("'{query}' matches several accounts; use an id:\n{}", names.join("\n"))))
        }
    }
}

fn now() -> u64 {
    domain::time::now().max(0) as u64
}
