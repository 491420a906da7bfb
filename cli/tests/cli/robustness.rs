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

// Creating the vault: atomic, private from the first byte, never over an existing file.

fn mode_of(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every file of the data dir with its bytes.
fn snapshot(home: &Home) -> Vec<(String, Vec<u8>)> {
    home.files().into_iter().map(|name| (name.clone(), std::fs::read(home.file(&name)).unwrap())).collect()
}

#[test]
fn empty_or_foreign_vault_db_is_refused_and_never_reinitialised() {
    let home = Home::new("never-reinit");
    home.ok(&["list"]);
    let no_tables = {
        let path = home.path().join("scratch.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x); DROP TABLE t;").unwrap();
        drop(conn);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        bytes
    };
    let foreign = {
        let path = home.path().join("scratch.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('buy milk');").unwrap();
        drop(conn);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        bytes
    };
    let garbage: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for (contents, what) in [
        (Vec::new(), "the file is empty"),
        (no_tables, "without the vault's tables"),
        (garbage, "not an SQLite database"),
        (foreign, "another program"),
    ] {
        std::fs::write(home.file("vault.db"), &contents).unwrap();
        let before = snapshot(&home);
        for args in [&["list"][..], &["add", &totp_uri("ACME", "alice")], &["codes", "--once"]] {
            let stderr = home.run(args).refused_in_one_line().to_owned();
            assert!(stderr.contains("not an authenticator vault") && stderr.contains(what), "{what}: {stderr:?}");
            assert!(stderr.contains(&home.file("vault.db").display().to_string()), "names the file: {stderr:?}");
        }
        assert_eq!(snapshot(&home), before, "{what}: every file keeps every byte, nothing is added");
    }
}

#[test]
fn empty_key_file_is_a_clear_error_that_says_where_and_what_to_do() {
    let home = Home::new("empty-key");
    std::fs::create_dir_all(home.path()).unwrap();
    std::fs::write(home.file("vault.key"), b"").unwrap();
    let stderr = home.run(&["list"]).refused_in_one_line().to_owned();
    let key_path = home.file("vault.key").display().to_string();
    assert!(stderr.contains(&key_path) && stderr.contains("0 bytes"), "{stderr:?}");
    assert!(stderr.contains("authenticator init"), "says what to do: {stderr:?}");
    assert_eq!(home.files(), ["vault.key"], "nothing else is made");
    std::fs::remove_file(home.file("vault.key")).unwrap();
    home.ok(&["init"]);
    home.add(&totp_uri("ACME", "alice"));
    assert_eq!(home.accounts().len(), 1);

    // With a vault beside it, a short key file is lost data: the message says so instead.
    std::fs::write(home.file("vault.key"), b"short").unwrap();
    let stderr = home.run(&["list"]).refused_in_one_line().to_owned();
    assert!(stderr.contains(&key_path) && stderr.contains("5 bytes") && stderr.contains("restore"), "{stderr:?}");
}

/// A first run killed while writing (here by a file-size limit, as a full disk would stop it)
/// leaves no half-made file under a vault name; the next run creates the vault normally and
/// cleans up what the interrupted one left once it is stale.
#[test]
fn a_first_run_killed_mid_creation_leaves_nothing_that_breaks_the_next() {
    let home = Home::new("killed-creation");
    // 2 KiB: the 32-byte key fits, the database's first 4 KiB page does not.
    let run = home.cli_via(&["prlimit", "--fsize=2048", "--"], &["list"]).run();
    assert!(!run.status.success(), "the limited run must fail: {run:?}");
    for name in ["vault.db", "vault.key"] {
        if let Ok(meta) = std::fs::metadata(home.file(name)) {
            assert!(meta.len() > 0, "{name} is never left empty");
            assert_eq!(mode_of(&home.file(name)), 0o600, "{name}");
        }
    }
    if home.file("vault.key").exists() {
        assert_eq!(std::fs::read(home.file("vault.key")).unwrap().len(), 32, "the key file is whole or absent");
    }
    assert!(!home.file("vault.db").exists(), "the database never got its name: {:?}", home.files());
    let leftovers: Vec<String> =
        home.files().into_iter().filter(|n| n.ends_with(".tmp") || n.ends_with("-journal")).collect();
    // Age the leftovers: the next creation removes temporary files older than a minute.
    for name in &leftovers {
        let file = std::fs::File::options().write(true).open(home.file(name)).unwrap();
        file.set_modified(std::time::SystemTime::now() - Duration::from_secs(3600)).unwrap();
    }
    home.ok(&["list"]);
    home.add(&totp_uri("ACME", "alice"));
    assert_eq!(home.accounts().len(), 1);
    assert_eq!(home.files(), ["vault.db", "vault.key"], "the interrupted run's temporary files are gone");
    assert_eq!((mode_of(&home.file("vault.db")), mode_of(&home.file("vault.key"))), (0o600, 0o600));
}

/// With a umask that would make files world-readable, every file is still 0600 and the
/// folder 0700: modes are set when the files are made, never fixed afterwards.
#[test]
fn files_are_private_even_with_a_permissive_umask() {
    let home = Home::new("umask");
    home.cli_via(&["sh", "-c", "umask 000; exec \"$0\" \"$@\""], &["add", &totp_uri("ACME", "alice")]).run().ok();
    assert_eq!(home.files(), ["vault.db", "vault.key"]);
    assert_eq!(mode_of(home.path()), 0o700);
    for name in home.files() {
        assert_eq!(mode_of(&home.file(&name)), 0o600, "{name}");
    }
}

// Permissions and folders.

/// Sets the data dir and each file in it to `dir_mode` / `file_mode`.
fn set_modes(home: &Home, dir_mode: u32, file_mode: u32) {
    for name in home.files() {
        std::fs::set_permissions(home.file(&name), std::fs::Permissions::from_mode(file_mode)).unwrap();
    }
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(dir_mode)).unwrap();
}

/// The binary with `args`, as the user permissions bind (see `hand_to_unprivileged_user`).
fn run_as(home: &Home, user: Option<(u32, u32)>, args: &[&str]) -> Run {
    let cli = home.cli(args);
    match user {
        Some(user) => cli.run_as_user(user).run(),
        None => cli.run(),
    }
}

#[test]
fn a_read_only_vault_folder_still_lists_shows_codes_and_exports() {
    let home = Home::new("read-only");
    home.add(&totp_uri("ACME", "alice"));
    home.add(&hotp_uri("Bank", "bob", 3));
    let user = home.hand_to_unprivileged_user();
    set_modes(&home, 0o500, 0o400);
    let before = snapshot(&home);

    // Proof that the permissions bind whoever runs the binary: a write is refused.
    let add = run_as(&home, user, &["add", &totp_uri("New", "carol")]);
    add.refused();
    assert!(add.stderr.contains("read"), "the refusal says why: {:?}", add.stderr);

    let listed = run_as(&home, user, &["list"]);
    assert!(listed.ok().contains("ACME") && listed.stdout.contains("Bank"), "{listed:?}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(run_as(&home, user, &["list", "--json"]).ok()).unwrap()[1]["counter"],
        3
    );
    assert!(run_as(&home, user, &["codes", "--once"]).ok().contains("ACME"));
    assert_eq!(run_as(&home, user, &["code", "alice", "--next"]).ok().trim().len(), 6);
    assert_eq!(run_as(&home, user, &["offset"]).ok().trim(), "0");
    assert_eq!(run_as(&home, user, &["export", "--uris", "--yes"]).ok().lines().count(), 2);
    assert_eq!(snapshot(&home), before, "nothing was written or created");
    set_modes(&home, 0o700, 0o600);
}

#[test]
fn unreadable_key_or_vault_file_errors_name_the_file() {
    let home = Home::new("unreadable");
    home.add(&totp_uri("ACME", "alice"));
    let user = home.hand_to_unprivileged_user();
    for name in ["vault.key", "vault.db"] {
        std::fs::set_permissions(home.file(name), std::fs::Permissions::from_mode(0o000)).unwrap();
        for args in [&["list"][..], &["add", &totp_uri("New", "carol")]] {
            let stderr = run_as(&home, user, args).refused_in_one_line().to_owned();
            let path = home.file(name).display().to_string();
            assert!(stderr.contains(&path) && stderr.contains("ermission denied"), "{name} {args:?}: {stderr:?}");
        }
        std::fs::set_permissions(home.file(name), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    assert_eq!(run_as(&home, user, &["list", "--json"]).ok().matches("ACME").count(), 1);
}

#[test]
fn a_data_dir_holding_other_files_is_neither_taken_over_nor_chmodded() {
    let home = Home::new("foreign-dir");
    std::fs::create_dir_all(home.path()).unwrap();
    std::fs::write(home.file("notes.txt"), "my notes").unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for args in [&["list"][..], &["add", &totp_uri("ACME", "alice")], &["codes", "--once"]] {
        let stderr = home.run(args).refused_in_one_line().to_owned();
        assert!(stderr.contains("not empty") && stderr.contains("authenticator init"), "{args:?}: {stderr:?}");
    }
    assert_eq!(home.files(), ["notes.txt"]);
    assert_eq!(mode_of(home.path()), 0o755, "the folder's mode is the user's");

    // `init` is the explicit way: the vault's files are private, the folder keeps its mode.
    home.ok(&["init"]);
    assert_eq!(home.files(), ["notes.txt", "vault.db", "vault.key"]);
    assert_eq!((mode_of(home.path()), mode_of(&home.file("vault.db"))), (0o755, 0o600));
    home.add(&totp_uri("ACME", "alice"));
    assert_eq!(home.accounts().len(), 1);
    assert_eq!(std::fs::read_to_string(home.file("notes.txt")).unwrap(), "my notes");
}

#[test]
fn an_empty_data_dir_or_one_with_only_leftovers_of_an_interrupted_creation_is_used() {
    let home = Home::new("leftovers-only");
    std::fs::create_dir_all(home.path()).unwrap();
    std::fs::write(home.file(".vault.key.0123456789abcdef.tmp"), b"").unwrap();
    home.ok(&["list"]);
    assert!(home.files().contains(&"vault.db".to_owned()), "{:?}", home.files());
    assert_eq!(mode_of(home.path()), 0o700);
}

/// Breaks the sealed record of account `id` in place, as a bad sector or a tamperer would.
fn damage_account(home: &Home, id: i64) {
    let conn = rusqlite::Connection::open(home.file("vault.db")).unwrap();
    conn.execute("UPDATE accounts SET record_enc = x'00112233445566778899aabbccddeeff00112233' WHERE id = ?1", [id])
        .unwrap();
}

#[test]
fn a_damaged_account_is_listed_as_damaged_and_everything_else_keeps_working() {
    let home = Home::new("damaged-row");
    let good = home.add(&totp_uri("Bank", "alice"));
    let bad = home.add(&totp_uri("Forum", "bob"));
    let other = home.add(&totp_uri("Mail", "carol"));
    damage_account(&home, bad);

    let listed = home.ok(&["list"]);
    assert!(listed.contains("Bank") && listed.contains("Mail"), "{listed}");
    assert!(listed.lines().any(|l| l.contains(&bad.to_string()) && l.contains("DAMAGED")), "{listed}");
    let json: serde_json::Value = serde_json::from_str(&home.ok(&["list", "--json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3);
    assert!(json.as_array().unwrap().iter().any(|a| a["id"] == bad && a["damaged"].is_string()));

    let codes = home.run(&["codes", "--once"]);
    assert_eq!(codes.ok().lines().count(), 2, "{codes:?}");
    assert!(codes.stderr.contains(&format!("account {bad}")) && codes.stderr.contains("damaged"), "{codes:?}");
    assert_eq!(home.ok(&["code", &good.to_string()]).trim().len(), 6);

    let uris = home.run(&["export", "--uris", "--yes"]);
    assert_eq!(uris.ok().lines().count(), 2);
    assert!(uris.stderr.contains(&format!("not exported: account {bad}")), "{uris:?}");
    let backup = home.path().with_file_name("backup.json");
    let exported = home
        .cli(["export", "--backup", backup.to_str().unwrap()])
        .env("AUTHENTICATOR_BACKUP_PASSWORD", "correct horse battery")
        .run();
    exported.ok();
    assert!(exported.stderr.contains(&format!("not in the backup: account {bad}")), "{exported:?}");
    assert!(exported.stderr.contains("2 accounts restore"), "{exported:?}");

    home.ok(&["remove", &bad.to_string(), "--yes"]);
    assert!(!home.ok(&["list"]).contains("DAMAGED"));
    assert_eq!(home.accounts().iter().map(|a| a["id"].as_i64().unwrap()).collect::<Vec<_>>(), [good, other]);
}
