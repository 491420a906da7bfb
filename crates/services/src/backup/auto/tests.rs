use std::collections::BTreeMap;
use std::sync::Mutex;

use super::*;
use domain::otp::{Algorithm, OtpParams, Secret};

/// Cheap Argon2 for tests; real backups use the defaults.
const FAST: KdfParams = KdfParams { memory_kib: 256, iterations: 1, parallelism: 1 };
const PASSWORD: &str = "correct horse battery";

fn vault(dir: &tempfile::TempDir) -> Vault {
    Vault::open(dir.path().join("vault.db"), &storage::DataKey::from_bytes([3; 32])).unwrap()
}

fn account(issuer: &str) -> AccountData {
    AccountData {
        issuer: issuer.into(),
        label: "alice".into(),
        params: OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap(),
        secret: Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
        group: Some("Work".into()),
    }
}

/// A destination in memory that can be told to fail, or to hand back damaged bytes.
#[derive(Default)]
struct Memory {
    blobs: Mutex<BTreeMap<String, Vec<u8>>>,
    fail_write: Mutex<Option<fn() -> DestinationError>>,
    damage_reads: Mutex<bool>,
    fail_rename: Mutex<bool>,
}

impl Memory {
    fn names(&self) -> Vec<String> {
        self.blobs.lock().unwrap().keys().cloned().collect()
    }
    fn good(&self) -> Vec<String> {
        self.names().into_iter().filter(|n| is_backup_name(n)).collect()
    }
}

impl BackupDestination for Memory {
    fn write(&self, name: String, bytes: Vec<u8>) -> Result<(), DestinationError> {
        if let Some(fail) = *self.fail_write.lock().unwrap() {
            // Half a file, as a full disk leaves it, then the error.
            self.blobs.lock().unwrap().insert(name, bytes[..bytes.len() / 2].to_vec());
            return Err(fail());
        }
        self.blobs.lock().unwrap().insert(name, bytes);
        Ok(())
    }
    fn read(&self, name: String) -> Result<Vec<u8>, DestinationError> {
        let mut bytes =
            self.blobs.lock().unwrap().get(&name).cloned().ok_or(DestinationError::Gone { detail: name })?;
        if *self.damage_reads.lock().unwrap() {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 1;
        }
        Ok(bytes)
    }
    fn rename(&self, from: String, to: String) -> Result<(), DestinationError> {
        if *self.fail_rename.lock().unwrap() {
            return Err(DestinationError::NoPermission { detail: "read-only".into() });
        }
        let mut blobs = self.blobs.lock().unwrap();
        let bytes = blobs.remove(&from).ok_or(DestinationError::Gone { detail: from })?;
        blobs.insert(to, bytes);
        Ok(())
    }
    fn list(&self) -> Result<Vec<String>, DestinationError> {
        Ok(self.names())
    }
    fn delete(&self, name: String) -> Result<(), DestinationError> {
        self.blobs.lock().unwrap().remove(&name);
        Ok(())
    }
}

#[test]
fn names_sort_by_time_and_carry_no_account_data() {
    let name = name_at(1_764_436_544_123);
    assert_eq!(name, "authenticator-backup-20251129-171544-123.json");
    assert!(is_backup_name(&name));
    assert!(name_at(1_764_436_544_123) < name_at(1_764_436_544_124));
    assert!(name_at(999_999_999_999) < name_at(1_000_000_000_000));
    for other in [format!("{name}.partial"), "authenticator-backup-2025.json".into(), "notes.json".into()] {
        assert!(!is_backup_name(&other), "{other}");
    }
}

#[test]
fn a_change_makes_a_verified_backup_that_opens_with_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir);
    vault.add(&account("GitHub")).unwrap();
    assert_eq!(wait_seconds(&vault, 0).unwrap(), None, "off: nothing is due");
    assert!(matches!(run(&vault, &Memory::default()), Err(Error::BackupsOff)));
    enable(&vault, PASSWORD, 3, None, FAST).unwrap();
    assert_eq!(wait_seconds(&vault, domain::time::now()).unwrap(), Some(0), "the first backup is due at once");
    let destination = Memory::default();
    let name = run(&vault, &destination).unwrap();
    assert_eq!(destination.names(), std::slice::from_ref(&name));
    let bytes = destination.blobs.lock().unwrap()[&name].clone();
    assert_eq!(super::super::verify_backup(&bytes, PASSWORD).unwrap().accounts, 1);
    assert!(!String::from_utf8_lossy(&bytes).contains("GitHub"));
    let status = status(&vault, domain::time::now()).unwrap();
    assert!(status.enabled && !status.pending_changes && status.warning.is_none(), "{status:?}");
    assert_eq!(status.last_success_name.as_deref(), Some(name.as_str()));
    let now = domain::time::now();
    assert_eq!(wait_seconds(&vault, now).unwrap(), None, "nothing changed since");

    // A burst of changes: one backup, at most one attempt per minute.
    vault.add(&account("Bank")).unwrap();
    vault.rename(1, &"GitLab".into(), &"bob".into()).unwrap();
    let wait = wait_seconds(&vault, now).unwrap().unwrap();
    assert!((MIN_INTERVAL_SECONDS as u64 - 2..=MIN_INTERVAL_SECONDS as u64).contains(&wait), "{wait}");
    assert_eq!(wait_seconds(&vault, now + MIN_INTERVAL_SECONDS).unwrap(), Some(0));
    run(&vault, &destination).unwrap();
    let newest = destination.good().pop().unwrap();
    let bytes = destination.blobs.lock().unwrap()[&newest].clone();
    let restored = format::decrypt(&bytes, PASSWORD).unwrap();
    assert_eq!(restored.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["GitLab (bob)", "Bank (alice)"]);
}

#[test]
fn rotation_keeps_the_newest_and_never_touches_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir);
    vault.add(&account("GitHub")).unwrap();
    enable(&vault, PASSWORD, 3, None, FAST).unwrap();
    let destination = Memory::default();
    let now = domain::time::now_ms();
    // Someone's notes, a fresh partial (another run may be writing it), and a stale one.
    for name in [
        "notes.txt".to_owned(),
        format!("{}.partial", name_at(now)),
        format!("{}.partial", name_at(now - STALE_PARTIAL_MS - 1000)),
    ] {
        destination.blobs.lock().unwrap().insert(name, b"x".to_vec());
    }
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(run(&vault, &destination).unwrap());
    }
    assert_eq!(destination.good(), made[2..], "the newest 3");
    let names = destination.names();
    assert!(
        names.contains(&"notes.txt".to_owned()) && names.contains(&format!("{}.partial", name_at(now))),
        "{names:?}"
    );
    assert_eq!(names.len(), 5, "the stale partial is gone: {names:?}");

    // Even when the clock went back and the new copy sorts oldest, it is kept: a copy this vault
    // wrote an hour "later" is deleted instead.
    let copy = made[4].clone();
    let later = name_at(now + 3_600_000);
    let bytes = destination.blobs.lock().unwrap()[&copy].clone();
    destination.blobs.lock().unwrap().insert(later.clone(), bytes);
    let mut ours = written(&vault).unwrap();
    ours.push(later);
    set_written(&vault, &ours).unwrap();
    let mut key_vault = status(&vault, 0).unwrap();
    key_vault.keep = 1;
    save(&vault, &key_vault).unwrap();
    let new = run(&vault, &destination).unwrap();
    assert_eq!(destination.good(), [new], "keep 1: the verified new copy, only");
}

#[test]
fn rotation_deletes_only_copies_this_vault_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir);
    vault.add(&account("GitHub")).unwrap();
    enable(&vault, PASSWORD, 2, None, FAST).unwrap();
    let destination = Memory::default();
    // Junk named like backups from the coming years, and a real copy of another vault's.
    let year_ms = 366 * 86_400_000;
    let junk: Vec<String> = (1..=5).map(|i| name_at(domain::time::now_ms() + i * year_ms)).collect();
    for name in &junk {
        destination.blobs.lock().unwrap().insert(name.clone(), b"junk".to_vec());
    }
    let other_dir = tempfile::tempdir().unwrap();
    let other = self::vault(&other_dir);
    other.add(&account("Bank")).unwrap();
    enable(&other, PASSWORD, 10, None, FAST).unwrap();
    let theirs = run(&other, &destination).unwrap();

    let made: Vec<String> = (0..4).map(|_| run(&vault, &destination).unwrap()).collect();
    let names = destination.names();
    for name in junk.iter().chain([&theirs]) {
        assert!(names.contains(name), "{name} is not this vault's: never deleted ({names:?})");
    }
    assert!(names.contains(&made[2]) && names.contains(&made[3]), "the newest 2 of ours: {names:?}");
    assert!(!names.contains(&made[0]) && !names.contains(&made[1]), "older ones of ours rotated: {names:?}");
    assert_eq!(written(&vault).unwrap(), made[2..], "the vault remembers what it may delete");

    // A copy of ours the user deleted is forgotten, not sought.
    destination.blobs.lock().unwrap().remove(&made[3]);
    let next = run(&vault, &destination).unwrap();
    assert_eq!(written(&vault).unwrap(), [made[2].clone(), next]);
}

#[test]
fn the_names_remembered_are_bounded_and_only_backup_names() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir);
    vault.add(&account("GitHub")).unwrap();
    enable(&vault, PASSWORD, 1, None, FAST).unwrap();
    let mut names: Vec<String> = (0..MAX_WRITTEN as i64 + 50).map(|i| name_at(i * 1000)).collect();
    names.push("../../etc/passwd".into());
    vault.set_setting(WRITTEN, Some(&Value::from(names).to_string())).unwrap();
    assert_eq!(written(&vault).unwrap().len(), MAX_WRITTEN + 50, "the path is dropped");
    let destination = Memory::default();
    let made = run(&vault, &destination).unwrap();
    let kept = written(&vault).unwrap();
    assert_eq!(kept, [made], "the names not in the destination are forgotten");
    // Over the bound (copies kept beyond it), the newest names are remembered.
    let mut status = status(&vault, 0).unwrap();
    status.keep = 5000;
    save(&vault, &status).unwrap();
    let many: Vec<String> = (0..MAX_WRITTEN as i64 + 50).map(|i| name_at(i * 1000)).collect();
    for name in &many {
        destination.blobs.lock().unwrap().insert(name.clone(), b"old".to_vec());
    }
    set_written(&vault, &many).unwrap();
    let newest = run(&vault, &destination).unwrap();
    let kept = written(&vault).unwrap();
    assert_eq!(kept.len(), MAX_WRITTEN);
    assert_eq!(kept.last(), Some(&newest));
    assert_eq!(kept[0], many[51], "the oldest forgotten (and left in place, never deleted)");
    assert_eq!(destination.names().len(), MAX_WRITTEN + 50 + 2);
}

#[test]
fn a_failing_destination_keeps_older_copies_leaves_no_partial_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir);
    vault.add(&account("GitHub")).unwrap();
    enable(&vault, PASSWORD, 2, None, FAST).unwrap();
    let destination = Memory::default();
    let good = run(&vault, &destination).unwrap();
    let before = destination.blobs.lock().unwrap().clone();
    type Fault = fn(&Memory, bool);
    let cases: [(Fault, BackupFailure); 4] = [
        (
            |d, on| {
                *d.fail_write.lock().unwrap() = on.then_some(|| DestinationError::Full { detail: "no space".into() })
            },
            BackupFailure::DiskFull,
        ),
        (
            |d, on| {
                *d.fail_write.lock().unwrap() = on.then_some(|| DestinationError::Gone { detail: "unmounted".into() })
            },
            BackupFailure::DestinationGone,
        ),
        (|d, on| *d.damage_reads.lock().unwrap() = on, BackupFailure::VerificationFailed),
        (|d, on| *d.fail_rename.lock().unwrap() = on, BackupFailure::NoPermission),
    ];
    for (fault, expected) in cases {
        vault.add(&account("Bank")).unwrap();
        fault(&destination, true);
        match run(&vault, &destination) {
            Err(Error::BackupFailed { failure, .. }) => assert_eq!(failure, expected),
            other => panic!("{expected:?}: {other:?}"),
        }
        fault(&destination, false);
        assert_eq!(*destination.blobs.lock().unwrap(), before, "{expected:?}: nothing added, nothing deleted");
        let status = status(&vault, domain::time::now()).unwrap();
        assert_eq!(status.last_failure, Some(expected));
        assert!(status.pending_changes);
        assert!(status.warning.as_deref().unwrap().contains(expected.describe()), "{status:?}");
        assert_eq!(status.last_success_name.as_deref(), Some(good.as_str()));
    }
    // The next success clears the warning.
    run(&vault, &destination).unwrap();
    assert_eq!(status(&vault, domain::time::now()).unwrap().warning, None);
}

#[test]
fn a_week_without_success_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir);
    enable(&vault, PASSWORD, 2, None, FAST).unwrap();
    let now = domain::time::now();
    assert_eq!(status(&vault, now + STALE_AFTER_SECONDS - 60).unwrap().warning, None);
    let warning = status(&vault, now + STALE_AFTER_SECONDS + 60).unwrap().warning.unwrap();
    assert!(warning.contains("7 days"), "{warning}");
    run(&vault, &Memory::default()).unwrap();
    assert!(status(&vault, now + 2 * STALE_AFTER_SECONDS).unwrap().warning.unwrap().contains("14 days"));
    disable(&vault).unwrap();
    assert_eq!(status(&vault, now + 2 * STALE_AFTER_SECONDS).unwrap(), BackupStatus::default(), "off: no warning");
}

#[test]
fn a_new_password_rekeys_later_backups_and_old_copies_keep_their_password() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir);
    vault.add(&account("GitHub")).unwrap();
    assert!(matches!(change_password(&vault, "another password", FAST), Err(Error::BackupsOff)));
    enable(&vault, PASSWORD, 5, None, FAST).unwrap();
    let destination = Memory::default();
    let old = run(&vault, &destination).unwrap();
    change_password(&vault, "another password", FAST).unwrap();
    assert_eq!(wait_seconds(&vault, domain::time::now()).unwrap(), Some(0), "a copy under the new key is due");
    let new = run(&vault, &destination).unwrap();
    let blob = |name: &str| destination.blobs.lock().unwrap()[name].clone();
    assert!(format::decrypt(&blob(&old), PASSWORD).is_ok());
    assert!(matches!(format::decrypt(&blob(&new), PASSWORD), Err(Error::WrongPassword)));
    assert!(format::decrypt(&blob(&new), "another password").is_ok());
    assert!(matches!(enable(&vault, PASSWORD, 0, None, FAST), Err(Error::InvalidInput(_))));
    assert!(matches!(enable(&vault, "short", 3, None, FAST), Err(Error::WeakPassword(_))));
    disable(&vault).unwrap();
    assert!(vault.sealed_setting(KEY).unwrap().is_none(), "the key is forgotten");
}

#[test]
fn a_folder_gets_whole_private_files_and_a_vanished_folder_is_destination_gone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir);
    vault.add(&account("GitHub")).unwrap();
    enable(&vault, PASSWORD, 2, None, FAST).unwrap();
    let folder = dir.path().join("backups");
    std::fs::create_dir(&folder).unwrap();
    let destination = FolderDestination::new(&folder);
    let name = run(&vault, &destination).unwrap();
    let file = folder.join(&name);
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(super::super::verify_backup(&std::fs::read(&file).unwrap(), PASSWORD).unwrap().accounts, 1);
    std::fs::remove_dir_all(&folder).unwrap();
    vault.add(&account("Bank")).unwrap();
    match run(&vault, &destination) {
        Err(Error::BackupFailed { failure: BackupFailure::DestinationGone, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(vault.accounts().unwrap().len(), 2, "the change stands");
}

/// A vault with one account and automatic backups on into `<dir>/backups`, keeping 2.
fn vault_backing_up_into_a_folder(dir: &tempfile::TempDir) -> (Vault, std::path::PathBuf) {
    let vault = vault(dir);
    vault.add(&account("GitHub")).unwrap();
    let folder = dir.path().join("backups");
    std::fs::create_dir(&folder).unwrap();
    enable(&vault, PASSWORD, 2, folder.to_str(), FAST).unwrap();
    (vault, folder)
}

/// One backup into the folder the vault chose, as the CLI makes it.
fn into_its_folder(vault: &Vault) -> Result<String> {
    run(vault, &folder_destination(vault).unwrap().unwrap())
}

#[test]
fn a_folder_swapped_for_a_symlink_or_another_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, folder) = vault_backing_up_into_a_folder(&dir);
    into_its_folder(&vault).unwrap();

    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::rename(&folder, dir.path().join("moved")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &folder).unwrap();
    vault.add(&account("Bank")).unwrap();
    for swapped in ["a symlink", "another folder"] {
        match into_its_folder(&vault) {
            Err(Error::BackupFailed { failure: BackupFailure::DestinationGone, detail }) => {
                assert!(detail.contains("not the folder chosen"), "{swapped}: {detail}")
            }
            other => panic!("{swapped}: {other:?}"),
        }
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0, "{swapped}: nothing written there");
        let status = status(&vault, domain::time::now()).unwrap();
        assert!(status.warning.unwrap().contains("not the folder chosen"), "{swapped}: backup status says so");
        std::fs::remove_file(&folder).unwrap_or_else(|_| std::fs::remove_dir(&folder).unwrap());
        std::fs::create_dir(&folder).unwrap();
    }
    // Chosen again, it is the folder.
    enable(&vault, PASSWORD, 2, folder.to_str(), FAST).unwrap();
    into_its_folder(&vault).unwrap();
}

#[test]
fn a_folder_chosen_before_identities_were_recorded_is_held_to_the_one_found_first() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, folder) = vault_backing_up_into_a_folder(&dir);
    vault.set_setting(FOLDER_ID, None).unwrap();
    into_its_folder(&vault).unwrap();
    assert_eq!(vault.setting(FOLDER_ID).unwrap(), folder_identity(&folder));
    std::fs::rename(&folder, dir.path().join("moved")).unwrap();
    std::fs::create_dir(&folder).unwrap();
    vault.add(&account("Bank")).unwrap();
    assert!(into_its_folder(&vault).is_err());
}

#[test]
fn io_errors_map_to_typed_failures() {
    use std::io::{Error as Io, ErrorKind};
    let cases = [
        (ErrorKind::NotFound, BackupFailure::DestinationGone),
        (ErrorKind::PermissionDenied, BackupFailure::NoPermission),
        (ErrorKind::ReadOnlyFilesystem, BackupFailure::NoPermission),
        (ErrorKind::StorageFull, BackupFailure::DiskFull),
        (ErrorKind::FileTooLarge, BackupFailure::DiskFull),
        (ErrorKind::Interrupted, BackupFailure::Other),
    ];
    for (kind, failure) in cases {
        assert_eq!(DestinationError::from(Io::from(kind)).failure(), failure, "{kind:?}");
    }
}
