//! Accounts kept in a key-file vault: creating it, adding, finding, editing, exporting.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use crate::support::*;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display())).permissions().mode() & 0o777
}

/// Issuer and label of each account, in list order.
fn names(home: &Home) -> Vec<String> {
    home.accounts()
        .iter()
        .map(|a| format!("{}:{}", a["issuer"].as_str().unwrap(), a["label"].as_str().unwrap()))
        .collect()
}

// First use.

#[test]
fn first_use_creates_a_0700_dir_with_vault_db_and_a_0600_key_file() {
    let home = Home::new("first-use");
    home.ok(&["list"]);
    assert_eq!(home.files(), ["vault.db", "vault.key"]);
    assert_eq!(mode(home.path()), 0o700, "data dir mode");
    assert_eq!(mode(&home.file("vault.key")), 0o600, "key file mode");
    assert_eq!(mode(&home.file("vault.db")), 0o600, "database mode");
    assert_eq!(std::fs::metadata(home.file("vault.key")).unwrap().len(), 32, "the key file holds a 32-byte key");
}

#[test]
fn first_use_makes_an_existing_data_dir_private() {
    let home = Home::new("first-use-existing");
    std::fs::create_dir_all(home.path()).unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    home.ok(&["list"]);
    assert_eq!(mode(home.path()), 0o700);
    assert_eq!(mode(&home.file("vault.key")), 0o600);
}

#[test]
fn data_dir_that_is_a_file_is_refused() {
    let home = Home::new("dir-is-file");
    std::fs::write(home.path(), "a file, not a folder").unwrap();
    home.run(&["list"]).refused_in_one_line();
    assert_eq!(std::fs::read_to_string(home.path()).unwrap(), "a file, not a folder");
    std::fs::remove_file(home.path()).unwrap();
}

#[test]
fn data_dir_can_be_given_by_authenticator_home() {
    let home = Home::new("env-home");
    Cli::new(["add", &totp_uri("ACME", "alice")]).env("AUTHENTICATOR_HOME", home.path()).run().ok();
    assert_eq!(home.files(), ["vault.db", "vault.key"]);
    assert_eq!(names(&home), ["ACME:alice"]);
}

#[test]
fn a_new_vault_lists_no_accounts() {
    let home = Home::new("empty");
    let run = home.run(&["list"]);
    assert_eq!(run.ok(), "", "the table is not printed without accounts");
    assert!(run.stderr.contains("No accounts yet"), "a hint on stderr: {:?}", run.stderr);
    assert_eq!(home.accounts(), Vec::<serde_json::Value>::new());
}

#[test]
fn init_refuses_when_a_vault_already_exists() {
    let home = Home::new("init-twice");
    home.ok(&["init"]);
    let key = std::fs::read(home.file("vault.key")).unwrap();
    let stderr = home.run(&["init"]).refused_in_one_line().to_owned();
    assert!(stderr.contains("already exists"), "{stderr:?}");
    assert_eq!(std::fs::read(home.file("vault.key")).unwrap(), key, "the key file is kept");
}

// Adding and listing.

#[test]
fn added_uri_account_is_listed_with_issuer_label_and_type() {
    let home = Home::new("list-table");
    let id = home.add(&totp_uri("ACME", "alice"));
    home.add(&hotp_uri("Bank", "bob", 7));
    let table = home.ok(&["list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "a header and one line per account:\n{table}");
    assert!(lines[0].contains("ISSUER") && lines[0].contains("LABEL"), "{table}");
    assert!(lines[1].contains(&id.to_string()) && lines[1].contains("ACME") && lines[1].contains("alice"), "{table}");
    assert!(lines[1].contains("totp SHA1 6/30s"), "{table}");
    assert!(lines[2].contains("Bank") && lines[2].contains("bob") && lines[2].contains("hotp SHA1 6"), "{table}");
}

#[test]
fn list_json_describes_every_account_without_secrets() {
    let home = Home::new("list-json");
    let alice =
        home.add(&format!("otpauth://totp/ACME:alice?secret={RFC_SHA1_KEY}&algorithm=SHA256&digits=8&period=60"));
    let bob = home.add(&hotp_uri("Bank", "bob", 7));
    let stdout = home.ok(&["list", "--json"]);
    assert!(!stdout.contains(RFC_SHA1_KEY), "no secret in the listing");
    let accounts: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        accounts,
        json!([
            {"id": alice, "issuer": "ACME", "label": "alice", "type": "totp", "algorithm": "SHA256",
             "digits": 8, "period": 60, "counter": 0, "group": null},
            {"id": bob, "issuer": "Bank", "label": "bob", "type": "hotp", "algorithm": "SHA1",
             "digits": 6, "period": 30, "counter": 7, "group": null},
        ])
    );
}

#[test]
fn list_table_never_prints_secrets() {
    let home = Home::new("list-no-secret");
    home.add(&totp_uri("ACME", "alice"));
    assert!(!home.ok(&["list"]).contains(RFC_SHA1_KEY));
}

#[test]
fn add_refuses_a_bad_uri_and_adds_nothing() {
    let home = Home::new("add-bad");
    home.ok(&["list"]);
    let stderr = home.run(&["add", "otpauth://totp/ACME:alice?secret=not-base32!"]).refused_in_one_line().to_owned();
    assert!(stderr.contains("base32"), "{stderr:?}");
    assert!(home.accounts().is_empty());
}

#[test]
fn add_points_google_migration_exports_elsewhere() {
    let home = Home::new("add-migration");
    let stderr = home.run(&["add", "otpauth-migration://offline?data=CjEKCkhlbGxv"]).refused_in_one_line().to_owned();
    assert!(stderr.contains("Google Authenticator export"), "{stderr:?}");
}

#[test]
fn manual_entry_with_flags_adds_an_hotp_account() {
    let home = Home::new("manual-flags");
    let args =
        ["add", "--issuer", "X", "--label", "Y", "--secret-stdin", "--type", "hotp", "--counter", "5", "--digits", "8"];
    let run = home.cli(args).stdin(format!("{RFC_SHA1_KEY}\n")).run();
    run.ok();
    assert!(run.stderr.contains("Added X (Y)"), "{:?}", run.stderr);
    let accounts = home.accounts();
    assert_eq!(accounts.len(), 1);
    let a = &accounts[0];
    assert_eq!((&a["issuer"], &a["label"], &a["type"]), (&json!("X"), &json!("Y"), &json!("hotp")));
    assert_eq!((&a["digits"], &a["counter"], &a["algorithm"]), (&json!(8), &json!(5), &json!("SHA1")));
    // RFC 4226, counter 5, eight digits.
    assert_eq!(home.ok(&["code", "X"]), "68254676\n");
}

#[test]
fn manual_entry_reads_the_secret_from_piped_stdin() {
    let home = Home::new("manual-stdin");
    home.cli(["add", "--issuer", "Piped", "--label", "carol"]).stdin(format!("{RFC_SHA1_KEY}\n")).run().ok();
    assert_eq!(names(&home), ["Piped:carol"]);
    let expected = code_at(&totp_uri("ACME", "alice"), 1_111_111_109);
    assert_eq!(home.ok(&["code", "Piped", "--at", "1111111109"]), format!("{expected}\n"));
}

#[test]
fn manual_entry_with_an_invalid_secret_is_refused_and_adds_nothing() {
    let home = Home::new("manual-bad");
    home.cli(["add", "--issuer", "Piped", "--label", "carol"])
        .stdin("this is not base32!\n")
        .run()
        .refused_in_one_line();
    home.cli(["add", "--label", "dave", "--secret-stdin"]).stdin("0189\n").run().refused_in_one_line();
    assert!(home.accounts().is_empty());
}

#[test]
fn secrets_and_uris_never_need_the_command_line() {
    let home = Home::new("no-argv-secrets");
    // --secret VALUE would put the key where `ps` and shell history see it: refused, nothing added.
    let stderr = home.run(&["add", "--issuer", "X", "--label", "argv", "--secret", RFC_SHA1_KEY]).refused().to_owned();
    assert!(stderr.contains("--secret-stdin") && !stderr.contains(RFC_SHA1_KEY), "{stderr:?}");
    assert!(home.accounts().is_empty());
    // The environment, and a URI read from standard input, both work.
    home.cli(["add", "--issuer", "Env", "--label", "erin"]).env("AUTHENTICATOR_SECRET", RFC_SHA1_KEY).run().ok();
    home.cli(["add", "-"]).stdin(format!("{}\n", totp_uri("Stdin", "sam"))).run().ok();
    assert_eq!(names(&home), ["Env:erin", "Stdin:sam"]);
    let uri = totp_uri("ACME", "alice");
    let from_stdin = home.cli(["code", "--uri", "-", "--at", "59"]).stdin(uri.clone()).run().ok().to_owned();
    assert_eq!(from_stdin, format!("{}\n", code_at(&uri, 59)));
}

#[test]
fn manual_entry_without_issuer_or_label_is_refused() {
    let home = Home::new("manual-nameless");
    let stderr = home.cli(["add", "--secret-stdin"]).stdin(RFC_SHA1_KEY).run().refused_in_one_line().to_owned();
    assert!(stderr.contains("--issuer"), "{stderr:?}");
}

// Codes from the vault.

#[test]
fn code_for_an_account_equals_the_stateless_code_at_the_same_second() {
    let home = Home::new("code-now");
    let uri = totp_uri("ACME", "alice");
    home.add(&uri);
    let (code, time) = within_one_period(|| home.ok(&["code", "alice"]));
    assert_eq!(code, format!("{}\n", code_at(&uri, time)));
}

#[test]
fn code_at_a_given_time_equals_the_stateless_code() {
    let home = Home::new("code-at");
    let uri = format!("otpauth://totp/ACME:alice?secret={RFC_SHA1_KEY}&algorithm=SHA512&digits=8");
    home.add(&uri);
    for time in [59, 1_234_567_890] {
        let t = time.to_string();
        assert_eq!(home.ok(&["code", "alice", "--at", &t]), format!("{}\n", code_at(&uri, time)));
        assert_eq!(home.ok(&["code", "alice", "--at", &t, "--next"]), format!("{}\n", code_at(&uri, time + 30)));
    }
}

#[test]
fn hotp_code_advances_the_counter_on_each_use() {
    let home = Home::new("hotp-advance");
    home.add(&hotp_uri("Bank", "bob", 0));
    assert_eq!(home.ok(&["code", "bob"]), "755224\n");
    assert_eq!(home.ok(&["code", "bob"]), "287082\n");
    assert_eq!(home.accounts()[0]["counter"], json!(2));
}

/// `--next` shows the code after the current one; it must not make a later `code` hand out the
/// same HOTP code again.
#[test]
fn hotp_next_never_leads_to_the_same_code_being_handed_out_twice() {
    let home = Home::new("hotp-next");
    home.add(&hotp_uri("Bank", "bob", 0));
    let next = home.ok(&["code", "bob", "--next"]);
    assert_eq!(next, "287082\n", "the code for counter 1");
    let then = home.ok(&["code", "bob"]);
    assert_ne!(then, next, "a code handed out twice");
}

#[test]
fn empty_query_matches_no_account() {
    let home = Home::new("empty-query");
    home.add(&totp_uri("ACME", "alice"));
    for query in ["", "  "] {
        home.run(&["code", query]).refused_in_one_line();
        home.run(&["remove", query, "--yes"]).refused_in_one_line();
    }
    assert_eq!(names(&home), ["ACME:alice"]);
}

#[test]
fn ambiguous_query_is_refused_with_the_matching_ids() {
    let home = Home::new("ambiguous");
    let alice = home.add(&totp_uri("ACME", "alice"));
    let bob = home.add(&hotp_uri("ACME", "bob", 0));
    let other = home.add(&totp_uri("Other", "carol"));
    let stderr = home.run(&["code", "acme"]).refused().to_owned();
    assert!(stderr.contains("matches several accounts"), "{stderr:?}");
    assert!(stderr.contains(&format!("{alice}  ACME (alice)")), "{stderr:?}");
    assert!(stderr.contains(&format!("{bob}  ACME (bob)")), "{stderr:?}");
    assert!(!stderr.contains(&format!("{other}  Other")), "{stderr:?}");
    assert_eq!(home.accounts()[1]["counter"], json!(0), "no HOTP code was taken");
}

#[test]
fn unknown_query_is_refused() {
    let home = Home::new("unknown");
    home.add(&totp_uri("ACME", "alice"));
    let stderr = home.run(&["code", "nobody"]).refused_in_one_line().to_owned();
    assert!(stderr.contains("no account matches 'nobody'"), "{stderr:?}");
}

#[test]
fn id_query_selects_that_account() {
    let home = Home::new("by-id");
    home.add(&totp_uri("ACME", "alice"));
    let bob = home.add(&hotp_uri("ACME", "bob", 3));
    assert_eq!(home.ok(&["code", &bob.to_string()]), "969429\n", "RFC 4226 counter 3");
}

#[test]
fn part_of_a_name_selects_the_one_account_it_matches() {
    let home = Home::new("by-part");
    home.add(&totp_uri("ACME", "alice"));
    home.add(&hotp_uri("Bank", "bob", 4));
    assert_eq!(home.ok(&["code", "BAN"]), "338314\n", "RFC 4226 counter 4");
}

// Editing.

#[test]
fn rename_changes_issuer_and_label() {
    let home = Home::new("rename");
    let id = home.add(&totp_uri("ACME", "alice"));
    home.ok(&["rename", "alice", "--issuer", "NewCo", "--label", "carol"]);
    assert_eq!(names(&home), ["NewCo:carol"]);
    home.ok(&["rename", &id.to_string(), "--label", "dave"]);
    assert_eq!(names(&home), ["NewCo:dave"], "an omitted issuer is kept");
}

#[test]
fn rename_without_issuer_or_label_is_refused() {
    let home = Home::new("rename-nothing");
    home.add(&totp_uri("ACME", "alice"));
    home.run(&["rename", "alice"]).refused_in_one_line();
    assert_eq!(names(&home), ["ACME:alice"]);
}

#[test]
fn group_files_an_account_and_no_group_takes_it_out() {
    let home = Home::new("group");
    home.add(&totp_uri("ACME", "alice"));
    home.ok(&["group", "alice", "Work"]);
    assert_eq!(home.accounts()[0]["group"], json!("Work"));
    assert!(home.ok(&["list"]).lines().nth(1).unwrap().trim_end().ends_with("Work"));
    home.ok(&["group", "alice"]);
    assert_eq!(home.accounts()[0]["group"], json!(null));
}

#[test]
fn move_puts_an_account_at_the_given_position() {
    let home = Home::new("move");
    for label in ["a", "b", "c"] {
        home.add(&totp_uri("ACME", label));
    }
    home.ok(&["move", "c", "1"]);
    assert_eq!(names(&home), ["ACME:c", "ACME:a", "ACME:b"]);
    home.ok(&["move", "c", "2"]);
    assert_eq!(names(&home), ["ACME:a", "ACME:c", "ACME:b"]);
    home.ok(&["move", "a", "99"]);
    assert_eq!(names(&home), ["ACME:c", "ACME:b", "ACME:a"], "past the end means last");
}

#[test]
fn remove_with_yes_deletes_the_account() {
    let home = Home::new("remove");
    home.add(&totp_uri("ACME", "alice"));
    home.add(&totp_uri("ACME", "bob"));
    let run = home.run(&["remove", "alice", "--yes"]);
    run.ok();
    assert!(run.stderr.contains("Removed ACME (alice)"), "{:?}", run.stderr);
    assert_eq!(names(&home), ["ACME:bob"]);
}

#[test]
fn remove_without_yes_and_without_a_terminal_refuses_and_keeps_the_account() {
    let home = Home::new("remove-refused");
    home.add(&totp_uri("ACME", "alice"));
    let stderr = home.run(&["remove", "alice"]).refused().to_owned();
    assert!(stderr.contains("--yes"), "the refusal points at --yes: {stderr:?}");
    assert_eq!(names(&home), ["ACME:alice"]);
}

// Clock offset.

#[test]
fn offset_is_zero_until_set() {
    let home = Home::new("offset-show");
    assert_eq!(home.ok(&["offset"]), "0\n");
    home.ok(&["offset", "-30"]);
    assert_eq!(home.ok(&["offset"]), "-30\n");
    home.ok(&["offset", "+45"]);
    assert_eq!(home.ok(&["offset"]), "45\n");
}

#[test]
fn negative_offset_shifts_codes_back_by_that_many_seconds() {
    let home = Home::new("offset-at");
    let uri = totp_uri("ACME", "alice");
    home.add(&uri);
    let time: u64 = 1_111_111_109;
    assert_ne!(code_at(&uri, time), code_at(&uri, time - 30), "the test needs distinct codes");
    home.ok(&["offset", "-30"]);
    assert_eq!(home.ok(&["code", "alice", "--at", &time.to_string()]), format!("{}\n", code_at(&uri, time - 30)));
}

#[test]
fn negative_offset_shifts_the_current_code() {
    let home = Home::new("offset-now");
    let uri = totp_uri("ACME", "alice");
    home.add(&uri);
    home.ok(&["offset", "-30"]);
    let (code, time) = within_one_period(|| home.ok(&["code", "alice"]));
    assert_eq!(code, format!("{}\n", code_at(&uri, time - 30)));
}

// Export.

#[test]
fn export_without_yes_and_without_a_terminal_refuses_and_prints_no_secret() {
    let home = Home::new("export-refused");
    home.add(&totp_uri("ACME", "alice"));
    let stderr = home.run(&["export", "--uris"]).refused().to_owned();
    assert!(stderr.contains("--yes"), "the refusal points at --yes: {stderr:?}");
    assert!(!stderr.contains(RFC_SHA1_KEY));
}

#[test]
fn exported_uris_reimport_into_a_fresh_vault_with_identical_codes() {
    let original = Home::new("export-from");
    original.add(&totp_uri("ACME", "alice"));
    let key = base32(b"vault-secret-canary!");
    original
        .add(&format!("otpauth://totp/Big%20Co:carol%40example.com?secret={key}&algorithm=SHA256&digits=8&period=60"));
    original.add(&hotp_uri("Bank", "bob", 0));
    original
        .cli(["add", "--issuer", "Manual", "--label", "dave", "--secret-stdin", "--type", "hotp", "--counter", "5"])
        .stdin(format!("{key}\n"))
        .run()
        .ok();
    original.ok(&["code", "bob"]); // The counter moves on to 1; the export must carry that.

    let exported = original.ok(&["export", "--uris", "--yes"]);
    let uris: Vec<&str> = exported.lines().collect();
    assert_eq!(uris.len(), 4, "one URI per account:\n{exported}");
    assert!(uris.iter().all(|u| u.starts_with("otpauth://")), "{exported}");

    let copy = Home::new("export-to");
    for uri in &uris {
        copy.add(uri);
    }
    assert_eq!(copy.accounts(), original.accounts(), "same accounts, same order, same counters");
    for id in 1..=4 {
        let args = ["code", &id.to_string(), "--at", "1234567890"];
        assert_eq!(copy.ok(&args), original.ok(&args), "account {id}");
    }
}

// The code view.

fn spaced(code: &str) -> String {
    let (a, b) = code.split_at(code.len() / 2);
    format!("{a} {b}")
}

#[test]
fn codes_once_lists_every_account_with_its_code() {
    let home = Home::new("codes-once");
    let alice = totp_uri("ACME", "alice");
    let carol = format!("otpauth://totp/Big:carol?secret={}&digits=8", base32(b"vault-secret-canary!"));
    home.add(&alice);
    home.add(&carol);
    home.add(&hotp_uri("Bank", "bob", 0));
    let (screen, time) = within_one_period(|| home.ok(&["codes", "--once"]));
    let lines: Vec<&str> = screen.lines().collect();
    assert_eq!(lines.len(), 3, "{screen}");
    assert!(lines[0].starts_with("ACME (alice)") && lines[0].contains(&spaced(&code_at(&alice, time))), "{screen}");
    assert!(lines[1].starts_with("Big (carol)") && lines[1].contains(&spaced(&code_at(&carol, time))), "{screen}");
    assert!(lines[2].starts_with("Bank (bob)") && lines[2].contains("counter-based"), "{screen}");
}

#[test]
fn codes_with_piped_stdout_prints_once_and_exits() {
    let home = Home::new("codes-piped");
    let alice = totp_uri("ACME", "alice");
    home.add(&alice);
    let (screen, time) = within_one_period(|| home.ok(&["codes"]));
    assert_eq!(screen.lines().count(), 1, "one frame:\n{screen}");
    assert!(screen.contains(&spaced(&code_at(&alice, time))), "{screen}");
}

#[test]
fn codes_output_has_no_ansi_escapes_when_piped() {
    let home = Home::new("codes-plain");
    home.add(&totp_uri("ACME", "alice"));
    home.add(&hotp_uri("Bank", "bob", 0));
    for args in [&["codes"][..], &["codes", "--once"]] {
        let screen = home.ok(args);
        assert!(!screen.contains('\x1b'), "escape sequence in {screen:?}");
    }
}

#[test]
fn codes_does_not_advance_hotp_counters() {
    let home = Home::new("codes-hotp");
    home.add(&hotp_uri("Bank", "bob", 0));
    home.ok(&["codes", "--once"]);
    assert_eq!(home.accounts()[0]["counter"], json!(0));
    assert_eq!(home.ok(&["code", "bob"]), "755224\n");
}
