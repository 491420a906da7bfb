//! Passkeys in the vault (table `passkeys`, described in `schema.rs`).
//!
//! Storage only: the passkey service checks requests, makes keys and signs. Here a passkey's
//! names and its key are sealed, each bound to the row's identity, and read back; one damaged
//! row is reported on its own and never hides the others.

use rusqlite::{OptionalExtension, Row, params};
use serde_json::Value;
use zeroize::Zeroizing;

use super::Vault;
use crate::crypto::Sealer;
use crate::error::{Error, Result};
use domain::passkey::{PasskeyData, PasskeyInfo, PasskeySecret, b64url, decode_b64url};
use domain::time::now;

const COLUMNS: &str = "id, uid, credential_id, record_enc, created_at, last_used_at";
/// The layout byte of a sealed key: PRF secrets with UV, without UV, then the PKCS#8 key.
const KEY_LAYOUT: u8 = 1;

/// A passkey row whose sealed names do not open (tampered with, moved, damaged). Reported by id;
/// the others keep working, and it can be removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedPasskey {
    /// The row's id.
    pub id: i64,
}

fn record_aad(uid: &[u8], credential_id: &[u8]) -> Vec<u8> {
    format!("passkeys.record_enc:v1:{}:{}", hex::encode(uid), hex::encode(credential_id)).into_bytes()
}

fn key_aad(uid: &[u8], credential_id: &[u8], rp_id: &str) -> Vec<u8> {
    format!("passkeys.key_enc:v1:{}:{}:{rp_id}", hex::encode(uid), hex::encode(credential_id)).into_bytes()
}

/// The names, sealed as a JSON array: rpId, rp name, user name, display name, the user's own
/// name, then the user handle (base64url).
fn seal_record(
    sealer: &Sealer,
    uid: &[u8],
    credential_id: &[u8],
    names: [&str; 5],
    user_handle: &[u8],
) -> Result<Vec<u8>> {
    let handle = b64url(user_handle);
    let [rp_id, rp_name, user_name, display_name, name] = names;
    let fields = [rp_id, rp_name, user_name, display_name, name, &handle];
    super::push::seal_text(sealer, &fields, &record_aad(uid, credential_id))
}

fn seal_key(sealer: &Sealer, data: &PasskeyData) -> Result<Vec<u8>> {
    let secret = &data.secret;
    let mut plain = Zeroizing::new(Vec::with_capacity(65 + secret.private_key.len()));
    plain.push(KEY_LAYOUT);
    plain.extend_from_slice(&secret.prf_with_uv[..]);
    plain.extend_from_slice(&secret.prf_without_uv[..]);
    plain.extend_from_slice(&secret.private_key);
    sealer.seal(&plain, &key_aad(&data.uid, &data.credential_id, &data.rp_id))
}

/// A row's columns and its opened names.
fn info_from_row(sealer: &Sealer, row: &Row<'_>) -> Result<std::result::Result<PasskeyInfo, DamagedPasskey>> {
    let id: i64 = row.get(0)?;
    let uid: Vec<u8> = row.get(1)?;
    let credential_id: Vec<u8> = row.get(2)?;
    let sealed: Vec<u8> = row.get(3)?;
    let Some(plain) = sealer.open(&sealed, &record_aad(&uid, &credential_id)) else {
        return Ok(Err(DamagedPasskey { id }));
    };
    let Ok(Value::Array(fields)) = serde_json::from_slice::<Value>(&plain) else {
        return Ok(Err(DamagedPasskey { id }));
    };
    let text: Vec<String> = fields.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    let [rp_id, rp_name, user_name, user_display_name, name, handle]: [String; 6] = match text.try_into() {
        Ok(fields) => fields,
        Err(_) => return Ok(Err(DamagedPasskey { id })),
    };
    let Ok(user_handle) = decode_b64url(&handle) else {
        return Ok(Err(DamagedPasskey { id }));
    };
    Ok(Ok(PasskeyInfo {
        id,
        credential_id,
        rp_id,
        rp_name,
        user_name,
        user_display_name,
        user_handle,
        name,
        created_at: row.get(4)?,
        last_used_at: row.get(5)?,
    }))
}

impl Vault {
    /// Every passkey whose record opens, oldest first, and the rows that do not.
    pub fn passkey_rows(&self) -> Result<(Vec<PasskeyInfo>, Vec<DamagedPasskey>)> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {COLUMNS} FROM passkeys ORDER BY id"))?;
        let mut rows = stmt.query([])?;
        let (mut good, mut damaged) = (Vec::new(), Vec::new());
        while let Some(row) = rows.next()? {
            match info_from_row(&self.sealer, row)? {
                Ok(info) => good.push(info),
                Err(bad) => damaged.push(bad),
            }
        }
        Ok((good, damaged))
    }

    /// Every passkey whose record opens, oldest first (damaged rows: [`Self::passkey_rows`]).
    pub fn passkeys(&self) -> Result<Vec<PasskeyInfo>> {
        Ok(self.passkey_rows()?.0)
    }

    /// The passkey with this credential id, if one is stored (and opens).
    pub fn passkey_by_credential(&self, credential_id: &[u8]) -> Result<Option<PasskeyInfo>> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {COLUMNS} FROM passkeys WHERE credential_id = ?1"))?;
        let found = stmt.query_row([credential_id], |row| Ok(info_from_row(&self.sealer, row))).optional()?;
        match found.transpose()? {
            None => Ok(None),
            Some(Ok(info)) => Ok(Some(info)),
            Some(Err(DamagedPasskey { id })) => {
                Err(Error::Corrupt(format!("passkey {id} is damaged: its record does not open")))
            }
        }
    }

    /// The passkey with row id `id`.
    pub fn passkey(&self, id: i64) -> Result<PasskeyInfo> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {COLUMNS} FROM passkeys WHERE id = ?1"))?;
        let found = stmt.query_row([id], |row| Ok(info_from_row(&self.sealer, row))).optional()?;
        match found.transpose()? {
            None => Err(Error::InvalidInput(format!("no passkey {id}"))),
            Some(Ok(info)) => Ok(info),
            Some(Err(_)) => Err(Error::Corrupt(format!("passkey {id} is damaged: its record does not open"))),
        }
    }

    /// The key and PRF secrets of `passkey`, opened (bound to its uid, credential id and rpId).
    pub fn passkey_secret(&self, passkey: &PasskeyInfo) -> Result<PasskeySecret> {
        let (uid, sealed): (Vec<u8>, Vec<u8>) = self
            .conn
            .prepare_cached("SELECT uid, key_enc FROM passkeys WHERE id = ?1 AND credential_id = ?2")?
            .query_row(params![passkey.id, passkey.credential_id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?
            .ok_or_else(|| Error::InvalidInput(format!("no passkey {}", passkey.id)))?;
        let damaged = || Error::Corrupt(format!("passkey {} is damaged: its key does not open", passkey.id));
        let plain =
            self.sealer.open(&sealed, &key_aad(&uid, &passkey.credential_id, &passkey.rp_id)).ok_or_else(damaged)?;
        if plain.len() <= 65 || plain[0] != KEY_LAYOUT {
            return Err(damaged());
        }
        let mut with_uv = Zeroizing::new([0; 32]);
        let mut without_uv = Zeroizing::new([0; 32]);
        with_uv.copy_from_slice(&plain[1..33]);
        without_uv.copy_from_slice(&plain[33..65]);
        Ok(PasskeySecret {
            private_key: Zeroizing::new(plain[65..].to_vec()),
            prf_with_uv: with_uv,
            prf_without_uv: without_uv,
        })
    }

    /// Stores a new passkey. Refused when its credential id is stored already.
    pub fn insert_passkey(&self, data: &PasskeyData) -> Result<PasskeyInfo> {
        let tx = self.begin_write()?;
        let id = self.insert_passkey_in(&tx, data)?;
        tx.commit()?;
        self.passkey(id)
    }

    /// Stores many passkeys in one transaction (a restore, an import): all, or on any error none.
    /// A passkey whose credential id is stored already is skipped; returns how many were added.
    pub fn insert_passkeys(&self, passkeys: &[PasskeyData]) -> Result<usize> {
        let tx = self.begin_write()?;
        let mut added = 0;
        for data in passkeys {
            let known: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM passkeys WHERE credential_id = ?1)")?
                .query_row([&data.credential_id], |row| row.get(0))?;
            if !known {
                self.insert_passkey_in(&tx, data)?;
                added += 1;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    fn insert_passkey_in(&self, tx: &rusqlite::Transaction<'_>, data: &PasskeyData) -> Result<i64> {
        let names = [data.rp_id.as_str(), &data.rp_name, &data.user_name, &data.user_display_name, &data.name];
        let record = seal_record(&self.sealer, &data.uid, &data.credential_id, names, &data.user_handle)?;
        let key = seal_key(&self.sealer, data)?;
        let inserted = tx
            .prepare_cached(
                "INSERT INTO passkeys (uid, credential_id, record_enc, key_enc, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![&data.uid[..], data.credential_id, record, key, data.created_at, now()]);
        match inserted {
            Ok(_) => Ok(tx.last_insert_rowid()),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                Err(Error::InvalidInput("a passkey with this credential id or uid is stored already".into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every passkey whole (names, key, PRF secrets), for a backup or a sync round; damaged rows
    /// are left out (see [`Self::passkey_rows`]).
    pub fn all_passkey_data(&self) -> Result<Vec<PasskeyData>> {
        let mut all = Vec::new();
        for info in self.passkeys()? {
            let secret = self.passkey_secret(&info)?;
            let uid: Vec<u8> = self
                .conn
                .prepare_cached("SELECT uid FROM passkeys WHERE id = ?1")?
                .query_row([info.id], |r| r.get(0))?;
            all.push(PasskeyData {
                uid: uid.try_into().map_err(|_| Error::Corrupt(format!("passkey {} has a bad uid", info.id)))?,
                credential_id: info.credential_id,
                rp_id: info.rp_id,
                rp_name: info.rp_name,
                user_name: info.user_name,
                user_display_name: info.user_display_name,
                user_handle: info.user_handle,
                name: info.name,
                created_at: info.created_at,
                secret,
            });
        }
        Ok(all)
    }

    /// Gives a passkey the user's own name (empty: none).
    pub fn rename_passkey(&self, id: i64, name: &str) -> Result<()> {
        let tx = self.begin_write()?;
        let info = self.passkey(id)?;
        let uid: Vec<u8> = tx.query_row("SELECT uid FROM passkeys WHERE id = ?1", [id], |r| r.get(0))?;
        let name: String = domain::text::clean(name).chars().take(domain::passkey::MAX_NAME_CHARS).collect();
        let names = [info.rp_id.as_str(), &info.rp_name, &info.user_name, &info.user_display_name, &name];
        let record = seal_record(&self.sealer, &uid, &info.credential_id, names, &info.user_handle)?;
        tx.execute("UPDATE passkeys SET record_enc = ?1, updated_at = ?2 WHERE id = ?3", params![record, now(), id])?;
        tx.commit()?;
        Ok(())
    }

    /// Removes a passkey for good (a damaged one too).
    pub fn remove_passkey(&self, id: i64) -> Result<()> {
        let tx = self.begin_write()?;
        if tx.execute("DELETE FROM passkeys WHERE id = ?1", [id])? == 0 {
            return Err(Error::InvalidInput(format!("no passkey {id}")));
        }
        tx.commit()?;
        Ok(())
    }

    /// Records that a passkey signed at `at` (Unix seconds).
    pub fn touch_passkey(&self, id: i64, at: i64) -> Result<()> {
        self.conn.execute("UPDATE passkeys SET last_used_at = ?1 WHERE id = ?2", params![at, id])?;
        Ok(())
    }
}
