//! Passkey ceremonies on a real vault file (docs/passkeys.md, "Budgets"):
//! - `passkey/create`: check the options, make the P-256 key, build and store the passkey
//!   (one SQLite transaction with FULL sync): target ≤ 2 ms;
//! - `passkey/get`: check the options, open the key, sign, record the use: target ≤ 1 ms;
//! - `passkey/candidates_among_1000`: the passkeys for one site among 1,000 stored (every
//!   record opened, no key): target ≤ 5 ms.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use domain::passkey::b64url;
use serde_json::json;
use services::passkey::{self, User};
use storage::{DataKey, Vault};

const USER: User = User { verified: true };

fn creation(rp: &str, user: usize) -> String {
    json!({
        "rp": {"id": rp, "name": rp},
        "user": {"id": b64url(format!("user-{user}").as_bytes()), "name": format!("user{user}@{rp}"), "displayName": "A user"},
        "challenge": b64url(&[7; 32]),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
        "authenticatorSelection": {"residentKey": "required", "userVerification": "preferred"},
        "extensions": {"credProps": true},
    })
    .to_string()
}

fn request(rp: &str) -> String {
    json!({"challenge": b64url(&[9; 32]), "rpId": rp, "userVerification": "preferred"}).to_string()
}

fn ceremonies(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path().join("vault.db"), &DataKey::from_bytes([3; 32])).unwrap();
    let mut group = c.benchmark_group("passkey");
    group.sample_size(50).measurement_time(Duration::from_secs(5));
    let mut n = 0;
    group.bench_function("create", |b| {
        b.iter(|| {
            n += 1;
            black_box(
                passkey::create(&vault, &creation("bench.example", n), "https://bench.example", None, USER).unwrap(),
            )
        })
    });
    let one = passkey::create(&vault, &creation("login.example", 0), "https://login.example", None, USER).unwrap();
    let get = request("login.example");
    group.bench_function("get", |b| {
        b.iter(|| {
            black_box(passkey::get(&vault, &get, "https://login.example", None, &one.credential_id, USER).unwrap())
        })
    });
    group.finish();
}

fn candidates(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path().join("vault.db"), &DataKey::from_bytes([3; 32])).unwrap();
    // 1,000 passkeys on 100 sites, 10 users each.
    for i in 0..1000 {
        let rp = format!("site{}.example", i % 100);
        passkey::create(&vault, &creation(&rp, i), &format!("https://{rp}"), None, USER).unwrap();
    }
    let get = request("site42.example");
    let mut group = c.benchmark_group("passkey");
    group.sample_size(30).measurement_time(Duration::from_secs(5));
    group.bench_function("candidates_among_1000", |b| {
        b.iter(|| {
            let found = passkey::candidates(&vault, black_box(&get), "https://site42.example").unwrap();
            assert_eq!(found.len(), 10);
            found
        })
    });
    group.finish();
}

criterion_group!(benches, ceremonies, candidates);
criterion_main!(benches);
