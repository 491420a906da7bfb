//! The vault file under stress: processes killed mid-write, several writers at once, wrong keys,
//! foreign and damaged files, and what reaches the disk.
//!
//! Everything here runs against real SQLite files in a fresh directory under the system's temp
//! directory. Tests that need another process re-run this very test binary with
//! `--ignored --exact` on one of the `child_entry` functions and an environment variable naming
//! the vault. Those functions are `#[ignore]`d, so a normal run lists them as ignored rather than
//! counting them as passed tests; run on their own without their variable, they do nothing.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use testkit::process::{ChildGuard, self_command, temp_dir, wait_for};

use domain::{AccountData, Algorithm, OtpKind, OtpParams, Secret};
use rusqlite::Connection;
use storage::vault::schema;
use storage::{DataKey, Error, Vault};

/// The data key of every vault here.
const SUITE: &str = "vault-durability";

const KEY: [u8; 32] = *b"vault-durability-test-data-key!!";
/// Another key, for the wrong-key test.
const OTHER_KEY: [u8; 32] = *b"some-other-key-of-thirty-2-bytes";

/// The crash test's writer adds accounts in batches of this size, one group per batch.
const BATCH: usize = 10;
/// At this many groups the crash test's writer removes one before adding the next.
const MAX_GROUPS: usize = 6;
const CRASH_ITERATIONS: u32 = 20;

/// Names the vault the crash-test child writes to; unset in a normal run.
const CRASH_CHILD_DB: &str = "VAULT_CRASH_CHILD_DB";
const CRASH_CHILD_ENTRY: &str = "child_entry::write_until_killed";
/// Names the vault the concurrent-writer child adds to; unset in a normal run.
const ADDER_CHILD_DB: &str = "VAULT_ADDER_CHILD_DB";
/// Prefix of the labels the concurrent-writer child adds.
const ADDER_CHILD_TAG: &str = "VAULT_ADDER_CHILD_TAG";
const ADDER_CHILD_ENTRY: &str = "child_entry::add_accounts_one_by_one";
const ACCOUNTS_PER_ADDER: usize = 50;

// ---------------------------------------------------------------------------------------------
// Crash safety
// ---------------------------------------------------------------------------------------------

/// A writer process is killed with SIGKILL at a random moment, twenty times over, while it adds
/// batches of accounts in single transactions, takes HOTP codes, renames, reorders and removes
/// whole batches. After every kill the vault opens, passes SQLite's integrity check, holds only
/// whole batches, decrypts every secret, and still has every write the writer saw committed.
#[test]
fn survives_sigkill_in_the_middle_of_writes() {
    let dir = temp_dir(SUITE, "sigkill");
    let db = dir.path().join("vault.db");
    drop(Vault::open(&db, &key()).expect("create the vault"));
    let log_path = crash_log_path(&db);
    File::create(&log_path).unwrap();

    let started = Instant::now();
    let mut kills_after_progress = 0;
    let mut iterations_where_vault_grew = 0;
    let mut largest_vault = 0;
    let mut previous_count = 0;
    for iteration in 0..CRASH_ITERATIONS {
        let lines_before = read_lines(&log_path).len();
        let stderr_path = dir.path().join(format!("child-{iteration}.stderr"));
        let mut child = ChildGuard(
            self_command(CRASH_CHILD_ENTRY)
                .env(CRASH_CHILD_DB, &db)
                .stdout(Stdio::null())
                .stderr(File::create(&stderr_path).unwrap())
                .spawn()
                .expect("spawn the writer"),
        );
        wait_for(Duration::from_secs(20), "the writer to open the vault", || {
            if let Some(status) = child.0.try_wait().unwrap() {
                panic!("the writer exited on its own ({status}):\n{}", read_text(&stderr_path));
            }
            read_lines(&log_path)[lines_before..].iter().any(|l| l == "opened")
        });
        thread::sleep(kill_delay(iteration));
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("the writer exited on its own ({status}):\n{}", read_text(&stderr_path));
        }
        child.0.kill().expect("SIGKILL the writer");
        let status = child.0.wait().unwrap();
        assert!(was_killed(status), "the writer ended with {status}, not by the kill");

        let lines = read_lines(&log_path);
        let after_open = lines[lines_before..].iter().skip_while(|l| *l != "opened").skip(1).count();
        if after_open > 0 {
            kills_after_progress += 1;
        }
        let count = check_crash_invariants(&db, &lines);
        if count > previous_count {
            iterations_where_vault_grew += 1;
        }
        largest_vault = largest_vault.max(count);
        previous_count = count;
    }

    eprintln!(
        "{CRASH_ITERATIONS} kills in {:?}: {kills_after_progress} after the writer committed something, \
         the vault grew in {iterations_where_vault_grew} rounds, largest {largest_vault} accounts",
        started.elapsed()
    );
    // Without these the test could pass by killing writers that never got to write.
    assert!(largest_vault >= BATCH, "no batch was ever committed");
    assert!(iterations_where_vault_grew >= 1, "the vault never grew between two kills");
    assert!(
        kills_after_progress * 2 >= CRASH_ITERATIONS,
        "only {kills_after_progress} of {CRASH_ITERATIONS} writers had committed anything when killed"
    );
}

/// Checks the vault after a kill and returns how many accounts it holds.
fn check_crash_invariants(db: &Path, log: &[String]) -> usize {
    let vault = Vault::open(db, &key()).expect("the vault opens after a kill");
    assert_eq!(integrity_check(db), ["ok"], "SQLite integrity check after a kill");

    let accounts = vault.accounts().expect("accounts after a kill");
    let codes = vault.codes(now()).expect("every secret decrypts after a kill");
    assert_eq!(codes.len(), accounts.len());

    let orders: HashSet<i64> = accounts.iter().map(|a| a.sort_order).collect();
    assert_eq!(orders.len(), accounts.len(), "sort orders are unique");

    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for account in &accounts {
        let group = account.group.clone().unwrap_or_else(|| panic!("account {} lost its group", account.id));
        *groups.entry(group).or_default() += 1;
    }
    let history = CrashLog::parse(log);
    assert!(history.removing.len() <= 1, "one removal at a time: {:?}", history.removing);
    for (group, &size) in &groups {
        if history.removing.contains(group) {
            // The batch the writer was removing, one account per transaction, when it was killed.
            assert!(size <= BATCH, "group {group} has {size} accounts");
        } else {
            assert_eq!(size, BATCH, "group {group} is a whole batch (total {} accounts)", accounts.len());
        }
    }
    for group in history.added.iter().filter(|g| !history.removing.contains(*g) && !history.removed.contains(*g)) {
        assert_eq!(groups.get(group), Some(&BATCH), "committed batch {group} survived the kill");
    }
    for &(id, counter_before) in &history.taken {
        if let Some(account) = accounts.iter().find(|a| a.id == id) {
            assert!(
                account.params.counter() > counter_before,
                "a taken HOTP code (account {id}, counter {counter_before}) is never handed out again"
            );
        }
    }
    accounts.len()
}

/// What the crash-test writer reported, one line per committed step.
#[derive(Default)]
struct CrashLog {
    added: HashSet<String>,
    /// Groups whose removal started and did not finish.
    removing: HashSet<String>,
    removed: HashSet<String>,
    /// HOTP codes taken: account id and its counter before.
    taken: Vec<(i64, u64)>,
}

impl CrashLog {
    fn parse(lines: &[String]) -> Self {
        let mut log = Self::default();
        for line in lines {
            match line.split_once(' ') {
                Some(("added", group)) => {
                    log.added.insert(group.to_owned());
                }
                Some(("removing", group)) => {
                    log.removing.insert(group.to_owned());
                }
                Some(("removed", group)) => {
                    log.removing.remove(group);
                    log.removed.insert(group.to_owned());
                }
                Some(("took", rest)) => {
                    if let Some((id, counter)) = rest.split_once(' ')
                        && let (Ok(id), Ok(counter)) = (id.parse(), counter.parse())
                    {
                        log.taken.push((id, counter));
                    }
                }
                _ => {}
            }
        }
        log
    }
}

fn crash_log_path(db: &Path) -> PathBuf {
    db.with_extension("log")
}

/// 20 to 150 ms, varying with the iteration and the clock.
fn kill_delay(iteration: u32) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    let mut x = u64::from(nanos) ^ u64::from(iteration).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    Duration::from_millis(20 + x % 131)
}

#[cfg(unix)]
fn was_killed(status: ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(9)
}

#[cfg(not(unix))]
fn was_killed(status: ExitStatus) -> bool {
    !status.success()
}

// ---------------------------------------------------------------------------------------------
// Several writers
// ---------------------------------------------------------------------------------------------

/// Two handles on one file, in two threads, add accounts one transaction at a time and read in
/// between; the busy timeout makes them take turns instead of failing with "database is locked".
#[test]
fn two_handles_in_two_threads_write_without_lock_errors() {
    let dir = temp_dir(SUITE, "threads");
    let db = dir.path().join("vault.db");
    drop(Vault::open(&db, &key()).expect("create the vault"));

    let start = Arc::new(Barrier::new(2));
    let writers: Vec<_> = ["thread-a", "thread-b"]
        .into_iter()
        .map(|tag| {
            let (db, start) = (db.clone(), Arc::clone(&start));
            thread::spawn(move || {
                let vault = Vault::open(&db, &key()).expect("open a second handle");
                start.wait();
                for i in 0..100 {
                    let added = vault.add(&totp(&format!("{tag}-{i}"), None)).expect("add");
                    assert!(vault.accounts().expect("read").iter().any(|a| a.id == added.id));
                    vault.codes(now()).expect("codes");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("a writer failed");
    }

    let accounts = Vault::open(&db, &key()).unwrap().accounts().unwrap();
    assert_eq!(accounts.len(), 200);
    for tag in ["thread-a", "thread-b"] {
        assert_eq!(accounts.iter().filter(|a| a.label.starts_with(tag)).count(), 100);
    }
}

/// Two processes add accounts to one vault at the same time; both succeed and no write is lost.
#[test]
fn two_processes_write_the_same_vault() {
    let dir = temp_dir(SUITE, "processes");
    let db = dir.path().join("vault.db");
    drop(Vault::open(&db, &key()).expect("create the vault"));

    let children: Vec<_> = ["process-a", "process-b"]
        .into_iter()
        .map(|tag| {
            let child = self_command(ADDER_CHILD_ENTRY)
                .env(ADDER_CHILD_DB, &db)
                .env(ADDER_CHILD_TAG, tag)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn a writer");
            (tag, child)
        })
        .collect();
    // Both open the vault, then wait for this file, so their writes overlap.
    for tag in ["process-a", "process-b"] {
        wait_for(Duration::from_secs(20), "both writers to open the vault", || ready_file(&db, tag).exists());
    }
    File::create(go_file(&db)).unwrap();
    for (tag, child) in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("test result: ok. 1 passed"),
            "{tag} failed or did not run ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let accounts = Vault::open(&db, &key()).unwrap().accounts().unwrap();
    assert_eq!(accounts.len(), 2 * ACCOUNTS_PER_ADDER);
    for tag in ["process-a", "process-b"] {
        assert_eq!(accounts.iter().filter(|a| a.label.starts_with(tag)).count(), ACCOUNTS_PER_ADDER);
    }
}

fn go_file(db: &Path) -> PathBuf {
    db.with_extension("go")
}

fn ready_file(db: &Path, tag: &str) -> PathBuf {
    db.with_extension(format!("ready-{tag}"))
}

// ---------------------------------------------------------------------------------------------
// What reaches the disk
// ---------------------------------------------------------------------------------------------

const SECRET: &[u8] = b"TOPSECRET-ABCDEFGHIJ-0123456789";
const VISIBLE_LABEL: &str = "label-that-is-stored-in-clear";

/// Secrets are sealed before SQLite sees them: neither their bytes nor their base32 text appear
/// in the database, its WAL or its shared-memory file, while the vault is open or after.
#[test]
fn no_secret_reaches_the_file_in_plaintext() {
    let dir = temp_dir(SUITE, "plaintext");
    let db = dir.path().join("vault.db");
    let secrets: Vec<Vec<u8>> = std::iter::once(SECRET.to_vec())
        .chain((0..5).map(|i| format!("TOPSECRET-ABCDEFGHIJ-{i:010}").into_bytes()))
        .collect();
    let mut needles: Vec<Vec<u8>> = vec![b"TOPSECRET".to_vec()];
    for secret in &secrets {
        let base32 = Secret::from_bytes(secret.clone()).unwrap().to_base32().to_string();
        needles.push(secret.clone());
        needles.push(base32.as_bytes()[..16].to_vec()); // the first 10 bytes, alone
        needles.push(base32.to_lowercase().into_bytes());
        needles.push(base32.into_bytes());
    }

    let vault = Vault::open(&db, &key()).unwrap();
    for (i, secret) in secrets.iter().enumerate() {
        let data = AccountData {
            issuer: "Plaintext Check".into(),
            label: format!("{VISIBLE_LABEL}-{i}").into(),
            params: if i % 2 == 0 { totp_params() } else { hotp_params() },
            secret: Secret::from_bytes(secret.clone()).unwrap(),
            group: Some("secrets".into()),
        };
        let account = vault.add(&data).unwrap();
        vault.take_code(account.id, now()).unwrap();
    }
    vault.add_all(&[totp("in-a-batch", None), account_with_secret(SECRET)]).unwrap();
    vault.codes(now()).unwrap();

    let while_open = vault_files(&db);
    assert!(while_open.iter().any(|(path, _)| path.ends_with("vault.db-wal")), "the vault is in WAL mode");
    // The scan reads the bytes SQLite wrote: the code parameters, stored in clear, are there;
    // the names are sealed with the secrets.
    assert!(contains_any(&while_open, b"SHA256").is_some(), "parameters are found while open");
    needles.extend([VISIBLE_LABEL.as_bytes().to_vec(), b"Plaintext Check".to_vec(), b"secrets".to_vec()]);
    assert_no_needle(&while_open, &needles, "while the vault is open");

    drop(vault);
    let after_close = vault_files(&db);
    assert!(contains_any(&after_close, b"SHA256").is_some(), "parameters are found after close");
    assert_no_needle(&after_close, &needles, "after the vault is closed");
}

/// Every file of the vault (`vault.db`, `-wal`, `-shm`, ...) with its bytes.
fn vault_files(db: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let name = db.file_name().unwrap().to_str().unwrap();
    let mut files: Vec<_> = fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(name))
        .map(|p| {
            let bytes = fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

fn contains_any<'a>(files: &'a [(PathBuf, Vec<u8>)], needle: &[u8]) -> Option<&'a Path> {
    files.iter().find(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle)).map(|(p, _)| p.as_path())
}

fn assert_no_needle(files: &[(PathBuf, Vec<u8>)], needles: &[Vec<u8>], when: &str) {
    for (i, needle) in needles.iter().enumerate() {
        if let Some(path) = contains_any(files, needle) {
            panic!("secret pattern #{i} appears in {} {when}", path.display());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Refusing to open
// ---------------------------------------------------------------------------------------------

/// A vault opened with another key is refused with `WrongKey` and not written to; the right key
/// then opens it with every account and code intact.
#[test]
fn wrong_key_fails_and_changes_nothing() {
    let dir = temp_dir(SUITE, "wrong-key");
    let db = dir.path().join("vault.db");
    let vault = Vault::open(&db, &key()).unwrap();
    vault.add_all(&[totp("one", Some("work")), totp("two", None), hotp("three")]).unwrap();
    let accounts = vault.accounts().unwrap();
    let codes = vault.codes(1_700_000_000).unwrap();
    drop(vault);
    checkpoint(&db);
    let before = fs::read(&db).unwrap();

    let result = Vault::open(&db, &DataKey::from_bytes(OTHER_KEY));
    assert!(matches!(result, Err(Error::WrongKey)), "got {result:?}");
    assert_unchanged(&db, &before);

    let vault = Vault::open(&db, &key()).expect("the right key still opens the vault");
    assert_eq!(vault.accounts().unwrap(), accounts);
    assert_eq!(vault.codes(1_700_000_000).unwrap(), codes);
}

/// A file that is not an SQLite database, a vault cut in half, and another program's SQLite
/// database are each refused with a clear error, and their bytes stay as they were.
#[test]
fn non_database_file_is_refused_and_left_untouched() {
    let dir = temp_dir(SUITE, "foreign");

    let text = dir.path().join("notes.txt");
    let line = "These are somebody's notes, not an authenticator vault.\n";
    fs::write(&text, line.repeat(4096 / line.len() + 1)).unwrap();
    let before = fs::read(&text).unwrap();
    let result = Vault::open(&text, &key());
    assert!(matches!(result, Err(Error::NotAVault { ref path, .. }) if path == &text), "text file: got {result:?}");
    assert_unchanged(&text, &before);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no -wal or -shm file was created");

    let whole = dir.path().join("whole.db");
    let vault = Vault::open(&whole, &key()).unwrap();
    vault.add_all(&(0..60).map(|i| totp(&format!("account-{i}"), Some("many"))).collect::<Vec<_>>()).unwrap();
    drop(vault);
    checkpoint(&whole);
    let whole_bytes = fs::read(&whole).unwrap();
    let truncated = dir.path().join("truncated.db");
    fs::write(&truncated, &whole_bytes[..whole_bytes.len() / 2]).unwrap();
    let before = fs::read(&truncated).unwrap();
    let result = Vault::open(&truncated, &key()).and_then(|vault| vault.codes(now()).map(|_| vault));
    assert!(
        matches!(result, Err(Error::NotAVault { .. } | Error::Corrupt(_) | Error::CorruptDatabase(_))),
        "half a vault: got {:?}",
        result.map(|_| "a vault that opens and reads")
    );
    assert_unchanged(&truncated, &before);

    let foreign = dir.path().join("foreign.db");
    let conn = Connection::open(&foreign).unwrap();
    conn.execute_batch(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
         INSERT INTO notes (body) VALUES ('buy milk'), ('call mum');",
    )
    .unwrap();
    drop(conn);
    let before = fs::read(&foreign).unwrap();
    let result = Vault::open(&foreign, &key());
    assert!(matches!(result, Err(Error::NotAVault { .. })), "another program's database: got {result:?}");
    assert_unchanged(&foreign, &before);
    let notes: i64 =
        Connection::open(&foreign).unwrap().query_row("SELECT COUNT(*) FROM notes", [], |row| row.get(0)).unwrap();
    assert_eq!(notes, 2);
}

/// A vault whose schema version is newer than this build's is refused, not downgraded.
#[test]
fn newer_schema_is_refused() {
    let dir = temp_dir(SUITE, "newer");
    let db = dir.path().join("vault.db");
    Vault::open(&db, &key()).unwrap().add(&totp("from the future", None)).unwrap();
    let conn = Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    drop(conn);
    let before = fs::read(&db).unwrap();

    let result = Vault::open(&db, &key());
    assert!(
        matches!(result, Err(Error::NewerSchema { found: 99, supported }) if supported == schema::LATEST),
        "got {result:?}"
    );
    assert_unchanged(&db, &before);
}

// ---------------------------------------------------------------------------------------------
// Child processes (ignored tests, run by a parent test that sets their environment variable)
// ---------------------------------------------------------------------------------------------

mod child_entry {
    use super::*;

    /// The crash test's writer: writes until it is killed. Every step keeps the invariant the
    /// parent checks (accounts come and go in whole groups of `BATCH`, except the one group being
    /// removed) and is logged once committed.
    #[test]
    #[ignore = "child process of survives_sigkill_in_the_middle_of_writes, which runs it"]
    fn write_until_killed() {
        let Some(db) = std::env::var_os(CRASH_CHILD_DB).map(PathBuf::from) else { return };
        let log_path = crash_log_path(&db);
        let mut log = OpenOptions::new().append(true).open(&log_path).expect("child: open the log");
        let vault = Vault::open(&db, &key()).expect("child: open the vault");
        // Finish a removal a kill interrupted, as the app would on its next start.
        let unfinished = CrashLog::parse(&read_lines(&log_path)).removing;
        for group in unfinished {
            remove_group(&vault, &group, &mut log);
        }
        log_line(&mut log, "opened");

        // Never outlive the parent by much, even if it dies before killing us.
        let deadline = Instant::now() + Duration::from_secs(30);
        let tag =
            format!("{}-{}", std::process::id(), SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos());
        for step in 0usize.. {
            if Instant::now() > deadline {
                return;
            }
            let groups = vault.groups().expect("child: groups");
            if groups.len() >= MAX_GROUPS {
                remove_group(&vault, &groups[step % groups.len()], &mut log);
            }

            let group = format!("batch-{tag}-{step}");
            let batch: Vec<AccountData> = (0..BATCH)
                .map(|i| if i % 3 == 0 { hotp(&format!("{group}-{i}")) } else { totp(&format!("{group}-{i}"), None) })
                .map(|data| AccountData { group: Some(group.clone().into()), ..data })
                .collect();
            vault.add_all(&batch).expect("child: add_all");
            log_line(&mut log, &format!("added {group}"));

            let accounts = vault.accounts().expect("child: accounts");
            let hotps: Vec<_> = accounts.iter().filter(|a| a.params.kind() == OtpKind::Hotp).collect();
            let taken = hotps[step % hotps.len()];
            vault.take_code(taken.id, now()).expect("child: take_code");
            log_line(&mut log, &format!("took {} {}", taken.id, taken.params.counter()));

            let renamed = &accounts[step * 7 % accounts.len()];
            vault
                .rename(renamed.id, &format!("issuer {step}").into(), &format!("renamed-{tag}-{step}").into())
                .expect("child: rename");
            log_line(&mut log, "renamed");

            let to_front: Vec<i64> = accounts.iter().rev().take(15).map(|a| a.id).collect();
            vault.reorder(&to_front).expect("child: reorder");
            log_line(&mut log, "reordered");
        }
    }

    /// Removes a group's accounts one transaction at a time, logging the start and the end.
    fn remove_group(vault: &Vault, group: &str, log: &mut File) {
        log_line(log, &format!("removing {group}"));
        for account in vault.accounts().expect("child: accounts") {
            if account.group.as_deref() == Some(group) {
                vault.remove(account.id).expect("child: remove");
            }
        }
        log_line(log, &format!("removed {group}"));
    }

    /// One `write` per line, so a kill never leaves half a line behind.
    fn log_line(log: &mut File, line: &str) {
        log.write_all(format!("{line}\n").as_bytes()).expect("child: write the log");
    }

    /// The concurrent-writer test's child: waits for the go signal, then adds accounts one by
    /// one, reading the list between writes.
    #[test]
    #[ignore = "child process of two_processes_write_the_same_vault, which runs it"]
    fn add_accounts_one_by_one() {
        let Some(db) = std::env::var_os(ADDER_CHILD_DB).map(PathBuf::from) else { return };
        let tag = std::env::var(ADDER_CHILD_TAG).expect("child: tag");
        let vault = Vault::open(&db, &key()).expect("child: open the vault");
        File::create(ready_file(&db, &tag)).expect("child: signal ready");
        wait_for(Duration::from_secs(20), "the go signal", || go_file(&db).exists());
        for i in 0..ACCOUNTS_PER_ADDER {
            let added = vault.add(&totp(&format!("{tag}-{i}"), None)).expect("child: add");
            assert!(vault.accounts().expect("child: accounts").iter().any(|a| a.id == added.id));
            vault.codes(now()).expect("child: codes");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn key() -> DataKey {
    DataKey::from_bytes(KEY)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn totp_params() -> OtpParams {
    OtpParams::totp(Algorithm::Sha256, 8, 30).unwrap()
}

fn hotp_params() -> OtpParams {
    OtpParams::hotp(Algorithm::Sha1, 6, 0).unwrap()
}

/// A TOTP account whose secret is derived from its label.
fn totp(label: &str, group: Option<&str>) -> AccountData {
    AccountData {
        issuer: "Durability".into(),
        label: label.into(),
        params: totp_params(),
        secret: Secret::from_bytes(format!("secret of {label}").into_bytes()).unwrap(),
        group: group.map(Into::into),
    }
}

/// An HOTP account at counter 0 whose secret is derived from its label.
fn hotp(label: &str) -> AccountData {
    AccountData { params: hotp_params(), ..totp(label, None) }
}

fn account_with_secret(secret: &[u8]) -> AccountData {
    AccountData { secret: Secret::from_bytes(secret.to_vec()).unwrap(), ..totp("with a chosen secret", None) }
}

fn read_lines(path: &Path) -> Vec<String> {
    read_text(path).lines().map(str::to_owned).collect()
}

fn read_text(path: &Path) -> String {
    String::from_utf8_lossy(&fs::read(path).unwrap_or_default()).into_owned()
}

/// Moves everything in the WAL into the main file and empties the WAL.
fn checkpoint(db: &Path) {
    let conn = Connection::open(db).unwrap();
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0)).unwrap();
    assert_eq!(busy, 0, "the checkpoint completed");
}

fn integrity_check(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn.prepare("PRAGMA integrity_check").unwrap();
    stmt.query_map([], |row| row.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
}

fn assert_unchanged(path: &Path, before: &[u8]) {
    let after = fs::read(path).unwrap();
    assert!(after == before, "{} changed ({} bytes before, {} after)", path.display(), before.len(), after.len());
}

/// Apps commonly set `user_version`; a database of theirs at version 1 is still not ours.
#[test]
fn foreign_database_with_a_user_version_is_refused() {
    let dir = temp_dir(SUITE, "foreign-versioned");
    for (name, ddl) in [
        ("versioned.db", "CREATE TABLE notes (body TEXT); PRAGMA user_version = 1;"),
        ("view-only.db", "CREATE VIEW answer AS SELECT 42;"),
    ] {
        let path = dir.path().join(name);
        Connection::open(&path).unwrap().execute_batch(ddl).unwrap();
        let before = fs::read(&path).unwrap();
        let result = Vault::open(&path, &key());
        assert!(matches!(result, Err(Error::NotAVault { .. })), "{name}: got {result:?}");
        assert_unchanged(&path, &before);
    }
}

/// An app and its push service starting together on first run both create the vault at once.
#[test]
fn concurrent_first_opens_of_a_new_vault_all_succeed() {
    let dir = temp_dir(SUITE, "first-open-race");
    for round in 0..40 {
        let db = dir.path().join(format!("vault-{round}.db"));
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (db, barrier) = (db.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    Vault::open(&db, &key()).map(|v| v.accounts().map(|a| a.len()))
                })
            })
            .collect();
        for handle in handles {
            let result = handle.join().unwrap();
            assert!(matches!(result, Ok(Ok(0))), "round {round}: {result:?}");
        }
    }
}

/// A file that exists is opened or refused, never taken for a new vault: an empty file, an
/// SQLite database without tables, random bytes and another program's database each give a
/// typed error and keep every byte.
#[test]
fn existing_files_are_never_reinitialised() {
    let dir = temp_dir(SUITE, "never-reinit");
    let empty = dir.path().join("empty.db");
    fs::write(&empty, b"").unwrap();
    let no_tables = dir.path().join("no-tables.db");
    Connection::open(&no_tables).unwrap().execute_batch("CREATE TABLE t (x); DROP TABLE t;").unwrap();
    assert!(fs::metadata(&no_tables).unwrap().len() > 0, "an SQLite file with a header and no tables");
    let garbage = dir.path().join("garbage.db");
    let mut noise = vec![0u8; 8192];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for byte in &mut noise {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    fs::write(&garbage, &noise).unwrap();
    let foreign = dir.path().join("foreign.db");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
        .unwrap();

    for (path, reason) in [
        (&empty, "empty"),
        (&no_tables, "without the vault's tables"),
        (&garbage, "not an SQLite database"),
        (&foreign, "another program"),
    ] {
        let before = fs::read(path).unwrap();
        for _ in 0..2 {
            let result = Vault::open(path, &key());
            match &result {
                Err(e @ Error::NotAVault { path: reported, .. }) => {
                    assert_eq!(reported, path);
                    assert!(e.to_string().contains(reason), "{}: {e}", path.display());
                }
                other => panic!("{}: expected NotAVault, got {other:?}", path.display()),
            }
            assert_unchanged(path, &before);
        }
    }
    let names: Vec<String> =
        fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names.len(), 4, "no journal, log or temporary file is left beside them: {names:?}");
}

/// A new vault file is private from its first byte: it is made as a 0600 temporary file and
/// moved into place complete, so no reader ever sees it 0644 or half-built.
#[cfg(unix)]
#[test]
fn a_new_vault_is_private_and_complete_from_creation() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir(SUITE, "private-from-creation");
    let db = dir.path().join("vault.db");
    let vault = Vault::open(&db, &key()).unwrap();
    assert_eq!(
        fs::metadata(&db).unwrap().permissions().mode() & 0o777,
        0o600,
        "vault.db mode, never changed after creation"
    );
    vault.add(&totp("mode", None)).unwrap();
    for name in ["vault.db-wal", "vault.db-shm"] {
        let path = dir.path().join(name);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "{name} mode");
    }
    drop(vault);
    let names: Vec<String> =
        fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names, ["vault.db"], "no temporary file is left behind");
}
