use super::*;
use domain::otp::{Algorithm, OtpParams, Secret};
use rusqlite::Connection;

/// A temporary folder for one test's vault, removed afterwards.
struct TempDir(tempfile::TempDir);

impl TempDir {
    fn new(name: &str) -> Self {
        Self(tempfile::Builder::new().prefix(&format!("vault-unit-{name}-")).tempdir().unwrap())
    }
    fn path(&self) -> &std::path::Path {
        self.0.path()
    }
    fn db(&self) -> std::path::PathBuf {
        self.path().join("vault.db")
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn key() -> DataKey {
    DataKey::from_bytes([42; 32])
}

fn totp(issuer: &str, label: &str) -> AccountData {
    AccountData {
        issuer: issuer.into(),
        label: label.into(),
        params: OtpParams::totp(Algorithm::Sha1, 8, 30).unwrap(),
        secret: Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap(),
        group: None,
    }
}

#[test]
fn added_account_gives_rfc_codes_after_reopening() {
    let dir = TempDir::new("rfc");
    let id = Vault::open(dir.db(), &key()).unwrap().add(&totp("RFC", "6238")).unwrap().id;
    let vault = Vault::open(dir.db(), &key()).unwrap();
    assert_eq!(vault.code(id, 59).unwrap().value, "94287082");
    assert_eq!(vault.code(id, 1111111109).unwrap().value, "07081804");
    let codes = vault.codes(59).unwrap();
    assert_eq!(codes.len(), 1);
    assert_eq!((codes[0].account.issuer.as_str(), codes[0].code.seconds_left), ("RFC", 1));
}

#[test]
fn clock_offset_applies_to_every_code_and_persists() {
    let dir = TempDir::new("offset");
    let vault = Vault::open(dir.db(), &key()).unwrap();
    let id = vault.add(&totp("RFC", "6238")).unwrap().id;
    vault.set_clock_offset(1111111109 - 59).unwrap();
    assert_eq!(vault.code(id, 59).unwrap().value, "07081804");
    drop(vault);
    let vault = Vault::open(dir.db(), &key()).unwrap();
    assert_eq!(vault.clock_offset().unwrap(), 1111111109 - 59);
    assert_eq!(vault.codes(59).unwrap()[0].code.value, "07081804");
}

#[test]
fn hotp_counter_advances_only_when_a_code_is_taken() {
    let dir = TempDir::new("hotp");
    let vault = Vault::open(dir.db(), &key()).unwrap();
    let mut data = totp("RFC", "4226");
    data.params = OtpParams::hotp(Algorithm::Sha1, 6, 0).unwrap();
    let id = vault.add(&data).unwrap().id;
    // Looking does not use a code.
    assert_eq!(vault.codes(0).unwrap()[0].code.value, "755224");
    assert_eq!(vault.code(id, 0).unwrap().value, "755224");
    assert_eq!(vault.take_code(id, 0).unwrap().value, "755224");
    assert_eq!(vault.take_code(id, 0).unwrap().value, "287082");
    let account = Vault::open(dir.db(), &key()).unwrap().account(id).unwrap();
    assert_eq!(account.params.counter(), 2);
    assert!(account.last_used_at.is_some());
}

#[test]
fn edit_group_reorder_search_and_remove() {
    let dir = TempDir::new("edit");
    let vault = Vault::open(dir.db(), &key()).unwrap();
    let ids =
        vault.add_all(&[totp("GitHub", "alice"), totp("Google", "alice@gmail.com"), totp("AWS", "root")]).unwrap();
    vault.rename(ids[0], &"GitHub".into(), &"alice-work".into()).unwrap();
    vault.set_group(ids[0], Some(&"Work".into())).unwrap();
    vault.set_group(ids[2], Some(&"Work".into())).unwrap();
    vault.reorder(&[ids[2], ids[0]]).unwrap();
    let names: Vec<String> = vault.accounts().unwrap().iter().map(|a| a.display_name()).collect();
    assert_eq!(names, ["AWS (root)", "GitHub (alice-work)", "Google (alice@gmail.com)"]);
    assert_eq!(vault.groups().unwrap(), ["Work"]);
    assert_eq!(vault.search("ALICE").unwrap().len(), 2);
    assert_eq!(vault.search("work").unwrap().len(), 2);
    assert_eq!(vault.search("goo").unwrap()[0].id, ids[1]);
    vault.remove(ids[1]).unwrap();
    assert!(matches!(vault.remove(ids[1]), Err(Error::NoSuchAccount(_))));
    assert!(matches!(vault.rename(ids[1], &"x".into(), &"y".into()), Err(Error::NoSuchAccount(_))));
    assert!(matches!(vault.reorder(&[ids[1]]), Err(Error::NoSuchAccount(_))));
    assert_eq!(vault.accounts().unwrap().len(), 2);
}

#[test]
fn a_second_handle_sees_changes_from_the_first() {
    let dir = TempDir::new("two-handles");
    let a = Vault::open(dir.db(), &key()).unwrap();
    let b = Vault::open(dir.db(), &key()).unwrap();
    assert!(b.accounts().unwrap().is_empty());
    let id = a.add(&totp("X", "y")).unwrap().id;
    assert_eq!(b.accounts().unwrap().len(), 1);
    a.rename(id, &"Renamed".into(), &"y".into()).unwrap();
    assert_eq!(b.account(id).unwrap().issuer, "Renamed");
}

#[test]
fn swapped_secrets_are_detected_not_used() {
    let dir = TempDir::new("swap");
    let vault = Vault::open(dir.db(), &key()).unwrap();
    vault.add_all(&[totp("A", "a"), totp("B", "b")]).unwrap();
    vault
        .conn
        .execute_batch("UPDATE accounts SET record_enc = (SELECT record_enc FROM accounts WHERE id = 2) WHERE id = 1")
        .unwrap();
    vault.cache.replace(None);
    assert!(matches!(vault.code(1, 0), Err(Error::DamagedAccount { id: 1, .. })));
}

#[test]
fn account_data_round_trips_through_uris_into_a_new_vault() {
    let dir = TempDir::new("export");
    let vault = Vault::open(dir.db(), &key()).unwrap();
    vault.add(&totp("Example", "alice@example.com")).unwrap();
    let uris: Vec<_> = vault.all_account_data().unwrap().iter().map(domain::uri::format).collect();
    assert_eq!(uris.len(), 1);
    let other = TempDir::new("export-other");
    let copy = Vault::open(other.db(), &DataKey::from_bytes([1; 32])).unwrap();
    copy.add(&domain::uri::parse(&uris[0]).unwrap()).unwrap();
    assert_eq!(copy.codes(59).unwrap()[0].code, vault.codes(59).unwrap()[0].code);
}

#[test]
fn absurd_clock_offsets_are_refused() {
    let dir = TempDir::new("offset-range");
    let vault = Vault::open(dir.db(), &key()).unwrap();
    assert!(matches!(vault.set_clock_offset(i64::MAX), Err(Error::InvalidClockOffset(_))));
    vault.set_clock_offset(-1_700_000_000).unwrap();
    assert_eq!(vault.clock_offset().unwrap(), -1_700_000_000);
}

/// Whether the accounts table still has a plaintext `column`.
fn has_column(vault: &Vault, column: &str) -> bool {
    vault.conn.prepare("SELECT * FROM accounts LIMIT 0").unwrap().column_names().any(|c| c == column)
}

/// Swaps what names two accounts between rows `a` and `b`, whichever columns hold it.
fn swap_names(vault: &Vault, a: i64, b: i64) {
    let columns: &[&str] = if has_column(vault, "issuer") { &["issuer", "label"] } else { &["record_enc"] };
    for column in columns {
        vault.execute_for_test(&format!(
            "CREATE TEMP TABLE swap AS SELECT id, {column} AS value FROM accounts WHERE id IN ({a}, {b});
             UPDATE accounts SET {column} = (SELECT value FROM swap WHERE swap.id = CASE accounts.id WHEN {a} THEN {b} ELSE {a} END)
             WHERE id IN ({a}, {b});
             DROP TABLE swap;"
        ));
    }
}

#[test]
fn swapped_names_and_changed_code_parameters_are_typed_errors_naming_the_row() {
    let dir = TempDir::new("tamper");
    let vault = Vault::open(dir.db(), &key()).unwrap();
    let ids = vault
        .add_all(&[totp("Bank", "alice"), totp("Forum", "bob"), totp("Mail", "carol"), totp("Shop", "dan")])
        .unwrap();
    swap_names(&vault, ids[0], ids[1]);
    vault.execute_for_test(&format!("UPDATE accounts SET digits = 6 WHERE id = {}", ids[2]));
    vault.execute_for_test(&format!("UPDATE accounts SET algorithm = 'SHA256', period = 60 WHERE id = {}", ids[3]));
    for id in ids {
        match vault.account(id) {
            Err(e @ Error::DamagedAccount { id: reported, .. }) => {
                assert_eq!(reported, id);
                assert!(e.to_string().contains(&format!("account {id}")), "{e}");
                assert!(!e.to_string().contains("12345678901234567890"), "{e}");
            }
            other => panic!("account {id}: expected DamagedAccount, got {other:?}"),
        }
        assert!(matches!(vault.take_code(id, 59), Err(Error::DamagedAccount { id: reported, .. }) if reported == id));
    }
}

/// A version 2 vault (names in plaintext columns, secrets bound to the id only) migrates to
/// sealed records: names and codes survive, a row whose secret did not open stays reported as
/// damaged under its id, and no removed id is given out again.
#[test]
fn version_2_vault_migrates_to_sealed_records() {
    let dir = TempDir::new("v2-migration");
    {
        let conn = Connection::open(dir.db()).unwrap();
        let sealer = Sealer::new(&key());
        conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
        conn.execute_batch(schema::MIGRATIONS[1]).unwrap();
        let check = sealer.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD).unwrap();
        conn.execute("INSERT INTO meta (key, value) VALUES ('key_check', ?1)", [check]).unwrap();
        for (id, issuer, group, aad_id) in
            [(1, "Kept", Some("Work"), 1), (2, "Removed", None, 2), (3, "Broken", None, 99)]
        {
            let sealed =
                sealer.seal(b"12345678901234567890", format!("accounts.secret_enc:{aad_id}").as_bytes()).unwrap();
            conn.execute(
                "INSERT INTO accounts (id, issuer, label, kind, algorithm, digits, period, secret_enc, group_name,
                                       sort_order, created_at, updated_at)
                 VALUES (?1, ?2, 'label', 'totp', 'SHA1', 8, 30, ?3, ?4, ?1, 0, 0)",
                rusqlite::params![id, issuer, sealed, group],
            )
            .unwrap();
        }
        conn.execute("DELETE FROM accounts WHERE id = 2", []).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
    }
    let vault = Vault::open(dir.db(), &key()).unwrap();
    assert_eq!(schema::version(&vault.conn).unwrap(), schema::LATEST);
    // The plaintext names of version 2, the removed row's too, are gone from every file.
    for file in ["vault.db", "vault.db-wal", "vault.db-shm"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        for name in ["Kept", "Removed", "Broken", "Work"] {
            assert!(!contains(&bytes, name.as_bytes()), "{name} left in plaintext in {file}");
        }
    }
    let accounts = vault.accounts().unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!((accounts[0].issuer.as_str(), accounts[0].group.as_deref()), ("Kept", Some("Work")));
    assert_eq!(vault.code(1, 59).unwrap().value, "94287082");
    assert!(matches!(vault.account(3), Err(Error::DamagedAccount { id: 3, .. })));
    assert_eq!(vault.add(&totp("New", "n")).unwrap().id, 4, "ids are never reused");
}

#[test]
fn one_damaged_row_is_reported_alone_and_everything_else_keeps_working() {
    let dir = TempDir::new("damaged-row");
    let vault = Vault::open(dir.db(), &key()).unwrap();
    let ids = vault.add_all(&[totp("Bank", "alice"), totp("Forum", "bob"), totp("Mail", "carol")]).unwrap();
    vault.execute_for_test(&format!("UPDATE accounts SET record_enc = x'00112233' WHERE id = {}", ids[1]));
    let damaged = vault.damaged_accounts().unwrap();
    assert_eq!(damaged.iter().map(|d| d.id).collect::<Vec<_>>(), [ids[1]]);
    assert_eq!(vault.accounts().unwrap().iter().map(|a| a.id).collect::<Vec<_>>(), [ids[0], ids[2]]);
    assert_eq!(vault.codes(59).unwrap().len(), 2);
    assert_eq!(vault.all_account_data().unwrap().len(), 2);
    assert_eq!(vault.search("a").unwrap().len(), 2);
    vault.take_code(ids[0], 59).unwrap();
    vault.remove(ids[1]).unwrap();
    assert!(vault.damaged_accounts().unwrap().is_empty());
    assert_eq!(vault.accounts().unwrap().len(), 2);
}

/// Automatic backups know "changed since the last backup" from the change counter: every
/// committed change to the accounts moves it, whichever handle made it; reading and taking a
/// TOTP code do not.
#[test]
fn the_accounts_change_counter_moves_with_every_change_and_only_then() {
    let dir = tempfile::tempdir().unwrap();
    let key = DataKey::from_bytes([7; 32]);
    let vault = Vault::open(dir.path().join("v.db"), &key).unwrap();
    let other = Vault::open(dir.path().join("v.db"), &key).unwrap();
    let data = |issuer: &str, params| AccountData {
        issuer: issuer.into(),
        label: "alice".into(),
        params,
        secret: Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
        group: None,
    };
    let totp = vault.add(&data("T", OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap())).unwrap().id;
    let hotp = vault.add(&data("H", OtpParams::hotp(Algorithm::Sha1, 6, 0).unwrap())).unwrap().id;
    let mut last = vault.accounts_version().unwrap();
    assert!(last > 0);
    let mut moved = |what: &str, expected: bool| {
        let now = other.accounts_version().unwrap();
        assert_eq!(now != last, expected, "{what}");
        last = now;
    };
    vault.accounts().unwrap();
    vault.take_code(totp, 59).unwrap();
    vault.set_clock_offset(5).unwrap();
    moved("reads, TOTP use and the clock offset", false);
    vault.take_code(hotp, 59).unwrap();
    moved("HOTP use", true);
    vault.rename(totp, &"T2".into(), &"bob".into()).unwrap();
    moved("rename", true);
    vault.set_group(totp, Some(&"Work".into())).unwrap();
    moved("regroup", true);
    vault.reorder(&[hotp, totp]).unwrap();
    moved("reorder", true);
    vault.add_all(&[data("I", OtpParams::steam())]).unwrap();
    moved("import", true);
    vault.remove(totp).unwrap();
    moved("remove", true);
    vault.set_setting("backup", Some("{}")).unwrap();
    vault.set_sealed_setting("backup_key", Some(b"key")).unwrap();
    moved("settings", false);
    assert_eq!(other.setting("backup").unwrap().as_deref(), Some("{}"));
    assert_eq!(other.sealed_setting("backup_key").unwrap().unwrap().as_slice(), b"key");
    // Bound to its name: a sealed value moved under another name does not open.
    vault.execute_for_test(
        "INSERT INTO meta SELECT 'backup', value FROM meta WHERE key = 'backup_key'
                            ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    assert!(matches!(vault.sealed_setting("backup"), Err(Error::Corrupt(_))));
    vault.set_sealed_setting("backup_key", None).unwrap();
    assert!(other.sealed_setting("backup_key").unwrap().is_none());
}

/// Migration 7: push tokens enrolled before it are privacyIDEA tokens with RSA keys, and still
/// open; the new columns refuse unknown protocols and key types.
#[test]
fn version_6_push_tokens_migrate_as_privacyidea_rsa() {
    let dir = TempDir::new("v6-migration");
    {
        let conn = Connection::open(dir.db()).unwrap();
        let sealer = Sealer::new(&key());
        for (i, migration) in schema::MIGRATIONS[..6].iter().enumerate() {
            conn.execute_batch(migration).unwrap();
            if i == 2 {
                // Migration 3's second half rebuilds accounts (an empty table needs only that).
                conn.execute_batch(schema::ACCOUNTS_V3_REBUILD).unwrap();
            }
        }
        let check = sealer.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD).unwrap();
        conn.execute("INSERT INTO meta (key, value) VALUES ('key_check', ?1)", [check]).unwrap();
        let text = push::seal_text(
            &sealer,
            &["privacyIDEA", "alice", "https://pi.example/ttype/push"],
            b"push_tokens.text_enc:1:PIPU1",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO push_tokens (id, serial, url, text_enc, sslverify, server_key, private_key_enc, sort_order,
                                      created_at, updated_at)
             VALUES (1, 'PIPU1', '', ?1, 1, x'01', x'02', 0, 0, 0)",
            [text],
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 6).unwrap();
    }
    let vault = Vault::open(dir.db(), &key()).unwrap();
    assert_eq!(schema::version(&vault.conn).unwrap(), schema::LATEST);
    let token = vault.push_token(1).unwrap();
    assert_eq!((token.protocol, token.key_type), (domain::PushProtocol::PrivacyIdea, domain::DeviceKeyType::Rsa));
    assert!(token.offers_number_matching && token.offers_decline_reasons);
    assert_eq!((token.issuer.as_str(), token.label.as_str()), ("privacyIDEA", "alice"));
    assert!(vault.push_token_extra(1).unwrap().is_empty());
    for bad in ["protocol = 'otherpush'", "key_type = 'dsa'"] {
        let e = vault.conn.execute(&format!("UPDATE push_tokens SET {bad} WHERE id = 1"), []);
        assert!(e.is_err(), "{bad} was accepted");
    }
}

fn passkey(rp_id: &str, user: &str, credential: u8) -> domain::passkey::PasskeyData {
    use domain::passkey::{PasskeyData, PasskeySecret};
    use zeroize::Zeroizing;
    PasskeyData {
        uid: [credential; 16],
        credential_id: vec![credential; 16],
        rp_id: rp_id.into(),
        rp_name: "Example".into(),
        user_name: user.into(),
        user_display_name: format!("{user} display"),
        user_handle: user.as_bytes().to_vec(),
        name: String::new(),
        created_at: 1_700_000_000,
        secret: PasskeySecret {
            private_key: Zeroizing::new(b"pkcs8 key bytes of the passkey".to_vec()),
            prf_with_uv: Zeroizing::new([1; 32]),
            prf_without_uv: Zeroizing::new([2; 32]),
        },
    }
}

#[test]
fn a_passkey_is_stored_sealed_and_reads_back_after_reopening() {
    let dir = TempDir::new("passkey");
    let vault = Vault::open(dir.db(), &key()).unwrap();
    let info = vault.insert_passkey(&passkey("example.org", "alice-handle", 7)).unwrap();
    assert_eq!((info.rp_id.as_str(), info.user_name.as_str()), ("example.org", "alice-handle"));
    drop(vault);
    let vault = Vault::open(dir.db(), &key()).unwrap();
    let stored = vault.passkey_by_credential(&[7; 16]).unwrap().unwrap();
    assert_eq!(stored, info);
    let secret = vault.passkey_secret(&stored).unwrap();
    assert_eq!(secret.private_key.as_slice(), b"pkcs8 key bytes of the passkey");
    assert_eq!((*secret.prf_with_uv, *secret.prf_without_uv), ([1; 32], [2; 32]));
    assert_eq!(format!("{secret:?}"), "PasskeySecret(..)");
    drop(vault);
    let file = std::fs::read(dir.db()).unwrap();
    for clear in [&b"example.org"[..], b"alice-handle", b"pkcs8 key bytes"] {
        assert!(!contains(&file, clear), "{} in clear", String::from_utf8_lossy(clear));
    }
}

#[test]
fn a_second_passkey_with_the_same_credential_id_is_refused() {
    let dir = TempDir::new("passkey-dup");
    let vault = Vault::open(dir.db(), &key()).unwrap();
    vault.insert_passkey(&passkey("example.org", "a", 1)).unwrap();
    let mut again = passkey("example.org", "b", 1);
    again.uid = [9; 16];
    assert!(matches!(vault.insert_passkey(&again), Err(Error::InvalidInput(_))));
    assert_eq!(vault.passkeys().unwrap().len(), 1);
    let added = vault.insert_passkeys(&[passkey("example.org", "a", 1), passkey("example.org", "c", 3)]).unwrap();
    assert_eq!(added, 1, "the known credential is skipped, the new one added");
}

#[test]
fn a_passkey_row_moved_or_re_targeted_is_damaged_alone() {
    let dir = TempDir::new("passkey-damage");
    let vault = Vault::open(dir.db(), &key()).unwrap();
    let a = vault.insert_passkey(&passkey("example.org", "a", 1)).unwrap();
    let b = vault.insert_passkey(&passkey("example.com", "b", 2)).unwrap();
    let c = vault.insert_passkey(&passkey("example.net", "c", 3)).unwrap();
    // a's record and key copied onto b's row: b no longer opens, a and c still work.
    vault.execute_for_test(&format!(
        "UPDATE passkeys SET record_enc = (SELECT record_enc FROM passkeys WHERE id = {0}),
                             key_enc = (SELECT key_enc FROM passkeys WHERE id = {0}) WHERE id = {1}",
        a.id, b.id
    ));
    let (good, damaged) = vault.passkey_rows().unwrap();
    assert_eq!(good.iter().map(|p| p.id).collect::<Vec<_>>(), vec![a.id, c.id]);
    assert_eq!(damaged, vec![DamagedPasskey { id: b.id }]);
    // c's key with another rpId (a re-targeted row) does not open.
    let mut retargeted = c.clone();
    retargeted.rp_id = "evil.example".into();
    assert!(matches!(vault.passkey_secret(&retargeted), Err(Error::Corrupt(_))));
    vault.remove_passkey(b.id).unwrap();
    assert!(vault.passkey_rows().unwrap().1.is_empty());
}

#[test]
fn a_passkey_is_renamed_touched_and_removed() {
    let dir = TempDir::new("passkey-life");
    let vault = Vault::open(dir.db(), &key()).unwrap();
    let before = vault.accounts_version().unwrap();
    let info = vault.insert_passkey(&passkey("example.org", "a", 1)).unwrap();
    vault.rename_passkey(info.id, "Work\u{7} laptop").unwrap();
    vault.touch_passkey(info.id, 1_800_000_000).unwrap();
    let after = vault.passkey(info.id).unwrap();
    assert_eq!(after.name, "Work laptop");
    assert_eq!(after.last_used_at, Some(1_800_000_000));
    assert_eq!(vault.passkey_secret(&after).unwrap().private_key.as_slice(), b"pkcs8 key bytes of the passkey");
    assert_eq!(vault.accounts_version().unwrap(), before + 2, "insert and rename count for backups, use does not");
    vault.remove_passkey(info.id).unwrap();
    assert!(vault.passkeys().unwrap().is_empty());
    assert!(matches!(vault.remove_passkey(info.id), Err(Error::InvalidInput(_))));
}
