//! tiqr (SURF's and eduMFA's QR sign-in): enrollment shares a 32-byte secret with the server;
//! a sign-in QR code carries a challenge, and approving it POSTs the OCRA response (RFC 6287) to
//! the authentication URL saved at enrollment.
//!
//! - Enroll: `tiqrenroll://<metadata URL>` (or SURF's `https://…/tiqrenroll/?metadata=<URL>`):
//!   GET the metadata JSON (`service`: displayName, identifier, authenticationUrl, enrollmentUrl,
//!   ocraSuite; `identity`: identifier, displayName), POST `secret` (hex) with
//!   `operation=register` to the enrollmentUrl; the reply is `OK` or `{"responseCode":1}`.
//! - Sign in: `tiqrauth://<userId>@<service identifier>/<sessionKey>/<challenge>/<SP name>[/<v>]`
//!   (or SURF's `https://…/tiqrauth/?u=&s=&q=&i=&v=`). tiqr challenges carry no server
//!   signature, so a code is accepted only for an identity enrolled here, and the response goes
//!   only to that identity's saved authenticationUrl, never to an address from the code.
//!   Replies: `OK`, `INVALID_RESPONSE:<tries left>`, `INVALID_CHALLENGE`, `ACCOUNT_BLOCKED`,
//!   `INVALID_USERID`, or SURF's JSON `{"responseCode": 1 | 101 | 201 | 204 | 205, …}`.

use ring::digest;
use serde_json::Value;
use zeroize::Zeroizing;

use super::{EnrollOptions, REQUEST_LIFETIME, client, pin};
use crate::error::{Error, Result};
use domain::codec::query::{self, Query};
use domain::otp::ocra::{OcraInput, OcraSuite};
use domain::text::clean;
use domain::time::now;
use domain::{
    Decision, DeviceKeyType, HistoryEntry, NewPushRequest, NewPushToken, PushProtocol, PushRequest, PushToken,
};
use net::HttpClient;
use storage::vault::{Vault, VaultAccess};

/// Bytes of the shared secret generated at enrollment.
pub const SECRET_BYTES: usize = 32;
/// Longest identifier, display name or session key accepted from a code or metadata.
const MAX_FIELD: usize = 512;

/// Whether `text` is a tiqr enrollment code.
pub fn is_enroll_uri(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower.starts_with("tiqrenroll://") || (lower.starts_with("https://") && lower.contains("/tiqrenroll/?"))
}

/// Whether `text` is a tiqr sign-in code.
pub fn is_auth_uri(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower.starts_with("tiqrauth://") || (lower.starts_with("https://") && lower.contains("/tiqrauth/?"))
}

fn invalid(reason: &str) -> Error {
    Error::InvalidEnrollment(reason.to_owned())
}

/// The metadata URL of an enrollment code.
pub fn metadata_url(uri: &str) -> Result<String> {
    let uri = uri.trim();
    if uri.len() > domain::uri::MAX_URI_BYTES {
        return Err(invalid("the code is longer than 16 KiB"));
    }
    let url = if let Some(rest) = strip_prefix_ignore_case(uri, "tiqrenroll://") {
        rest.to_owned()
    } else {
        let (_, _, q) = query::split_uri(uri).ok_or_else(|| invalid("not a tiqr enrollment code"))?;
        let params = Query::parse(q).map_err(|_| invalid("not valid UTF-8"))?;
        let metadata = params.get("metadata").map_err(|_| invalid("not valid UTF-8"))?;
        metadata.ok_or_else(|| invalid("no metadata URL in the tiqr enrollment code"))?.to_string()
    };
    if clean(&url) != url || url.is_empty() {
        return Err(invalid("the metadata URL is empty or has control or invisible characters"));
    }
    Ok(url)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.get(..prefix.len()).filter(|p| p.eq_ignore_ascii_case(prefix)).map(|_| &text[prefix.len()..])
}

/// A scanned sign-in code.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthCode {
    /// The user's identifier at the service.
    pub user_id: String,
    /// The service identifier (`org.example.idp`).
    pub service_id: String,
    /// The server's session key.
    pub session_key: String,
    /// The OCRA question.
    pub challenge: String,
    /// The service provider the user signs in to (may be empty).
    pub sp_name: String,
}

impl std::fmt::Debug for AuthCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCode").field("service_id", &self.service_id).finish_non_exhaustive()
    }
}

/// Parses a sign-in code (`tiqrauth://…` or SURF's https form).
pub fn parse_auth(uri: &str) -> Result<AuthCode> {
    let bad = |reason: &str| Error::InvalidInput(format!("not a tiqr sign-in code: {reason}"));
    let uri = uri.trim();
    if uri.len() > domain::uri::MAX_URI_BYTES {
        return Err(bad("longer than 16 KiB"));
    }
    let decode =
        |s: &str| -> Result<String> { Ok(query::decode(s, false).map_err(|_| bad("not valid UTF-8"))?.to_string()) };
    let code = if let Some(rest) = strip_prefix_ignore_case(uri, "tiqrauth://") {
        let rest = rest.split_once('?').map_or(rest, |(path, _)| path);
        let mut parts = rest.split('/');
        let (Some(who), Some(session), Some(challenge)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("too few parts"));
        };
        let sp_name = parts.next().map(decode).transpose()?.unwrap_or_default();
        let (user, service) = who.rsplit_once('@').ok_or_else(|| bad("no user@service"))?;
        AuthCode {
            user_id: query::decode(user, true).map_err(|_| bad("not valid UTF-8"))?.to_string(),
            service_id: decode(service)?,
            session_key: session.to_owned(),
            challenge: challenge.to_owned(),
            sp_name,
        }
    } else if is_auth_uri(uri) {
        let (_, _, q) = query::split_uri(uri).ok_or_else(|| bad("no query"))?;
        let params = Query::parse(q).map_err(|_| bad("not valid UTF-8"))?;
        let get = |k: &str| -> Result<String> {
            Ok(params.get(k).map_err(|_| bad("not valid UTF-8"))?.map(|v| v.to_string()).unwrap_or_default())
        };
        AuthCode {
            user_id: get("u")?,
            service_id: get("i")?,
            session_key: get("s")?,
            challenge: get("q")?,
            sp_name: get("n")?,
        }
    } else {
        return Err(bad("it starts with neither tiqrauth:// nor https://…/tiqrauth/"));
    };
    let fields = [&code.user_id, &code.service_id, &code.session_key, &code.challenge];
    if fields.iter().any(|f| f.is_empty() || f.len() > MAX_FIELD) {
        return Err(bad("a user, service, session or challenge is missing or too long"));
    }
    if !code.session_key.bytes().all(|b| b.is_ascii_alphanumeric())
        || !code.challenge.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(bad("the session key or challenge has unexpected characters"));
    }
    Ok(AuthCode { sp_name: clean(&code.sp_name), ..code })
}

/// The serial a tiqr identity is stored under: names neither the user nor the service.
pub fn identity_serial(service_id: &str, user_id: &str) -> String {
    let hash = digest::digest(&digest::SHA256, format!("{service_id}\n{user_id}").as_bytes());
    format!("tiqr-{}", &hex::encode(hash.as_ref())[..32])
}

fn text_field(json: &Value, key: &str, required: bool) -> Result<String> {
    match json.get(key).and_then(Value::as_str) {
        Some(v) if v.len() <= domain::uri::MAX_URI_BYTES => Ok(v.to_owned()),
        None if !required => Ok(String::new()),
        _ => Err(Error::Protocol(format!("the tiqr metadata has no usable '{key}'"))),
    }
}

/// Whether a tiqr reply body means success; otherwise the typed refusal.
fn read_reply(status: u16, body: &[u8]) -> Result<()> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim().trim_matches('"');
    if let Ok(json) = serde_json::from_str::<Value>(text)
        && let Some(code) = json.get("responseCode").and_then(Value::as_u64)
    {
        let attempts = json.get("attemptsLeft").and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok());
        return match code {
            1 => Ok(()),
            101 => Err(Error::InvalidChallenge),
            201 => Err(Error::ResponseRefused { attempts_left: attempts }),
            204 => Err(Error::AccountBlocked),
            205 => Err(Error::UnknownIdentity),
            other => Err(Error::ServerRejected { message: format!("tiqr response code {other}") }),
        };
    }
    match text {
        "OK" => Ok(()),
        "INVALID_CHALLENGE" => Err(Error::InvalidChallenge),
        "ACCOUNT_BLOCKED" => Err(Error::AccountBlocked),
        "INVALID_USERID" => Err(Error::UnknownIdentity),
        _ if text.starts_with("INVALID_RESPONSE") => {
            Err(Error::ResponseRefused { attempts_left: text.split_once(':').and_then(|(_, n)| n.trim().parse().ok()) })
        }
        _ if !(200..300).contains(&status) => Err(Error::ServerRejected { message: format!("HTTP {status}") }),
        _ => Err(Error::Protocol(format!("unexpected tiqr reply '{}'", domain::text::excerpt(text)))),
    }
}

/// Enrolls a tiqr identity from an enrollment code: fetches the metadata, registers a fresh
/// secret, and stores the identity (its secret sealed like a push key, behind the PIN if set).
pub async fn enroll(
    vault: &impl VaultAccess,
    client: &HttpClient,
    uri: &str,
    options: &EnrollOptions,
) -> Result<PushToken> {
    let url = metadata_url(uri)?;
    if let Some(pin) = &options.pin {
        pin::check_pin_format(pin)?;
    }
    let verify_tls = !options.allow_insecure_tls;
    let (status, body) = client::raw(client, &url, None, verify_tls).await?;
    if !(200..300).contains(&status) {
        return Err(Error::ServerRejected { message: format!("HTTP {status}") });
    }
    let metadata: Value =
        serde_json::from_slice(&body).map_err(|_| Error::Protocol("the tiqr metadata is not JSON".into()))?;
    let (service, identity) = (&metadata["service"], &metadata["identity"]);
    let service_id = text_field(service, "identifier", true)?;
    let user_id = text_field(identity, "identifier", true)?;
    let auth_url = text_field(service, "authenticationUrl", true)?;
    let enroll_url = text_field(service, "enrollmentUrl", true)?;
    let suite_text = text_field(service, "ocraSuite", false)?;
    let suite_text = if suite_text.is_empty() { "OCRA-1:HOTP-SHA1-6:QN10".to_owned() } else { suite_text };
    OcraSuite::parse(&suite_text)?;
    for u in [&auth_url, &enroll_url] {
        net::check_url(u)?;
        if clean(u) != *u {
            return Err(Error::Protocol("a tiqr URL has control or invisible characters".into()));
        }
    }
    let serial = identity_serial(&service_id, &user_id);
    if vault.with_vault(|v| v.push_token_id(&serial))?.is_some() {
        return Err(storage::Error::AlreadyEnrolled(serial).into());
    }
    let mut secret = Zeroizing::new([0u8; SECRET_BYTES]);
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), secret.as_mut())
        .map_err(|_| Error::Crypto("no randomness"))?;
    let secret_hex = Zeroizing::new(hex::encode(secret.as_ref()));
    let form = [
        ("secret", secret_hex.as_str()),
        ("operation", "register"),
        ("language", "en"),
        ("notificationType", options.fb_token.as_deref().map_or("", |_| "GCM")),
        ("notificationAddress", options.fb_token.as_deref().unwrap_or("")),
    ];
    let (status, body) = client::raw(client, &enroll_url, Some(&form), verify_tls).await?;
    read_reply(status, &body)?;
    let display = |v: &Value, fallback: &str| {
        let name = clean(v.get("displayName").and_then(Value::as_str).unwrap_or_default());
        if name.is_empty() { clean(fallback) } else { name }
    };
    let seal = options.pin.as_ref().map(|_| pin::new_seal()).transpose()?;
    let new = NewPushToken {
        serial,
        issuer: display(service, &service_id),
        label: display(identity, &user_id),
        url: auth_url,
        sslverify: verify_tls,
        allow_insecure_tls: options.allow_insecure_tls,
        server_key: Vec::new(),
        pin: seal.clone(),
        pin_required_by_server: false,
        fb_token: options.fb_token.clone(),
        protocol: PushProtocol::Tiqr,
        key_type: DeviceKeyType::OcraSecret,
        // Sealed: the user id names the account; the answer must send it.
        extra_text: vec![suite_text, user_id],
    };
    let pin = options.pin.as_deref().zip(seal.as_ref());
    vault.with_vault(|v| v.insert_push_token(&new, |id| pin::seal_key(secret.as_ref(), pin, id)))
}

/// The request's nonce: what answering needs, none of it secret or naming anyone.
fn nonce(code: &AuthCode) -> String {
    format!("tiqr:{}:{}", code.session_key, code.challenge)
}

/// Turns a scanned sign-in code into a pending request for the enrolled identity it names.
/// The same code scanned twice is the same request.
pub fn scan(vault: &impl VaultAccess, uri: &str) -> Result<PushRequest> {
    let code = parse_auth(uri)?;
    vault.with_vault(|v| {
        let token_id =
            v.push_token_id(&identity_serial(&code.service_id, &code.user_id))?.ok_or(Error::UnknownIdentity)?;
        let token = v.push_token(token_id)?;
        let suite = OcraSuite::parse(v.push_token_extra(token_id)?.first().map_or("", String::as_str))?;
        if !suite.accepts_question(&code.challenge) {
            return Err(Error::InvalidInput("the challenge does not fit this identity's OCRA suite".into()));
        }
        let sp = if code.sp_name.is_empty() { token.issuer.clone() } else { code.sp_name.clone() };
        let received_at = now();
        let request = NewPushRequest {
            nonce: nonce(&code),
            title: sp.clone(),
            question: format!("Sign in to {sp} as {}?", token.label),
            choices: None,
            decline_reasons: false,
            received_at,
            expires_at: received_at + REQUEST_LIFETIME,
        };
        match v.insert_push_request(token_id, &request)? {
            Some(request) => Ok(request),
            None => existing_request(v, &request.nonce),
        }
    })
}

fn existing_request(vault: &Vault, nonce: &str) -> Result<PushRequest> {
    let id = vault.push_request_id(nonce)?.ok_or(Error::Storage(storage::Error::AlreadyAnswered))?;
    Ok(vault.push_request(id)?)
}

/// Denies a tiqr request: tiqr has no denial on the wire, so it is closed here (the sign-in
/// page times out) and logged.
pub fn deny(vault: &impl VaultAccess, request_id: i64, detail: Option<String>) -> Result<()> {
    Ok(vault.with_vault(|v| {
        let (request, nonce) = v.claim_push_request(request_id, Decision::Denied)?;
        let entry = HistoryEntry::of(request, Decision::Denied, detail);
        v.log_push_history(&entry, Some(&nonce))
    })?)
}

/// Approves a tiqr request: computes the OCRA response and POSTs it to the saved
/// authenticationUrl. A refusal the server counts ([`Error::ResponseRefused`]) or a network
/// error leaves the request answerable; an unknown challenge closes it.
pub async fn approve(vault: &impl VaultAccess, client: &HttpClient, request_id: i64, pin: Option<&str>) -> Result<()> {
    // Unlock first: a wrong PIN must not consume the request.
    let request = vault.with_vault(|v| v.push_request(request_id))?;
    let secret = vault.with_vault(|v| pin::unlock(v, request.token_id, pin))?;
    let (request, nonce) = vault.with_vault(|v| v.claim_push_request(request_id, Decision::Approved))?;
    let outcome = async {
        let (token, extra) = vault
            .with_vault(|v| Ok::<_, Error>((v.push_token(request.token_id)?, v.push_token_extra(request.token_id)?)))?;
        let [suite, user_id] = extra.as_slice() else {
            return Err(Error::Corrupt(format!("tiqr identity {} lost its OCRA suite", request.token_id)));
        };
        let suite = OcraSuite::parse(suite)?;
        let mut parts = nonce.splitn(3, ':').skip(1);
        let (Some(session), Some(challenge)) = (parts.next(), parts.next()) else {
            return Err(Error::Corrupt("a tiqr request lost its session".into()));
        };
        let input =
            OcraInput { question: challenge, session: suite.uses_session().then_some(session), ..OcraInput::default() };
        let response = Zeroizing::new(suite.response(&secret, &input)?);
        let form = [
            ("operation", "login"),
            ("sessionKey", session),
            ("userId", user_id.as_str()),
            ("response", response.as_str()),
            ("language", "en"),
        ];
        let (status, body) = client::raw(client, &token.url, Some(&form), token.verify_tls()).await?;
        read_reply(status, &body)
    }
    .await;
    match outcome {
        Ok(()) => {
            let entry = HistoryEntry::of(request, Decision::Approved, None);
            Ok(vault.with_vault(|v| v.log_push_history(&entry, Some(&nonce)))?)
        }
        Err(e @ (Error::InvalidChallenge | Error::AccountBlocked)) => {
            // The server will never accept this one: it stays closed, with why in the history.
            let entry = HistoryEntry::of(request, Decision::Expired, Some(e.to_string()));
            vault.with_vault(|v| v.log_push_history(&entry, Some(&nonce)))?;
            Err(e)
        }
        Err(e) => {
            vault.with_vault(|v| v.release_push_request(request_id))?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enrollment_codes_in_both_forms() {
        let url = "https://tiqr.example.org/tiqr.php?key=abc&x=1";
        assert_eq!(metadata_url(&format!("tiqrenroll://{url}")).unwrap(), url);
        let surf = format!("https://tiqr.example.org/tiqrenroll/?metadata={}", query::encode(url, false));
        assert!(is_enroll_uri(&surf) && is_enroll_uri("TIQRENROLL://x"));
        assert_eq!(metadata_url(&surf).unwrap(), url);
        assert!(metadata_url("https://tiqr.example.org/tiqrenroll/?other=1").is_err());
        assert!(metadata_url("tiqrenroll://").is_err());
        assert!(metadata_url("tiqrenroll://https://x/\u{202e}y").is_err());
    }

    #[test]
    fn sign_in_codes_in_both_forms() {
        let code = parse_auth("tiqrauth://alice%40uni@org.example.idp/4f2a9c/0123456789/Uni%20Portal/2").unwrap();
        assert_eq!(
            (code.user_id.as_str(), code.service_id.as_str(), code.session_key.as_str(), code.challenge.as_str()),
            ("alice@uni", "org.example.idp", "4f2a9c", "0123456789")
        );
        assert_eq!(code.sp_name, "Uni Portal");
        let https =
            parse_auth("https://tiqr.example.org/tiqrauth/?u=alice%40uni&s=4f2a9c&q=0123456789&i=org.example.idp&v=2")
                .unwrap();
        assert!(!format!("{code:?}").contains("alice"), "Debug names no user");
        assert_eq!(
            (https.user_id, https.service_id, https.session_key),
            (code.user_id, code.service_id, code.session_key)
        );
        for bad in [
            "tiqrauth://noservice/s/q",
            "tiqrauth://a@b/s",
            "tiqrauth://a@b/s%2F../q/x",
            "https://x/tiqrauth/?u=a&i=b&q=1",
            "otpauth://totp/x",
        ] {
            assert!(parse_auth(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identity_serials_hide_the_identity_and_tell_identities_apart() {
        let a = identity_serial("org.example.idp", "alice");
        assert!(a.starts_with("tiqr-") && a.len() == 37 && !a.contains("alice"));
        assert_ne!(a, identity_serial("org.example.idp", "bob"));
        assert_ne!(a, identity_serial("org.other.idp", "alice"));
    }

    #[test]
    fn replies_map_to_typed_errors() {
        assert!(read_reply(200, b"OK").is_ok());
        assert!(read_reply(200, br#"{"responseCode":1}"#).is_ok());
        assert!(matches!(
            read_reply(200, b"INVALID_RESPONSE:4"),
            Err(Error::ResponseRefused { attempts_left: Some(4) })
        ));
        assert!(matches!(read_reply(200, b"INVALID_RESPONSE"), Err(Error::ResponseRefused { attempts_left: None })));
        assert!(matches!(read_reply(200, b"INVALID_CHALLENGE"), Err(Error::InvalidChallenge)));
        assert!(matches!(read_reply(200, b"ACCOUNT_BLOCKED"), Err(Error::AccountBlocked)));
        assert!(matches!(
            read_reply(200, br#"{"responseCode":201,"attemptsLeft":2}"#),
            Err(Error::ResponseRefused { attempts_left: Some(2) })
        ));
        assert!(matches!(read_reply(200, br#"{"responseCode":101}"#), Err(Error::InvalidChallenge)));
        assert!(matches!(read_reply(200, br#"{"responseCode":204}"#), Err(Error::AccountBlocked)));
        assert!(matches!(read_reply(200, br#"{"responseCode":205}"#), Err(Error::UnknownIdentity)));
        assert!(matches!(read_reply(500, b"oops"), Err(Error::ServerRejected { .. })));
        assert!(matches!(read_reply(200, b"FAIL"), Err(Error::Protocol(_))));
    }
}
