//! Backups and imports: `export --backup/--uris/--google`, `import`, `verify-backup`, run as a
//! user would. Backups use the real Argon2id parameters (64 MiB, 3 passes), so each backup
//! operation costs a fraction of a second: tests make only the few they need.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::*;

const PASSWORD_ENV: &str = "AUTHENTICATOR_BACKUP_PASSWORD";
const PASSWORD: &str = "correct horse battery staple";
/// A fixed time for codes, so two vaults can be compared whatever the clock does.
const T: u64 = 1_750_000_000;

// Helpers.

/// A distinct 20-byte secret per `n`, as base32; its raw bytes are readable ASCII so a test can
/// look for them in a file.
fn secret_bytes(n: u8) -> Vec<u8> {
    format!("backup-test-secret{n:02}").into_bytes()
}

fn secret(n: u8) -> String {
    base32(&secret_bytes(n))
}

fn export_backup(home: &Home, file: &Path) -> Run {
    home.cli([OsStr::new("export"), OsStr::new("--backup"), file.as_os_str()]).env(PASSWORD_ENV, PASSWORD).run()
}

fn verify_backup(home: &Home, file: &Path, password: &str) -> Run {
    home.cli([OsStr::new("verify-backup"), file.as_os_str()]).env(PASSWORD_ENV, password).run()
}

fn import(home: &Home, file: &Path, password: Option<&str>) -> Run {
    let cli = home.cli([OsStr::new("import"), file.as_os_str()]);
    match password {
        Some(password) => cli.env(PASSWORD_ENV, password),
        None => cli,
    }
    .run()
}

/// Runs the binary with no backup password in its environment (the shared helper clears it,
/// even when the one running the tests has it set) and stdin null: no terminal, nobody to ask.
fn run_without_password(home: &Home, arguments: &[&OsStr]) -> Run {
    home.cli(arguments.iter().copied()).run()
}

/// A vault filled by `fill`, its backup (exported with [`PASSWORD`], which verifies it) at
/// `file` in that vault's data dir, and a fresh vault not created yet to import it into.
/// `original` must outlive the use of `file` (bind it, if only as `_original`).
struct BackedUp {
    original: Home,
    file: PathBuf,
    copy: Home,
}

fn backed_up(name: &str, fill: impl FnOnce(&Home)) -> BackedUp {
    let original = Home::new(&format!("{name}-from"));
    fill(&original);
    let file = original.file("backup.json");
    export_backup(&original, &file).ok();
    BackedUp { original, file, copy: Home::new(&format!("{name}-to")) }
}

/// One TOTP account, for tests that need a backup but not what is in it.
fn one_account(home: &Home) {
    home.add(&totp_uri("ACME", "alice"));
}

/// `list --json` without the ids (which a restore renumbers), in list order.
fn shape(accounts: &[Value]) -> Vec<Value> {
    accounts
        .iter()
        .map(|a| {
            let mut a = a.clone();
            a.as_object_mut().expect("each account is an object").remove("id");
            a
        })
        .collect()
}

fn without_group(accounts: Vec<Value>) -> Vec<Value> {
    accounts
        .into_iter()
        .map(|mut a| {
            a.as_object_mut().expect("each account is an object").remove("group");
            a
        })
        .collect()
}

/// "Issuer (label)", or the label alone when there is no issuer: as the app names accounts.
fn name(account: &Value) -> String {
    match (account["issuer"].as_str().unwrap(), account["label"].as_str().unwrap()) {
        ("", label) => label.to_owned(),
        (issuer, label) => format!("{issuer} ({label})"),
    }
}

/// `code <id> --at T` of each account, in list order (HOTP counters advance).
fn codes(home: &Home, accounts: &[Value]) -> Vec<String> {
    accounts
        .iter()
        .map(|a| home.ok(&["code", &a["id"].to_string(), "--at", &T.to_string()]).trim_end().to_owned())
        .collect()
}

/// Six accounts covering every kind, algorithm, odd digits and periods, groups, non-ASCII and
/// a label-only account; the list order differs from the order they were added in.
fn varied_accounts(home: &Home) {
    home.add(&format!("otpauth://totp/GitHub:alice%40example.com?secret={}&issuer=GitHub", secret(1)));
    home.ok(&["group", "GitHub", "Work Stuff"]);
    home.add(&format!(
        "otpauth://totp/ACME%20Corp:bob.builder?secret={}&issuer=ACME%20Corp&algorithm=SHA256&digits=8&period=60",
        secret(2)
    ));
    home.add(&format!(
        "otpauth://hotp/Bank%20of%20Tests:carol?secret={}&issuer=Bank%20of%20Tests&algorithm=SHA512&digits=7&counter=42",
        secret(3)
    ));
    home.ok(&["group", "carol", "Money"]);
    home.add(&format!("otpauth://steam/Steam:gaben?secret={}&issuer=Steam", secret(4)));
    home.add(&format!(
        "otpauth://totp/Caf%C3%A9%20%26%20Co:zo%C3%AB?secret={}&issuer=Caf%C3%A9%20%26%20Co&digits=7&period=45",
        secret(5)
    ));
    home.add(&format!("otpauth://totp/nolabel-only?secret={}", secret(6)));
    home.ok(&["move", "gaben", "1"]);
    let names: Vec<String> = home.accounts().iter().map(name).collect();
    assert_eq!(names[0], "Steam (gaben)", "the user's order is not the order of adding: {names:?}");
}

/// The real exports of other apps in the workplace's shared fixtures (a test fails without them).
#[track_caller]
fn fixtures() -> PathBuf {
    shared_fixture("fixtures/import")
}

/// One of the seven accounts every fixture holds (README of the fixtures), as `list --json`
/// shows it.
struct Documented {
    issuer: &'static str,
    label: &'static str,
    kind: &'static str,
    algorithm: &'static str,
    digits: u64,
    period: u64,
    counter: u64,
}

/// The documented accounts, in the order of plain.txt's lines.
const DOCUMENTED: [Documented; 7] = [
    Documented { issuer: "Deno", label: "Mason", kind: "totp", algorithm: "SHA1", digits: 6, period: 30, counter: 0 },
    Documented { issuer: "SPDX", label: "James", kind: "totp", algorithm: "SHA256", digits: 7, period: 20, counter: 0 },
    Documented {
        issuer: "Airbnb",
        label: "Elijah",
        kind: "totp",
        algorithm: "SHA512",
        digits: 8,
        period: 50,
        counter: 0,
    },
    Documented { issuer: "Issuu", label: "James", kind: "hotp", algorithm: "SHA1", digits: 6, period: 30, counter: 1 },
    Documented {
        issuer: "Air Canada",
        label: "Benjamin",
        kind: "hotp",
        algorithm: "SHA256",
        digits: 7,
        period: 30,
        counter: 50,
    },
    Documented {
        issuer: "WWE",
        label: "Mason",
        kind: "hotp",
        algorithm: "SHA512",
        digits: 8,
        period: 30,
        counter: 10300,
    },
    Documented {
        issuer: "Boeing",
        label: "Sophia",
        kind: "steam",
        algorithm: "SHA1",
        digits: 5,
        period: 30,
        counter: 0,
    },
];

/// Imports `file` of the fixtures into a fresh vault and checks it holds exactly the documented
/// accounts at `lines` of plain.txt, in that order, each making the code its plain.txt URI makes.
fn assert_fixture_imports(file: &str, password: Option<&str>, lines: &[usize]) {
    let dir = fixtures();
    let plain = std::fs::read_to_string(dir.join("plain.txt")).expect("read plain.txt");
    let uris: Vec<&str> = plain.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(uris.len(), 7, "plain.txt lists the seven accounts");

    let home = Home::new("fixture");
    let run = import(&home, &dir.join(file), password);
    let stdout = run.ok().to_owned();
    assert_eq!(stdout.lines().filter(|l| l.starts_with("imported: ")).count(), lines.len(), "{stdout}");

    let accounts = home.accounts();
    let found: Vec<Value> = accounts
        .iter()
        .map(|a| {
            // An HOTP account's period means nothing; do not hold the import to one.
            let period = if a["type"] == "hotp" { json!(30) } else { a["period"].clone() };
            json!({
                "issuer": a["issuer"], "label": a["label"], "type": a["type"], "algorithm": a["algorithm"],
                "digits": a["digits"], "period": period, "counter": a["counter"],
            })
        })
        .collect();
    let expected: Vec<Value> = lines
        .iter()
        .map(|&i| {
            let d = &DOCUMENTED[i];
            json!({
                "issuer": d.issuer, "label": d.label, "type": d.kind, "algorithm": d.algorithm,
                "digits": d.digits, "period": d.period, "counter": d.counter,
            })
        })
        .collect();
    assert_eq!(found, expected, "{file}: the documented accounts, in the file's order");

    let imported_codes = codes(&home, &accounts);
    for (code, &line) in imported_codes.iter().zip(lines) {
        assert_eq!(code, &code_at(uris[line], T), "{file}: code of {}", uris[line]);
    }
}

// Backups of this app.

#[test]
fn backup_export_is_verified_and_verify_backup_counts_every_account() {
    let home = Home::new("backup-verify");
    varied_accounts(&home);
    let file = home.file("backup.json");

    let run = export_backup(&home, &file);
    run.ok();
    assert!(run.stderr.contains("verified, 6 accounts restore"), "export checks what it wrote: {:?}", run.stderr);
    assert!(!run.stderr.to_lowercase().contains("push"), "no push token, nothing to say about them: {:?}", run.stderr);

    let fresh = Home::new("backup-verify-elsewhere");
    let run = verify_backup(&fresh, &file, PASSWORD);
    assert_eq!(run.ok(), format!("OK: 6 accounts restore from {}\n", file.display()));
    assert!(fresh.files().is_empty(), "verify-backup opens no vault");
}

#[test]
fn backup_restores_into_a_fresh_vault_with_the_same_accounts_order_groups_and_codes() {
    let BackedUp { original, file, copy } = backed_up("backup", varied_accounts);
    let run = import(&copy, &file, Some(PASSWORD));
    run.ok();
    assert!(run.stderr.contains("imported 6, 0 duplicate(s) skipped, 0 refused"), "{:?}", run.stderr);

    let (before, after) = (original.accounts(), copy.accounts());
    assert_eq!(shape(&after), shape(&before), "same accounts, fields, groups and order");
    assert_eq!(codes(&copy, &after), codes(&original, &before), "same codes at {T}");
}

#[test]
fn backup_read_from_stdin_opens_with_the_password_from_the_environment() {
    let BackedUp { original, file, copy } = backed_up("backup-stdin", varied_accounts);
    let bytes = std::fs::read(&file).unwrap();
    copy.cli(["import", "-"]).env(PASSWORD_ENV, PASSWORD).stdin(bytes).run().ok();
    assert_eq!(shape(&copy.accounts()), shape(&original.accounts()));
}

#[test]
fn a_wrong_password_is_refused_by_verify_backup_and_import_and_nothing_is_imported() {
    let BackedUp { original: _original, file, copy } = backed_up("wrong-password", varied_accounts);
    let stderr = verify_backup(&copy, &file, "Correct horse battery staple").refused_in_one_line().to_owned();
    assert!(stderr.contains("wrong password"), "{stderr:?}");
    let stderr = import(&copy, &file, Some("Correct horse battery staple")).refused_in_one_line().to_owned();
    assert!(stderr.contains("wrong password"), "{stderr:?}");
    assert_eq!(copy.accounts(), Vec::<Value>::new(), "nothing imported");
}

#[test]
fn a_truncated_backup_is_refused_and_nothing_is_imported() {
    let BackedUp { original, file, copy } = backed_up("truncated", varied_accounts);
    let bytes = std::fs::read(&file).unwrap();
    let cut = original.file("cut.json");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();

    for run in [verify_backup(&copy, &cut, PASSWORD), import(&copy, &cut, Some(PASSWORD))] {
        let stderr = run.refused_in_one_line();
        assert!(
            ["cannot be read", "not a backup", "truncated"].iter().any(|reason| stderr.contains(reason)),
            "says the file cannot be read: {stderr:?}"
        );
        assert!(!stderr.contains("wrong password"), "the password is right: {stderr:?}");
    }
    assert_eq!(copy.accounts(), Vec::<Value>::new(), "nothing imported");
}

#[test]
fn a_truncated_backup_is_reported_as_damaged_rather_than_as_another_kind_of_file() {
    let BackedUp { original: _original, file, copy } = backed_up("truncated-message", one_account);
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();

    for run in [verify_backup(&copy, &file, PASSWORD), import(&copy, &file, Some(PASSWORD))] {
        let stderr = run.refused_in_one_line();
        assert!(stderr.contains("truncated") || stderr.contains("damaged"), "{stderr:?}");
        assert!(!stderr.contains("not a backup"), "it is a backup, cut short: {stderr:?}");
    }
}

#[test]
fn a_backup_with_one_ciphertext_character_changed_is_refused_and_nothing_is_imported() {
    let BackedUp { original: _original, file, copy } = backed_up("tampered", varied_accounts);
    let text = std::fs::read_to_string(&file).unwrap();
    let envelope: Value = serde_json::from_str(&text).unwrap();
    let ciphertext = envelope["ciphertext"].as_str().expect("a base64 ciphertext");
    let start = text.find(ciphertext).expect("the ciphertext is in the file");
    let at = start + ciphertext.len() / 2;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&file, &bytes).unwrap();

    for run in [verify_backup(&copy, &file, PASSWORD), import(&copy, &file, Some(PASSWORD))] {
        let stderr = run.refused_in_one_line();
        assert!(stderr.contains("modified"), "says the file may have been modified: {stderr:?}");
    }
    assert_eq!(copy.accounts(), Vec::<Value>::new(), "nothing imported");
}

#[test]
fn backup_export_refuses_to_overwrite_an_existing_file() {
    let home = Home::new("no-overwrite");
    home.add(&totp_uri("ACME", "alice"));
    let file = home.file("precious.json");
    std::fs::write(&file, "an older backup, not to be lost").unwrap();

    let stderr = export_backup(&home, &file).refused_in_one_line().to_owned();
    assert!(stderr.contains("exists"), "{stderr:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "an older backup, not to be lost");
    assert_eq!(home.files(), ["precious.json", "vault.db", "vault.key"], "no partial file left behind");
}

#[test]
fn backup_export_leaves_files_with_similar_names_alone() {
    let home = Home::new("similar-names");
    home.add(&totp_uri("ACME", "alice"));
    let neighbour = home.file("work.partial");
    std::fs::write(&neighbour, "someone else's file").unwrap();
    let file = home.file("work.json");
    assert!(export_backup(&home, &file).status.success());
    assert_eq!(std::fs::read_to_string(&neighbour).unwrap(), "someone else's file");
    assert!(file.exists() && !home.file("work.json.partial").exists());
}

#[test]
fn backup_export_without_a_password_and_without_a_terminal_fails_clearly_and_writes_nothing() {
    let home = Home::new("no-password-export");
    home.add(&totp_uri("ACME", "alice"));
    let file = home.file("backup.json");
    let run = run_without_password(&home, &[OsStr::new("export"), OsStr::new("--backup"), file.as_os_str()]);
    let stderr = run.refused().to_owned();
    assert!(stderr.contains(PASSWORD_ENV), "points at the environment variable: {stderr:?}");
    assert!(!file.exists() && !home.file("backup.json.partial").exists(), "no file written");
}

#[test]
fn the_backup_file_holds_no_secret_and_no_account_name_in_clear() {
    let home = Home::new("no-clear");
    varied_accounts(&home);
    let file = home.file("backup.json");
    export_backup(&home, &file).ok();
    let bytes = std::fs::read(&file).unwrap();
    let text = String::from_utf8(bytes.clone()).expect("a backup is text");

    for n in 1..=6 {
        let key = secret(n);
        assert!(!text.contains(&key) && !text.contains(&key.to_lowercase()), "base32 secret {n} in clear");
        assert!(!bytes.windows(20).any(|w| w == secret_bytes(n)), "raw secret {n} in clear");
    }
    for word in [
        "GitHub",
        "alice",
        "example.com",
        "ACME Corp",
        "bob.builder",
        "Bank of Tests",
        "carol",
        "Steam",
        "gaben",
        "Café",
        "zoë",
        "nolabel-only",
        "Work Stuff",
        "Money",
        "issuer",
        "label",
        "secret",
    ] {
        assert!(!text.contains(word), "{word:?} in clear:\n{text}");
    }
}

// Importing.

#[test]
fn import_dry_run_lists_what_would_be_imported_and_changes_nothing() {
    let home = Home::new("dry-run");
    let alice = totp_uri("ACME", "alice");
    home.add(&alice);
    let list = home.file("list.txt");
    let bob = format!("otpauth://totp/Other:bob?secret={}&issuer=Other", secret(1));
    std::fs::write(&list, format!("{alice}\n{bob}\n")).unwrap();
    let (accounts, db) = (home.accounts(), std::fs::read(home.file("vault.db")).unwrap());

    let run = home.run(&["import", list.to_str().unwrap(), "--dry-run"]);
    assert_eq!(run.ok(), "would import: Other (bob)\nduplicate: ACME (alice)\n");
    assert!(run.stderr.contains("would import 1, 1 duplicate(s) skipped, 0 refused"), "{:?}", run.stderr);

    assert_eq!(home.accounts(), accounts, "no account added");
    assert_eq!(std::fs::read(home.file("vault.db")).unwrap(), db, "the vault file is untouched");
    assert_eq!(home.files(), ["list.txt", "vault.db", "vault.key"]);
}

#[test]
fn importing_the_same_backup_twice_finds_only_duplicates_the_second_time() {
    let BackedUp { original: _original, file, copy } = backed_up("twice", varied_accounts);
    import(&copy, &file, Some(PASSWORD)).ok();
    let accounts = copy.accounts();
    let run = import(&copy, &file, Some(PASSWORD));
    let stdout = run.ok().to_owned();
    assert!(run.stderr.contains("imported 0, 6 duplicate(s) skipped, 0 refused"), "{:?}", run.stderr);
    let expected: Vec<String> = accounts.iter().map(|a| format!("duplicate: {}", name(a))).collect();
    assert_eq!(stdout.lines().collect::<Vec<_>>(), expected);
    assert_eq!(copy.accounts(), accounts, "nothing added the second time");
}

#[test]
fn a_uri_list_with_bad_lines_imports_the_good_ones_and_refuses_the_others_with_a_reason() {
    let home = Home::new("mixed-lines");
    let file = home.file("mixed.txt");
    home.ok(&["init"]); // files beside the vault: a folder holding other files is not taken over
    let lines = [
        format!("otpauth://totp/Good:one?secret={}&issuer=Good", secret(1)),
        "# exported by hand".to_owned(),
        String::new(),
        "otpauth://totp/Bad:secret?secret=not-base32!!&issuer=Bad".to_owned(),
        "otpauth://totp/NoSecret:x?issuer=NoSecret".to_owned(),
        format!("otpauth://hotp/Good:two?secret={}&issuer=Good&counter=3", secret(2)),
        format!("otpauth://totp/Digits:x?secret={}&digits=12", secret(3)),
        "https://example.com/not-otpauth".to_owned(),
        format!("otpauth://totp/Good:three?secret={}&issuer=Good&algorithm=SHA256", secret(4)),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();

    let run = home.run(&["import", file.to_str().unwrap()]);
    let stdout = run.ok().to_owned();
    assert!(run.stderr.contains("imported 3, 0 duplicate(s) skipped, 4 refused"), "{:?}", run.stderr);
    let names: Vec<String> = home.accounts().iter().map(name).collect();
    assert_eq!(names, ["Good (one)", "Good (two)", "Good (three)"]);
    let refused: Vec<&str> = stdout.lines().filter(|l| l.starts_with("refused: line ")).collect();
    assert_eq!(refused.len(), 4, "{stdout}");
    for line in refused {
        let reason = line.split_once(" (").map(|(_, r)| r.trim_end_matches(')')).unwrap_or_default();
        assert!(reason.len() > 5, "a reason for each refused line: {line:?}");
    }
    for reason in ["base32", "no secret", "digits", "not an otpauth"] {
        assert!(stdout.contains(reason), "{reason:?} among the reasons:\n{stdout}");
    }
}

#[test]
fn refused_uri_lines_are_named_by_their_line_in_the_file() {
    let home = Home::new("line-numbers");
    let file = home.file("list.txt");
    home.ok(&["init"]); // files beside the vault: a folder holding other files is not taken over
    let good = format!("otpauth://totp/Good:one?secret={}&issuer=Good", secret(1));
    std::fs::write(&file, format!("{good}\n# a comment\n\notpauth://totp/Bad:x?issuer=Bad\n")).unwrap();
    let stdout = home.ok(&["import", file.to_str().unwrap()]);
    assert!(stdout.contains("refused: line 4 ("), "the bad URI is on line 4:\n{stdout}");
}

#[test]
fn a_garbage_file_is_not_a_backup_or_export_this_app_can_read() {
    let home = Home::new("garbage");
    let file = home.file("garbage.bin");
    home.ok(&["init"]); // files beside the vault: a folder holding other files is not taken over
    std::fs::write(&file, b"\x00\x01PK\x03\x04 certainly not an export \xff\xfe").unwrap();
    let stderr = import(&home, &file, Some(PASSWORD)).refused_in_one_line().to_owned();
    assert!(stderr.contains("not a backup or export this app can read"), "{stderr:?}");
    assert_eq!(home.accounts(), Vec::<Value>::new());
}

#[test]
fn an_encrypted_file_without_password_and_without_a_terminal_fails_clearly_instead_of_waiting() {
    let BackedUp { original: _original, file: backup, copy } = backed_up("no-password", one_account);
    let dir = fixtures();
    let files = [backup, dir.join("aegis_encrypted.json"), dir.join("2fas_authenticator_encrypted_v4.2fas")];

    for file in &files {
        let run = run_without_password(&copy, &[OsStr::new("import"), file.as_os_str()]);
        let stderr = run.refused_in_one_line();
        assert!(stderr.contains("encrypted") && stderr.contains(PASSWORD_ENV), "{}: {stderr:?}", file.display());
        assert!(!stderr.contains("wrong password"), "no password is not a wrong one: {stderr:?}");
    }
    let run = run_without_password(&copy, &[OsStr::new("verify-backup"), files[0].as_os_str()]);
    assert!(run.refused_in_one_line().contains(PASSWORD_ENV), "{:?}", run.stderr);
    assert_eq!(copy.accounts(), Vec::<Value>::new());
}

// Other apps' exports (fixtures).

#[test]
fn aegis_plain_export_imports_the_documented_accounts_with_their_codes() {
    assert_fixture_imports("aegis_plain.json", None, &[0, 1, 2, 3, 4, 5, 6]);
}

#[test]
fn aegis_encrypted_export_imports_the_documented_accounts_with_their_codes() {
    assert_fixture_imports("aegis_encrypted.json", Some("test"), &[0, 1, 2, 3, 4, 5, 6]);
}

#[test]
fn twofas_plain_export_imports_the_documented_accounts_with_their_codes() {
    assert_fixture_imports("2fas_authenticator_plain_v4.2fas", None, &[0, 3, 4, 5, 6]);
}

#[test]
fn twofas_encrypted_export_imports_the_documented_accounts_with_their_codes() {
    assert_fixture_imports("2fas_authenticator_encrypted_v4.2fas", Some("test"), &[0, 3, 4, 5, 6]);
}

#[test]
fn otpauth_uri_list_fixture_imports_the_documented_accounts_with_their_codes() {
    assert_fixture_imports("plain.txt", None, &[0, 1, 2, 3, 4, 5, 6]);
}

/// Imports `file` of the Aegis test data into a fresh vault: what the import printed on stderr
/// (its format and counts) and the names of the accounts the vault then holds, in its order.
fn import_aegis_testdata(file: &str) -> (String, Vec<String>) {
    let home = Home::new("testdata");
    let run = import(&home, &fixtures().join("aegis-testdata").join(file), None);
    run.ok();
    (run.stderr.clone(), home.accounts().iter().map(name).collect())
}

#[test]
fn bitwarden_json_and_csv_exports_import_their_totp_and_steam_items() {
    for (file, steam) in [("bitwarden.json", "Steam (Test Steam)"), ("bitwarden.csv", "Steam (Test 4)")] {
        let (stderr, names) = import_aegis_testdata(file);
        assert!(stderr.starts_with("Bitwarden file: imported 4,"), "{file}: {stderr}");
        assert_eq!(names, ["Deno (Mason)", "SPDX (James)", "Airbnb (Elijah)", steam], "{file}");
    }
}

#[test]
fn ente_auth_plain_export_imports_the_documented_accounts_with_their_codes() {
    assert_fixture_imports("aegis-testdata/ente_auth.txt", None, &[4, 2, 6, 0, 3, 1, 5]);
    let (stderr, _) = import_aegis_testdata("ente_auth.txt");
    assert!(stderr.starts_with("EnteAuth file: imported 7,"), "{stderr}");
}

#[test]
fn proton_authenticator_export_imports_the_documented_accounts_with_their_codes() {
    assert_fixture_imports("aegis-testdata/proton_authenticator.json", None, &[0, 1, 2]);
}

#[test]
fn steam_authenticator_files_import_the_steam_account() {
    for file in ["steam.json", "steam_old.json"] {
        let (stderr, names) = import_aegis_testdata(file);
        assert!(stderr.starts_with("Steam file: imported 1,"), "{file}: {stderr}");
        assert_eq!(names, ["Steam (Sophia)"], "{file}");
    }
}

#[test]
fn steam_uris_are_added_and_imported_and_make_the_steam_vector_codes() {
    let home = Home::new("steam-uri");
    home.add("steam://JRZCL47CMXVOQMNPZR2F7J4RGI");
    let file = home.file("steam.txt");
    std::fs::write(&file, "steam://JRZCL47CMXVOQMNPZR2F7J4RGI\n").unwrap();
    let run = import(&home, &file, None);
    assert!(run.ok().contains("duplicate: Steam"), "{}", run.stdout);
    let accounts = home.accounts();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["type"], "steam");

    // The same key as the Boeing Steam vector of plain.txt: the same codes.
    let reference = Home::new("steam-uri-reference");
    reference.add("otpauth://steam/Boeing:Sophia?secret=JRZCL47CMXVOQMNPZR2F7J4RGI&issuer=Boeing");
    assert_eq!(codes(&home, &accounts), codes(&reference, &reference.accounts()));
}

#[test]
fn google_authenticator_database_imports_its_accounts_and_is_left_untouched() {
    let path = fixtures().join("aegis-testdata/google_authenticator.sqlite");
    let before = std::fs::read(&path).unwrap();
    let (stderr, names) = import_aegis_testdata("google_authenticator.sqlite");
    assert!(stderr.starts_with("GoogleAuthenticatorDb file: imported 6,"), "{stderr}");
    let expected =
        ["Deno (Mason)", "SPDX (James)", "Airbnb (Elijah)", "Issuu (James)", "Air Canada (Benjamin)", "WWE (Mason)"];
    assert_eq!(names, expected);
    assert_eq!(std::fs::read(&path).unwrap(), before, "the database is read from a copy, never changed");
    let dir = path.parent().unwrap();
    for suffix in ["-journal", "-wal", "-shm"] {
        assert!(!dir.join(format!("google_authenticator.sqlite{suffix}")).exists(), "no {suffix} file beside it");
    }
}

#[test]
fn microsoft_authenticator_database_imports_its_accounts() {
    let (stderr, names) = import_aegis_testdata("microsoft_authenticator.sqlite");
    assert!(stderr.starts_with("MicrosoftAuthenticatorDb file: imported 7,"), "{stderr}");
    assert_eq!(names.len(), 7);
    assert_eq!(names[6], "Boeing (Sophia)");
}

#[test]
fn duo_accounts_file_imports_its_accounts() {
    let (stderr, names) = import_aegis_testdata("duo.json");
    assert!(stderr.starts_with("Duo file: imported 2,"), "{stderr}");
    assert_eq!(names, ["Mason", "James"]);
}

#[test]
fn freeotp_token_prefs_and_freeotp_plus_export_import_the_documented_accounts_with_their_codes() {
    // FreeOTP stores an HOTP counter one below the URI's; imported, the codes are plain.txt's.
    assert_fixture_imports("aegis-testdata/freeotp.xml", None, &[5, 3, 2, 0]);
    assert_fixture_imports("aegis-testdata/freeotp_plus.json", None, &[5, 4, 3, 2, 1, 0]);
    let (stderr, names) = import_aegis_testdata("freeotp_plus_internal.xml");
    assert!(stderr.starts_with("FreeOtp file: imported 6,"), "{stderr}");
    assert_eq!(names.len(), 6);
}

#[test]
fn battle_net_prefs_import_the_authenticator_named_by_its_serial() {
    let (stderr, names) = import_aegis_testdata("battle_net_authenticator.xml");
    assert!(stderr.starts_with("BattleNet file: imported 1,"), "{stderr}");
    assert_eq!(names, ["Battle.net (US-2211-2050-3346)"]);
}

#[test]
fn authenticator_plus_backup_imports_the_documented_accounts_with_its_password() {
    assert_fixture_imports("aegis-testdata/authenticator_plus.zip", Some("testtesttest"), &[0, 1, 2, 3, 4, 5, 6]);
    let home = Home::new("authplus-wrong");
    let run = import(&home, &fixtures().join("aegis-testdata/authenticator_plus.zip"), Some("wrong"));
    assert!(run.refused_in_one_line().contains("wrong password"), "{}", run.stderr);
    assert_eq!(home.accounts(), Vec::<Value>::new());
}

// Encrypted exports of other apps (aegis-testdata: the Aegis project's importer test files).

#[test]
fn andotp_encrypted_backups_import_the_documented_accounts_with_their_codes() {
    assert_fixture_imports("aegis-testdata/andotp_encrypted.bin", Some("test"), &[0, 1, 2, 3, 4, 5, 6]);
    assert_fixture_imports("aegis-testdata/andotp_encrypted_old.bin", Some("test"), &[0, 1, 2, 3, 4, 5]);
}

#[test]
fn stratum_backups_and_database_import_the_documented_accounts_with_their_codes() {
    assert_fixture_imports("aegis-testdata/stratum_encrypted.bin", Some("test"), &[0, 1, 2, 3, 4, 5, 6]);
    assert_fixture_imports("aegis-testdata/stratum_encrypted_legacy.bin", Some("test"), &[0, 1, 2, 3, 4, 5, 6]);
    assert_fixture_imports("aegis-testdata/stratum_internal.db", None, &[0, 1, 2, 3, 4, 5, 6]);
}

/// Imports `file` of the fixtures and returns each account's issuer, label, type, algorithm,
/// digits and period, as `list --json` shows them.
fn imported_shapes(file: &str, password: Option<&str>) -> Vec<(String, String, String, String, u64, u64)> {
    let home = Home::new("fixture");
    import(&home, &fixtures().join(file), password).ok();
    home.accounts()
        .iter()
        .map(|a| {
            let text = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
            (
                text("issuer"),
                text("label"),
                text("type"),
                text("algorithm"),
                a["digits"].as_u64().unwrap(),
                a["period"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn totp_sha1(issuer: &str, label: &str, digits: u64) -> (String, String, String, String, u64, u64) {
    (issuer.into(), label.into(), "totp".into(), "SHA1".into(), digits, 30)
}

#[test]
fn authy_encrypted_token_store_imports_its_three_accounts() {
    assert_eq!(
        imported_shapes("aegis-testdata/authy_encrypted.xml", Some("testtest")),
        [totp_sha1("Deno", "Mason", 6), totp_sha1("SPDX", "James", 7), totp_sha1("Airbnb", "Elijah", 8)]
    );
}

#[test]
fn totp_authenticator_backup_imports_its_three_accounts() {
    let mut expected =
        vec![totp_sha1("Deno", "mason", 6), totp_sha1("SPDX", "james", 7), totp_sha1("Airbnb", "elijah", 8)];
    (expected[1].5, expected[2].5) = (20, 50);
    assert_eq!(imported_shapes("aegis-testdata/totp_authenticator.bin", Some("Testtest1")), expected);
}

#[test]
fn freeotp_v2_backup_imports_the_documented_accounts_but_steam() {
    let mut found = imported_shapes("aegis-testdata/freeotp_v2_api34.xml", Some("test"));
    let mut expected: Vec<_> = DOCUMENTED[..6]
        .iter()
        .map(|d| (d.issuer.into(), d.label.into(), d.kind.into(), d.algorithm.into(), d.digits, d.period))
        .collect();
    // A serialized HashMap has no order.
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
}

// Plain-text exports.

/// Eleven accounts Google Authenticator can carry (two QR codes' worth) and three it cannot
/// (Steam, 7 digits, 60 s), mixed. Returns the names of the three left out.
fn google_source(home: &Home) -> [&'static str; 3] {
    let mut uris = Vec::new();
    for i in 0..11u8 {
        let key = secret(i + 10);
        uris.push(match i % 4 {
            0 => format!("otpauth://totp/Export{i:02}:user{i}?secret={key}&issuer=Export{i:02}"),
            1 => format!(
                "otpauth://totp/Export{i:02}:user{i}?secret={key}&issuer=Export{i:02}&algorithm=SHA256&digits=8"
            ),
            2 => format!("otpauth://hotp/Export{i:02}:user{i}?secret={key}&issuer=Export{i:02}&counter={}", u32::from(i) * 100),
            _ => format!(
                "otpauth://hotp/Export{i:02}:user{i}?secret={key}&issuer=Export{i:02}&algorithm=SHA512&digits=8&counter=7"
            ),
        });
        match i {
            1 => uris.push(format!("otpauth://steam/Steam:gaben?secret={}&issuer=Steam", secret(1))),
            5 => uris.push(format!("otpauth://totp/Seven:digits?secret={}&issuer=Seven&digits=7", secret(2))),
            8 => uris.push(format!("otpauth://totp/Slow:minute?secret={}&issuer=Slow&period=60", secret(3))),
            _ => {}
        }
    }
    let file = home.file("source.txt");
    home.ok(&["init"]); // files beside the vault: a folder holding other files is not taken over
    std::fs::write(&file, uris.join("\n")).unwrap();
    home.ok(&["import", file.to_str().unwrap()]);
    assert_eq!(home.accounts().len(), 14);
    ["Steam (gaben)", "Seven (digits)", "Slow (minute)"]
}

/// The accounts of `home` but those named in `left_out`.
fn exportable(home: &Home, left_out: &[&str]) -> Vec<Value> {
    home.accounts().into_iter().filter(|a| !left_out.contains(&name(a).as_str())).collect()
}

/// `copy` holds exactly the accounts of `original` that a Google export carries, in order, with
/// the same codes.
fn assert_holds_the_exportable(copy: &Home, original: &Home, left_out: &[&str]) {
    let (expected, after) = (exportable(original, left_out), copy.accounts());
    assert_eq!(shape(&after), shape(&expected), "the exportable accounts, in order");
    assert_eq!(codes(copy, &after), codes(original, &expected));
}

#[test]
fn google_export_prints_migration_uris_and_names_each_account_left_out() {
    let home = Home::new("google");
    let left_out = google_source(&home);
    let run = home.run(&["export", "--google", "--yes", "--allow-partial"]);
    let stdout = run.ok();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "eleven accounts take two QR codes:\n{stdout}");
    assert!(lines.iter().all(|l| l.starts_with("otpauth-migration://offline?data=")), "{stdout}");

    let warnings: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(warnings.len(), 3, "one warning per account left out: {:?}", run.stderr);
    for (name, why) in left_out.iter().zip(["Steam", "7-digit", "60-second"]) {
        assert!(warnings.iter().any(|w| w.contains(name) && w.contains(why)), "{name} ({why}) in {warnings:?}");
    }
    assert!(!run.stderr.contains("Export"), "no warning about exportable accounts: {:?}", run.stderr);
}

#[test]
fn google_export_imports_back_from_a_file() {
    let original = Home::new("google-file-from");
    let left_out = google_source(&original);
    let exported = original.ok(&["export", "--google", "--yes", "--allow-partial"]);
    let file = original.file("google.txt");
    std::fs::write(&file, &exported).unwrap();

    let copy = Home::new("google-file-to");
    let run = copy.run(&["import", file.to_str().unwrap()]);
    run.ok();
    assert!(run.stderr.contains("imported 11, 0 duplicate(s) skipped, 0 refused"), "{:?}", run.stderr);
    assert_holds_the_exportable(&copy, &original, &left_out);
}

#[test]
fn google_export_imports_back_from_stdin() {
    let original = Home::new("google-stdin-from");
    let left_out = google_source(&original);
    let exported = original.ok(&["export", "--google", "--yes", "--allow-partial"]);

    let copy = Home::new("google-stdin-to");
    copy.cli(["import", "-"]).stdin(exported).run().ok();
    assert_holds_the_exportable(&copy, &original, &left_out);
}

#[test]
fn google_export_without_yes_and_without_a_terminal_prints_no_secret() {
    let home = Home::new("google-refused");
    home.add(&totp_uri("ACME", "alice"));
    let stderr = home.run(&["export", "--google"]).refused().to_owned();
    assert!(stderr.contains("--yes"), "{stderr:?}");
}

#[test]
fn uris_export_imports_back_into_a_fresh_vault() {
    let original = Home::new("uris-from");
    varied_accounts(&original);
    let exported = original.ok(&["export", "--uris", "--yes"]);
    assert_eq!(exported.lines().count(), 6, "{exported}");
    assert!(exported.lines().all(|l| l.starts_with("otpauth://")), "{exported}");
    let file = original.file("uris.txt");
    std::fs::write(&file, &exported).unwrap();

    let copy = Home::new("uris-to");
    copy.ok(&["import", file.to_str().unwrap()]);
    let (before, after) = (original.accounts(), copy.accounts());
    // otpauth:// URIs carry no group.
    assert_eq!(without_group(shape(&after)), without_group(shape(&before)), "same accounts, same order");
    assert_eq!(codes(&copy, &after), codes(&original, &before));
}
