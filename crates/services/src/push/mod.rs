//! Push approvals over privacyIDEA's push-token protocol, and eduMFA's eduPUSH (the same protocol
//! v1 with P-256 device keys, without number matching or decline reasons).
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
pub mod pin;
pub mod tiqr;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};
use challenge::Challenge;
pub use domain::push::{
    Decision, DeclineReason, DeviceKeyType, HistoryEntry, NewPushRequest, NewPushToken, PinAttempt, PinKdf, PinSeal,
    PushProtocol, PushRequest, PushToken, RequestState,
};
use domain::time::{DeviceClock, iso8601_utc, now};
use keys::{DEVICE_KEY_BITS, DeviceKey, ServerKey};
use net::HttpClient;
pub use pin::{MAX_PIN_CHARS, PIN_ATTEMPTS, PIN_KDF};
use storage::vault::{Vault, VaultAccess};

/// How long a push request can be answered after it arrives, in seconds.
pub const REQUEST_LIFETIME: i64 = 120;

/// Options for [`enroll`]. `Debug` never shows the PIN.
#[derive(Clone, Default)]
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

impl std::fmt::Debug for EnrollOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollOptions")
            .field("pin", &self.pin.as_ref().map(|_| format_args!("<redacted>")))
            .field("fb_token", &self.fb_token)
            .field("allow_insecure_tls", &self.allow_insecure_tls)
            .field("key_bits", &self.key_bits)
            .finish()
    }
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

/// A token's endpoint: the token and the server key that signs its challenges.
struct Endpoint {
    token: PushToken,
    server_key: ServerKey,
}

fn endpoint(vault: &Vault, token_id: i64) -> Result<Endpoint> {
    Ok(Endpoint {
        token: vault.push_token(token_id)?,
        server_key: ServerKey::from_der(vault.push_server_key(token_id)?)?,
    })
}

/// Enrolls a token from an `otpauth://pipush/…`, `pia://…` or `edumfa-push://…` URI: generates
/// the device key (RSA for privacyIDEA, P-256 for eduPUSH), registers it with the server and
/// stores the token. A `tiqrenroll://…` code enrolls a tiqr identity ([`tiqr::enroll`]).
pub async fn enroll(
    vault: &impl VaultAccess,
    client: &HttpClient,
    uri: &str,
    options: EnrollOptions,
) -> Result<PushToken> {
    if tiqr::is_enroll_uri(uri) {
        return tiqr::enroll(vault, client, uri, &options).await;
    }
    let enrollment = enrollment::parse(uri)?;
    net::check_url(&enrollment.url)?;
    if enrollment.requires_pin && options.pin.is_none() {
        return Err(Error::PinRequired);
    }
    if let Some(pin) = &options.pin {
        pin::check_pin_format(pin)?;
    }
    if vault.with_vault(|v| v.push_token_id(&enrollment.serial))?.is_some() {
        return Err(storage::Error::AlreadyEnrolled(enrollment.serial.clone()).into());
    }
    // eduPUSH tokens get P-256 keys (instant; eduMFA verifies ECDSA); privacyIDEA's stay RSA.
    let key = match enrollment.protocol {
        PushProtocol::EduPush => keys::generate_p256_key()?,
        _ => {
            let bits = options.key_bits.unwrap_or(DEVICE_KEY_BITS);
            tokio::task::spawn_blocking(move || keys::generate_device_key(bits))
                .await
                .map_err(|_| Error::Crypto("key generation was interrupted"))??
        }
    };
    use base64::Engine;
    let pubkey = base64::engine::general_purpose::STANDARD.encode(&key.spki);
    let fb_token = options.fb_token.as_deref().unwrap_or("no_firebase_token");
    let verify_tls = enrollment.sslverify || !options.allow_insecure_tls;
    let reply = client::post(
        client,
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
    if server_key.len() > MAX_SERVER_KEY_TEXT {
        return Err(Error::Protocol("the server's public key is longer than 16 KiB".into()));
    }
    let server_key = ServerKey::from_base64(server_key)?;
    vault.with_vault(|v| store_token(v, &enrollment, &server_key, &key.pkcs8, &options))
}

/// Stores a token the server registered, its key sealed under the PIN when `options` has one.
fn store_token(
    vault: &Vault,
    enrollment: &enrollment::Enrollment,
    server_key: &ServerKey,
    pkcs8: &[u8],
    options: &EnrollOptions,
) -> Result<PushToken> {
    let seal = options.pin.as_ref().map(|_| pin::new_seal()).transpose()?;
    let new = NewPushToken {
        serial: enrollment.serial.clone(),
        issuer: enrollment.issuer.clone(),
        label: enrollment.label.clone(),
        url: enrollment.url.clone(),
        sslverify: enrollment.sslverify,
        allow_insecure_tls: options.allow_insecure_tls,
        server_key: server_key.der().to_vec(),
        pin: seal.clone(),
        pin_required_by_server: enrollment.requires_pin,
        fb_token: options.fb_token.clone(),
        protocol: enrollment.protocol,
        key_type: match enrollment.protocol {
            PushProtocol::EduPush => DeviceKeyType::P256,
            _ => DeviceKeyType::Rsa,
        },
        extra_text: Vec::new(),
    };
    let pin = options.pin.as_deref().zip(seal.as_ref());
    vault.insert_push_token(&new, |id| pin::seal_key(pkcs8, pin, id))
}

/// Verifies a challenge dictionary and stores it as a request. Anything that fails
/// verification is logged as rejected and returned as [`Error::ForgedRequest`]; a nonce seen
/// before returns None.
///
/// A rejected request leaves only the reason behind: none of its text (title, question, URL,
/// nonce) is stored, and its serial only when it names a token enrolled here, since everything
/// in it may come from an attacker.
fn receive(vault: &Vault, map: &BTreeMap<String, Value>, polled_serial: Option<&str>) -> Result<Option<PushRequest>> {
    let reject = |enrolled_serial: Option<&str>, reason: &str| -> Error {
        let entry = HistoryEntry {
            at: now(),
            serial: enrolled_serial.unwrap_or_default().to_owned(),
            title: String::new(),
            question: String::new(),
            decision: Decision::Rejected,
            detail: Some(reason.to_owned()),
        };
        // Logging must not hide the verdict: the request is dropped either way.
        let _ = vault.log_push_history(&entry, None);
        Error::ForgedRequest(reason.to_owned())
    };
    let challenge = match Challenge::from_map(map) {
        Ok(c) => c,
        Err(e) => return Err(reject(polled_serial, &e.to_string())),
    };
    if polled_serial.is_some_and(|s| s != challenge.serial) {
        return Err(reject(polled_serial, "a challenge for another token came with this poll"));
    }
    let Some(token_id) = vault.push_token_id(&challenge.serial)? else {
        return Err(reject(None, "no token with this serial is enrolled"));
    };
    let endpoint = endpoint(vault, token_id)?;
    let serial = Some(endpoint.token.serial.as_str());
    if challenge.url != endpoint.token.url {
        return Err(reject(serial, "the URL does not match the enrolled token"));
    }
    if !challenge.signature_valid(&endpoint.server_key) {
        return Err(reject(serial, "the server signature is invalid"));
    }
    let capabilities = match challenge.verified_capabilities(&endpoint.server_key) {
        Ok(c) => c,
        Err(e) => return Err(reject(serial, &e.to_string())),
    };
    let received_at = now();
    let request = NewPushRequest {
        nonce: challenge.nonce.clone(),
        title: domain::text::clean(&challenge.title),
        question: domain::text::clean(&challenge.question),
        // Only privacyIDEA's protocol has number matching and decline reasons.
        choices: challenge.choices().filter(|_| endpoint.token.offers_number_matching),
        decline_reasons: capabilities.decline_reason && endpoint.token.offers_decline_reasons,
        received_at,
        expires_at: received_at + REQUEST_LIFETIME,
    };
    Ok(vault.insert_push_request(token_id, &request)?)
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
/// signed with the device key, which the PIN seals. Each reply also measures the device clock
/// against the server's (see [`crate::clock`]).
pub async fn poll(vault: &impl VaultAccess, client: &HttpClient, pins: &BTreeMap<i64, String>) -> Result<PollReport> {
    poll_measuring(vault, client, pins, DeviceClock::system()).await
}

/// [`poll`], with the device clock reading as `device` says (tests give it a wrong time).
pub async fn poll_measuring(
    vault: &impl VaultAccess,
    client: &HttpClient,
    pins: &BTreeMap<i64, String>,
    device: DeviceClock,
) -> Result<PollReport> {
    let tokens = vault.with_vault(|v| v.push_tokens())?;
    let mut report = PollReport::default();
    // tiqr sign-ins arrive only as scanned codes.
    for token in tokens.into_iter().filter(|t| t.protocol != PushProtocol::Tiqr) {
        let pin = pins.get(&token.id).map(String::as_str);
        match poll_token(vault, client, &token, pin, device, &mut report).await {
            Ok(()) => {}
            Err(e) => report.failures.push((token.serial.clone(), e)),
        }
    }
    Ok(report)
}

const POLL_ATTEMPTS: u32 = 3;
/// Most challenges one poll reply may hold (a user has a handful open at most).
pub const MAX_CHALLENGES_PER_POLL: usize = 100;
/// Longest server public key text accepted at registration (an RSA-8192 key is about 1.5 KB).
const MAX_SERVER_KEY_TEXT: usize = 16 * 1024;

async fn poll_token(
    vault: &impl VaultAccess,
    client: &HttpClient,
    token: &PushToken,
    pin: Option<&str>,
    device: DeviceClock,
    report: &mut PollReport,
) -> Result<()> {
    let key = vault.with_vault(|v| pin::device_key(v, token.id, pin))?;
    let mut attempt = 0;
    let reply = loop {
        // Sign afresh for every attempt: the server accepts timestamps within a minute.
        let timestamp = iso8601_utc(now());
        let signature = key.sign(&format!("{}|{timestamp}", token.serial))?;
        let query = [("serial", token.serial.as_str()), ("timestamp", &timestamp), ("signature", &signature)];
        match client::get(client, &token.url, &query, token.verify_tls()).await {
            Err(Error::Net(net::Error::Network(_))) if attempt + 1 < POLL_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
            }
            other => break other?,
        }
    };
    vault.with_vault(|v| {
        crate::clock::from_server_reply(v, device.at(reply.sent_at), reply.round_trip, reply.server_time)
    });
    let Value::Array(items) = reply.value else {
        return Err(Error::Protocol("the poll reply is not a list of challenges".into()));
    };
    if items.len() > MAX_CHALLENGES_PER_POLL {
        return Err(Error::Protocol(format!("the poll reply holds more than {MAX_CHALLENGES_PER_POLL} challenges")));
    }
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
    client: &HttpClient,
    request_id: i64,
    answer: Option<&str>,
    pin: Option<&str>,
) -> Result<()> {
    let request = vault.with_vault(|v| v.push_request(request_id))?;
    if is_tiqr(vault, &request)? {
        return tiqr::approve(vault, client, request_id, pin).await;
    }
    let answer = match (&request.choices, answer) {
        (Some(choices), Some(answer)) if choices.iter().any(|c| c == answer.trim()) => Some(answer.trim()),
        (Some(_), Some(answer)) => return Err(Error::NotAChoice(domain::text::excerpt(answer))),
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
    client: &HttpClient,
    request_id: i64,
    reason: Option<DeclineReason>,
    pin: Option<&str>,
) -> Result<()> {
    let request = vault.with_vault(|v| v.push_request(request_id))?;
    let sent_reason = reason.filter(|_| request.decline_reasons);
    let detail = reason.map(|r| r.as_str().to_owned());
    if is_tiqr(vault, &request)? {
        return tiqr::deny(vault, request_id, detail);
    }
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

fn is_tiqr(vault: &impl VaultAccess, request: &PushRequest) -> Result<bool> {
    Ok(vault.with_vault(|v| v.push_token(request.token_id))?.protocol == PushProtocol::Tiqr)
}

async fn answer_request(
    vault: &impl VaultAccess,
    client: &HttpClient,
    request_id: i64,
    decision: Decision,
    pin: Option<&str>,
    detail: Option<String>,
    message: impl FnOnce(&str, &str) -> (String, Vec<(String, String)>),
) -> Result<()> {
    // Unlock first: a wrong PIN must not consume the request.
    let token_id = vault.with_vault(|v| v.push_request(request_id))?.token_id;
    let key: DeviceKey = vault.with_vault(|v| pin::device_key(v, token_id, pin))?;
    let (request, nonce) = vault.with_vault(|v| v.claim_push_request(request_id, decision))?;
    let token = vault.with_vault(|v| v.push_token(request.token_id))?;
    let (text, extra) = message(&nonce, &token.serial);
    let outcome = async {
        let signature = key.sign(&text)?;
        let mut form: Vec<(&str, &str)> =
            vec![("serial", token.serial.as_str()), ("nonce", nonce.as_str()), ("signature", signature.as_str())];
        form.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let reply = client::post(client, &token.url, &form, token.verify_tls()).await?;
        vault.with_vault(|v| {
            let sent_ms = DeviceClock::system().now_ms() - reply.sent_at.elapsed().as_millis() as i64;
            crate::clock::from_server_reply(v, sent_ms, reply.round_trip, reply.server_time)
        });
        match reply.value {
            Value::Bool(true) => Ok(()),
            _ if extra.iter().any(|(k, _)| k == "presence_answer") => Err(Error::WrongAnswer),
            _ => Err(Error::ServerRejected { message: "the server did not accept the answer".into() }),
        }
    }
    .await;
    match outcome {
        Ok(()) => {
            let entry = HistoryEntry::of(request, decision, detail);
            Ok(vault.with_vault(|v| v.log_push_history(&entry, Some(&nonce)))?)
        }
        Err(e) => {
            // Not delivered (offline, server error, wrong number): the request stays answerable.
            vault.with_vault(|v| v.release_push_request(request_id))?;
            Err(e)
        }
    }
}

/// Registers a new Firebase/APNs token with the server for one push token.
pub async fn update_fb_token(
    vault: &impl VaultAccess,
    client: &HttpClient,
    token_id: i64,
    fb_token: &str,
    pin: Option<&str>,
) -> Result<()> {
    let token = vault.with_vault(|v| v.push_token(token_id))?;
    let key = vault.with_vault(|v| pin::device_key(v, token_id, pin))?;
    let timestamp = iso8601_utc(now());
    let serial = token.serial.as_str();
    let signature = key.sign(&format!("{fb_token}|{serial}|{timestamp}"))?;
    client::post(
        client,
        &token.url,
        &[("serial", serial), ("new_fb_token", fb_token), ("timestamp", &timestamp), ("signature", &signature)],
        token.verify_tls(),
    )
    .await?;
    Ok(vault.with_vault(|v| v.set_fb_token(token_id, fb_token))?)
}

#[cfg(test)]
mod tests;
