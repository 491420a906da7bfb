//! Just enough of the ZIP container (APPNOTE) to take one named file out of an archive: the
//! central directory is read from the end record, the entry's local header located, its data
//! decrypted (traditional ZIP encryption, [`crate::backup::codec::zipcrypto`]) and inflated, and the
//! result checked against the recorded CRC-32. Stored and deflated entries only; no ZIP64,
//! no multi-disk archives, nothing written. Sizes are checked against the input before any
//! slice, and inflation stops at a caller's limit (a ZIP bomb costs nothing).

use zeroize::Zeroizing;

use crate::backup::codec::zipcrypto;

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;

/// Why a file could not be taken out of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZipError {
    /// Not a ZIP archive, or a damaged one; the reason says where.
    Invalid(&'static str),
    /// No file of that name in the archive.
    NotFound,
    /// The entry is encrypted and no password was given.
    PasswordRequired,
    /// The password does not open the entry (or the entry was modified).
    WrongPassword,
    /// The entry uses something this reader does not do (AES encryption, another compression).
    Unsupported(&'static str),
    /// The file inflates to more than the limit.
    TooLarge,
}

/// One entry of the central directory.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The file name as stored (forward slashes).
    pub name: String,
    flags: u16,
    method: u16,
    time: u16,
    crc: u32,
    compressed: usize,
    size: usize,
    offset: usize,
}

impl Entry {
    /// Whether the entry is encrypted.
    pub fn encrypted(&self) -> bool {
        self.flags & 1 != 0
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Whether `bytes` start like a ZIP archive.
pub fn is_zip(bytes: &[u8]) -> bool {
    u32_at(bytes, 0) == Some(LOCAL)
}

/// The entries of the archive's central directory.
pub fn entries(bytes: &[u8]) -> Result<Vec<Entry>, ZipError> {
    // The end record is the last 22 bytes, or fewer than 64 KiB further back behind a comment.
    let lowest = bytes.len().saturating_sub(22 + 0xffff);
    let end = (lowest..=bytes.len().saturating_sub(22))
        .rev()
        .find(|&at| u32_at(bytes, at) == Some(END))
        .ok_or(ZipError::Invalid("no end of central directory"))?;
    let count = usize::from(u16_at(bytes, end + 10).ok_or(ZipError::Invalid("truncated end record"))?);
    let mut at = u32_at(bytes, end + 16).ok_or(ZipError::Invalid("truncated end record"))? as usize;
    // Every offset stays within the input, so no sum below can overflow, even on 32 bits.
    if at > bytes.len() {
        return Err(ZipError::Invalid("central directory outside the file"));
    }
    let mut out = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let bad = ZipError::Invalid("damaged central directory");
        if u32_at(bytes, at) != Some(CENTRAL) {
            return Err(bad);
        }
        let field16 = |o| u16_at(bytes, at + o).ok_or(ZipError::Invalid("damaged central directory"));
        let field32 = |o| u32_at(bytes, at + o).ok_or(ZipError::Invalid("damaged central directory"));
        let (name_len, extra_len, comment_len) =
            (usize::from(field16(28)?), usize::from(field16(30)?), usize::from(field16(32)?));
        let name = bytes.get(at + 46..at + 46 + name_len).ok_or(bad)?;
        out.push(Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            flags: field16(8)?,
            method: field16(10)?,
            time: field16(12)?,
            crc: field32(16)?,
            compressed: field32(20)? as usize,
            size: field32(24)? as usize,
            offset: field32(42)? as usize,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(out)
}

/// The contents of `entry`, decrypted with `password` if it is encrypted, at most `limit`
/// bytes once inflated.
pub fn read(bytes: &[u8], entry: &Entry, password: Option<&str>, limit: usize) -> Result<Zeroizing<Vec<u8>>, ZipError> {
    if entry.size > limit {
        return Err(ZipError::TooLarge);
    }
    let local = entry.offset;
    if local > bytes.len() {
        return Err(ZipError::Invalid("entry outside the file"));
    }
    if u32_at(bytes, local) != Some(LOCAL) {
        return Err(ZipError::Invalid("damaged local header"));
    }
    let name_len = usize::from(u16_at(bytes, local + 26).ok_or(ZipError::Invalid("damaged local header"))?);
    let extra_len = usize::from(u16_at(bytes, local + 28).ok_or(ZipError::Invalid("damaged local header"))?);
    let start = local + 30 + name_len + extra_len;
    let data = bytes.get(start..start.saturating_add(entry.compressed)).ok_or(ZipError::Invalid("truncated entry"))?;
    if entry.method == 99 {
        return Err(ZipError::Unsupported("AES encryption"));
    }
    if entry.flags & 0x40 != 0 {
        return Err(ZipError::Unsupported("strong encryption"));
    }
    let data: Zeroizing<Vec<u8>> = if entry.encrypted() {
        let password = password.ok_or(ZipError::PasswordRequired)?;
        // With sizes after the data (flag bit 3) the check byte is the time's high byte.
        let check = if entry.flags & 8 != 0 { (entry.time >> 8) as u8 } else { (entry.crc >> 24) as u8 };
        zipcrypto::decrypt(password.as_bytes(), data, check).ok_or(ZipError::WrongPassword)?
    } else {
        Zeroizing::new(data.to_vec())
    };
    let failed = if entry.encrypted() { ZipError::WrongPassword } else { ZipError::Invalid("damaged entry") };
    let plain = match entry.method {
        0 => data,
        8 => Zeroizing::new(miniz_oxide::inflate::decompress_to_vec_with_limit(&data, limit).map_err(|e| {
            if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput {
                ZipError::TooLarge
            } else {
                failed.clone()
            }
        })?),
        _ => return Err(ZipError::Unsupported("a compression method other than deflate")),
    };
    if zipcrypto::crc32(&plain) != entry.crc || plain.len() != entry.size {
        return Err(failed);
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-entry, unencrypted archive whose headers claim `size` and `crc` for `data`.
    fn archive(name: &str, method: u16, data: &[u8], size: u32, crc: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let header = |sig: u32, out: &mut Vec<u8>| {
            out.extend(sig.to_le_bytes());
            if sig == CENTRAL {
                out.extend(20u16.to_le_bytes());
            }
            out.extend(20u16.to_le_bytes());
            out.extend(0u16.to_le_bytes()); // flags
            out.extend(method.to_le_bytes());
            out.extend([0u8; 4]); // time, date
            out.extend(crc.to_le_bytes());
            out.extend((data.len() as u32).to_le_bytes());
            out.extend(size.to_le_bytes());
            out.extend((name.len() as u16).to_le_bytes());
            out.extend(0u16.to_le_bytes()); // extra
        };
        header(LOCAL, &mut out);
        out.extend(name.as_bytes());
        out.extend(data);
        let central = out.len();
        header(CENTRAL, &mut out);
        out.extend([0u8; 10]); // comment length, disk, attributes
        out.extend(0u32.to_le_bytes()); // local header offset
        out.extend(name.as_bytes());
        let central_len = out.len() - central;
        out.extend(END.to_le_bytes());
        out.extend([0u8; 4]);
        out.extend(1u16.to_le_bytes());
        out.extend(1u16.to_le_bytes());
        out.extend((central_len as u32).to_le_bytes());
        out.extend((central as u32).to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }

    #[test]
    fn a_stored_and_a_deflated_entry_are_read_and_checked() {
        let text = b"otpauth://totp/A?secret=JBSWY3DPEHPK3PXP\n";
        let crc = zipcrypto::crc32(text);
        let deflated = miniz_oxide::deflate::compress_to_vec(text, 6);
        for (method, data) in [(0, &text[..]), (8, &deflated[..])] {
            let zip = archive("dir/Accounts.txt", method, data, text.len() as u32, crc);
            let found = entries(&zip).unwrap();
            assert_eq!(found[0].name, "dir/Accounts.txt");
            assert_eq!(read(&zip, &found[0], None, 1024).unwrap().as_slice(), text);
            let lying = archive("a", method, data, text.len() as u32, crc ^ 1);
            assert_eq!(read(&lying, &entries(&lying).unwrap()[0], None, 1024), Err(ZipError::Invalid("damaged entry")));
        }
    }

    #[test]
    fn an_entry_inflating_past_the_limit_stops_there() {
        // 8 MiB of zeros deflate to some 8 KiB; the header lies that they are 10 bytes.
        let bomb = miniz_oxide::deflate::compress_to_vec(&vec![0u8; 8 << 20], 6);
        let zip = archive("Accounts.txt", 8, &bomb, 10, 0);
        assert_eq!(read(&zip, &entries(&zip).unwrap()[0], None, 1 << 20), Err(ZipError::TooLarge));
        let honest = archive("Accounts.txt", 8, &bomb, 8 << 20, 0);
        assert_eq!(read(&honest, &entries(&honest).unwrap()[0], None, 1 << 20), Err(ZipError::TooLarge));
    }

    #[test]
    fn not_an_archive_or_a_cut_one_is_an_error() {
        assert!(entries(b"PK\x03\x04 not really").is_err());
        let zip = archive("Accounts.txt", 0, b"x", 1, zipcrypto::crc32(b"x"));
        for len in 0..zip.len() {
            for entry in entries(&zip[..len]).unwrap_or_default() {
                let _ = read(&zip[..len], &entry, None, 16);
            }
        }
    }
}
