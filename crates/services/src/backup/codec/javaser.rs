//! The one shape of Java object serialization other apps' backups use: a `java.util.HashMap`
//! of strings to strings (FreeOTP's v2 backup is one, written with `ObjectOutputStream`).
//!
//! Only that is read, per the Java Object Serialization Specification (§6, stream protocol
//! version 2): the stream magic, the HashMap's class descriptor (primitive fields only, no
//! superclass), its field values, its `writeObject` block (capacity and size), then `size`
//! keys and values, each a `TC_STRING`, `TC_LONGSTRING`, `TC_NULL` or a `TC_REFERENCE` to an
//! earlier string, and the end of the block. Anything else (another class, an object field, a
//! custom object as a value) is refused: no class is ever instantiated, this is a reader of
//! bytes. Strings are Java's modified UTF-8 (NUL as `C0 80`, supplementary characters as
//! surrogate pairs). Sizes are bounded by the input: a declared length or count larger than
//! what is left is refused before anything is allocated. Errors never quote the input.

use std::fmt;

use zeroize::Zeroizing;

const MAGIC: [u8; 4] = [0xac, 0xed, 0x00, 0x05];
/// The stream's type codes (the specification's `TC_*`, §6.4.2), the ones this reader meets.
mod tc {
    pub(super) const NULL: u8 = 0x70;
    pub(super) const REFERENCE: u8 = 0x71;
    pub(super) const CLASSDESC: u8 = 0x72;
    pub(super) const OBJECT: u8 = 0x73;
    pub(super) const STRING: u8 = 0x74;
    pub(super) const BLOCKDATA: u8 = 0x77;
    pub(super) const ENDBLOCKDATA: u8 = 0x78;
    pub(super) const LONGSTRING: u8 = 0x7c;
}
const BASE_HANDLE: u32 = 0x7e_0000;
/// `SC_WRITE_METHOD | SC_SERIALIZABLE`, as HashMap's descriptor has them.
const SC_SERIALIZABLE: u8 = 0x02;

/// Why the bytes are not a serialized map of strings: what, and the byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaSerError {
    /// What is wrong (never quotes the input).
    pub reason: &'static str,
    /// Byte offset in the input.
    pub offset: usize,
}

impl fmt::Display for JavaSerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.reason, self.offset)
    }
}

impl std::error::Error for JavaSerError {}

/// A deserialized map: its entries in stream order (values may be secrets: zeroized on drop).
pub type StringMap = Vec<(String, Option<Zeroizing<String>>)>;

/// Whether `bytes` start with the Java serialization magic.
pub fn is_java_serialization(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Reads a serialized `java.util.HashMap<String, String>`.
pub fn read_string_map(bytes: &[u8]) -> Result<StringMap, JavaSerError> {
    let mut r = Reader { bytes, pos: 0, strings: Vec::new(), next_handle: BASE_HANDLE };
    if !r.take(4).is_ok_and(|m| m == MAGIC.as_slice()) {
        return Err(r.error("not a Java serialization stream"));
    }
    r.expect(tc::OBJECT, "the stream does not hold an object")?;
    r.expect(tc::CLASSDESC, "the object has no class descriptor")?;
    let class = r.utf()?;
    if class.as_str() != "java.util.HashMap" {
        return Err(r.error("the object is not a java.util.HashMap"));
    }
    r.take(8)?; // serialVersionUID
    r.next_handle += 1; // the class descriptor's handle
    if r.u8()? & SC_SERIALIZABLE == 0 {
        return Err(r.error("the class is not serializable"));
    }
    let field_count = r.u16()?;
    let mut values_len = 0usize;
    for _ in 0..field_count {
        values_len += match r.u8()? {
            b'B' | b'Z' => 1,
            b'C' | b'S' => 2,
            b'F' | b'I' => 4,
            b'D' | b'J' => 8,
            _ => return Err(r.error("the map has a field that is not a primitive")),
        };
        r.utf()?;
    }
    r.expect(tc::ENDBLOCKDATA, "the class descriptor is not closed")?;
    r.expect(tc::NULL, "the map has a superclass descriptor")?;
    r.next_handle += 1; // the map's own handle
    r.take(values_len)?;
    r.expect(tc::BLOCKDATA, "the map's data block is missing")?;
    let block_len = usize::from(r.u8()?);
    if block_len < 8 {
        return Err(r.error("the map's data block is too short"));
    }
    r.take(4)?; // capacity
    let size = r.u32()? as usize;
    r.take(block_len - 8)?;
    // Each entry takes at least two bytes (two TC_NULLs): refuse a count the input cannot hold.
    if size > (bytes.len() - r.pos) / 2 {
        return Err(r.error("the map's size is larger than the stream"));
    }
    let mut map = Vec::with_capacity(size);
    for _ in 0..size {
        let key = r.string()?.ok_or_else(|| r.error("a key is null"))?;
        let value = r.string()?;
        map.push((key.to_string(), value));
    }
    r.expect(tc::ENDBLOCKDATA, "the map's data is not closed")?;
    if r.pos != bytes.len() {
        return Err(r.error("data after the map"));
    }
    Ok(map)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Strings by handle (offset from the first string's), for `TC_REFERENCE`.
    strings: Vec<(u32, Zeroizing<String>)>,
    next_handle: u32,
}

impl<'a> Reader<'a> {
    fn error(&self, reason: &'static str) -> JavaSerError {
        JavaSerError { reason, offset: self.pos }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], JavaSerError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| self.error("the stream ends too early"))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, JavaSerError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, JavaSerError> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().expect("2 bytes")))
    }

    fn u32(&mut self) -> Result<u32, JavaSerError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    fn expect(&mut self, tag: u8, reason: &'static str) -> Result<(), JavaSerError> {
        if self.u8()? == tag {
            Ok(())
        } else {
            self.pos -= 1;
            Err(self.error(reason))
        }
    }

    /// A class or field name: u16 length, modified UTF-8.
    fn utf(&mut self) -> Result<Zeroizing<String>, JavaSerError> {
        let len = usize::from(self.u16()?);
        let at = self.pos;
        let bytes = self.take(len)?;
        modified_utf8(bytes).ok_or(JavaSerError { reason: "a string is not modified UTF-8", offset: at })
    }

    /// A string object, `None` for null.
    fn string(&mut self) -> Result<Option<Zeroizing<String>>, JavaSerError> {
        let text = match self.u8()? {
            tc::NULL => return Ok(None),
            tc::STRING => self.utf()?,
            tc::LONGSTRING => {
                let len = self.take(8)?;
                let len = usize::try_from(u64::from_be_bytes(len.try_into().expect("8 bytes")))
                    .map_err(|_| self.error("a string is longer than the stream"))?;
                let at = self.pos;
                let bytes = self.take(len)?;
                modified_utf8(bytes).ok_or(JavaSerError { reason: "a string is not modified UTF-8", offset: at })?
            }
            tc::REFERENCE => {
                let handle = self.u32()?;
                let found = self.strings.iter().find(|(h, _)| *h == handle);
                return found
                    .map(|(_, s)| Some(s.clone()))
                    .ok_or_else(|| self.error("a reference to no earlier string"));
            }
            _ => {
                self.pos -= 1;
                return Err(self.error("a key or value is not a string"));
            }
        };
        self.strings.push((self.next_handle, text.clone()));
        self.next_handle += 1;
        Ok(Some(text))
    }
}

/// Java's modified UTF-8: standard UTF-8 except NUL as `C0 80` and characters beyond the BMP
/// as two three-byte surrogates (CESU-8). `None` when it is not valid.
fn modified_utf8(bytes: &[u8]) -> Option<Zeroizing<String>> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Some(Zeroizing::new(text.to_owned()));
    }
    let mut units: Vec<u16> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let cont = |k: usize| bytes.get(i + k).filter(|&&c| c & 0xc0 == 0x80).map(|&c| u16::from(c & 0x3f));
        let (unit, len) = match b {
            0x01..=0x7f => (u16::from(b), 1),
            0xc0..=0xdf => ((u16::from(b & 0x1f) << 6) | cont(1)?, 2),
            0xe0..=0xef => ((u16::from(b & 0x0f) << 12) | (cont(1)? << 6) | cont(2)?, 3),
            _ => return None,
        };
        units.push(unit);
        i += len;
    }
    let text = String::from_utf16(&units).ok();
    units.iter_mut().for_each(|u| *u = 0);
    text.map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A serialized HashMap as Java writes it, with the given entries (strings or nulls).
    fn hashmap(entries: &[(&str, Option<&str>)]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([tc::OBJECT, tc::CLASSDESC]);
        out.extend((17u16).to_be_bytes());
        out.extend(b"java.util.HashMap");
        out.extend(0x0507_dac1_c316_60d1u64.to_be_bytes());
        out.extend([0x03, 0x00, 0x02]);
        out.extend([b'F', 0, 10]);
        out.extend(b"loadFactor");
        out.extend([b'I', 0, 9]);
        out.extend(b"threshold");
        out.extend([tc::ENDBLOCKDATA, tc::NULL]);
        out.extend([0x3f, 0x40, 0, 0, 0, 0, 0, 12]);
        out.extend([tc::BLOCKDATA, 8, 0, 0, 0, 16]);
        out.extend((entries.len() as u32).to_be_bytes());
        for (key, value) in entries {
            for s in [Some(*key), *value] {
                match s {
                    None => out.push(tc::NULL),
                    Some(s) => {
                        out.push(tc::STRING);
                        out.extend((s.len() as u16).to_be_bytes());
                        out.extend(s.as_bytes());
                    }
                }
            }
        }
        out.push(tc::ENDBLOCKDATA);
        out
    }

    fn text(map: &StringMap) -> Vec<(&str, Option<&str>)> {
        map.iter().map(|(k, v)| (k.as_str(), v.as_ref().map(|v| v.as_str()))).collect()
    }

    #[test]
    fn reads_a_map_of_strings_with_nulls_and_references() {
        let bytes = hashmap(&[("a", Some("{\"x\":1}")), ("b", None), ("é", Some(""))]);
        assert!(is_java_serialization(&bytes));
        assert_eq!(text(&read_string_map(&bytes).unwrap()), [("a", Some("{\"x\":1}")), ("b", None), ("é", Some(""))]);
        // The second value a reference to the first string (handle 0x7e0002: after the class
        // descriptor and the map).
        let mut bytes = hashmap(&[("k", Some("v")), ("j", Some("w"))]);
        let at = bytes.len() - 5;
        bytes.truncate(at + 1);
        bytes[at] = tc::REFERENCE;
        bytes.extend(0x7e_0002u32.to_be_bytes());
        bytes.push(tc::ENDBLOCKDATA);
        assert_eq!(text(&read_string_map(&bytes).unwrap()), [("k", Some("v")), ("j", Some("k"))]);
    }

    #[test]
    fn modified_utf8_nul_and_surrogate_pairs_are_decoded() {
        assert_eq!(modified_utf8(b"a\xc0\x80b").unwrap().as_str(), "a\0b");
        // U+1F600 as two surrogates (D83D DE00), each in three bytes.
        assert_eq!(modified_utf8(b"\xed\xa0\xbd\xed\xb8\x80").unwrap().as_str(), "😀");
        assert!(modified_utf8(b"\xed\xa0\xbd").is_none(), "a lone surrogate");
        assert!(modified_utf8(b"\xff").is_none());
    }

    #[test]
    fn other_streams_are_refused_and_cuts_never_panic() {
        let good = hashmap(&[("key", Some("value")), ("k2", Some("v2"))]);
        for len in 0..good.len() {
            assert!(read_string_map(&good[..len]).is_err(), "cut at {len}");
        }
        let mut other_class = good.clone();
        other_class[8..25].copy_from_slice(b"java.util.Hashtab");
        assert_eq!(read_string_map(&other_class).unwrap_err().reason, "the object is not a java.util.HashMap");
        let mut huge = good.clone();
        let size_at = good.iter().position(|&b| b == tc::BLOCKDATA).unwrap() + 6;
        huge[size_at..size_at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(read_string_map(&huge).unwrap_err().reason, "the map's size is larger than the stream");
        let mut object_value = good.clone();
        let last_value = object_value.len() - 6;
        object_value[last_value] = tc::OBJECT;
        assert_eq!(read_string_map(&object_value).unwrap_err().reason, "a key or value is not a string");
        let mut trailing = good;
        trailing.push(0);
        assert_eq!(read_string_map(&trailing).unwrap_err().reason, "data after the map");
        assert!(read_string_map(b"<map/>").is_err());
    }

    #[test]
    fn real_freeotp_backups_are_read() {
        let dir =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/import/aegis-testdata");
        for (name, entries) in
            [("freeotp_v2_api23.xml", 13), ("freeotp_v2_api34.xml", 13), ("freeotp_v2_null_algo.xml", 3)]
        {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {} is missing ({e})", path.display()));
            let map = read_string_map(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(map.len(), entries, "{name}");
            assert!(map.iter().any(|(k, v)| k == "masterKey" && v.is_some()), "{name}");
        }
    }
}
