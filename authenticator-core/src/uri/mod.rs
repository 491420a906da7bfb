//! `otpauth://` URIs: parsing what real services print, and formatting accounts back.
//!
//! Parsing is tolerant where services differ (case, spaces and dashes in secrets, padding,
//! percent-encoded labels, issuer given twice and differently) and strict where a wrong guess
//! would produce wrong codes (bad base32, unknown algorithm, HOTP without a counter).

pub(crate) mod percent;

use crate::account::{AccountData, clean_text};
use crate::otp::{Algorithm, OtpKind, OtpParams, Secret, truncated};

/// Longest URI accepted, in bytes: room for a 1 KiB secret in base32 plus long labels.
pub const MAX_URI_BYTES: usize = 16 * 1024;

/// Why a URI (or manually entered account) was refused. Messages name the problem and never
/// contain the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    #[error("not an otpauth:// URI")]
    NotOtpauth,
    #[error("unsupported OTP type '{0}' (expected totp, hotp or steam)")]
    UnsupportedType(String),
    #[error("the URI has no secret")]
    MissingSecret,
    #[error("the secret is empty")]
    EmptySecret,
    #[error("the secret is not valid base32 (letters A-Z and digits 2-7)")]
    SecretNotBase32,
    #[error("the secret is longer than 1 KiB")]
    SecretTooLong,
    #[error("invalid period '{0}': must be whole seconds from 1 to 3600")]
    InvalidPeriod(String),
    #[error("invalid digits '{0}': must be from 4 to 10")]
    InvalidDigits(String),
    #[error("unknown algorithm '{0}' (expected SHA1, SHA256 or SHA512)")]
    UnknownAlgorithm(String),
    #[error("an HOTP URI needs a counter")]
    MissingCounter,
    #[error("invalid counter '{0}': must be a whole number from 0 to 9223372036854775807")]
    InvalidCounter(String),
    #[error("the URI is not valid UTF-8 once percent-decoded")]
    InvalidEncoding,
    #[error("the URI is longer than 16 KiB")]
    TooLong,
}

/// Parses an `otpauth://totp|hotp|steam/…` URI into an account definition.
pub fn parse(uri: &str) -> Result<AccountData, UriError> {
    let uri = uri.trim();
    if uri.len() > MAX_URI_BYTES {
        return Err(UriError::TooLong);
    }
    let (scheme, rest) = uri.split_once("://").ok_or(UriError::NotOtpauth)?;
    if !scheme.eq_ignore_ascii_case("otpauth") {
        return Err(UriError::NotOtpauth);
    }
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (kind, raw_label) = path.split_once('/').unwrap_or((path, ""));
    let mut kind: OtpKind = kind.parse()?;

    let mut params = Query::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        params.set(&percent::decode(key, true)?.to_ascii_lowercase(), value);
    }

    if params.get("encoder")?.is_some_and(|e| e.trim().eq_ignore_ascii_case("steam")) {
        kind = OtpKind::Steam;
    }
    let secret = match params.get("secret")? {
        Some(text) => Secret::from_base32(&text)?,
        None => return Err(UriError::MissingSecret),
    };
    let algorithm = match params.get("algorithm")? {
        Some(a) if !a.trim().is_empty() => a.trim().parse()?,
        _ => Algorithm::Sha1,
    };
    let digits = match params.get("digits")? {
        Some(d) => d.trim().parse::<u8>().map_err(|_| UriError::InvalidDigits(truncated(&d)))?,
        None => 6,
    };
    let otp = match kind {
        OtpKind::Steam => OtpParams::steam(),
        OtpKind::Totp => {
            let period = match params.get("period")? {
                Some(p) => p.trim().parse::<u32>().map_err(|_| UriError::InvalidPeriod(truncated(&p)))?,
                None => 30,
            };
            OtpParams::totp(algorithm, digits, period)?
        }
        OtpKind::Hotp => {
            let counter = params.get("counter")?.ok_or(UriError::MissingCounter)?;
            let counter = counter.trim().parse::<u64>().map_err(|_| UriError::InvalidCounter(truncated(&counter)))?;
            OtpParams::hotp(algorithm, digits, counter)?
        }
    };

    let label = clean_text(&percent::decode(raw_label, false)?);
    let issuer_param = params.get("issuer")?.map(|i| clean_text(&i)).filter(|i| !i.is_empty());
    let (issuer, label) = split_label(&label, issuer_param);
    Ok(AccountData { issuer, label, params: otp, secret, group: None })
}

/// Splits a decoded label `Issuer:account` against the `issuer` parameter.
///
/// The `issuer` parameter wins as the issuer (Google's key-URI spec says so). A label prefix that
/// names a different issuer is kept in the label (`Work:alice`), so no information is lost.
fn split_label(label: &str, issuer_param: Option<String>) -> (String, String) {
    if let Some(issuer) = &issuer_param
        && let Some(account) = label.strip_prefix(issuer.as_str()).and_then(|r| r.strip_prefix(':'))
    {
        return (issuer.clone(), account.trim().to_owned());
    }
    match (label.split_once(':'), issuer_param) {
        (Some((prefix, account)), None) => (prefix.trim().to_owned(), account.trim().to_owned()),
        (Some((prefix, account)), Some(issuer)) => {
            let prefix = prefix.trim();
            if prefix.is_empty() || prefix.eq_ignore_ascii_case(&issuer) {
                (issuer, account.trim().to_owned())
            } else {
                (issuer, format!("{prefix}:{}", account.trim()))
            }
        }
        (None, issuer) => (issuer.unwrap_or_default(), label.to_owned()),
    }
}

/// Formats an account as an `otpauth://` URI that [`parse`] reads back to the same account
/// (except its group, which URIs do not carry). The result contains the secret.
pub fn format(account: &AccountData) -> String {
    let p = &account.params;
    let mut uri = format!("otpauth://{}/", p.kind().as_str());
    if !account.issuer.is_empty() || account.label.contains(':') {
        uri.push_str(&percent::encode(&account.issuer, true));
        uri.push(':');
    }
    uri.push_str(&percent::encode(&account.label, true));
    uri.push_str("?secret=");
    uri.push_str(&account.secret.to_base32());
    if !account.issuer.is_empty() {
        uri.push_str("&issuer=");
        uri.push_str(&percent::encode(&account.issuer, false));
    }
    match p.kind() {
        OtpKind::Steam => {}
        OtpKind::Totp => {
            uri.push_str(&format!("&algorithm={}&digits={}&period={}", p.algorithm(), p.digits(), p.period()))
        }
        OtpKind::Hotp => {
            uri.push_str(&format!("&algorithm={}&digits={}&counter={}", p.algorithm(), p.digits(), p.counter()))
        }
    }
    uri
}

/// Query parameters, raw (still percent-encoded); the first occurrence of a key wins.
#[derive(Default)]
struct Query<'a> {
    pairs: Vec<(String, &'a str)>,
}

impl<'a> Query<'a> {
    fn set(&mut self, key: &str, value: &'a str) {
        if !self.pairs.iter().any(|(k, _)| k == key) {
            self.pairs.push((key.to_owned(), value));
        }
    }

    fn get(&self, key: &str) -> Result<Option<String>, UriError> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| percent::decode(v, true)).transpose()
    }
}

#[cfg(test)]
mod tests;
