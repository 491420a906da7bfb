//! Sync's storage: the change log (`sync_clock`), the replicated state read from and merged into
//! the accounts, and sync's settings and progress in `meta`. No protocol lives here: the state
//! is the domain type of `domain::sync`, the settings are opaque sealed bytes.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};
use zeroize::Zeroizing;

use super::Vault;
use super::record::{self, Opened, ROW_COLUMNS, StoredRow};
use crate::error::{Error, Result};
use domain::otp::{OtpParams, Secret};
use domain::sync::{Entry, Fields, Hlc, ID_LEN, Lww, Record, Stamp, State, hlc_next};

const SETTINGS_AAD: &[u8] = b"meta.sync_settings";
const MEMORY_AAD: &[u8] = b"meta.sync_memory";

/// The fields of an account that have a stamp of their own.
const ENTRY: &str = "entry";
const REMOVED: &str = "removed";

/// What [`Vault::sync_state`] read: the state, and the newest stamp in it, which a successful
/// upload of it marks as synced ([`Vault::apply_sync_state`]).
#[derive(Debug)]
pub struct SyncSnapshot {
    /// Every account and tombstone with its stamps.
    pub state: State,
    /// The largest clock reading of this device's writes in the state.
    pub through: Hlc,
    /// The accounts (uid, hex) with a change here that no round has read back from the server.
    pub pending: Vec<String>,
}

/// Sync's progress, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncProgress {
    /// The newest manifest generation seen on the server (0: none yet).
    pub generation: u64,
    /// Unix seconds of the last round that succeeded.
    pub last_success: Option<i64>,
    /// Why the last round failed, when it did (cleared by a success).
    pub last_error: Option<String>,
}

/// Migration 7 → 8: this vault's device id, and every account's creation stamped as a pending
/// change of this device, so the first sync uploads them.
pub(super) fn stamp_existing_v8(tx: &Transaction<'_>) -> Result<()> {
    let device = crate::crypto::random_array::<ID_LEN>()?;
    tx.execute("INSERT INTO meta (key, value) VALUES ('sync_device', ?1)", [&device[..]])?;
    let rows: Vec<(Vec<u8>, i64)> = tx
        .prepare("SELECT uid, created_at FROM accounts")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut last: Hlc = 0;
    for (uid, created_at) in rows {
        last = hlc_next(last, (created_at.max(0) as u64).saturating_mul(1000));
        tx.execute(
            "INSERT INTO sync_clock (uid, field, hlc, device) VALUES (?1, 'entry', ?2, ?3)",
            params![uid, last as i64, &device[..]],
        )?;
    }
    tx.execute("INSERT INTO meta (key, value) VALUES ('sync_hlc', ?1)", [last as i64])?;
    Ok(())
}

fn meta<T: rusqlite::types::FromSql>(tx: &rusqlite::Connection, key: &str) -> Result<Option<T>> {
    Ok(tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

fn set_meta(tx: &rusqlite::Connection, key: &str, value: impl rusqlite::ToSql) -> Result<()> {
    tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![key, value])?;
    Ok(())
}

fn device(conn: &rusqlite::Connection) -> Result<[u8; ID_LEN]> {
    let bytes: Vec<u8> = meta(conn, "sync_device")?.ok_or_else(|| Error::Corrupt("the device id is missing".into()))?;
    bytes.try_into().map_err(|_| Error::Corrupt("the device id is not 16 bytes".into()))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn stamps_of(conn: &rusqlite::Connection) -> Result<HashMap<(Vec<u8>, String), Stamp>> {
    let mut out = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT uid, field, hlc, device FROM sync_clock")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let device: Vec<u8> = r.get(3)?;
        let device: [u8; ID_LEN] = device.try_into().map_err(|_| Error::Corrupt("a sync stamp is damaged".into()))?;
        out.insert((r.get(0)?, r.get(1)?), Stamp { hlc: r.get::<_, i64>(2)? as u64, device });
    }
    Ok(out)
}

impl Vault {
    /// Records, inside `tx`, a write by this device of `fields` of the account with `uid`: the
    /// change log entry sync uploads. A removal (`removed`) drops the account's other entries.
    pub(super) fn record_change(&self, tx: &Transaction<'_>, uid: &[u8], fields: &[&str]) -> Result<()> {
        let last: i64 = meta(tx, "sync_hlc")?.unwrap_or(0);
        let hlc = hlc_next(last as u64, now_ms());
        set_meta(tx, "sync_hlc", hlc as i64)?;
        let device = device(tx)?;
        if fields.contains(&REMOVED) {
            tx.execute("DELETE FROM sync_clock WHERE uid = ?1", [uid])?;
        }
        let mut stmt = tx.prepare_cached(
            "INSERT OR REPLACE INTO sync_clock (uid, field, hlc, device, pending) VALUES (?1, ?2, ?3, ?4, 1)",
        )?;
        for field in fields {
            stmt.execute(params![uid, field, hlc as i64, &device[..]])?;
        }
        Ok(())
    }

    /// The uid of account `id`, inside `tx`.
    pub(super) fn uid_in(&self, tx: &Transaction<'_>, id: i64) -> Result<Vec<u8>> {
        tx.query_row("SELECT uid FROM accounts WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or(Error::NoSuchAccount(id))
    }

    /// This device's id in sync stamps.
    pub fn sync_device(&self) -> Result<[u8; ID_LEN]> {
        device(&self.conn)
    }

    /// The replicated state of every account (damaged rows are left out) and tombstone.
    pub fn sync_state(&self) -> Result<SyncSnapshot> {
        let tx = self.conn.unchecked_transaction()?;
        let stamps = stamps_of(&tx)?;
        let me = device(&tx)?;
        let mut state = State::default();
        let mut stmt = tx.prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM accounts"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let row = StoredRow::read(row)?;
            let Ok(Opened { account, secret }) = row.open(&self.sealer) else { continue };
            let uid = row.uid().to_vec();
            let Some(&created) = stamps.get(&(uid.clone(), ENTRY.into())) else { continue };
            let at = |field: &str| stamps.get(&(uid.clone(), field.into())).copied().unwrap_or(created);
            let p = account.params;
            let entry = Entry {
                kind: p.kind().as_str().into(),
                algorithm: p.algorithm().as_str().into(),
                digits: p.digits(),
                period: p.period(),
                secret: secret.expose().to_vec(),
            };
            let fields = Fields {
                entry: Lww::new(entry, created),
                issuer: Lww::new(account.issuer, at("issuer")),
                label: Lww::new(account.label, at("label")),
                group: Lww::new(account.group, at("group")),
                order: Lww::new(account.sort_order, at("order")),
                counter: p.counter(),
            };
            state.records.insert(hex::encode(&uid), Record::Live(Box::new(fields)));
        }
        drop(rows);
        drop(stmt);
        for ((uid, field), stamp) in &stamps {
            if field == REMOVED {
                state.records.insert(hex::encode(uid), Record::Removed(*stamp));
            }
        }
        let through = stamps.values().filter(|s| s.device == me).map(|s| s.hlc).max().unwrap_or(0);
        let pending = tx
            .prepare_cached("SELECT DISTINCT uid FROM sync_clock WHERE pending = 1")?
            .query_map([], |r| r.get::<_, Vec<u8>>(0))?
            .map(|uid| uid.map(hex::encode))
            .collect::<rusqlite::Result<_>>()?;
        Ok(SyncSnapshot { state, through, pending })
    }

    /// Merges `merged` into the accounts in one transaction, field by field: a value replaces
    /// the local one only when its stamp is larger (so edits made here since the state was read
    /// are kept), HOTP counters take the maximum, tombstones remove. With `uploaded_through`,
    /// this device's changes up to that clock reading are marked as synced. Returns how many
    /// accounts changed here.
    pub fn apply_sync_state(&self, merged: &State, uploaded_through: Option<Hlc>) -> Result<usize> {
        let tx = self.begin_write()?;
        let stamps = stamps_of(&tx)?;
        let mut changed = 0;
        for (uid_hex, record) in &merged.records {
            let Some(uid) = hex::decode(uid_hex).ok().filter(|u| u.len() == record::UID_LEN) else {
                return Err(Error::InvalidInput("a synced account has an invalid uid".into()));
            };
            let local_removed = stamps.get(&(uid.clone(), REMOVED.into())).copied();
            match record {
                Record::Removed(stamp) => {
                    if local_removed.is_some_and(|l| l >= *stamp) {
                        continue;
                    }
                    changed += tx.execute("DELETE FROM accounts WHERE uid = ?1", [&uid])?;
                    tx.execute("DELETE FROM sync_clock WHERE uid = ?1", [&uid])?;
                    put_stamp(&tx, &uid, REMOVED, stamp, false)?;
                }
                Record::Live(_) if local_removed.is_some() => {}
                Record::Live(fields) => {
                    if self.merge_live(&tx, &uid, fields, &stamps)? {
                        changed += 1;
                    }
                }
            }
        }
        let last: i64 = meta(&tx, "sync_hlc")?.unwrap_or(0);
        set_meta(&tx, "sync_hlc", (last as u64).max(merged.max_hlc()) as i64)?;
        if let Some(through) = uploaded_through {
            tx.execute("UPDATE sync_clock SET pending = 0 WHERE pending = 1 AND hlc <= ?1", [through as i64])?;
        }
        tx.commit()?;
        Ok(changed)
    }

    fn merge_live(
        &self,
        tx: &Transaction<'_>,
        uid: &[u8],
        theirs: &Fields,
        stamps: &HashMap<(Vec<u8>, String), Stamp>,
    ) -> Result<bool> {
        let id: Option<i64> = tx.query_row("SELECT id FROM accounts WHERE uid = ?1", [uid], |r| r.get(0)).optional()?;
        let Some(id) = id else { return self.insert_synced(tx, uid, theirs) };
        let (row, Opened { account, secret }) = self.open_row_in(tx, id)?;
        let created = stamps.get(&(uid.to_vec(), ENTRY.into())).copied().unwrap_or(theirs.entry.stamp);
        let at = |field: &str| stamps.get(&(uid.to_vec(), field.into())).copied().unwrap_or(created);
        let (mut issuer, mut label, mut group) = (account.issuer.clone(), account.label.clone(), account.group.clone());
        let mut order = account.sort_order;
        let mut names_changed = false;
        macro_rules! take {
            ($field:literal, $lww:expr, $local:ident, $names:expr) => {
                if $lww.stamp > at($field) {
                    if $lww.value != $local {
                        $local = $lww.value.clone();
                        names_changed |= $names;
                    }
                    put_stamp(tx, uid, $field, &$lww.stamp, false)?;
                }
            };
        }
        take!("issuer", theirs.issuer, issuer, true);
        take!("label", theirs.label, label, true);
        take!("group", theirs.group, group, true);
        take!("order", theirs.order, order, false);
        // The CHECK on `counter` takes 0 to 2^63 - 1; sync screens records, this is the last guard.
        let counter = account.params.counter().max(theirs.counter).min(i64::MAX as u64);
        let params = OtpParams::new(
            account.params.kind(),
            account.params.algorithm(),
            account.params.digits(),
            account.params.period(),
            counter,
        )?;
        if names_changed {
            let g = group.as_deref().filter(|g| !g.is_empty());
            let sealed = record::seal(&self.sealer, id, row.uid(), &params, secret.expose(), (&issuer, &label, g))?;
            tx.execute(
                "UPDATE accounts SET record_enc = ?1, updated_at = ?2 WHERE id = ?3",
                params![sealed, domain::time::now(), id],
            )?;
        }
        let moved = tx.execute(
            "UPDATE accounts SET sort_order = ?1, counter = ?2 WHERE id = ?3 AND (sort_order != ?1 OR counter != ?2)",
            params![order, counter as i64, id],
        )?;
        Ok(names_changed || moved > 0)
    }

    /// Adds an account first made on another device, under its uid and stamps. One whose
    /// parameters or secret this build refuses is left out (it stays on the server).
    fn insert_synced(&self, tx: &Transaction<'_>, uid: &[u8], f: &Fields) -> Result<bool> {
        let e = &f.entry.value;
        let params = match (e.kind.parse(), e.algorithm.parse()) {
            (Ok(kind), Ok(algorithm)) => OtpParams::new(kind, algorithm, e.digits, e.period, f.counter).ok(),
            _ => None,
        };
        let (Some(params), Ok(secret)) = (params, Secret::from_bytes(e.secret.clone())) else { return Ok(false) };
        let created = ((f.entry.stamp.hlc >> 16) / 1000) as i64;
        tx.execute(
            "INSERT INTO accounts (uid, kind, algorithm, digits, period, counter, record_enc, sort_order,
                                   created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, x'', ?7, ?8, ?9)",
            params![
                uid,
                params.kind().as_str(),
                params.algorithm().as_str(),
                params.digits(),
                params.period(),
                params.counter() as i64,
                f.order.value,
                created,
                domain::time::now()
            ],
        )?;
        let id = tx.last_insert_rowid();
        let group = f.group.value.as_deref().filter(|g| !g.is_empty());
        let names = (f.issuer.value.as_str(), f.label.value.as_str(), group);
        let sealed = record::seal(&self.sealer, id, uid, &params, secret.expose(), names)?;
        tx.execute("UPDATE accounts SET record_enc = ?1 WHERE id = ?2", params![sealed, id])?;
        put_stamp(tx, uid, ENTRY, &f.entry.stamp, false)?;
        for (field, stamp) in [("issuer", f.issuer.stamp), ("label", f.label.stamp), ("group", f.group.stamp)] {
            put_stamp(tx, uid, field, &stamp, false)?;
        }
        put_stamp(tx, uid, "order", &f.order.stamp, false)?;
        Ok(true)
    }

    /// Forgets the tombstones of `uids` (hex): removals every device has seen, or too old to
    /// keep, that sync compacted away.
    pub fn forget_tombstones(&self, uids: &[String]) -> Result<()> {
        let tx = self.begin_write()?;
        for uid in uids.iter().filter_map(|u| hex::decode(u).ok()) {
            tx.execute("DELETE FROM sync_clock WHERE uid = ?1 AND field = 'removed'", [uid])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes the accounts of `uids` (hex) here without a tombstone: accounts removed on other
    /// devices whose tombstones are gone (sync's answer to a device away longer than they are
    /// kept). Returns how many went.
    pub fn forget_synced_accounts(&self, uids: &[String]) -> Result<usize> {
        let tx = self.begin_write()?;
        let mut gone = 0;
        for uid in uids.iter().filter_map(|u| hex::decode(u).ok()) {
            gone += tx.execute("DELETE FROM accounts WHERE uid = ?1", [&uid])?;
            tx.execute("DELETE FROM sync_clock WHERE uid = ?1", [&uid])?;
        }
        tx.commit()?;
        Ok(gone)
    }

    /// How many of this device's changes no sync round has put on the server yet.
    pub fn pending_sync_changes(&self) -> Result<u64> {
        let n: i64 = self.conn.query_row("SELECT COUNT(*) FROM sync_clock WHERE pending = 1", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Sync's settings, unsealed; `None` when sync is not set up.
    pub fn sync_settings(&self) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let Some(sealed) = meta::<Vec<u8>>(&self.conn, "sync_settings")? else { return Ok(None) };
        let plain =
            self.sealer.open(&sealed, SETTINGS_AAD).ok_or(Error::Corrupt("the sync settings do not open".into()))?;
        Ok(Some(plain))
    }

    /// Stores sync's settings sealed under the data key (`None`: leaves sync, forgetting the
    /// settings and progress; the change log stays, so nothing is lost when joining again).
    pub fn set_sync_settings(&self, settings: Option<&[u8]>) -> Result<()> {
        let tx = self.begin_write()?;
        match settings {
            Some(plain) => set_meta(&tx, "sync_settings", self.sealer.seal(plain, SETTINGS_AAD)?)?,
            None => {
                tx.execute(
                    "DELETE FROM meta WHERE key IN ('sync_settings', 'sync_generation', 'sync_last_success', 'sync_last_error', 'sync_memory')",
                    [],
                )?;
                tx.execute("UPDATE sync_clock SET pending = 1", [])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// What the sync service remembers between rounds (other devices last seen, an object to
    /// republish), unsealed; `None` before the first round.
    pub fn sync_memory(&self) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let Some(sealed) = meta::<Vec<u8>>(&self.conn, "sync_memory")? else { return Ok(None) };
        let plain =
            self.sealer.open(&sealed, MEMORY_AAD).ok_or(Error::Corrupt("sync's memory does not open".into()))?;
        Ok(Some(plain))
    }

    /// Stores what the sync service remembers, sealed under the data key (opaque to the vault).
    pub fn set_sync_memory(&self, memory: &[u8]) -> Result<()> {
        set_meta(&self.conn, "sync_memory", self.sealer.seal(memory, MEMORY_AAD)?)
    }

    /// Sync's progress.
    pub fn sync_progress(&self) -> Result<SyncProgress> {
        Ok(SyncProgress {
            generation: meta::<i64>(&self.conn, "sync_generation")?.unwrap_or(0) as u64,
            last_success: meta(&self.conn, "sync_last_success")?,
            last_error: meta(&self.conn, "sync_last_error")?,
        })
    }

    /// Records the outcome of a round: the generation seen and the time on success, the error's
    /// message otherwise.
    pub fn set_sync_progress(&self, outcome: std::result::Result<u64, &str>) -> Result<()> {
        let tx = self.begin_write()?;
        match outcome {
            Ok(generation) => {
                set_meta(&tx, "sync_generation", generation as i64)?;
                set_meta(&tx, "sync_last_success", domain::time::now())?;
                tx.execute("DELETE FROM meta WHERE key = 'sync_last_error'", [])?;
            }
            Err(message) => set_meta(&tx, "sync_last_error", message)?,
        }
        tx.commit()?;
        Ok(())
    }
}

fn put_stamp(tx: &Transaction<'_>, uid: &[u8], field: &str, stamp: &Stamp, pending: bool) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO sync_clock (uid, field, hlc, device, pending) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![uid, field, stamp.hlc as i64, &stamp.device[..], pending as i64])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::DataKey;
    use super::*;
    use domain::account::AccountData;
    use domain::otp::{Algorithm, OtpParams, Secret};

    fn key() -> DataKey {
        DataKey::from_bytes([42; 32])
    }

    fn account(issuer: &str, hotp: bool) -> AccountData {
        let params = if hotp {
            OtpParams::new(domain::OtpKind::Hotp, Algorithm::Sha1, 6, 30, 0).unwrap()
        } else {
            OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap()
        };
        AccountData {
            issuer: issuer.into(),
            label: "alice".into(),
            params,
            secret: Secret::from_bytes(format!("secret of {issuer}!!").into_bytes()).unwrap(),
            group: None,
        }
    }

    /// What a user sees: names, group and code, in list order.
    fn listing(v: &Vault) -> Vec<(String, String, Option<String>, String)> {
        v.codes(1_000_000)
            .unwrap()
            .into_iter()
            .map(|c| (c.account.issuer, c.account.label, c.account.group, c.code.value))
            .collect()
    }

    /// One exchange: `a` and `b` each merge the other's state, as a round through a server does.
    fn exchange(a: &Vault, b: &Vault) {
        let (sa, sb) = (a.sync_state().unwrap(), b.sync_state().unwrap());
        let merged = sa.state.merge(&sb.state);
        a.apply_sync_state(&merged, Some(sa.through)).unwrap();
        b.apply_sync_state(&merged, Some(sb.through)).unwrap();
    }

    #[test]
    fn migration_6_stamps_existing_accounts_as_pending_changes_of_this_device() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("v.db");
        let old = Vault::create_at_version_for_test(&db, &key(), 5);
        let params = OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap();
        old.execute_for_test(
            "INSERT INTO accounts (id, uid, kind, algorithm, digits, period, record_enc, sort_order, created_at, updated_at)
             VALUES (1, x'00112233445566778899aabbccddeeff', 'totp', 'SHA1', 6, 30, x'', 0, 1700000000, 1700000000)",
        );
        let uid = hex::decode("00112233445566778899aabbccddeeff").unwrap();
        let sealed =
            record::seal(&old.sealer, 1, &uid, &params, b"12345678901234567890", ("GitHub", "alice", None)).unwrap();
        old.conn.execute("UPDATE accounts SET record_enc = ?1", [sealed]).unwrap();
        drop(old);

        let vault = Vault::open(&db, &key()).unwrap();
        assert_eq!(vault.pending_sync_changes().unwrap(), 1);
        let snapshot = vault.sync_state().unwrap();
        let Record::Live(f) = &snapshot.state.records["00112233445566778899aabbccddeeff"] else { panic!("live") };
        assert_eq!((f.issuer.value.as_str(), f.entry.stamp.hlc >> 16), ("GitHub", 1_700_000_000_000));
        assert_eq!(f.entry.stamp.device, vault.sync_device().unwrap());
    }

    #[test]
    fn every_edit_is_logged_with_a_growing_clock_and_a_removal_leaves_a_tombstone() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path().join("v.db"), &key()).unwrap();
        let a = vault.add(&account("A", true)).unwrap();
        let b = vault.add(&account("B", false)).unwrap();
        let before = vault.sync_state().unwrap().through;
        vault.rename(a.id, &"A2".into(), &"bob".into()).unwrap();
        vault.take_code(a.id, 0).unwrap();
        vault.remove(b.id).unwrap();
        let snapshot = vault.sync_state().unwrap();
        assert!(snapshot.through > before);
        assert_eq!(snapshot.state.records.len(), 2);
        assert_eq!(snapshot.state.records.values().filter(|r| matches!(r, Record::Removed(_))).count(), 1);
        // entry + issuer + label + counter of A, the tombstone of B.
        assert_eq!(vault.pending_sync_changes().unwrap(), 5);
        vault.apply_sync_state(&snapshot.state, Some(snapshot.through)).unwrap();
        assert_eq!(vault.pending_sync_changes().unwrap(), 0);
    }

    #[test]
    fn two_vaults_with_concurrent_edits_converge_to_the_same_list_and_codes() {
        let dir = tempfile::tempdir().unwrap();
        let one = Vault::open(dir.path().join("1.db"), &key()).unwrap();
        let two = Vault::open(dir.path().join("2.db"), &key()).unwrap();
        let shared = one.add(&account("Shared", true)).unwrap();
        let doomed = one.add(&account("Doomed", false)).unwrap();
        exchange(&one, &two);
        assert_eq!(listing(&one), listing(&two));

        let on_two = |issuer: &str| two.accounts().unwrap().into_iter().find(|a| a.issuer == issuer).unwrap().id;
        // Concurrently: one renames and uses a code twice; two renames the label, uses a code once,
        // removes Doomed (which one renames) and adds an account; one adds another.
        one.rename(shared.id, &"Shared by one".into(), &"alice".into()).unwrap();
        one.take_code(shared.id, 0).unwrap();
        one.take_code(shared.id, 0).unwrap();
        one.rename(doomed.id, &"Renamed".into(), &"x".into()).unwrap();
        two.take_code(on_two("Shared"), 0).unwrap();
        two.set_group(on_two("Shared"), Some(&"Work".into())).unwrap();
        two.remove(on_two("Doomed")).unwrap();
        two.add(&account("New on two", false)).unwrap();
        one.add(&account("New on one", false)).unwrap();

        exchange(&two, &one);
        let listed = listing(&one);
        assert_eq!(listed, listing(&two));
        let issuers: Vec<&str> = listed.iter().map(|l| l.0.as_str()).collect();
        assert!(!issuers.contains(&"Renamed") && issuers.contains(&"New on one") && issuers.contains(&"New on two"));
        let shared_one = one.accounts().unwrap().into_iter().find(|a| a.issuer == "Shared by one").unwrap();
        assert_eq!(shared_one.group.as_deref(), Some("Work"));
        assert_eq!(shared_one.params.counter(), 2);
        // Idempotent: exchanging again changes nothing.
        exchange(&one, &two);
        assert_eq!(listing(&one), listed);
    }

    #[test]
    fn a_local_edit_made_after_the_state_was_read_survives_the_apply() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path().join("v.db"), &key()).unwrap();
        let a = vault.add(&account("A", false)).unwrap();
        let snapshot = vault.sync_state().unwrap();
        vault.rename(a.id, &"Later".into(), &"alice".into()).unwrap();
        vault.apply_sync_state(&snapshot.state, Some(snapshot.through)).unwrap();
        assert_eq!(vault.account(a.id).unwrap().issuer, "Later");
        assert_eq!(vault.pending_sync_changes().unwrap(), 2);
    }
}
