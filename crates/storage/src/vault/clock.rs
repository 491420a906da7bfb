//! The clock's settings and measurements, as keys of the `meta` table (see `schema.rs`).

use rusqlite::{Connection, OptionalExtension};

use super::Vault;
use crate::error::{Error, Result};
use domain::clock::{ClockMode, ClockState, Correction, Measurement};

impl Vault {
    /// The clock's mode, offsets and last measurement.
    pub fn clock_state(&self) -> Result<ClockState> {
        read(&self.conn)
    }

    /// Changes the clock state in one write transaction: `f` gets what is stored, and what it
    /// leaves is written back, unless it fails (then nothing changes).
    pub fn update_clock_state<T, E: From<Error>>(
        &self,
        f: impl FnOnce(&mut ClockState) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self.begin_write()?;
        let mut state = read(&tx)?;
        let out = f(&mut state)?;
        let mode = match state.mode {
            ClockMode::Automatic => "automatic",
            ClockMode::Manual => "manual",
        };
        let mut put = tx.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)").map_err(Error::from)?;
        put.execute(("clock_mode", mode)).map_err(Error::from)?;
        put.execute(("clock_offset", state.manual_offset)).map_err(Error::from)?;
        let mut text = |key: &str, value: Option<String>| -> Result<()> {
            match value {
                Some(text) => put.execute((key, text)).map(drop)?,
                None => tx.execute("DELETE FROM meta WHERE key = ?1", [key]).map(drop)?,
            }
            Ok(())
        };
        text("clock_correction", state.correction.map(|c| format!("{} {}", c.seconds, c.measurement.to_text())))?;
        text("clock_measurement", state.last.map(|m| m.to_text()))?;
        drop(put);
        tx.commit().map_err(Error::from)?;
        Ok(out)
    }
}

/// Reads the clock state. Absent keys are defaults; a stored value that does not parse (written
/// by a newer build, or damaged) counts as absent: the clock's settings never lock the vault.
pub(super) fn read(conn: &Connection) -> Result<ClockState> {
    let get = |key: &str| -> Result<Option<rusqlite::types::Value>> {
        Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0)).optional()?)
    };
    use rusqlite::types::Value;
    let manual_offset = match get("clock_offset")? {
        Some(Value::Integer(n)) => n,
        _ => 0,
    };
    let text = |key: &str| -> Result<Option<String>> {
        Ok(match get(key)? {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        })
    };
    // Vaults from before automatic correction: a manual offset the user set stays in force.
    let mode = match text("clock_mode")?.as_deref() {
        Some("automatic") => ClockMode::Automatic,
        Some("manual") => ClockMode::Manual,
        _ if manual_offset != 0 => ClockMode::Manual,
        _ => ClockMode::Automatic,
    };
    let correction = text("clock_correction")?.and_then(|t| {
        let (seconds, measurement) = t.split_once(' ')?;
        Some(Correction { seconds: seconds.parse().ok()?, measurement: Measurement::from_text(measurement)? })
    });
    let last = text("clock_measurement")?.and_then(|t| Measurement::from_text(&t));
    Ok(ClockState { mode, manual_offset, correction, last })
}
