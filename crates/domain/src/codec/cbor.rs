//! The CBOR (RFC 8949) a WebAuthn authenticator writes: unsigned and negative integers, byte
//! and text strings, and maps, in the deterministic form CTAP2 asks for (shortest argument,
//! definite lengths; the caller writes map keys in CTAP2's canonical order). Writing only: a
//! passkey provider never has to read CBOR (requests come as JSON), so there is no parser to
//! harden, and no general CBOR crate in the phones' library.

/// A CBOR item being written into a byte buffer.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The head of an item: major type `major` (0–7) with argument `value`, in the shortest
    /// form (RFC 8949 §4.2.1).
    fn head(&mut self, major: u8, value: u64) -> &mut Self {
        let major = major << 5;
        match value {
            0..=23 => self.bytes.push(major | value as u8),
            24..=0xff => self.bytes.extend([major | 24, value as u8]),
            0x100..=0xffff => {
                self.bytes.push(major | 25);
                self.bytes.extend((value as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.bytes.push(major | 26);
                self.bytes.extend((value as u32).to_be_bytes());
            }
            _ => {
                self.bytes.push(major | 27);
                self.bytes.extend(value.to_be_bytes());
            }
        }
        self
    }

    /// An integer (major type 0 when ≥ 0, 1 when negative).
    pub fn int(&mut self, value: i64) -> &mut Self {
        if value >= 0 { self.head(0, value as u64) } else { self.head(1, !(value as u64)) }
    }

    /// A byte string.
    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.head(2, value.len() as u64);
        self.bytes.extend_from_slice(value);
        self
    }

    /// A text string (UTF-8).
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.head(3, value.len() as u64);
        self.bytes.extend_from_slice(value.as_bytes());
        self
    }

    /// The head of a map of `pairs` key/value pairs, which the caller writes next, keys in
    /// canonical order.
    pub fn map(&mut self, pairs: usize) -> &mut Self {
        self.head(5, pairs as u64)
    }

    /// Bytes already encoded as one CBOR item (a nested structure built elsewhere).
    pub fn raw(&mut self, item: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(item);
        self
    }

    /// The encoded bytes.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::Writer;

    fn hex(bytes: Vec<u8>) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn integers_encode_as_rfc_8949_appendix_a_says() {
        let cases: [(i64, &str); 16] = [
            (0, "00"),
            (1, "01"),
            (10, "0a"),
            (23, "17"),
            (24, "1818"),
            (25, "1819"),
            (100, "1864"),
            (1000, "1903e8"),
            (1_000_000, "1a000f4240"),
            (1_000_000_000_000, "1b000000e8d4a51000"),
            (i64::MAX, "1b7fffffffffffffff"),
            (-1, "20"),
            (-10, "29"),
            (-100, "3863"),
            (-1000, "3903e7"),
            (i64::MIN, "3b7fffffffffffffff"),
        ];
        for (value, expected) in cases {
            assert_eq!(hex(Writer::new().int(value).finish()), expected, "{value}");
        }
    }

    #[test]
    fn strings_and_maps_encode_as_rfc_8949_appendix_a_says() {
        assert_eq!(hex(Writer::new().bytes(b"").finish()), "40");
        assert_eq!(hex(Writer::new().bytes(&[1, 2, 3, 4]).finish()), "4401020304");
        assert_eq!(hex(Writer::new().text("").finish()), "60");
        assert_eq!(hex(Writer::new().text("a").finish()), "6161");
        assert_eq!(hex(Writer::new().text("IETF").finish()), "6449455446");
        assert_eq!(hex(Writer::new().text("\u{00fc}").finish()), "62c3bc");
        assert_eq!(hex(Writer::new().map(0).finish()), "a0");
        assert_eq!(hex(Writer::new().map(2).int(1).int(2).int(3).int(4).finish()), "a201020304");
        let long = vec![0xab; 300];
        let encoded = Writer::new().bytes(&long).finish();
        assert_eq!(hex(encoded[..3].to_vec()), "59012c", "a two-byte length");
        assert_eq!(encoded.len(), 303);
    }
}
