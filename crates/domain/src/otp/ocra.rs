//! OCRA, the OATH challenge–response algorithm (RFC 6287), as tiqr uses it: suites
//! `OCRA-1:HOTP-<SHA1|SHA256|SHA512>-<digits>:[C-]Q<N|A|H><len>[-P<hash>|-S<nnn>|-T<step>]`.
//! tiqr servers use `OCRA-1:HOTP-SHA1-6:QN10` (the default of eduMFA and privacyIDEA) and SURF
//! uses hex questions with session information (`OCRA-1:HOTP-SHA1-6:QH10-S`, S = S064).
//!
//! Total: every parsed suite computes a response for any input that fits it, or returns an error.

use ring::hmac;

use crate::error::Error;

/// The question's format: numeric, alphanumeric or hexadecimal, with its most characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Question {
    Numeric(usize),
    Alphanumeric(usize),
    Hex(usize),
}

/// A parsed OCRA suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcraSuite {
    text: String,
    algorithm: hmac::Algorithm,
    digits: u32,
    counter: bool,
    question: Question,
    /// PIN hash algorithm (`PSHA1`, `PSHA256`, `PSHA512`): the hash's length in bytes.
    pin_hash_len: Option<usize>,
    /// Session information length in bytes (`Snnn`).
    session_len: Option<usize>,
    /// Time step in seconds (`T1M`, `T30S`, `T1H`).
    time_step: Option<u64>,
}

/// The inputs of one response; what the suite does not use is ignored.
#[derive(Debug, Clone, Copy, Default)]
pub struct OcraInput<'a> {
    /// `C`: the counter.
    pub counter: u64,
    /// `Q`: the challenge question (decimal digits, text or hex, per the suite).
    pub question: &'a str,
    /// `P`: the hash of the PIN (raw bytes).
    pub pin_hash: Option<&'a [u8]>,
    /// `S`: session information, as hex.
    pub session: Option<&'a str>,
    /// `T`: time steps since the epoch.
    pub time_steps: u64,
}

fn bad(what: &str) -> Error {
    Error::InvalidInput(format!("unsupported OCRA suite: {what}"))
}

impl OcraSuite {
    /// Parses a suite string. Only `OCRA-1` with HOTP truncation to 4–10 digits.
    pub fn parse(suite: &str) -> Result<Self, Error> {
        let mut parts = suite.split(':');
        let (Some(version), Some(crypto), Some(data), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("not three parts"));
        };
        if version != "OCRA-1" {
            return Err(bad("only OCRA-1"));
        }
        let mut crypto = crypto.split('-');
        let (Some("HOTP"), Some(hash), Some(digits), None) =
            (crypto.next(), crypto.next(), crypto.next(), crypto.next())
        else {
            return Err(bad("the crypto function is not HOTP-SHAx-t"));
        };
        let algorithm = match hash {
            "SHA1" => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            "SHA256" => hmac::HMAC_SHA256,
            "SHA512" => hmac::HMAC_SHA512,
            _ => return Err(bad("unknown hash")),
        };
        let digits: u32 = digits.parse().map_err(|_| bad("digits"))?;
        if !(4..=10).contains(&digits) {
            return Err(bad("digits must be 4 to 10"));
        }
        let mut fields = data.split('-').peekable();
        let counter = fields.next_if_eq(&"C").is_some();
        let q = fields.next().ok_or_else(|| bad("no question"))?;
        let len = |s: &str, range: std::ops::RangeInclusive<usize>| -> Result<usize, Error> {
            s.parse().ok().filter(|n| range.contains(n)).ok_or_else(|| bad("a length is out of range"))
        };
        let question = match (q.get(..2), q.get(2..)) {
            (Some("QN"), Some(n)) => Question::Numeric(len(n, 4..=64)?),
            (Some("QA"), Some(n)) => Question::Alphanumeric(len(n, 4..=64)?),
            (Some("QH"), Some(n)) => Question::Hex(len(n, 4..=64)?),
            _ => return Err(bad("the question is not QNxx, QAxx or QHxx")),
        };
        let mut suite_out = OcraSuite {
            text: suite.to_owned(),
            algorithm,
            digits,
            counter,
            question,
            pin_hash_len: None,
            session_len: None,
            time_step: None,
        };
        for field in fields {
            match field.split_at_checked(1) {
                Some(("P", hash)) if suite_out.pin_hash_len.is_none() => {
                    suite_out.pin_hash_len = Some(match hash {
                        "SHA1" => 20,
                        "SHA256" => 32,
                        "SHA512" => 64,
                        _ => return Err(bad("unknown PIN hash")),
                    })
                }
                // `S` alone is S064 (SURF's tiqr suites write it so).
                Some(("S", n)) if suite_out.session_len.is_none() => {
                    suite_out.session_len = Some(if n.is_empty() { 64 } else { len(n, 1..=512)? })
                }
                Some(("T", step)) if suite_out.time_step.is_none() => {
                    let (number, unit) = step.split_at_checked(step.len().saturating_sub(1)).unwrap_or(("", ""));
                    let unit = match unit {
                        "S" => 1,
                        "M" => 60,
                        "H" => 3600,
                        _ => return Err(bad("time step unit")),
                    };
                    suite_out.time_step = Some(len(number, 1..=59)? as u64 * unit)
                }
                _ => return Err(bad("unknown data input")),
            }
        }
        Ok(suite_out)
    }

    /// The suite as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The suite uses session information (`S`).
    pub fn uses_session(&self) -> bool {
        self.session_len.is_some()
    }

    /// Whether `question` fits the suite's question format.
    pub fn accepts_question(&self, question: &str) -> bool {
        let (ok, max): (fn(&u8) -> bool, usize) = match self.question {
            Question::Numeric(n) => (u8::is_ascii_digit, n),
            Question::Alphanumeric(n) => (u8::is_ascii_alphanumeric, n),
            Question::Hex(n) => (u8::is_ascii_hexdigit, n),
        };
        !question.is_empty() && question.len() <= max && question.bytes().all(|b| ok(&b))
    }

    /// The response for `input` under `key`.
    pub fn response(&self, key: &[u8], input: &OcraInput<'_>) -> Result<String, Error> {
        let message = self.data_input(input)?;
        let tag = hmac::sign(&hmac::Key::new(self.algorithm, key), &message);
        let mac = tag.as_ref();
        // Dynamic truncation (RFC 4226 §5.3).
        let offset = (mac[mac.len() - 1] & 0x0f) as usize;
        let binary = u32::from_be_bytes([mac[offset], mac[offset + 1], mac[offset + 2], mac[offset + 3]]) & 0x7fff_ffff;
        let code = u64::from(binary) % 10u64.pow(self.digits);
        Ok(format!("{code:0width$}", width = self.digits as usize))
    }

    /// DataInput = suite || 0x00 || C || Q || P || S || T (RFC 6287 §5.1).
    fn data_input(&self, input: &OcraInput<'_>) -> Result<Vec<u8>, Error> {
        let invalid = |what: &str| Error::InvalidInput(format!("the OCRA {what} does not fit the suite"));
        if !self.accepts_question(input.question) {
            return Err(invalid("question"));
        }
        let mut data = self.text.as_bytes().to_vec();
        data.push(0);
        if self.counter {
            data.extend_from_slice(&input.counter.to_be_bytes());
        }
        // The question as 128 bytes, padded with zeros on the right.
        let mut question = match self.question {
            // The number in hex, a nibble 0 appended when the digit count is odd (RFC's
            // reference code: BigInteger(q).toString(16), then right-padded with '0').
            Question::Numeric(_) => hex_of_decimal(input.question),
            Question::Alphanumeric(_) => input.question.as_bytes().to_vec(),
            Question::Hex(_) => {
                let mut hex = input.question.to_owned();
                if hex.len() % 2 == 1 {
                    hex.push('0');
                }
                ::hex::decode(hex).map_err(|_| invalid("question"))?
            }
        };
        question.resize(128, 0);
        data.extend_from_slice(&question);
        if let Some(len) = self.pin_hash_len {
            let hash = input.pin_hash.filter(|h| h.len() == len).ok_or_else(|| invalid("PIN hash"))?;
            data.extend_from_slice(hash);
        }
        if let Some(len) = self.session_len {
            // Hex, padded with zeros on the left to `len` bytes.
            let session = input.session.ok_or_else(|| invalid("session information"))?;
            if session.len() > len * 2 {
                return Err(invalid("session information"));
            }
            let padded = format!("{session:0>width$}", width = len * 2);
            data.extend_from_slice(&::hex::decode(padded).map_err(|_| invalid("session information"))?);
        }
        if self.time_step.is_some() {
            data.extend_from_slice(&input.time_steps.to_be_bytes());
        }
        Ok(data)
    }
}

/// A decimal number (digits only, any length) as bytes of its hex form, with a `0` nibble
/// appended when the hex form has an odd length.
fn hex_of_decimal(digits: &str) -> Vec<u8> {
    // Big-endian base-256 digits, multiplied by 10 and added to per decimal digit.
    let mut value: Vec<u8> = Vec::new();
    for d in digits.bytes().map(|b| b - b'0') {
        let mut carry = u16::from(d);
        for byte in value.iter_mut().rev() {
            let v = u16::from(*byte) * 10 + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            value.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    if value.is_empty() {
        value.push(0);
    }
    // An odd number of hex digits when the top byte is below 0x10: shift everything a nibble left.
    if value[0] < 0x10 && !(value.len() == 1 && value[0] == 0) {
        let mut shifted = Vec::with_capacity(value.len());
        for i in 0..value.len() {
            let low = value.get(i + 1).map_or(0, |b| b >> 4);
            shifted.push((value[i] << 4) | low);
        }
        return shifted;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED20: &str = "3132333435363738393031323334353637383930";
    const SEED32: &str = "3132333435363738393031323334353637383930313233343536373839303132";
    const SEED64: &str = "31323334353637383930313233343536373839303132333435363738393031323334353637383930313233343536373839303132333435363738393031323334";
    /// SHA-1 of "1234".
    const PIN_SHA1: &str = "7110eda4d09e062aa5e4a390b0a572ac0d2c0220";

    fn key(hex: &str) -> Vec<u8> {
        ::hex::decode(hex).unwrap()
    }

    fn same_digits(n: u8) -> String {
        std::iter::repeat_n(char::from(b'0' + n), 8).collect()
    }

    /// RFC 6287 Appendix C.1, one-way challenge–response.
    #[test]
    fn rfc6287_c1_one_way_challenge_response() {
        let suite = OcraSuite::parse("OCRA-1:HOTP-SHA1-6:QN08").unwrap();
        let expected =
            ["237653", "243178", "653583", "740991", "608993", "388898", "816933", "224598", "750600", "294470"];
        for (n, want) in expected.iter().enumerate() {
            let q = same_digits(n as u8);
            let got = suite.response(&key(SEED20), &OcraInput { question: &q, ..OcraInput::default() }).unwrap();
            assert_eq!(&got, want, "Q={q}");
        }

        let suite = OcraSuite::parse("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1").unwrap();
        let pin = key(PIN_SHA1);
        let expected = [
            "65347737", "86775851", "78192410", "71565254", "10104329", "65983500", "70069104", "91771096", "75011558",
            "08522129",
        ];
        for (c, want) in expected.iter().enumerate() {
            let input =
                OcraInput { counter: c as u64, question: "12345678", pin_hash: Some(&pin), ..OcraInput::default() };
            assert_eq!(&suite.response(&key(SEED32), &input).unwrap(), want, "C={c}");
        }

        let suite = OcraSuite::parse("OCRA-1:HOTP-SHA256-8:QN08-PSHA1").unwrap();
        let expected = ["83238735", "01501458", "17957585", "86776967", "86807031"];
        for (n, want) in expected.iter().enumerate() {
            let q = same_digits(n as u8);
            let input = OcraInput { question: &q, pin_hash: Some(&pin), ..OcraInput::default() };
            assert_eq!(&suite.response(&key(SEED32), &input).unwrap(), want, "Q={q}");
        }

        let suite = OcraSuite::parse("OCRA-1:HOTP-SHA512-8:C-QN08").unwrap();
        let expected = [
            "07016083", "63947962", "70123924", "25341727", "33203315", "34205738", "44343969", "51946085", "20403879",
            "31409299",
        ];
        for (n, want) in expected.iter().enumerate() {
            let q = same_digits(n as u8);
            let input = OcraInput { counter: n as u64, question: &q, ..OcraInput::default() };
            assert_eq!(&suite.response(&key(SEED64), &input).unwrap(), want, "C={n}");
        }

        let suite = OcraSuite::parse("OCRA-1:HOTP-SHA512-8:QN08-T1M").unwrap();
        let expected = ["95209754", "55907591", "22048402", "24218844", "36209546"];
        for (n, want) in expected.iter().enumerate() {
            let q = same_digits(n as u8);
            let input = OcraInput { question: &q, time_steps: 0x132d0b6, ..OcraInput::default() };
            assert_eq!(&suite.response(&key(SEED64), &input).unwrap(), want, "Q={q}");
        }
    }

    /// RFC 6287 Appendix C.2 (server and client computations) and C.3 (plain signature).
    #[test]
    fn rfc6287_c2_mutual_and_c3_signature() {
        let server = OcraSuite::parse("OCRA-1:HOTP-SHA256-8:QA08").unwrap();
        let cases = [
            ("CLI22220SRV11110", "28247970"),
            ("CLI22221SRV11111", "01984843"),
            ("CLI22222SRV11112", "65387857"),
            ("CLI22223SRV11113", "03351211"),
            ("CLI22224SRV11114", "83412541"),
        ];
        // QA08 with 16-character questions: the RFC's mutual mode concatenates two questions.
        let long = OcraSuite { question: Question::Alphanumeric(16), ..server.clone() };
        for (q, want) in cases {
            let got = long.response(&key(SEED32), &OcraInput { question: q, ..OcraInput::default() }).unwrap();
            assert_eq!(got, want, "Q={q}");
        }
        let suite = OcraSuite::parse("OCRA-1:HOTP-SHA512-8:QA10-T1M").unwrap();
        let cases = [
            ("SIG1000000", "77537423"),
            ("SIG1100000", "31970405"),
            ("SIG1200000", "10235557"),
            ("SIG1300000", "95213541"),
            ("SIG1400000", "65360607"),
        ];
        for (q, want) in cases {
            let input = OcraInput { question: q, time_steps: 0x132d0b6, ..OcraInput::default() };
            assert_eq!(suite.response(&key(SEED64), &input).unwrap(), want, "Q={q}");
        }
    }

    /// tiqr's default suite, cross-checked with eduMFA 2.9.5's own OCRA code (`edumfa.lib.tokens.ocra`).
    #[test]
    fn tiqr_default_suite_matches_edumfa() {
        let suite = OcraSuite::parse("OCRA-1:HOTP-SHA1-6:QN10").unwrap();
        for (q, want) in [("0123456789", "699525"), ("9876543210", "784395")] {
            assert_eq!(suite.response(&key(SEED32), &OcraInput { question: q, ..OcraInput::default() }).unwrap(), want);
        }
    }

    #[test]
    fn tiqr_suites_parse_and_check_their_inputs() {
        let qn = OcraSuite::parse("OCRA-1:HOTP-SHA1-6:QN10").unwrap();
        assert!(
            qn.accepts_question("0123456789") && !qn.accepts_question("01234567890") && !qn.accepts_question("12a")
        );
        assert!(!qn.uses_session());
        let surf = OcraSuite::parse("OCRA-1:HOTP-SHA1-6:QH10-S").unwrap();
        assert_eq!(surf.session_len, Some(64));
        assert!(surf.uses_session() && surf.accepts_question("0a1b2c3d4e"));
        let session = "ab".repeat(32);
        let a = surf.response(
            &key(SEED32),
            &OcraInput { question: "0a1b2c3d4e", session: Some(&session), ..OcraInput::default() },
        );
        let b = surf
            .response(&key(SEED32), &OcraInput { question: "0a1b2c3d4e", session: Some("ab"), ..OcraInput::default() });
        assert_ne!(a.unwrap(), b.unwrap(), "the session information is part of the response");
        // The session sits, left-padded, after the 128-byte question.
        let data = surf.data_input(&OcraInput { question: "ff", session: Some("1"), ..OcraInput::default() }).unwrap();
        let q_at = surf.text.len() + 1;
        assert_eq!((data[q_at], data.len()), (0xff, q_at + 128 + 64));
        assert_eq!(&data[data.len() - 2..], &[0, 1]);
        assert!(surf.response(&key(SEED32), &OcraInput { question: "0a", ..OcraInput::default() }).is_err());
        assert_eq!(OcraSuite::parse("OCRA-1:HOTP-SHA1-6:QH10-S128").unwrap().session_len, Some(128));
        for bad in [
            "OCRA-2:HOTP-SHA1-6:QN10",
            "OCRA-1:HOTP-MD5-6:QN10",
            "OCRA-1:HOTP-SHA1-3:QN10",
            "OCRA-1:HOTP-SHA1-6:QX10",
            "OCRA-1:HOTP-SHA1-6:QN10-X",
            "OCRA-1:HOTP-SHA1-6",
            "OCRA-1:HOTP-SHA1-6:QN10-T5Q",
            "OCRA-1:HOTP-SHA1-6:QN99",
        ] {
            assert!(OcraSuite::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numeric_questions_become_hex_like_the_reference_code() {
        assert_eq!(hex_of_decimal("0"), [0]);
        assert_eq!(hex_of_decimal("15"), [0xf0]); // "f" + "0"
        assert_eq!(hex_of_decimal("255"), [0xff]);
        assert_eq!(hex_of_decimal("256"), [0x10, 0x00]); // "100" + "0"
        assert_eq!(hex_of_decimal("11111111"), [0xa9, 0x8a, 0xc7]); // 0xa98ac7
        assert_eq!(hex_of_decimal("4294967296"), [0x10, 0x00, 0x00, 0x00, 0x00]);
    }
}
