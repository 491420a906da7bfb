//! Vaults protected by a passphrase (AUTHENTICATOR_PASSPHRASE when not typed at a terminal).
//! Every run derives the key with PBKDF2, so these tests keep their runs few.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use crate::support::*;

const PASSPHRASE: &str = "correct horse battery";

fn with_passphrase(home: &Home, passphrase: &str, args: &[&str]) -> Run {
    home.cli(args).env("AUTHENTICATOR_PASSPHRASE", passphrase).run()
}

/// Every file in the data dir, by name, with its bytes.
fn snapshot(home: &Home) -> BTreeMap<String, Vec<u8>> {
    home.files().into_iter().map(|name| (name.clone(), std::fs::read(home.file(&name)).unwrap())).collect()
}

#[test]
fn passphrase_vault_works_with_the_same_passphrase() {
    let home = Home::new("passphrase");
    with_passphrase(&home, PASSPHRASE, &["init", "--passphrase"]).ok();
    assert_eq!(home.files(), ["vault.db", "vault.kdf"], "a passphrase vault keeps no key file");
    let kdf_mode = std::fs::metadata(home.file("vault.kdf")).unwrap().permissions().mode() & 0o777;
    assert_eq!(kdf_mode, 0o600, "the salt file is private");

    with_passphrase(&home, PASSPHRASE, &["add", &hotp_uri("Bank", "bob", 0)]).ok();
    assert_eq!(with_passphrase(&home, PASSPHRASE, &["code", "bob"]).ok(), "755224\n");
    let listing = with_passphrase(&home, PASSPHRASE, &["list"]);
    assert!(listing.ok().contains("Bank"), "{}", listing.stdout);
}

#[test]
fn wrong_passphrase_is_refused_as_wrong_key_and_leaves_the_vault_unchanged() {
    let home = Home::new("passphrase-wrong");
    with_passphrase(&home, PASSPHRASE, &["init", "--passphrase"]).ok();
    with_passphrase(&home, PASSPHRASE, &["add", &hotp_uri("Bank", "bob", 0)]).ok();
    let before = snapshot(&home);

    for args in [&["code", "bob"][..], &["add", &totp_uri("ACME", "mallory")]] {
        let stderr = with_passphrase(&home, "not the passphrase", args).refused_in_one_line().to_owned();
        assert!(stderr.contains("wrong key"), "{stderr:?}");
    }
    assert!(snapshot(&home) == before, "the vault's files are byte for byte as before");
    assert_eq!(with_passphrase(&home, PASSPHRASE, &["code", "bob"]).ok(), "755224\n", "the counter did not move");
}

#[test]
fn short_passphrase_is_refused_and_creates_no_vault() {
    let home = Home::new("passphrase-short");
    // Seven characters, whether they take seven bytes or fourteen.
    for short in ["1234567", "ééééééé"] {
        let stderr = with_passphrase(&home, short, &["init", "--passphrase"]).refused_in_one_line().to_owned();
        assert!(stderr.contains("at least 8 characters"), "{stderr:?}");
        assert_eq!(home.files(), Vec::<String>::new());
    }
}

#[test]
fn eight_character_passphrase_is_enough() {
    let home = Home::new("passphrase-eight");
    with_passphrase(&home, "12345678", &["init", "--passphrase"]).ok();
    assert_eq!(home.files(), ["vault.db", "vault.kdf"]);
}

#[test]
fn passphrase_vault_without_a_passphrase_is_refused_and_left_unchanged() {
    let home = Home::new("passphrase-missing");
    with_passphrase(&home, PASSPHRASE, &["init", "--passphrase"]).ok();
    let before = snapshot(&home);
    // No AUTHENTICATOR_PASSPHRASE and no terminal to ask on.
    home.run(&["list"]).refused_in_one_line();
    assert!(snapshot(&home) == before);
}
