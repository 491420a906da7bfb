//! Automatic backups (`backup enable|disable|status|now|password`), run as a user would: every
//! change makes a verified backup in the folder, and a folder that vanishes, turns read-only or
//! fills up, or a process killed mid-backup, never costs a good copy nor the change itself.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::*;

const PASSWORD_ENV: &str = "AUTHENTICATOR_BACKUP_PASSWORD";
const PASSWORD: &str = "correct horse battery staple";

/// A home with automatic backups on into `<tempdir>/backups`, keeping `keep`.
fn home_with_backups(name: &str, keep: u32) -> (Home, PathBuf) {
    let home = Home::new(name);
    home.add(&totp_uri("ACME", "alice"));
    let folder = home.path().parent().unwrap().join("backups");
    let run = home
        .cli(["backup", "enable", folder.to_str().unwrap(), "--keep", &keep.to_string()])
        .env(PASSWORD_ENV, PASSWORD)
        .run();
    run.ok();
    assert!(run.stderr.contains("verified"), "{run:?}");
    (home, folder)
}

fn status(home: &Home) -> Value {
    serde_json::from_str(&home.ok(&["backup", "status", "--json"])).unwrap()
}

/// Backup file names in `folder`, sorted; and everything else there.
fn files(folder: &Path) -> (Vec<String>, Vec<String>) {
    let mut names: Vec<String> = match std::fs::read_dir(folder) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names.into_iter().partition(|n| services::backup::auto::is_backup_name(n))
}

/// How many accounts the backup `file` restores, with the password alone.
fn restores(file: &Path) -> i64 {
    services::backup::verify_backup(&std::fs::read(file).unwrap(), PASSWORD).unwrap().accounts
}

/// `count` accounts imported in one command (one backup).
fn import_many(home: &Home, count: usize) {
    let lines: String = (0..count)
        .map(|i| format!("{}\n", totp_uri(&format!("Service{i}"), &format!("user{i}@example.com"))))
        .collect();
    let file = home.path().parent().unwrap().join("many.txt");
    std::fs::write(&file, lines).unwrap();
    home.ok(&["import", file.to_str().unwrap()]);
}

#[test]
fn every_kind_of_change_makes_a_verified_backup_that_import_and_verify_backup_read() {
    let (home, folder) = home_with_backups("auto-changes", 3);
    let first = files(&folder).0;
    assert_eq!(first.len(), 1, "enabling makes the first backup");
    let hotp = home.add(&hotp_uri("Bank", "bob", 5)).to_string();
    let steps: [&[&str]; 6] = [
        &["rename", &hotp, "--label", "robert"],
        &["group", &hotp, "Money"],
        &["move", &hotp, "1"],
        &["code", &hotp],
        &["remove", "ACME", "--yes"],
        &["add", &totp_uri("Zeta", "zed")],
    ];
    let mut last = status(&home)["last_success_name"].clone();
    for step in steps {
        home.ok(step);
        let now = status(&home);
        assert_ne!(now["last_success_name"], last, "{step:?} made a backup");
        assert_eq!((now["pending_changes"].as_bool(), now["warning"].is_null()), (Some(false), true), "{now}");
        last = now["last_success_name"].clone();
    }
    // Reading and TOTP codes change nothing worth a backup.
    home.ok(&["list"]);
    home.ok(&["code", "Zeta"]);
    assert_eq!(status(&home)["last_success_name"], last);
    let (good, other) = files(&folder);
    assert_eq!((good.len(), other), (3, Vec::<String>::new()), "the newest 3 kept, nothing else left");
    assert_eq!(format!("\"{}\"", good[2]), last.to_string());
    let newest = folder.join(&good[2]);
    assert_eq!(restores(&newest), 2);
    home.cli(["verify-backup", newest.to_str().unwrap()]).env(PASSWORD_ENV, PASSWORD).run().ok();
    let fresh = Home::new("auto-restore");
    fresh.cli(["import", newest.to_str().unwrap()]).env(PASSWORD_ENV, PASSWORD).run().ok();
    let restored = fresh.accounts();
    assert_eq!((restored[0]["issuer"].as_str(), restored[0]["label"].as_str()), (Some("Bank"), Some("robert")));
    assert_eq!((restored[0]["group"].as_str(), restored[0]["counter"].as_u64()), (Some("Money"), Some(6)));
    assert_eq!(restored[1]["issuer"], "Zeta");
    assert!(good.iter().all(|n| !n.contains("Bank") && !n.contains("robert")));

    // A new password: later backups open with it, older ones with the old one.
    home.cli(["backup", "password"]).env(PASSWORD_ENV, "a brand new password").run().ok();
    let newest = folder.join(files(&folder).0.pop().unwrap());
    let check = |file: &Path, password: &str| services::backup::verify_backup(&std::fs::read(file).unwrap(), password);
    assert!(check(&newest, "a brand new password").is_ok() && check(&newest, PASSWORD).is_err());
    assert!(check(&folder.join(&good[2]), PASSWORD).is_ok());

    home.ok(&["backup", "disable"]);
    assert_eq!(status(&home)["enabled"], false);
    home.add(&totp_uri("After", "off"));
    assert_eq!(files(&folder).0.len(), 3, "off: no more backups, the old ones stay");
}

#[test]
fn a_vanished_folder_never_blocks_the_change_and_every_command_warns_until_it_works_again() {
    let (home, folder) = home_with_backups("auto-vanished", 10);
    std::fs::remove_dir_all(&folder).unwrap();
    let run = home.run(&["add", &totp_uri("Bank", "bob")]);
    run.ok();
    assert!(
        run.stderr.contains("saved in the vault but not backed up") && run.stderr.contains("destination gone"),
        "{run:?}"
    );
    assert_eq!(home.accounts().len(), 2, "the change is committed");
    let now = status(&home);
    assert_eq!(
        (now["last_failure"].as_str(), now["pending_changes"].as_bool()),
        (Some("destination_gone"), Some(true))
    );
    for args in [&["list"][..], &["codes", "--once"], &["code", "ACME"]] {
        let run = home.run(args);
        run.ok();
        assert!(run.stderr.contains("warning: ") && run.stderr.contains("(destination gone"), "{args:?}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "one warning: {run:?}");
    }
    assert!(home.ok(&["backup", "status"]).contains("WARNING"));
    home.run(&["backup", "now"]).refused();
    // A folder made anew at the path is another folder: refused until the user chooses it.
    std::fs::create_dir(&folder).unwrap();
    let run = home.run(&["list"]);
    assert!(run.stderr.contains("warning"), "a read-only command does not write the backup: {run:?}");
    let run = home.run(&["backup", "now"]);
    run.refused();
    assert!(run.stderr.contains("not the folder chosen"), "{run:?}");
    home.cli(["backup", "enable", folder.to_str().unwrap()]).env(PASSWORD_ENV, PASSWORD).run().ok();
    let run = home.run(&["list"]);
    assert!(!run.stderr.contains("warning"), "{run:?}");
    assert_eq!(restores(&folder.join(files(&folder).0.pop().unwrap())), 2);
}

#[test]
fn a_read_only_folder_keeps_its_copies_and_is_reported_as_no_permission() {
    use std::os::unix::fs::PermissionsExt;
    let (home, folder) = home_with_backups("auto-read-only", 10);
    let before = files(&folder);
    let user = home.hand_to_unprivileged_user();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
    let cli = home.cli(["add", &totp_uri("Bank", "bob")]);
    let run = match user {
        Some(user) => cli.run_as_user(user).run(),
        None => cli.run(),
    };
    run.ok();
    assert!(run.stderr.contains("no permission"), "{run:?}");
    assert_eq!(files(&folder), before, "no partial file, nothing deleted");
    let cli = home.cli(["backup", "status", "--json"]);
    let stdout = match user {
        Some(user) => cli.run_as_user(user).run(),
        None => cli.run(),
    };
    let now: Value = serde_json::from_str(stdout.ok()).unwrap();
    assert_eq!(now["last_failure"], "no_permission");
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A folder that fills up mid-write: a file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored as a
/// full disk would answer ENOSPC) below the backup's size but above what the vault writes.
#[test]
fn a_folder_that_fills_up_mid_write_leaves_no_partial_and_keeps_the_older_copies() {
    let (home, folder) = home_with_backups("auto-full", 10);
    import_many(&home, 1000);
    let before = files(&folder);
    assert_eq!(before.0.len(), 2);
    let size = std::fs::metadata(folder.join(&before.0[1])).unwrap().len();
    assert!(size > 96 * 1024, "the backup must outgrow the limit: {size} bytes");
    let limited = ["sh", "-c", "trap '' XFSZ; exec prlimit --fsize=65536 -- \"$0\" \"$@\""];
    let run = home.cli_via(&limited, &["backup", "now"]).run();
    run.refused();
    assert!(run.stderr.contains("disk full"), "{run:?}");
    assert_eq!(files(&folder), before, "no partial file, nothing deleted");
    assert_eq!(status(&home)["last_failure"], "disk_full");
    let run = home.cli_via(&limited, &["rename", "Service1", "--label", "renamed"]).run();
    run.ok();
    assert!(run.stderr.contains("saved in the vault but not backed up") && run.stderr.contains("disk full"), "{run:?}");
    assert!(home.ok(&["list"]).contains("renamed"));
    assert_eq!(files(&folder), before);
    assert_eq!(restores(&folder.join(&before.0[1])), 1001);
}

/// `kill -9` at many moments of a backup of 3,000 accounts: every copy made before stays, byte
/// for byte, and whatever the killed runs left is never named like a backup.
#[test]
fn a_backup_killed_at_any_moment_leaves_the_previous_copies_intact() {
    let (home, folder) = home_with_backups("auto-killed", 1000);
    import_many(&home, 3000);
    // One whole run, timed: the kills are spread over as long.
    let started = std::time::Instant::now();
    home.ok(&["backup", "now"]);
    let whole = started.elapsed();
    let before: Vec<(String, Vec<u8>)> =
        files(&folder).0.into_iter().map(|n| (n.clone(), std::fs::read(folder.join(&n)).unwrap())).collect();
    let (mut killed, mut left_partial) = (0, 0);
    const RUNS: u32 = 24;
    // Under load a run can take longer than the timed one: spread the kills over twice as long
    // again, up to three times, until some landed mid-write.
    for pass in 1..=3 {
        for i in 0..RUNS {
            let mut child = home.cli(["backup", "now"]).spawn();
            std::thread::sleep(whole * pass * i / RUNS);
            let _ = child.kill();
            let status = child.wait().unwrap();
            if !status.success() {
                killed += 1;
            }
            for (name, bytes) in &before {
                assert_eq!(&std::fs::read(folder.join(name)).unwrap(), bytes, "{name} intact after kill {i}");
            }
            let (good, other) = files(&folder);
            assert!(other.iter().all(|n| n.ends_with(".partial")), "{other:?}");
            left_partial = left_partial.max(other.len());
            for name in good.iter().filter(|n| !before.iter().any(|(b, _)| b == *n)) {
                assert_eq!(restores(&folder.join(name)), 3001, "{name}: a copy with a good name is whole");
            }
        }
        if left_partial > 0 {
            break;
        }
    }
    eprintln!("a run takes {whole:?}; {killed} killed, {left_partial} partial files left by kills mid-write");
    assert!(killed > 0 && left_partial > 0, "some kills landed mid-write: {killed} killed, {left_partial} mid-write");
    home.ok(&["backup", "now"]);
    assert_eq!(status(&home)["warning"], Value::Null);
}

#[test]
fn enabling_refuses_a_short_password_or_no_copies_and_changes_nothing() {
    let home = Home::new("auto-refused");
    home.add(&totp_uri("ACME", "alice"));
    let folder = home.path().parent().unwrap().join("backups");
    let run = home.cli(["backup", "enable", folder.to_str().unwrap()]).env(PASSWORD_ENV, "short").run();
    assert!(run.refused_in_one_line().contains("at least 8 characters"), "{run:?}");
    assert!(!folder.exists(), "no folder made");
    let run = home.cli(["backup", "enable", folder.to_str().unwrap(), "--keep", "0"]).env(PASSWORD_ENV, PASSWORD).run();
    assert!(!run.status.success() && run.stderr.contains("--keep"), "{run:?}");
    assert_eq!(status(&home)["enabled"], false);
    assert!(home.run(&["backup", "now"]).refused_in_one_line().contains("backup enable DIR"));
}

#[test]
fn a_folder_swapped_for_a_symlink_gets_nothing_and_every_command_says_so() {
    let (home, folder) = home_with_backups("auto-symlink", 10);
    let elsewhere = home.path().parent().unwrap().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::rename(&folder, home.path().parent().unwrap().join("moved")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &folder).unwrap();
    let run = home.run(&["add", &totp_uri("Bank", "bob")]);
    run.ok();
    assert!(run.stderr.contains("not the folder chosen"), "{run:?}");
    assert_eq!(home.accounts().len(), 2, "the change is committed");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0, "nothing written through the symlink");
    let run = home.run(&["list"]);
    assert!(run.stderr.contains("not the folder chosen"), "{run:?}");
    assert_eq!(status(&home)["last_failure"].as_str(), Some("destination_gone"));
}

#[test]
fn files_named_like_future_backups_never_push_the_real_copies_out() {
    let (home, folder) = home_with_backups("auto-junk", 2);
    let junk: Vec<String> =
        (1..=5).map(|year| format!("authenticator-backup-{}0101-000000-000.json", 2100 + year)).collect();
    for name in &junk {
        std::fs::write(folder.join(name), b"junk").unwrap();
    }
    home.add(&totp_uri("Bank", "bob"));
    home.add(&totp_uri("Mail", "carol"));
    let (backups, _) = files(&folder);
    for name in &junk {
        assert!(backups.contains(name), "never deleted: {name} ({backups:?})");
    }
    let ours: Vec<&String> = backups.iter().filter(|n| !junk.contains(n)).collect();
    assert_eq!(ours.len(), 2, "the newest 2 real copies: {backups:?}");
    assert_eq!(restores(&folder.join(ours[1])), 3);
}
