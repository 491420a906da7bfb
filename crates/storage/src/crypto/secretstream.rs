//! libsodium's `crypto_secretstream_xchacha20poly1305`, the opening side, first message only
//! (Ente Auth's encrypted export seals its whole file as one final message).
//!
//! A stream's key is HChaCha20(key, header[..16]); its 12-byte ChaCha20 nonce is a 32-bit
//! little-endian counter (1 for the first message) followed by header[16..]. A message on the
//! wire is `tag byte ‖ ciphertext ‖ MAC`, where, with keystream block 0 giving the Poly1305
//! key, the tag byte is encrypted with the first byte of block 1, the message from block 2 on,
//! and the MAC covers the associated data, then the whole of block 1 (its first byte the
//! encrypted tag, the other 63 bytes keystream), then the ciphertext, with ChaCha20-Poly1305's
//! padding and lengths.
//!
//! That is exactly the IETF ChaCha20-Poly1305 AEAD (RFC 8439) of `tag ‖ 63 zero bytes ‖
//! message` under the stream key and nonce, whose ciphertext starts with the encrypted tag
//! and the 63 keystream bytes of block 1. So opening needs no new cipher code: ring's
//! ChaCha20-Poly1305 (already in the library for TLS) gives block 1's keystream (sealing 64
//! zero bytes; the tag of that seal is thrown away and nothing sealed with it leaves this
//! function) and then checks the MAC and decrypts the rebuilt ciphertext. Only HChaCha20, the
//! 20 ChaCha rounds without the final addition, is written here, checked against the test
//! vector of the XChaCha draft (draft-irtf-cfrg-xchacha-03, 2.2.1).

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroizing;

use super::Key;

/// Length of a stream header (the XChaCha20 nonce) in bytes.
pub const HEADER_LEN: usize = 24;
/// What one message adds to its plaintext: the tag byte and the 16-byte MAC.
pub const MESSAGE_OVERHEAD: usize = 1 + 16;
/// The tag of a stream's last message.
pub const TAG_FINAL: u8 = 3;

const BLOCK: usize = 64;

fn quarter_round(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

/// HChaCha20: a 32-byte subkey from `key` and a 16-byte `input`.
fn hchacha20(key: &[u8; 32], input: &[u8; 16]) -> Zeroizing<[u8; 32]> {
    let word = |bytes: &[u8], i: usize| {
        u32::from_le_bytes([bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]])
    };
    let mut s = Zeroizing::new([0u32; 16]);
    s[..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
    for i in 0..8 {
        s[4 + i] = word(key, i);
    }
    for i in 0..4 {
        s[12 + i] = word(input, i);
    }
    for _ in 0..10 {
        quarter_round(&mut s, 0, 4, 8, 12);
        quarter_round(&mut s, 1, 5, 9, 13);
        quarter_round(&mut s, 2, 6, 10, 14);
        quarter_round(&mut s, 3, 7, 11, 15);
        quarter_round(&mut s, 0, 5, 10, 15);
        quarter_round(&mut s, 1, 6, 11, 12);
        quarter_round(&mut s, 2, 7, 8, 13);
        quarter_round(&mut s, 3, 4, 9, 14);
    }
    let mut out = Zeroizing::new([0u8; 32]);
    for (i, w) in s[..4].iter().chain(&s[12..]).enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// Opens the first message of a stream whose `header` came with it, which must fill `message`:
/// its tag (the stream's last message carries [`TAG_FINAL`]) and its plaintext. `None` when the
/// key, header, associated data or any byte differ.
pub fn open_first(
    key: &Key,
    header: &[u8; HEADER_LEN],
    message: &[u8],
    aad: &[u8],
) -> Option<(u8, Zeroizing<Vec<u8>>)> {
    if message.len() < MESSAGE_OVERHEAD {
        return None;
    }
    let (head, nonce_tail) = header.split_at(16);
    let subkey = hchacha20(key.expose(), head.try_into().ok()?);
    let cipher = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &subkey[..]).ok()?);
    let mut nonce = [0u8; 12];
    nonce[0] = 1;
    nonce[4..].copy_from_slice(nonce_tail);

    // Block 1's keystream: ChaCha20-Poly1305 encrypts from block 1 on.
    let mut stream = Zeroizing::new(vec![0u8; BLOCK]);
    let _discarded_tag =
        cipher.seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut stream[..]).ok()?;

    // The AEAD ciphertext: encrypted tag, block 1's other 63 bytes, the message, the MAC.
    let (tag_byte, rest) = message.split_at(1);
    let mut sealed = Zeroizing::new(Vec::with_capacity(BLOCK + rest.len()));
    sealed.push(tag_byte[0]);
    sealed.extend_from_slice(&stream[1..]);
    sealed.extend_from_slice(rest);
    let plain = cipher.open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut sealed[..]).ok()?;
    Some((plain[0], Zeroizing::new(plain[BLOCK..].to_vec())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn hchacha20_matches_the_xchacha_draft_vector() {
        let key: [u8; 32] = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").try_into().unwrap();
        let input: [u8; 16] = hex("000000090000004a0000000031415927").try_into().unwrap();
        let expected = hex("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc");
        assert_eq!(&hchacha20(&key, &input)[..], &expected[..]);
    }

    /// Made once with PyNaCl 1.6.2 (libsodium's own secretstream, not ours):
    /// `init_push(key)` with key 00..1f, then `push(state, b"otpauth://totp/A?secret=JBSWY3DPEHPK3PXP",
    /// tag=TAG_FINAL)`. The Ente tests seal whole exports with PyNaCl at test time too.
    const VECTOR_HEADER: &str = "f481cd20ae13e0ecfd9afb02967bd53aca8ec400b72173a3";
    const VECTOR_MESSAGE: &str = "79272f8f830060557e9cc07a8ef2cb4e92b6d4f97203ea0d23f9fb14a44dbb60b32e8cb1842363897e684a3b8c4cfb15e7bdd9a93f2553748b";
    /// The same message pushed with tag 0 (a message, not the last one): the stream goes on.
    const NOT_FINAL_HEADER: &str = "03117ffd2e31631b38fff07b96258f9135926ca7a8c84313";
    const NOT_FINAL_MESSAGE: &str = "9460354b7330fad200ff3eb8b54a81bab3db62f1bab196ad276112ef5e6468768e81a6e99fbcf6d3475820f3f075d52f67f187adc34b3d0bfb";

    fn vector() -> (Key, [u8; HEADER_LEN], Vec<u8>) {
        let key = Key::from_slice(&(0u8..32).collect::<Vec<_>>()).unwrap();
        (key, hex(VECTOR_HEADER).try_into().unwrap(), hex(VECTOR_MESSAGE))
    }

    #[test]
    fn opens_a_message_libsodium_sealed() {
        let (key, header, message) = vector();
        let (tag, plain) = open_first(&key, &header, &message, b"").unwrap();
        assert_eq!((tag, &plain[..]), (TAG_FINAL, &b"otpauth://totp/A?secret=JBSWY3DPEHPK3PXP"[..]));
    }

    #[test]
    fn refuses_any_change() {
        let (key, header, message) = vector();
        for i in 0..message.len() {
            let mut bad = message.clone();
            bad[i] ^= 1;
            assert!(open_first(&key, &header, &bad, b"").is_none(), "byte {i} flipped");
        }
        for i in 0..HEADER_LEN {
            let mut bad = header;
            bad[i] ^= 0x80;
            assert!(open_first(&key, &bad, &message, b"").is_none(), "header byte {i} flipped");
        }
        let other = Key::from_slice(&[7u8; 32]).unwrap();
        assert!(open_first(&other, &header, &message, b"").is_none());
        assert!(open_first(&key, &header, &message, b"ad").is_none());
        assert!(open_first(&key, &header, &message[..message.len() - 1], b"").is_none());
        let mut longer = message.clone();
        longer.push(0);
        assert!(open_first(&key, &header, &longer, b"").is_none());
        assert!(open_first(&key, &header, &message[..MESSAGE_OVERHEAD - 1], b"").is_none());
    }

    #[test]
    fn tells_a_message_that_is_not_the_last() {
        let (key, _, _) = vector();
        let header: [u8; HEADER_LEN] = hex(NOT_FINAL_HEADER).try_into().unwrap();
        let (tag, plain) = open_first(&key, &header, &hex(NOT_FINAL_MESSAGE), b"").unwrap();
        assert_eq!((tag, &plain[..]), (0, &b"otpauth://totp/A?secret=JBSWY3DPEHPK3PXP"[..]));
    }
}
