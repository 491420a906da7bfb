//! `authenticator passkey`: the core as a passkey provider for any relying party, from a script.
//! The options JSON comes on standard input, the response JSON goes to standard output.

use std::io::Read;

use clap::Subcommand;
use domain::passkey::{MAX_REQUEST_BYTES, PasskeyError, PasskeyInfo, b64url};
use serde_json::json;
use services::passkey::{self, User};
use storage::Vault;

use crate::{CliError, CliResult, note, prompt, say};

#[derive(Subcommand)]
pub enum PasskeyCommand {
    /// Create a passkey: reads PublicKeyCredentialCreationOptionsJSON on stdin, prints the
    /// RegistrationResponseJSON. A passphrase vault counts as user verification; a key-file
    /// vault verifies nobody, so `userVerification: required` is refused there.
    Create {
        /// The caller's origin: https://host[:port] (http only for localhost), or an Android
        /// app's android:apk-key-hash:….
        #[arg(long)]
        origin: String,
    },
    /// Sign in: reads PublicKeyCredentialRequestOptionsJSON on stdin, prints the
    /// AuthenticationResponseJSON.
    Get {
        /// The caller's origin, as for create.
        #[arg(long)]
        origin: String,
        /// Which passkey when several match: its user name (or the name you gave it).
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
    },
    /// List the passkeys (never a key).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Only those of this relying party.
        #[arg(long, value_name = "RPID")]
        rp: Option<String>,
    },
    /// Give a passkey your own name.
    Rename { id: i64, name: String },
    /// Remove a passkey for good (the site still lists it until you remove it there too).
    Remove {
        id: i64,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// Whether the command only reads the vault.
pub fn reads_only(command: &PasskeyCommand) -> bool {
    matches!(command, PasskeyCommand::List { .. })
}

/// The request on standard input, at most [`MAX_REQUEST_BYTES`] (one byte more is refused).
fn read_request() -> CliResult<String> {
    let mut json = String::new();
    std::io::stdin().lock().take(MAX_REQUEST_BYTES as u64 + 1).read_to_string(&mut json)?;
    if json.trim().is_empty() {
        return Err(CliError::msg("no options JSON on standard input"));
    }
    Ok(json)
}

fn describe(p: &PasskeyInfo) -> String {
    let name = if p.name.is_empty() { String::new() } else { format!(" \"{}\"", p.name) };
    format!("{} at {}{name} (id {})", p.user_name, p.rp_id, p.id)
}

/// The one passkey to sign with: the only candidate, or the one `user` names.
fn choose(candidates: Vec<PasskeyInfo>, user: Option<&str>) -> CliResult<PasskeyInfo> {
    let matching: Vec<PasskeyInfo> = match user {
        Some(user) => candidates.into_iter().filter(|p| p.user_name == user || p.name == user).collect(),
        None => candidates,
    };
    match <[PasskeyInfo; 1]>::try_from(matching) {
        Ok([one]) => Ok(one),
        Err(none) if none.is_empty() => Err(CliError::msg(match user {
            Some(user) => format!("no passkey of {user} here matches the request"),
            None => "no passkey stored here matches the request".to_owned(),
        })),
        Err(several) => Err(CliError::msg(format!(
            "several passkeys match: {}; choose one with --user",
            several.iter().map(describe).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// A refusal for want of user verification says how to get it here.
fn hint(e: services::Error, user_verified: bool) -> CliError {
    match e {
        services::Error::Passkey(PasskeyError::UserVerificationRequired) if !user_verified => CliError::msg(format!(
            "{e}: this vault is opened with a key file, which verifies nobody; a vault protected by a passphrase \
             (`authenticator init --passphrase`) counts as user verification"
        )),
        other => CliError::from(other),
    }
}

pub fn run(vault: &Vault, command: PasskeyCommand, user_verified: bool) -> CliResult<()> {
    let user = User { verified: user_verified };
    match command {
        PasskeyCommand::Create { origin } => {
            let created =
                passkey::create(vault, &read_request()?, &origin, None, user).map_err(|e| hint(e, user_verified))?;
            say!("{}", created.response_json);
            note!("Created a passkey for {}", describe(&created.passkey));
        }
        PasskeyCommand::Get { origin, user: name } => {
            let request = read_request()?;
            let chosen = choose(passkey::candidates(vault, &request, &origin)?, name.as_deref())?;
            let signed = passkey::get(vault, &request, &origin, None, &chosen.credential_id, user)
                .map_err(|e| hint(e, user_verified))?;
            say!("{}", signed.response_json);
            note!("Signed in as {}", describe(&chosen));
        }
        PasskeyCommand::List { json, rp } => {
            let (_, damaged) = vault.passkey_rows()?;
            let passkeys = passkey::list(vault, rp.as_deref())?;
            if json {
                let list: Vec<_> = passkeys
                    .iter()
                    .map(|p| {
                        json!({
                            "id": p.id,
                            "credential_id": b64url(&p.credential_id),
                            "rp_id": p.rp_id,
                            "rp_name": p.rp_name,
                            "user_name": p.user_name,
                            "user_display_name": p.user_display_name,
                            "user_handle": b64url(&p.user_handle),
                            "name": p.name,
                            "created_at": p.created_at,
                            "last_used_at": p.last_used_at,
                        })
                    })
                    .collect();
                say!("{}", serde_json::Value::Array(list));
            } else if passkeys.is_empty() {
                note!("No passkeys");
            } else {
                for p in &passkeys {
                    let used = p
                        .last_used_at
                        .map_or("never used".to_owned(), |t| format!("last used {}", domain::time::iso8601_utc(t)));
                    say!("{:>4}  {}  {}  ({})", p.id, p.rp_id, describe_user(p), used);
                }
            }
            for d in damaged {
                note!(
                    "passkey {} is damaged (its record does not open): remove it with `passkey remove {}`",
                    d.id,
                    d.id
                );
            }
        }
        PasskeyCommand::Rename { id, name } => {
            vault.rename_passkey(id, &name)?;
            note!("Renamed passkey {id}");
        }
        PasskeyCommand::Remove { id, yes } => {
            let what = vault.passkey(id).map(|p| describe(&p)).unwrap_or_else(|_| format!("passkey {id}"));
            if !yes {
                prompt::confirm(&format!("Remove {what}? It cannot sign in again."), "yes")?;
            }
            vault.remove_passkey(id)?;
            note!("Removed {what}");
        }
    }
    Ok(())
}

fn describe_user(p: &PasskeyInfo) -> String {
    match (p.name.is_empty(), p.user_display_name.is_empty() || p.user_display_name == p.user_name) {
        (false, _) => format!("{} \"{}\"", p.user_name, p.name),
        (true, true) => p.user_name.clone(),
        (true, false) => format!("{} ({})", p.user_name, p.user_display_name),
    }
}
