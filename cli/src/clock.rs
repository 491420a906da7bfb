//! `authenticator time`: the offset codes use, checks against time servers the user names, the
//! user's acceptance of a proposed correction, and automatic or manual correction.

use clap::Subcommand;
use domain::time::{DeviceClock, now_ms};
use net::HttpClient;
use services::clock::{self, Basis, ClockStatus, Measurement};
use storage::Vault;

use crate::{CliResult, runtime, say};

#[derive(Subcommand)]
pub enum TimeCommand {
    /// Measure this device's clock against an NTP server and/or the Date header of an HTTPS
    /// URL (only the servers named here are contacted), and correct codes in automatic mode.
    Check {
        /// An NTP server: HOST or HOST:PORT (port 123 by default).
        #[arg(long, value_name = "HOST[:PORT]", required_unless_present = "https")]
        ntp: Option<String>,
        /// An https:// URL whose Date header gives the time.
        #[arg(long, value_name = "URL")]
        https: Option<String>,
        /// Measure as if this device's clock were off by MS milliseconds (to try the
        /// correction without changing the clock).
        #[arg(long, hide = true, allow_negative_numbers = true, value_name = "MS")]
        simulate_skew_ms: Option<i64>,
    },
    /// Apply the proposed correction (over 2 min, claimed by one source only: see `time`) as
    /// your decision, and turn automatic correction on.
    Accept,
    /// Automatic correction on (measured offsets apply) or off (the manual `offset` applies).
    Auto {
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

/// `authenticator time [check|accept|auto]`.
pub fn run(vault: &Vault, command: Option<TimeCommand>) -> CliResult<()> {
    match command {
        None => show(vault, &clock::status(vault)?),
        Some(TimeCommand::Accept) => show(vault, &clock::accept_proposal(vault)?),
        Some(TimeCommand::Auto { state }) => {
            clock::set_automatic(vault, state == "on")?;
            show(vault, &clock::status(vault)?)
        }
        Some(TimeCommand::Check { ntp, https, simulate_skew_ms }) => {
            let skew = simulate_skew_ms.unwrap_or(0);
            let check = clock::Check {
                ntp_server: ntp.as_deref(),
                https_url: https.as_deref(),
                device: DeviceClock::reading(now_ms() + skew),
                simulated_skew_ms: skew,
            };
            let outcome = runtime()?.block_on(clock::check(vault, &HttpClient::new()?, check))?;
            if let (Some(server), Some(m)) = (&ntp, &outcome.ntp) {
                say!("NTP {server}: {}", measured(Some(m)));
            }
            if let (Some(url), Some(m)) = (&https, &outcome.https) {
                say!("HTTPS {url}: {}", measured(Some(m)));
            }
            show(vault, &outcome.status)
        }
    }
}

/// The banner line, for the top of `authenticator codes`.
pub fn warning(vault: &Vault) -> CliResult<Option<String>> {
    Ok(clock::status(vault)?.warning.map(|w| format!("warning: {w}")))
}

fn show(vault: &Vault, status: &ClockStatus) -> CliResult<()> {
    let mode = if status.automatic { "automatic" } else { "manual; automatic correction is off" };
    let state = vault.clock_state()?;
    let basis = state.correction.map(|c| c.basis);
    let source = match (status.offset_source, status.automatic, &status.last_measurement) {
        (Some(source), true, _) => {
            let why = match basis {
                Some(Basis::Agreed(other)) => format!(" and {} agreeing", other.as_str()),
                Some(Basis::Accepted) => ", accepted by you".to_owned(),
                _ => String::new(),
            };
            format!(", measured by {}{why}", source.as_str())
        }
        (None, true, _) if status.proposal.is_some() || !state.disagreement.is_empty() => {
            "; nothing applied, see below".to_owned()
        }
        (None, true, Some(_)) => "; no correction needed".to_owned(),
        (None, true, None) => "; nothing measured yet: try `authenticator time check --ntp HOST`".to_owned(),
        _ => String::new(),
    };
    say!("Offset in force: {:+} s ({mode}{source})", status.offset_seconds);
    if let Some(m) = &status.last_measurement {
        say!("Last measurement: {}", measured(Some(m)));
    }
    for m in &state.disagreement {
        say!("Disagreeing: {}", measured(Some(m)));
    }
    if let Some(m) = &status.proposal {
        say!("Proposed: {:+} s, from {}", m.seconds(), measured(Some(m)));
        say!("  `authenticator time accept` applies it; a check that a second source agrees with applies it too");
    }
    if let Some(m) = &status.hint {
        say!("Push server (a hint, never applied): {}", measured(Some(m)));
    }
    if let Some(w) = &status.warning {
        say!("warning: {w}");
    }
    Ok(())
}

fn measured(m: Option<&Measurement>) -> String {
    let Some(m) = m else { return "nothing measured".into() };
    let age_ms = (now_ms() - m.measured_at_ms).max(0) as u64;
    let age = if age_ms < 1000 { "just now".to_owned() } else { format!("{} ago", clock::duration_text(age_ms)) };
    format!(
        "{:+.3} s ± {:.3} s by {}, {age} (positive: this device's clock is behind)",
        m.offset_ms as f64 / 1000.0,
        m.uncertainty_ms as f64 / 1000.0,
        m.source.as_str()
    )
}
