//! An account row's sealed record: the secret and the names, sealed as one value whose
//! associated data binds the row's identity and its immutable code parameters.

use rusqlite::{Row, Transaction, params};
use zeroize::Zeroizing;

use super::Vault;
use crate::crypto::Sealer;
use crate::error::{Error, Result};
use domain::account::Account;
use domain::otp::{OtpKind, OtpParams, Secret};

/// Length of the random per-row identity (`accounts.uid`).
pub(super) const UID_LEN: usize = 16;
/// First byte of a record's plaintext: its layout.
const RECORD_LAYOUT: u8 = 1;

/// The columns [`StoredRow::read`] reads, in order.
pub(super) const ROW_COLUMNS: &str =
    "id, uid, kind, algorithm, digits, period, counter, record_enc, sort_order, created_at, updated_at, last_used_at";

/// An account row as stored, before its record is opened.
pub(super) struct StoredRow {
    pub id: i64,
    uid: Vec<u8>,
    params: Option<OtpParams>,
    sealed: Vec<u8>,
    sort_order: i64,
    created_at: i64,
    updated_at: i64,
    last_used_at: Option<i64>,
}

/// An opened record: the account as a UI shows it, and its secret.
pub(super) struct Opened {
    pub account: Account,
    pub secret: Secret,
}

impl StoredRow {
    /// The row's stable identity (its UUID in sync).
    pub fn uid(&self) -> &[u8] {
        &self.uid
    }

    pub fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        let kind: Option<OtpKind> = row.get::<_, String>(2)?.parse().ok();
        let algorithm = row.get::<_, String>(3)?.parse().ok();
        let counter: i64 = row.get(6)?;
        let params = match (kind, algorithm, u64::try_from(counter)) {
            (Some(kind), Some(algorithm), Ok(counter)) => {
                OtpParams::new(kind, algorithm, row.get(4)?, row.get(5)?, counter).ok()
            }
            _ => None,
        };
        Ok(Self {
            id: row.get(0)?,
            uid: row.get(1)?,
            params,
            sealed: row.get(7)?,
            sort_order: row.get(8)?,
            created_at: row.get(9)?,
            updated_at: row.get(10)?,
            last_used_at: row.get(11)?,
        })
    }

    /// Opens the record; a record that does not open under this row's identity and parameters
    /// (tampered, swapped, damaged) is [`Error::DamagedAccount`] naming the row.
    pub fn open(&self, sealer: &Sealer) -> Result<Opened> {
        let damaged = |reason: &'static str| Error::DamagedAccount { id: self.id, reason };
        let params = self.params.ok_or_else(|| damaged("its code parameters are invalid"))?;
        let plain = sealer
            .open(&self.sealed, &record_aad(self.id, &self.uid, &params))
            .ok_or_else(|| damaged("its sealed record does not open: tampered with or damaged"))?;
        let (secret, issuer, label, group) =
            decode(&plain).ok_or_else(|| damaged("its sealed record has an invalid layout"))?;
        let account = Account {
            id: self.id,
            issuer,
            label,
            params,
            group,
            sort_order: self.sort_order,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_used_at: self.last_used_at,
        };
        Ok(Opened { account, secret })
    }
}

/// The associated data of a record: the table and layout, the row id and random uid (so a record
/// copied onto another row, or into another vault's row with the same id, fails to open), and
/// the code parameters that never change (so editing kind, algorithm, digits or period in SQL
/// makes the row fail to open rather than give wrong codes). The HOTP counter changes with every
/// code taken and is not bound.
pub(super) fn record_aad(id: i64, uid: &[u8], params: &OtpParams) -> Vec<u8> {
    format!(
        "accounts.record_enc:v3:{id}:{}:{}:{}:{}:{}",
        hex::encode(uid),
        params.kind().as_str(),
        params.algorithm().as_str(),
        params.digits(),
        params.period()
    )
    .into_bytes()
}

/// Seals a record for row `id`.
pub(super) fn seal(
    sealer: &Sealer,
    id: i64,
    uid: &[u8],
    params: &OtpParams,
    secret: &[u8],
    names: (&str, &str, Option<&str>),
) -> Result<Vec<u8>> {
    sealer.seal(&encode(secret, names), &record_aad(id, uid, params))
}

/// `layout ‖ (u32 length ‖ bytes) for secret, issuer, label ‖ group flag ‖ (u32 length ‖ group)`,
/// in one zeroizing buffer of exactly its size.
fn encode(secret: &[u8], (issuer, label, group): (&str, &str, Option<&str>)) -> Zeroizing<Vec<u8>> {
    let fields = [secret, issuer.as_bytes(), label.as_bytes()];
    let size = 1 + fields.iter().map(|f| 4 + f.len()).sum::<usize>() + 1 + group.map_or(0, |g| 4 + g.len());
    let mut out = Zeroizing::new(Vec::with_capacity(size));
    out.push(RECORD_LAYOUT);
    fn put(out: &mut Vec<u8>, field: &[u8]) {
        out.extend_from_slice(&(field.len() as u32).to_le_bytes());
        out.extend_from_slice(field);
    }
    for field in fields {
        put(&mut out, field);
    }
    match group {
        Some(group) => {
            out.push(1);
            put(&mut out, group.as_bytes());
        }
        None => out.push(0),
    }
    out
}

fn decode(bytes: &[u8]) -> Option<(Secret, String, String, Option<String>)> {
    fn field<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        let (value, tail) = (tail.get(..len)?, tail.get(len..)?);
        *rest = tail;
        Some(value)
    }
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).ok();
    let (&layout, mut rest) = bytes.split_first()?;
    if layout != RECORD_LAYOUT {
        return None;
    }
    let secret = Secret::from_bytes(field(&mut rest)?.to_vec()).ok()?;
    let issuer = text(field(&mut rest)?)?;
    let label = text(field(&mut rest)?)?;
    let (&has_group, tail) = rest.split_first()?;
    rest = tail;
    let group = match has_group {
        0 => None,
        1 => Some(text(field(&mut rest)?)?),
        _ => return None,
    };
    rest.is_empty().then_some((secret, issuer, label, group))
}

/// Migration 2 → 3, between its two SQL halves: gives every account a random uid and seals its
/// secret and names into one record bound to the row. A row whose secret no longer opened keeps
/// its old sealed bytes, which do not open as a record either: it stays reported as damaged,
/// under its id, and can be removed.
pub(super) fn seal_records_v3(tx: &Transaction<'_>, sealer: &Sealer) -> Result<()> {
    /// A version 2 row: id, issuer, label, group, kind, algorithm, digits, period, secret_enc.
    type V2Row = (i64, String, String, Option<String>, String, String, u8, u32, Vec<u8>);
    let rows: Vec<V2Row> = tx
        .prepare("SELECT id, issuer, label, group_name, kind, algorithm, digits, period, secret_enc FROM accounts")?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = tx.prepare("UPDATE accounts SET uid = ?1, record_enc = ?2 WHERE id = ?3")?;
    for (id, issuer, label, group, kind, algorithm, digits, period, secret_enc) in rows {
        let uid = crate::crypto::random_array::<UID_LEN>()?;
        let secret = sealer.open(&secret_enc, format!("accounts.secret_enc:{id}").as_bytes());
        let params = kind
            .parse()
            .ok()
            .zip(algorithm.parse().ok())
            .and_then(|(kind, algorithm)| OtpParams::new(kind, algorithm, digits, period, 0).ok());
        let record = match (secret, params) {
            (Some(secret), Some(params)) => {
                seal(sealer, id, &uid, &params, &secret, (&issuer, &label, group.as_deref()))?
            }
            _ => secret_enc,
        };
        update.execute(params![uid, record, id])?;
    }
    Ok(())
}

impl Vault {
    /// Reads and opens one account row inside `tx` (for changes that re-seal it).
    pub(super) fn open_row_in(&self, tx: &Transaction<'_>, id: i64) -> Result<(StoredRow, Opened)> {
        let row = tx
            .prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM accounts WHERE id = ?1"))?
            .query_row([id], StoredRow::read)
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Error::NoSuchAccount(id),
                e => e.into(),
            })?;
        let opened = row.open(&self.sealer)?;
        Ok((row, opened))
    }

    /// Re-seals row `id` with new names (same secret, uid and parameters).
    /// Records the write of `fields` in sync's change log.
    pub(super) fn reseal_names(&self, id: i64, fields: &[&str], edit: impl FnOnce(&mut Account)) -> Result<()> {
        let tx = self.begin_write()?;
        let (row, mut opened) = self.open_row_in(&tx, id)?;
        edit(&mut opened.account);
        let a = &opened.account;
        let names = (a.issuer.as_str(), a.label.as_str(), a.group.as_deref().filter(|g| !g.is_empty()));
        let sealed = seal(&self.sealer, id, &row.uid, &a.params, opened.secret.expose(), names)?;
        tx.execute(
            "UPDATE accounts SET record_enc = ?1, updated_at = ?2 WHERE id = ?3",
            params![sealed, domain::time::now(), id],
        )?;
        self.record_change(&tx, &row.uid, fields)?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_refuse_bad_layouts() {
        let secret = b"12345678901234567890";
        for group in [None, Some("Work"), Some("")] {
            let bytes = encode(secret, ("GitHub", "alice", group));
            assert_eq!(bytes.len(), bytes.capacity());
            let (s, issuer, label, g) = decode(&bytes).unwrap();
            assert_eq!(
                (s.expose(), issuer.as_str(), label.as_str(), g.as_deref()),
                (&secret[..], "GitHub", "alice", group)
            );
            assert!(decode(&bytes[..bytes.len() - 1]).is_none());
            let mut longer = bytes.to_vec();
            longer.push(0);
            assert!(decode(&longer).is_none());
        }
    }
}
