//! The clock: how wrong the device's clock is, and the correction codes use.
//!
//! A TOTP code is only as good as the clock. The offset (server time minus device time) is
//! measured, each time with an uncertainty (half the round trip), from three sources:
//! - an SNTP server the user names ([`sntp`], RFC 4330 client mode over UDP);
//! - the `Date` header of an HTTPS URL the user names ([`check_https`]);
//! - a privacyIDEA server that push already talks to: its replies carry the server's time, so
//!   every poll measures for free ([`from_server_reply`]).
//!
//! No source is contacted unless the user named it or push already talks to it.
//!
//! A measurement is refused beyond [`MAX_PLAUSIBLE_OFFSET_MS`] (a server that far off is wrong,
//! or lying). What one check measured (an SNTP server and/or an https URL) then decides the
//! correction, and no single source moves it far on its own:
//! - measurements of one check that disagree beyond their uncertainty (plus [`SIGNIFICANT_MS`])
//!   apply nothing, and the banner says which source claims what;
//! - a measurement that agrees with the correction in force keeps it (so codes do not jitter),
//!   and one that says the clock is right (within its uncertainty plus 2 s) drops it;
//! - one source may set a correction of up to [`MAX_ONE_SOURCE_SECONDS`] (2 min);
//! - a larger one applies when a second, independent source agrees (the other of NTP and
//!   HTTPS, in the same check or as the pending proposal); else it becomes a proposal, shown
//!   with its source, which only the user's [`accept_proposal`] puts in force.
//!
//! A push server's time is a hint, never an authority: it is kept and shown, but never applied
//! and never counted as the second source (a push server is one relying party, and the
//! correction moves every account's codes). The correction applies in automatic mode; in manual
//! mode the offset the user typed applies.

pub mod sntp;

use std::time::{Duration, Instant};

pub use domain::clock::{
    Basis, ClockMode, ClockState, ClockStatus, Correction, MAX_ONE_SOURCE_SECONDS, Measurement, TimeSource,
};

use crate::error::{Error, Result};
use domain::time::DeviceClock;
use net::HttpClient;
use storage::{Vault, VaultAccess};

/// A measured offset is applied only when it exceeds its uncertainty by more than this (ms); two
/// measurements agree when they differ by at most their uncertainties plus this.
pub const SIGNIFICANT_MS: i64 = 2_000;
/// Measured offsets beyond this (24 h, in ms) are refused as implausible.
pub const MAX_PLAUSIBLE_OFFSET_MS: i64 = 24 * 3_600_000;
/// The last measurement warns when the device clock is off by more than this (ms).
pub const WARNING_MS: i64 = 10_000;
/// Longest wait for an SNTP answer.
pub const NTP_TIMEOUT: Duration = Duration::from_secs(5);

/// What goes wrong asking a time server. The offset in force is never changed by a failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeSourceError {
    /// Nothing came back in time.
    #[error("no answer from the time server within {0} s")]
    NoAnswer(u64),
    /// Answers came, but only from another address than the server's: ignored.
    #[error("the only answers came from another address than the time server's")]
    WrongSource,
    /// Answers came, but none echoed our request's timestamp (RFC 4330 origin check): ignored.
    #[error("the only answers did not echo this request (wrong origin timestamp)")]
    WrongOrigin,
    /// The reply is not an SNTP server reply, or is damaged.
    #[error("the time server's reply is malformed: {0}")]
    Malformed(&'static str),
    /// A kiss-of-death packet (stratum 0): the server refuses to serve; the code says why.
    #[error("the time server refused to serve (kiss-of-death code {0})")]
    KissOfDeath(String),
    /// The server says its own clock is not synchronised.
    #[error("the time server's clock is not synchronised")]
    Unsynchronized,
    /// An HTTP reply without a usable `Date` header.
    #[error("the server's reply has no usable Date header")]
    NoDate,
}

/// Applies what one check measured (or a push server's time) to the stored state, as the
/// module's policy says. Anything beyond 24 h refuses the whole check and changes nothing.
pub fn apply(state: &mut ClockState, check: &[Measurement]) -> Result<()> {
    if let Some(m) = check.iter().find(|m| m.offset_ms.unsigned_abs() > MAX_PLAUSIBLE_OFFSET_MS as u64) {
        return Err(Error::ImplausibleClock { offset_seconds: m.seconds() });
    }
    let mut check = check.to_vec();
    if let Some(&hint) = check.iter().rfind(|m| m.source == TimeSource::PrivacyIdea) {
        state.hint = Some(hint);
    }
    check.retain(|m| m.source != TimeSource::PrivacyIdea);
    let Some(&best) = check.iter().min_by_key(|m| m.uncertainty_ms) else { return Ok(()) };
    state.last = Some(best);
    let pending = state.proposal.take();
    state.disagreement.clear();
    if check.iter().any(|m| !agree(m, &best)) {
        state.disagreement = check;
        return Ok(());
    }
    let second = check.iter().chain(&pending).find(|m| m.source != best.source && agree(m, &best));
    let tolerance = best.uncertainty_ms.max(0).saturating_add(SIGNIFICANT_MS);
    let current_ms = state.correction.map_or(0, |c| c.seconds * 1000);
    if (best.offset_ms - current_ms).abs() <= tolerance {
        return Ok(());
    }
    if best.offset_ms.abs() <= tolerance {
        state.correction = None;
        return Ok(());
    }
    let basis = match second {
        Some(m) => Basis::Agreed(m.source),
        None if best.seconds().abs() <= MAX_ONE_SOURCE_SECONDS => Basis::OneSource,
        None => {
            state.proposal = Some(best);
            return Ok(());
        }
    };
    state.correction = Some(Correction { seconds: best.seconds(), measurement: best, basis });
    Ok(())
}

/// Two measurements agree when they differ by at most their uncertainties plus 2 s.
fn agree(a: &Measurement, b: &Measurement) -> bool {
    let slack = a.uncertainty_ms.max(0).saturating_add(b.uncertainty_ms.max(0)).saturating_add(SIGNIFICANT_MS);
    a.offset_ms.abs_diff(b.offset_ms) <= slack as u64
}

/// Stores what one check measured in the vault (see [`apply`]), in one transaction.
pub fn record(vault: &Vault, check: &[Measurement]) -> Result<ClockStatus> {
    vault.update_clock_state(|state| apply(state, check))?;
    status(vault)
}

/// Puts the proposal in force as the user's decision (and automatic correction on). Without a
/// proposal, `InvalidInput`, and nothing changes.
pub fn accept_proposal(vault: &Vault) -> Result<ClockStatus> {
    vault.update_clock_state(|state| {
        let m = state.proposal.take().ok_or_else(|| Error::InvalidInput("no clock correction is proposed".into()))?;
        state.correction = Some(Correction { seconds: m.seconds(), measurement: m, basis: Basis::Accepted });
        state.mode = ClockMode::Automatic;
        Ok::<_, Error>(())
    })?;
    status(vault)
}

/// The clock as a settings screen shows it.
pub fn status(vault: &Vault) -> Result<ClockStatus> {
    let state = vault.clock_state()?;
    Ok(ClockStatus {
        automatic: state.mode == ClockMode::Automatic,
        offset_seconds: state.offset_in_force(),
        offset_source: state.source_in_force(),
        manual_offset_seconds: state.manual_offset,
        last_measurement: state.last,
        warning: warning(&state),
        proposal: state.proposal,
        hint: state.hint,
    })
}

/// Turns automatic correction on or off (off: the manual offset applies).
pub fn set_automatic(vault: &Vault, automatic: bool) -> Result<()> {
    vault.update_clock_state(|state| {
        state.mode = if automatic { ClockMode::Automatic } else { ClockMode::Manual };
        Ok(())
    })
}

/// "on time", "13 h 53 min ahead": what a measured offset says, for people.
fn off_text(ms: i64) -> String {
    match ms {
        -999..=999 => "on time".to_owned(),
        _ => format!("{} {}", duration_text(ms.unsigned_abs()), if ms > 0 { "behind" } else { "ahead" }),
    }
}

/// The banner line (see [`ClockStatus::warning`]).
fn warning(state: &ClockState) -> Option<String> {
    if !state.disagreement.is_empty() {
        let mut text = "time sources disagree (".to_owned();
        for (i, m) in state.disagreement.iter().enumerate() {
            text += &format!("{}{}: {}", if i > 0 { ", " } else { "" }, m.source.as_str(), off_text(m.offset_ms));
        }
        return Some(text + "); nothing applied");
    }
    let says = |m: &Measurement| format!("{} says your clock is {}", m.source.as_str(), off_text(m.offset_ms));
    if let Some(m) = &state.proposal {
        return Some(format!(
            "{}; not applied: a correction over 2 min needs a second source or your confirmation",
            says(m)
        ));
    }
    let in_force_ms = state.offset_in_force() * 1000;
    if let Some(m) = state.hint.filter(|m| (m.offset_ms - in_force_ms).abs() > WARNING_MS + m.uncertainty_ms.max(0)) {
        return Some(format!("{}; a push server's clock is not applied (check against NTP or HTTPS)", says(&m)));
    }
    let m = state.last?;
    if m.offset_ms.abs() <= WARNING_MS {
        return None;
    }
    let direction = if m.offset_ms > 0 { "behind" } else { "ahead" };
    let corrected = (in_force_ms - m.offset_ms).abs() <= m.uncertainty_ms.max(0) + SIGNIFICANT_MS;
    let consequence = match (corrected, state.mode) {
        (true, _) => "codes are corrected",
        (false, ClockMode::Manual) => "codes are not corrected (automatic correction is off)",
        (false, ClockMode::Automatic) => "codes are not corrected",
    };
    Some(format!("your clock is {} {direction}; {consequence}", duration_text(m.offset_ms.unsigned_abs())))
}

/// "47 s", "3 min 5 s", "2 h 0 min": how far off, for people.
pub fn duration_text(ms: u64) -> String {
    let s = (ms + 500) / 1000;
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// Asks the SNTP server `server` (`host`, `host:port`, `[v6]:port`; port 123 by default),
/// measuring against `device`, and records the result. Blocking: run it off a UI thread.
pub fn check_ntp(vault: &Vault, server: &str, device: DeviceClock) -> Result<ClockStatus> {
    let m = sntp::query(server, device, NTP_TIMEOUT)?;
    record(vault, &[m])
}

/// Measures the offset from the `Date` header of `url` (https; plain http only on loopback),
/// measured against `device`. Two HEAD requests: the first opens the connection (TCP, TLS), the
/// second, on it, is the one timed, so the handshake does not widen the uncertainty.
pub async fn measure_https(client: &HttpClient, url: &str, device: DeviceClock) -> Result<Measurement> {
    let head = || async { client.request(net::Method::HEAD, url, true)?.send(0).await.map(|r| r.date) };
    head().await?;
    let sent = Instant::now();
    let date = head().await?;
    let received = Instant::now();
    let date = date.ok_or(Error::TimeSource(TimeSourceError::NoDate))?;
    Ok(from_server_time(TimeSource::Https, device.at(sent), received - sent, ServerTime::Date(date)))
}

/// One clock check, as the user asked for it: which servers to measure against, and the device
/// clock at the call.
#[derive(Debug, Clone, Copy)]
pub struct Check<'a> {
    /// An SNTP server (`host`, `host:port`, `[v6]:port`), if the user named one.
    pub ntp_server: Option<&'a str>,
    /// An https URL (plain http only on loopback) whose `Date` header gives the time.
    pub https_url: Option<&'a str>,
    /// The device clock at the call (the app's reading of it).
    pub device: DeviceClock,
    /// How far `device` was shifted on purpose (the terminal app's simulated skew), in ms: taken
    /// off each measurement's date, so its age reads right afterwards. 0 for the real clock.
    pub simulated_skew_ms: i64,
}

/// What [`check`] measured, each source's measurement as recorded, and the status after all.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// The SNTP server's measurement, when one was named.
    pub ntp: Option<Measurement>,
    /// The https URL's measurement, when one was named.
    pub https: Option<Measurement>,
    /// The offset in force and the banner after the check.
    pub status: ClockStatus,
}

/// The one clock check of both facades: measures against the SNTP server and/or the https URL
/// the user named (nothing else is contacted), records both together (see [`apply`]: they may
/// agree, or disagree) and returns the status. The blocking SNTP exchange runs off the async
/// threads. A failure of either records nothing (`TimeSource`, `ImplausibleClock`, network
/// errors); naming neither server is `InvalidInput`.
pub async fn check(vault: &impl VaultAccess, client: &HttpClient, check: Check<'_>) -> Result<CheckOutcome> {
    if check.ntp_server.is_none() && check.https_url.is_none() {
        return Err(Error::InvalidInput("name an NTP server or an https URL".into()));
    }
    let dated = |m: Measurement| Measurement { measured_at_ms: m.measured_at_ms - check.simulated_skew_ms, ..m };
    let mut ntp = None;
    if let Some(server) = check.ntp_server {
        let (server, device) = (server.to_owned(), check.device);
        let m = tokio::task::spawn_blocking(move || sntp::query(&server, device, NTP_TIMEOUT))
            .await
            .map_err(|_| Error::InvalidInput("the time check was interrupted".into()))??;
        ntp = Some(dated(m));
    }
    let https = match check.https_url {
        Some(url) => Some(dated(measure_https(client, url, check.device).await?)),
        None => None,
    };
    let measured = [ntp, https];
    let measured: &[Measurement] = match &measured {
        [Some(a), Some(b)] => &[*a, *b],
        [Some(m), None] | [None, Some(m)] => std::slice::from_ref(m),
        [None, None] => &[],
    };
    let status = vault.with_vault(|v| record(v, measured))?;
    Ok(CheckOutcome { ntp, https, status })
}

/// A server's time as a reply carried it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ServerTime {
    /// Unix milliseconds, read when the reply was made (privacyIDEA's `time` field).
    Precise(i64),
    /// Unix seconds of an HTTP `Date` header: the reply was made within that second.
    Date(i64),
}

/// The measurement a reply gives: sent at `sent_ms` by the device clock, answered after
/// `round_trip`, carrying `server`. The server read its clock somewhere within the round trip:
/// assume the middle, uncertain by half of it (and by half a second more for a `Date`).
pub fn from_server_time(source: TimeSource, sent_ms: i64, round_trip: Duration, server: ServerTime) -> Measurement {
    let half = i64::try_from(round_trip.as_millis() / 2).unwrap_or(i64::MAX / 4);
    let (server_ms, resolution) = match server {
        ServerTime::Precise(ms) => (ms, 0),
        ServerTime::Date(s) => (s.saturating_mul(1000).saturating_add(500), 500),
    };
    let midpoint = sent_ms.saturating_add(half);
    Measurement {
        source,
        offset_ms: server_ms.saturating_sub(midpoint),
        uncertainty_ms: half.saturating_add(resolution).max(1),
        measured_at_ms: midpoint,
    }
}

/// Records what a push server's reply says about the time, when it says anything, as a hint
/// (shown, never applied). Called whenever push talks to a server: it costs no traffic. An
/// implausible time is not recorded (and the push call is not failed for it).
pub fn from_server_reply(vault: &Vault, sent_ms: i64, round_trip: Duration, server: Option<ServerTime>) {
    if let Some(server) = server {
        let _ = record(vault, &[from_server_time(TimeSource::PrivacyIdea, sent_ms, round_trip, server)]);
    }
}

#[cfg(test)]
mod tests;
