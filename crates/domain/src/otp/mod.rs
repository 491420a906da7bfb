//! One-time codes: TOTP (RFC 6238), HOTP (RFC 4226) and Steam Guard.
//!
//! The HMAC comes from totp-rs (`Totp::sign`); truncation to digits is done here, per RFC 4226
//! §5.3, because totp-rs's own formatting panics for 10 digits and its checked builder refuses
//! 4–5 digit codes and 80-bit secrets, all of which real services use. A panic here would cross
//! the FFI, so the whole path is total: every validated [`OtpParams`] yields a code.

mod error;
pub mod ocra;
mod secret;

pub use error::AccountError;
pub use secret::{MAX_SECRET_BYTES, Secret};

use crate::text::excerpt;
use std::fmt;
use std::str::FromStr;

/// Fewest and most digits a code may have.
pub const DIGITS_RANGE: std::ops::RangeInclusive<u8> = 4..=10;
/// Shortest and longest TOTP period accepted, in seconds.
pub const PERIOD_RANGE: std::ops::RangeInclusive<u32> = 1..=3600;
/// Steam Guard codes: 5 characters from this alphabet, SHA-1, 30 s.
const STEAM_ALPHABET: &[u8; 26] = b"23456789BCDFGHJKMNPQRTVWXY";

crate::foreign_type! { $ otp_kind_definition {
/// Which kind of one-time password an account produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OtpKind {
    /// Time-based (RFC 6238).
    Totp,
    /// Counter-based (RFC 4226).
    Hotp,
    /// Steam Guard: TOTP, SHA-1, 30 s, 5 characters from Steam's alphabet.
    Steam,
}
}}

impl OtpKind {
    /// The lower-case name used in URIs and the database (`totp`, `hotp`, `steam`).
    pub fn as_str(self) -> &'static str {
        match self {
            OtpKind::Totp => "totp",
            OtpKind::Hotp => "hotp",
            OtpKind::Steam => "steam",
        }
    }
}

impl FromStr for OtpKind {
    type Err = AccountError;
    fn from_str(s: &str) -> Result<Self, AccountError> {
        match s.to_ascii_lowercase().as_str() {
            "totp" => Ok(OtpKind::Totp),
            "hotp" => Ok(OtpKind::Hotp),
            "steam" => Ok(OtpKind::Steam),
            _ => Err(AccountError::UnsupportedType(excerpt(s))),
        }
    }
}

impl fmt::Display for OtpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::foreign_type! { $ algorithm_definition {
/// The HMAC hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC-SHA1: the default, and what most services use.
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}
}}

impl Algorithm {
    /// The upper-case name used in URIs and the database (`SHA1`, `SHA256`, `SHA512`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }

    fn totp_rs(self) -> totp_rs::Algorithm {
        match self {
            Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
            Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
            Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
        }
    }
}

impl FromStr for Algorithm {
    type Err = AccountError;
    /// Accepts any case, with or without a dash (`sha256`, `SHA-256`).
    fn from_str(s: &str) -> Result<Self, AccountError> {
        match s.to_ascii_uppercase().replace('-', "").as_str() {
            "SHA1" => Ok(Algorithm::Sha1),
            "SHA256" => Ok(Algorithm::Sha256),
            "SHA512" => Ok(Algorithm::Sha512),
            _ => Err(AccountError::UnknownAlgorithm(excerpt(s))),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that shapes the codes of an account except the secret. Validated on construction,
/// so code generation never fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpParams {
    kind: OtpKind,
    algorithm: Algorithm,
    digits: u8,
    period: u32,
    counter: u64,
}

impl OtpParams {
    /// A TOTP account: `digits` in 4–10, `period` in seconds (1–3600).
    pub fn totp(algorithm: Algorithm, digits: u8, period: u32) -> Result<Self, AccountError> {
        check_digits(digits)?;
        if !PERIOD_RANGE.contains(&period) {
            return Err(AccountError::InvalidPeriod(period.to_string()));
        }
        Ok(Self { kind: OtpKind::Totp, algorithm, digits, period, counter: 0 })
    }

    /// An HOTP account: `counter` is the moving factor of the next code to hand out.
    pub fn hotp(algorithm: Algorithm, digits: u8, counter: u64) -> Result<Self, AccountError> {
        check_digits(digits)?;
        if counter > i64::MAX as u64 {
            return Err(AccountError::InvalidCounter(counter.to_string()));
        }
        Ok(Self { kind: OtpKind::Hotp, algorithm, digits, period: 30, counter })
    }

    /// A Steam Guard account (always SHA-1, 5 characters, 30 s).
    pub fn steam() -> Self {
        Self { kind: OtpKind::Steam, algorithm: Algorithm::Sha1, digits: 5, period: 30, counter: 0 }
    }

    /// Builds parameters for `kind` from loose fields, as read back from storage or a form.
    pub fn new(
        kind: OtpKind,
        algorithm: Algorithm,
        digits: u8,
        period: u32,
        counter: u64,
    ) -> Result<Self, AccountError> {
        match kind {
            OtpKind::Totp => Self::totp(algorithm, digits, period),
            OtpKind::Hotp => Self::hotp(algorithm, digits, counter),
            OtpKind::Steam => Ok(Self::steam()),
        }
    }

    /// TOTP, HOTP or Steam.
    pub fn kind(&self) -> OtpKind {
        self.kind
    }
    /// The HMAC hash function.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
    /// Length of a code in characters.
    pub fn digits(&self) -> u8 {
        self.digits
    }
    /// Step in seconds (TOTP and Steam; 30 and meaningless for HOTP).
    pub fn period(&self) -> u32 {
        self.period
    }
    /// HOTP moving factor of the next code (0 for time-based kinds).
    pub fn counter(&self) -> u64 {
        self.counter
    }

    /// The same parameters with another HOTP counter.
    pub fn with_counter(self, counter: u64) -> Self {
        Self { counter: counter.min(i64::MAX as u64), ..self }
    }
}

/// Code parameters as loose text fields from outside (a URI's query, an export's JSON), before
/// validation. `None` means absent; JSON numbers arrive as their text. The one place where
/// defaults are applied: TOTP, SHA-1, 6 digits, 30 seconds; HOTP needs a counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LooseParams {
    /// `totp`, `hotp` or `steam` (any case); absent means TOTP.
    pub kind: Option<String>,
    /// `SHA1`, `SHA256`, `SHA512` (any case, dash allowed); absent or empty means SHA-1.
    pub algorithm: Option<String>,
    /// Code length.
    pub digits: Option<String>,
    /// TOTP step in seconds.
    pub period: Option<String>,
    /// HOTP counter.
    pub counter: Option<String>,
}

impl OtpParams {
    /// Validates loose fields (see [`LooseParams`]); errors quote a short excerpt of the field.
    pub fn from_loose(loose: &LooseParams) -> Result<Self, AccountError> {
        let kind: OtpKind = loose.kind.as_deref().map_or(Ok(OtpKind::Totp), |k| k.trim().parse())?;
        if kind == OtpKind::Steam {
            return Ok(Self::steam());
        }
        let algorithm = match loose.algorithm.as_deref().map(str::trim) {
            Some(a) if !a.is_empty() => a.parse()?,
            _ => Algorithm::Sha1,
        };
        let digits = match &loose.digits {
            Some(d) => d.trim().parse::<u8>().map_err(|_| AccountError::InvalidDigits(excerpt(d)))?,
            None => 6,
        };
        match kind {
            OtpKind::Hotp => {
                let counter = loose.counter.as_deref().ok_or(AccountError::MissingCounter)?;
                let counter =
                    counter.trim().parse::<u64>().map_err(|_| AccountError::InvalidCounter(excerpt(counter)))?;
                Self::hotp(algorithm, digits, counter)
            }
            _ => {
                let period = match &loose.period {
                    Some(p) => p.trim().parse::<u32>().map_err(|_| AccountError::InvalidPeriod(excerpt(p)))?,
                    None => 30,
                };
                Self::totp(algorithm, digits, period)
            }
        }
    }
}

fn check_digits(digits: u8) -> Result<(), AccountError> {
    if DIGITS_RANGE.contains(&digits) { Ok(()) } else { Err(AccountError::InvalidDigits(digits.to_string())) }
}

/// A code generator for one account: the secret and parameters, ready to sign.
pub struct Generator {
    params: OtpParams,
    // totp-rs holds its own copy of the key and wipes it on drop (feature `zeroize`).
    hmac: totp_rs::Totp,
}

impl fmt::Debug for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator").field("params", &self.params).finish_non_exhaustive()
    }
}

/// The code to show for an account at one moment.
#[derive(Clone, PartialEq, Eq)]
pub struct Code {
    /// The code to type now.
    pub value: String,
    /// The code of the following period (TOTP, Steam) or counter (HOTP).
    pub next_value: String,
    /// Unix seconds (clock offset applied) when `value` became valid; 0 for HOTP.
    pub valid_from: u64,
    /// Unix seconds when `value` stops being valid; 0 for HOTP, which never expires.
    pub valid_until: u64,
    /// Seconds until `valid_until`, 1..=period; 0 for HOTP.
    pub seconds_left: u32,
}

impl fmt::Debug for Code {
    // A code is a short-lived secret: keep it out of logs that print structs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Code")
            .field("valid_from", &self.valid_from)
            .field("valid_until", &self.valid_until)
            .field("seconds_left", &self.seconds_left)
            .finish_non_exhaustive()
    }
}

impl Generator {
    /// A code generator for one account's parameters and secret.
    pub fn new(params: OtpParams, secret: &Secret) -> Self {
        // step 1: totp-rs then signs its input unchanged, so TOTP passes the step number and HOTP
        // the counter, and the period arithmetic stays here, in one place.
        let hmac = totp_rs::Builder::new()
            .with_algorithm(params.algorithm.totp_rs())
            .with_secret(secret.expose().to_vec())
            .with_step_duration(1)
            .build_noncompliant();
        Self { params, hmac }
    }

    /// The parameters codes are made with.
    pub fn params(&self) -> &OtpParams {
        &self.params
    }

    /// The code for one moving factor (TOTP step number or HOTP counter).
    pub fn code_at_factor(&self, factor: u64) -> String {
        let signature = self.hmac.sign(factor);
        let signature = signature.as_ref();
        let offset = usize::from(signature[signature.len() - 1] & 0x0f);
        let binary = u32::from_be_bytes([
            signature[offset],
            signature[offset + 1],
            signature[offset + 2],
            signature[offset + 3],
        ]) & 0x7fff_ffff;
        if self.params.kind == OtpKind::Steam {
            let mut value = binary as usize;
            let mut code = String::with_capacity(5);
            for _ in 0..5 {
                code.push(STEAM_ALPHABET[value % STEAM_ALPHABET.len()] as char);
                value /= STEAM_ALPHABET.len();
            }
            code
        } else {
            let digits = usize::from(self.params.digits);
            // 31 bits never exceed 10 decimal digits, so u64 arithmetic covers every length.
            let value = u64::from(binary) % 10u64.pow(u32::from(self.params.digits));
            format!("{value:0digits$}")
        }
    }

    /// The code (and next code) at `unix_time` seconds for time-based kinds, or at the stored
    /// counter for HOTP. `unix_time` must already include any clock offset.
    pub fn code(&self, unix_time: u64) -> Code {
        match self.params.kind {
            OtpKind::Hotp => {
                let counter = self.params.counter;
                Code {
                    value: self.code_at_factor(counter),
                    next_value: self.code_at_factor(counter.saturating_add(1)),
                    valid_from: 0,
                    valid_until: 0,
                    seconds_left: 0,
                }
            }
            OtpKind::Totp | OtpKind::Steam => {
                let period = u64::from(self.params.period);
                let step = unix_time / period;
                let valid_from = step * period;
                let valid_until = valid_from.saturating_add(period);
                Code {
                    value: self.code_at_factor(step),
                    next_value: self.code_at_factor(step.saturating_add(1)),
                    valid_from,
                    valid_until,
                    seconds_left: (valid_until - unix_time) as u32,
                }
            }
        }
    }
}

/// Applies a clock offset (seconds, may be negative) to a Unix time, clamping at the epoch.
pub fn adjusted_time(unix_time: u64, offset_seconds: i64) -> u64 {
    unix_time.saturating_add_signed(offset_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generator(params: OtpParams, secret: &[u8]) -> Generator {
        Generator::new(params, &Secret::from_bytes(secret.to_vec()).unwrap())
    }

    #[test]
    fn rfc4226_appendix_d_vectors() {
        let expected =
            ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
        let g = generator(OtpParams::hotp(Algorithm::Sha1, 6, 0).unwrap(), b"12345678901234567890");
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(g.code_at_factor(counter as u64), *code, "counter {counter}");
        }
    }

    #[test]
    fn rfc6238_appendix_b_vectors_for_all_three_algorithms() {
        // RFC 6238's reference code uses a 20-, 32- and 64-byte key for SHA-1/256/512.
        let sha1 = b"12345678901234567890".as_slice();
        let sha256 = b"12345678901234567890123456789012".as_slice();
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".as_slice();
        let table: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, c1, c256, c512) in table {
            for (alg, key, want) in
                [(Algorithm::Sha1, sha1, c1), (Algorithm::Sha256, sha256, c256), (Algorithm::Sha512, sha512, c512)]
            {
                let g = generator(OtpParams::totp(alg, 8, 30).unwrap(), key);
                assert_eq!(g.code(time).value, want, "{alg} at {time}");
            }
        }
    }

    #[test]
    fn totp_reports_window_next_code_and_seconds_left() {
        let g = generator(OtpParams::totp(Algorithm::Sha1, 8, 30).unwrap(), b"12345678901234567890");
        let code = g.code(59);
        assert_eq!((code.valid_from, code.valid_until, code.seconds_left), (30, 60, 1));
        assert_eq!(code.next_value, g.code(60).value);
        let code = g.code(60);
        assert_eq!(code.seconds_left, 30);
    }

    #[test]
    fn ten_digit_codes_keep_all_31_bits() {
        // RFC 4226 counter 0 truncates to 0x4c93cf18 = 1284755224; 6 digits is its tail "755224".
        let g = generator(OtpParams::hotp(Algorithm::Sha1, 10, 0).unwrap(), b"12345678901234567890");
        assert_eq!(g.code_at_factor(0), "1284755224");
        let g = generator(OtpParams::hotp(Algorithm::Sha1, 4, 0).unwrap(), b"12345678901234567890");
        assert_eq!(g.code_at_factor(0), "5224");
    }

    #[test]
    fn steam_codes_match_known_value() {
        // Cross-checked with totp-rs's own Steam formatter (5 characters from Steam's alphabet).
        let secret = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        let ours = Generator::new(OtpParams::steam(), &secret).code(1_700_000_000).value;
        let reference = totp_rs::Builder::new()
            .with_algorithm(totp_rs::Algorithm::Steam)
            .with_digits(5)
            .with_secret(secret.expose().to_vec())
            .build_noncompliant()
            .generate(1_700_000_000)
            .to_string();
        assert_eq!(ours, reference);
        assert_eq!(ours.len(), 5);
        assert!(ours.bytes().all(|b| STEAM_ALPHABET.contains(&b)));
    }

    #[test]
    fn short_80_bit_secrets_produce_codes() {
        let secret = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(secret.len(), 10);
        let g = Generator::new(OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap(), &secret);
        // Independent value from Python's hmac module (HMAC-SHA1, step 1700000000 / 30).
        assert_eq!(g.code(1_700_000_000).value, "324550");
    }

    #[test]
    fn clock_offset_shifts_time_and_clamps_at_epoch() {
        assert_eq!(adjusted_time(100, -30), 70);
        assert_eq!(adjusted_time(10, -30), 0);
        assert_eq!(adjusted_time(u64::MAX, 5), u64::MAX);
    }

    #[test]
    fn params_reject_out_of_range_values() {
        assert!(OtpParams::totp(Algorithm::Sha1, 3, 30).is_err());
        assert!(OtpParams::totp(Algorithm::Sha1, 11, 30).is_err());
        assert!(OtpParams::totp(Algorithm::Sha1, 6, 0).is_err());
        assert!(OtpParams::totp(Algorithm::Sha1, 6, 3601).is_err());
        assert!(OtpParams::hotp(Algorithm::Sha1, 6, u64::MAX).is_err());
    }
}
