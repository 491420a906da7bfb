//! Receiving and verifying challenges, replay, expiry and PINs, with keys made in the test.
//! (Answers over the network are tested against a real privacyIDEA server in tests/.)

use super::keys::tests::{server_test_key, test_key};
use super::*;
use challenge::Challenge;
use storage::vault::DataKey;

const URL: &str = "https://pi.example.com/ttype/push";
pub(super) const SERIAL: &str = "PIPU0001";

pub(super) struct Fixture {
    pub(super) dir: tempfile::TempDir,
    pub(super) vault: Vault,
}

fn fixture(_name: &str, pin: Option<&str>) -> Fixture {
    fixture_at(URL, pin)
}

/// A vault with one token (serial [`SERIAL`]) enrolled at `url`, as if the server had registered it.
pub(super) fn fixture_at(url: &str, pin: Option<&str>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path().join("vault.db"), &DataKey::from_bytes([9; 32])).unwrap();
    let uri = format!(
        "otpauth://pipush/{SERIAL}?url={url}&ttl=10&issuer=privacyIDEA&enrollment_credential=abc&v=1\
         &serial={SERIAL}&sslverify=1&poll_only=True{}",
        if pin.is_some() { "&pin=True" } else { "" }
    );
    let enrollment = enrollment::parse(&uri).unwrap();
    let server = keys::ServerKey::from_der(server_test_key().spki.clone()).unwrap();
    let options = EnrollOptions { pin: pin.map(str::to_owned), ..EnrollOptions::default() };
    store_token(&vault, &enrollment, &server, &test_key().pkcs8, &options).unwrap();
    Fixture { dir, vault }
}

/// A challenge as the server would send it, signed with the server's key.
fn challenge(nonce: &str, presence: Option<&str>) -> BTreeMap<String, String> {
    challenge_at(URL, nonce, presence)
}

/// A challenge for the token at `url`, signed with the server's key.
pub(super) fn challenge_at(url: &str, nonce: &str, presence: Option<&str>) -> BTreeMap<String, String> {
    let server = DeviceKey::from_pkcs8(&server_test_key().pkcs8).unwrap();
    let mut text = format!("{nonce}|{url}|{SERIAL}|Do you want to confirm the login?|privacyIDEA|1");
    if let Some(p) = presence {
        text = format!("{text}|{p}");
    }
    let mut map: BTreeMap<String, String> = [
        ("nonce", nonce),
        ("url", url),
        ("serial", SERIAL),
        ("question", "Do you want to confirm the login?"),
        ("title", "privacyIDEA"),
        ("sslverify", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    map.insert("signature".into(), server.sign(&text).unwrap());
    if let Some(p) = presence {
        map.insert("require_presence".into(), p.into());
    }
    map
}

fn with_capabilities(
    mut map: BTreeMap<String, String>,
    capabilities: &str,
    signer: &DeviceKey,
) -> BTreeMap<String, String> {
    let parsed: Value = serde_json::from_str(capabilities).unwrap();
    let signed =
        domain::codec::canonical_json(&serde_json::json!({"capabilities": parsed, "nonce": map["nonce"]})).unwrap();
    map.insert("capabilities".into(), capabilities.into());
    map.insert("capabilities_signature".into(), signer.sign(&signed).unwrap());
    map
}

#[test]
fn capabilities_with_floats_verify_over_their_rfc_8785_form() {
    // The server signs the RFC 8785 text, where 1.0 is written 1: written here by hand, not by
    // the code under test.
    let f = fixture("floats", None);
    let server = DeviceKey::from_pkcs8(&server_test_key().pkcs8).unwrap();
    let mut map = challenge("N-float", None);
    let signed = r#"{"capabilities":{"decline_reason":true,"v":1},"nonce":"N-float"}"#;
    map.insert("capabilities".into(), r#"{"v": 1.0, "decline_reason": true}"#.into());
    map.insert("capabilities_signature".into(), server.sign(signed).unwrap());
    let request = handle_push_payload(&f.vault, &map).unwrap().unwrap();
    assert!(request.decline_reasons);
}

fn rejected_reasons(vault: &Vault) -> Vec<String> {
    vault
        .push_history(100)
        .unwrap()
        .into_iter()
        .filter(|h| h.decision == Decision::Rejected)
        .map(|h| h.detail.unwrap_or_default())
        .collect()
}

#[test]
fn a_signed_challenge_for_the_enrolled_token_becomes_a_pending_request() {
    let f = fixture("accept", None);
    let request = handle_push_payload(&f.vault, &challenge("N1", None)).unwrap().unwrap();
    assert_eq!((request.title.as_str(), request.serial.as_str()), ("privacyIDEA", SERIAL));
    assert_eq!(request.state, RequestState::Pending);
    assert_eq!(request.expires_at - request.received_at, 120);
    assert!(!request.requires_pin && !request.decline_reasons && request.choices.is_none());
    assert_eq!(f.vault.pending_push_requests().unwrap(), [request]);
}

#[test]
fn number_matching_choices_are_part_of_the_signed_request() {
    let f = fixture("presence", None);
    let request = handle_push_payload(&f.vault, &challenge("N1", Some("12,34,56,78"))).unwrap().unwrap();
    assert_eq!(request.choices.unwrap(), ["12", "34", "56", "78"]);
    // Swapping the choices breaks the signature.
    let mut tampered = challenge("N2", Some("12,34,56,78"));
    tampered.insert("require_presence".into(), "99,34,56,78".into());
    assert!(matches!(handle_push_payload(&f.vault, &tampered), Err(Error::ForgedRequest(_))));
}

#[test]
fn rejects_push_request_with_forged_signature() {
    let f = fixture("forged", None);
    let mut forged = challenge("N1", None);
    let impostor = DeviceKey::from_pkcs8(&test_key().pkcs8).unwrap();
    let text = format!("N1|{URL}|{SERIAL}|Do you want to confirm the login?|privacyIDEA|1");
    forged.insert("signature".into(), impostor.sign(&text).unwrap());
    assert!(matches!(handle_push_payload(&f.vault, &forged), Err(Error::ForgedRequest(_))));
    assert!(f.vault.pending_push_requests().unwrap().is_empty());
    assert_eq!(rejected_reasons(&f.vault), ["the server signature is invalid"]);
}

#[test]
fn rejects_push_request_with_tampered_question() {
    let f = fixture("tampered", None);
    let mut tampered = challenge("N1", None);
    tampered.insert("question".into(), "Approve a payment of 10,000 EUR?".into());
    assert!(matches!(handle_push_payload(&f.vault, &tampered), Err(Error::ForgedRequest(_))));
    assert!(f.vault.pending_push_requests().unwrap().is_empty());
}

#[test]
fn rejects_push_request_for_another_serial_or_url() {
    let f = fixture("mismatch", None);
    let mut other_serial = challenge("N1", None);
    other_serial.insert("serial".into(), "PIPU9999".into());
    assert!(matches!(handle_push_payload(&f.vault, &other_serial), Err(Error::ForgedRequest(_))));
    let mut other_url = challenge("N2", None);
    other_url.insert("url".into(), "https://evil.example.com/ttype/push".into());
    assert!(matches!(handle_push_payload(&f.vault, &other_url), Err(Error::ForgedRequest(_))));
    assert_eq!(
        rejected_reasons(&f.vault),
        ["the URL does not match the enrolled token", "no token with this serial is enrolled"]
    );
    let mut incomplete = challenge("N3", None);
    incomplete.remove("signature");
    assert!(matches!(handle_push_payload(&f.vault, &incomplete), Err(Error::ForgedRequest(_))));
    assert!(f.vault.pending_push_requests().unwrap().is_empty());
}

#[test]
fn signed_capabilities_enable_decline_reasons_and_forged_ones_are_rejected() {
    let f = fixture("capabilities", None);
    let server = DeviceKey::from_pkcs8(&server_test_key().pkcs8).unwrap();
    let signed = with_capabilities(challenge("N1", None), r#"{"decline_reason": true}"#, &server);
    assert!(handle_push_payload(&f.vault, &signed).unwrap().unwrap().decline_reasons);
    let impostor = DeviceKey::from_pkcs8(&test_key().pkcs8).unwrap();
    let forged = with_capabilities(challenge("N2", None), r#"{"decline_reason": true}"#, &impostor);
    assert!(matches!(handle_push_payload(&f.vault, &forged), Err(Error::ForgedRequest(_))));
    let mut unsigned = challenge("N3", None);
    unsigned.insert("capabilities".into(), r#"{"decline_reason": true}"#.into());
    assert!(matches!(handle_push_payload(&f.vault, &unsigned), Err(Error::ForgedRequest(_))));
}

#[test]
fn a_replayed_challenge_is_never_shown_or_answered_twice() {
    let f = fixture("replay", None);
    let request = handle_push_payload(&f.vault, &challenge("N1", None)).unwrap().unwrap();
    assert_eq!(handle_push_payload(&f.vault, &challenge("N1", None)).unwrap(), None);
    f.vault.claim_push_request(request.id, Decision::Approved).unwrap();
    assert!(matches!(f.vault.claim_push_request(request.id, Decision::Approved), Err(storage::Error::AlreadyAnswered)));
    assert!(matches!(f.vault.claim_push_request(request.id, Decision::Denied), Err(storage::Error::AlreadyAnswered)));
    // The same nonce arriving again after the answer is still not a new request.
    assert_eq!(handle_push_payload(&f.vault, &challenge("N1", None)).unwrap(), None);
    assert!(f.vault.pending_push_requests().unwrap().is_empty());
}

#[test]
fn expired_requests_cannot_be_answered_and_are_logged() {
    let f = fixture("expired", None);
    let request = handle_push_payload(&f.vault, &challenge("N1", None)).unwrap().unwrap();
    f.vault.execute_for_test("UPDATE push_requests SET received_at = received_at - 200, expires_at = expires_at - 200");
    assert!(f.vault.pending_push_requests().unwrap().is_empty());
    assert_eq!(f.vault.push_request(request.id).unwrap().state, RequestState::Expired);
    assert!(matches!(f.vault.claim_push_request(request.id, Decision::Approved), Err(storage::Error::Expired)));
    let history = f.vault.push_history(10).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].decision, history[0].question.as_str()),
        (Decision::Expired, "Do you want to confirm the login?")
    );
}

#[test]
fn a_pin_locked_key_cannot_sign_without_the_right_pin() {
    let f = fixture("pin", Some("2468"));
    let token = &f.vault.push_tokens().unwrap()[0];
    assert!(token.has_pin && token.pin_required_by_server);
    assert!(matches!(pin::device_key(&f.vault, token.id, None), Err(Error::PinRequired)));
    assert!(matches!(pin::device_key(&f.vault, token.id, Some("0000")), Err(Error::WrongPin { attempts_left: 4 })));
    assert!(matches!(pin::device_key(&f.vault, token.id, Some("1111")), Err(Error::WrongPin { attempts_left: 3 })));
    // The right PIN works and resets the count.
    pin::device_key(&f.vault, token.id, Some("2468")).unwrap();
    assert!(matches!(pin::device_key(&f.vault, token.id, Some("0000")), Err(Error::WrongPin { attempts_left: 4 })));
    let request = handle_push_payload(&f.vault, &challenge("N1", None)).unwrap().unwrap();
    assert!(request.requires_pin);
}

#[test]
fn five_wrong_pins_lock_out_with_growing_delays_that_survive_restarts() {
    let f = fixture("lockout", Some("2468"));
    let id = f.vault.push_tokens().unwrap()[0].id;
    for left in (1..5).rev() {
        assert!(
            matches!(pin::device_key(&f.vault, id, Some("0000")), Err(Error::WrongPin { attempts_left }) if attempts_left == left)
        );
    }
    assert!(matches!(pin::device_key(&f.vault, id, Some("0000")), Err(Error::LockedOut { retry_after_seconds: 30 })));
    // Even the right PIN is not tried while locked out, also after reopening the vault.
    let reopened = Vault::open(f.dir.path().join("vault.db"), &DataKey::from_bytes([9; 32])).unwrap();
    assert!(matches!(pin::device_key(&reopened, id, Some("2468")), Err(Error::LockedOut { .. })));
    // After the lockout, a wrong PIN locks out longer.
    reopened.execute_for_test("UPDATE push_tokens SET locked_until = locked_until - 31");
    assert!(matches!(pin::device_key(&reopened, id, Some("0000")), Err(Error::LockedOut { retry_after_seconds: 60 })));
    reopened.execute_for_test("UPDATE push_tokens SET locked_until = locked_until - 61");
    pin::device_key(&reopened, id, Some("2468")).unwrap();
    assert!(matches!(pin::device_key(&reopened, id, Some("0000")), Err(Error::WrongPin { attempts_left: 4 })));
}

#[test]
fn changing_the_pin_reseals_the_key() {
    let f = fixture("change-pin", Some("2468"));
    let id = f.vault.push_tokens().unwrap()[0].id;
    assert!(matches!(pin::set_pin(&f.vault, id, Some("0000"), Some("1357")), Err(Error::WrongPin { .. })));
    pin::set_pin(&f.vault, id, Some("2468"), Some("1357")).unwrap();
    assert!(matches!(pin::device_key(&f.vault, id, Some("2468")), Err(Error::WrongPin { .. })));
    pin::device_key(&f.vault, id, Some("1357")).unwrap();
    // The server demanded a PIN: it cannot be removed.
    assert!(matches!(pin::set_pin(&f.vault, id, Some("1357"), None), Err(Error::PinRequired)));
}

#[test]
fn a_user_can_add_and_remove_a_pin_on_a_token_without_one() {
    let f = fixture("add-pin", None);
    let id = f.vault.push_tokens().unwrap()[0].id;
    pin::device_key(&f.vault, id, None).unwrap();
    pin::set_pin(&f.vault, id, None, Some("8642")).unwrap();
    assert!(f.vault.push_token(id).unwrap().has_pin);
    assert!(matches!(pin::device_key(&f.vault, id, None), Err(Error::PinRequired)));
    pin::set_pin(&f.vault, id, Some("8642"), None).unwrap();
    pin::device_key(&f.vault, id, None).unwrap();
}

#[test]
fn the_private_key_never_reaches_the_file_in_plaintext() {
    let f = fixture("key-at-rest", None);
    let bytes = std::fs::read(f.dir.path().join("vault.db")).unwrap();
    let wal = std::fs::read(f.dir.path().join("vault.db-wal")).unwrap_or_default();
    let needle = &test_key().pkcs8[40..72];
    for haystack in [&bytes, &wal] {
        assert!(!haystack.windows(needle.len()).any(|w| w == needle));
    }
}

#[test]
fn oversized_challenge_fields_are_refused_even_when_signed() {
    let f = fixture("field-caps", None);
    let server = DeviceKey::from_pkcs8(&server_test_key().pkcs8).unwrap();
    let resign = |map: &mut BTreeMap<String, String>| {
        let fields = ["nonce", "url", "serial", "question", "title", "sslverify"];
        let text = fields.map(|k| map[k].as_str()).join("|");
        map.insert("signature".into(), server.sign(&text).unwrap());
    };
    for (field, length, limit) in [("nonce", 257, 256), ("title", 257, 256), ("question", 2049, 2048)] {
        let mut map = challenge("N-long", None);
        map.insert(field.into(), "x".repeat(length));
        resign(&mut map);
        let Err(Error::ForgedRequest(reason)) = handle_push_payload(&f.vault, &map) else {
            panic!("a {length}-byte {field} was accepted")
        };
        assert_eq!(reason, format!("protocol error: challenge field '{field}' is longer than {limit} bytes"));
        // At the limit, it is accepted.
        let mut map = challenge(&format!("N-{field}"), None);
        if field == "nonce" {
            map.insert(field.into(), "n".repeat(limit));
        } else {
            map.insert(field.into(), "x".repeat(limit));
        }
        resign(&mut map);
        handle_push_payload(&f.vault, &map).unwrap().unwrap();
    }
}

#[test]
fn number_matching_cannot_be_stripped_by_recutting_the_signed_fields() {
    let f = fixture("recut", None);
    let genuine = challenge("N-recut", Some("12,34,56"));
    // The attacker moves the field boundaries: the joined text, and so the signature, is the same.
    let mut recut = genuine.clone();
    recut.insert("title".into(), "privacyIDEA|1".into());
    recut.insert("sslverify".into(), "12,34,56".into());
    recut.remove("require_presence");
    let mut recut_question = genuine.clone();
    recut_question.insert("question".into(), "Do you want to confirm the login?|privacyIDEA".into());
    recut_question.insert("title".into(), "1".into());
    recut_question.insert("sslverify".into(), "12,34,56".into());
    recut_question.remove("require_presence");
    let server = keys::ServerKey::from_der(server_test_key().spki.clone()).unwrap();
    for tampered in [&recut, &recut_question] {
        let as_sent = |map: &BTreeMap<String, String>| -> Challenge {
            Challenge {
                nonce: map["nonce"].clone(),
                url: map["url"].clone(),
                serial: map["serial"].clone(),
                question: map["question"].clone(),
                title: map["title"].clone(),
                sslverify: map["sslverify"].clone(),
                signature: map["signature"].clone(),
                require_presence: map.get("require_presence").cloned(),
                capabilities: None,
                capabilities_signature: None,
            }
        };
        assert!(as_sent(tampered).signature_valid(&server), "the re-cut text carries the genuine signature");
        let Err(Error::ForgedRequest(reason)) = handle_push_payload(&f.vault, tampered) else {
            panic!("a re-cut challenge was accepted: {tampered:?}")
        };
        assert_eq!(reason, "protocol error: challenge field 'sslverify' is not 0 or 1");
    }
    // A '|' in any signed field is refused, even with sslverify intact.
    for field in ["nonce", "question", "title", "require_presence"] {
        let mut map = challenge("N-bar", Some("12,34,56"));
        let value = format!("{}|x", map[field]);
        map.insert(field.into(), value);
        let Err(Error::ForgedRequest(reason)) = handle_push_payload(&f.vault, &map) else {
            panic!("a '|' in {field} was accepted")
        };
        assert_eq!(reason, format!("protocol error: challenge field '{field}' contains '|'"));
    }
    for sslverify in ["true", "01", " 1", ""] {
        let mut map = challenge("N-ssl", None);
        map.insert("sslverify".into(), sslverify.into());
        assert!(matches!(handle_push_payload(&f.vault, &map), Err(Error::ForgedRequest(_))), "{sslverify:?}");
    }
    assert!(f.vault.pending_push_requests().unwrap().is_empty());
    // The genuine challenge still verifies, with its choices.
    let request = handle_push_payload(&f.vault, &genuine).unwrap().unwrap();
    assert_eq!(request.choices.unwrap(), ["12", "34", "56"]);
}

#[test]
fn iso8601_timestamps_are_utc_with_an_offset() {
    assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00.000000+00:00");
    assert_eq!(iso8601_utc(1_764_068_185), "2025-11-25T10:56:25.000000+00:00");
    assert_eq!(iso8601_utc(951_782_400), "2000-02-29T00:00:00.000000+00:00");
}

/// The PIN seal's key derivation as stored in the token's row: (kdf, memory KiB, passes or
/// iterations, lanes), read straight from the file.
fn stored_pin_kdf(f: &Fixture) -> (Option<String>, Option<i64>, Option<i64>, Option<i64>) {
    let conn = rusqlite::Connection::open(f.dir.path().join("vault.db")).unwrap();
    conn.query_row("SELECT pin_kdf, pin_memory_kib, pin_iterations, pin_lanes FROM push_tokens", [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .unwrap()
}

#[test]
fn new_pin_seals_use_argon2id_of_at_least_64_mib_with_the_parameters_stored() {
    let f = fixture("argon2-seal", Some("2468"));
    let (kdf, memory_kib, passes, lanes) = stored_pin_kdf(&f);
    assert_eq!(kdf.as_deref(), Some("argon2id"));
    assert!(memory_kib.unwrap() >= 64 * 1024, "memory {memory_kib:?} KiB");
    assert!(passes.unwrap() >= 1 && lanes.unwrap() >= 1);
    let id = f.vault.push_tokens().unwrap()[0].id;
    assert_eq!(pin::unlock(&f.vault, id, Some("2468")).unwrap().as_slice(), test_key().pkcs8.as_slice());
    // A PIN change seals under the same cost.
    pin::set_pin(&f.vault, id, Some("2468"), Some("1357")).unwrap();
    assert_eq!(stored_pin_kdf(&f).0.as_deref(), Some("argon2id"));
}

#[test]
fn long_unicode_pins_and_passphrases_work_up_to_the_maximum() {
    let f = fixture("long-pin", None);
    let id = f.vault.push_tokens().unwrap()[0].id;
    // 256 characters: letters with and without accents, CJK, emoji, spaces.
    let long: String = "Grüße, 世界! 🔐 ".chars().cycle().take(pin::MAX_PIN_CHARS).collect();
    assert_eq!(long.chars().count(), 256);
    pin::set_pin(&f.vault, id, None, Some(&long)).unwrap();
    let shorter: String = long.chars().take(255).collect();
    assert!(matches!(pin::unlock(&f.vault, id, Some(&shorter)), Err(Error::WrongPin { .. })));
    pin::unlock(&f.vault, id, Some(&long)).unwrap();
    // Not normalised: the same text in another Unicode normal form is another PIN.
    pin::set_pin(&f.vault, id, Some(&long), Some("caf\u{e9} au lait")).unwrap();
    assert!(matches!(pin::unlock(&f.vault, id, Some("cafe\u{301} au lait")), Err(Error::WrongPin { .. })));
    pin::unlock(&f.vault, id, Some("caf\u{e9} au lait")).unwrap();
    // One character over the maximum is refused as a new PIN, before anything is derived.
    let too_long = format!("{long}x");
    let refused = pin::set_pin(&f.vault, id, Some("caf\u{e9} au lait"), Some(&too_long));
    assert!(matches!(&refused, Err(Error::InvalidInput(reason)) if reason.contains("256")), "{refused:?}");
    pin::unlock(&f.vault, id, Some("caf\u{e9} au lait")).unwrap();
}

#[test]
fn an_old_pbkdf2_pin_seal_still_unlocks_and_is_resealed_with_argon2id() {
    // A vault as version 2 left it: the token's key sealed under PBKDF2-HMAC-SHA256 (600,000
    // iterations) of the PIN, and no record of the derivation besides the iteration count.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vault.db");
    let key = DataKey::from_bytes([9; 32]);
    let old = Vault::create_at_version_for_test(&db, &key, 2);
    let legacy = PinSeal { salt: b"sixteen-byte-slt".to_vec(), kdf: PinKdf::Pbkdf2 { iterations: 600_000 } };
    let blob = pin::seal_key(&test_key().pkcs8, Some(("2468", &legacy)), 1).unwrap();
    let sealed = hex::encode(old.seal_for_test(&blob, b"push_tokens.private_key_enc:1"));
    let server = hex::encode(&server_test_key().spki);
    old.execute_for_test(&format!(
        "INSERT INTO push_tokens (id, serial, url, sslverify, server_key, private_key_enc, pin_salt, pin_iterations,
             pin_required_by_server, sort_order, created_at, updated_at)
         VALUES (1, '{SERIAL}', '{URL}', 1, x'{server}', x'{sealed}', x'{}', 600000, 1, 0, 0, 0)",
        hex::encode(&legacy.salt)
    ));
    drop(old);

    let vault = Vault::open(&db, &key).unwrap();
    assert_eq!(vault.push_key(1).unwrap().pin, Some(legacy.clone()), "migration 4 marks the seal as PBKDF2");
    // Migration 5 sealed the URL, and the vacuum after migrating left no plaintext copy.
    assert_eq!(vault.push_token(1).unwrap().url, URL);
    assert_nothing_readable(dir.path(), &[b"pi.example.com"], "migrated");
    assert!(matches!(pin::unlock(&vault, 1, Some("0000")), Err(Error::WrongPin { attempts_left: 4 })));
    assert_eq!(vault.push_key(1).unwrap().pin, Some(legacy.clone()), "a wrong PIN re-seals nothing");
    assert_eq!(pin::unlock(&vault, 1, Some("2468")).unwrap().as_slice(), test_key().pkcs8.as_slice());

    // Re-sealed: Argon2id of at least 64 MiB, a new salt, the count cleared; the same PIN opens it.
    let resealed = vault.push_key(1).unwrap().pin.unwrap();
    assert_eq!(resealed.kdf, pin::PIN_KDF);
    assert!(matches!(resealed.kdf, PinKdf::Argon2id { memory_kib, .. } if memory_kib >= 64 * 1024));
    assert_ne!(resealed.salt, legacy.salt);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let row: (String, i64, i64) = conn
        .query_row("SELECT pin_kdf, pin_memory_kib, failed_pin_attempts FROM push_tokens WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(row, ("argon2id".to_owned(), 64 * 1024, 0));
    assert_eq!(pin::unlock(&vault, 1, Some("2468")).unwrap().as_slice(), test_key().pkcs8.as_slice());
    assert!(matches!(pin::unlock(&vault, 1, Some("0000")), Err(Error::WrongPin { attempts_left: 4 })));
    // The key still signs what the server verifies.
    pin::device_key(&vault, 1, Some("2468")).unwrap().sign("N|S").unwrap();
}

#[test]
fn a_pin_changed_by_another_handle_wins_over_a_reseal() {
    let f = fixture("reseal-race", Some("2468"));
    let id = f.vault.push_tokens().unwrap()[0].id;
    let stale = f.vault.push_key(id).unwrap().pin.unwrap();
    pin::set_pin(&f.vault, id, Some("2468"), Some("1357")).unwrap();
    // A re-seal of the old seal (under the old PIN) arriving after the change is dropped.
    let upgraded = pin::new_seal().unwrap();
    let blob = pin::seal_key(&test_key().pkcs8, Some(("2468", &upgraded)), id).unwrap();
    assert!(!f.vault.upgrade_pin_seal(id, &blob, &upgraded, &stale.salt).unwrap());
    pin::unlock(&f.vault, id, Some("1357")).unwrap();
}

/// Every kind of rejected request: an invalid signature, a serial this phone does not have, a
/// URL that is not the token's, a dictionary that is not even a challenge, forged capabilities.
/// Each one's attacker-chosen text (title, question, URL, serial, nonce) must leave no trace: the
/// history keeps only the reason, and the database files hold none of that text.
#[test]
fn a_rejected_request_leaves_only_its_reason_behind() {
    let f = fixture("forged-text", None);
    let attacker = |mut map: BTreeMap<String, String>, n: u32| {
        map.insert("nonce".into(), format!("ATTACKER-NONCE-{n}"));
        map.insert("title".into(), format!("ATTACKER-TITLE-{n} Your bank"));
        map.insert("question".into(), format!("ATTACKER-QUESTION-{n} Call +1 555 0100 now"));
        map
    };
    let mut bad_signature = attacker(challenge("N1", None), 1);
    bad_signature.insert("signature".into(), "A".repeat(64));
    let mut unknown_serial = attacker(challenge("N2", None), 2);
    unknown_serial.insert("serial".into(), "ATTACKER-SERIAL".into());
    let mut other_url = attacker(challenge("N3", None), 3);
    other_url.insert("url".into(), "https://ATTACKER-URL.example/ttype/push".into());
    let mut not_a_challenge = attacker(challenge("N4", None), 4);
    not_a_challenge.remove("signature");
    let impostor = DeviceKey::from_pkcs8(&test_key().pkcs8).unwrap();
    let forged_capabilities =
        with_capabilities(attacker(challenge("N5", None), 5), r#"{"decline_reason": true}"#, &impostor);
    for map in [bad_signature, unknown_serial, other_url, not_a_challenge, forged_capabilities] {
        assert!(matches!(handle_push_payload(&f.vault, &map), Err(Error::ForgedRequest(_))));
    }

    let history = f.vault.push_history(100).unwrap();
    assert_eq!(history.len(), 5);
    for entry in &history {
        assert_eq!(entry.decision, Decision::Rejected);
        assert!(entry.title.is_empty() && entry.question.is_empty(), "{entry:?}");
        assert!(entry.serial == SERIAL || entry.serial.is_empty(), "only an enrolled serial: {entry:?}");
        assert!(!entry.detail.as_deref().unwrap_or_default().is_empty(), "the reason is kept: {entry:?}");
    }
    for name in ["vault.db", "vault.db-wal"] {
        let bytes = std::fs::read(f.dir.path().join(name)).unwrap_or_default();
        assert!(!bytes.windows(8).any(|w| w == b"ATTACKER"), "attacker text in {name}");
    }
}

fn history_count(vault: &Vault) -> i64 {
    vault.push_history(u32::MAX).unwrap().len() as i64
}

#[test]
fn history_keeps_the_newest_1000_entries_and_90_days_whichever_is_less() {
    let f = fixture("prune", None);
    let now = domain::time::now();
    let entry = |at: i64| HistoryEntry {
        at,
        serial: SERIAL.into(),
        title: "privacyIDEA".into(),
        question: "Sign in?".into(),
        decision: Decision::Approved,
        detail: None,
    };
    // 1,200 recent entries, one a minute: every insert keeps the newest 1,000, in its own
    // transaction.
    f.vault.execute_for_test(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1199)
         INSERT INTO push_history (at, serial, title, question, decision) SELECT {now} - 60 * i - 3600, '{SERIAL}',
             'old', 'old', 'approved' FROM n"
    ));
    f.vault.log_push_history(&entry(now), None).unwrap();
    assert_eq!(history_count(&f.vault), 1000);
    let kept = f.vault.push_history(u32::MAX).unwrap();
    assert_eq!(kept[0].at, now, "the new entry is kept");
    assert_eq!(kept[999].at, now - 60 * 999 - 3600, "then the 999 newest of the rest");

    // Entries older than 90 days go on the next insert, however few there are.
    f.vault.execute_for_test(&format!(
        "DELETE FROM push_history; INSERT INTO push_history (at, serial, decision) VALUES
             ({now} - 91 * 86400, '{SERIAL}', 'approved'), ({now} - 89 * 86400, '{SERIAL}', 'denied')"
    ));
    f.vault.log_push_history(&entry(now), None).unwrap();
    assert_eq!(history_count(&f.vault), 2, "the 91-day-old entry is gone");

    // Expiry writes to the history too, and prunes in the same transaction.
    f.vault.execute_for_test(&format!("UPDATE push_history SET at = {now} - 100 * 86400"));
    handle_push_payload(&f.vault, &challenge("N-expiring", None)).unwrap().unwrap();
    f.vault.execute_for_test("UPDATE push_requests SET received_at = received_at - 200, expires_at = expires_at - 200");
    let history = f.vault.push_history(u32::MAX).unwrap();
    assert_eq!(history.iter().map(|h| h.decision).collect::<Vec<_>>(), [Decision::Expired]);
}

#[test]
fn enroll_options_never_show_the_pin_in_debug_output() {
    let options = EnrollOptions {
        pin: Some("482916".into()),
        fb_token: Some("fcm-token".into()),
        allow_insecure_tls: false,
        key_bits: None,
    };
    let shown = format!("{options:?} {options:#?}");
    assert!(!shown.contains("482916"), "{shown}");
    assert!(shown.contains("pin: Some(<redacted>)") || shown.contains("<redacted>"), "{shown}");
    let none = format!("{:?}", EnrollOptions::default());
    assert!(none.contains("pin: None"), "{none}");
}

/// Issue 10 item 14: names, URLs, titles, questions and secrets are sealed at rest, and renamed
/// or removed ones leave no copy: a byte scan of the database, its WAL and shared-memory file,
/// with the vault open and after closing, finds none of them.
#[test]
fn no_name_url_question_or_secret_is_readable_in_the_vault_files() {
    let f = fixture_at("https://pi-scan-host.example/ttype/push", None);
    let secret = b"SCAN-SECRET-BYTES-20";
    let account = |issuer: &str, label: &str| domain::AccountData {
        issuer: issuer.into(),
        label: label.into(),
        params: domain::OtpParams::totp(domain::Algorithm::Sha1, 6, 30).unwrap(),
        secret: domain::Secret::from_bytes(secret.to_vec()).unwrap(),
        group: Some("ScanGroupName".into()),
    };
    let kept = f.vault.add(&account("ScanIssuerKept", "scan-label-kept")).unwrap();
    let renamed = f.vault.add(&account("ScanIssuerOld", "scan-label-old")).unwrap();
    let removed = f.vault.add(&account("ScanIssuerRemoved", "scan-label-removed")).unwrap();
    f.vault.rename(renamed.id, &"ScanIssuerNew".into(), &"scan-label-new".into()).unwrap();
    f.vault.remove(removed.id).unwrap();
    // A pending request, and one expired into the history.
    let url = "https://pi-scan-host.example/ttype/push";
    handle_push_payload(&f.vault, &challenge_at(url, "N-scan-1", None)).unwrap().unwrap();
    handle_push_payload(&f.vault, &challenge_at(url, "N-scan-2", None)).unwrap().unwrap();
    f.vault.execute_for_test("UPDATE push_requests SET expires_at = expires_at - 500 WHERE nonce = 'N-scan-2'");
    assert_eq!(f.vault.pending_push_requests().unwrap().len(), 1);
    let history = f.vault.push_history(10).unwrap();
    assert_eq!((history[0].title.as_str(), history[0].decision), ("privacyIDEA", Decision::Expired));
    assert_eq!(f.vault.push_tokens().unwrap()[0].url, url);
    assert_eq!(f.vault.account(kept.id).unwrap().issuer, "ScanIssuerKept");

    let needles: [&[u8]; 8] = [
        b"ScanIssuer",
        b"scan-label",
        b"ScanGroupName",
        b"pi-scan-host",
        b"privacyIDEA",
        b"confirm the login",
        secret,
        b"KNBUCTRNKNCUGUSFKQWUEWKUIVJS2MRQ", // the secret in base32
    ];
    assert_nothing_readable(f.dir.path(), &needles, "open");
    let Fixture { dir, vault } = f;
    drop(vault);
    assert_nothing_readable(dir.path(), &needles, "closed");
}

fn assert_nothing_readable(dir: &std::path::Path, needles: &[&[u8]], when: &str) {
    for file in ["vault.db", "vault.db-wal", "vault.db-shm"] {
        let bytes = std::fs::read(dir.join(file)).unwrap_or_default();
        for needle in needles {
            let found = bytes.windows(needle.len()).any(|w| w == *needle);
            assert!(!found, "{} readable in {file} ({when})", String::from_utf8_lossy(needle));
        }
    }
}

mod transport;
