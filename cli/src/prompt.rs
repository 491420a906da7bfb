//! Questions asked on the terminal: confirmations, and secrets read without echo.

use std::io::{BufRead, IsTerminal, Write};

use zeroize::Zeroizing;

use crate::{CliError, CliResult};

/// Asks `question` on stderr and reads an answer from stdin; `expected` must be typed exactly.
/// Without a terminal there is nobody to ask: fails, pointing at `--yes`.
pub fn confirm(question: &str, expected: &str) -> CliResult<()> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::msg(format!("{question}\nrefusing without confirmation: pass --yes to proceed")));
    }
    eprint!("{}", authenticator_core::text::printable(&format!("{question} Type '{expected}' to continue: ")));
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() == expected { Ok(()) } else { Err(CliError::msg("cancelled")) }
}

/// A secret typed without echo (a base32 key, a passphrase).
pub fn hidden(question: &str) -> CliResult<Zeroizing<String>> {
    if !std::io::stdin().is_terminal() {
        // Piped input: read one line, so scripts can feed secrets without putting them in argv.
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned()));
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
