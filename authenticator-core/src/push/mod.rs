//! Push approvals over privacyIDEA's push-token protocol.
//!
//! The phone enrolls with a device key, receives challenges by polling (or as a Firebase/APNs
//! payload holding the same dictionary), verifies each one, and answers with a signature.
//! Beyond the protocol: every challenge must be signed by the enrolled server *and* name the
//! enrolled serial and URL, or it is dropped and logged as rejected; a nonce is answered at most
//! once; requests expire after 120 s; number matching; deny with a reason; an optional PIN that
//! seals the device key.
//!
//! Async functions never hold the vault across an await: they take what they need, talk to the
//! server, and write the outcome back, so a UI thread can use the vault meanwhile.

pub mod challenge;
pub mod client;
pub mod enrollment;
pub mod keys;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::vault::Vault;
use challenge::Challenge;
pub use client::PushClient;
use keys::{DEVICE_KEY_BITS, DeviceKey};

/// A push token enrolled on this device, as a UI shows it. Holds no key.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PushToken {
    pub id: i64,
    pub serial: String,
    pub issuer: String,
    pub label: String,
    /// The server endpoint (`…/ttype/push`).
    pub url: String,
    /// The server asked for certificate verification.
    pub sslverify: bool,
    /// The user opted in to skip certificate verification when the server says `sslverify=0`.
    pub allow_insecure_tls: bool,
    /// Answering needs the PIN.
    pub has_pin: bool,
    /// The server demanded a PIN; it can be changed, not removed.
    pub pin_required_by_server: bool,
    /// Unix seconds.
    pub created_at: i64,
}

impl PushToken {
    /// Whether TLS certificates are checked for this token.
    pub fn verify_tls(&self) -> bool {
        self.sslverify || !self.allow_insecure_tls
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RequestState {
    Pending,
    Approved,
    Denied,
    Expired,
}

/// A sign-in request to approve or deny.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PushRequest {
    /// Short id for answering.
    pub id: i64,
    pub token_id: i64,
    pub serial: String,
    pub issuer: String,
    pub label: String,
    /// What the server calls the sign-in ("privacyIDEA").
    pub title: String,
    /// The question shown ("Do you want to confirm the login?").
    pub question: String,
    /// Number matching: pick the number shown on the sign-in screen.
    pub choices: Option<Vec<String>>,
    /// A denial may say why (`unknown_trigger`, `cancelled`).
    pub decline_reasons: bool,
    /// Unix seconds.
    pub received_at: i64,
    /// Unix seconds; not answerable afterwards.
    pub expires_at: i64,
    pub state: RequestState,
    /// Answering needs the token's PIN.
    pub requires_pin: bool,
}

/// What happened to a request, for the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Decision {
    Approved,
    Denied,
    Expired,
    /// Failed verification (forged, tampered, or for another token); never shown as a request.
    Rejected,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Denied => "denied",
            Decision::Expired => "expired",
            Decision::Rejected => "rejected",
        }
    }
}

/// One line of the decision history.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HistoryEntry {
    /// Unix seconds.
    pub at: i64,
    pub serial: String,
    pub title: String,
    pub question: String,
    pub decision: Decision,
    /// A denial's reason, or why a request was rejected.
    pub detail: Option<String>,
}

/// Why a sign-in is denied, when the server accepts reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeclineReason {
    /// "I did not try to sign in": possibly an attack.
    UnknownTrigger,
    /// "I started it but changed my mind."
    Cancelled,
}

impl DeclineReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::UnknownTrigger => "unknown_trigger",
            DeclineReason::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for DeclineReason {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "unknown_trigger" | "unknown" => Ok(DeclineReason::UnknownTrigger),
            "cancelled" | "canceled" | "cancel" => Ok(DeclineReason::Cancelled),
            _ => Err(Error::Protocol(format!("unknown decline reason '{}'", crate::otp::truncated(s)))),
        }
    }
}

/// Options for [`enroll`].
#[derive(Debug, Clone, Default)]
pub struct EnrollOptions {
    /// Lock the token behind this PIN (required when the enrollment URI demands one).
    pub pin: Option<String>,
    /// Firebase/APNs token; None registers for polling only.
    pub fb_token: Option<String>,
    /// Honour the server's `sslverify=0` (skip certificate checks) for this token.
    pub allow_insecure_tls: bool,
    /// RSA key size; [`DEVICE_KEY_BITS`] unless set (tests use smaller keys for speed).
    pub key_bits: Option<usize>,
}

/// What one poll found.
#[derive(Debug, Default)]
pub struct PollReport {
    /// Requests that arrived and verified.
    pub new_requests: Vec<PushRequest>,
    /// Challenges that failed verification and were dropped (also in the history).
    pub rejected: Vec<String>,
    /// Tokens that could not be polled, with why (offline, server error, PIN needed).
    pub failures: Vec<(String, Error)>,
}

/// Gives async code short, scoped access to the vault, so it is never held across an await.
pub trait VaultAccess {
    fn with_vault<R>(&self, f: impl FnOnce(&Vault) -> R) -> R;
}

impl VaultAccess for Vault {
    fn with_vault<R>(&self, f: impl FnOnce(&Vault) -> R) -> R {
        f(self)
    }
}

impl VaultAccess for Mutex<Vault> {
    fn with_vault<R>(&self, f: impl FnOnce(&Vault) -> R) -> R {
        // A panic elsewhere while holding the lock does not corrupt SQLite: keep going.
        f(&self.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

/// Enrolls a token from an `otpauth://pipush/…` or `pia://…` URI: generates the device key,
/// registers it with the server and stores the token.
pub async fn enroll(
    vault: &impl VaultAccess,
    client: &PushClient,
    uri: &str,
    options: EnrollOptions,
) -> Result<PushToken> {
    let enrollment = enrollment::parse(uri)?;
    client::check_url(&enrollment.url)?;
    if enrollment.requires_pin && options.pin.is_none() {
        return Err(Error::PinRequired);
    }
    if vault.with_vault(|v| v.endpoint_by_serial(&enrollment.serial))?.is_some() {
        return Err(Error::AlreadyEnrolled(enrollment.serial.clone()));
    }
    let bits = options.key_bits.unwrap_or(DEVICE_KEY_BITS);
    let key = tokio::task::spawn_blocking(move || keys::generate_device_key(bits))
        .await
        .map_err(|_| Error::Crypto("key generation was interrupted"))??;
    use base64::Engine;
    let pubkey = base64::engine::general_purpose::STANDARD.encode(&key.spki);
    let fb_token = options.fb_token.as_deref().unwrap_or("no_firebase_token");
    let verify_tls = enrollment.sslverify || !options.allow_insecure_tls;
    let reply = client
        .post(
            &enrollment.url,
            &[
                ("enrollment_credential", enrollment.enrollment_credential.as_str()),
                ("serial", &enrollment.serial),
                ("fbtoken", fb_token),
                ("pubkey", &pubkey),
            ],
            verify_tls,
        )
        .await?;
    let server_key = reply.detail["public_key"]
        .as_str()
        .ok_or_else(|| Error::Protocol("the registration reply has no public_key".into()))?;
    let server_key = keys::ServerKey::from_base64(server_key)?;
    vault.with_vault(|v| {
        v.insert_push_token(
            &enrollment,
            &server_key,
            &key.pkcs8,
            options.pin.as_deref(),
            options.allow_insecure_tls,
            options.fb_token.as_deref(),
        )
    })
}

/// Verifies a challenge dictionary and stores it as a request. Anything that fails
/// verification is logged as rejected and returned as [`Error::ForgedRequest`]; a nonce seen
/// before returns None.
fn receive(vault: &Vault, map: &BTreeMap<String, Value>, polled_serial: Option<&str>) -> Result<Option<PushRequest>> {
    let serial_hint = map.get("serial").and_then(Value::as_str).unwrap_or("?").chars().take(64).collect::<String>();
    let reject = |challenge: Option<&Challenge>, serial: &str, reason: &str| -> Error {
        // Logging must not hide the verdict: the request is dropped either way.
        let _ = vault.record_rejected(challenge, serial, reason);
        Error::ForgedRequest(reason.to_owned())
    };
    let challenge = match Challenge::from_map(map) {
        Ok(c) => c,
        Err(e) => return Err(reject(None, &serial_hint, &e.to_string())),
    };
    if polled_serial.is_some_and(|s| s != challenge.serial) {
        return Err(reject(Some(&challenge), &challenge.serial, "a challenge for another token came with this poll"));
    }
    let Some(endpoint) = vault.endpoint_by_serial(&challenge.serial)? else {
        return Err(reject(Some(&challenge), &challenge.serial, "no token with this serial is enrolled"));
    };
    if challenge.url != endpoint.token.url {
        return Err(reject(Some(&challenge), &challenge.serial, "the URL does not match the enrolled token"));
    }
    if !challenge.signature_valid(&endpoint.server_key) {
        return Err(reject(Some(&challenge), &challenge.serial, "the server signature is invalid"));
    }
    let capabilities = match challenge.verified_capabilities(&endpoint.server_key) {
        Ok(c) => c,
        Err(e) => return Err(reject(Some(&challenge), &challenge.serial, &e.to_string())),
    };
    vault.record_challenge(endpoint.token.id, &challenge, capabilities)
}

/// Handles a challenge a shell received from Firebase/APNs (the data payload's key/values).
/// Returns the request to show, or None when this nonce was already received.
pub fn handle_push_payload(
    vault: &impl VaultAccess,
    payload: &BTreeMap<String, String>,
) -> Result<Option<PushRequest>> {
    let map: BTreeMap<String, Value> = payload.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    vault.with_vault(|v| receive(v, &map, None))
}

/// Polls every push token for open challenges (with retries on network errors). PIN-locked
/// tokens are polled only when their PIN is in `pins` (token id → PIN): the poll request is
/// signed with the device key, which the PIN seals.
pub async fn poll(vault: &impl VaultAccess, client: &PushClient, pins: &BTreeMap<i64, String>) -> Result<PollReport> {
    let tokens = vault.with_vault(|v| v.push_tokens())?;
    let mut report = PollReport::default();
    for token in tokens {
        let pin = pins.get(&token.id).map(String::as_str);
        match poll_token(vault, client, &token, pin, &mut report).await {
            Ok(()) => {}
            Err(e) => report.failures.push((token.serial.clone(), e)),
        }
    }
    Ok(report)
}

const POLL_ATTEMPTS: u32 = 3;

async fn poll_token(
    vault: &impl VaultAccess,
    client: &PushClient,
    token: &PushToken,
    pin: Option<&str>,
    report: &mut PollReport,
) -> Result<()> {
    let key = vault.with_vault(|v| v.device_key(token.id, pin))?;
    let mut attempt = 0;
    let reply = loop {
        // Sign afresh for every attempt: the server accepts timestamps within a minute.
        let timestamp = iso8601_utc(now());
        let signature = key.sign(&format!("{}|{timestamp}", token.serial))?;
        let query = [("serial", token.serial.as_str()), ("timestamp", &timestamp), ("signature", &signature)];
        match client.get(&token.url, &query, token.verify_tls()).await {
            Err(Error::Network(_)) if attempt + 1 < POLL_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
            }
            other => break other?,
        }
    };
    let Value::Array(items) = reply.value else {
        return Err(Error::Protocol("the poll reply is not a list of challenges".into()));
    };
    for item in items {
        let Value::Object(object) = item else {
            report.rejected.push("a poll item that is not a challenge".into());
            continue;
        };
        let map: BTreeMap<String, Value> = object.into_iter().collect();
        match vault.with_vault(|v| receive(v, &map, Some(&token.serial))) {
            Ok(Some(request)) => report.new_requests.push(request),
            Ok(None) => {}
            Err(Error::ForgedRequest(reason)) => report.rejected.push(reason),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Approves a request. With number matching, `answer` must be one of its choices; a pick the
/// server refuses returns [`Error::WrongAnswer`] and the request stays answerable.
pub async fn approve(
    vault: &impl VaultAccess,
    client: &PushClient,
    request_id: i64,
    answer: Option<&str>,
    pin: Option<&str>,
) -> Result<()> {
    let request = vault.with_vault(|v| v.push_request(request_id))?;
    let answer = match (&request.choices, answer) {
        (Some(choices), Some(answer)) if choices.iter().any(|c| c == answer.trim()) => Some(answer.trim()),
        (Some(_), Some(answer)) => return Err(Error::NotAChoice(crate::otp::truncated(answer))),
        (Some(_), None) => return Err(Error::NotAChoice(String::new())),
        (None, _) => None,
    };
    answer_request(vault, client, request_id, Decision::Approved, pin, None, |nonce, serial| match answer {
        Some(answer) => (format!("{nonce}|{serial}|{answer}"), vec![("presence_answer".to_owned(), answer.to_owned())]),
        None => (format!("{nonce}|{serial}"), vec![]),
    })
    .await
}

/// Denies a request, with a reason when the server accepts one (otherwise the reason is only
/// kept in the local history).
pub async fn deny(
    vault: &impl VaultAccess,
    client: &PushClient,
    request_id: i64,
    reason: Option<DeclineReason>,
    pin: Option<&str>,
) -> Result<()> {
    let request = vault.with_vault(|v| v.push_request(request_id))?;
    let sent_reason = reason.filter(|_| request.decline_reasons);
    let detail = reason.map(|r| r.as_str().to_owned());
    answer_request(vault, client, request_id, Decision::Denied, pin, detail, |nonce, serial| {
        let mut extra = vec![("decline".to_owned(), "1".to_owned())];
        let text = match sent_reason {
            Some(reason) => {
                extra.push(("decline_reason".to_owned(), reason.as_str().to_owned()));
                format!("{nonce}|{serial}|decline|{}", reason.as_str())
            }
            None => format!("{nonce}|{serial}|decline"),
        };
        (text, extra)
    })
    .await
}

async fn answer_request(
    vault: &impl VaultAccess,
    client: &PushClient,
    request_id: i64,
    decision: Decision,
    pin: Option<&str>,
    detail: Option<String>,
    message: impl FnOnce(&str, &str) -> (String, Vec<(String, String)>),
) -> Result<()> {
    // Unlock first: a wrong PIN must not consume the request.
    let token_id = vault.with_vault(|v| v.push_request(request_id))?.token_id;
    let key: DeviceKey = vault.with_vault(|v| v.device_key(token_id, pin))?;
    let claim = vault.with_vault(|v| v.claim_request(request_id, decision))?;
    let serial = claim.endpoint.token.serial.clone();
    let (text, extra) = message(&claim.nonce, &serial);
    let outcome = async {
        let signature = key.sign(&text)?;
        let mut form: Vec<(&str, &str)> =
            vec![("serial", serial.as_str()), ("nonce", claim.nonce.as_str()), ("signature", signature.as_str())];
        form.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let reply = client.post(&claim.endpoint.token.url, &form, claim.endpoint.token.verify_tls()).await?;
        match reply.value {
            Value::Bool(true) => Ok(()),
            _ if extra.iter().any(|(k, _)| k == "presence_answer") => Err(Error::WrongAnswer),
            _ => Err(Error::ServerRejected { message: "the server did not accept the answer".into() }),
        }
    }
    .await;
    match outcome {
        Ok(()) => vault.with_vault(|v| v.log_decision(&claim, decision, detail.as_deref())),
        Err(e) => {
            // Not delivered (offline, server error, wrong number): the request stays answerable.
            vault.with_vault(|v| v.release_request(request_id))?;
            Err(e)
        }
    }
}

/// Registers a new Firebase/APNs token with the server for one push token.
pub async fn update_fb_token(
    vault: &impl VaultAccess,
    client: &PushClient,
    token_id: i64,
    fb_token: &str,
    pin: Option<&str>,
) -> Result<()> {
    let endpoint = vault.with_vault(|v| v.endpoint(token_id))?;
    let key = vault.with_vault(|v| v.device_key(token_id, pin))?;
    let timestamp = iso8601_utc(now());
    let serial = endpoint.token.serial.as_str();
    let signature = key.sign(&format!("{fb_token}|{serial}|{timestamp}"))?;
    client
        .post(
            &endpoint.token.url,
            &[("serial", serial), ("new_fb_token", fb_token), ("timestamp", &timestamp), ("signature", &signature)],
            endpoint.token.verify_tls(),
        )
        .await?;
    vault.with_vault(|v| v.set_fb_token(token_id, fb_token))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// ISO 8601 in UTC with an explicit offset, as privacyIDEA parses poll timestamps:
/// `2026-11-25T10:56:25.000000+00:00`.
pub fn iso8601_utc(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let secs = unix_seconds % 86_400;
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

#[cfg(test)]
mod tests;
