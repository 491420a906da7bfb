//! The encrypted importers on real files of the Aegis project's importer tests
//! (`aegis-testdata/`; its README gives the passwords and what each file holds).

use super::*;

fn testdata(name: &str) -> Vec<u8> {
    fixture(&format!("aegis-testdata/{name}"))
}

/// The accounts of plain.txt at `lines`, in that order.
fn plain_txt(lines: &[usize]) -> Vec<AccountData> {
    let all = expected_accounts();
    lines.iter().map(|&i| all[i].clone()).collect()
}

const ALL: [usize; 7] = [0, 1, 2, 3, 4, 5, 6];

/// Parses through detection, checking the format.
fn parsed(name: &str, format: ImportFormat, password: Option<&str>) -> Result<Vec<ImportEntry>> {
    let bytes = testdata(name);
    assert_eq!(detect(&bytes), Some(format), "{name}");
    super::super::parse(&bytes, password).map(|p| {
        assert_eq!(p.format, format);
        p.entries
    })
}

/// Every cut of `name` is an error or a smaller import, never a panic.
fn cuts_never_panic(name: &str, password: &str) {
    let bytes = testdata(name);
    for len in (0..bytes.len()).step_by(13) {
        let _ = super::super::parse(&bytes[..len], Some(password));
    }
}

// andOTP

#[test]
fn andotp_plain_imports_the_seven_accounts() {
    assert_eq!(accounts(parsed("andotp_plain.json", ImportFormat::AndOtp, None).unwrap()), plain_txt(&ALL));
}

#[test]
fn andotp_encrypted_new_format_opens_with_the_password() {
    let entries = parsed("andotp_encrypted.bin", ImportFormat::AndOtp, Some("test")).unwrap();
    assert_eq!(accounts(entries), plain_txt(&ALL));
}

#[test]
fn andotp_encrypted_old_format_opens_with_the_password_and_splits_its_labels() {
    // Old andOTP wrote "Deno - Deno:Mason" as the label: read back as issuer Deno, name Mason.
    // That version had no Steam: the file holds the other six.
    let entries = parsed("andotp_encrypted_old.bin", ImportFormat::AndOtp, Some("test")).unwrap();
    assert_eq!(accounts(entries), plain_txt(&[0, 1, 2, 3, 4, 5]));
}

#[test]
fn andotp_encrypted_wrong_or_missing_password_is_typed() {
    for name in ["andotp_encrypted.bin", "andotp_encrypted_old.bin"] {
        assert!(matches!(parsed(name, ImportFormat::AndOtp, None), Err(Error::PasswordRequired)), "{name}");
    }
    let wrong = parsed("andotp_encrypted.bin", ImportFormat::AndOtp, Some("tset"));
    assert!(matches!(wrong, Err(Error::WrongPassword)), "{wrong:?}");
    // The old format has no header: a password that does not open it leaves a file that cannot
    // be told from any other binary file.
    let wrong = parsed("andotp_encrypted_old.bin", ImportFormat::AndOtp, Some("tset"));
    assert!(matches!(wrong, Err(Error::UnknownImportFormat)), "{wrong:?}");
    // Garbage is not taken for a backup whose password is wrong.
    let garbage = b"\x00\x01PK\x03\x04 certainly not an export \xff\xfe";
    assert!(matches!(super::super::parse(garbage, Some("test")), Err(Error::UnknownImportFormat)));
}

#[test]
fn andotp_iteration_counts_beyond_the_budget_are_never_derived() {
    let mut bytes = testdata("andotp_encrypted.bin");
    // 4 billion PBKDF2-SHA1 iterations (some 15 minutes): not a new-format header andOTP could
    // have written, so only the old format is tried, which this password does not open.
    bytes[..4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(andotp::parse_encrypted(&bytes, Some("test")), Err(Error::UnknownImportFormat)));
    // 3,000,000 SHA-1 iterations (priced 2.6 s): refused before the password is used.
    bytes[..4].copy_from_slice(&3_000_000u32.to_be_bytes());
    assert!(matches!(andotp::parse_encrypted(&bytes, None), Err(Error::Storage(storage::Error::TooCostly { .. }))));
}

#[test]
fn andotp_bad_entry_is_refused_alone_and_cut_files_never_panic() {
    let mut json: serde_json::Value = serde_json::from_slice(&testdata("andotp_plain.json")).unwrap();
    json[1]["secret"] = "not base32!".into();
    json[2]["type"] = "MOTP".into();
    let entries = andotp::parse_plain(&serde_json::to_vec(&json).unwrap()).unwrap();
    let refused: Vec<&str> = entries.iter().filter(|e| e.outcome.is_err()).map(|e| e.name.as_str()).collect();
    assert_eq!(refused, ["SPDX (James)", "Airbnb (Elijah)"]);
    assert_eq!(entries.iter().filter(|e| e.outcome.is_ok()).count(), 5);
    for name in ["andotp_plain.json", "andotp_encrypted.bin", "andotp_encrypted_old.bin"] {
        cuts_never_panic(name, "test");
    }
}

// Stratum (Authenticator Pro)

#[test]
fn stratum_plain_imports_the_seven_accounts() {
    assert_eq!(accounts(parsed("stratum_plain.json", ImportFormat::Stratum, None).unwrap()), plain_txt(&ALL));
}

#[test]
fn stratum_encrypted_argon2id_opens_with_the_password() {
    assert_eq!(
        accounts(parsed("stratum_encrypted.bin", ImportFormat::Stratum, Some("test")).unwrap()),
        plain_txt(&ALL)
    );
}

#[test]
fn stratum_legacy_encrypted_pbkdf2_cbc_opens_with_the_password() {
    let entries = parsed("stratum_encrypted_legacy.bin", ImportFormat::Stratum, Some("test")).unwrap();
    assert_eq!(accounts(entries), plain_txt(&ALL));
}

#[test]
fn stratum_encrypted_wrong_or_missing_password_is_typed() {
    for name in ["stratum_encrypted.bin", "stratum_encrypted_legacy.bin"] {
        assert!(matches!(parsed(name, ImportFormat::Stratum, Some("tset")), Err(Error::WrongPassword)), "{name}");
        assert!(matches!(parsed(name, ImportFormat::Stratum, None), Err(Error::PasswordRequired)), "{name}");
    }
    // CBC authenticates nothing: many wrong passwords, each refused as such (bad padding or
    // plaintext that is not the backup), none a panic or a garbage import.
    let bytes = testdata("stratum_encrypted_legacy.bin");
    for n in 0..40 {
        let result = stratum::parse_encrypted(&bytes, Some(&format!("wrong {n}")));
        assert!(matches!(result, Err(Error::WrongPassword) | Err(Error::InvalidImport(_))), "{n}: {result:?}");
    }
}

#[test]
fn stratum_internal_database_imports_the_seven_accounts_from_a_copy() {
    let path = fixture_dir().join("aegis-testdata/stratum_internal.db");
    let before = std::fs::read(&path).unwrap();
    let entries = parsed("stratum_internal.db", ImportFormat::StratumDatabase, None).unwrap();
    assert_eq!(accounts(entries), plain_txt(&ALL));
    assert_eq!(std::fs::read(&path).unwrap(), before, "the file is untouched");
}

#[test]
fn stratum_bad_entries_are_refused_alone_and_cut_files_never_panic() {
    let mut json: serde_json::Value = serde_json::from_slice(&testdata("stratum_plain.json")).unwrap();
    json["Authenticators"][0]["Type"] = 3.into();
    json["Authenticators"][1]["Algorithm"] = 7.into();
    json["Authenticators"][2]["Secret"] = "!!".into();
    let entries = stratum::parse_plain(&serde_json::to_vec(&json).unwrap()).unwrap();
    let refused: Vec<(&str, &str)> =
        entries.iter().filter_map(|e| e.outcome.as_ref().err().map(|r| (e.name.as_str(), r.as_str()))).collect();
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert_eq!(refused[0], ("Deno (Mason)", "mOTP accounts are not supported"));
    assert_eq!(entries.iter().filter(|e| e.outcome.is_ok()).count(), 4);
    for name in ["stratum_plain.json", "stratum_encrypted_legacy.bin", "stratum_internal.db"] {
        cuts_never_panic(name, "test");
    }
    // Argon2id (64 MiB) per cut would be slow: a few cuts of the current format.
    let bytes = testdata("stratum_encrypted.bin");
    for len in [0, 16, 40, 44, 60, bytes.len() - 1] {
        assert!(super::super::parse(&bytes[..len], Some("test")).is_err(), "cut at {len}");
    }
}

#[test]
fn a_hostile_database_is_an_error_not_a_panic() {
    let mut bytes = testdata("stratum_internal.db");
    for at in (100..bytes.len()).step_by(97) {
        bytes[at] ^= 0x5a;
    }
    // Damaged pages: an error, or whatever rows still read (each checked like any other).
    match stratum::parse_database(&bytes) {
        Ok(entries) => assert!(entries.len() <= 7),
        Err(e) => assert!(matches!(e, Error::InvalidImport(_)), "{e:?}"),
    }
    assert!(stratum::parse_database(b"SQLite format 3\0 not really").is_err());
}

// Authy

/// What Authy holds of plain.txt's first three accounts: TOTP, SHA-1, 30 s, their digits.
fn authy_accounts() -> Vec<AccountData> {
    plain_txt(&[0, 1, 2])
        .into_iter()
        .map(|mut a| {
            a.params = OtpParams::totp(Algorithm::Sha1, a.params.digits(), 30).unwrap();
            a
        })
        .collect()
}

#[test]
fn authy_plain_token_store_imports_its_three_accounts() {
    assert_eq!(accounts(parsed("authy_plain.xml", ImportFormat::Authy, None).unwrap()), authy_accounts());
}

#[test]
fn authy_encrypted_token_store_opens_with_the_password() {
    assert_eq!(
        accounts(parsed("authy_encrypted.xml", ImportFormat::Authy, Some("testtest")).unwrap()),
        authy_accounts()
    );
}

#[test]
fn authy_encrypted_wrong_or_missing_password_is_typed() {
    assert!(matches!(parsed("authy_encrypted.xml", ImportFormat::Authy, Some("test")), Err(Error::WrongPassword)));
    assert!(matches!(parsed("authy_encrypted.xml", ImportFormat::Authy, None), Err(Error::PasswordRequired)));
}

#[test]
fn authy_tokens_are_priced_together_and_bad_tokens_refused_alone() {
    let text = String::from_utf8(testdata("authy_encrypted.xml")).unwrap();
    // 2,000 tokens of 10,000 iterations each: 4 s priced, refused before the password is used.
    let token = r#"{&quot;digits&quot;:6,&quot;encryptedSecret&quot;:&quot;AAAA&quot;,&quot;salt&quot;:&quot;s&quot;,&quot;key_derivation_iterations&quot;:10000}"#;
    let many = vec![token; 2_000].join(",");
    let hostile = text.replacen("[{", &format!("[{many},{{"), 1);
    assert!(matches!(
        authy::parse(hostile.as_bytes(), Some("testtest")),
        Err(Error::Storage(storage::Error::TooCostly { .. }))
    ));
    // One damaged token among good ones: refused alone.
    let damaged = text.replacen("94mk0erEKRYU7UKn4o6WAPWR", "AAAAAAAAAAAAAAAAAAAAAAAA", 1);
    let entries = authy::parse(damaged.as_bytes(), Some("testtest")).unwrap();
    assert_eq!(entries[0].outcome, Err("the secret does not open with this password".into()));
    assert_eq!(entries.iter().filter(|e| e.outcome.is_ok()).count(), 2);
    for name in ["authy_plain.xml", "authy_encrypted.xml"] {
        cuts_never_panic(name, "testtest");
    }
}

// TOTP Authenticator

/// plain.txt's three TOTP accounts as the app keeps them: SHA-1, names in lower case, their
/// digits and periods.
fn totp_authenticator_accounts() -> Vec<AccountData> {
    plain_txt(&[0, 1, 2])
        .into_iter()
        .map(|mut a| {
            a.params = OtpParams::totp(Algorithm::Sha1, a.params.digits(), a.params.period()).unwrap();
            a.label = a.label.as_str().to_lowercase().into();
            a
        })
        .collect()
}

#[test]
fn totp_authenticator_backup_opens_with_the_password() {
    let entries = parsed("totp_authenticator.bin", ImportFormat::TotpAuthenticator, Some("Testtest1")).unwrap();
    assert_eq!(accounts(entries), totp_authenticator_accounts());
}

#[test]
fn totp_authenticator_backup_wrong_or_missing_password_is_typed() {
    let wrong = parsed("totp_authenticator.bin", ImportFormat::TotpAuthenticator, Some("Testtest2"));
    assert!(matches!(wrong, Err(Error::WrongPassword)), "{wrong:?}");
    // No password: the app's built-in one is tried, which does not open this file.
    let none = parsed("totp_authenticator.bin", ImportFormat::TotpAuthenticator, None);
    assert!(matches!(none, Err(Error::PasswordRequired)), "{none:?}");
    for n in 0..40 {
        let result = totp_authenticator::parse_backup(&testdata("totp_authenticator.bin"), Some(&format!("w{n}")));
        assert!(matches!(result, Err(Error::WrongPassword) | Err(Error::InvalidImport(_))), "{n}: {result:?}");
    }
    cuts_never_panic("totp_authenticator.bin", "Testtest1");
}

#[test]
fn totp_authenticator_internal_preferences_import_the_same_accounts() {
    let entries = parsed("totp_authenticator_internal.xml", ImportFormat::TotpAuthenticator, None).unwrap();
    assert_eq!(accounts(entries), totp_authenticator_accounts());
    cuts_never_panic("totp_authenticator_internal.xml", "");
}

#[test]
fn totp_authenticator_keys_in_every_base_and_bad_ones_refused_alone() {
    let list = r#"[{"issuer":"A","name":"a","base":32,"key":"JBSWY3DPEHPK3PXP"},
        {"issuer":"B","name":"b","base":64,"key":"SGVsbG8hIQ=="},
        "{\"issuer\":\"C\",\"name\":\"c\",\"base\":16,\"key\":\"48656c6c6f2121\"}",
        {"issuer":"D","name":"d","base":16,"key":"zz"},
        {"issuer":"E","name":"e","base":8,"key":"1"}]"#;
    let xml = format!(
        "<map><string name=\"{}\">{}</string></map>",
        totp_authenticator::PREF_KEY,
        list.replace('"', "&quot;")
    );
    let entries = totp_authenticator::parse_internal(xml.as_bytes()).unwrap();
    let outcomes: Vec<std::result::Result<&[u8], &str>> =
        entries.iter().map(|e| e.outcome.as_ref().map(|a| a.secret.expose()).map_err(String::as_str)).collect();
    assert_eq!(
        outcomes,
        [
            Ok(&b"Hello!\xde\xad\xbe\xef"[..]),
            Ok(&b"Hello!!"[..]),
            Ok(&b"Hello!!"[..]),
            Err("the key is not hexadecimal"),
            Err("the key's encoding (base) is not 16, 32 or 64")
        ]
    );
}

// FreeOTP v2

/// Entries sorted by issuer and label (a HashMap's order is no order).
fn sorted(mut accounts: Vec<AccountData>) -> Vec<AccountData> {
    accounts.sort_by(|a, b| (a.issuer.as_str(), a.label.as_str()).cmp(&(b.issuer.as_str(), b.label.as_str())));
    accounts
}

const FREEOTP_V2: [&str; 4] =
    ["freeotp_v2_api23.xml", "freeotp_v2_api25.xml", "freeotp_v2_api27.xml", "freeotp_v2_api34.xml"];

#[test]
fn freeotp_v2_backups_of_every_android_version_open_with_the_password() {
    // FreeOTP has no Steam: the six others of plain.txt, with their counters.
    for name in FREEOTP_V2 {
        let entries = parsed(name, ImportFormat::FreeOtpBackup, Some("test")).unwrap();
        assert_eq!(sorted(accounts(entries)), sorted(plain_txt(&[0, 1, 2, 3, 4, 5])), "{name}");
    }
}

#[test]
fn freeotp_v2_token_without_algorithm_digits_or_period_takes_the_defaults() {
    // PBKDF2-HMAC-SHA512 master key; the token names only its type, issuer and label.
    let entries = parsed("freeotp_v2_null_algo.xml", ImportFormat::FreeOtpBackup, Some("test")).unwrap();
    assert_eq!(accounts(entries), plain_txt(&[0]));
}

#[test]
fn freeotp_v2_wrong_or_missing_password_is_typed() {
    for name in ["freeotp_v2_api23.xml", "freeotp_v2_null_algo.xml"] {
        assert!(matches!(parsed(name, ImportFormat::FreeOtpBackup, Some("tset")), Err(Error::WrongPassword)), "{name}");
        assert!(matches!(parsed(name, ImportFormat::FreeOtpBackup, None), Err(Error::PasswordRequired)), "{name}");
    }
}

/// The backup's bytes with `from` replaced by `to` (same length, so the stream stays valid).
fn patched(name: &str, from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut bytes = testdata(name);
    let at = bytes.windows(from.len()).position(|w| w == from.as_bytes()).unwrap();
    bytes[at..at + from.len()].copy_from_slice(to.as_bytes());
    bytes
}

#[test]
fn freeotp_v2_hostile_iterations_and_damaged_tokens() {
    // 9,999,999 PBKDF2-SHA512 iterations: priced 4 s, refused before the password is used.
    // (A salt byte shorter, so the Java string keeps its length.)
    let hostile = patched("freeotp_v2_null_algo.xml", "100000,\"mSalt\":[37,", "9999999,\"mSalt\":[7,");
    assert!(matches!(freeotp_v2::parse(&hostile, Some("test")), Err(Error::Storage(storage::Error::TooCostly { .. }))));
    // A token key sealed for another algorithm name (its associated data): refused alone.
    let damaged = patched("freeotp_v2_api23.xml", "HmacSHA256", "HmacSHA384");
    let entries = freeotp_v2::parse(&damaged, Some("test")).unwrap();
    let refused: Vec<&str> = entries.iter().filter_map(|e| e.outcome.as_ref().err().map(String::as_str)).collect();
    assert_eq!(refused, ["the token's key does not open: damaged or modified"]);
    assert_eq!(entries.iter().filter(|e| e.outcome.is_ok()).count(), 5);
    cuts_never_panic("freeotp_v2_null_algo.xml", "test");
}
