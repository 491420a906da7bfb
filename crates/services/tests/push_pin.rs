//! The push PIN under attack: many guessers at once, in several processes with many threads
//! each, against one vault file.
//!
//! Tests that need other processes re-run this very test binary with `--ignored --exact` on one
//! of the `child_entry` functions and an environment variable naming the vault (the pattern of
//! `vault_durability.rs`). Those functions are `#[ignore]`d; run on their own without their
//! variable, they do nothing.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};
use testkit::process::{ChildGuard, self_command, temp_dir, wait_for};

use domain::NewPushToken;
use rusqlite::Connection;
use services::Error;
use services::push::{PIN_ATTEMPTS, pin};
use storage::{DataKey, Vault};

/// The data key of every vault here.
const SUITE: &str = "push-pin";

const KEY: [u8; 32] = *b"push-pin-test-data-key-32-bytes!";
/// The right PIN of the token.
const PIN: &str = "2468";
/// What the PIN seals (any bytes do: unlocking returns them without parsing).
const SEALED_KEY: &[u8] = b"stand-in for the device key's PKCS#8";

/// Guessing processes, and threads in each (each thread with its own vault handle).
const PROCESSES: usize = 3;
const THREADS: usize = 16;
/// Wrong guesses each thread makes.
const GUESSES_PER_THREAD: usize = 3;
/// The first lockout, in seconds: the whole attack must happen within it for the count of
/// allowed checks to be exactly `PIN_ATTEMPTS`.
const FIRST_LOCKOUT: u64 = 30;

/// Names the vault a guessing child attacks; unset in a normal run.
const GUESSER_DB: &str = "PUSH_PIN_GUESSER_DB";
/// Names the child, for its ready and tally files.
const GUESSER_TAG: &str = "PUSH_PIN_GUESSER_TAG";
const GUESSER_ENTRY: &str = "child_entry::guess_wrong_pins";
/// Names the vault whose token a child unlocks once; unset in a normal run.
const UNLOCK_DB: &str = "PUSH_PIN_UNLOCK_DB";
/// Set (to anything) when the child should only open the vault, not unlock: the baseline.
const UNLOCK_BASELINE: &str = "PUSH_PIN_UNLOCK_BASELINE";
const UNLOCK_ENTRY: &str = "child_entry::unlock_once";
/// Where the unlocking child writes its peak resident memory (KiB).
const UNLOCK_REPORT: &str = "PUSH_PIN_UNLOCK_REPORT";
/// The memory every PIN guess must cost, at least: 64 MiB.
const MIN_PIN_MEMORY: u64 = 64 * 1024 * 1024;

/// 3 processes × 16 threads guess wrong PINs at the same moment, 144 guesses in all. Attempts
/// are counted in one immediate write transaction *before* each check, so however the guesses
/// interleave, exactly `PIN_ATTEMPTS` of them get a full PIN check (a key derivation), the first
/// `PIN_ATTEMPTS - 1` of those answer `WrongPin` and every other guess is locked out unchecked.
#[test]
fn parallel_guessers_in_threads_and_processes_never_get_more_checks_than_the_policy_allows() {
    let dir = temp_dir(SUITE, "parallel-guesses");
    let (db, token_id) = pin_locked_vault(dir.path());

    let started = Instant::now();
    let children: Vec<(String, ChildGuard)> = (0..PROCESSES)
        .map(|i| {
            let tag = format!("guesser-{i}");
            let stderr = File::create(dir.path().join(format!("{tag}.stderr"))).unwrap();
            let child = self_command(GUESSER_ENTRY)
                .env(GUESSER_DB, &db)
                .env(GUESSER_TAG, &tag)
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .expect("spawn a guesser");
            (tag, ChildGuard(child))
        })
        .collect();
    wait_for(Duration::from_secs(60), "every guesser to open its handles", || {
        children.iter().all(|(tag, _)| ready_file(&db, tag).exists())
    });
    File::create(go_file(&db)).unwrap();

    let mut total = Tally::default();
    for (tag, mut child) in children {
        let status = child.0.wait().unwrap();
        let stderr = read_text(&dir.path().join(format!("{tag}.stderr")));
        assert!(status.success(), "guesser {tag} failed ({status}):\n{stderr}");
        let tally = Tally::parse(&read_text(&tally_file(&db, &tag)));
        assert_eq!(tally.wrong_pin + tally.locked_out, THREADS * GUESSES_PER_THREAD, "{tag}: every guess answered");
        total.add(&tally);
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(FIRST_LOCKOUT),
        "the attack took {elapsed:?}, longer than the first lockout, so more checks would be allowed"
    );

    let attempts = PIN_ATTEMPTS as usize;
    assert_eq!(total.checks, attempts, "full PIN checks over all processes and threads: {total:?}");
    assert_eq!(total.wrong_pin, attempts - 1, "WrongPin answers (the last counted check locks out): {total:?}");
    assert_eq!(total.locked_out, PROCESSES * THREADS * GUESSES_PER_THREAD - (attempts - 1));
    let conn = Connection::open(&db).unwrap();
    let (stored, locked_until): (i64, Option<i64>) = conn
        .query_row("SELECT failed_pin_attempts, locked_until FROM push_tokens WHERE id = ?1", [token_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(stored, attempts as i64, "the stored count is every check made");
    assert!(locked_until.is_some(), "the token is locked out");

    // Even the right PIN is refused, unchecked, while locked out.
    let vault = Vault::open(&db, &DataKey::from_bytes(KEY)).unwrap();
    let before = pin::pin_checks();
    assert!(matches!(pin::unlock(&vault, token_id, Some(PIN)), Err(Error::LockedOut { .. })));
    assert_eq!(pin::pin_checks(), before);
}

/// Trying one PIN costs a full Argon2id derivation of at least 64 MiB, also offline: a process
/// that unlocks once peaks at 64 MiB or more of resident memory, 56 MiB or more above the same
/// process that only opens the vault.
#[test]
fn one_pin_check_costs_at_least_64_mib_in_a_fresh_process() {
    let dir = temp_dir(SUITE, "pin-memory");
    let (db, _) = pin_locked_vault(dir.path());
    let baseline = peak_rss_of(
        self_command(UNLOCK_ENTRY).env(UNLOCK_DB, &db).env(UNLOCK_BASELINE, "1"),
        &db.with_extension("rss-open"),
    );
    let unlock = peak_rss_of(self_command(UNLOCK_ENTRY).env(UNLOCK_DB, &db), &db.with_extension("rss-unlock"));
    let mib = |bytes: u64| bytes as f64 / 1024.0 / 1024.0;
    eprintln!("peak RSS: open only {:.1} MiB, open and unlock {:.1} MiB", mib(baseline), mib(unlock));
    assert!(unlock >= MIN_PIN_MEMORY, "unlocking peaked at {:.1} MiB", mib(unlock));
    assert!(
        unlock.saturating_sub(baseline) >= MIN_PIN_MEMORY - 8 * 1024 * 1024,
        "the PIN check added only {:.1} MiB",
        mib(unlock.saturating_sub(baseline))
    );
}

/// Runs the `unlock_once` child to its end and returns its peak resident memory in bytes, as
/// the child read it from its own `/proc/self/status` (VmHWM) just before exiting.
///
/// Not getrusage or wait4: on Linux a child's `ru_maxrss` includes the parent's resident set at
/// the fork (Rust spawns with vfork/CLONE_VM, and exec carries the old high-water mark over),
/// and this test process holds over 100 MiB after sealing PINs itself. VmHWM belongs to the
/// address space made at exec, so it is the child's own.
fn peak_rss_of(command: &mut Command, report: &Path) -> u64 {
    let output = command.env(UNLOCK_REPORT, report).stdout(Stdio::null()).output().expect("run the child");
    assert!(output.status.success(), "the child failed:\n{}", String::from_utf8_lossy(&output.stderr));
    read_text(report).trim().parse::<u64>().expect("the child's VmHWM in KiB") * 1024
}

/// What one guesser process saw.
#[derive(Debug, Default)]
struct Tally {
    wrong_pin: usize,
    locked_out: usize,
    /// Full PIN checks (key derivations) this process made.
    checks: usize,
}

impl Tally {
    fn parse(text: &str) -> Self {
        let numbers: Vec<usize> = text.split_whitespace().map(|n| n.parse().expect("a tally number")).collect();
        let [wrong_pin, locked_out, checks] = numbers[..] else { panic!("a tally of three numbers: {text:?}") };
        Self { wrong_pin, locked_out, checks }
    }

    fn add(&mut self, other: &Tally) {
        self.wrong_pin += other.wrong_pin;
        self.locked_out += other.locked_out;
        self.checks += other.checks;
    }
}

// ---------------------------------------------------------------------------------------------
// Child processes (ignored tests, run by a parent test that sets their environment variable)
// ---------------------------------------------------------------------------------------------

mod child_entry {
    use super::*;

    /// One guessing process: `THREADS` threads, each with its own vault handle, wait for the
    /// parent's go signal and then make `GUESSES_PER_THREAD` wrong guesses as fast as they can.
    #[test]
    #[ignore = "child process of parallel_guessers_…_never_get_more_checks_than_the_policy_allows"]
    fn guess_wrong_pins() {
        let Some(db) = std::env::var_os(GUESSER_DB).map(PathBuf::from) else { return };
        let tag = std::env::var(GUESSER_TAG).expect("child: tag");
        let token_id = Vault::open(&db, &DataKey::from_bytes(KEY)).unwrap().push_tokens().unwrap()[0].id;
        let opened = Arc::new(Barrier::new(THREADS + 1));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (db, opened) = (db.clone(), opened.clone());
                thread::spawn(move || {
                    let vault = Vault::open(&db, &DataKey::from_bytes(KEY)).expect("child: open the vault");
                    opened.wait();
                    wait_for(Duration::from_secs(60), "the go signal", || go_file(&db).exists());
                    let mut tally = Tally::default();
                    for _ in 0..GUESSES_PER_THREAD {
                        match pin::unlock(&vault, token_id, Some("0000")) {
                            Err(Error::WrongPin { .. }) => tally.wrong_pin += 1,
                            Err(Error::LockedOut { .. }) => tally.locked_out += 1,
                            other => panic!("child: a wrong guess answered {other:?}"),
                        }
                    }
                    tally
                })
            })
            .collect();
        opened.wait();
        File::create(ready_file(&db, &tag)).expect("child: signal ready");
        let mut total = Tally::default();
        for thread in threads {
            total.add(&thread.join().expect("child: a guessing thread panicked"));
        }
        total.checks = pin::pin_checks() as usize;
        let text = format!("{} {} {}", total.wrong_pin, total.locked_out, total.checks);
        fs::write(tally_file(&db, &tag), text).expect("child: write the tally");
    }

    /// Opens the vault and unlocks its token once with the right PIN (or, for the baseline, only
    /// opens the vault and reads the sealed key).
    #[test]
    #[ignore = "child process of one_pin_check_costs_at_least_64_mib_in_a_fresh_process"]
    fn unlock_once() {
        let Some(db) = std::env::var_os(UNLOCK_DB).map(PathBuf::from) else { return };
        let vault = Vault::open(&db, &DataKey::from_bytes(KEY)).expect("child: open the vault");
        let id = vault.push_tokens().unwrap()[0].id;
        if std::env::var_os(UNLOCK_BASELINE).is_some() {
            vault.push_key(id).expect("child: read the sealed key");
        } else {
            assert_eq!(pin::unlock(&vault, id, Some(PIN)).expect("child: unlock").as_slice(), SEALED_KEY);
        }
        let status = fs::read_to_string("/proc/self/status").expect("child: /proc/self/status");
        let hwm = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .expect("child: VmHWM in /proc/self/status");
        let report = std::env::var_os(UNLOCK_REPORT).expect("child: report path");
        fs::write(report, hwm.trim()).expect("child: write the report");
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A vault holding one push token whose key is sealed under [`PIN`]; returns its path and the
/// token's id.
fn pin_locked_vault(dir: &Path) -> (PathBuf, i64) {
    let db = dir.join("vault.db");
    let vault = Vault::open(&db, &DataKey::from_bytes(KEY)).unwrap();
    let seal = pin::new_seal().unwrap();
    let token = NewPushToken {
        serial: "PIPU0001".into(),
        issuer: "privacyIDEA".into(),
        label: "alice".into(),
        url: "https://pi.example.com/ttype/push".into(),
        sslverify: true,
        allow_insecure_tls: false,
        server_key: b"server key (not used here)".to_vec(),
        pin: Some(seal.clone()),
        pin_required_by_server: true,
        fb_token: None,
        protocol: domain::PushProtocol::PrivacyIdea,
        key_type: domain::DeviceKeyType::Rsa,
        extra_text: Vec::new(),
    };
    let token = vault.insert_push_token(&token, |id| pin::seal_key(SEALED_KEY, Some((PIN, &seal)), id)).unwrap();
    (db, token.id)
}

fn ready_file(db: &Path, tag: &str) -> PathBuf {
    db.with_extension(format!("ready-{tag}"))
}

fn go_file(db: &Path) -> PathBuf {
    db.with_extension("go")
}

fn tally_file(db: &Path, tag: &str) -> PathBuf {
    db.with_extension(format!("tally-{tag}"))
}

fn read_text(path: &Path) -> String {
    String::from_utf8_lossy(&fs::read(path).unwrap_or_default()).into_owned()
}
