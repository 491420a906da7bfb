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
//! or lying); otherwise it is kept as the last measurement, and becomes the correction when it
//! disagrees with the current one by more than its uncertainty plus [`SIGNIFICANT_MS`] (so the
//! correction does not jitter, and a clock within 2 s of right is left alone). The correction
//! applies in automatic mode; in manual mode the offset the user typed applies.

pub mod sntp;

use std::time::{Duration, Instant};

pub use domain::clock::{ClockMode, ClockState, ClockStatus, Correction, Measurement, TimeSource};

use crate::error::{Error, Result};
use domain::time::DeviceClock;
use net::HttpClient;
use storage::{Vault, VaultAccess};

/// A measured offset is applied only when it exceeds its uncertainty by more than this (ms).
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

/// Applies a measurement to the stored state: refused beyond 24 h; kept as the last
/// measurement; made the correction when it disagrees with the current one by more than its
/// uncertainty plus 2 s (or dropped, when it says the clock is right after all).
pub fn apply(state: &mut ClockState, m: Measurement) -> Result<()> {
    if m.offset_ms.unsigned_abs() > MAX_PLAUSIBLE_OFFSET_MS as u64 {
        return Err(Error::ImplausibleClock { offset_seconds: rounded_seconds(m.offset_ms) });
    }
    state.last = Some(m);
    let tolerance = m.uncertainty_ms.max(0).saturating_add(SIGNIFICANT_MS);
    let current_ms = state.correction.map_or(0, |c| c.seconds * 1000);
    if (m.offset_ms - current_ms).abs() <= tolerance {
        return Ok(());
    }
    state.correction =
        (m.offset_ms.abs() > tolerance).then(|| Correction { seconds: rounded_seconds(m.offset_ms), measurement: m });
    Ok(())
}

/// Stores a measurement in the vault (see [`apply`]), in one transaction.
pub fn record(vault: &Vault, m: Measurement) -> Result<ClockStatus> {
    vault.update_clock_state(|state| apply(state, m))?;
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
    })
}

/// Turns automatic correction on or off (off: the manual offset applies).
pub fn set_automatic(vault: &Vault, automatic: bool) -> Result<()> {
    vault.update_clock_state(|state| {
        state.mode = if automatic { ClockMode::Automatic } else { ClockMode::Manual };
        Ok(())
    })
}

/// The banner line, when the last measurement says the device clock is more than 10 s off.
fn warning(state: &ClockState) -> Option<String> {
    let m = state.last?;
    if m.offset_ms.abs() <= WARNING_MS {
        return None;
    }
    let direction = if m.offset_ms > 0 { "behind" } else { "ahead" };
    let corrected = (state.offset_in_force() * 1000 - m.offset_ms).abs() <= m.uncertainty_ms.max(0) + SIGNIFICANT_MS;
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

fn rounded_seconds(ms: i64) -> i64 {
    (ms as f64 / 1000.0).round() as i64
}

/// Asks the SNTP server `server` (`host`, `host:port`, `[v6]:port`; port 123 by default),
/// measuring against `device`, and records the result. Blocking: run it off a UI thread.
pub fn check_ntp(vault: &Vault, server: &str, device: DeviceClock) -> Result<ClockStatus> {
    let m = sntp::query(server, device, NTP_TIMEOUT)?;
    record(vault, m)
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
/// the user named (nothing else is contacted), records each result and returns the status. The
/// blocking SNTP exchange runs off the async threads. A failure leaves the offset unchanged
/// (`TimeSource`, `ImplausibleClock`, network errors); naming neither server is `InvalidInput`.
pub async fn check(vault: &impl VaultAccess, client: &HttpClient, check: Check<'_>) -> Result<CheckOutcome> {
    if check.ntp_server.is_none() && check.https_url.is_none() {
        return Err(Error::InvalidInput("name an NTP server or an https URL".into()));
    }
    let dated = |m: Measurement| Measurement { measured_at_ms: m.measured_at_ms - check.simulated_skew_ms, ..m };
    let (mut ntp, mut https, mut last) = (None, None, None);
    if let Some(server) = check.ntp_server {
        let (server, device) = (server.to_owned(), check.device);
        let m = tokio::task::spawn_blocking(move || sntp::query(&server, device, NTP_TIMEOUT))
            .await
            .map_err(|_| Error::InvalidInput("the time check was interrupted".into()))??;
        let status = vault.with_vault(|v| record(v, dated(m)))?;
        ntp = status.last_measurement;
        last = Some(status);
    }
    if let Some(url) = check.https_url {
        let m = measure_https(client, url, check.device).await?;
        let status = vault.with_vault(|v| record(v, dated(m)))?;
        https = status.last_measurement;
        last = Some(status);
    }
    // At least one source was named (checked above), so one was recorded.
    let status = last.ok_or_else(|| Error::InvalidInput("name an NTP server or an https URL".into()))?;
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

/// Records what a push server's reply says about the time, when it says anything. Called
/// whenever push talks to a server: it costs no traffic. An implausible time is not recorded
/// (and the push call is not failed for it).
pub fn from_server_reply(vault: &Vault, sent_ms: i64, round_trip: Duration, server: Option<ServerTime>) {
    if let Some(server) = server {
        let _ = record(vault, from_server_time(TimeSource::PrivacyIdea, sent_ms, round_trip, server));
    }
}

#[cfg(test)]
mod tests;
