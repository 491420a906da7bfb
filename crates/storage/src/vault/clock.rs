//! The clock's settings and measurements, as keys of the `meta` table (see `schema.rs`).

use rusqlite::{Connection, OptionalExtension};

use super::Vault;
use crate::error::{Error, Result};
use domain::clock::{Basis, ClockMode, ClockState, Correction, MAX_ONE_SOURCE_SECONDS, Measurement, TimeSource};

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
        let (tx, mut state) = self.begin_clock_update()?;
        let out = f(&mut state)?;
        write(tx, &state)?;
        Ok(out)
    }

    // The generic part of `update_clock_state` is kept small: each caller gets its own copy.
    fn begin_clock_update(&self) -> Result<(rusqlite::Transaction<'_>, ClockState)> {
        let tx = self.begin_write()?;
        let state = read(&tx)?;
        Ok((tx, state))
    }
}

/// Writes the clock state back and commits.
fn write(tx: rusqlite::Transaction<'_>, state: &ClockState) -> Result<()> {
    let conn: &Connection = &tx;
    let mode = match state.mode {
        ClockMode::Automatic => "automatic",
        ClockMode::Manual => "manual",
    };
    let mut put = conn.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?;
    put.execute(("clock_mode", mode))?;
    put.execute(("clock_offset", state.manual_offset))?;
    let mut disagreement = String::new();
    for m in &state.disagreement {
        disagreement += &(m.to_text() + ";");
    }
    // An empty text is absent (older builds read it so too).
    let texts = [
        ("clock_correction", state.correction.map(|c| c.to_text())),
        ("clock_measurement", state.last.map(|m| m.to_text())),
        ("clock_proposal", state.proposal.map(|m| m.to_text())),
        ("clock_hint", state.hint.map(|m| m.to_text())),
        ("clock_disagreement", Some(disagreement)),
    ];
    for (key, value) in texts {
        put.execute((key, value.unwrap_or_default()))?;
    }
    drop(put);
    Ok(tx.commit()?)
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
    let measurement =
        |key: &str| -> Result<Option<Measurement>> { Ok(text(key)?.and_then(|t| Measurement::from_text(&t))) };
    let mut state = ClockState {
        mode,
        manual_offset,
        correction: None,
        last: measurement("clock_measurement")?,
        proposal: measurement("clock_proposal")?,
        disagreement: text("clock_disagreement")?
            .map_or_else(Vec::new, |t| t.split(';').filter_map(Measurement::from_text).collect()),
        hint: measurement("clock_hint")?,
    };
    let stored = text("clock_correction")?;
    state.correction = stored.as_deref().and_then(Correction::from_text);
    // Before the corrections' basis was stored (issue 22), the latest measurement of any source
    // was the correction (`seconds measurement`). A push server's time becomes a hint; one
    // source's correction over 2 min a proposal, not in force; a smaller one stays.
    let legacy = stored.as_deref().filter(|_| state.correction.is_none()).and_then(|t| t.split_once(' '));
    if let Some(m) = legacy.and_then(|(_, m)| Measurement::from_text(m)) {
        if m.source == TimeSource::PrivacyIdea {
            state.hint.get_or_insert(m);
        } else if m.seconds().abs() > MAX_ONE_SOURCE_SECONDS {
            state.proposal.get_or_insert(m);
        } else {
            state.correction = Some(Correction { seconds: m.seconds(), measurement: m, basis: Basis::OneSource });
        }
    }
    Ok(state)
}
