//! The clock, in one place.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch by the device clock (0 if the clock is before 1970).
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Milliseconds since the Unix epoch by the device clock (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// ISO 8601 in UTC with an explicit offset, as privacyIDEA parses poll timestamps:
/// `2026-11-25T10:56:25.000000+00:00`.
pub fn iso8601_utc(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000000+00:00", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The device clock as the caller read it once, carried forward by the monotonic clock.
///
/// The core takes the device's time as input (an app passes what its clock says; a test passes
/// a deliberately wrong time) but times round trips itself: a wall clock that jumps while a
/// server is asked must not make the answer look late or early.
#[derive(Debug, Clone, Copy)]
pub struct DeviceClock {
    at_ms: i64,
    start: std::time::Instant,
}

impl DeviceClock {
    /// The device clock reads `unix_ms` (milliseconds since the epoch) now.
    pub fn reading(unix_ms: i64) -> Self {
        Self { at_ms: unix_ms, start: std::time::Instant::now() }
    }

    /// The device's own clock.
    pub fn system() -> Self {
        Self::reading(now_ms())
    }

    /// What the device clock reads now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.at_ms.saturating_add(i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX))
    }

    /// What the device clock read at `instant` (a moment after this reading was taken).
    pub fn at(&self, instant: std::time::Instant) -> i64 {
        let since = instant.saturating_duration_since(self.start);
        self.at_ms.saturating_add(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
    }
}
