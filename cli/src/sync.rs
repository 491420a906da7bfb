//! `authenticator sync …`: end-to-end encrypted sync through the user's WebDAV server.

use clap::Subcommand;
use services::sync::{self, SyncClient, SyncSecret};
use storage::Vault;
use zeroize::Zeroizing;

use crate::{CliError, CliResult, note, prompt, qr, runtime, say};

/// `authenticator sync [COMMAND]`; without a command, one round.
#[derive(Subcommand)]
pub enum SyncCommand {
    /// Set sync up with a WebDAV folder (server password: AUTHENTICATOR_WEBDAV_PASSWORD or asked
    /// without echo; sync passphrase: AUTHENTICATOR_SYNC_PASSPHRASE or asked, or a pairing code
    /// from another device with --pairing-code, read from AUTHENTICATOR_SYNC_PAIRING_CODE or
    /// asked, or a random key with --random-key), then sync once. A new passphrase must be hard
    /// to guess (four or more random words); a weak one is refused and nothing is stored.
    Setup {
        /// The folder's URL (https; http only on this machine).
        url: String,
        /// The user name on the server.
        #[arg(long, default_value = "")]
        user: String,
        /// Join with a pairing code instead of the sync passphrase.
        #[arg(long, conflicts_with = "random_key")]
        pairing_code: bool,
        /// The first device: a random sync key instead of a passphrase (the others join with its
        /// pairing code, `sync pair`).
        #[arg(long)]
        random_key: bool,
    },
    /// Show whether sync is set up, the last success and error, and pending changes.
    Status,
    /// Show the pairing code (the sync key) as text and as a QR code, to set up another device.
    Pair {
        /// Do not ask before showing the key.
        #[arg(long)]
        yes: bool,
    },
    /// Leave sync: forget the server, its password and the sync key (accounts stay).
    Leave,
    /// Change the sync key, after a device was lost: a new passphrase (AUTHENTICATOR_SYNC_PASSPHRASE
    /// or asked twice) or a random key with --random-key. The server keeps nothing under the old
    /// key; the other devices must set up again with the new passphrase or pairing code.
    Rekey {
        /// A random key instead of a passphrase (then show its pairing code with `sync pair`).
        #[arg(long)]
        random_key: bool,
    },
}

fn secret_from(env: &str, question: &str) -> CliResult<Zeroizing<String>> {
    match std::env::var(env) {
        Ok(value) => Ok(Zeroizing::new(value)),
        Err(_) => {
            let value = prompt::hidden(question)?;
            if value.is_empty() {
                return Err(CliError::msg(format!("nothing given: type it in a terminal or set {env}")));
            }
            Ok(value)
        }
    }
}

/// A new sync passphrase: from AUTHENTICATOR_SYNC_PASSPHRASE, or asked twice without echo.
fn new_passphrase() -> CliResult<Zeroizing<String>> {
    if std::env::var_os("AUTHENTICATOR_SYNC_PASSPHRASE").is_some() {
        return secret_from("AUTHENTICATOR_SYNC_PASSPHRASE", "");
    }
    let first = secret_from("AUTHENTICATOR_SYNC_PASSPHRASE", "New sync passphrase: ")?;
    let again = prompt::hidden("The new sync passphrase again: ")?;
    if *first != *again {
        return Err(CliError::msg("the two passphrases differ: nothing was changed"));
    }
    Ok(first)
}

/// Runs a sync command (`None`: one round).
pub fn run(vault: &Vault, command: Option<SyncCommand>) -> CliResult<()> {
    let client = SyncClient::new()?;
    match command {
        None => round(vault, &client),
        Some(SyncCommand::Setup { url, user, pairing_code, random_key }) => {
            let password = secret_from("AUTHENTICATOR_WEBDAV_PASSWORD", "WebDAV server password: ")?;
            let given = if random_key {
                Zeroizing::new(String::new())
            } else if pairing_code {
                secret_from("AUTHENTICATOR_SYNC_PAIRING_CODE", "Pairing code: ")?
            } else {
                secret_from("AUTHENTICATOR_SYNC_PASSPHRASE", "Sync passphrase: ")?
            };
            let secret = match (random_key, pairing_code) {
                (true, _) => SyncSecret::RandomKey,
                (false, true) => SyncSecret::PairingCode(&given),
                (false, false) => SyncSecret::Passphrase(&given),
            };
            runtime()?.block_on(sync::setup(vault, &client, &url, &user, &password, secret))?;
            note!("Sync is set up with {url}");
            if random_key {
                note!(
                    "The sync key is random: set up the other devices with its pairing code (`authenticator sync pair`)."
                );
            }
            round(vault, &client)
        }
        Some(SyncCommand::Rekey { random_key }) => {
            let given = if random_key { Zeroizing::new(String::new()) } else { new_passphrase()? };
            let secret = if random_key { SyncSecret::RandomKey } else { SyncSecret::Passphrase(&given) };
            let report = runtime()?.block_on(sync::rekey(vault, &client, secret))?;
            note!(
                "The sync key is changed (generation {}): nothing on the server is under the old key. Set the other devices up again with {}; change the WebDAV password too if a lost device knew it.",
                report.generation,
                if random_key { "the new pairing code (`authenticator sync pair`)" } else { "the new passphrase" }
            );
            Ok(())
        }
        Some(SyncCommand::Status) => {
            let status = sync::status(vault)?;
            match &status.server {
                None => say!("Sync is not set up."),
                Some(server) => say!("Server: {server} (user {})", status.user.as_deref().unwrap_or_default()),
            }
            match status.last_success {
                Some(at) => say!("Last success: {}", domain::time::iso8601_utc(at)),
                None => say!("Last success: never"),
            }
            if let Some(error) = &status.last_error {
                say!("Last error: {error}");
            }
            say!("Pending changes: {}", status.pending_changes);
            if !status.devices.is_empty() {
                say!("Devices (last seen):");
                for d in &status.devices {
                    say!(
                        "  {}{}: {}, generation {}{}",
                        &d.device[..8],
                        if d.this_device { " (this device)" } else { "" },
                        domain::time::iso8601_utc(d.last_seen),
                        d.generation,
                        if d.stale { " (not seen for over 14 days)" } else { "" }
                    );
                }
            }
            for warning in &status.warnings {
                say!("Warning: {warning}");
            }
            Ok(())
        }
        Some(SyncCommand::Pair { yes }) => {
            if !yes {
                prompt::confirm(
                    "The pairing code is the sync key: anyone who sees it can read your synced accounts.",
                    "yes",
                )?;
            }
            let code = sync::pairing_code(vault)?;
            qr::print(&code)?;
            say!("{}", code.as_str());
            note!("On the other device: authenticator sync setup URL --user NAME --pairing-code");
            Ok(())
        }
        Some(SyncCommand::Leave) => {
            sync::leave(vault)?;
            note!("Left sync: the server and sync key are forgotten on this device; the accounts stay.");
            Ok(())
        }
    }
}

fn round(vault: &Vault, client: &SyncClient) -> CliResult<()> {
    let report = runtime()?.block_on(sync::sync_now(vault, client))?;
    note!(
        "Synced: {} account(s) changed here, {} (generation {}).",
        report.changed_here,
        if report.uploaded { "changes uploaded" } else { "nothing to upload" },
        report.generation
    );
    if report.removed_while_away > 0 {
        note!(
            "Removed {} account(s) here that other devices removed while this one was away for over 90 days.",
            report.removed_while_away
        );
    }
    if !report.refused.is_empty() {
        note!("Refused {} record(s) another device published (not applied here):", report.refused.len());
        for r in &report.refused {
            note!("  account {}: {}", r.account, r.reason);
        }
    }
    Ok(())
}
