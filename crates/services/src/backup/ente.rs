//! Ente Auth's exports.
//!
//! The plain export has one `otpauth://` URI per line, each with Ente's own `codeDisplay`
//! parameter, JSON that says whether the entry is in Ente's trash and which tags it has.
//! Entries in the trash were deleted by the user in Ente: they are refused (named in the
//! report), not brought back. The first tag becomes the account's group.
//!
//! The encrypted export is JSON: `{"version": 1, "kdfParams": {"memLimit", "opsLimit",
//! "salt"}, "encryptedData", "encryptionNonce"}`. The key is Argon2id (v1.3, one lane, 32
//! bytes) of the password with the salt, over `memLimit` bytes for `opsLimit` passes
//! (libsodium's `crypto_pwhash`); `encryptedData` is one final message of libsodium's
//! XChaCha20-Poly1305 secretstream whose header is `encryptionNonce` (all standard base64).
//! Inside is the plain export. Ente's own setting (256 MiB × 16 passes) costs more than other
//! files may: it gets [`KdfBudget::strong_file`].

use serde::Deserialize;

use serde_json::Value;
use zeroize::Zeroizing;

use super::{ImportEntry, json_error};
use crate::error::{Error, Result};
use domain::codec::base64::decode_loose;
use domain::codec::query::{self, Query};
use domain::text::clean;
use domain::uri;
use storage::crypto::kdf::{self, Argon2Params, KdfBudget};
use storage::crypto::{Key, secretstream};

/// Whether `text` is Ente's export: otpauth lines carrying `codeDisplay`.
pub fn is_ente(text: &str) -> bool {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).take(8).any(|line| code_display(line).is_some())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CodeDisplay {
    #[serde(default)]
    trashed: bool,
    #[serde(default)]
    tags: Vec<String>,
}

/// The raw `codeDisplay` value of an otpauth line, if it has one.
fn code_display(line: &str) -> Option<String> {
    let (scheme, _, query) = query::split_uri(line)?;
    if !scheme.eq_ignore_ascii_case("otpauth") {
        return None;
    }
    Query::parse(query).ok()?.get("codeDisplay").ok().flatten().map(|v| v.to_string())
}

/// Reads the export: every non-blank line is an entry, imported or refused with the reason.
pub fn parse(text: &str) -> Vec<ImportEntry> {
    text.lines()
        .map(|line| line.trim().trim_start_matches('\u{feff}'))
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(i, line)| {
            let mut data = match uri::parse(line) {
                Ok(data) => data,
                Err(e) => return ImportEntry::refused(format!("line {}", i + 1), e.to_string()),
            };
            // A codeDisplay that is not the JSON Ente writes only loses the tags.
            let display: CodeDisplay =
                code_display(line).and_then(|d| super::typed(d.as_bytes()).ok()).unwrap_or_default();
            if display.trashed {
                let entry = ImportEntry::account(data);
                return ImportEntry::refused(entry.name, "in Ente's trash (deleted there)");
            }
            data.group = display.tags.iter().map(|t| clean(t)).find(|t| !t.is_empty()).map(|t| t.as_str().into());
            ImportEntry::account(data)
        })
        .collect()
}

/// Whether `json` is Ente's encrypted export.
pub fn is_encrypted(json: &Value) -> bool {
    json.get("kdfParams").is_some() && json.get("encryptedData").is_some()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Encrypted {
    version: u64,
    kdf_params: KdfParams,
    encrypted_data: String,
    encryption_nonce: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KdfParams {
    mem_limit: u64,
    ops_limit: u32,
    salt: String,
}

/// Reads the encrypted export with `password`.
pub fn parse_encrypted(bytes: &[u8], password: Option<&str>) -> Result<Vec<ImportEntry>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let file: Encrypted = super::typed(bytes).map_err(|e| json_error("the export", &e))?;
    if file.version != 1 {
        return Err(Error::InvalidImport(format!("unsupported Ente Auth export version {}", file.version)));
    }
    let field = |name: &str, text: &str| {
        decode_loose(text).ok_or_else(|| Error::InvalidImport(format!("the export's {name} is not base64")))
    };
    let salt = field("salt", &file.kdf_params.salt)?;
    let header: [u8; secretstream::HEADER_LEN] = field("encryptionNonce", &file.encryption_nonce)?[..]
        .try_into()
        .map_err(|_| Error::InvalidImport("the export's encryptionNonce is not 24 bytes".into()))?;
    let sealed = field("encryptedData", &file.encrypted_data)?;
    if salt.len() != 16 {
        return Err(Error::InvalidImport("the export's salt is not 16 bytes".into()));
    }
    // libsodium counts memory in bytes, Argon2 in KiB.
    let memory_kib = u32::try_from(file.kdf_params.mem_limit / 1024)
        .map_err(|_| storage::Error::KdfParameters("Argon2 parameters out of bounds"))?;
    let params = Argon2Params { memory_kib, iterations: file.kdf_params.ops_limit, parallelism: 1 };
    let password = password.ok_or(Error::PasswordRequired)?;
    let key: Key = kdf::argon2id_within(password.as_bytes(), &salt, params, &mut KdfBudget::strong_file())?;
    let (tag, plain) = secretstream::open_first(&key, &header, &sealed, b"").ok_or(Error::WrongPassword)?;
    if tag != secretstream::TAG_FINAL {
        return Err(Error::InvalidImport("the export is cut short: its encrypted data does not end".into()));
    }
    let text = Zeroizing::new(
        String::from_utf8(plain.to_vec())
            .map_err(|_| Error::InvalidImport("the decrypted export is not UTF-8 text".into()))?,
    );
    Ok(parse(&text))
}
