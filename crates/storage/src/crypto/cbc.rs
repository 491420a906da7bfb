//! AES-256-CBC with PKCS#7 padding, decryption only: some other apps' exports (Stratum's legacy
//! format, Authy's encrypted secrets, TOTP Authenticator's backups) use it, and ring does not
//! offer CBC. It authenticates nothing: a wrong key usually shows as bad padding, but a caller
//! must still check that what comes out parses.

use aes::Aes256;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use zeroize::Zeroizing;

/// Length of an AES block, and of a CBC IV, in bytes.
pub const CBC_IV_LEN: usize = 16;

/// Decrypts `ciphertext` (a whole number of blocks) under a 32-byte `key` and a 16-byte `iv`,
/// and removes the PKCS#7 padding; `None` when a length is wrong or the padding is not valid.
pub fn aes256_cbc_decrypt(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let decryptor = cbc::Decryptor::<Aes256>::new_from_slices(key, iv).ok()?;
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(CBC_IV_LEN) {
        return None;
    }
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let len = decryptor.decrypt_padded_mut::<Pkcs7>(&mut buffer[..]).ok()?.len();
    buffer.truncate(len);
    Some(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_nist_sp800_38a_and_checks_padding_and_lengths() {
        // NIST SP 800-38A F.2.6 (CBC-AES256 decrypt), first block, followed by a block of
        // padding encrypted with the same key (computed with Python's `cryptography`).
        let key = hex::decode("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4").unwrap();
        let iv = hex::decode("000102030405060708090a0b0c0d0e0f").unwrap();
        let ciphertext = hex::decode("f58c4c04d6e5f1ba779eabfb5f7bfbd6485a5c81519cf378fa36d42b8547edc0").unwrap();
        let plaintext = aes256_cbc_decrypt(&key, &iv, &ciphertext).unwrap();
        assert_eq!(hex::encode(&plaintext[..]), "6bc1bee22e409f96e93d7e117393172a");
        assert!(aes256_cbc_decrypt(&key, &iv, &ciphertext[..16]).is_none(), "no valid padding");
        assert!(aes256_cbc_decrypt(&key, &iv, &ciphertext[..20]).is_none(), "not whole blocks");
        assert!(aes256_cbc_decrypt(&key, &iv, &[]).is_none());
        assert!(aes256_cbc_decrypt(&key[..16], &iv, &ciphertext).is_none(), "AES-128 key");
        assert!(aes256_cbc_decrypt(&key, &iv[..12], &ciphertext).is_none());
    }
}
