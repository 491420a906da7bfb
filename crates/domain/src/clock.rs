//! The clock's domain: where a time came from, what a measurement found, and which correction
//! is in force. No I/O.

crate::foreign_type! { $ time_source_definition {
/// Where a clock offset came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSource {
    /// Typed in by the user.
    Manual,
    /// An SNTP server the user named.
    Ntp,
    /// The `Date` header of an HTTPS URL the user named.
    Https,
    /// A push server's time: a hint, never applied.
    PrivacyIdea,
}
}}

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

    /// The name stored in the vault: `manual`, `ntp`, `https`, `privacy_idea`.
    pub fn key(self) -> &'static str {
        match self {
            TimeSource::Manual => "manual",
            TimeSource::Ntp => "ntp",
            TimeSource::Https => "https",
            TimeSource::PrivacyIdea => "privacy_idea",
        }
    }

    /// The source stored under `key` (see [`TimeSource::key`]).
    pub fn from_key(key: &str) -> Option<Self> {
        [TimeSource::Manual, TimeSource::Ntp, TimeSource::Https, TimeSource::PrivacyIdea]
            .into_iter()
            .find(|s| s.key() == key)
    }
}

crate::foreign_type! { $ measurement_definition {
/// One measurement of the device clock against a server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}}

impl Measurement {
    /// The offset rounded to whole seconds: the correction it would make.
    pub fn seconds(&self) -> i64 {
        (self.offset_ms as f64 / 1000.0).round() as i64
    }

    /// As the vault stores it: `source offset_ms uncertainty_ms measured_at_ms`.
    pub fn to_text(&self) -> String {
        format!("{} {} {} {}", self.source.key(), self.offset_ms, self.uncertainty_ms, self.measured_at_ms)
    }

    /// Reads [`Measurement::to_text`]; None when `text` is not one.
    pub fn from_text(text: &str) -> Option<Self> {
        let mut words = text.split(' ');
        let source = TimeSource::from_key(words.next()?)?;
        let mut number = || words.next()?.parse::<i64>().ok();
        let (offset_ms, uncertainty_ms, measured_at_ms) = (number()?, number()?, number()?);
        words.next().is_none().then_some(Measurement { source, offset_ms, uncertainty_ms, measured_at_ms })
    }
}

/// A single source may set a correction of at most this many seconds (2 min) on its own;
/// beyond it, a second source must agree, or the user accept it.
pub const MAX_ONE_SOURCE_SECONDS: i64 = 120;

/// Why a correction is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// One source measured it, within [`MAX_ONE_SOURCE_SECONDS`].
    OneSource,
    /// Its measurement and one of this other source agreed within their uncertainty.
    Agreed(TimeSource),
    /// The user accepted it (a proposal).
    Accepted,
}

/// The correction automatic mode applies: the measurement that set it, rounded to seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Correction {
    /// Seconds added to the device clock for every code.
    pub seconds: i64,
    /// The measurement it comes from.
    pub measurement: Measurement,
    /// Why it is in force.
    pub basis: Basis,
}

impl Correction {
    /// As the vault stores it: the basis (`one`, `accepted`, or the key of the source that
    /// agreed: `ntp`, `https`), then the measurement's text. Its seconds are the measurement's.
    pub fn to_text(&self) -> String {
        let basis = match self.basis {
            Basis::OneSource => "one",
            Basis::Agreed(source) => source.key(),
            Basis::Accepted => "accepted",
        };
        format!("{basis} {}", self.measurement.to_text())
    }

    /// Reads [`Correction::to_text`]; None when `text` is not one (also for the older form,
    /// `seconds measurement`, which the vault reads on its own).
    pub fn from_text(text: &str) -> Option<Self> {
        let (basis, measurement) = text.split_once(' ')?;
        let basis = match basis {
            "one" => Basis::OneSource,
            "accepted" => Basis::Accepted,
            other => Basis::Agreed(TimeSource::from_key(other)?),
        };
        let measurement = Measurement::from_text(measurement)?;
        Some(Correction { seconds: measurement.seconds(), measurement, basis })
    }
}

/// Automatic (measured corrections apply) or manual (the typed-in offset applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockMode {
    /// Measured corrections apply.
    #[default]
    Automatic,
    /// The offset typed in by the user applies.
    Manual,
}

/// What the vault keeps about the clock.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClockState {
    /// Which offset applies.
    pub mode: ClockMode,
    /// The offset typed in by the user, in seconds (0 when none).
    pub manual_offset: i64,
    /// The correction measured; applies in automatic mode. None: no correction needed (or
    /// nothing measured yet).
    pub correction: Option<Correction>,
    /// The most precise NTP or HTTPS measurement of the last check, whether or not it changed
    /// the correction.
    pub last: Option<Measurement>,
    /// A correction beyond [`MAX_ONE_SOURCE_SECONDS`] that one source claimed, not in force
    /// until a second source agrees or the user accepts it.
    pub proposal: Option<Measurement>,
    /// The last check's measurements when they disagreed (nothing was applied); else empty.
    pub disagreement: Vec<Measurement>,
    /// The last push server's time: shown, never applied.
    pub hint: Option<Measurement>,
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

crate::foreign_type! { $ clock_status_definition {
/// The clock as a settings screen or `authenticator time` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockStatus {
    /// Measured corrections apply (else the manual offset does).
    pub automatic: bool,
    /// Seconds added to the device clock for every code now.
    pub offset_seconds: i64,
    /// Where that offset came from; None when no correction is in force.
    pub offset_source: Option<TimeSource>,
    /// The offset typed in by the user, in seconds (applies in manual mode).
    pub manual_offset_seconds: i64,
    /// The last NTP or HTTPS measurement, if any.
    pub last_measurement: Option<Measurement>,
    /// A banner line, or None.
    pub warning: Option<String>,
    /// Over 2 min from one source: in force (rounded to seconds) once accepted.
    pub proposal: Option<Measurement>,
    /// The last push server's time: shown, never applied.
    pub hint: Option<Measurement>,
}
}}
