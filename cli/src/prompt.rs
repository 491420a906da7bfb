//! Questions asked on the terminal: confirmations, and secrets read without echo.

use std::io::{BufRead, IsTerminal, Read, Write};

use zeroize::Zeroizing;

use crate::{CliError, CliResult};

/// Asks `question` on stderr and reads an answer from stdin; `expected` must be typed exactly.
/// Without a terminal there is nobody to ask: fails, pointing at `--yes`.
pub fn confirm(question: &str, expected: &str) -> CliResult<()> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::msg(format!("{question}\nrefusing without confirmation: pass --yes to proceed")));
    }
    eprint!("{}", domain::text::printable(&format!("{question} Type '{expected}' to continue: ")));
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() == expected { Ok(()) } else { Err(CliError::msg("cancelled")) }
}

/// A secret typed without echo (a base32 key, a passphrase).
pub fn hidden(question: &str) -> CliResult<Zeroizing<String>> {
    if !std::io::stdin().is_terminal() {
        // Piped input: read one line, so scripts can feed secrets without putting them in argv.
        return stdin_line();
    }
    Ok(Zeroizing::new(rpassword::prompt_password(question)?))
}

/// A new PIN: typed twice on a terminal, or one line from piped stdin.
pub fn new_pin() -> CliResult<Zeroizing<String>> {
    let pin = hidden("New PIN: ")?;
    if std::io::stdin().is_terminal() && *hidden("Repeat the PIN: ")? != *pin {
        return Err(CliError::msg("the PINs differ"));
    }
    Ok(pin)
}

/// The vault passphrase: from `env_var` when set, otherwise asked for.
pub fn passphrase(env_var: &str) -> CliResult<Zeroizing<String>> {
    if let Ok(value) = std::env::var(env_var) {
        return Ok(Zeroizing::new(value));
    }
    let passphrase = hidden("Vault passphrase: ")?;
    if passphrase.is_empty() {
        return Err(CliError::msg(format!("no passphrase given: type it in a terminal or set {env_var}")));
    }
    Ok(passphrase)
}

/// A new passphrase, typed twice (or taken from `env_var`).
pub fn new_passphrase(env_var: &str) -> CliResult<Zeroizing<String>> {
    let first = match std::env::var(env_var) {
        Ok(value) => Zeroizing::new(value),
        Err(_) => {
            let first = hidden("New vault passphrase: ")?;
            if *hidden("Repeat the passphrase: ")? != *first {
                return Err(CliError::msg("the passphrases differ"));
            }
            first
        }
    };
    if first.chars().count() < 8 {
        return Err(CliError::msg("a passphrase needs at least 8 characters"));
    }
    Ok(first)
}

/// Where a PIN comes from: `--pin-stdin`, the `AUTHENTICATOR_PIN` environment variable, or a
/// no-echo prompt. Never the command line, where `ps` and shell history would see it: `--pin
/// VALUE` is accepted by the parser only to refuse it with a pointer to these.
#[derive(clap::Args, Default)]
pub struct PinSource {
    /// Read the PIN from the first line of standard input.
    #[arg(long)]
    pin_stdin: bool,
    /// Refused: a PIN on the command line is visible to `ps` and kept in shell history.
    #[arg(long, hide = true, value_name = "PIN")]
    pin: Option<String>,
}

/// Environment variable a script can put a PIN in (seen only by the same user's processes).
pub const PIN_ENV: &str = "AUTHENTICATOR_PIN";
/// Environment variable a script can put a base32 secret in, for `add`.
pub const SECRET_ENV: &str = "AUTHENTICATOR_SECRET";

impl PinSource {
    /// The PIN, if one was given; when `needed` and nothing was given, asks on a terminal.
    pub fn read(&self, needed: bool) -> CliResult<Option<Zeroizing<String>>> {
        if let Some(pin) = &self.pin {
            Zeroizing::new(pin.clone());
            return Err(CliError::msg(
                "a PIN is never taken from the command line (ps and shell history would see it): use \
                 --pin-stdin, AUTHENTICATOR_PIN, or type it when asked",
            ));
        }
        if self.pin_stdin {
            return stdin_line().map(Some);
        }
        if let Ok(pin) = std::env::var(PIN_ENV) {
            return Ok(Some(Zeroizing::new(pin)));
        }
        if needed && std::io::stdin().is_terminal() {
            return hidden("PIN: ").map(Some);
        }
        Ok(None)
    }
}

/// One line of standard input, without its line ending (a terminal echoes nothing).
pub fn stdin_line() -> CliResult<Zeroizing<String>> {
    if std::io::stdin().is_terminal() {
        return hidden("");
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().lock().take(MAX_LINE_BYTES).read_line(&mut line)?;
    Ok(Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned()))
}

/// Longest line read from standard input (a URI, a secret, a PIN): 64 KiB.
const MAX_LINE_BYTES: u64 = 64 * 1024;

/// `text`, or one line of standard input when it is `-`: how URIs holding secrets stay out of
/// argv.
pub fn arg_or_stdin(text: String) -> CliResult<Zeroizing<String>> {
    if text == "-" { stdin_line() } else { Ok(Zeroizing::new(text)) }
}
