//! Passkey requests as relying parties send them, checked before anything is signed or stored,
//! and the JSON responses (WebAuthn Level 3 §5.1.8–§5.1.11: `PublicKeyCredentialCreationOptionsJSON`,
//! `PublicKeyCredentialRequestOptionsJSON`, `RegistrationResponseJSON`,
//! `AuthenticationResponseJSON`). The bytes inside the responses are [`crate::webauthn`]'s; the
//! keys and the vault are the passkey service's.
//!
//! Every refusal is a [`PasskeyError`] naming the field and the reason; no value of the request
//! is ever quoted back except host names.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::{digest, hmac};
use serde_json::{Map, Value, json};

use crate::psl;
use crate::text;
use crate::webauthn::ES256;

/// A request (options JSON) is refused above this size.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// `user.id` (the user handle) is 1 to this many bytes (WebAuthn §5.4.3).
pub const MAX_USER_HANDLE: usize = 64;
/// Credential ids this authenticator draws, in bytes (WebAuthn asks for at least 16).
pub const CREDENTIAL_ID_LEN: usize = 16;
/// Credential ids of other authenticators in a request are at most this long (WebAuthn caps
/// them at 1,023 bytes).
pub const MAX_CREDENTIAL_ID: usize = 1023;
/// At most this many credentials in `excludeCredentials` / `allowCredentials`.
pub const MAX_LISTED_CREDENTIALS: usize = 256;
/// Names (rp.name, user.name, user.displayName) are cut at this many characters.
pub const MAX_NAME_CHARS: usize = 256;

/// Why a passkey request was refused. Nothing is stored or signed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyError {
    /// The request is malformed: `field` is its JSON path (`user.id`), `reason` why.
    #[error("invalid passkey request: {field}: {reason}")]
    Invalid {
        /// The JSON path of the field, `request` for the whole request.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The caller's origin may not act for this relying party.
    #[error("origin refused: {0}")]
    OriginRefused(String),
    /// A credential in `excludeCredentials` is stored here: the account has a passkey already.
    #[error("a passkey of this account is already stored here")]
    AlreadyRegistered,
    /// The request asks for something this authenticator does not do.
    #[error("not supported: {0}")]
    NotSupported(String),
    /// No stored passkey matches the request.
    #[error("no passkey stored here matches the request")]
    NotFound,
    /// The relying party requires user verification, and the shell did not verify the user.
    #[error("the relying party requires user verification, and the user was not verified")]
    UserVerificationRequired,
}

fn invalid(field: &str, reason: impl Into<String>) -> PasskeyError {
    PasskeyError::Invalid { field: field.to_owned(), reason: reason.into() }
}

/// Who is asking, as the platform vouches for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A web origin (`https://login.example.com`, `http://localhost:8080`): the rpId must be its
    /// host or a registrable suffix of it.
    Web {
        /// The origin as the client data names it.
        origin: String,
        /// Its host, lower case.
        host: String,
    },
    /// An Android app (`android:apk-key-hash:<base64url SHA-256 of its signing certificate>`):
    /// Credential Manager has checked its association with the rpId (Digital Asset Links).
    AndroidApp {
        /// The origin as the client data names it.
        origin: String,
    },
    /// A platform that checked the rpId itself and hands only the client data hash (iOS).
    Platform,
}

impl Caller {
    /// Parses an origin: `https://host[:port]`, `http://localhost[:port]` or an Android app's.
    pub fn parse(origin: &str) -> Result<Self, PasskeyError> {
        if let Some(hash) = origin.strip_prefix("android:apk-key-hash:") {
            let decoded = decode_b64url(hash)
                .map_err(|_| PasskeyError::OriginRefused("the app's key hash is not base64url".into()))?;
            if decoded.len() != 32 {
                return Err(PasskeyError::OriginRefused("the app's key hash is not a SHA-256 hash".into()));
            }
            return Ok(Self::AndroidApp { origin: origin.to_owned() });
        }
        let (secure, rest) = if let Some(rest) = origin.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = origin.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(PasskeyError::OriginRefused("an origin is https://host (or an Android app's)".into()));
        };
        let host = match rest.rsplit_once(':') {
            Some((host, port)) if !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()) => {
                host
            }
            _ => rest,
        };
        let valid_host = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !valid_host {
            return Err(PasskeyError::OriginRefused("the origin's host is not a domain name".into()));
        }
        let host = host.to_ascii_lowercase();
        if host.split('.').all(|label| label.bytes().all(|b| b.is_ascii_digit())) {
            return Err(PasskeyError::OriginRefused("an IP address cannot be a relying party".into()));
        }
        if !secure && host != "localhost" {
            return Err(PasskeyError::OriginRefused(format!("{host} is not https (http is only for localhost)")));
        }
        Ok(Self::Web { origin: origin.to_owned(), host })
    }

    /// The origin client data names, None for [`Caller::Platform`].
    pub fn origin(&self) -> Option<&str> {
        match self {
            Self::Web { origin, .. } | Self::AndroidApp { origin } => Some(origin),
            Self::Platform => None,
        }
    }

    /// The rpId the request names (or the origin's host when it names none), checked against
    /// the caller.
    pub fn check_rp_id(&self, rp_id: Option<&str>) -> Result<String, PasskeyError> {
        let rp_id = match (rp_id, self) {
            (Some(id), _) => id.to_owned(),
            (None, Self::Web { host, .. }) => host.clone(),
            (None, _) => return Err(invalid("rp.id", "missing (an app or platform caller must name it)")),
        };
        let valid = !rp_id.is_empty()
            && rp_id.len() <= 253
            && rp_id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid {
            return Err(invalid("rp.id", "not a lower-case domain name"));
        }
        if let Self::Web { host, .. } = self
            && rp_id != *host
            && !(host.strip_suffix(rp_id.as_str()).is_some_and(|sub| sub.ends_with('.'))
                && psl::is_registrable_suffix(&rp_id, host))
        {
            return Err(PasskeyError::OriginRefused(format!(
                "{rp_id} is neither {host} nor a registrable domain it belongs to"
            )));
        }
        Ok(rp_id)
    }
}

/// What the relying party says of user verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserVerification {
    /// `required`: refused unless the shell verified the user.
    Required,
    /// `preferred` (the default): verified when the shell did.
    Preferred,
    /// `discouraged`: UV still reported when the shell verified anyway.
    Discouraged,
}

impl UserVerification {
    fn parse(value: Option<&Value>, field: &str) -> Result<Self, PasskeyError> {
        match value {
            None | Some(Value::Null) => Ok(Self::Preferred),
            Some(Value::String(s)) => Ok(match s.as_str() {
                "required" => Self::Required,
                "discouraged" => Self::Discouraged,
                // Unknown values are treated as the default (WebAuthn: ignore unknown enum values).
                _ => Self::Preferred,
            }),
            Some(_) => Err(invalid(field, "not a string")),
        }
    }

    /// Whether a ceremony may go on: Required needs a verified user.
    pub fn allows(self, user_verified: bool) -> Result<(), PasskeyError> {
        if self == Self::Required && !user_verified {
            return Err(PasskeyError::UserVerificationRequired);
        }
        Ok(())
    }
}

/// PRF inputs of one credential: `first` and optional `second` (raw bytes, before the
/// `"WebAuthn PRF"` salt transform).
#[derive(Clone, PartialEq, Eq)]
pub struct PrfInputs {
    /// `eval.first`.
    pub first: Vec<u8>,
    /// `eval.second`.
    pub second: Option<Vec<u8>>,
}

impl std::fmt::Debug for PrfInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrfInputs(..)")
    }
}

/// A checked creation request.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// The relying party id, checked against the caller.
    pub rp_id: String,
    /// Its display name (may be empty).
    pub rp_name: String,
    /// The user handle, 1–64 bytes.
    pub user_handle: Vec<u8>,
    /// `user.name`, cleaned.
    pub user_name: String,
    /// `user.displayName`, cleaned.
    pub user_display_name: String,
    /// The challenge bytes.
    pub challenge: Vec<u8>,
    /// Credential ids the relying party has already registered for this user.
    pub exclude: Vec<Vec<u8>>,
    /// User verification asked for.
    pub user_verification: UserVerification,
    /// `extensions.credProps` was asked.
    pub cred_props: bool,
    /// `extensions.prf` was present; with eval inputs when given.
    pub prf: Option<Option<PrfInputs>>,
}

impl CreateRequest {
    /// A creation request from the parts a platform hands (iOS's `ASPasskeyCredentialRequest`):
    /// the platform checked the rpId against the caller and hashes its own client data.
    pub fn from_parts(
        rp_id: &str,
        user_name: &str,
        user_display_name: &str,
        user_handle: &[u8],
        uv_required: bool,
        exclude: Vec<Vec<u8>>,
    ) -> Result<Self, PasskeyError> {
        if user_handle.is_empty() || user_handle.len() > MAX_USER_HANDLE {
            return Err(invalid("userHandle", "not 1 to 64 bytes"));
        }
        let clean = |name: &str| text::clean(name).chars().take(MAX_NAME_CHARS).collect::<String>();
        Ok(Self {
            rp_id: Caller::Platform.check_rp_id(Some(rp_id))?,
            rp_name: String::new(),
            user_handle: user_handle.to_vec(),
            user_name: clean(user_name),
            user_display_name: clean(user_display_name),
            challenge: Vec::new(),
            exclude,
            user_verification: if uv_required { UserVerification::Required } else { UserVerification::Preferred },
            cred_props: false,
            prf: None,
        })
    }
}

/// A checked assertion request.
#[derive(Debug, Clone)]
pub struct GetRequest {
    /// The relying party id, checked against the caller.
    pub rp_id: String,
    /// The challenge bytes.
    pub challenge: Vec<u8>,
    /// `allowCredentials` ids; empty: any discoverable passkey of the rpId.
    pub allow: Vec<Vec<u8>>,
    /// User verification asked for.
    pub user_verification: UserVerification,
    /// `extensions.prf.eval`.
    pub prf_eval: Option<PrfInputs>,
    /// `extensions.prf.evalByCredential`: credential id → inputs.
    pub prf_by_credential: Vec<(Vec<u8>, PrfInputs)>,
}

impl GetRequest {
    /// The PRF inputs for credential `id`: its own entry, else `eval`.
    pub fn prf_for(&self, id: &[u8]) -> Option<&PrfInputs> {
        self.prf_by_credential.iter().find(|(cred, _)| cred == id).map(|(_, inputs)| inputs).or(self.prf_eval.as_ref())
    }
}

crate::foreign_type! { $ passkey_info_definition {
/// A passkey stored here, as lists show it: never its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyInfo {
    /// The local row id (for rename and remove).
    pub id: i64,
    /// The credential id, as relying parties know it.
    pub credential_id: Vec<u8>,
    /// The relying party id (`example.org`).
    pub rp_id: String,
    /// The relying party's display name (may be empty).
    pub rp_name: String,
    /// `user.name` at registration (`alice@example.org`).
    pub user_name: String,
    /// `user.displayName` at registration.
    pub user_display_name: String,
    /// The user handle the relying party gave (`user.id`), returned with every assertion.
    pub user_handle: Vec<u8>,
    /// The user's own name for it; empty for none (show `user_name` at `rp_id`).
    pub name: String,
    /// Unix seconds of its creation.
    pub created_at: i64,
    /// Unix seconds of its last use, None until then.
    pub last_used_at: Option<i64>,
}
}}

/// What only signing needs: the private key and the PRF secrets. Wiped on drop; its `Debug`
/// shows nothing.
#[derive(Clone)]
pub struct PasskeySecret {
    /// The ES256 private key, PKCS#8 DER.
    pub private_key: zeroize::Zeroizing<Vec<u8>>,
    /// The PRF secret of ceremonies with user verification (CredRandomWithUV).
    pub prf_with_uv: zeroize::Zeroizing<[u8; 32]>,
    /// The PRF secret of ceremonies without (CredRandomWithoutUV).
    pub prf_without_uv: zeroize::Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for PasskeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasskeySecret(..)")
    }
}

impl PasskeySecret {
    /// The PRF secret for a ceremony with or without user verification.
    pub fn prf_secret(&self, user_verified: bool) -> &[u8; 32] {
        if user_verified { &self.prf_with_uv } else { &self.prf_without_uv }
    }
}

/// A whole passkey: what the vault stores, backups carry and sync moves.
#[derive(Debug, Clone)]
pub struct PasskeyData {
    /// Its identity across devices (16 random bytes drawn when it was made).
    pub uid: [u8; 16],
    /// The credential id.
    pub credential_id: Vec<u8>,
    /// The relying party id.
    pub rp_id: String,
    /// The relying party's display name.
    pub rp_name: String,
    /// `user.name`.
    pub user_name: String,
    /// `user.displayName`.
    pub user_display_name: String,
    /// The user handle.
    pub user_handle: Vec<u8>,
    /// The user's own name for it (empty for none).
    pub name: String,
    /// Unix seconds of its creation.
    pub created_at: i64,
    /// The key and PRF secrets.
    pub secret: PasskeySecret,
}

impl PasskeyData {
    /// Checks what a backup, a sync peer or another app hands in, as a request is checked:
    /// lengths, a lower-case rpId, names cleaned and cut.
    pub fn check(mut self) -> Result<Self, PasskeyError> {
        if self.credential_id.is_empty() || self.credential_id.len() > MAX_CREDENTIAL_ID {
            return Err(invalid("credentialId", "not 1 to 1,023 bytes"));
        }
        if self.user_handle.is_empty() || self.user_handle.len() > MAX_USER_HANDLE {
            return Err(invalid("userHandle", "not 1 to 64 bytes"));
        }
        Caller::Platform.check_rp_id(Some(&self.rp_id))?;
        if self.secret.private_key.is_empty() || self.secret.private_key.len() > 512 {
            return Err(invalid("key", "not a P-256 key"));
        }
        for name in [&mut self.rp_name, &mut self.user_name, &mut self.user_display_name, &mut self.name] {
            *name = text::clean(name).chars().take(MAX_NAME_CHARS).collect();
        }
        Ok(self)
    }
}

/// Decodes base64url, with or without padding.
pub fn decode_b64url(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('='))
}

/// Encodes base64url without padding, as WebAuthn's JSON does.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Parses the request JSON into an object: bounded, and unwrapping `{"publicKey": …}`.
fn parse_object(json: &str) -> Result<Map<String, Value>, PasskeyError> {
    if json.len() > MAX_REQUEST_BYTES {
        return Err(invalid("request", format!("larger than {} KiB", MAX_REQUEST_BYTES / 1024)));
    }
    let value: Value = serde_json::from_str(json)
        .map_err(|e| invalid("request", format!("not JSON (line {}, column {})", e.line(), e.column())))?;
    let Value::Object(mut object) = value else {
        return Err(invalid("request", "not a JSON object"));
    };
    if let Some(Value::Object(inner)) = object.remove("publicKey") {
        return Ok(inner);
    }
    Ok(object)
}

fn object<'a>(
    parent: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a Map<String, Value>>, PasskeyError> {
    match parent.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(invalid(field, "not an object")),
    }
}

fn string<'a>(parent: &'a Map<String, Value>, key: &str, field: &str) -> Result<Option<&'a str>, PasskeyError> {
    match parent.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(field, "not a string")),
    }
}

fn bytes(parent: &Map<String, Value>, key: &str, field: &str) -> Result<Option<Vec<u8>>, PasskeyError> {
    string(parent, key, field)?.map(|s| decode_b64url(s).map_err(|_| invalid(field, "not base64url"))).transpose()
}

fn name(parent: &Map<String, Value>, key: &str, field: &str) -> Result<String, PasskeyError> {
    let raw = string(parent, key, field)?.unwrap_or("");
    Ok(text::clean(raw).chars().take(MAX_NAME_CHARS).collect())
}

fn challenge(options: &Map<String, Value>) -> Result<Vec<u8>, PasskeyError> {
    let challenge = bytes(options, "challenge", "challenge")?.ok_or_else(|| invalid("challenge", "missing"))?;
    if challenge.is_empty() {
        return Err(invalid("challenge", "empty"));
    }
    if challenge.len() > 1024 {
        return Err(invalid("challenge", "longer than 1,024 bytes"));
    }
    Ok(challenge)
}

/// The ids of `excludeCredentials` / `allowCredentials` (only `type: public-key` entries).
fn credential_list(options: &Map<String, Value>, key: &str) -> Result<Vec<Vec<u8>>, PasskeyError> {
    let list = match options.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(invalid(key, "not a list")),
    };
    if list.len() > MAX_LISTED_CREDENTIALS {
        return Err(invalid(key, format!("more than {MAX_LISTED_CREDENTIALS} credentials")));
    }
    let mut ids = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let field = format!("{key}[{i}]");
        let Value::Object(entry) = entry else {
            return Err(invalid(&field, "not an object"));
        };
        if string(entry, "type", &format!("{field}.type"))?.is_some_and(|t| t != "public-key") {
            continue;
        }
        let id =
            bytes(entry, "id", &format!("{field}.id"))?.ok_or_else(|| invalid(&format!("{field}.id"), "missing"))?;
        if id.is_empty() || id.len() > MAX_CREDENTIAL_ID {
            return Err(invalid(&format!("{field}.id"), "not 1 to 1,023 bytes"));
        }
        ids.push(id);
    }
    Ok(ids)
}

fn prf_inputs(map: &Map<String, Value>, field: &str) -> Result<PrfInputs, PasskeyError> {
    let first =
        bytes(map, "first", &format!("{field}.first"))?.ok_or_else(|| invalid(&format!("{field}.first"), "missing"))?;
    let second = bytes(map, "second", &format!("{field}.second"))?;
    if first.len() > 1024 || second.as_ref().is_some_and(|s| s.len() > 1024) {
        return Err(invalid(field, "a PRF input is longer than 1,024 bytes"));
    }
    Ok(PrfInputs { first, second })
}

/// Parses and checks `PublicKeyCredentialCreationOptionsJSON` for `caller`. Unknown members and
/// extensions are ignored.
pub fn parse_create(json: &str, caller: &Caller) -> Result<CreateRequest, PasskeyError> {
    let options = parse_object(json)?;
    let rp = object(&options, "rp", "rp")?.ok_or_else(|| invalid("rp", "missing"))?;
    let user = object(&options, "user", "user")?.ok_or_else(|| invalid("user", "missing"))?;
    let user_handle = bytes(user, "id", "user.id")?.ok_or_else(|| invalid("user.id", "missing"))?;
    if user_handle.is_empty() || user_handle.len() > MAX_USER_HANDLE {
        return Err(invalid("user.id", "not 1 to 64 bytes"));
    }
    let challenge = challenge(&options)?;
    let params = match options.get("pubKeyCredParams") {
        Some(Value::Array(params)) => params,
        None | Some(Value::Null) => return Err(invalid("pubKeyCredParams", "missing")),
        Some(_) => return Err(invalid("pubKeyCredParams", "not a list")),
    };
    // An empty list means the defaults, ES256 and RS256 (WebAuthn §5.1.3).
    let es256 = params.is_empty()
        || params.iter().any(|p| {
            p.get("alg").and_then(Value::as_i64) == Some(ES256)
                && p.get("type").and_then(Value::as_str).is_none_or(|t| t == "public-key")
        });
    if !es256 {
        return Err(PasskeyError::NotSupported("the relying party accepts no ES256 (P-256) key".into()));
    }
    let selection = object(&options, "authenticatorSelection", "authenticatorSelection")?;
    let mut user_verification = UserVerification::Preferred;
    if let Some(selection) = selection {
        if string(selection, "authenticatorAttachment", "authenticatorSelection.authenticatorAttachment")?
            == Some("cross-platform")
        {
            return Err(PasskeyError::NotSupported("the relying party asks for a security key".into()));
        }
        user_verification =
            UserVerification::parse(selection.get("userVerification"), "authenticatorSelection.userVerification")?;
    }
    let rp_id = caller.check_rp_id(string(rp, "id", "rp.id")?)?;
    let extensions = object(&options, "extensions", "extensions")?;
    let cred_props = extensions.is_some_and(|e| e.get("credProps") == Some(&Value::Bool(true)));
    let prf = match extensions.map(|e| object(e, "prf", "extensions.prf")).transpose()?.flatten() {
        None => None,
        Some(prf) => Some(
            object(prf, "eval", "extensions.prf.eval")?
                .map(|eval| prf_inputs(eval, "extensions.prf.eval"))
                .transpose()?,
        ),
    };
    Ok(CreateRequest {
        rp_id,
        rp_name: name(rp, "name", "rp.name")?,
        user_handle,
        user_name: name(user, "name", "user.name")?,
        user_display_name: name(user, "displayName", "user.displayName")?,
        challenge,
        exclude: credential_list(&options, "excludeCredentials")?,
        user_verification,
        cred_props,
        prf,
    })
}

/// Parses and checks `PublicKeyCredentialRequestOptionsJSON` for `caller`.
pub fn parse_get(json: &str, caller: &Caller) -> Result<GetRequest, PasskeyError> {
    let options = parse_object(json)?;
    let challenge = challenge(&options)?;
    let rp_id = caller.check_rp_id(string(&options, "rpId", "rpId")?)?;
    let user_verification = UserVerification::parse(options.get("userVerification"), "userVerification")?;
    let allow = credential_list(&options, "allowCredentials")?;
    let mut prf_eval = None;
    let mut prf_by_credential = Vec::new();
    let extensions = object(&options, "extensions", "extensions")?;
    if let Some(prf) = extensions.map(|e| object(e, "prf", "extensions.prf")).transpose()?.flatten() {
        prf_eval =
            object(prf, "eval", "extensions.prf.eval")?.map(|e| prf_inputs(e, "extensions.prf.eval")).transpose()?;
        if let Some(by) = object(prf, "evalByCredential", "extensions.prf.evalByCredential")? {
            if by.len() > MAX_LISTED_CREDENTIALS {
                return Err(invalid("extensions.prf.evalByCredential", "too many credentials"));
            }
            for (id, inputs) in by {
                let field = "extensions.prf.evalByCredential";
                let cred = decode_b64url(id).map_err(|_| invalid(field, "a key is not base64url"))?;
                // WebAuthn: evalByCredential needs allowCredentials naming each key.
                if !allow.contains(&cred) {
                    return Err(invalid(field, "names a credential allowCredentials does not list"));
                }
                let Value::Object(inputs) = inputs else {
                    return Err(invalid(field, "an entry is not an object"));
                };
                prf_by_credential.push((cred, prf_inputs(inputs, field)?));
            }
        }
    }
    Ok(GetRequest { rp_id, challenge, allow, user_verification, prf_eval, prf_by_credential })
}

/// The PRF output for `input` under one of the credential's secrets (hmac-secret semantics):
/// HMAC-SHA256(secret, SHA-256("WebAuthn PRF" ‖ 0x00 ‖ input)).
pub fn prf_output(secret: &[u8; 32], input: &[u8]) -> [u8; 32] {
    let mut salt = digest::Context::new(&digest::SHA256);
    salt.update(b"WebAuthn PRF\0");
    salt.update(input);
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, salt.finish().as_ref());
    let mut out = [0; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// The `prf.results` member for `inputs`: `{"first": …, "second": …}` in base64url.
pub fn prf_results(secret: &[u8; 32], inputs: &PrfInputs) -> Value {
    let mut results = Map::new();
    results.insert("first".into(), b64url(&prf_output(secret, &inputs.first)).into());
    if let Some(second) = &inputs.second {
        results.insert("second".into(), b64url(&prf_output(secret, second)).into());
    }
    Value::Object(results)
}

/// The parts of a registration's response.
#[derive(Debug, Clone)]
pub struct Registration<'a> {
    /// The new credential's id.
    pub credential_id: &'a [u8],
    /// The client data JSON, None when the caller hashed its own.
    pub client_data_json: Option<&'a [u8]>,
    /// The attestation object.
    pub attestation_object: &'a [u8],
    /// The authenticator data in it.
    pub authenticator_data: &'a [u8],
    /// The public key's DER SubjectPublicKeyInfo.
    pub public_key_spki: &'a [u8],
    /// `clientExtensionResults`.
    pub extensions: Value,
}

/// `RegistrationResponseJSON`.
pub fn registration_json(r: &Registration<'_>) -> String {
    let id = b64url(r.credential_id);
    json!({
        "id": id,
        "rawId": id,
        "type": "public-key",
        "authenticatorAttachment": "platform",
        "response": {
            "clientDataJSON": r.client_data_json.map(b64url).unwrap_or_default(),
            "attestationObject": b64url(r.attestation_object),
            "authenticatorData": b64url(r.authenticator_data),
            "publicKey": b64url(r.public_key_spki),
            "publicKeyAlgorithm": ES256,
            "transports": ["hybrid", "internal"],
        },
        "clientExtensionResults": r.extensions,
    })
    .to_string()
}

/// The parts of an assertion's response.
#[derive(Debug, Clone)]
pub struct Assertion<'a> {
    /// The credential's id.
    pub credential_id: &'a [u8],
    /// The client data JSON, None when the caller hashed its own.
    pub client_data_json: Option<&'a [u8]>,
    /// The authenticator data.
    pub authenticator_data: &'a [u8],
    /// The DER ECDSA signature over authenticator data ‖ client data hash.
    pub signature: &'a [u8],
    /// The user handle.
    pub user_handle: &'a [u8],
    /// `clientExtensionResults`.
    pub extensions: Value,
}

/// `AuthenticationResponseJSON`.
pub fn assertion_json(a: &Assertion<'_>) -> String {
    let id = b64url(a.credential_id);
    json!({
        "id": id,
        "rawId": id,
        "type": "public-key",
        "authenticatorAttachment": "platform",
        "response": {
            "clientDataJSON": a.client_data_json.map(b64url).unwrap_or_default(),
            "authenticatorData": b64url(a.authenticator_data),
            "signature": b64url(a.signature),
            "userHandle": b64url(a.user_handle),
        },
        "clientExtensionResults": a.extensions,
    })
    .to_string()
}

#[cfg(test)]
mod tests;
