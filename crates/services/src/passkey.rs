//! Passkeys: this device as a FIDO2/WebAuthn platform authenticator (docs/passkeys.md).
//!
//! A shell hands a request (the options JSON Android's Credential Manager or a browser gives,
//! or iOS's parts), the caller's origin and whether it verified the user; the service checks
//! the request ([`domain::passkey`]), makes or opens the ES256 key, signs, and stores. Every
//! check runs before a key is made or opened, and a refusal stores nothing.

use ring::digest;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::{Error, Result};
use domain::passkey::{
    self as model, Assertion, CREDENTIAL_ID_LEN, Caller, CreateRequest, GetRequest, PasskeyData, PasskeyError,
    PasskeyInfo, PasskeySecret, Registration, UserVerification,
};
use domain::time::now;
use domain::webauthn::{self, Attested, Backup, Ceremony, Flags};
use storage::Vault;

domain::foreign_type! { $ passkey_registration_definition {
/// A passkey just made: the response for the relying party, and its parts (what iOS hands back).
#[derive(Debug, Clone)]
pub struct PasskeyRegistration {
    /// `RegistrationResponseJSON` (what Credential Manager returns to the caller).
    pub response_json: String,
    /// The new credential's id.
    pub credential_id: Vec<u8>,
    /// The attestation object (`none`).
    pub attestation_object: Vec<u8>,
    /// The authenticator data inside it.
    pub authenticator_data: Vec<u8>,
    /// The client data JSON signed over; None when the caller gave its own hash.
    pub client_data_json: Option<Vec<u8>>,
    /// The passkey as stored.
    pub passkey: PasskeyInfo,
}
}}

domain::foreign_type! { $ passkey_assertion_definition {
/// A signed assertion: the response for the relying party, and its parts.
#[derive(Debug, Clone)]
pub struct PasskeyAssertion {
    /// `AuthenticationResponseJSON`.
    pub response_json: String,
    /// The credential that signed.
    pub credential_id: Vec<u8>,
    /// The authenticator data.
    pub authenticator_data: Vec<u8>,
    /// The DER ECDSA signature over authenticator data ‖ SHA-256(client data).
    pub signature: Vec<u8>,
    /// The user handle the relying party gave at registration.
    pub user_handle: Vec<u8>,
    /// The client data JSON signed over; None when the caller gave its own hash.
    pub client_data_json: Option<Vec<u8>>,
    /// The passkey that signed.
    pub passkey: PasskeyInfo,
}
}}

impl From<PasskeyError> for Error {
    fn from(error: PasskeyError) -> Self {
        Error::Passkey(error)
    }
}

/// What the shell says of the user for one ceremony.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    /// The platform verified the user (biometrics, device credential, a passphrase vault).
    pub verified: bool,
}

/// The backup flags of this device now: BS while automatic backups or sync are on.
fn backup_state(vault: &Vault) -> Result<Backup> {
    let backed_up = crate::backup::auto::status(vault, now())?.enabled || vault.sync_settings()?.is_some();
    Ok(if backed_up { Backup::BackedUp } else { Backup::Eligible })
}

/// The client data to sign over: built from the challenge and origin, or the caller's hash.
enum ClientData {
    Built(String),
    Hashed([u8; 32]),
}

impl ClientData {
    fn new(ceremony: Ceremony, challenge: &[u8], caller: &Caller, hash: Option<&[u8]>) -> Result<Self> {
        if let Some(hash) = hash {
            let hash: [u8; 32] = hash
                .try_into()
                .map_err(|_| PasskeyError::Invalid { field: "clientDataHash".into(), reason: "not 32 bytes".into() })?;
            return Ok(Self::Hashed(hash));
        }
        let origin = caller.origin().ok_or_else(|| PasskeyError::Invalid {
            field: "clientDataHash".into(),
            reason: "missing (the platform builds the client data)".into(),
        })?;
        Ok(Self::Built(webauthn::client_data_json(ceremony, challenge, origin)))
    }

    fn hash(&self) -> [u8; 32] {
        match self {
            Self::Hashed(hash) => *hash,
            Self::Built(json) => sha256(json.as_bytes()),
        }
    }

    fn json(&self) -> Option<&[u8]> {
        match self {
            Self::Built(json) => Some(json.as_bytes()),
            Self::Hashed(_) => None,
        }
    }
}

fn random<const N: usize>() -> Result<[u8; N]> {
    Ok(storage::crypto::random_array::<N>()?)
}

fn point(pair: &EcdsaKeyPair) -> Result<webauthn::P256Point> {
    pair.public_key().as_ref().try_into().map_err(|_| Error::Crypto("unexpected P-256 public key"))
}

/// Creates a passkey for `request_json` (`PublicKeyCredentialCreationOptionsJSON`) from
/// `origin`; `client_data_hash` when the caller (a browser) built its own client data.
pub fn create(
    vault: &Vault,
    request_json: &str,
    origin: &str,
    client_data_hash: Option<&[u8]>,
    user: User,
) -> Result<PasskeyRegistration> {
    let caller = Caller::parse(origin)?;
    let request = model::parse_create(request_json, &caller)?;
    let client_data = ClientData::new(Ceremony::Create, &request.challenge, &caller, client_data_hash)?;
    register(vault, &request, &client_data, user)
}

/// Creates a passkey from the parts iOS hands (`ASPasskeyCredentialRequest`): the system has
/// checked the rpId and built the client data.
#[allow(clippy::too_many_arguments)]
pub fn create_parts(
    vault: &Vault,
    rp_id: &str,
    user_name: &str,
    user_display_name: &str,
    user_handle: &[u8],
    client_data_hash: &[u8],
    user: User,
    uv_required: bool,
    excluded: Vec<Vec<u8>>,
) -> Result<PasskeyRegistration> {
    let request = CreateRequest::from_parts(rp_id, user_name, user_display_name, user_handle, uv_required, excluded)?;
    let client_data = ClientData::new(Ceremony::Create, &[], &Caller::Platform, Some(client_data_hash))?;
    register(vault, &request, &client_data, user)
}

fn register(
    vault: &Vault,
    request: &CreateRequest,
    client_data: &ClientData,
    user: User,
) -> Result<PasskeyRegistration> {
    request.user_verification.allows(user.verified)?;
    for excluded in &request.exclude {
        if vault.passkey_by_credential(excluded)?.is_some_and(|p| p.rp_id == request.rp_id) {
            return Err(PasskeyError::AlreadyRegistered.into());
        }
    }
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| Error::Crypto("P-256 key generation failed"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| Error::Crypto("P-256 key generation failed"))?;
    let public = point(&pair)?;
    let data = PasskeyData {
        uid: random()?,
        credential_id: random::<CREDENTIAL_ID_LEN>()?.to_vec(),
        rp_id: request.rp_id.clone(),
        rp_name: request.rp_name.clone(),
        user_name: request.user_name.clone(),
        user_display_name: request.user_display_name.clone(),
        user_handle: request.user_handle.clone(),
        name: String::new(),
        created_at: now(),
        secret: PasskeySecret {
            private_key: Zeroizing::new(pkcs8.as_ref().to_vec()),
            prf_with_uv: Zeroizing::new(random()?),
            prf_without_uv: Zeroizing::new(random()?),
        },
    };
    let flags = Flags { user_present: true, user_verified: user.verified, backup: backup_state(vault)? };
    let attested = Attested { credential_id: &data.credential_id, public_key: &public };
    let authenticator_data = webauthn::authenticator_data(&request.rp_id, flags, Some(attested));
    let attestation_object = webauthn::attestation_object_none(&authenticator_data);
    let mut extensions = Map::new();
    if request.cred_props {
        extensions.insert("credProps".into(), json!({"rk": true}));
    }
    if let Some(prf) = &request.prf {
        let mut out = Map::new();
        out.insert("enabled".into(), Value::Bool(true));
        if let Some(inputs) = prf {
            out.insert("results".into(), model::prf_results(data.secret.prf_secret(user.verified), inputs));
        }
        extensions.insert("prf".into(), Value::Object(out));
    }
    let response_json = model::registration_json(&Registration {
        credential_id: &data.credential_id,
        client_data_json: client_data.json(),
        attestation_object: &attestation_object,
        authenticator_data: &authenticator_data,
        public_key_spki: &webauthn::p256_spki(&public),
        extensions: Value::Object(extensions),
    });
    // Stored last: every check and every byte of the answer came first.
    let passkey = vault.insert_passkey(&data)?;
    Ok(PasskeyRegistration {
        response_json,
        credential_id: data.credential_id.clone(),
        attestation_object,
        authenticator_data,
        client_data_json: client_data.json().map(<[u8]>::to_vec),
        passkey,
    })
}

/// The stored passkeys that can answer `request`: those `allowCredentials` names, or every
/// passkey of the rpId when it names none. Opens no key.
fn matching(vault: &Vault, request: &GetRequest) -> Result<Vec<PasskeyInfo>> {
    if request.allow.is_empty() {
        return Ok(vault.passkeys()?.into_iter().filter(|p| p.rp_id == request.rp_id).collect());
    }
    let mut found = Vec::new();
    for id in &request.allow {
        if let Some(passkey) = vault.passkey_by_credential(id)?.filter(|p| p.rp_id == request.rp_id) {
            found.push(passkey);
        }
    }
    Ok(found)
}

/// The passkeys a shell may offer for `request_json` from `origin` (names and ids; no key is
/// opened). Empty when none matches.
pub fn candidates(vault: &Vault, request_json: &str, origin: &str) -> Result<Vec<PasskeyInfo>> {
    let caller = Caller::parse(origin)?;
    let request = model::parse_get(request_json, &caller)?;
    matching(vault, &request)
}

/// Signs `request_json` (`PublicKeyCredentialRequestOptionsJSON`) from `origin` with the
/// passkey `credential_id` the user chose among the candidates.
pub fn get(
    vault: &Vault,
    request_json: &str,
    origin: &str,
    client_data_hash: Option<&[u8]>,
    credential_id: &[u8],
    user: User,
) -> Result<PasskeyAssertion> {
    let caller = Caller::parse(origin)?;
    let request = model::parse_get(request_json, &caller)?;
    let client_data = ClientData::new(Ceremony::Get, &request.challenge, &caller, client_data_hash)?;
    sign(vault, &request, &client_data, credential_id, user)
}

/// Signs from the parts iOS hands: the system has checked the rpId and built the client data.
pub fn get_parts(
    vault: &Vault,
    rp_id: &str,
    credential_id: &[u8],
    client_data_hash: &[u8],
    user: User,
    uv_required: bool,
) -> Result<PasskeyAssertion> {
    let request = GetRequest {
        rp_id: Caller::Platform.check_rp_id(Some(rp_id))?,
        challenge: Vec::new(),
        allow: vec![credential_id.to_vec()],
        user_verification: if uv_required { UserVerification::Required } else { UserVerification::Preferred },
        prf_eval: None,
        prf_by_credential: Vec::new(),
    };
    let client_data = ClientData::new(Ceremony::Get, &[], &Caller::Platform, Some(client_data_hash))?;
    sign(vault, &request, &client_data, credential_id, user)
}

fn sign(
    vault: &Vault,
    request: &GetRequest,
    client_data: &ClientData,
    credential_id: &[u8],
    user: User,
) -> Result<PasskeyAssertion> {
    request.user_verification.allows(user.verified)?;
    let allowed = request.allow.is_empty() || request.allow.iter().any(|id| id == credential_id);
    let passkey = vault
        .passkey_by_credential(credential_id)?
        .filter(|p| allowed && p.rp_id == request.rp_id)
        .ok_or(PasskeyError::NotFound)?;
    let secret = vault.passkey_secret(&passkey)?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &secret.private_key, &SystemRandom::new())
        .map_err(|_| Error::Corrupt(format!("passkey {} has a key that does not load", passkey.id)))?;
    let flags = Flags { user_present: true, user_verified: user.verified, backup: backup_state(vault)? };
    let authenticator_data = webauthn::authenticator_data(&request.rp_id, flags, None);
    let mut signed = authenticator_data.clone();
    signed.extend_from_slice(&client_data.hash());
    let signature = pair.sign(&SystemRandom::new(), &signed).map_err(|_| Error::Crypto("ECDSA signing failed"))?;
    let mut extensions = Map::new();
    if let Some(inputs) = request.prf_for(credential_id) {
        let results = model::prf_results(secret.prf_secret(user.verified), inputs);
        extensions.insert("prf".into(), json!({ "results": results }));
    }
    let response_json = model::assertion_json(&Assertion {
        credential_id,
        client_data_json: client_data.json(),
        authenticator_data: &authenticator_data,
        signature: signature.as_ref(),
        user_handle: &passkey.user_handle,
        extensions: Value::Object(extensions),
    });
    let used_at = now();
    vault.touch_passkey(passkey.id, used_at)?;
    Ok(PasskeyAssertion {
        response_json,
        credential_id: credential_id.to_vec(),
        authenticator_data,
        signature: signature.as_ref().to_vec(),
        user_handle: passkey.user_handle.clone(),
        client_data_json: client_data.json().map(<[u8]>::to_vec),
        passkey: PasskeyInfo { last_used_at: Some(used_at), ..passkey },
    })
}

/// The stored passkeys, of one rpId or all, oldest first.
pub fn list(vault: &Vault, rp_id: Option<&str>) -> Result<Vec<PasskeyInfo>> {
    let all = vault.passkeys()?;
    Ok(match rp_id {
        Some(rp_id) => all.into_iter().filter(|p| p.rp_id == rp_id).collect(),
        None => all,
    })
}

/// SHA-256, for a client data hash a test or a shell builds.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, data).as_ref());
    out
}

#[cfg(test)]
mod tests;
