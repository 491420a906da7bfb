//! Secrets at rest, foreign or damaged files, and readers that go away.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::support::*;

/// Asserts no file in the data dir holds `needle`.
#[track_caller]
fn assert_not_in_files(home: &Home, needle: &[u8], what: &str) {
    for name in home.files() {
        let bytes = std::fs::read(home.file(&name)).unwrap();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{name} contains the {what} in plain text");
    }
}

#[test]
fn vault_files_never_contain_the_secret_in_plain_text() {
    let raw = b"vault-secret-canary!";
    let text = base32(raw);
    assert!(!text.contains('='), "a 20-byte key needs no padding");
    let home = Home::new("at-rest");
    home.ok(&["list"]);

    // A second process holding the vault open (waiting for a piped secret) keeps SQLite from
    // folding the write-ahead log back into vault.db, so the log itself can be inspected.
    let mut holder = home.cli(["add", "--issuer", "Holder", "--label", "open"]).spawn_with_open_stdin();
    let start = Instant::now();
    while !home.file("vault.db-wal").exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "the holder never opened the vault");
        std::thread::sleep(Duration::from_millis(10));
    }
    home.add(&format!("otpauth://totp/Canary:c?secret={text}&issuer=Canary"));
    home.cli(["add", "--issuer", "Canary", "--label", "manual", "--secret-stdin", "--type", "hotp"])
        .stdin(text.to_lowercase())
        .run()
        .ok();
    assert!(std::fs::metadata(home.file("vault.db-wal")).unwrap().len() > 0, "the additions sit in the log");
    for name in ["vault.db-wal", "vault.db-shm"] {
        let mode = std::fs::metadata(home.file(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} is as private as the vault");
    }
    for (needle, what) in
        [(text.as_bytes(), "base32 secret"), (text.to_lowercase().as_bytes(), "lower-case secret"), (raw, "raw secret")]
    {
        assert_not_in_files(&home, needle, what);
    }

    let mut stdin = holder.stdin.take().unwrap();
    stdin.write_all(format!("{text}\n").as_bytes()).unwrap();
    drop(stdin);
    let output = wait_with_deadline(holder, Duration::from_secs(10));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    assert_eq!(home.accounts().len(), 3);
    assert_eq!(home.files(), ["vault.db", "vault.key"], "the log was folded back on close");
    assert_not_in_files(&home, text.as_bytes(), "base32 secret");
    assert_not_in_files(&home, raw, "raw secret");
}

#[test]
fn garbage_vault_db_is_reported_as_not_an_authenticator_vault_and_left_untouched() {
    let home = Home::new("garbage");
    std::fs::create_dir_all(home.path()).unwrap();
    let garbage = "Shopping list\n- milk\n- eggs\n".repeat(200);
    std::fs::write(home.file("vault.db"), &garbage).unwrap();
    std::fs::write(home.file("vault.key"), [7u8; 32]).unwrap();

    for args in [&["list"][..], &["add", &totp_uri("ACME", "alice")], &["codes", "--once"], &["code", "alice"]] {
        let stderr = home.run(args).refused_in_one_line().to_owned();
        assert!(stderr.contains("not an authenticator vault"), "{args:?}: {stderr:?}");
    }
    assert_eq!(std::fs::read_to_string(home.file("vault.db")).unwrap(), garbage);
    assert_eq!(home.files(), ["vault.db", "vault.key"], "no journal or log was left beside it");
}

#[test]
fn vault_with_another_key_file_is_refused_as_wrong_key() {
    let home = Home::new("swapped-key");
    home.add(&totp_uri("ACME", "alice"));
    let db = std::fs::read(home.file("vault.db")).unwrap();
    std::fs::remove_file(home.file("vault.key")).unwrap();
    std::fs::write(home.file("vault.key"), [7u8; 32]).unwrap();
    let stderr = home.run(&["list"]).refused_in_one_line().to_owned();
    assert!(stderr.contains("wrong key"), "{stderr:?}");
    assert!(std::fs::read(home.file("vault.db")).unwrap() == db, "the vault is unchanged");
}

#[test]
fn damaged_key_file_is_reported() {
    let home = Home::new("short-key");
    home.ok(&["list"]);
    std::fs::write(home.file("vault.key"), b"tooshort").unwrap();
    let stderr = home.run(&["list"]).refused_in_one_line().to_owned();
    assert!(stderr.contains("vault.key is damaged"), "{stderr:?}");
}

#[test]
fn vault_without_its_key_is_refused_rather_than_replaced() {
    let home = Home::new("lost-key");
    home.add(&totp_uri("ACME", "alice"));
    let db = std::fs::read(home.file("vault.db")).unwrap();
    std::fs::remove_file(home.file("vault.key")).unwrap();
    let stderr = home.run(&["list"]).refused_in_one_line().to_owned();
    assert!(stderr.contains("neither its key file"), "{stderr:?}");
    assert_eq!(home.files(), ["vault.db"], "no new key was made");
    assert!(std::fs::read(home.file("vault.db")).unwrap() == db);
}

/// Reads a few bytes of `args`' output, closes the pipe, and checks the binary stops quietly.
#[track_caller]
fn assert_stops_quietly_when_stdout_closes(home: &Home, args: &[&str]) {
    let mut child = home.cli(args).spawn();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = wait_with_deadline(child, Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_no_panic(&stderr);
    assert!(output.status.success(), "{args:?}: {:?}\n{stderr}", output.status);
    assert_eq!(stderr, "", "{args:?} says nothing when its reader leaves");
}

#[test]
fn closed_stdout_does_not_panic() {
    let home = Home::new("broken-pipe");
    // A label longer than a pipe's buffer, so the reader is gone before the output is written.
    let label = "x".repeat(100_000);
    home.cli(["add", "--issuer", "Big", "--label", &label, "--secret-stdin"]).stdin(RFC_SHA1_KEY).run().ok();
    for args in [&["list", "--json"][..], &["list"], &["export", "--uris", "--yes"]] {
        assert_stops_quietly_when_stdout_closes(&home, args);
    }
}
