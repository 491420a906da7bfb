//! `authenticator code --uri …`: codes computed from a URI alone, without a vault.

use crate::support::*;

fn rfc6238_uri(key: &[u8], algorithm: &str) -> String {
    format!("otpauth://totp/RFC:6238?secret={}&algorithm={algorithm}&digits=8&period=30", base32(key))
}

fn rfc4226_uri(counter: u64) -> String {
    format!("otpauth://hotp/RFC:4226?secret={}&counter={counter}", base32(b"12345678901234567890"))
}

/// Asserts `code --uri <uri> --at <time>` prints exactly `expected` and a newline.
#[track_caller]
fn assert_code(uri: &str, time: u64, expected: &str) {
    let home = Home::new("stateless");
    let run = code_for_uri(&home, uri, &["--at", &time.to_string()]);
    assert_eq!(run.ok(), format!("{expected}\n"), "code at {time} for {uri}");
    assert_eq!(run.stderr, "", "nothing but the code is printed");
}

#[test]
fn base32_helper_spells_the_rfc_key() {
    assert_eq!(base32(b"12345678901234567890"), RFC_SHA1_KEY);
    assert_eq!(base32(b"f"), "MY======");
    assert_eq!(base32(b"foobar"), "MZXW6YTBOI======");
}

#[test]
fn totp_sha1_codes_match_rfc6238_vectors() {
    let uri = rfc6238_uri(b"12345678901234567890", "SHA1");
    for (time, expected) in
        [(59, "94287082"), (1_111_111_109, "07081804"), (1_234_567_890, "89005924"), (20_000_000_000, "65353130")]
    {
        assert_code(&uri, time, expected);
    }
}

#[test]
fn totp_sha256_code_matches_rfc6238_vector() {
    assert_code(&rfc6238_uri(b"12345678901234567890123456789012", "SHA256"), 59, "46119246");
}

#[test]
fn totp_sha512_code_matches_rfc6238_vector() {
    let key = b"1234567890123456789012345678901234567890123456789012345678901234";
    assert_code(&rfc6238_uri(key, "SHA512"), 59, "90693936");
}

#[test]
fn hotp_codes_match_rfc4226_vectors_for_counters_0_to_9() {
    let expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
    for (counter, code) in expected.iter().enumerate() {
        assert_code(&rfc4226_uri(counter as u64), 0, code);
    }
}

#[test]
fn next_prints_the_code_of_the_following_totp_period() {
    let home = Home::new("next");
    let uri = rfc6238_uri(b"12345678901234567890", "SHA1");
    let next = code_for_uri(&home, &uri, &["--at", "59", "--next"]);
    assert_eq!(next.ok(), format!("{}\n", code_at(&uri, 89)));
}

#[test]
fn next_prints_the_code_of_the_following_hotp_counter() {
    let home = Home::new("next-hotp");
    let next = code_for_uri(&home, &rfc4226_uri(0), &["--next"]);
    assert_eq!(next.ok(), "287082\n");
}

#[test]
fn steam_code_is_five_characters_of_the_steam_alphabet() {
    let home = Home::new("steam");
    let uri = format!("otpauth://totp/Steam:alice?secret={RFC_SHA1_KEY}&encoder=steam");
    for time in [59, 1_234_567_890] {
        let code = code_for_uri(&home, &uri, &["--at", &time.to_string()]).ok().trim_end().to_owned();
        assert_eq!(code.chars().count(), 5, "{code:?}");
        assert!(code.chars().all(|c| "23456789BCDFGHJKMNPQRTVWXY".contains(c)), "{code:?}");
        assert_eq!(code_at(&uri.replace("otpauth://totp/", "otpauth://steam/"), time), code, "type steam");
    }
}

#[test]
fn without_at_the_code_is_for_the_current_time() {
    let home = Home::new("stateless-now");
    let uri = totp_uri("ACME", "alice");
    let (code, time) = within_one_period(|| code_for_uri(&home, &uri, &[]).ok().to_owned());
    assert_eq!(code, format!("{}\n", code_at(&uri, time)));
}

#[test]
fn stateless_code_creates_no_files_in_the_data_dir() {
    let home = Home::new("stateless-no-files");
    code_for_uri(&home, &totp_uri("ACME", "alice"), &[]).ok();
    assert!(!home.path().exists(), "the data dir was not created");

    std::fs::create_dir_all(home.path()).unwrap();
    code_for_uri(&home, &totp_uri("ACME", "alice"), &["--at", "59"]).ok();
    Cli::new(["code", "--uri", &hotp_uri("ACME", "bob", 3)]).env("AUTHENTICATOR_HOME", home.path()).run().ok();
    assert_eq!(home.files(), Vec::<String>::new(), "the data dir stays empty");
}

#[test]
fn stateless_code_ignores_an_unreadable_vault() {
    let home = Home::new("stateless-garbage");
    std::fs::create_dir_all(home.path()).unwrap();
    std::fs::write(home.file("vault.db"), "not a vault").unwrap();
    let run = code_for_uri(&home, &rfc4226_uri(1), &[]);
    assert_eq!(run.ok(), "287082\n");
    assert_eq!(std::fs::read(home.file("vault.db")).unwrap(), b"not a vault");
}

// Bad input: refused in one line that names the problem, nothing on stdout, no panic, no files.

#[track_caller]
fn assert_refused(uri: &str, reason_mentions: &[&str]) {
    let home = Home::new("stateless-refused");
    let run = code_for_uri(&home, uri, &["--at", "59"]);
    let stderr = run.refused_in_one_line().to_lowercase();
    for word in reason_mentions {
        assert!(stderr.contains(&word.to_lowercase()), "reason names {word:?}: {stderr:?}");
    }
    assert!(!home.path().exists(), "a refused stateless code creates no data dir");
}

#[test]
fn non_base32_secret_is_refused() {
    assert_refused("otpauth://totp/ACME:alice?secret=01189998819991197253!", &["secret", "base32"]);
}

#[test]
fn uri_without_secret_is_refused() {
    assert_refused("otpauth://totp/ACME:alice?issuer=ACME", &["no secret"]);
}

#[test]
fn eleven_digits_are_refused() {
    assert_refused(&format!("otpauth://totp/ACME:alice?secret={RFC_SHA1_KEY}&digits=11"), &["digits", "11"]);
}

#[test]
fn zero_period_is_refused() {
    assert_refused(&format!("otpauth://totp/ACME:alice?secret={RFC_SHA1_KEY}&period=0"), &["period", "0"]);
}

#[test]
fn md5_algorithm_is_refused() {
    assert_refused(&format!("otpauth://totp/ACME:alice?secret={RFC_SHA1_KEY}&algorithm=MD5"), &["algorithm", "MD5"]);
}

#[test]
fn hotp_without_counter_is_refused() {
    assert_refused(&format!("otpauth://hotp/ACME:alice?secret={RFC_SHA1_KEY}"), &["counter"]);
}

#[test]
fn https_uri_is_refused() {
    assert_refused(&format!("https://example.com/totp/ACME:alice?secret={RFC_SHA1_KEY}"), &["otpauth://"]);
}

#[test]
fn empty_string_is_refused() {
    assert_refused("", &["otpauth://"]);
}

#[test]
fn hundred_kilobyte_string_is_refused() {
    assert_refused(&"A".repeat(100 * 1024), &["longer"]);
    let long_secret = format!("otpauth://totp/ACME:alice?secret={}", "A".repeat(100 * 1024));
    assert_refused(&long_secret, &["longer"]);
}

#[test]
fn random_utf8_text_is_refused() {
    for seed in 1..=20 {
        let text = Rng::new(seed).text(200, true);
        assert_refused(&text, &["otpauth://"]);
    }
}

#[test]
fn random_text_after_an_otpauth_prefix_is_refused() {
    for seed in 1..=20 {
        let mut rng = Rng::new(seed);
        for prefix in ["otpauth://", "otpauth://totp/", "otpauth://hotp/x?", "otpauth://totp/x?secret="] {
            let uri = format!("{prefix}{}", rng.text(120, false));
            assert_refused(&uri, &[]);
        }
    }
}

/// A hostile QR code must not get line breaks or terminal escapes onto the user's terminal:
/// labels are cleaned of control characters, and error messages that quote the input should be
/// too.
#[test]
fn error_messages_do_not_echo_control_characters() {
    for uri in [
        format!("otpauth://totp/x?secret={RFC_SHA1_KEY}&algorithm=MD%0A5%1B[2J"),
        format!("otpauth://totp/x?secret={RFC_SHA1_KEY}&digits=1%0A1"),
        "otpauth://to\ntp/x?secret=GEZD".to_owned(),
        "otpauth://to\u{1b}[31mtp/x?secret=GEZD".to_owned(),
    ] {
        let home = Home::new("stateless-controls");
        let run = code_for_uri(&home, &uri, &["--at", "59"]);
        let stderr = run.refused_in_one_line();
        assert!(!stderr.trim_end().chars().any(char::is_control), "control characters in {stderr:?}");
    }
}
