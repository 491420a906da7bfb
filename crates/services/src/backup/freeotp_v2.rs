//! FreeOTP's password-protected backup (FreeOTP 2.x, `externalBackup.xml`).
//!
//! Despite its name, the file is a Java-serialized `HashMap<String, String>`
//! ([`crate::backup::codec::javaser`]) of JSON texts:
//!
//! - `masterKey`: `{mAlgorithm: "PBKDF2withHmacSHA1" | …SHA256 | …SHA512, mIterations, mSalt,
//!   mEncryptedKey}`: the master key, AES-256-GCM-encrypted under PBKDF2 of the password;
//! - `<uuid>`: `{"key": "<JSON of an encrypted key>"}`: the token's secret under the master key;
//! - `<uuid>-token`: the token's parameters (`type`, `algo`, `digits`, `period`, `counter`,
//!   `issuerExt`, `label`).
//!
//! An encrypted key is `{mCipher: "AES/GCM/NoPadding", mCipherText: ciphertext ‖ tag as signed
//! bytes, mParameters: DER of the GCM parameters (the nonce, and the tag length on newer
//! Android), mToken}`; its `mToken` (the key's algorithm name, "AES" or "HmacSHA1"…) is the
//! associated data. The password derivation is charged to a [`KdfBudget`] before the password
//! is asked for; a master key that does not open is [`Error::WrongPassword`]; a token that
//! does not open under it is refused alone. A TOTP token whose issuer is "Steam" is a Steam
//! account, as in FreeOTP.

use serde::Deserialize;
use serde_json::Value;

use super::{ImportEntry, json_error, loose_entry, loose_text};
use crate::backup::codec::javaser;
use crate::error::{Error, Result};
use domain::otp::{LooseParams, Secret};
use storage::crypto::kdf::{self, KdfBudget, KdfCost, Pbkdf2Hash};
use storage::crypto::{self, NONCE_LEN, TAG_LEN};

const MASTER_KEY: &str = "masterKey";
const TOKEN_SUFFIX: &str = "-token";

#[derive(Deserialize)]
struct MasterKey {
    #[serde(rename = "mAlgorithm")]
    algorithm: String,
    #[serde(rename = "mIterations")]
    iterations: u32,
    #[serde(rename = "mSalt")]
    salt: Vec<i8>,
    #[serde(rename = "mEncryptedKey")]
    encrypted_key: EncryptedKey,
}

#[derive(Deserialize)]
struct EncryptedKey {
    #[serde(rename = "mCipher")]
    cipher: String,
    #[serde(rename = "mCipherText")]
    ciphertext: Vec<i8>,
    #[serde(rename = "mParameters")]
    parameters: Vec<i8>,
    #[serde(rename = "mToken")]
    token: String,
}

/// `{"key": "<JSON of an EncryptedKey>"}`.
#[derive(Deserialize)]
struct TokenKey {
    key: String,
}

/// A token's parameters, still loose: a bad field refuses this token only.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Token {
    #[serde(rename = "type")]
    kind: Option<Value>,
    algo: Option<Value>,
    digits: Option<Value>,
    period: Option<Value>,
    counter: Option<Value>,
    issuer_ext: Option<String>,
    issuer_int: Option<String>,
    label: Option<String>,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidImport(reason.into())
}

fn bytes_of(signed: &[i8]) -> Vec<u8> {
    signed.iter().map(|&b| b as u8).collect()
}

impl EncryptedKey {
    /// The GCM nonce from the DER parameters: `04 0c <nonce>` or
    /// `30 11 04 0c <nonce> 02 01 10` (with the tag length, which must be 16 bytes).
    fn nonce(&self) -> Option<Vec<u8>> {
        let der = bytes_of(&self.parameters);
        let octets = match der.as_slice() {
            [0x30, len, rest @ ..] if usize::from(*len) == rest.len() => rest,
            other => other,
        };
        match octets {
            [0x04, 0x0c, nonce @ ..] if nonce.len() == NONCE_LEN => Some(nonce.to_vec()),
            [0x04, 0x0c, rest @ ..] => match rest.split_at_checked(NONCE_LEN)? {
                (nonce, [0x02, 0x01, tag_len]) if usize::from(*tag_len) == TAG_LEN => Some(nonce.to_vec()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The key this one holds, opened with `key`; `None` when it does not open.
    fn open(&self, key: &[u8]) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        if !self.cipher.eq_ignore_ascii_case("AES/GCM/NoPadding") {
            return None;
        }
        let sealed = zeroize::Zeroizing::new(bytes_of(&self.ciphertext));
        crypto::open_detached(key, &self.nonce()?, &sealed, self.token.as_bytes())
    }
}

/// Reads a FreeOTP backup with `password`.
pub fn parse(bytes: &[u8], password: Option<&str>) -> Result<Vec<ImportEntry>> {
    let map =
        javaser::read_string_map(bytes).map_err(|e| invalid(format!("the FreeOTP backup cannot be read: {e}")))?;
    let value = |key: &str| map.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_ref());
    let master = value(MASTER_KEY).ok_or_else(|| invalid("the FreeOTP backup has no master key"))?;
    let master: MasterKey = super::typed(master.as_bytes()).map_err(|e| json_error("the master key", &e))?;
    let hash = match master.algorithm.to_ascii_lowercase().as_str() {
        "pbkdf2withhmacsha1" => Pbkdf2Hash::Sha1,
        "pbkdf2withhmacsha256" => Pbkdf2Hash::Sha256,
        "pbkdf2withhmacsha512" => Pbkdf2Hash::Sha512,
        _ => return Err(invalid("the master key's derivation is not PBKDF2 with SHA-1, SHA-256 or SHA-512")),
    };
    if master.encrypted_key.nonce().is_none() {
        return Err(invalid("the master key's GCM parameters are not valid"));
    }
    // Priced before the password is asked for.
    KdfBudget::per_file().charge(KdfCost::pbkdf2_with(hash, master.iterations))?;
    let password = password.ok_or(Error::PasswordRequired)?;
    let derived = kdf::pbkdf2_within(
        hash,
        password.as_bytes(),
        &bytes_of(&master.salt),
        master.iterations,
        &mut KdfBudget::per_file(),
    )?;
    let master_key = master.encrypted_key.open(derived.expose()).ok_or(Error::WrongPassword)?;

    let tokens = map.iter().filter(|(k, v)| k != MASTER_KEY && !k.ends_with(TOKEN_SUFFIX) && v.is_some());
    Ok(tokens
        .enumerate()
        .map(|(index, (id, key))| {
            let params = value(&format!("{id}{TOKEN_SUFFIX}"));
            entry_of(
                index,
                key.as_deref().map(String::as_str).unwrap_or_default(),
                params.map(|p| p.as_str()),
                &master_key,
            )
        })
        .collect())
}

fn entry_of(index: usize, key: &str, params: Option<&str>, master_key: &[u8]) -> ImportEntry {
    let noun = format!("entry {}", index + 1);
    let Some(params) = params else {
        return ImportEntry::refused(noun, "the token has no parameters");
    };
    let token: Token = match super::typed(params.as_bytes()) {
        Ok(token) => token,
        Err(e) => return ImportEntry::refused(noun, json_error("the token", &e).to_string()),
    };
    let secret = super::typed::<TokenKey>(key.as_bytes())
        .ok()
        .and_then(|k| super::typed::<EncryptedKey>(k.key.as_bytes()).ok())
        .ok_or_else(|| "the token's key cannot be read".to_owned())
        .and_then(|k| k.open(master_key).ok_or_else(|| "the token's key does not open: damaged or modified".to_owned()))
        .and_then(|secret| Secret::from_bytes(secret.to_vec()).map_err(|e| e.to_string()));
    let issuer =
        token.issuer_ext.as_deref().filter(|i| !i.is_empty()).or(token.issuer_int.as_deref()).unwrap_or_default();
    let mut kind = loose_text(token.kind.as_ref());
    if kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("totp")) && issuer == "Steam" {
        kind = Some("steam".into());
    }
    let loose = LooseParams {
        kind,
        algorithm: loose_text(token.algo.as_ref()),
        digits: loose_text(token.digits.as_ref()),
        period: loose_text(token.period.as_ref()),
        // FreeOTP leaves a counter of 0 out.
        counter: loose_text(token.counter.as_ref()).or_else(|| Some("0".into())),
    };
    loose_entry(index, issuer, token.label.as_deref().unwrap_or_default(), secret, &loose)
}
