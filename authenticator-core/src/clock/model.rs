//! The clock's domain: where a time came from, what a measurement found, and which correction
//! is in force. No I/O.

use serde::{Deserialize, Serialize};

/// Where a clock offset came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// Typed in by the user.
    Manual,
    /// An SNTP server the user named.
    Ntp,
    /// The `Date` header of an HTTPS URL the user named.
    Https,
    /// A privacyIDEA server that push already talks to (its replies' `time`, or `Date`).
    PrivacyIdea,
}

impl TimeSource {
    /// A short name for people: "manual", "NTP", "HTTPS", "privacyIDEA".
    pub fn as_str(self) -> &'static str {
        match self {
            TimeSource::Manual => "manual",
            TimeSource::Ntp => "NTP",
            TimeSource::Https => "HTTPS",
            TimeSource::PrivacyIdea => "privacyIDEA",
        }
    }
}

/// One measurement of the device clock against a server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Measurement {
    /// What was asked.
    pub source: TimeSource,
    /// Server time minus device time, in milliseconds: positive when the device clock is behind.
    pub offset_ms: i64,
    /// The true offset lies within `offset_ms ± uncertainty_ms`: half the round trip, plus half
    /// the server's resolution (a `Date` header counts whole seconds).
    pub uncertainty_ms: i64,
    /// When it was measured, by the device clock (uncorrected), in Unix milliseconds.
    pub measured_at_ms: i64,
}

/// The correction automatic mode applies: the measurement that set it, rounded to seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// Seconds added to the device clock for every code.
    pub seconds: i64,
    /// The measurement it comes from.
    pub measurement: Measurement,
}

/// Automatic (measured corrections apply) or manual (the typed-in offset applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// Measured corrections apply.
    Automatic,
    /// The offset typed in by the user applies.
    Manual,
}

/// What the vault keeps about the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockState {
    /// Which offset applies.
    pub mode: ClockMode,
    /// The offset typed in by the user, in seconds (0 when none).
    pub manual_offset: i64,
    /// The correction measured; applies in automatic mode. None: no correction needed (or
    /// nothing measured yet).
    pub correction: Option<Correction>,
    /// The last accepted measurement, whether or not it changed the correction.
    pub last: Option<Measurement>,
}

impl ClockState {
    /// Seconds added to the device clock for every code now.
    pub fn offset_in_force(&self) -> i64 {
        match self.mode {
            ClockMode::Manual => self.manual_offset,
            ClockMode::Automatic => self.correction.map_or(0, |c| c.seconds),
        }
    }

    /// Where the offset in force came from; None when none is in force.
    pub fn source_in_force(&self) -> Option<TimeSource> {
        match self.mode {
            ClockMode::Manual if self.manual_offset != 0 => Some(TimeSource::Manual),
            ClockMode::Automatic => self.correction.filter(|c| c.seconds != 0).map(|c| c.measurement.source),
            ClockMode::Manual => None,
        }
    }
}

/// The clock as a settings screen or `authenticator time` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ClockStatus {
    /// Measured corrections apply (else the manual offset does).
    pub automatic: bool,
    /// Seconds added to the device clock for every code now.
    pub offset_seconds: i64,
    /// Where that offset came from; None when no correction is in force.
    pub offset_source: Option<TimeSource>,
    /// The offset typed in by the user, in seconds (applies in manual mode).
    pub manual_offset_seconds: i64,
    /// The last measurement, if any.
    pub last_measurement: Option<Measurement>,
    /// One line for a banner when the last measurement says the device clock is more than 10 s
    /// off ("your clock is 47 s behind; codes are corrected"); None otherwise.
    pub warning: Option<String>,
}
