//! The phone's key and the server's, as the push protocol uses them: signatures with SHA-256
//! over UTF-8 text, carried as padded base32. privacyIDEA's tokens hold RSA keys (PKCS#1 v1.5);
//! eduMFA's eduPUSH tokens hold P-256 keys (ECDSA, DER signatures), which eduMFA verifies beside
//! RSA. The server's key is RSA in both.
//!
//! ring cannot generate RSA keys, so the `rsa` crate generates them (and only that: its own
//! signing has an unfixed timing advisory); ring signs and verifies, and generates P-256 keys.

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey};
use zeroize::Zeroizing;

use crate::error::Error;
use domain::codec::base32;

/// Size of a new device key, as privacyIDEA's own app uses.
pub const DEVICE_KEY_BITS: usize = 4096;

/// A freshly generated device key: the private key (PKCS#8 DER, wiped on drop) and the public
/// key (X.509 SubjectPublicKeyInfo DER, which registration sends).
pub struct NewDeviceKey {
    /// The private key, PKCS#8 DER; wiped on drop.
    pub pkcs8: Zeroizing<Vec<u8>>,
    /// The public key, X.509 SubjectPublicKeyInfo DER.
    pub spki: Vec<u8>,
}

/// Generates an RSA key. Takes about a second (4096 bits, optimised build): call it off the UI
/// thread.
pub fn generate_device_key(bits: usize) -> Result<NewDeviceKey, Error> {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
        .map_err(|_| Error::Crypto("RSA key generation failed"))?;
    let pkcs8 = key.to_pkcs8_der().map_err(|_| Error::Crypto("cannot encode the device key"))?;
    let spki = key.to_public_key().to_public_key_der().map_err(|_| Error::Crypto("cannot encode the public key"))?;
    Ok(NewDeviceKey { pkcs8: Zeroizing::new(pkcs8.as_bytes().to_vec()), spki: spki.as_bytes().to_vec() })
}

/// X.509 SubjectPublicKeyInfo header of an uncompressed P-256 point (id-ecPublicKey, prime256v1).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Generates a P-256 key (instant, unlike RSA).
pub fn generate_p256_key() -> Result<NewDeviceKey, Error> {
    let alg = &signature::ECDSA_P256_SHA256_ASN1_SIGNING;
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).map_err(|_| Error::Crypto("P-256 key generation failed"))?;
    let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng)
        .map_err(|_| Error::Crypto("P-256 key generation failed"))?;
    let mut spki = P256_SPKI_PREFIX.to_vec();
    spki.extend_from_slice(pair.public_key().as_ref());
    Ok(NewDeviceKey { pkcs8: Zeroizing::new(pkcs8.as_ref().to_vec()), spki })
}

/// The phone's private key, ready to sign.
pub enum DeviceKey {
    /// RSA: PKCS#1 v1.5 signatures.
    Rsa(RsaKeyPair),
    /// P-256: ECDSA signatures, DER-encoded.
    P256(EcdsaKeyPair),
}

impl DeviceKey {
    /// Loads the private key from PKCS#8 DER (RSA or P-256).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, Error> {
        if let Ok(key) = RsaKeyPair::from_pkcs8(pkcs8) {
            return Ok(Self::Rsa(key));
        }
        EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &SystemRandom::new())
            .map(Self::P256)
            .map_err(|_| Error::Crypto("the stored device key is invalid"))
    }

    /// Signs `message` (SHA-256; RSA PKCS#1 v1.5 or ECDSA) and returns padded base32.
    pub fn sign(&self, message: &str) -> Result<String, Error> {
        let rng = SystemRandom::new();
        let signature = match self {
            Self::Rsa(key) => {
                let mut signature = vec![0u8; key.public().modulus_len()];
                key.sign(&signature::RSA_PKCS1_SHA256, &rng, message.as_bytes(), &mut signature)
                    .map_err(|_| Error::Crypto("signing failed"))?;
                signature
            }
            Self::P256(key) => {
                key.sign(&rng, message.as_bytes()).map_err(|_| Error::Crypto("signing failed"))?.as_ref().to_vec()
            }
        };
        Ok(base32::encode(&signature, true).to_string())
    }
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKey(<redacted>)")
    }
}

/// The server's public key: PKCS#1 RSAPublicKey DER.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerKey(Vec<u8>);

impl ServerKey {
    /// From the registration reply: base64 of the DER, possibly wrapped every 64 characters and
    /// possibly inside PEM armour.
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        use base64::Engine;
        let body: String = text
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .flat_map(|line| line.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| Error::Protocol("the server's public key is not base64".into()))?;
        Self::from_der(der)
    }

    /// From DER; accepts PKCS#1 RSAPublicKey, or SubjectPublicKeyInfo (converted to PKCS#1).
    pub fn from_der(der: Vec<u8>) -> Result<Self, Error> {
        use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
        use rsa::pkcs8::DecodePublicKey;
        let bad = || Error::Protocol("the server's public key is not an RSA key".into());
        let key = rsa::RsaPublicKey::from_pkcs1_der(&der).or_else(|_| rsa::RsaPublicKey::from_public_key_der(&der));
        let pkcs1 = key.map_err(|_| bad())?.to_pkcs1_der().map_err(|_| bad())?;
        Ok(Self(pkcs1.as_bytes().to_vec()))
    }

    /// The key as PKCS#1 RSAPublicKey DER.
    pub fn der(&self) -> &[u8] {
        &self.0
    }

    /// Whether `signature_b32` (padded base32) is the server's signature over `message`.
    pub fn verifies(&self, message: &str, signature_b32: &str) -> bool {
        let Ok(signature) = base32::decode(signature_b32) else { return false };
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.0)
            .verify(message.as_bytes(), &signature)
            .is_ok()
    }
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerKey({} bytes)", self.0.len())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// One 2048-bit key per test binary (4096-bit keys cost seconds; the code paths are equal).
    pub(crate) fn test_key() -> &'static NewDeviceKey {
        static KEY: OnceLock<NewDeviceKey> = OnceLock::new();
        KEY.get_or_init(|| generate_device_key(2048).unwrap())
    }

    /// A second, unrelated key: "the server".
    pub(crate) fn server_test_key() -> &'static NewDeviceKey {
        static KEY: OnceLock<NewDeviceKey> = OnceLock::new();
        KEY.get_or_init(|| generate_device_key(2048).unwrap())
    }

    #[test]
    fn device_signatures_verify_with_the_public_key_and_only_for_that_message() {
        let key = test_key();
        let signer = DeviceKey::from_pkcs8(&key.pkcs8).unwrap();
        let public = ServerKey::from_der(key.spki.clone()).unwrap();
        let signature = signer.sign("nonce|PIPU0001").unwrap();
        assert!(signature.len().is_multiple_of(8));
        assert!(public.verifies("nonce|PIPU0001", &signature));
        assert!(!public.verifies("nonce|PIPU0002", &signature));
        let other = ServerKey::from_der(server_test_key().spki.clone()).unwrap();
        assert!(!other.verifies("nonce|PIPU0001", &signature));
        assert!(!public.verifies("nonce|PIPU0001", "not base32!"));
    }

    #[test]
    fn p256_device_keys_sign_what_their_spki_verifies() {
        let key = generate_p256_key().unwrap();
        assert_eq!(key.spki.len(), 91);
        let signer = DeviceKey::from_pkcs8(&key.pkcs8).unwrap();
        assert!(matches!(signer, DeviceKey::P256(_)));
        let signature = base32::decode(&signer.sign("SERIAL|2026-01-01T00:00:00+00:00").unwrap()).unwrap();
        // The SPKI holds the point after its fixed header: what the server reads from `pubkey`.
        let public = UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, &key.spki[P256_SPKI_PREFIX.len()..]);
        assert!(public.verify(b"SERIAL|2026-01-01T00:00:00+00:00", &signature).is_ok());
        assert!(public.verify(b"SERIAL|2026-01-01T00:00:01+00:00", &signature).is_err());
        assert!(DeviceKey::from_pkcs8(b"not a key").is_err());
    }

    #[test]
    fn server_key_reads_wrapped_base64_pkcs1() {
        use base64::Engine;
        let pkcs1 = ServerKey::from_der(test_key().spki.clone()).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(pkcs1.der());
        let wrapped: Vec<String> = b64.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        assert_eq!(ServerKey::from_base64(&wrapped.join("\n")).unwrap(), pkcs1);
        assert!(ServerKey::from_base64("not base64 at all").is_err());
    }
}
