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

use std::collections::HashMap;

use zeroize::Zeroizing;

use super::{ImportEntry, display_name};
use crate::error::{Error, Result};
use domain::account::AccountData;
use domain::codec::protobuf;
use domain::codec::query::{self, Query};
use domain::otp::{Algorithm, OtpKind, OtpParams, Secret};
use domain::text::clean;
use domain::uri;

/// Accounts per QR code in [`export`]: Google Authenticator's own choice, which keeps each QR
/// code small enough for phone cameras.
pub const ACCOUNTS_PER_QR: usize = 10;
/// Protocol version written by [`export`] (Google Authenticator writes 1).
const VERSION: u64 = 1;
/// Batches claiming more QR codes than this are not checked for completeness.
const MAX_CHECKED_BATCH: u64 = 1000;
const SCHEME: &str = "otpauth-migration://";

domain::foreign_type! { $ google_export_definition {
/// The QR payloads of an export, and what was left out. `Debug` hides the URIs (they carry the
/// secrets).
#[derive(Clone, PartialEq, Eq)]
pub struct GoogleExport {
    /// One `otpauth-migration://offline?data=…` URI per QR code, in order. Contains secrets.
    pub uris: Vec<String>,
    /// One line per account left out, naming it and saying why.
    pub warnings: Vec<String>,
}
}}

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
    parse_lines_named(text, "line")
}

/// [`parse_lines`], with a refused entry named `"{unit} {n}"` for the `n`th line: the terminal
/// app reads one line per QR code of an image and names them "QR code 2".
pub fn parse_lines_named(text: &str, unit: &str) -> Result<Vec<ImportEntry>> {
    let mut entries = Vec::new();
    let mut batches = Batches::default();
    let mut decoded_any = false;
    let mut first_error = None;
    // Numbered before blank and comment lines are skipped: "line N" is the line in the file.
    let lines = text
        .lines()
        .map(|line| line.trim().trim_start_matches('\u{feff}'))
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
    for (i, line) in lines {
        let name = format!("{unit} {}", i + 1);
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
                batches.note(&payload);
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
    entries.extend(batches.missing());
    Ok(entries)
}

/// The QR codes seen of one batch.
struct Batch {
    size: u64,
    /// Indexes seen, in the order read; sorted and deduplicated by [`Batch::missing`].
    seen: Vec<u64>,
}

/// The batches of an import in the order they first appear, found by `(batch_id, batch_size)`
/// through a hash map: one lookup per line, so an import stays linear in its number of lines.
#[derive(Default)]
struct Batches {
    order: Vec<Batch>,
    index: HashMap<(u64, u64), usize>,
}

impl Batches {
    fn note(&mut self, payload: &Payload) {
        if !(2..=MAX_CHECKED_BATCH).contains(&payload.batch_size) || payload.batch_index >= payload.batch_size {
            return;
        }
        let key = (payload.batch_id, payload.batch_size);
        let at = *self.index.entry(key).or_insert_with(|| {
            self.order.push(Batch { size: payload.batch_size, seen: Vec::new() });
            self.order.len() - 1
        });
        self.order[at].seen.push(payload.batch_index);
    }

    /// One refused entry per batch with QR codes missing, in the order the batches appeared.
    fn missing(self) -> impl Iterator<Item = ImportEntry> {
        self.order.into_iter().filter_map(Batch::missing)
    }
}

impl Batch {
    /// A refused entry naming the QR codes of the batch that were not imported. Costs
    /// O(k log k) for k QR codes seen, whatever the batch's size: only the first ten missing
    /// numbers are spelt out.
    fn missing(mut self) -> Option<ImportEntry> {
        self.seen.sort_unstable();
        self.seen.dedup();
        let count = self.size - self.seen.len() as u64;
        if count == 0 {
            return None;
        }
        let mut seen = self.seen.iter().peekable();
        let mut shown = Vec::new();
        for i in 0..self.size {
            if seen.next_if_eq(&&i).is_none() {
                shown.push((i + 1).to_string());
                if shown.len() == 10 {
                    break;
                }
            }
        }
        let (codes, were) = if count == 1 { ("QR code", "was") } else { ("QR codes", "were") };
        let shown = if count > 10 { format!("{}, …", shown.join(", ")) } else { shown.join(", ") };
        Some(ImportEntry::refused(
            "Google Authenticator export",
            format!(
                "{codes} {shown} of {} {were} not imported: scan every QR code Google Authenticator shows",
                self.size
            ),
        ))
    }
}

/// `otpauth-migration://offline?data=…` to its payload, or why it cannot be read.
fn decode_line(line: &str) -> std::result::Result<Payload, String> {
    let rest = match line.get(..SCHEME.len()) {
        Some(scheme) if scheme.eq_ignore_ascii_case(SCHEME) => &line[SCHEME.len()..],
        _ => return Err("not an otpauth-migration:// URI".into()),
    };
    let query = rest.split_once('#').map_or(rest, |(before, _)| before).split_once('?').map(|(_, q)| q);
    let params = Query::parse(query.unwrap_or_default()).map_err(|_| "the URI is not valid percent-encoding")?;
    let data =
        params.get("data").map_err(|_| "the data is not valid percent-encoding")?.ok_or("the URI has no data")?;
    let bytes = domain::codec::base64::decode_loose(&data).ok_or("the data is not base64")?;
    Payload::decode(&bytes).map_err(|e| format!("the data is damaged ({e})"))
}

/// A decoded `MigrationPayload`.
struct Payload {
    otp_parameters: Vec<OtpParameters>,
    batch_size: u64,
    batch_index: u64,
    batch_id: u64,
}

impl Payload {
    fn decode(bytes: &[u8]) -> std::result::Result<Self, protobuf::DecodeError> {
        let mut payload = Payload { otp_parameters: Vec::new(), batch_size: 0, batch_index: 0, batch_id: 0 };
        let mut reader = protobuf::Reader::new(bytes);
        while let Some((field, value)) = reader.next_field()? {
            match (field, value) {
                (1, protobuf::Value::Bytes(message)) => payload.otp_parameters.push(OtpParameters::decode(message)?),
                (3, protobuf::Value::Varint(v)) => payload.batch_size = v,
                (4, protobuf::Value::Varint(v)) => payload.batch_index = v,
                (5, protobuf::Value::Varint(v)) => payload.batch_id = v,
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
    fn decode(bytes: &[u8]) -> std::result::Result<Self, protobuf::DecodeError> {
        let mut otp = OtpParameters::default();
        let mut reader = protobuf::Reader::new(bytes);
        while let Some((field, value)) = reader.next_field()? {
            match (field, value) {
                (1, protobuf::Value::Bytes(b)) => otp.secret = Zeroizing::new(b.to_vec()),
                (2, protobuf::Value::Bytes(b)) => otp.name = String::from_utf8_lossy(b).into_owned(),
                (3, protobuf::Value::Bytes(b)) => otp.issuer = String::from_utf8_lossy(b).into_owned(),
                (4, protobuf::Value::Varint(v)) => otp.algorithm = v,
                (5, protobuf::Value::Varint(v)) => otp.digits = v,
                (6, protobuf::Value::Varint(v)) => otp.kind = v,
                (7, protobuf::Value::Varint(v)) => otp.counter = v,
                _ => {}
            }
        }
        Ok(otp)
    }

    fn into_entry(self) -> ImportEntry {
        let (issuer, label) = uri::split_label(&clean(&self.name), &clean(&self.issuer));
        let name = display_name(&issuer, &label);
        let name = if name.is_empty() { "unnamed account".to_owned() } else { name };
        match self.params() {
            Ok(params) => match Secret::from_bytes(self.secret.to_vec()) {
                Ok(secret) => ImportEntry {
                    name,
                    outcome: Ok(AccountData {
                        issuer: issuer.into(),
                        label: label.into(),
                        params,
                        secret,
                        group: None,
                    }),
                },
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
                protobuf::put_bytes(&mut payload, 1, &encode_account(account));
            }
            protobuf::put_varint_field(&mut payload, 2, VERSION);
            protobuf::put_varint_field(&mut payload, 3, batches as u64);
            protobuf::put_varint_field(&mut payload, 4, index as u64);
            protobuf::put_varint_field(&mut payload, 5, batch_id);
            let data = Zeroizing::new(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &*payload));
            format!("{SCHEME}offline?data={}", query::encode(&data, false))
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
        account.label.to_string()
    };
    let algorithm = match p.algorithm() {
        Algorithm::Sha1 => 1,
        Algorithm::Sha256 => 2,
        Algorithm::Sha512 => 3,
    };
    let mut out = Zeroizing::new(Vec::new());
    protobuf::put_bytes(&mut out, 1, account.secret.expose());
    protobuf::put_bytes(&mut out, 2, name.as_bytes());
    protobuf::put_bytes(&mut out, 3, account.issuer.as_bytes());
    protobuf::put_varint_field(&mut out, 4, algorithm);
    protobuf::put_varint_field(&mut out, 5, if p.digits() == 8 { 2 } else { 1 });
    match p.kind() {
        OtpKind::Hotp => {
            protobuf::put_varint_field(&mut out, 6, 1);
            protobuf::put_varint_field(&mut out, 7, p.counter());
        }
        OtpKind::Totp | OtpKind::Steam => protobuf::put_varint_field(&mut out, 6, 2),
    }
    out
}

/// A positive int32 shared by the QR codes of one export.
fn batch_id() -> u64 {
    // Not a secret, only a tag telling exports apart: without randomness, the clock does.
    let bytes = storage::crypto::random_array::<4>().unwrap_or_else(|_| (domain::time::now() as u32).to_le_bytes());
    u64::from(u32::from_le_bytes(bytes) & 0x7fff_ffff)
}
