//! PKWARE's traditional ZIP encryption ("ZipCrypto", APPNOTE 6.1), decryption only: what
//! Authenticator Plus protects its backup with. It is a weak, 1989 stream cipher keyed
//! directly by the password (no key derivation, so no KDF budget applies); it is read here to
//! get people's accounts out, never used to protect anything.

use zeroize::{Zeroize, Zeroizing};

/// Length of the encryption header in front of every encrypted entry.
pub const HEADER_LEN: usize = 12;

/// The CRC-32 (IEEE) table, also the cipher's mixing function.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

fn crc_byte(crc: u32, byte: u8) -> u32 {
    (crc >> 8) ^ CRC_TABLE[((crc ^ u32::from(byte)) & 0xff) as usize]
}

/// The CRC-32 of `bytes`, as ZIP records it for each entry.
pub fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &b| crc_byte(crc, b))
}

struct Keys([u32; 3]);

impl Drop for Keys {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Keys {
    fn new(password: &[u8]) -> Self {
        let mut keys = Self([0x1234_5678, 0x2345_6789, 0x3456_7890]);
        for &b in password {
            keys.update(b);
        }
        keys
    }

    fn update(&mut self, plain: u8) {
        let k = &mut self.0;
        k[0] = crc_byte(k[0], plain);
        k[1] = k[1].wrapping_add(k[0] & 0xff).wrapping_mul(134_775_813).wrapping_add(1);
        k[2] = crc_byte(k[2], (k[1] >> 24) as u8);
    }

    fn decrypt(&mut self, cipher: u8) -> u8 {
        let t = (self.0[2] | 2) & 0xffff;
        let plain = cipher ^ ((t.wrapping_mul(t ^ 1) >> 8) & 0xff) as u8;
        self.update(plain);
        plain
    }
}

/// Decrypts an entry's data (its 12-byte header, then the compressed bytes) with `password`.
/// `None` when the header's last byte is not `check` (the high byte of the entry's CRC, or of
/// its modification time when sizes follow the data): the password is wrong, except in one
/// case out of 256, which the caller's CRC check of the result catches.
pub fn decrypt(password: &[u8], data: &[u8], check: u8) -> Option<Zeroizing<Vec<u8>>> {
    let (header, body) = (data.get(..HEADER_LEN)?, &data[HEADER_LEN..]);
    let mut keys = Keys::new(password);
    let mut last = 0;
    for &c in header {
        last = keys.decrypt(c);
    }
    if last != check {
        return None;
    }
    Some(Zeroizing::new(body.iter().map(|&c| keys.decrypt(c)).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn an_input_shorter_than_the_header_is_refused() {
        assert!(decrypt(b"pw", &[0u8; HEADER_LEN - 1], 0).is_none());
    }

    #[test]
    fn exactly_one_check_byte_fits_a_header() {
        // The header decrypts to one last byte: of the 256 possible check bytes, one opens it.
        let opened = (0..=255u8).filter(|&check| decrypt(b"pw", &[7u8; HEADER_LEN], check).is_some()).count();
        assert_eq!(opened, 1);
    }
}
