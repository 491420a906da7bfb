//! Google Authenticator's `otpauth-migration://offline?data=…` payloads.
//!
//! `data` is base64 of a protobuf `MigrationPayload` (the schema below, as published by the
//! projects that reverse-engineered it). Exports of many accounts span several QR codes: one
//! payload each, sharing a `batch_id`, numbered by `batch_index` out of `batch_size`.
//!
//! ```text
//! message MigrationPayload {
//!   enum Algorithm { UNSPECIFIED = 0; SHA1 = 1; SHA256 = 2; SHA512 = 3; MD5 = 4; }
//!   enum DigitCount { UNSPECIFIED = 0; SIX = 1; EIGHT = 2; }
//!   enum OtpType { UNSPECIFIED = 0; HOTP = 1; TOTP = 2; }
//!   message OtpParameters {
//!     bytes secret = 1; string name = 2; string issuer = 3; Algorithm algorithm = 4;
//!     DigitCount digits = 5; OtpType type = 6; int64 counter = 7;
//!   }
//!   repeated OtpParameters otp_parameters = 1;
//!   int32 version = 2; int32 batch_size = 3; int32 batch_index = 4; int32 batch_id = 5;
//! }
//! ```
//!
//! The format has no period (always 30 s), only 6 or 8 digits and no Steam: [`export`] leaves
//! out the accounts it cannot carry, with a warning each, rather than change their codes.
//! Groups are not carried either (Google Authenticator has none).

use zeroize::Zeroizing;

use super::{ImportEntry, display_name};
use crate::account::{AccountData, clean_text};
use crate::error::{Error, Result};
use crate::otp::{Algorithm, OtpKind, OtpParams, Secret};
use crate::uri::{self, percent};

/// Accounts per QR code in [`export`]: Google Authenticator's own choice, which keeps each QR
/// code small enough for phone cameras.
pub const ACCOUNTS_PER_QR: usize = 10;
/// Protocol version written by [`export`] (Google Authenticator writes 1).
const VERSION: u64 = 1;
/// Batches claiming more QR codes than this are not checked for completeness.
const MAX_CHECKED_BATCH: u64 = 1000;
const SCHEME: &str = "otpauth-migration://";

/// The QR payloads of an export, and what was left out. `Debug` hides the URIs (they carry the
/// secrets).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct GoogleExport {
    /// One `otpauth-migration://offline?data=…` URI per QR code, in order. Contains secrets.
    pub uris: Vec<String>,
    /// One line per account left out, naming it and saying why.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for GoogleExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleExport")
            .field("uris", &format_args!("<{} redacted>", self.uris.len()))
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// Reads one migration URI per line (a multi-QR batch is several lines). Blank lines and `#`
/// comments are skipped; a plain `otpauth://` line is read as such.
///
/// A line that cannot be decoded becomes a refused entry ("line 2"), so one bad scan does not
/// lose the other QR codes; when no line at all can be decoded the import fails with
/// [`Error::InvalidImport`]. QR codes missing from a batch are reported as one refused entry.
pub fn parse_lines(text: &str) -> Result<Vec<ImportEntry>> {
    let mut entries = Vec::new();
    let mut batches: Vec<Batch> = Vec::new();
    let mut decoded_any = false;
    let mut first_error = None;
    // Numbered before blank and comment lines are skipped: "line N" is the line in the file.
    let lines = text
        .lines()
        .map(|line| line.trim().trim_start_matches('\u{feff}'))
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
    for (i, line) in lines {
        let name = format!("line {}", i + 1);
        if line.get(..10).is_some_and(|s| s.eq_ignore_ascii_case("otpauth://")) {
            match uri::parse(line) {
                Ok(data) => entries.push(ImportEntry::account(data)),
                Err(e) => entries.push(ImportEntry::refused(name, e.to_string())),
            }
            decoded_any = true;
            continue;
        }
        match decode_line(line) {
            Ok(payload) => {
                decoded_any = true;
                note_batch(&mut batches, &payload);
                entries.extend(payload.otp_parameters.into_iter().map(OtpParameters::into_entry));
            }
            Err(reason) => {
                first_error.get_or_insert_with(|| reason.clone());
                entries.push(ImportEntry::refused(name, reason));
            }
        }
    }
    if !decoded_any {
        return Err(Error::InvalidImport(first_error.unwrap_or_else(|| "no otpauth-migration:// URI".into())));
    }
    entries.extend(batches.iter().filter_map(Batch::missing));
    Ok(entries)
}

/// The QR codes seen of one batch.
struct Batch {
    id: u64,
    size: u64,
    seen: Vec<u64>,
}

impl Batch {
    /// A refused entry naming the QR codes of the batch that were not imported.
    fn missing(&self) -> Option<ImportEntry> {
        let missing: Vec<String> =
            (0..self.size).filter(|i| !self.seen.contains(i)).map(|i| (i + 1).to_string()).collect();
        if missing.is_empty() {
            return None;
        }
        let (codes, were) = if missing.len() == 1 { ("QR code", "was") } else { ("QR codes", "were") };
        let shown = if missing.len() > 10 { format!("{}, …", missing[..10].join(", ")) } else { missing.join(", ") };
        Some(ImportEntry::refused(
            "Google Authenticator export",
            format!(
                "{codes} {shown} of {} {were} not imported: scan every QR code Google Authenticator shows",
                self.size
            ),
        ))
    }
}

fn note_batch(batches: &mut Vec<Batch>, payload: &Payload) {
    if !(2..=MAX_CHECKED_BATCH).contains(&payload.batch_size) || payload.batch_index >= payload.batch_size {
        return;
    }
    match batches.iter_mut().find(|b| b.id == payload.batch_id && b.size == payload.batch_size) {
        Some(batch) => batch.seen.push(payload.batch_index),
        None => batches.push(Batch { id: payload.batch_id, size: payload.batch_size, seen: vec![payload.batch_index] }),
    }
}

/// `otpauth-migration://offline?data=…` to its payload, or why it cannot be read.
fn decode_line(line: &str) -> std::result::Result<Payload, String> {
    let rest = match line.get(..SCHEME.len()) {
        Some(scheme) if scheme.eq_ignore_ascii_case(SCHEME) => &line[SCHEME.len()..],
        _ => return Err("not an otpauth-migration:// URI".into()),
    };
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let query = rest.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let data = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.eq_ignore_ascii_case("data"))
        .map(|(_, value)| value)
        .ok_or("the URI has no data")?;
    let data = percent::decode(data, false).map_err(|_| "the data is not valid percent-encoding".to_owned())?;
    let bytes = base64_decode(&data).ok_or("the data is not base64")?;
    Payload::decode(&bytes).map_err(|e| format!("the data is damaged ({e})"))
}

/// Base64 as it appears in the wild: standard or URL-safe alphabet, with or without padding,
/// and with `+` turned into a space by a form decoder along the way.
fn base64_decode(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let normalised: String = text
        .chars()
        .filter(|c| !matches!(c, '\n' | '\r' | '\t'))
        .map(|c| match c {
            ' ' | '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    ENGINE.decode(normalised.trim_end_matches('=')).ok().map(Zeroizing::new)
}

/// A decoded `MigrationPayload`.
struct Payload {
    otp_parameters: Vec<OtpParameters>,
    batch_size: u64,
    batch_index: u64,
    batch_id: u64,
}

impl Payload {
    fn decode(bytes: &[u8]) -> std::result::Result<Self, proto::DecodeError> {
        let mut payload = Payload { otp_parameters: Vec::new(), batch_size: 0, batch_index: 0, batch_id: 0 };
        let mut reader = proto::Reader::new(bytes);
        while let Some((field, value)) = reader.next_field()? {
            match (field, value) {
                (1, proto::Value::Bytes(message)) => payload.otp_parameters.push(OtpParameters::decode(message)?),
                (3, proto::Value::Varint(v)) => payload.batch_size = v,
                (4, proto::Value::Varint(v)) => payload.batch_index = v,
                (5, proto::Value::Varint(v)) => payload.batch_id = v,
                _ => {} // version, and fields added later
            }
        }
        Ok(payload)
    }
}

/// A decoded `OtpParameters`, not yet validated.
#[derive(Default)]
struct OtpParameters {
    secret: Zeroizing<Vec<u8>>,
    name: String,
    issuer: String,
    algorithm: u64,
    digits: u64,
    kind: u64,
    counter: u64,
}

impl OtpParameters {
    fn decode(bytes: &[u8]) -> std::result::Result<Self, proto::DecodeError> {
        let mut otp = OtpParameters::default();
        let mut reader = proto::Reader::new(bytes);
        while let Some((field, value)) = reader.next_field()? {
            match (field, value) {
                (1, proto::Value::Bytes(b)) => otp.secret = Zeroizing::new(b.to_vec()),
                (2, proto::Value::Bytes(b)) => otp.name = String::from_utf8_lossy(b).into_owned(),
                (3, proto::Value::Bytes(b)) => otp.issuer = String::from_utf8_lossy(b).into_owned(),
                (4, proto::Value::Varint(v)) => otp.algorithm = v,
                (5, proto::Value::Varint(v)) => otp.digits = v,
                (6, proto::Value::Varint(v)) => otp.kind = v,
                (7, proto::Value::Varint(v)) => otp.counter = v,
                _ => {}
            }
        }
        Ok(otp)
    }

    fn into_entry(self) -> ImportEntry {
        let (issuer, label) = split_name(clean_text(&self.name), clean_text(&self.issuer));
        let name = display_name(&issuer, &label);
        let name = if name.is_empty() { "unnamed account".to_owned() } else { name };
        match self.params() {
            Ok(params) => match Secret::from_bytes(self.secret.to_vec()) {
                Ok(secret) => {
                    ImportEntry { name, outcome: Ok(AccountData { issuer, label, params, secret, group: None }) }
                }
                Err(e) => ImportEntry::refused(name, e.to_string()),
            },
            Err(reason) => ImportEntry::refused(name, reason),
        }
    }

    fn params(&self) -> std::result::Result<OtpParams, String> {
        let algorithm = match self.algorithm {
            0 | 1 => Algorithm::Sha1,
            2 => Algorithm::Sha256,
            3 => Algorithm::Sha512,
            4 => return Err("MD5 accounts are not supported".into()),
            n => return Err(format!("unknown algorithm ({n})")),
        };
        let digits = match self.digits {
            0 | 1 => 6,
            2 => 8,
            n => return Err(format!("unknown digit count ({n})")),
        };
        match self.kind {
            // Unspecified: Google Authenticator writes a type for every account; TOTP is the
            // only kind that needs nothing more.
            0 | 2 => OtpParams::totp(algorithm, digits, 30),
            1 => OtpParams::hotp(algorithm, digits, self.counter),
            n => return Err(format!("unknown OTP type ({n})")),
        }
        .map_err(|e| e.to_string())
    }
}

/// Google puts `Issuer:account` in `name` for accounts added from such labels. Split it like an
/// otpauth label: when `issuer` is empty, or the prefix is the issuer (or empty).
fn split_name(name: String, issuer: String) -> (String, String) {
    if let Some((prefix, account)) = name.split_once(':') {
        let prefix = prefix.trim();
        if issuer.is_empty() {
            return (prefix.to_owned(), account.trim().to_owned());
        }
        if prefix.is_empty() || prefix.eq_ignore_ascii_case(&issuer) {
            return (issuer, account.trim().to_owned());
        }
    }
    (issuer, name)
}

/// Encodes `accounts` as Google Authenticator migration URIs, [`ACCOUNTS_PER_QR`] per QR code.
/// Accounts the format cannot carry are left out with a warning each (see the module docs).
pub fn export(accounts: &[AccountData]) -> GoogleExport {
    let mut warnings = Vec::new();
    let mut exportable = Vec::new();
    for account in accounts {
        match exportable_params(&account.params) {
            Ok(()) => exportable.push(account),
            Err(why) => {
                let name = display_name(&account.issuer, &account.label);
                let name = if name.is_empty() { "an unnamed account".to_owned() } else { format!("'{name}'") };
                warnings.push(format!("{name} was left out: {why}"));
            }
        }
    }
    let batches = exportable.len().div_ceil(ACCOUNTS_PER_QR);
    let batch_id = batch_id();
    let uris = exportable
        .chunks(ACCOUNTS_PER_QR)
        .enumerate()
        .map(|(index, chunk)| {
            let mut payload = Zeroizing::new(Vec::new());
            for account in chunk {
                proto::put_bytes(&mut payload, 1, &encode_account(account));
            }
            proto::put_varint_field(&mut payload, 2, VERSION);
            proto::put_varint_field(&mut payload, 3, batches as u64);
            proto::put_varint_field(&mut payload, 4, index as u64);
            proto::put_varint_field(&mut payload, 5, batch_id);
            let data = Zeroizing::new(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &*payload));
            format!("{SCHEME}offline?data={}", percent::encode(&data, false))
        })
        .collect();
    GoogleExport { uris, warnings }
}

/// Why the format cannot carry these parameters, if it cannot.
fn exportable_params(params: &OtpParams) -> std::result::Result<(), String> {
    match params.kind() {
        OtpKind::Steam => return Err("Steam accounts cannot be carried by Google Authenticator".into()),
        OtpKind::Totp if params.period() != 30 => {
            return Err(format!(
                "its {}-second period cannot be carried by Google Authenticator (only 30 seconds)",
                params.period()
            ));
        }
        OtpKind::Totp | OtpKind::Hotp => {}
    }
    if !matches!(params.digits(), 6 | 8) {
        return Err(format!(
            "its {}-digit codes cannot be carried by Google Authenticator (only 6 or 8 digits)",
            params.digits()
        ));
    }
    Ok(())
}

fn encode_account(account: &AccountData) -> Zeroizing<Vec<u8>> {
    let p = &account.params;
    // A label with a colon is prefixed with the issuer, so `split_name` reads it back unchanged.
    let name = if account.label.contains(':') {
        format!("{}:{}", account.issuer, account.label)
    } else {
        account.label.clone()
    };
    let algorithm = match p.algorithm() {
        Algorithm::Sha1 => 1,
        Algorithm::Sha256 => 2,
        Algorithm::Sha512 => 3,
    };
    let mut out = Zeroizing::new(Vec::new());
    proto::put_bytes(&mut out, 1, account.secret.expose());
    proto::put_bytes(&mut out, 2, name.as_bytes());
    proto::put_bytes(&mut out, 3, account.issuer.as_bytes());
    proto::put_varint_field(&mut out, 4, algorithm);
    proto::put_varint_field(&mut out, 5, if p.digits() == 8 { 2 } else { 1 });
    match p.kind() {
        OtpKind::Hotp => {
            proto::put_varint_field(&mut out, 6, 1);
            proto::put_varint_field(&mut out, 7, p.counter());
        }
        OtpKind::Totp | OtpKind::Steam => proto::put_varint_field(&mut out, 6, 2),
    }
    out
}

/// A positive int32 shared by the QR codes of one export.
fn batch_id() -> u64 {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 4];
    if SystemRandom::new().fill(&mut bytes).is_err() {
        // Not a secret, only a tag telling exports apart: the clock does.
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        bytes = nanos.to_le_bytes();
    }
    u64::from(u32::from_le_bytes(bytes) & 0x7fff_ffff)
}

/// The part of the protobuf wire format these payloads use. Total: hostile input yields an
/// error, never a panic or an allocation beyond the input's size.
mod proto {
    use std::fmt;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum DecodeError {
        Truncated,
        VarintTooLong,
        UnsupportedWireType(u8),
        InvalidFieldNumber,
    }

    impl fmt::Display for DecodeError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                DecodeError::Truncated => f.write_str("truncated"),
                DecodeError::VarintTooLong => f.write_str("a number is too long"),
                DecodeError::UnsupportedWireType(t) => write!(f, "unsupported wire type {t}"),
                DecodeError::InvalidFieldNumber => f.write_str("invalid field number"),
            }
        }
    }

    /// A field's value; fixed-width values are read and ignored by this module's users.
    pub enum Value<'a> {
        Varint(u64),
        Bytes(&'a [u8]),
        Fixed,
    }

    pub struct Reader<'a> {
        rest: &'a [u8],
    }

    impl<'a> Reader<'a> {
        pub fn new(bytes: &'a [u8]) -> Self {
            Self { rest: bytes }
        }

        /// The next field number and value, `None` at the end of the message.
        pub fn next_field(&mut self) -> Result<Option<(u64, Value<'a>)>, DecodeError> {
            if self.rest.is_empty() {
                return Ok(None);
            }
            let key = self.varint()?;
            let field = key >> 3;
            if field == 0 {
                return Err(DecodeError::InvalidFieldNumber);
            }
            let value = match (key & 7) as u8 {
                0 => Value::Varint(self.varint()?),
                1 => {
                    self.take(8)?;
                    Value::Fixed
                }
                2 => {
                    let len = usize::try_from(self.varint()?).map_err(|_| DecodeError::Truncated)?;
                    Value::Bytes(self.take(len)?)
                }
                5 => {
                    self.take(4)?;
                    Value::Fixed
                }
                t => return Err(DecodeError::UnsupportedWireType(t)),
            };
            Ok(Some((field, value)))
        }

        fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
            if len > self.rest.len() {
                return Err(DecodeError::Truncated);
            }
            let (taken, rest) = self.rest.split_at(len);
            self.rest = rest;
            Ok(taken)
        }

        fn varint(&mut self) -> Result<u64, DecodeError> {
            let mut value = 0u64;
            for i in 0..10 {
                let (&byte, rest) = self.rest.split_first().ok_or(DecodeError::Truncated)?;
                self.rest = rest;
                // The tenth byte holds the top bit of 64 only.
                if i == 9 && byte > 1 {
                    return Err(DecodeError::VarintTooLong);
                }
                value |= u64::from(byte & 0x7f) << (7 * i);
                if byte & 0x80 == 0 {
                    return Ok(value);
                }
            }
            Err(DecodeError::VarintTooLong)
        }
    }

    pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
        while value >= 0x80 {
            out.push((value as u8) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }

    pub fn put_varint_field(out: &mut Vec<u8>, field: u64, value: u64) {
        put_varint(out, field << 3);
        put_varint(out, value);
    }

    pub fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
        put_varint(out, field << 3 | 2);
        put_varint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }
}
