//! The live code view: every account's code with a countdown bar, redrawn each second.

use std::io::{IsTerminal, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use domain::{AccountCode, OtpKind, OtpParams};
use storage::Vault;

use crate::CliResult;

const BAR_WIDTH: usize = 20;

/// "totp SHA1 6/30s", "hotp SHA256 8", "steam".
pub fn describe(p: &OtpParams) -> String {
    match p.kind() {
        OtpKind::Totp => format!("totp {} {}/{}s", p.algorithm(), p.digits(), p.period()),
        OtpKind::Hotp => format!("hotp {} {}", p.algorithm(), p.digits()),
        OtpKind::Steam => "steam".to_owned(),
    }
}

/// Groups digits for reading aloud: "123 456", "1234 5678"; Steam codes stay as they are.
fn spaced(code: &str) -> String {
    if !code.bytes().all(|b| b.is_ascii_digit()) || code.len() < 6 {
        return code.to_owned();
    }
    let (a, b) = code.split_at(code.len() / 2);
    format!("{a} {b}")
}

fn render(codes: &[AccountCode]) -> Vec<String> {
    if codes.is_empty() {
        return vec!["No accounts yet. Add one: authenticator add 'otpauth://totp/…'".to_owned()];
    }
    let width = |c: &AccountCode| domain::text::printable(&c.account.display_name()).chars().count();
    let name_width = codes.iter().map(width).max().unwrap_or(0).min(40);
    codes
        .iter()
        .map(|AccountCode { account, code }| {
            // Printed between the view's own escape sequences: nothing of the name may act as one.
            let name: String = domain::text::printable(&account.display_name()).chars().take(40).collect();
            let pad = name_width.saturating_sub(name.chars().count());
            if account.params.kind() == OtpKind::Hotp {
                return format!(
                    "{name}{:pad$}  {:<11}  counter-based: `authenticator code {}` takes the next code",
                    "", "••••••", account.id
                );
            }
            let period = account.params.period().max(1) as usize;
            let filled = (code.seconds_left as usize * BAR_WIDTH).div_ceil(period).min(BAR_WIDTH);
            format!(
                "{name}{:pad$}  {:<11}  {}{} {:>3}s  next {}",
                "",
                spaced(&code.value),
                "█".repeat(filled),
                "░".repeat(BAR_WIDTH - filled),
                code.seconds_left,
                spaced(&code.next_value)
            )
        })
        .collect()
}

/// Prints all codes once, or keeps redrawing them each second on a terminal.
pub fn codes(vault: &Vault, once: bool) -> CliResult<()> {
    let mut out = std::io::stdout().lock();
    let live = !once && out.is_terminal();
    let mut previous_lines = 0;
    loop {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let lines = render(&vault.codes(now.as_secs())?);
        if live && previous_lines > 0 {
            // Back to the top of the previous frame, then overwrite it line by line.
            write!(out, "\x1b[{previous_lines}A")?;
        }
        for line in &lines {
            let clear = if live { "\x1b[2K" } else { "" };
            writeln!(out, "{clear}{line}")?;
        }
        out.flush()?;
        if !live {
            return Ok(());
        }
        previous_lines = lines.len();
        // Wake just after the next second boundary so countdowns tick in step with the clock.
        std::thread::sleep(
            Duration::from_nanos(1_000_000_000 - u64::from(now.subsec_nanos())) + Duration::from_millis(5),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_for_reading() {
        assert_eq!(spaced("123456"), "123 456");
        assert_eq!(spaced("12345678"), "1234 5678");
        assert_eq!(spaced("1234567"), "123 4567");
        assert_eq!(spaced("2BCDF"), "2BCDF");
        assert_eq!(spaced("1234"), "1234");
    }
}
