//! `otpauth://` URIs: parsing what real services print, and formatting accounts back.
//!
//! Parsing is tolerant where services differ (case, spaces and dashes in secrets, padding,
//! percent-encoded labels, issuer given twice and differently) and strict where a wrong guess
//! would produce wrong codes (bad base32, unknown algorithm, HOTP without a counter).

use zeroize::Zeroizing;

use crate::account::AccountData;
use crate::codec::query::{self, Query};
use crate::otp::AccountError;
use crate::otp::{LooseParams, OtpKind, OtpParams, Secret};
use crate::text::clean as clean_text;

/// Longest URI accepted, in bytes: room for a 1 KiB secret in base32 plus long labels.
pub const MAX_URI_BYTES: usize = 16 * 1024;

/// Parses an `otpauth://totp|hotp|steam/…` URI into an account definition.
pub fn parse(uri: &str) -> Result<AccountData, AccountError> {
    let uri = uri.trim();
    if uri.len() > MAX_URI_BYTES {
        return Err(AccountError::TooLong);
    }
    let (scheme, path, query) = query::split_uri(uri).ok_or(AccountError::NotOtpauth)?;
    if scheme.eq_ignore_ascii_case("steam") {
        return parse_steam(path);
    }
    if !scheme.eq_ignore_ascii_case("otpauth") {
        return Err(AccountError::NotOtpauth);
    }
    let (kind, raw_label) = path.split_once('/').unwrap_or((path, ""));
    let params = Query::parse(query)?;
    let get = |key: &str| params.get(key).map(|v| v.map(|v| v.to_string()));
    let steam_encoder = get("encoder")?.is_some_and(|e| e.trim().eq_ignore_ascii_case("steam"));
    let kind: OtpKind = if steam_encoder { OtpKind::Steam } else { kind.parse()? };
    let secret = match params.get("secret")? {
        Some(text) => Secret::from_base32(&text)?,
        None => return Err(AccountError::MissingSecret),
    };
    let loose = LooseParams {
        kind: Some(kind.as_str().to_owned()),
        algorithm: get("algorithm")?,
        digits: get("digits")?,
        period: get("period")?,
        counter: get("counter")?,
    };
    let otp = OtpParams::from_loose(&loose)?;
    let label = clean_text(&query::decode(raw_label, false)?);
    let issuer_param = params.get("issuer")?.map(|i| clean_text(&i)).unwrap_or_default();
    let (issuer, label) = split_label(&label, &issuer_param);
    Ok(AccountData { issuer: issuer.into(), label: label.into(), params: otp, secret, group: None })
}

/// `steam://SECRET`, as Bitwarden, Proton Authenticator and others write a Steam Guard account:
/// the base32 secret and nothing else, so the account is named after its issuer, "Steam".
fn parse_steam(path: &str) -> Result<AccountData, AccountError> {
    let secret = path.trim_end_matches('/');
    if secret.is_empty() {
        return Err(AccountError::MissingSecret);
    }
    let secret = Secret::from_base32(&query::decode(secret, false)?)?;
    Ok(AccountData { issuer: "Steam".into(), label: "".into(), params: OtpParams::steam(), secret, group: None })
}

/// Splits a label `Issuer:account` against a separately given `issuer` (empty when none): the
/// one rule for otpauth labels, push enrollment labels and Google migration names.
///
/// The given issuer wins (Google's key-URI spec says so). A label prefix that names a different
/// issuer is kept in the label (`Work:alice`), so no information is lost.
pub fn split_label(label: &str, issuer: &str) -> (String, String) {
    let issuer_param = Some(issuer.to_owned()).filter(|i| !i.is_empty());
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
pub fn format(account: &AccountData) -> Zeroizing<String> {
    format_with(account, SteamUri::Scheme)
}

crate::foreign_type! { $ steam_uri_definition {
/// How a Steam account is written as a URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SteamUri {
    /// `otpauth://steam/…` (Aegis, 2FAS, this app).
    #[default]
    Scheme,
    /// `otpauth://totp/…&digits=5&period=30&encoder=steam`, for apps that read the `encoder`
    /// parameter but not the `steam` scheme (KeePassXC's form). An app that ignores `encoder`
    /// still accepts the URI but shows plain 5-digit TOTP codes, which Steam does not take.
    TotpEncoder,
}
}}

/// Every account as an `otpauth://` URI, in the order given, Steam accounts written as `steam`
/// says: the URI-list export of both facades. The URIs hold the secrets (each in a zeroizing
/// buffer).
pub fn format_all(accounts: &[AccountData], steam: SteamUri) -> Vec<Zeroizing<String>> {
    accounts.iter().map(|account| format_with(account, steam)).collect()
}

/// [`format`], with Steam accounts written as `steam` says.
pub fn format_with(account: &AccountData, steam: SteamUri) -> Zeroizing<String> {
    let p = &account.params;
    let mut path = String::new();
    if !account.issuer.is_empty() || account.label.contains(':') {
        path.push_str(&query::encode(&account.issuer, true));
        path.push(':');
    }
    path.push_str(&query::encode(&account.label, true));
    let issuer = if account.issuer.is_empty() {
        String::new()
    } else {
        format!("&issuer={}", query::encode(&account.issuer, false))
    };
    let steam_as_totp = p.kind() == OtpKind::Steam && steam == SteamUri::TotpEncoder;
    let params = match p.kind() {
        OtpKind::Steam if steam_as_totp => {
            format!("&algorithm={}&digits={}&period={}&encoder=steam", p.algorithm(), p.digits(), p.period())
        }
        OtpKind::Steam => String::new(),
        OtpKind::Totp => format!("&algorithm={}&digits={}&period={}", p.algorithm(), p.digits(), p.period()),
        OtpKind::Hotp => format!("&algorithm={}&digits={}&counter={}", p.algorithm(), p.digits(), p.counter()),
    };
    let secret = account.secret.to_base32();
    let kind = if steam_as_totp { OtpKind::Totp } else { p.kind() };
    let scheme = format!("otpauth://{}/", kind.as_str());
    let parts = [scheme.as_str(), &path, "?secret=", &secret, &issuer, &params];
    // The URI carries the secret: one buffer of exactly its size, so no growing step leaves a
    // copy behind in freed memory, wiped on drop.
    let mut uri = Zeroizing::new(String::with_capacity(parts.iter().map(|part| part.len()).sum()));
    for part in parts {
        uri.push_str(part);
    }
    uri
}

impl From<query::NotUtf8> for AccountError {
    fn from(_: query::NotUtf8) -> Self {
        AccountError::InvalidEncoding
    }
}

#[cfg(test)]
mod tests;
