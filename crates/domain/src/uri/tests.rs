use super::*;
use crate::Algorithm;
use crate::otp::{Generator, OtpKind};
use proptest::prelude::*;

const SECRET: &str = "JBSWY3DPEHPK3PXP";

fn ok(uri: &str) -> AccountData {
    parse(uri).unwrap_or_else(|e| panic!("{uri}: {e}"))
}

#[test]
fn parses_googles_key_uri_example() {
    let a = ok("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example");
    assert_eq!((a.issuer.as_str(), a.label.as_str()), ("Example", "alice@google.com"));
    assert_eq!(a.params, OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap());
    assert_eq!(a.secret, Secret::from_base32(SECRET).unwrap());
}

#[test]
fn secret_in_any_case_with_spaces_dashes_and_padding() {
    let reference = Secret::from_base32(SECRET).unwrap();
    for secret in [
        "jbswy3dpehpk3pxp",
        "JBSW%20Y3DP%20EHPK%203PXP",
        "JBSW+Y3DP+EHPK+3PXP",
        "JBSW-Y3DP-EHPK-3PXP",
        "JBSWY3DPEHPK3PXP%3D%3D%3D",
        "JBSWY3DPEHPK3PXP===",
    ] {
        assert_eq!(ok(&format!("otpauth://totp/x?secret={secret}")).secret, reference, "{secret}");
    }
}

#[test]
fn label_prefix_becomes_issuer_without_issuer_parameter() {
    let a = ok("otpauth://totp/ACME%20Co:john.doe%40email.com?secret=JBSWY3DPEHPK3PXP");
    assert_eq!((a.issuer.as_str(), a.label.as_str()), ("ACME Co", "john.doe@email.com"));
    let a = ok("otpauth://totp/ACME%20Co%3Ajohn?secret=JBSWY3DPEHPK3PXP");
    assert_eq!((a.issuer.as_str(), a.label.as_str()), ("ACME Co", "john"));
    let a = ok("otpauth://totp/Example:%20alice?secret=JBSWY3DPEHPK3PXP");
    assert_eq!(a.label, "alice");
}

#[test]
fn issuer_parameter_alone_or_label_alone() {
    let a = ok("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=Big+Corp");
    assert_eq!((a.issuer.as_str(), a.label.as_str()), ("Big Corp", "alice"));
    let a = ok("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP");
    assert_eq!((a.issuer.as_str(), a.label.as_str()), ("", "alice"));
    let a = ok("otpauth://totp?secret=JBSWY3DPEHPK3PXP&issuer=X");
    assert_eq!((a.issuer.as_str(), a.label.as_str()), ("X", ""));
}

#[test]
fn mismatching_prefix_and_issuer_keeps_both() {
    let a = ok("otpauth://totp/Work:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub");
    assert_eq!((a.issuer.as_str(), a.label.as_str()), ("GitHub", "Work:alice"));
    // Same issuer in another case is the same issuer.
    let a = ok("otpauth://totp/github:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub");
    assert_eq!((a.issuer.as_str(), a.label.as_str()), ("GitHub", "alice"));
}

#[test]
fn algorithm_digits_period_in_any_case() {
    for alg in ["sha256", "SHA256", "Sha256", "SHA-256"] {
        let a = ok(&format!("otpauth://totp/x?secret={SECRET}&algorithm={alg}&digits=8&period=60"));
        assert_eq!(a.params, OtpParams::totp(Algorithm::Sha256, 8, 60).unwrap(), "{alg}");
    }
    let a = ok(&format!("otpauth://TOTP/x?SECRET={SECRET}&Algorithm=sha512&DIGITS=7"));
    assert_eq!(a.params, OtpParams::totp(Algorithm::Sha512, 7, 30).unwrap());
}

#[test]
fn hotp_with_counter() {
    let a = ok(&format!("otpauth://hotp/x?secret={SECRET}&counter=42"));
    assert_eq!(a.params, OtpParams::hotp(Algorithm::Sha1, 6, 42).unwrap());
}

#[test]
fn steam_by_scheme_or_encoder() {
    for uri in [
        format!("otpauth://steam/Steam:gaben?secret={SECRET}"),
        format!("otpauth://totp/Steam:gaben?secret={SECRET}&encoder=steam&digits=5"),
        format!("otpauth://totp/Steam:gaben?secret={SECRET}&issuer=Steam&encoder=Steam"),
    ] {
        let a = ok(&uri);
        assert_eq!(a.params.kind(), OtpKind::Steam, "{uri}");
        assert_eq!((a.params.digits(), a.params.period()), (5, 30));
        assert_eq!(a.issuer, "Steam");
    }
}

#[test]
fn unknown_parameters_and_fragments_are_ignored() {
    let a =
        ok(&format!("otpauth://totp/x?secret={SECRET}&image=https%3A%2F%2Fexample.com%2Flogo.png&foo&lock=false#frag"));
    assert_eq!(a.label, "x");
}

#[test]
fn control_characters_never_reach_labels() {
    let a = ok(&format!("otpauth://totp/Evil%1B%5B2J:bob%0A?secret={SECRET}"));
    assert_eq!((a.issuer.as_str(), a.label.as_str()), ("Evil[2J", "bob"));
}

#[test]
fn rejects_with_a_reason_that_names_the_problem() {
    let cases: &[(&str, AccountError)] = &[
        ("https://example.com/?secret=JBSWY3DP", AccountError::NotOtpauth),
        ("JBSWY3DPEHPK3PXP", AccountError::NotOtpauth),
        ("otpauth://pipush/x?secret=JBSWY3DP", AccountError::UnsupportedType("pipush".into())),
        ("otpauth://totp/x?issuer=y", AccountError::MissingSecret),
        ("otpauth://totp/x?secret=", AccountError::EmptySecret),
        ("otpauth://totp/x?secret=JBSWY3DP0", AccountError::SecretNotBase32),
        ("otpauth://totp/x?secret=JBSWY3DP&period=0", AccountError::InvalidPeriod("0".into())),
        ("otpauth://totp/x?secret=JBSWY3DP&period=99999999", AccountError::InvalidPeriod("99999999".into())),
        ("otpauth://totp/x?secret=JBSWY3DP&period=-30", AccountError::InvalidPeriod("-30".into())),
        ("otpauth://totp/x?secret=JBSWY3DP&digits=3", AccountError::InvalidDigits("3".into())),
        ("otpauth://totp/x?secret=JBSWY3DP&digits=11", AccountError::InvalidDigits("11".into())),
        ("otpauth://totp/x?secret=JBSWY3DP&digits=six", AccountError::InvalidDigits("six".into())),
        ("otpauth://totp/x?secret=JBSWY3DP&algorithm=MD5", AccountError::UnknownAlgorithm("MD5".into())),
        ("otpauth://hotp/x?secret=JBSWY3DP", AccountError::MissingCounter),
        ("otpauth://hotp/x?secret=JBSWY3DP&counter=", AccountError::InvalidCounter("".into())),
        ("otpauth://hotp/x?secret=JBSWY3DP&counter=-1", AccountError::InvalidCounter("-1".into())),
        ("otpauth://totp/%FF?secret=JBSWY3DP", AccountError::InvalidEncoding),
    ];
    for (uri, want) in cases {
        assert_eq!(parse(uri).as_ref().err(), Some(want), "{uri}");
    }
    let huge = format!("otpauth://totp/x?secret={}", "A".repeat(1700));
    assert_eq!(parse(&huge).err(), Some(AccountError::SecretTooLong));
    let enormous = format!("otpauth://totp/x?secret=A&junk={}", "A".repeat(MAX_URI_BYTES));
    assert_eq!(parse(&enormous).err(), Some(AccountError::TooLong));
}

#[test]
fn error_messages_never_contain_the_secret() {
    for uri in [
        "otpauth://totp/x?secret=SUPERSECRETVALUE1",
        "otpauth://totp/x?secret=SUPERSECRETVALUE&digits=99",
        "otpauth://hotp/x?secret=SUPERSECRETVALUE",
    ] {
        let e = parse(uri).unwrap_err();
        assert!(!format!("{e} {e:?}").to_uppercase().contains("SUPERSECRET"), "{e}");
    }
}

#[test]
fn formats_and_parses_back() {
    for uri in [
        "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
        "otpauth://totp/Work:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub&digits=8&period=60&algorithm=SHA512",
        "otpauth://totp/a%3Ab?secret=JBSWY3DPEHPK3PXP",
        "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=7&digits=10",
        "otpauth://steam/Steam:gaben?secret=JBSWY3DPEHPK3PXP",
    ] {
        let a = ok(uri);
        let formatted = format(&a);
        assert_eq!(ok(&formatted), a, "{uri} -> {}", formatted.as_str());
    }
    let a = ok("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example");
    assert_eq!(
        format(&a).as_str(),
        "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA1&digits=6&period=30"
    );
}

#[test]
fn parsed_uri_gives_the_same_code_as_the_rfc_key() {
    // RFC 6238's SHA-1 key "12345678901234567890" in base32.
    let a = ok("otpauth://totp/rfc?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8");
    assert_eq!(Generator::new(a.params, &a.secret).code(59).value, "94287082");
}

fn text() -> impl Strategy<Value = String> {
    // Printable text including the separators that make labels hard: ':', '%', '&', '=', '?', '+', '#'.
    proptest::string::string_regex("[a-zA-Z0-9 :%&=?+#@/é.\\-_]{0,24}").unwrap().prop_map(|s| clean_text(&s))
}

fn account() -> impl Strategy<Value = AccountData> {
    let params = prop_oneof![
        (0..3usize, 4u8..=10, 1u32..=3600).prop_map(|(a, d, p)| OtpParams::totp(ALGS[a], d, p).unwrap()),
        (0..3usize, 4u8..=10, 0u64..=i64::MAX as u64).prop_map(|(a, d, c)| OtpParams::hotp(ALGS[a], d, c).unwrap()),
        Just(OtpParams::steam()),
    ];
    (text(), text(), params, proptest::collection::vec(any::<u8>(), 1..80)).prop_map(|(issuer, label, params, key)| {
        AccountData {
            issuer: issuer.into(),
            label: label.into(),
            params,
            secret: Secret::from_bytes(key).unwrap(),
            group: None,
        }
    })
}

const ALGS: [Algorithm; 3] = [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_input_panics_the_parser(input in any::<String>()) {
        let _ = parse(&input);
    }

    #[test]
    fn no_otpauth_shaped_input_panics_the_parser(
        kind in "(totp|hotp|steam|TOTP|x)",
        label in ".{0,40}",
        query in proptest::collection::vec(("(secret|algorithm|digits|period|counter|issuer|encoder|[a-z]{1,6})", ".{0,20}"), 0..6),
    ) {
        let query: Vec<String> = query.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = parse(&format!("otpauth://{kind}/{label}?{}", query.join("&")));
    }

    #[test]
    fn every_account_round_trips_through_its_uri(a in account()) {
        let uri = format(&a);
        prop_assert_eq!(parse(&uri), Ok(a), "{}", uri.as_str());
    }
}

/// The text of a formatted URI carries the secret: it lives in one zeroizing buffer, sized
/// exactly up front so no growing step leaves a copy behind in freed memory.
#[test]
fn formatted_uri_is_one_exactly_sized_zeroizing_buffer() {
    for uri in [
        "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
        "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=7&digits=10",
        "otpauth://steam/St%C3%A9am:g%20aben?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=St%C3%A9am",
    ] {
        let formatted: zeroize::Zeroizing<String> = format(&ok(uri));
        assert_eq!(formatted.capacity(), formatted.len(), "{uri}");
    }
}

#[test]
fn steam_accounts_can_be_written_as_totp_with_the_steam_encoder() {
    let steam = AccountData {
        issuer: "Steam".into(),
        label: "gaben".into(),
        params: OtpParams::steam(),
        secret: Secret::from_base32(SECRET).unwrap(),
        group: None,
    };
    let uri = format_with(&steam, SteamUri::TotpEncoder);
    assert_eq!(
        uri.as_str(),
        "otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXP&issuer=Steam&algorithm=SHA1&digits=5&period=30&encoder=steam"
    );
    assert_eq!(ok(&uri), steam);
    assert_eq!(format_with(&steam, SteamUri::Scheme), format(&steam));
    assert!(format(&steam).starts_with("otpauth://steam/"));
    // Other kinds are written the same either way.
    let totp = ok("otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example");
    assert_eq!(format_with(&totp, SteamUri::TotpEncoder), format(&totp));
}
