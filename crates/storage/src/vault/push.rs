//! Push tokens, requests and history in the vault (tables described in `schema.rs`).
//!
//! Storage only: the push service decides what a challenge means, how a PIN seals a key and how
//! many attempts are allowed; here rows are written and read, each state change in one
//! transaction.

use rusqlite::{OptionalExtension, Row, params};
use zeroize::Zeroizing;

use super::Vault;
use crate::crypto::Sealer;
use crate::error::{Error, Result};
use domain::time::now;
use domain::{
    Decision, HistoryEntry, NewPushRequest, NewPushToken, PinAttempt, PinKdf, PinSeal, PushRequest, PushToken,
};

/// The push history keeps at most this many entries (the newest)…
pub const HISTORY_MAX_ENTRIES: i64 = 1000;
/// …and none older than this many seconds (90 days); whichever keeps fewer.
pub const HISTORY_MAX_AGE_SECONDS: i64 = 90 * 24 * 3600;

/// Drops history entries beyond [`HISTORY_MAX_ENTRIES`] or older than
/// [`HISTORY_MAX_AGE_SECONDS`], inside the transaction that just added to it.
fn prune_history(tx: &rusqlite::Transaction<'_>, now: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM push_history WHERE at < ?1
             OR id IN (SELECT id FROM push_history ORDER BY at DESC, id DESC LIMIT -1 OFFSET ?2)",
        params![now.saturating_sub(HISTORY_MAX_AGE_SECONDS), HISTORY_MAX_ENTRIES],
    )?;
    Ok(())
}

/// Associated data of a token's sealed names and URL: its row and serial.
fn token_text_aad(id: i64, serial: &str) -> Vec<u8> {
    format!("push_tokens.text_enc:{id}:{serial}").into_bytes()
}

/// Associated data of a request's sealed title, question and choices: its nonce (unique).
fn request_text_aad(nonce: &str) -> Vec<u8> {
    format!("push_requests.text_enc:{nonce}").into_bytes()
}

/// Associated data of a history entry's sealed title and question: its row.
fn history_text_aad(id: i64) -> Vec<u8> {
    format!("push_history.text_enc:{id}").into_bytes()
}

/// Seals display text (names, URLs, titles, questions) as a JSON array of strings, so nothing
/// of it is readable in the file (schema version 5).
pub(super) fn seal_text(sealer: &Sealer, fields: &[&str], aad: &[u8]) -> Result<Vec<u8>> {
    let plain = Zeroizing::new(serde_json::to_vec(fields)?);
    sealer.seal(&plain, aad)
}

/// Opens what [`seal_text`] sealed: exactly `N` strings, or a corruption error naming `what`.
fn open_text<const N: usize>(sealer: &Sealer, sealed: &[u8], aad: &[u8], what: &str) -> Result<[String; N]> {
    let damaged = || Error::Corrupt(format!("{what} is damaged: its sealed text does not open"));
    let plain = sealer.open(sealed, aad).ok_or_else(damaged)?;
    let fields: Vec<String> = serde_json::from_slice(&plain).map_err(|_| damaged())?;
    fields.try_into().map_err(|_| damaged())
}

const TOKEN_COLUMNS: &str = "id, serial, text_enc, sslverify, allow_insecure_tls, pin_salt IS NOT NULL,
     pin_required_by_server, created_at, protocol, key_type";
const REQUEST_COLUMNS: &str = "r.id, r.token_id, t.serial, t.text_enc, r.nonce, r.text_enc,
     r.decline_reasons, r.received_at, r.expires_at, r.state, t.pin_salt IS NOT NULL";

/// A token's private key as stored: opened from the data-key seal, still sealed under the PIN
/// when `pin` is set.
pub struct StoredKey {
    /// The key bytes (PKCS#8 DER, or its PIN seal). Wiped on drop.
    pub key: Zeroizing<Vec<u8>>,
    /// How the PIN seals `key`, when it does.
    pub pin: Option<PinSeal>,
}

fn private_key_aad(id: i64) -> Vec<u8> {
    format!("push_tokens.private_key_enc:{id}").into_bytes()
}

/// A PIN seal as its columns: `pin_salt`, `pin_kdf`, `pin_iterations`, `pin_memory_kib`,
/// `pin_lanes` (all NULL without a PIN).
type PinColumns<'a> = (Option<&'a [u8]>, Option<&'static str>, Option<u32>, Option<u32>, Option<u32>);

fn pin_columns(pin: Option<&PinSeal>) -> PinColumns<'_> {
    match pin {
        None => (None, None, None, None, None),
        Some(PinSeal { salt, kdf: PinKdf::Pbkdf2 { iterations } }) => {
            (Some(salt), Some("pbkdf2-sha256"), Some(*iterations), None, None)
        }
        Some(PinSeal { salt, kdf: PinKdf::Argon2id { memory_kib, passes, lanes } }) => {
            (Some(salt), Some("argon2id"), Some(*passes), Some(*memory_kib), Some(*lanes))
        }
    }
}

/// Reads the PIN seal stored in `row` from column `first` on: `pin_salt`, `pin_kdf`,
/// `pin_iterations`, `pin_memory_kib`, `pin_lanes`. Ok(None) when the token has no PIN; a mix of
/// set and unset columns is corruption.
fn pin_from_row(id: i64, row: &Row<'_>, first: usize) -> Result<Option<PinSeal>> {
    let salt: Option<Vec<u8>> = row.get(first)?;
    let kdf: Option<String> = row.get(first + 1)?;
    let (iterations, memory_kib, lanes): (Option<u32>, Option<u32>, Option<u32>) =
        (row.get(first + 2)?, row.get(first + 3)?, row.get(first + 4)?);
    let incomplete = || Error::Corrupt(format!("push token {id} has an incomplete PIN seal"));
    let kdf = match (kdf.as_deref(), iterations, memory_kib, lanes) {
        (None, None, None, None) if salt.is_none() => return Ok(None),
        (Some("pbkdf2-sha256"), Some(iterations), None, None) => PinKdf::Pbkdf2 { iterations },
        (Some("argon2id"), Some(passes), Some(memory_kib), Some(lanes)) => {
            PinKdf::Argon2id { memory_kib, passes, lanes }
        }
        _ => return Err(incomplete()),
    };
    Ok(Some(PinSeal { salt: salt.ok_or_else(incomplete)?, kdf }))
}

/// A token's issuer, label and URL, opened from their seal.
fn token_text(sealer: &Sealer, id: i64, serial: &str, sealed: &[u8]) -> Result<[String; 3]> {
    let mut all = token_text_all(sealer, id, serial, sealed)?;
    all.truncate(3);
    all.try_into().map_err(|_| Error::Corrupt(format!("push token {id} is damaged: its sealed text does not open")))
}

/// A token's issuer, label, URL and what its protocol adds (tiqr: the OCRA suite).
fn token_text_all(sealer: &Sealer, id: i64, serial: &str, sealed: &[u8]) -> Result<Vec<String>> {
    let damaged = || Error::Corrupt(format!("push token {id} is damaged: its sealed text does not open"));
    let plain = sealer.open(sealed, &token_text_aad(id, serial)).ok_or_else(damaged)?;
    let fields: Vec<String> = serde_json::from_slice(&plain).map_err(|_| damaged())?;
    if fields.len() < 3 {
        return Err(damaged());
    }
    Ok(fields)
}

fn token_from_row(sealer: &Sealer, row: &Row<'_>) -> Result<PushToken> {
    let (id, serial): (i64, String) = (row.get(0)?, row.get(1)?);
    let [issuer, label, url] = token_text(sealer, id, &serial, &row.get::<_, Vec<u8>>(2)?)?;
    let protocol: domain::PushProtocol = row.get::<_, String>(8)?.parse()?;
    Ok(PushToken {
        id,
        serial,
        issuer,
        label,
        url,
        sslverify: row.get(3)?,
        allow_insecure_tls: row.get(4)?,
        has_pin: row.get(5)?,
        pin_required_by_server: row.get(6)?,
        created_at: row.get(7)?,
        protocol,
        key_type: row.get::<_, String>(9)?.parse()?,
        offers_number_matching: protocol.offers_number_matching(),
        offers_decline_reasons: protocol.offers_decline_reasons(),
    })
}

/// A request's title, question and choices (comma-separated, empty for none), opened.
fn request_text(sealer: &Sealer, id: i64, nonce: &str, sealed: &[u8]) -> Result<[String; 3]> {
    open_text(sealer, sealed, &request_text_aad(nonce), &format!("push request {id}"))
}

fn request_from_row(sealer: &Sealer, row: &Row<'_>) -> Result<PushRequest> {
    let (id, token_id, serial): (i64, i64, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
    let [issuer, label, _url] = token_text(sealer, token_id, &serial, &row.get::<_, Vec<u8>>(3)?)?;
    let nonce: String = row.get(4)?;
    let [title, question, choices] = request_text(sealer, id, &nonce, &row.get::<_, Vec<u8>>(5)?)?;
    let state: String = row.get(9)?;
    Ok(PushRequest {
        id,
        token_id,
        serial,
        issuer,
        label,
        title,
        question,
        choices: Some(choices).filter(|c| !c.is_empty()).map(|c| c.split(',').map(str::to_owned).collect()),
        decline_reasons: row.get(6)?,
        received_at: row.get(7)?,
        expires_at: row.get(8)?,
        state: state.parse()?,
        requires_pin: row.get(10)?,
    })
}

impl Vault {
    /// Every enrolled push token.
    pub fn push_tokens(&self) -> Result<Vec<PushToken>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM push_tokens ORDER BY sort_order, id");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([])?;
        let mut tokens = Vec::new();
        while let Some(row) = rows.next()? {
            tokens.push(token_from_row(&self.sealer, row)?);
        }
        Ok(tokens)
    }

    /// One push token.
    pub fn push_token(&self, id: i64) -> Result<PushToken> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM push_tokens WHERE id = ?1");
        self.conn
            .query_row(&sql, [id], |row| Ok(token_from_row(&self.sealer, row)))
            .optional()?
            .ok_or(Error::NoSuchToken(id))?
    }

    /// The id of the token with `serial`, if one is enrolled.
    pub fn push_token_id(&self, serial: &str) -> Result<Option<i64>> {
        let id =
            self.conn.query_row("SELECT id FROM push_tokens WHERE serial = ?1", [serial], |r| r.get(0)).optional()?;
        Ok(id)
    }

    /// What a token's protocol sealed beside its names and URL (tiqr: `[ocra suite]`).
    pub fn push_token_extra(&self, id: i64) -> Result<Vec<String>> {
        let row: Option<(String, Vec<u8>)> = self
            .conn
            .query_row("SELECT serial, text_enc FROM push_tokens WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (serial, sealed) = row.ok_or(Error::NoSuchToken(id))?;
        Ok(token_text_all(&self.sealer, id, &serial, &sealed)?.split_off(3))
    }

    /// The id of the request with `nonce`, if one was received.
    pub fn push_request_id(&self, nonce: &str) -> Result<Option<i64>> {
        let id =
            self.conn.query_row("SELECT id FROM push_requests WHERE nonce = ?1", [nonce], |r| r.get(0)).optional()?;
        Ok(id)
    }

    /// The server's public key (PKCS#1 DER) stored for a token.
    pub fn push_server_key(&self, id: i64) -> Result<Vec<u8>> {
        let key =
            self.conn.query_row("SELECT server_key FROM push_tokens WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        key.ok_or(Error::NoSuchToken(id))
    }

    /// Stores a token. `key` makes the private key blob to store from the new row's id (so a
    /// PIN seal can bind to it); the vault seals the blob under the data key, bound to the row.
    pub fn insert_push_token<E: From<Error>>(
        &self,
        token: &NewPushToken,
        key: impl FnOnce(i64) -> Result<Zeroizing<Vec<u8>>, E>,
    ) -> Result<PushToken, E> {
        let tx = self.begin_write()?;
        let now = now();
        let (salt, kdf, iterations, memory_kib, lanes) = pin_columns(token.pin.as_ref());
        let inserted = tx.execute(
            "INSERT INTO push_tokens (serial, url, text_enc, sslverify, allow_insecure_tls, server_key,
                 private_key_enc, pin_salt, pin_kdf, pin_iterations, pin_memory_kib, pin_lanes,
                 pin_required_by_server, fb_token, sort_order, created_at, updated_at, protocol, key_type)
             VALUES (?1, '', x'', ?2, ?3, ?4, x'', ?5, ?6, ?7, ?8, ?9, ?10, ?11,
                 (SELECT IFNULL(MAX(sort_order), -1) + 1 FROM push_tokens), ?12, ?12, ?13, ?14)",
            params![
                token.serial,
                token.sslverify,
                token.allow_insecure_tls,
                token.server_key,
                salt,
                kdf,
                iterations,
                memory_kib,
                lanes,
                token.pin_required_by_server,
                token.fb_token,
                now,
                token.protocol.as_str(),
                token.key_type.as_str()
            ],
        );
        match inserted {
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                return Err(Error::AlreadyEnrolled(token.serial.clone()).into());
            }
            other => other.map_err(Error::from)?,
        };
        let id = tx.last_insert_rowid();
        let sealed = self.sealer.seal(&key(id)?, &private_key_aad(id))?;
        let mut fields = vec![token.issuer.as_str(), token.label.as_str(), token.url.as_str()];
        fields.extend(token.extra_text.iter().map(String::as_str));
        let text = seal_text(&self.sealer, &fields, &token_text_aad(id, &token.serial))?;
        tx.execute(
            "UPDATE push_tokens SET private_key_enc = ?1, text_enc = ?2 WHERE id = ?3",
            params![sealed, text, id],
        )
        .map_err(Error::from)?;
        tx.commit().map_err(Error::from)?;
        Ok(self.push_token(id)?)
    }

    /// A token's private key blob, opened from its data-key seal.
    pub fn push_key(&self, id: i64) -> Result<StoredKey> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT private_key_enc, pin_salt, pin_kdf, pin_iterations, pin_memory_kib, pin_lanes
             FROM push_tokens WHERE id = ?1",
        )?;
        let mut rows = stmt.query([id])?;
        let row = rows.next()?.ok_or(Error::NoSuchToken(id))?;
        let sealed: Vec<u8> = row.get(0)?;
        let pin = pin_from_row(id, row, 1)?;
        let key = self
            .sealer
            .open(&sealed, &private_key_aad(id))
            .ok_or_else(|| Error::Corrupt(format!("the key of push token {id} does not decrypt")))?;
        Ok(StoredKey { key, pin })
    }

    /// Counts one PIN attempt *before* the PIN is tried, in one write transaction, so parallel
    /// callers (threads or processes) never get more tries than counted and killing the app
    /// mid-check earns no free try. While `locked_until` is in the future nothing is counted.
    /// `lockout` gives, for the attempt count reached, the seconds to lock out for if this
    /// attempt turns out wrong (the policy is the caller's).
    pub fn count_pin_attempt(&self, id: i64, now: i64, lockout: impl Fn(u32) -> Option<i64>) -> Result<PinAttempt> {
        let tx = self.begin_write()?;
        let (failed, locked_until): (u32, Option<i64>) = tx
            .query_row("SELECT failed_pin_attempts, locked_until FROM push_tokens WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?
            .ok_or(Error::NoSuchToken(id))?;
        if let Some(until) = locked_until.filter(|until| *until > now) {
            return Ok(PinAttempt::LockedUntil(until));
        }
        let attempts = failed.saturating_add(1);
        tx.execute(
            "UPDATE push_tokens SET failed_pin_attempts = ?1, locked_until = ?2 WHERE id = ?3",
            params![attempts, lockout(attempts).map(|seconds| now.saturating_add(seconds)), id],
        )?;
        tx.commit()?;
        Ok(PinAttempt::Counted { attempts })
    }

    /// Clears the attempt count after a right PIN.
    pub fn reset_pin_attempts(&self, id: i64) -> Result<()> {
        let tx = self.begin_write()?;
        tx.execute("UPDATE push_tokens SET failed_pin_attempts = 0, locked_until = NULL WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces a token's private key blob and its PIN seal (new PIN, or none).
    pub fn replace_push_key(&self, id: i64, key: &[u8], pin: Option<&PinSeal>) -> Result<()> {
        if !self.write_push_key(id, key, pin, None)? {
            return Err(Error::NoSuchToken(id));
        }
        Ok(())
    }

    /// Replaces a token's PIN seal with `pin` (the same PIN, sealed at a new cost), but only if
    /// the seal in force is still the one salted with `old_salt`: a PIN changed meanwhile by
    /// another handle wins. Returns whether the seal was replaced.
    pub fn upgrade_pin_seal(&self, id: i64, key: &[u8], pin: &PinSeal, old_salt: &[u8]) -> Result<bool> {
        self.write_push_key(id, key, Some(pin), Some(old_salt))
    }

    /// Writes a key blob and its PIN seal, clearing the attempt count; with `if_salt`, only when
    /// the current seal has that salt. Returns whether a row changed.
    fn write_push_key(&self, id: i64, key: &[u8], pin: Option<&PinSeal>, if_salt: Option<&[u8]>) -> Result<bool> {
        let sealed = self.sealer.seal(key, &private_key_aad(id))?;
        let (salt, kdf, iterations, memory_kib, lanes) = pin_columns(pin);
        let tx = self.begin_write()?;
        let changed = tx.execute(
            "UPDATE push_tokens SET private_key_enc = ?1, pin_salt = ?2, pin_kdf = ?3, pin_iterations = ?4,
                 pin_memory_kib = ?5, pin_lanes = ?6, failed_pin_attempts = 0, locked_until = NULL,
                 updated_at = ?7
             WHERE id = ?8 AND (?9 IS NULL OR pin_salt = ?9)",
            params![sealed, salt, kdf, iterations, memory_kib, lanes, now(), id, if_salt],
        )?;
        tx.commit()?;
        Ok(changed > 0)
    }

    /// Removes a push token and its requests from this device (the server is not told).
    pub fn remove_push_token(&self, id: i64) -> Result<()> {
        let tx = self.begin_write()?;
        if tx.execute("DELETE FROM push_tokens WHERE id = ?1", [id])? == 0 {
            return Err(Error::NoSuchToken(id));
        }
        tx.commit()?;
        Ok(())
    }

    /// Records the Firebase/APNs token registered with the server.
    pub fn set_fb_token(&self, id: i64, fb_token: &str) -> Result<()> {
        let tx = self.begin_write()?;
        tx.execute(
            "UPDATE push_tokens SET fb_token = ?1, updated_at = ?2 WHERE id = ?3",
            params![fb_token, now(), id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Stores a pending request. Returns None for a nonce seen before (the server repeats open
    /// challenges on every poll; replays are never shown again).
    pub fn insert_push_request(&self, token_id: i64, request: &NewPushRequest) -> Result<Option<PushRequest>> {
        let tx = self.begin_write()?;
        let inserted = tx.execute(
            "INSERT INTO push_requests (nonce, token_id, title, question, text_enc, decline_reasons, received_at,
                 expires_at, state)
             VALUES (?1, ?2, '', '', ?3, ?4, ?5, ?6, 'pending')
             ON CONFLICT (nonce) DO NOTHING",
            params![
                request.nonce,
                token_id,
                seal_text(
                    &self.sealer,
                    &[
                        &request.title,
                        &request.question,
                        &request.choices.as_ref().map(|c| c.join(",")).unwrap_or_default()
                    ],
                    &request_text_aad(&request.nonce),
                )?,
                request.decline_reasons,
                request.received_at,
                request.expires_at
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        if inserted == 0 {
            return Ok(None);
        }
        self.push_request(id).map(Some)
    }

    /// Appends a line to the decision history; `nonce` ties it to the challenge, when known.
    /// The history is pruned in the same transaction (newest [`HISTORY_MAX_ENTRIES`], at most
    /// [`HISTORY_MAX_AGE_SECONDS`] old).
    pub fn log_push_history(&self, entry: &HistoryEntry, nonce: Option<&str>) -> Result<()> {
        let tx = self.begin_write()?;
        self.insert_history(&tx, entry, nonce)?;
        prune_history(&tx, now())?;
        tx.commit()?;
        Ok(())
    }

    /// Inserts a history row with its title and question sealed to it.
    fn insert_history(&self, tx: &rusqlite::Transaction<'_>, entry: &HistoryEntry, nonce: Option<&str>) -> Result<()> {
        tx.execute(
            "INSERT INTO push_history (at, serial, nonce, decision, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![entry.at, entry.serial, nonce, entry.decision.as_str(), entry.detail],
        )?;
        if !entry.title.is_empty() || !entry.question.is_empty() {
            let id = tx.last_insert_rowid();
            let text = seal_text(&self.sealer, &[&entry.title, &entry.question], &history_text_aad(id))?;
            tx.execute("UPDATE push_history SET text_enc = ?1 WHERE id = ?2", params![text, id])?;
        }
        Ok(())
    }

    /// Marks pending requests past their lifetime as expired, logging each once.
    fn expire_requests(&self) -> Result<()> {
        let now = now();
        let any: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM push_requests WHERE state = 'pending' AND expires_at <= ?1)",
            [now],
            |r| r.get(0),
        )?;
        if !any {
            return Ok(());
        }
        let tx = self.begin_write()?;
        let expired: Vec<(i64, i64, String, String, Vec<u8>)> = tx
            .prepare(
                "SELECT r.id, r.expires_at, t.serial, r.nonce, r.text_enc
                 FROM push_requests r JOIN push_tokens t ON t.id = r.token_id
                 WHERE r.state = 'pending' AND r.expires_at <= ?1 ORDER BY r.expires_at, r.id",
            )?
            .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (id, at, serial, nonce, sealed) in expired {
            // A request whose text no longer opens still expires; its entry says so.
            let (title, question) = match request_text(&self.sealer, id, &nonce, &sealed) {
                Ok([title, question, _]) => (title, question),
                Err(_) => (String::new(), String::new()),
            };
            let entry = HistoryEntry { at, serial, title, question, decision: Decision::Expired, detail: None };
            self.insert_history(&tx, &entry, Some(&nonce))?;
        }
        tx.execute(
            "UPDATE push_requests SET state = 'expired', decided_at = expires_at
             WHERE state = 'pending' AND expires_at <= ?1",
            [now],
        )?;
        prune_history(&tx, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Requests waiting for an answer, oldest first (expired ones are moved to the history).
    pub fn pending_push_requests(&self) -> Result<Vec<PushRequest>> {
        self.expire_requests()?;
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM push_requests r JOIN push_tokens t ON t.id = r.token_id
             WHERE r.state = 'pending' ORDER BY r.received_at, r.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([])?;
        let mut requests = Vec::new();
        while let Some(row) = rows.next()? {
            requests.push(request_from_row(&self.sealer, row)?);
        }
        Ok(requests)
    }

    /// One request, in whatever state.
    pub fn push_request(&self, id: i64) -> Result<PushRequest> {
        self.expire_requests()?;
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM push_requests r JOIN push_tokens t ON t.id = r.token_id WHERE r.id = ?1"
        );
        self.conn
            .query_row(&sql, [id], |row| Ok(request_from_row(&self.sealer, row)))
            .optional()?
            .ok_or(Error::NoSuchRequest(id))?
    }

    /// Claims a pending request for an answer (`decision` Approved or Denied), so that it is
    /// answered at most once even when two callers race. Returns the request and its nonce;
    /// fails for answered or expired requests.
    pub fn claim_push_request(&self, id: i64, decision: Decision) -> Result<(PushRequest, String)> {
        let request = self.push_request(id)?;
        match request.state {
            domain::RequestState::Pending => {}
            domain::RequestState::Expired => return Err(Error::Expired),
            domain::RequestState::Approved | domain::RequestState::Denied => return Err(Error::AlreadyAnswered),
        }
        let state = match decision {
            Decision::Approved => domain::RequestState::Approved,
            _ => domain::RequestState::Denied,
        };
        let tx = self.begin_write()?;
        let claimed = tx.execute(
            "UPDATE push_requests SET state = ?1, decided_at = ?2 WHERE id = ?3 AND state = 'pending' AND expires_at > ?2",
            params![state.as_str(), now(), id],
        )?;
        let nonce: String = tx.query_row("SELECT nonce FROM push_requests WHERE id = ?1", [id], |r| r.get(0))?;
        tx.commit()?;
        if claimed == 0 {
            return Err(Error::AlreadyAnswered);
        }
        Ok((request, nonce))
    }

    /// Gives a claimed request back (the answer could not be delivered, or a number was wrong).
    pub fn release_push_request(&self, id: i64) -> Result<()> {
        let tx = self.begin_write()?;
        tx.execute("UPDATE push_requests SET state = 'pending', decided_at = NULL WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// The decision log, newest first, at most `limit` entries.
    pub fn push_history(&self, limit: u32) -> Result<Vec<HistoryEntry>> {
        self.expire_requests()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, at, serial, text_enc, decision, detail FROM push_history ORDER BY at DESC, id DESC LIMIT ?1",
        )?;
        let mut rows = stmt.query([limit])?;
        let mut entries = Vec::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let decision: String = r.get(4)?;
            let sealed: Vec<u8> = r.get(3)?;
            // A rejected request's entry has no text at all (nothing of a forger's is stored).
            let [title, question] = if sealed.is_empty() {
                Default::default()
            } else {
                open_text(&self.sealer, &sealed, &history_text_aad(id), &format!("push history entry {id}"))?
            };
            entries.push(HistoryEntry {
                at: r.get(1)?,
                serial: r.get(2)?,
                title,
                question,
                decision: decision.parse()?,
                detail: r.get(5)?,
            });
        }
        Ok(entries)
    }
}

/// Migration 5: seals every push token's issuer, label and URL, every request's title, question
/// and choices, and every history entry's title and question, and blanks their plaintext columns.
pub(super) fn seal_push_text_v5(tx: &rusqlite::Transaction<'_>, sealer: &Sealer) -> Result<()> {
    let tokens: Vec<(i64, String, String, String, String)> = tx
        .prepare("SELECT id, serial, issuer, label, url FROM push_tokens")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, serial, issuer, label, url) in tokens {
        let text = seal_text(sealer, &[&issuer, &label, &url], &token_text_aad(id, &serial))?;
        tx.execute(
            "UPDATE push_tokens SET text_enc = ?1, issuer = '', label = '', url = '' WHERE id = ?2",
            params![text, id],
        )?;
    }
    let requests: Vec<(i64, String, String, String, Option<String>)> = tx
        .prepare("SELECT id, nonce, title, question, choices FROM push_requests")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, nonce, title, question, choices) in requests {
        let text = seal_text(sealer, &[&title, &question, &choices.unwrap_or_default()], &request_text_aad(&nonce))?;
        tx.execute(
            "UPDATE push_requests SET text_enc = ?1, title = '', question = '', choices = NULL WHERE id = ?2",
            params![text, id],
        )?;
    }
    let history: Vec<(i64, String, String)> = tx
        .prepare("SELECT id, title, question FROM push_history")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, title, question) in history {
        let text = seal_text(sealer, &[&title, &question], &history_text_aad(id))?;
        tx.execute(
            "UPDATE push_history SET text_enc = ?1, title = '', question = '' WHERE id = ?2",
            params![text, id],
        )?;
    }
    Ok(())
}
