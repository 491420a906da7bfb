//! FreeOTP's version 1 token store and FreeOTP+'s export, which share one token shape.
//!
//! - FreeOTP v1 keeps its tokens in shared preferences (`tokens.xml`, from a rooted phone or a
//!   device backup): one `<string>` per token, named by its id, holding the token as JSON, and a
//!   `tokenOrder` string listing the ids in the user's order. FreeOTP+ keeps the same file.
//! - FreeOTP+ exports `{ "tokenOrder": [...], "tokens": [...] }` with the same token objects.
//!
//! A token: `type` (`TOTP`/`HOTP`), `algo`, `digits`, `period`, `counter`, the secret as an
//! array of signed bytes, `issuerExt` (from the URI label) and `issuerInt` (its `issuer`
//! parameter), `label`, and the names the user edited (`issuerAlt`, `labelAlt`), which win.
//! FreeOTP stores an HOTP counter one below the otpauth URI's (its own export writes
//! `counter + 1`), so the counter imported is the stored one plus one: the next code is the one
//! FreeOTP would have shown next. A token whose issuer is "Steam" makes Steam codes in FreeOTP,
//! and so here.
//!
//! (FreeOTP v2's password-protected backup is another file: a master key and encrypted tokens.)

use serde::Deserialize;
use serde_json::Value;

use super::{ImportEntry, display_name, entry_name, json_error, loose_text};
use crate::backup::codec::prefs::{self, Kind, Prefs};
use crate::error::{Error, Result};
use domain::account::AccountData;
use domain::otp::{LooseParams, OtpParams, Secret};
use domain::text::clean;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Export {
    tokens: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Token {
    #[serde(rename = "type")]
    kind: Option<String>,
    algo: Option<Value>,
    digits: Option<Value>,
    period: Option<Value>,
    counter: Option<Value>,
    secret: Option<Vec<i64>>,
    issuer_ext: Option<String>,
    issuer_int: Option<String>,
    issuer_alt: Option<String>,
    label: Option<String>,
    label_alt: Option<String>,
}

/// Whether `prefs` is FreeOTP's v1 token store (or FreeOTP+'s): tokens with a plain secret,
/// no v2 master key.
pub fn is_freeotp_prefs(prefs: &Prefs) -> bool {
    prefs.get("masterKey").is_none() && prefs.entries.iter().any(|p| token_json(p).is_some())
}

/// Whether `json` is FreeOTP+'s export.
pub fn is_freeotp_plus(json: &Value) -> bool {
    json.get("tokens").is_some_and(Value::is_array) && json.get("tokenOrder").is_some()
}

/// A `<string>` of the prefs that holds a token as JSON.
fn token_json(pref: &prefs::Pref) -> Option<Value> {
    if pref.kind != Kind::String || pref.name == "tokenOrder" {
        return None;
    }
    let value: Value = super::typed(pref.value.as_bytes()).ok()?;
    (value.get("secret").is_some() && value.get("type").is_some()).then_some(value)
}

/// Reads FreeOTP's (or FreeOTP+'s) token prefs, in the user's order.
pub fn parse_prefs(bytes: &[u8]) -> Result<Vec<ImportEntry>> {
    let prefs = prefs::parse(bytes).map_err(|e| Error::InvalidImport(format!("the token file is not valid: {e}")))?;
    let mut tokens: Vec<(String, Value)> =
        prefs.entries.iter().filter_map(|p| token_json(p).map(|t| (p.name.clone(), t))).collect();
    let order: Vec<String> =
        prefs.string("tokenOrder").and_then(|o| super::typed::<Vec<String>>(o.as_bytes()).ok()).unwrap_or_default();
    // Listed tokens first in the listed order, then any the order forgot, in file order.
    tokens.sort_by_key(|(id, _)| order.iter().position(|o| o == id).unwrap_or(usize::MAX));
    Ok(tokens.iter().enumerate().map(|(i, (_, token))| entry_of(i, token)).collect())
}

/// Reads FreeOTP+'s JSON export.
pub fn parse_plus(bytes: &[u8]) -> Result<Vec<ImportEntry>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let file: Export = super::typed(bytes).map_err(|e| json_error("the export", &e))?;
    Ok(file.tokens.iter().enumerate().map(|(i, token)| entry_of(i, token)).collect())
}

fn entry_of(index: usize, value: &Value) -> ImportEntry {
    let token: Token = match serde_json::from_value(value.clone()) {
        Ok(token) => token,
        Err(e) => return ImportEntry::refused(format!("token {}", index + 1), json_error("the token", &e).to_string()),
    };
    let first = |names: [&Option<String>; 3]| {
        names.into_iter().flatten().map(|n| clean(n)).find(|n| !n.is_empty()).unwrap_or_default()
    };
    let issuer = first([&token.issuer_alt, &token.issuer_ext, &token.issuer_int]);
    let label = first([&token.label_alt, &token.label, &None]);
    let name = entry_name(display_name(&issuer, &label), "token", index);
    match account_of(&token, issuer, label) {
        Ok(data) => ImportEntry { name, outcome: Ok(data) },
        Err(reason) => ImportEntry::refused(name, reason),
    }
}

fn account_of(token: &Token, issuer: String, label: String) -> std::result::Result<AccountData, String> {
    let bytes = token.secret.as_ref().ok_or(domain::AccountError::MissingSecret.to_string())?;
    let bytes: Vec<u8> = bytes
        .iter()
        .map(|&b| if (-128..=255).contains(&b) { Ok(b as u8) } else { Err("the secret is not a list of bytes") })
        .collect::<std::result::Result<_, _>>()?;
    let secret = Secret::from_bytes(bytes).map_err(|e| e.to_string())?;
    let steam = token.issuer_ext.as_deref() == Some("Steam");
    let kind = token.kind.as_deref().unwrap_or("TOTP").trim().to_ascii_lowercase();
    let counter = match loose_text(token.counter.as_ref()) {
        // The stored counter is the last code's; the next code's is one more.
        Some(c) if kind == "hotp" => {
            let c = c.trim().parse::<u64>().map_err(|_| format!("invalid counter '{}'", domain::text::excerpt(&c)))?;
            Some((c + 1).to_string())
        }
        Some(_) | None if kind == "hotp" => Some("0".into()),
        _ => None,
    };
    let loose = LooseParams {
        kind: Some(if steam && kind == "totp" { "steam".into() } else { kind }),
        algorithm: loose_text(token.algo.as_ref()),
        digits: loose_text(token.digits.as_ref()),
        period: loose_text(token.period.as_ref()),
        counter,
    };
    let params = OtpParams::from_loose(&loose).map_err(|e| e.to_string())?;
    Ok(AccountData { issuer: issuer.into(), label: label.into(), params, secret, group: None })
}
