//! What a WebAuthn platform authenticator writes (W3C WebAuthn Level 3 §6.1 and §6.5, COSE
//! RFC 9053): the authenticator data, the attested credential data with its COSE public key,
//! the `none` attestation object, and the SubjectPublicKeyInfo the JSON responses carry. Pure
//! byte layout; the keys, the requests and their checks live in the passkey service (issue 23).
//!
//! Choices of this authenticator, fixed here so no caller can get them wrong:
//! - **ES256 only** (ECDSA P-256 with SHA-256, COSE algorithm −7): ring signs it, and every
//!   relying party accepts it.
//! - **The signature counter is always 0**: passkeys sync between the user's devices, so no
//!   counter could be kept monotonic; relying parties then skip the counter check (WebAuthn
//!   §6.1.1).
//! - **Backup state only with backup eligibility**: [`Backup`] cannot express BS without BE,
//!   which WebAuthn forbids (privacyIDEA answers it with HTTP 500).

use ring::digest;

use crate::codec::cbor::Writer;

/// This authenticator's AAGUID, `73f8476b-e961-45aa-ba19-34a438cf690f`: drawn at random once
/// for this project (docs/passkeys.md); relying parties may show it as the provider's name.
pub const AAGUID: [u8; 16] =
    [0x73, 0xf8, 0x47, 0x6b, 0xe9, 0x61, 0x45, 0xaa, 0xba, 0x19, 0x34, 0xa4, 0x38, 0xcf, 0x69, 0x0f];

/// COSE algorithm ES256 (ECDSA with P-256 and SHA-256).
pub const ES256: i64 = -7;

/// Whether a credential may be backed up, and whether it is (the BE and BS flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backup {
    /// Bound to this device (BE and BS clear).
    NotEligible,
    /// May be backed up or synced, and is not now (BE set).
    Eligible,
    /// Backed up or synced now (BE and BS set).
    BackedUp,
}

/// The flags of one ceremony.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// The user confirmed (UP): set for every create and get this authenticator answers.
    pub user_present: bool,
    /// The platform verified the user (UV: biometrics, device credential, a passphrase vault).
    pub user_verified: bool,
    /// BE and BS.
    pub backup: Backup,
}

impl Flags {
    /// The flags byte; `attested` sets AT (attested credential data follows).
    pub fn byte(self, attested: bool) -> u8 {
        let mut byte = 0;
        if self.user_present {
            byte |= 0x01;
        }
        if self.user_verified {
            byte |= 0x04;
        }
        match self.backup {
            Backup::NotEligible => {}
            Backup::Eligible => byte |= 0x08,
            Backup::BackedUp => byte |= 0x08 | 0x10,
        }
        if attested {
            byte |= 0x40;
        }
        byte
    }
}

/// A P-256 public key as its uncompressed SEC1 point (`04 ‖ x ‖ y`), as ring hands it out.
pub type P256Point = [u8; 65];

/// SHA-256 of the relying party id, as authenticator data starts.
pub fn rp_id_hash(rp_id: &str) -> [u8; 32] {
    let mut hash = [0; 32];
    hash.copy_from_slice(digest::digest(&digest::SHA256, rp_id.as_bytes()).as_ref());
    hash
}

/// The COSE_Key of an ES256 public key (RFC 9053 §7.1.1): `{1: 2, 3: -7, -1: 1, -2: x, -3: y}`,
/// keys in CTAP2's canonical order.
pub fn cose_es256_key(point: &P256Point) -> Vec<u8> {
    Writer::new()
        .map(5)
        .int(1)
        .int(2) // kty: EC2
        .int(3)
        .int(ES256) // alg
        .int(-1)
        .int(1) // crv: P-256
        .int(-2)
        .bytes(&point[1..33])
        .int(-3)
        .bytes(&point[33..])
        .finish()
}

/// The DER SubjectPublicKeyInfo of a P-256 key (`publicKey` in `RegistrationResponseJSON`): the
/// fixed prefix of id-ecPublicKey with prime256v1, then the point.
pub fn p256_spki(point: &P256Point) -> Vec<u8> {
    const PREFIX: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
        0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    let mut der = PREFIX.to_vec();
    der.extend_from_slice(point);
    der
}

/// A new credential, as its attested credential data names it.
#[derive(Debug, Clone, Copy)]
pub struct Attested<'a> {
    /// The credential id (this authenticator draws 16 random bytes or more).
    pub credential_id: &'a [u8],
    /// Its public key.
    pub public_key: &'a P256Point,
}

/// The authenticator data: rpIdHash ‖ flags ‖ signCount (always 0) ‖ attested credential data
/// (AAGUID ‖ id length ‖ id ‖ COSE key) when `attested` (a create), none for a get. No
/// extensions are written here (PRF results travel in the client extension results).
pub fn authenticator_data(rp_id: &str, flags: Flags, attested: Option<Attested<'_>>) -> Vec<u8> {
    let mut data = Vec::with_capacity(37 + attested.map_or(0, |a| 18 + a.credential_id.len() + 77));
    data.extend_from_slice(&rp_id_hash(rp_id));
    data.push(flags.byte(attested.is_some()));
    data.extend_from_slice(&0u32.to_be_bytes());
    if let Some(attested) = attested {
        data.extend_from_slice(&AAGUID);
        // WebAuthn caps credential ids at 1,023 bytes; ours are 16 to 64.
        let length = u16::try_from(attested.credential_id.len()).unwrap_or(u16::MAX);
        data.extend_from_slice(&length.to_be_bytes());
        data.extend_from_slice(attested.credential_id);
        data.extend_from_slice(&cose_es256_key(attested.public_key));
    }
    data
}

/// The attestation object of `none` attestation: `{"fmt": "none", "attStmt": {}, "authData":
/// …}`, keys in CTAP2's canonical order (shorter first).
pub fn attestation_object_none(authenticator_data: &[u8]) -> Vec<u8> {
    Writer::new()
        .map(3)
        .text("fmt")
        .text("none")
        .text("attStmt")
        .map(0)
        .text("authData")
        .bytes(authenticator_data)
        .finish()
}

/// Which ceremony client data is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    /// Registration: `webauthn.create`.
    Create,
    /// Authentication: `webauthn.get`.
    Get,
}

/// The client data JSON of a ceremony, in the exact serialization WebAuthn Level 3 §5.8.1.1
/// prescribes (the members `type`, `challenge`, `origin`, `crossOrigin` in that order, strings
/// escaped as the spec's CCDToString does), so that relying parties using its limited
/// verification algorithm read it too. `challenge` is the relying party's bytes; `origin` is a
/// web origin (`https://login.example.com`) or an Android app's
/// (`android:apk-key-hash:<base64url SHA-256 of its signing certificate>`).
pub fn client_data_json(ceremony: Ceremony, challenge: &[u8], origin: &str) -> String {
    use base64::Engine;
    let kind = match ceremony {
        Ceremony::Create => "webauthn.create",
        Ceremony::Get => "webauthn.get",
    };
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(challenge);
    let mut json = String::with_capacity(64 + challenge.len() + origin.len());
    json.push_str("{\"type\":");
    ccd_string(&mut json, kind);
    json.push_str(",\"challenge\":");
    ccd_string(&mut json, &challenge);
    json.push_str(",\"origin\":");
    ccd_string(&mut json, origin);
    json.push_str(",\"crossOrigin\":false}");
    json
}

/// CCDToString: a JSON string where `"` and `\` are escaped, every other code point below
/// U+0020 is `\u` and four lower-case hex digits, and everything else is itself.
fn ccd_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn point() -> P256Point {
        let mut point = [0; 65];
        point[0] = 4;
        for (i, b) in point[1..].iter_mut().enumerate() {
            *b = i as u8;
        }
        point
    }

    #[test]
    fn the_aaguid_is_the_documented_one() {
        assert_eq!(hex(&AAGUID), "73f8476be96145aaba1934a438cf690f");
    }

    #[test]
    fn flags_never_claim_a_backup_without_eligibility() {
        let flags = |user_verified, backup| Flags { user_present: true, user_verified, backup };
        assert_eq!(flags(false, Backup::NotEligible).byte(false), 0x01);
        assert_eq!(flags(true, Backup::Eligible).byte(false), 0x0d);
        assert_eq!(flags(true, Backup::BackedUp).byte(true), 0x5d);
        for backup in [Backup::NotEligible, Backup::Eligible, Backup::BackedUp] {
            for uv in [false, true] {
                let byte = flags(uv, backup).byte(true);
                assert!(byte & 0x10 == 0 || byte & 0x08 != 0, "BS without BE: {byte:#x}");
            }
        }
    }

    #[test]
    fn an_es256_cose_key_is_the_ec2_map_of_rfc_9053() {
        let key = cose_es256_key(&point());
        let x: String = (0..32).map(|i| format!("{i:02x}")).collect();
        let y: String = (32..64).map(|i| format!("{i:02x}")).collect();
        assert_eq!(hex(&key), format!("a5010203262001215820{x}225820{y}"));
        assert_eq!(key.len(), 77);
    }

    #[test]
    fn authenticator_data_lays_out_hash_flags_counter_and_the_attested_credential() {
        let flags = Flags { user_present: true, user_verified: false, backup: Backup::BackedUp };
        let get = authenticator_data("example.com", flags, None);
        assert_eq!(hex(&get), "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce19471900000000");
        let id = [0xc1; 16];
        let create =
            authenticator_data("example.com", flags, Some(Attested { credential_id: &id, public_key: &point() }));
        assert_eq!(create.len(), 37 + 16 + 2 + 16 + 77);
        assert_eq!(create[32], 0x59, "UP, BE, BS and AT");
        assert_eq!(create[33..37], [0, 0, 0, 0], "the counter is always 0");
        assert_eq!(create[37..53], AAGUID);
        assert_eq!(create[53..55], [0, 16]);
        assert_eq!(create[55..71], id);
        assert_eq!(create[71..], cose_es256_key(&point())[..]);
    }

    #[test]
    fn a_none_attestation_object_holds_fmt_an_empty_statement_and_the_data() {
        let object = attestation_object_none(&[0xaa; 37]);
        let head = "a363666d74646e6f6e656761747453746d74a068617574684461746158" /* 0x58: one-byte length */;
        assert_eq!(hex(&object[..head.len() / 2]), head);
        assert_eq!(object[head.len() / 2], 37);
        assert_eq!(object[head.len() / 2 + 1..], [0xaa; 37]);
    }

    #[test]
    fn a_ring_p256_key_is_the_point_these_structures_take_and_its_signature_verifies() {
        use ring::signature::{self, EcdsaKeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_ASN1_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
        let point: P256Point = key.public_key().as_ref().try_into().expect("an uncompressed point");
        let flags = Flags { user_present: true, user_verified: true, backup: Backup::Eligible };
        let data = authenticator_data("login.example.com", flags, None);
        // What WebAuthn signs: authenticator data ‖ SHA-256(clientDataJSON).
        let signed = [&data[..], &rp_id_hash("{\"type\":\"webauthn.get\"}")[..]].concat();
        let sig = key.sign(&rng, &signed).unwrap();
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, &point)
            .verify(&signed, sig.as_ref())
            .unwrap();
        assert_eq!(cose_es256_key(&point)[10..42], point[1..33], "x in the COSE key");
    }

    #[test]
    fn client_data_is_serialized_as_webauthn_prescribes() {
        let json = client_data_json(Ceremony::Create, &[0xfb, 0xff, 0x00, 0x01], "https://login.example.com");
        assert_eq!(
            json,
            r#"{"type":"webauthn.create","challenge":"-_8AAQ","origin":"https://login.example.com","crossOrigin":false}"#
        );
        let get = client_data_json(Ceremony::Get, b"", "android:apk-key-hash:AbC-_9");
        assert_eq!(
            get,
            r#"{"type":"webauthn.get","challenge":"","origin":"android:apk-key-hash:AbC-_9","crossOrigin":false}"#
        );
        let odd = client_data_json(Ceremony::Get, b"", "a\"b\\c\u{1}\u{1f}\u{e9}");
        assert!(odd.contains(r#""origin":"a\"b\\c\u0001\u001fé""#), "{odd}");
        let parsed: serde_json::Value = serde_json::from_str(&odd).expect("valid JSON");
        assert_eq!(parsed["origin"], "a\"b\\c\u{1}\u{1f}\u{e9}");
    }

    #[test]
    fn the_spki_of_a_key_is_der_of_id_ec_public_key_on_p256() {
        let spki = p256_spki(&point());
        assert_eq!(spki.len(), 91);
        assert_eq!(hex(&spki[..26]), "3059301306072a8648ce3d020106082a8648ce3d030107034200");
        assert_eq!(spki[26..], point());
    }
}
