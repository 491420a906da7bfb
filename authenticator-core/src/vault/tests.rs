use super::*;
use crate::otp::Algorithm;

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("vault-unit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn db(&self) -> std::path::PathBuf {
        self.0.join("vault.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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
        .execute_batch("UPDATE accounts SET secret_enc = (SELECT secret_enc FROM accounts WHERE id = 2) WHERE id = 1")
        .unwrap();
    vault.cache.replace(None);
    assert!(matches!(vault.codes(0), Err(Error::Corrupt(_))));
}

#[test]
fn export_uris_round_trip_into_a_new_vault() {
    let dir = TempDir::new("export");
    let vault = Vault::open(dir.db(), &key()).unwrap();
    vault.add(&totp("Example", "alice@example.com")).unwrap();
    let uris = vault.export_uris().unwrap();
    assert_eq!(uris.len(), 1);
    let other = TempDir::new("export-other");
    let copy = Vault::open(other.db(), &DataKey::from_bytes([1; 32])).unwrap();
    copy.add(&crate::uri::parse(&uris[0]).unwrap()).unwrap();
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
