//! Ente Auth's encrypted export. No real one is among the shared fixtures, so each test seals
//! one with libsodium itself (PyNaCl, tests/independent/ente_export.py): Ente's real plain
//! export (`aegis-testdata/ente_auth.txt`) encrypted as Ente's documentation describes, never
//! by our code.

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::*;
use super::{accounts, fixture, independent_python};

const PASSWORD: &str = "correct horse battery staple";
/// libsodium's smallest Argon2id setting (8 KiB would do; 8 MiB × 1 pass is still quick).
const SMALL: (u64, u32) = (8 * 1024 * 1024, 1);

fn plain_export() -> Vec<u8> {
    fixture("aegis-testdata/ente_auth.txt")
}

/// `plain` sealed by libsodium as Ente does, with `memLimit`/`opsLimit` and secretstream `tag`.
fn sealed_by_libsodium(plain: &[u8], (mem_limit, ops_limit): (u64, u32), tag: &str) -> Vec<u8> {
    let (dir, python) = independent_python();
    let mut child = Command::new(python)
        .arg(dir.join("ente_export.py"))
        .args([mem_limit.to_string(), ops_limit.to_string(), tag.to_owned()])
        .env("AUTHENTICATOR_TEST_PASSWORD", PASSWORD)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(plain).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "ente_export.py failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn with(file: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(file).unwrap();
    edit(&mut value);
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn ente_encrypted_export_at_entes_own_strength_imports_like_the_plain_one() {
    // Ente derives its export key at libsodium's "sensitive" strength: 256 MiB × 16 passes.
    let file = sealed_by_libsodium(&plain_export(), (256 * 1024 * 1024, 16), "final");
    assert_eq!(detect(&file), Some(ImportFormat::EnteAuth));
    let parsed = super::super::parse(&file, Some(PASSWORD)).unwrap();
    assert_eq!(parsed.format, ImportFormat::EnteAuth);
    let plain = super::super::parse(&plain_export(), None).unwrap();
    assert_eq!(accounts(parsed.entries), accounts(plain.entries));
    assert_eq!(accounts(super::super::parse(&plain_export(), None).unwrap().entries).len(), 7);
}

#[test]
fn ente_encrypted_export_needs_the_right_password_and_every_byte() {
    let file = sealed_by_libsodium(&plain_export(), SMALL, "final");
    assert!(matches!(super::super::parse(&file, None), Err(Error::PasswordRequired)));
    assert!(matches!(super::super::parse(&file, Some("wrong password")), Err(Error::WrongPassword)));
    let v: Value = serde_json::from_slice(&file).unwrap();
    let data = STANDARD.decode(v["encryptedData"].as_str().unwrap()).unwrap();
    for i in [0, 1, data.len() / 2, data.len() - 1] {
        let mut bad = data.clone();
        bad[i] ^= 0x01;
        let bad = with(&file, |v| v["encryptedData"] = json!(STANDARD.encode(&bad)));
        assert!(matches!(super::super::parse(&bad, Some(PASSWORD)), Err(Error::WrongPassword)), "byte {i}");
    }
    let cut = with(&file, |v| v["encryptedData"] = json!(STANDARD.encode(&data[..data.len() - 1])));
    assert!(matches!(super::super::parse(&cut, Some(PASSWORD)), Err(Error::WrongPassword)));
    let other_salt = with(&file, |v| v["kdfParams"]["salt"] = json!(STANDARD.encode([7u8; 16])));
    assert!(matches!(super::super::parse(&other_salt, Some(PASSWORD)), Err(Error::WrongPassword)));
}

#[test]
fn ente_encrypted_stream_that_does_not_end_is_refused() {
    let file = sealed_by_libsodium(&plain_export(), SMALL, "message");
    let err = super::super::parse(&file, Some(PASSWORD)).unwrap_err();
    assert!(matches!(&err, Error::InvalidImport(m) if m.contains("cut short")), "{err}");
}

#[test]
fn ente_key_derivation_beyond_the_budget_is_refused_before_any_work() {
    let file = sealed_by_libsodium(b"otpauth://totp/A?secret=JBSWY3DPEHPK3PXP\n", SMALL, "final");
    // 1 GiB × 4 passes (libsodium's sensitive preset as such) is over the 256 MiB budget.
    let greedy = with(&file, |v| {
        v["kdfParams"] = json!({"memLimit": 1u64 << 30, "opsLimit": 4, "salt": v["kdfParams"]["salt"]})
    });
    let err = super::super::parse(&greedy, Some(PASSWORD)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Storage(storage::Error::TooCostly { memory_mib: 1024, budget_ms: 3500, budget_mib: 256, .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("budget of 3500 ms in all and 256 MiB"), "{err}");
    // 256 MiB × 64 passes: memory allowed, time not.
    let slow = with(&file, |v| v["kdfParams"]["opsLimit"] = json!(64));
    let slow = with(&slow, |v| v["kdfParams"]["memLimit"] = json!(256u64 << 20));
    assert!(matches!(
        super::super::parse(&slow, Some(PASSWORD)),
        Err(Error::Storage(storage::Error::TooCostly { .. }))
    ));
    for (mem, ops) in [(json!(1u64 << 50), json!(1)), (json!(8u64 << 20), json!(0)), (json!(0), json!(1))] {
        let bad = with(&file, |v| {
            v["kdfParams"]["memLimit"] = mem;
            v["kdfParams"]["opsLimit"] = ops;
        });
        assert!(matches!(
            super::super::parse(&bad, Some(PASSWORD)),
            Err(Error::Storage(storage::Error::KdfParameters(_)))
        ));
    }
}

#[test]
fn ente_encrypted_export_with_bad_fields_is_a_clear_error() {
    let file = sealed_by_libsodium(b"otpauth://totp/A?secret=JBSWY3DPEHPK3PXP\n", SMALL, "final");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (with(&file, |v| v["version"] = json!(2)), "version 2"),
        (with(&file, |v| v["encryptionNonce"] = json!(STANDARD.encode([0u8; 12]))), "24 bytes"),
        (with(&file, |v| v["encryptionNonce"] = json!("not base64!")), "not base64"),
        (with(&file, |v| v["kdfParams"]["salt"] = json!(STANDARD.encode([0u8; 8]))), "16 bytes"),
        (with(&file, |v| v["encryptedData"] = json!(42)), "the export"),
    ];
    for (bad, expected) in cases {
        let err = super::super::parse(&bad, Some(PASSWORD)).unwrap_err();
        assert!(matches!(&err, Error::InvalidImport(m) if m.contains(expected)), "{expected}: {err}");
    }
    // A cut download is still told apart from a foreign file.
    assert_eq!(detect(&file[..file.len() / 2]), Some(ImportFormat::EnteAuth));
}
