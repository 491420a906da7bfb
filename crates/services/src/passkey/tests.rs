use super::*;
use domain::passkey::{b64url, decode_b64url};
use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use storage::DataKey;

const ORIGIN: &str = "https://example.org";
const VERIFIED: User = User { verified: true };
const UNVERIFIED: User = User { verified: false };

struct Fixture {
    _dir: tempfile::TempDir,
    vault: Vault,
}

fn fixture(name: &str) -> Fixture {
    let dir = testkit::process::temp_dir("passkey", name);
    let vault = Vault::open(dir.path().join("vault.db"), &DataKey::from_bytes([5; 32])).unwrap();
    Fixture { _dir: dir, vault }
}

fn creation(user: &str, extra: Value) -> String {
    let mut options = json!({
        "rp": {"id": "example.org", "name": "Example"},
        "user": {"id": b64url(user.as_bytes()), "name": user, "displayName": user},
        "challenge": b64url(b"registration challenge"),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    });
    if let (Value::Object(options), Value::Object(extra)) = (&mut options, extra) {
        options.extend(extra);
    }
    options.to_string()
}

fn request(extra: Value) -> String {
    let mut options = json!({"challenge": b64url(b"login challenge"), "rpId": "example.org"});
    if let (Value::Object(options), Value::Object(extra)) = (&mut options, extra) {
        options.extend(extra);
    }
    options.to_string()
}

fn response(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

/// The public key's SEC1 point from the registration's SPKI (the last 65 bytes).
fn public_key(registration: &PasskeyRegistration) -> Vec<u8> {
    let spki = decode_b64url(response(&registration.response_json)["response"]["publicKey"].as_str().unwrap()).unwrap();
    spki[spki.len() - 65..].to_vec()
}

fn verifies(public: &[u8], assertion: &PasskeyAssertion, client_data_hash: &[u8]) -> bool {
    let mut signed = assertion.authenticator_data.clone();
    signed.extend_from_slice(client_data_hash);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, public).verify(&signed, &assertion.signature).is_ok()
}

#[test]
fn a_created_passkey_signs_an_assertion_that_verifies_with_its_public_key() {
    let f = fixture("roundtrip");
    let registration = create(&f.vault, &creation("alice", json!({})), ORIGIN, None, VERIFIED).unwrap();
    let value = response(&registration.response_json);
    assert_eq!(value["id"], b64url(&registration.credential_id));
    assert_eq!(registration.credential_id.len(), 16);
    let client_data: Value = serde_json::from_slice(registration.client_data_json.as_ref().unwrap()).unwrap();
    assert_eq!(client_data["type"], "webauthn.create");
    assert_eq!(client_data["origin"], ORIGIN);
    assert_eq!(client_data["challenge"], b64url(b"registration challenge"));
    // rpIdHash, then UP | UV | BE | AT, counter 0.
    assert_eq!(&registration.authenticator_data[..32], &webauthn::rp_id_hash("example.org"));
    assert_eq!(registration.authenticator_data[32], 0x01 | 0x04 | 0x08 | 0x40);
    assert_eq!(&registration.authenticator_data[33..37], &[0; 4]);

    let assertion = get(&f.vault, &request(json!({})), ORIGIN, None, &registration.credential_id, VERIFIED).unwrap();
    let hash = sha256(assertion.client_data_json.as_ref().unwrap());
    assert!(verifies(&public_key(&registration), &assertion, &hash));
    assert_eq!(assertion.user_handle, b"alice");
    assert_eq!(response(&assertion.response_json)["response"]["userHandle"], b64url(b"alice"));
    assert_eq!(assertion.authenticator_data[32], 0x01 | 0x04 | 0x08);
    assert!(f.vault.passkey(registration.passkey.id).unwrap().last_used_at.is_some());
}

#[test]
fn a_caller_s_client_data_hash_is_signed_instead() {
    let f = fixture("hash");
    let hash = sha256(b"the browser's own client data");
    let registration = create(&f.vault, &creation("alice", json!({})), ORIGIN, Some(&hash), UNVERIFIED).unwrap();
    assert!(registration.client_data_json.is_none());
    assert_eq!(response(&registration.response_json)["response"]["clientDataJSON"], "");
    let assertion =
        get(&f.vault, &request(json!({})), ORIGIN, Some(&hash), &registration.credential_id, UNVERIFIED).unwrap();
    assert!(verifies(&public_key(&registration), &assertion, &hash));
    assert_eq!(assertion.authenticator_data[32] & 0x04, 0, "UV only when the shell verified the user");
}

#[test]
fn required_user_verification_without_it_is_refused_and_nothing_is_stored() {
    let f = fixture("uv");
    let json = creation("alice", json!({"authenticatorSelection": {"userVerification": "required"}}));
    let error = create(&f.vault, &json, ORIGIN, None, UNVERIFIED).unwrap_err();
    assert!(matches!(error, Error::Passkey(PasskeyError::UserVerificationRequired)), "{error}");
    assert!(f.vault.passkeys().unwrap().is_empty());
    let made = create(&f.vault, &creation("alice", json!({})), ORIGIN, None, UNVERIFIED).unwrap();
    let json = request(json!({"userVerification": "required"}));
    let error = get(&f.vault, &json, ORIGIN, None, &made.credential_id, UNVERIFIED).unwrap_err();
    assert!(matches!(error, Error::Passkey(PasskeyError::UserVerificationRequired)), "{error}");
}

#[test]
fn an_excluded_credential_stored_here_is_already_registered() {
    let f = fixture("exclude");
    let made = create(&f.vault, &creation("alice", json!({})), ORIGIN, None, VERIFIED).unwrap();
    let json =
        creation("alice", json!({"excludeCredentials": [{"type": "public-key", "id": b64url(&made.credential_id)}]}));
    let error = create(&f.vault, &json, ORIGIN, None, VERIFIED).unwrap_err();
    assert!(matches!(error, Error::Passkey(PasskeyError::AlreadyRegistered)), "{error}");
    assert_eq!(f.vault.passkeys().unwrap().len(), 1);
}

#[test]
fn refusals_store_nothing() {
    let f = fixture("refusals");
    let cases = [
        (creation("alice", json!({"pubKeyCredParams": [{"type": "public-key", "alg": -257}]})), ORIGIN),
        (creation("alice", json!({"challenge": null})), ORIGIN),
        (creation("alice", json!({})), "https://example.com"),
        (creation("alice", json!({})), "http://example.org"),
        ("{not json".to_owned(), ORIGIN),
    ];
    for (json, origin) in cases {
        assert!(create(&f.vault, &json, origin, None, VERIFIED).is_err(), "{json} from {origin}");
    }
    assert!(f.vault.passkeys().unwrap().is_empty());
}

#[test]
fn candidates_are_the_allowed_or_discoverable_passkeys_of_the_rp_only() {
    let f = fixture("candidates");
    let alice = create(&f.vault, &creation("alice", json!({})), ORIGIN, None, VERIFIED).unwrap();
    let bob = create(&f.vault, &creation("bob", json!({})), ORIGIN, None, VERIFIED).unwrap();
    let other = creation("carol", json!({"rp": {"id": "example.net", "name": "Other"}}));
    let carol = create(&f.vault, &other, "https://example.net", None, VERIFIED).unwrap();
    let names = |list: Vec<PasskeyInfo>| list.into_iter().map(|p| p.user_name).collect::<Vec<_>>();
    assert_eq!(names(candidates(&f.vault, &request(json!({})), ORIGIN).unwrap()), ["alice", "bob"]);
    let allow = json!({"allowCredentials": [{"type": "public-key", "id": b64url(&bob.credential_id)},
                                            {"type": "public-key", "id": b64url(&carol.credential_id)}]});
    assert_eq!(names(candidates(&f.vault, &request(allow.clone()), ORIGIN).unwrap()), ["bob"]);
    // A passkey not in allowCredentials, or of another rp, never signs.
    for id in [&alice.credential_id, &carol.credential_id] {
        let error = get(&f.vault, &request(allow.clone()), ORIGIN, None, id, VERIFIED).unwrap_err();
        assert!(matches!(error, Error::Passkey(PasskeyError::NotFound)), "{error}");
    }
    assert_eq!(names(list(&f.vault, Some("example.net")).unwrap()), ["carol"]);
}

#[test]
fn prf_outputs_are_stable_per_credential_and_differ_with_user_verification() {
    let f = fixture("prf");
    let salt = b64url(b"vault unlock salt");
    let json = creation("alice", json!({"extensions": {"prf": {"eval": {"first": salt}}}}));
    let made = create(&f.vault, &json, ORIGIN, None, VERIFIED).unwrap();
    let at_create = response(&made.response_json)["clientExtensionResults"]["prf"].clone();
    assert_eq!(at_create["enabled"], true);
    let prf = |user| {
        let json = request(json!({"extensions": {"prf": {"eval": {"first": salt, "second": "AA"}}}}));
        let assertion = get(&f.vault, &json, ORIGIN, None, &made.credential_id, user).unwrap();
        response(&assertion.response_json)["clientExtensionResults"]["prf"]["results"].clone()
    };
    let verified = prf(VERIFIED);
    assert_eq!(verified["first"], at_create["results"]["first"]);
    assert_eq!(prf(VERIFIED), verified, "the same input gives the same output");
    assert_ne!(prf(UNVERIFIED)["first"], verified["first"], "another secret without UV");
    assert_ne!(verified["second"], verified["first"]);
    assert_eq!(decode_b64url(verified["first"].as_str().unwrap()).unwrap().len(), 32);
}

#[test]
fn ios_parts_register_and_assert() {
    let f = fixture("parts");
    let hash = sha256(b"client data built by iOS");
    let made = create_parts(&f.vault, "example.org", "alice", "Alice", b"alice-handle", &hash, VERIFIED, true, vec![])
        .unwrap();
    assert_eq!(made.passkey.rp_id, "example.org");
    let again = create_parts(
        &f.vault,
        "example.org",
        "alice",
        "Alice",
        b"h",
        &hash,
        VERIFIED,
        false,
        vec![made.credential_id.clone()],
    );
    assert!(matches!(again, Err(Error::Passkey(PasskeyError::AlreadyRegistered))));
    let assertion = get_parts(&f.vault, "example.org", &made.credential_id, &hash, VERIFIED, true).unwrap();
    assert!(verifies(&public_key(&made), &assertion, &hash));
    assert_eq!(assertion.user_handle, b"alice-handle");
    let refused = get_parts(&f.vault, "example.org", &made.credential_id, &hash, UNVERIFIED, true);
    assert!(matches!(refused, Err(Error::Passkey(PasskeyError::UserVerificationRequired))));
    let wrong_rp = get_parts(&f.vault, "example.net", &made.credential_id, &hash, VERIFIED, false);
    assert!(matches!(wrong_rp, Err(Error::Passkey(PasskeyError::NotFound))));
}

#[test]
fn backup_state_is_set_while_backups_are_on() {
    let f = fixture("bs");
    let made = create(&f.vault, &creation("alice", json!({})), ORIGIN, None, VERIFIED).unwrap();
    assert_eq!(made.authenticator_data[32] & 0x18, 0x08, "BE without BS");
    let folder = f._dir.path().join("backups");
    std::fs::create_dir(&folder).unwrap();
    crate::backup::auto::enable(
        &f.vault,
        "a backup password of some length",
        3,
        Some(folder.to_str().unwrap()),
        crate::backup::format::KdfParams { memory_kib: 256, iterations: 1, parallelism: 1 },
    )
    .unwrap();
    let assertion = get(&f.vault, &request(json!({})), ORIGIN, None, &made.credential_id, VERIFIED).unwrap();
    assert_eq!(assertion.authenticator_data[32] & 0x18, 0x18, "BE and BS");
}
