//! Push tokens, requests and history in the vault (tables described in `schema.rs`).

use std::num::NonZeroU32;

use rusqlite::{OptionalExtension, Row, params};

use super::crypto::{DataKey, Sealer};
use super::{Vault, now};
use crate::account::clean_text;
use crate::error::{Error, Result};
use crate::push::challenge::{Capabilities, Challenge};
use crate::push::enrollment::Enrollment;
use crate::push::keys::{DeviceKey, ServerKey};
use crate::push::{Decision, HistoryEntry, PushRequest, PushToken, RequestState};

/// PBKDF2-HMAC-SHA256 iterations for new PINs (OWASP 2023 guidance for SHA-256).
pub const PIN_ITERATIONS: u32 = 600_000;
/// Wrong PINs in a row before lockouts begin.
pub const PIN_ATTEMPTS: u32 = 5;
/// Lockout after the 5th, 6th, … wrong PIN in a row, in seconds; the last repeats.
const LOCKOUTS: [u64; 5] = [30, 60, 300, 900, 3600];
/// How long a push request can be answered after it arrives, in seconds.
pub const REQUEST_LIFETIME: i64 = 120;

const TOKEN_COLUMNS: &str = "id, serial, issuer, label, url, sslverify, allow_insecure_tls, pin_salt IS NOT NULL,
     pin_required_by_server, created_at";
const REQUEST_COLUMNS: &str = "r.id, r.token_id, t.serial, t.issuer, t.label, r.title, r.question, r.choices,
     r.decline_reasons, r.received_at, r.expires_at, r.state, t.pin_salt IS NOT NULL";

/// Everything needed to talk to the server for one token, without its private key.
#[derive(Debug, Clone)]
pub(crate) struct TokenEndpoint {
    pub token: PushToken,
    pub server_key: ServerKey,
}

/// A request claimed for answering: no other caller can answer it until it is released.
#[derive(Debug)]
pub(crate) struct Claim {
    pub request: PushRequest,
    pub nonce: String,
    pub endpoint: TokenEndpoint,
}

/// The key columns of a push token.
struct KeyRow {
    sealed: Vec<u8>,
    salt: Option<Vec<u8>>,
    iterations: Option<u32>,
    failed: u32,
    locked_until: Option<i64>,
}

fn private_key_aad(id: i64) -> Vec<u8> {
    format!("push_tokens.private_key_enc:{id}").into_bytes()
}

fn pin_aad(id: i64) -> Vec<u8> {
    format!("push_tokens.pin:{id}").into_bytes()
}

fn pin_sealer(pin: &str, salt: &[u8], iterations: u32) -> Result<Sealer> {
    let iterations = NonZeroU32::new(iterations).ok_or_else(|| Error::Corrupt("PIN iterations are zero".into()))?;
    Ok(Sealer::new(&DataKey::from_passphrase(pin, salt, iterations)))
}

fn check_pin_format(pin: &str) -> Result<()> {
    if pin.chars().count() < 4 {
        return Err(Error::InvalidEnrollment("a PIN needs at least 4 characters".into()));
    }
    Ok(())
}

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<PushToken> {
    Ok(PushToken {
        id: row.get(0)?,
        serial: row.get(1)?,
        issuer: row.get(2)?,
        label: row.get(3)?,
        url: row.get(4)?,
        sslverify: row.get(5)?,
        allow_insecure_tls: row.get(6)?,
        has_pin: row.get(7)?,
        pin_required_by_server: row.get(8)?,
        created_at: row.get(9)?,
    })
}

fn request_from_row(row: &Row<'_>) -> rusqlite::Result<PushRequest> {
    let choices: Option<String> = row.get(7)?;
    let state: String = row.get(11)?;
    Ok(PushRequest {
        id: row.get(0)?,
        token_id: row.get(1)?,
        serial: row.get(2)?,
        issuer: row.get(3)?,
        label: row.get(4)?,
        title: row.get(5)?,
        question: row.get(6)?,
        choices: choices.map(|c| c.split(',').map(str::to_owned).collect()),
        decline_reasons: row.get(8)?,
        received_at: row.get(9)?,
        expires_at: row.get(10)?,
        state: match state.as_str() {
            "approved" => RequestState::Approved,
            "denied" => RequestState::Denied,
            "expired" => RequestState::Expired,
            _ => RequestState::Pending,
        },
        requires_pin: row.get(12)?,
    })
}

impl Vault {
    /// Every enrolled push token.
    pub fn push_tokens(&self) -> Result<Vec<PushToken>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM push_tokens ORDER BY sort_order, id");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let tokens = stmt.query_map([], token_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(tokens)
    }

    /// One push token.
    pub fn push_token(&self, id: i64) -> Result<PushToken> {
        Ok(self.endpoint(id)?.token)
    }

    pub(crate) fn endpoint(&self, id: i64) -> Result<TokenEndpoint> {
        let sql = format!("SELECT {TOKEN_COLUMNS}, server_key FROM push_tokens WHERE id = ?1");
        let row = self
            .conn
            .query_row(&sql, [id], |row| Ok((token_from_row(row)?, row.get::<_, Vec<u8>>(10)?)))
            .optional()?
            .ok_or(Error::NoSuchToken(id))?;
        Ok(TokenEndpoint { token: row.0, server_key: ServerKey::from_der(row.1)? })
    }

    pub(crate) fn endpoint_by_serial(&self, serial: &str) -> Result<Option<TokenEndpoint>> {
        let id: Option<i64> =
            self.conn.query_row("SELECT id FROM push_tokens WHERE serial = ?1", [serial], |r| r.get(0)).optional()?;
        id.map(|id| self.endpoint(id)).transpose()
    }

    /// Stores a token after the server accepted its registration. With `pin`, the private key
    /// is sealed under the PIN as well.
    pub(crate) fn insert_push_token(
        &self,
        enrollment: &Enrollment,
        server_key: &ServerKey,
        pkcs8: &[u8],
        pin: Option<&str>,
        allow_insecure_tls: bool,
        fb_token: Option<&str>,
    ) -> Result<PushToken> {
        if enrollment.requires_pin && pin.is_none() {
            return Err(Error::PinRequired);
        }
        if let Some(pin) = pin {
            check_pin_format(pin)?;
        }
        let pin_salt = pin.map(|_| DataKey::random_salt()).transpose()?;
        let tx = self.begin_write()?;
        let now = now();
        let inserted = tx.execute(
            "INSERT INTO push_tokens (serial, issuer, label, url, sslverify, allow_insecure_tls, server_key,
                 private_key_enc, pin_salt, pin_iterations, pin_required_by_server, fb_token, sort_order,
                 created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, x'', ?8, ?9, ?10, ?11,
                 (SELECT IFNULL(MAX(sort_order), -1) + 1 FROM push_tokens), ?12, ?12)",
            params![
                enrollment.serial,
                clean_text(&enrollment.issuer),
                clean_text(&enrollment.label),
                enrollment.url,
                enrollment.sslverify,
                allow_insecure_tls,
                server_key.der(),
                pin_salt.as_ref().map(|s| s.to_vec()),
                pin.map(|_| PIN_ITERATIONS),
                enrollment.requires_pin,
                fb_token,
                now
            ],
        );
        match inserted {
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                return Err(Error::AlreadyEnrolled(enrollment.serial.clone()));
            }
            other => other?,
        };
        let id = tx.last_insert_rowid();
        let sealed = self.seal_private_key(id, pkcs8, pin.zip(pin_salt.as_ref().map(|s| &s[..])))?;
        tx.execute("UPDATE push_tokens SET private_key_enc = ?1 WHERE id = ?2", params![sealed, id])?;
        tx.commit()?;
        self.push_token(id)
    }

    fn seal_private_key(&self, id: i64, pkcs8: &[u8], pin: Option<(&str, &[u8])>) -> Result<Vec<u8>> {
        match pin {
            None => self.sealer.seal(pkcs8, &private_key_aad(id)),
            Some((pin, salt)) => {
                let inner = pin_sealer(pin, salt, PIN_ITERATIONS)?.seal(pkcs8, &pin_aad(id))?;
                self.sealer.seal(&inner, &private_key_aad(id))
            }
        }
    }

    /// The token's private key, ready to sign. A PIN-locked token needs its PIN: wrong PINs are
    /// counted (before the check, so killing the app mid-check does not earn a free try) and
    /// lead to growing lockouts that survive restarts.
    pub(crate) fn device_key(&self, id: i64, pin: Option<&str>) -> Result<DeviceKey> {
        DeviceKey::from_pkcs8(&self.private_key(id, pin)?)
    }

    fn private_key(&self, id: i64, pin: Option<&str>) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let row = self
            .conn
            .query_row(
                "SELECT private_key_enc, pin_salt, pin_iterations, failed_pin_attempts, locked_until
                 FROM push_tokens WHERE id = ?1",
                [id],
                |r| {
                    Ok(KeyRow {
                        sealed: r.get(0)?,
                        salt: r.get(1)?,
                        iterations: r.get(2)?,
                        failed: r.get(3)?,
                        locked_until: r.get(4)?,
                    })
                },
            )
            .optional()?
            .ok_or(Error::NoSuchToken(id))?;
        let KeyRow { sealed, salt, iterations, failed, locked_until } = row;
        let outer = self
            .sealer
            .open(&sealed, &private_key_aad(id))
            .ok_or_else(|| Error::Corrupt(format!("the key of push token {id} does not decrypt")))?;
        let (Some(salt), Some(iterations)) = (salt, iterations) else { return Ok(outer) };
        let pin = pin.ok_or(Error::PinRequired)?;
        let now = now();
        if let Some(until) = locked_until.filter(|until| *until > now) {
            return Err(Error::LockedOut { retry_after_seconds: (until - now) as u64 });
        }
        // Count the attempt first; a right PIN resets the count below.
        let failed = failed + 1;
        let lockout =
            (failed >= PIN_ATTEMPTS).then(|| LOCKOUTS[((failed - PIN_ATTEMPTS) as usize).min(LOCKOUTS.len() - 1)]);
        let tx = self.begin_write()?;
        tx.execute(
            "UPDATE push_tokens SET failed_pin_attempts = ?1, locked_until = ?2 WHERE id = ?3",
            params![failed, lockout.map(|l| now + l as i64), id],
        )?;
        tx.commit()?;
        match pin_sealer(pin, &salt, iterations)?.open(&outer, &pin_aad(id)) {
            Some(pkcs8) => {
                let tx = self.begin_write()?;
                tx.execute("UPDATE push_tokens SET failed_pin_attempts = 0, locked_until = NULL WHERE id = ?1", [id])?;
                tx.commit()?;
                Ok(pkcs8)
            }
            None => match lockout {
                Some(seconds) => Err(Error::LockedOut { retry_after_seconds: seconds }),
                None => Err(Error::WrongPin { attempts_left: PIN_ATTEMPTS - failed }),
            },
        }
    }

    /// Sets, changes or removes a token's PIN. `current` must be the PIN in force (if any);
    /// `new` None removes the PIN, which a token whose server demands one refuses.
    pub fn set_push_pin(&self, id: i64, current: Option<&str>, new: Option<&str>) -> Result<()> {
        let token = self.push_token(id)?;
        if new.is_none() && token.pin_required_by_server {
            return Err(Error::PinRequired);
        }
        if let Some(new) = new {
            check_pin_format(new)?;
        }
        let pkcs8 = self.private_key(id, current)?;
        let salt = new.map(|_| DataKey::random_salt()).transpose()?;
        let sealed = self.seal_private_key(id, &pkcs8, new.zip(salt.as_ref().map(|s| &s[..])))?;
        let tx = self.begin_write()?;
        tx.execute(
            "UPDATE push_tokens SET private_key_enc = ?1, pin_salt = ?2, pin_iterations = ?3,
                 failed_pin_attempts = 0, locked_until = NULL, updated_at = ?4 WHERE id = ?5",
            params![sealed, salt.map(|s| s.to_vec()), new.map(|_| PIN_ITERATIONS), now(), id],
        )?;
        tx.commit()?;
        Ok(())
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
    pub(crate) fn set_fb_token(&self, id: i64, fb_token: &str) -> Result<()> {
        let tx = self.begin_write()?;
        tx.execute(
            "UPDATE push_tokens SET fb_token = ?1, updated_at = ?2 WHERE id = ?3",
            params![fb_token, now(), id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Stores a verified challenge as a pending request. Returns None for a nonce seen before
    /// (the server repeats open challenges on every poll; replays are never shown again).
    pub(crate) fn record_challenge(
        &self,
        token_id: i64,
        challenge: &Challenge,
        capabilities: Capabilities,
    ) -> Result<Option<PushRequest>> {
        let tx = self.begin_write()?;
        let now = now();
        let inserted = tx.execute(
            "INSERT INTO push_requests (nonce, token_id, title, question, choices, decline_reasons, received_at,
                 expires_at, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending')
             ON CONFLICT (nonce) DO NOTHING",
            params![
                challenge.nonce,
                token_id,
                clean_text(&challenge.title),
                clean_text(&challenge.question),
                challenge.choices().map(|c| c.join(",")),
                capabilities.decline_reason,
                now,
                now + REQUEST_LIFETIME
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        if inserted == 0 {
            return Ok(None);
        }
        self.push_request(id).map(Some)
    }

    /// Logs a request that failed verification; it never reaches the user.
    pub(crate) fn record_rejected(&self, challenge: Option<&Challenge>, serial: &str, reason: &str) -> Result<()> {
        let tx = self.begin_write()?;
        tx.execute(
            "INSERT INTO push_history (at, serial, nonce, title, question, decision, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, 'rejected', ?6)",
            params![
                now(),
                serial,
                challenge.map(|c| c.nonce.as_str()),
                challenge.map(|c| clean_text(&c.title)).unwrap_or_default(),
                challenge.map(|c| clean_text(&c.question)).unwrap_or_default(),
                reason
            ],
        )?;
        tx.commit()?;
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
        tx.execute(
            "INSERT INTO push_history (at, serial, nonce, title, question, decision)
             SELECT r.expires_at, t.serial, r.nonce, r.title, r.question, 'expired'
             FROM push_requests r JOIN push_tokens t ON t.id = r.token_id
             WHERE r.state = 'pending' AND r.expires_at <= ?1",
            [now],
        )?;
        tx.execute(
            "UPDATE push_requests SET state = 'expired', decided_at = expires_at
             WHERE state = 'pending' AND expires_at <= ?1",
            [now],
        )?;
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
        let requests = stmt.query_map([], request_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(requests)
    }

    /// One request, in whatever state.
    pub fn push_request(&self, id: i64) -> Result<PushRequest> {
        self.expire_requests()?;
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM push_requests r JOIN push_tokens t ON t.id = r.token_id WHERE r.id = ?1"
        );
        self.conn.query_row(&sql, [id], request_from_row).optional()?.ok_or(Error::NoSuchRequest(id))
    }

    /// Claims a pending request for an answer, so that it is answered at most once even when two
    /// callers race. Fails for answered or expired requests.
    pub(crate) fn claim_request(&self, id: i64, decision: Decision) -> Result<Claim> {
        let request = self.push_request(id)?;
        match request.state {
            RequestState::Pending => {}
            RequestState::Expired => return Err(Error::Expired),
            RequestState::Approved | RequestState::Denied => return Err(Error::AlreadyAnswered),
        }
        let state = match decision {
            Decision::Approved => "approved",
            _ => "denied",
        };
        let tx = self.begin_write()?;
        let claimed = tx.execute(
            "UPDATE push_requests SET state = ?1, decided_at = ?2 WHERE id = ?3 AND state = 'pending' AND expires_at > ?2",
            params![state, now(), id],
        )?;
        let nonce: String = tx.query_row("SELECT nonce FROM push_requests WHERE id = ?1", [id], |r| r.get(0))?;
        tx.commit()?;
        if claimed == 0 {
            return Err(Error::AlreadyAnswered);
        }
        let endpoint = self.endpoint(request.token_id)?;
        Ok(Claim { request, nonce, endpoint })
    }

    /// Gives a claimed request back (the answer could not be delivered, or a number was wrong).
    pub(crate) fn release_request(&self, id: i64) -> Result<()> {
        let tx = self.begin_write()?;
        tx.execute("UPDATE push_requests SET state = 'pending', decided_at = NULL WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// Logs the decision of a claimed request once the server took it.
    pub(crate) fn log_decision(&self, claim: &Claim, decision: Decision, detail: Option<&str>) -> Result<()> {
        let tx = self.begin_write()?;
        tx.execute(
            "INSERT INTO push_history (at, serial, nonce, title, question, decision, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                now(),
                claim.request.serial,
                claim.nonce,
                claim.request.title,
                claim.request.question,
                decision.as_str(),
                detail
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The decision log, newest first, at most `limit` entries.
    pub fn push_history(&self, limit: u32) -> Result<Vec<HistoryEntry>> {
        self.expire_requests()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, serial, title, question, decision, detail FROM push_history ORDER BY at DESC, id DESC LIMIT ?1",
        )?;
        let entries = stmt
            .query_map([limit], |r| {
                let decision: String = r.get(4)?;
                Ok(HistoryEntry {
                    at: r.get(0)?,
                    serial: r.get(1)?,
                    title: r.get(2)?,
                    question: r.get(3)?,
                    decision: match decision.as_str() {
                        "approved" => Decision::Approved,
                        "denied" => Decision::Denied,
                        "expired" => Decision::Expired,
                        _ => Decision::Rejected,
                    },
                    detail: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(entries)
    }
}
