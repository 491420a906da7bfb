//! Authy's own token store (`shared_prefs/com.authy.storage.tokens.authenticator.xml`, from a
//! rooted phone or a device backup): Authy has no export.
//!
//! The file is Android shared preferences ([`crate::backup::codec::prefs`]) whose string
//! `com.authy.storage.tokens.authenticator.key` holds a JSON array of tokens. A token holds
//! its secret as base32 text, either in clear (`decryptedSecret`) or encrypted with the user's
//! backup password (`encryptedSecret`, base64): AES-256-CBC with a zero IV and PKCS#7 padding,
//! under PBKDF2-HMAC-SHA1 of the password with the token's own `salt` (its text as bytes) and
//! 1,000 iterations (or the token's `key_derivation_iterations`). Every token has its own
//! derivation: all of them are priced together against one [`KdfBudget`] before the password
//! is asked for. CBC authenticates nothing: a token opens when the padding is valid and the
//! result is a base32 secret; when no token opens, the password is wrong.
//!
//! Authenticator tokens are TOTP, SHA-1, 30 s, with the token's `digits`. The issuer is
//! `originalIssuer`, else the part of `originalName` before `:`, else the part of `name`
//! before ` - `; the account name is what follows.

use serde::Deserialize;
use serde_json::Value;

use super::{ImportEntry, json_error, loose_entry, loose_text};
use crate::backup::codec::prefs;
use crate::error::{Error, Result};
use domain::otp::{LooseParams, Secret};
use storage::crypto::kdf::{self, KdfBudget, KdfCost, Pbkdf2Hash};
use storage::crypto::{self, CBC_IV_LEN};

/// The preference holding the tokens.
pub const TOKENS_KEY: &str = "com.authy.storage.tokens.authenticator.key";
/// Iterations Authy used before it wrote them in each token.
const DEFAULT_ITERATIONS: u32 = 1_000;

/// One token, its fields still loose: a bad field refuses this token only.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Token {
    decrypted_secret: Option<String>,
    encrypted_secret: Option<String>,
    salt: Option<String>,
    #[serde(rename = "key_derivation_iterations")]
    iterations: Option<Value>,
    #[serde(rename = "unique_iv")]
    unique_iv: Option<Value>,
    digits: Option<Value>,
    original_issuer: Option<String>,
    original_name: Option<String>,
    name: Option<String>,
    account_type: Option<String>,
}

impl Token {
    fn iterations(&self) -> std::result::Result<u32, String> {
        match loose_text(self.iterations.as_ref()) {
            None => Ok(DEFAULT_ITERATIONS),
            Some(n) => n
                .trim()
                .parse()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| "the token's iteration count is not valid".into()),
        }
    }
}

/// Whether `prefs` are Authy's token store.
pub fn is_token_store(prefs: &prefs::Prefs) -> bool {
    prefs.string(TOKENS_KEY).is_some()
}

/// Reads Authy's token store; encrypted tokens need `password`.
pub fn parse(bytes: &[u8], password: Option<&str>) -> Result<Vec<ImportEntry>> {
    let prefs =
        prefs::parse(bytes).map_err(|e| Error::InvalidImport(format!("the Authy file is not valid XML: {e}")))?;
    let tokens =
        prefs.string(TOKENS_KEY).ok_or_else(|| Error::InvalidImport("the file holds no Authy tokens".into()))?;
    let tokens: Vec<Value> = super::typed(tokens.as_bytes()).map_err(|e| json_error("the Authy tokens", &e))?;
    let tokens: Vec<std::result::Result<Token, String>> = tokens
        .into_iter()
        .map(|t| serde_json::from_value(t).map_err(|e| json_error("the token", &e).to_string()))
        .collect();

    // Every encrypted token's derivation, priced together before the password is asked for.
    let encrypted = |t: &Token| t.decrypted_secret.is_none() && t.encrypted_secret.is_some();
    let mut budget = KdfBudget::per_file();
    let mut any_encrypted = false;
    for token in tokens.iter().flatten().filter(|t| encrypted(t)) {
        any_encrypted = true;
        if let Ok(iterations) = token.iterations() {
            budget.charge(KdfCost::pbkdf2_with(Pbkdf2Hash::Sha1, iterations))?;
        }
    }
    let password = if any_encrypted { Some(password.ok_or(Error::PasswordRequired)?) } else { None };

    let mut budget = KdfBudget::per_file();
    let (mut tried, mut opened) = (0usize, 0usize);
    let mut entries = Vec::with_capacity(tokens.len());
    for (index, token) in tokens.iter().enumerate() {
        let token = match token {
            Ok(token) => token,
            Err(reason) => {
                entries.push(ImportEntry::refused(format!("entry {}", index + 1), reason));
                continue;
            }
        };
        let secret = match (&token.decrypted_secret, password) {
            (Some(secret), _) => Secret::from_base32(secret).map_err(|e| e.to_string()),
            (None, Some(password)) if token.encrypted_secret.is_some() => {
                tried += 1;
                let secret = decrypt(token, password, &mut budget)?;
                opened += usize::from(secret.is_ok());
                secret
            }
            _ => Err(domain::AccountError::MissingSecret.to_string()),
        };
        let (issuer, label) = names(token);
        let loose = LooseParams {
            kind: Some("totp".into()),
            algorithm: Some("SHA1".into()),
            digits: loose_text(token.digits.as_ref()),
            period: Some("30".into()),
            counter: None,
        };
        entries.push(loose_entry(index, &issuer, &label, secret, &loose));
    }
    if tried > 0 && opened == 0 {
        return Err(Error::WrongPassword);
    }
    Ok(entries)
}

/// One token's secret, or why it does not open. Errors are the budget's only.
fn decrypt(token: &Token, password: &str, budget: &mut KdfBudget) -> Result<std::result::Result<Secret, String>> {
    use base64::Engine;
    if token.unique_iv.as_ref().is_some_and(|v| !v.is_null()) {
        return Ok(Err("the token is encrypted in a newer Authy format (a unique IV), not supported".into()));
    }
    let (Some(sealed), Some(salt)) = (token.encrypted_secret.as_deref(), token.salt.as_deref()) else {
        return Ok(Err("the token has no salt".into()));
    };
    let Ok(sealed) = base64::engine::general_purpose::STANDARD.decode(sealed.trim()) else {
        return Ok(Err("the encrypted secret is not base64".into()));
    };
    let iterations = match token.iterations() {
        Ok(iterations) => iterations,
        Err(reason) => return Ok(Err(reason)),
    };
    let key = kdf::pbkdf2_within(Pbkdf2Hash::Sha1, password.as_bytes(), salt.as_bytes(), iterations, budget)?;
    let opened = crypto::aes256_cbc_decrypt(key.expose(), &[0; CBC_IV_LEN], &sealed)
        .and_then(|plain| std::str::from_utf8(&plain).ok().and_then(|text| Secret::from_base32(text).ok()));
    Ok(opened.ok_or_else(|| "the secret does not open with this password".into()))
}

/// The token's issuer and account name.
fn names(token: &Token) -> (String, String) {
    let original = token.original_name.as_deref().unwrap_or_default();
    let name = token.name.as_deref().unwrap_or_default();
    let issuer = match token.original_issuer.as_deref().filter(|i| !i.trim().is_empty()) {
        Some(issuer) => issuer.to_owned(),
        None => match (original.split_once(':'), name.split_once(" - ")) {
            (Some((issuer, _)), _) | (None, Some((issuer, _))) => issuer.to_owned(),
            (None, None) => {
                let kind = token.account_type.as_deref().unwrap_or_default();
                let mut chars = kind.chars();
                chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
            }
        },
    };
    let label = match original.split_once(':') {
        Some((_, label)) if !label.trim().is_empty() => label,
        _ => name.strip_prefix(issuer.as_str()).map(|rest| rest.trim_start_matches([':', ' ', '-'])).unwrap_or(name),
    };
    (issuer.trim().to_owned(), label.trim().to_owned())
}
