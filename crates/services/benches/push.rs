//! Verifying and answering one push challenge, without network: parse the dictionary, verify
//! the server's RSA-4096 signature and its signed capabilities, load the device key (PKCS#8) and make the
//! RSA-4096 signature of the answer. Target ≤ 15 ms.
//!
//! The PIN: one derivation of a PIN seal (Argon2id at `PIN_KDF`, then AES-256-GCM), which is what
//! every PIN guess costs, online or offline; target ≥ 0.25 s. And one whole unlock of a
//! PIN-locked token in a vault file (count the attempt, derive, open, clear the count).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use domain::NewPushToken;
use domain::codec::canonical_json;
use serde_json::Value;
use services::push::challenge::Challenge;
use services::push::keys::{DEVICE_KEY_BITS, DeviceKey, ServerKey, generate_device_key};
use services::push::pin;
use storage::{DataKey, Vault};

fn verify_and_answer(c: &mut Criterion) {
    let server = generate_device_key(DEVICE_KEY_BITS).unwrap();
    let phone = generate_device_key(DEVICE_KEY_BITS).unwrap();
    let server_signer = DeviceKey::from_pkcs8(&server.pkcs8).unwrap();
    let server_public = ServerKey::from_der(server.spki.clone()).unwrap();
    let url = "https://pi.example.com/ttype/push";
    let nonce = "XHV6BQ3ZSKC4PSUCYQTZ2JQKMK4UKQZJ6VJHT6XLJ3LAAPRZDNTKOWJK";
    let mut map: BTreeMap<String, Value> = [
        ("nonce", nonce),
        ("url", url),
        ("serial", "PIPU0001F75E"),
        ("question", "Do you want to confirm the login?"),
        ("title", "privacyIDEA"),
        ("sslverify", "1"),
        ("require_presence", "12,34,56,78"),
        ("capabilities", r#"{"decline_reason": true}"#),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
    .collect();
    let text = format!("{nonce}|{url}|PIPU0001F75E|Do you want to confirm the login?|privacyIDEA|1|12,34,56,78");
    map.insert("signature".into(), Value::String(server_signer.sign(&text).unwrap()));
    let caps = canonical_json(&serde_json::json!({"capabilities": {"decline_reason": true}, "nonce": nonce})).unwrap();
    map.insert("capabilities_signature".into(), Value::String(server_signer.sign(&caps).unwrap()));

    let mut group = c.benchmark_group("push");
    group.sample_size(30).measurement_time(Duration::from_secs(5));
    group.bench_function("verify_and_answer_one_challenge", |b| {
        b.iter(|| {
            let challenge = Challenge::from_map(black_box(&map)).unwrap();
            assert!(challenge.signature_valid(&server_public));
            assert!(challenge.verified_capabilities(&server_public).unwrap().decline_reason);
            let key = DeviceKey::from_pkcs8(&phone.pkcs8).unwrap();
            black_box(key.sign(&format!("{}|{}|34", challenge.nonce, challenge.serial)).unwrap())
        })
    });
    group.finish();
}

fn pin_seal(c: &mut Criterion) {
    let pkcs8 = vec![7u8; 2400];
    let seal = pin::new_seal().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path().join("vault.db"), &DataKey::from_bytes([5; 32])).unwrap();
    let token = NewPushToken {
        serial: "PIPU0001".into(),
        issuer: "privacyIDEA".into(),
        label: "alice".into(),
        url: "https://pi.example.com/ttype/push".into(),
        sslverify: true,
        allow_insecure_tls: false,
        server_key: vec![1; 550],
        pin: Some(seal.clone()),
        pin_required_by_server: true,
        fb_token: None,
        protocol: domain::PushProtocol::PrivacyIdea,
        key_type: domain::DeviceKeyType::Rsa,
        extra_text: Vec::new(),
    };
    let id = vault.insert_push_token(&token, |id| pin::seal_key(&pkcs8, Some(("2468", &seal)), id)).unwrap().id;

    let mut group = c.benchmark_group("push");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("pin_seal_derivation", |b| {
        b.iter(|| black_box(pin::seal_key(&pkcs8, Some((black_box("2468"), &seal)), id).unwrap()))
    });
    group.bench_function("pin_unlock", |b| b.iter(|| black_box(pin::unlock(&vault, id, Some("2468")).unwrap())));
    group.finish();
}

criterion_group!(benches, verify_and_answer, pin_seal);
criterion_main!(benches);
