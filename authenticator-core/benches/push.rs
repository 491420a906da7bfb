//! Verifying and answering one push challenge, without network: parse the dictionary, verify
//! the server's RSA-4096 signature and its signed capabilities, load the device key (PKCS#8) and make the
//! RSA-4096 signature of the answer. Target ≤ 15 ms.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use authenticator_core::codec::canonical_json;
use authenticator_core::push::challenge::Challenge;
use authenticator_core::push::keys::{DEVICE_KEY_BITS, DeviceKey, ServerKey, generate_device_key};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;

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

criterion_group!(benches, verify_and_answer);
criterion_main!(benches);
