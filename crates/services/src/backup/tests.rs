use std::io::Read;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;

use super::*;
use domain::otp::{Algorithm, OtpKind, OtpParams, Secret};

// ---------------------------------------------------------------------------------------------
// Fixtures: real exports from the Aegis project's importer tests (password `test`).

const PASSWORD: &str = "test";

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/import")
}

/// The fixture's bytes. The shared fixtures sit beside every checkout (and CI's): a missing one
/// fails the test rather than letting it pass having checked nothing.
pub(super) fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("import fixture {} is missing ({e})", path.display()))
}

/// The seven accounts of plain.txt, as the otpauth parser reads them.
pub(super) fn expected_accounts() -> Vec<AccountData> {
    let text = String::from_utf8(fixture("plain.txt")).unwrap();
    accounts(parse_uri_list(&text))
}

/// The five of them 2FAS holds: TOTP SHA-1, the three HOTP, Steam.
fn expected_twofas_accounts() -> Vec<AccountData> {
    let all = expected_accounts();
    [0, 3, 4, 5, 6].iter().map(|&i| all[i].clone()).collect()
}

/// Every entry's account, failing on any refused entry.
pub(super) fn accounts(entries: Vec<ImportEntry>) -> Vec<AccountData> {
    entries.into_iter().map(|e| e.outcome.unwrap_or_else(|reason| panic!("{} refused: {reason}", e.name))).collect()
}

/// The directory of the independent implementations (tests/independent) and the python of the
/// venv that tests/independent/venv.sh installs once and caches (`cryptography`, PyNaCl).
pub(super) fn independent_python() -> (PathBuf, String) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/independent");
    let venv = std::process::Command::new("bash").arg(dir.join("venv.sh")).output().unwrap();
    assert!(venv.status.success(), "venv.sh failed: {}", String::from_utf8_lossy(&venv.stderr));
    (dir, String::from_utf8(venv.stdout).unwrap().trim().to_owned())
}

fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

fn assert_invalid_or_wrong_password(result: Result<Vec<ImportEntry>>) {
    assert!(matches!(result, Err(Error::InvalidImport(_)) | Err(Error::WrongPassword)), "{result:?}");
}

#[test]
fn plain_txt_fixture_holds_the_seven_documented_accounts() {
    let expected = expected_accounts();
    let shapes: Vec<_> = expected
        .iter()
        .map(|a| (a.params.kind(), a.params.algorithm(), a.params.digits(), a.params.period(), a.params.counter()))
        .collect();
    use Algorithm::*;
    use OtpKind::*;
    assert_eq!(
        shapes,
        [
            (Totp, Sha1, 6, 30, 0),
            (Totp, Sha256, 7, 20, 0),
            (Totp, Sha512, 8, 50, 0),
            (Hotp, Sha1, 6, 30, 1),
            (Hotp, Sha256, 7, 30, 50),
            (Hotp, Sha512, 8, 30, 10300),
            (Steam, Sha1, 5, 30, 0),
        ]
    );
}

#[test]
fn aegis_plain_fixture_imports_the_seven_accounts() {
    let (bytes, expected) = (fixture("aegis_plain.json"), expected_accounts());
    assert_eq!(accounts(aegis::parse(&bytes, None).unwrap()), expected);
}

#[test]
fn aegis_encrypted_fixture_opens_with_the_right_password() {
    let (bytes, expected) = (fixture("aegis_encrypted.json"), expected_accounts());
    assert_eq!(accounts(aegis::parse(&bytes, Some(PASSWORD)).unwrap()), expected);
}

#[test]
fn aegis_encrypted_fixture_refuses_a_wrong_password() {
    let bytes = fixture("aegis_encrypted.json");
    assert!(matches!(aegis::parse(&bytes, Some("tset")), Err(Error::WrongPassword)));
}

#[test]
fn aegis_encrypted_fixture_without_password_requires_one() {
    let bytes = fixture("aegis_encrypted.json");
    assert!(matches!(aegis::parse(&bytes, None), Err(Error::PasswordRequired)));
}

#[test]
fn aegis_tampered_db_is_refused_without_panic() {
    let mut json = fixture_json("aegis_encrypted.json");
    let mut db = STANDARD.decode(json["db"].as_str().unwrap()).unwrap();
    db[10] ^= 0x01;
    json["db"] = STANDARD.encode(&db).into();
    let bytes = serde_json::to_vec(&json).unwrap();
    assert_invalid_or_wrong_password(aegis::parse(&bytes, Some(PASSWORD)));
}

#[test]
fn twofas_plain_fixture_imports_the_five_accounts() {
    let (bytes, expected) = (fixture("2fas_authenticator_plain_v4.2fas"), expected_twofas_accounts());
    assert_eq!(accounts(twofas::parse(&bytes, None).unwrap()), expected);
}

#[test]
fn twofas_encrypted_fixture_opens_with_the_right_password() {
    let (bytes, expected) = (fixture("2fas_authenticator_encrypted_v4.2fas"), expected_twofas_accounts());
    assert_eq!(accounts(twofas::parse(&bytes, Some(PASSWORD)).unwrap()), expected);
}

#[test]
fn twofas_encrypted_fixture_refuses_a_wrong_password() {
    let bytes = fixture("2fas_authenticator_encrypted_v4.2fas");
    assert!(matches!(twofas::parse(&bytes, Some("tset")), Err(Error::WrongPassword)));
}

#[test]
fn twofas_encrypted_fixture_without_password_requires_one() {
    let bytes = fixture("2fas_authenticator_encrypted_v4.2fas");
    assert!(matches!(twofas::parse(&bytes, None), Err(Error::PasswordRequired)));
}

#[test]
fn twofas_tampered_services_are_refused_without_panic() {
    let mut json = fixture_json("2fas_authenticator_encrypted_v4.2fas");
    let sealed = json["servicesEncrypted"].as_str().unwrap().to_owned();
    let mut parts: Vec<String> = sealed.split(':').map(str::to_owned).collect();
    let mut data = STANDARD.decode(&parts[0]).unwrap();
    data[10] ^= 0x01;
    parts[0] = STANDARD.encode(&data);
    json["servicesEncrypted"] = parts.join(":").into();
    let bytes = serde_json::to_vec(&json).unwrap();
    // The reference still opens, so the password is right and the data is what is damaged.
    assert!(matches!(twofas::parse(&bytes, Some(PASSWORD)), Err(Error::InvalidImport(_))));
}

#[test]
fn truncated_fixtures_are_errors_not_panics() {
    for name in [
        "aegis_plain.json",
        "aegis_encrypted.json",
        "2fas_authenticator_plain_v4.2fas",
        "2fas_authenticator_encrypted_v4.2fas",
    ] {
        let bytes = fixture(name);
        let trimmed = bytes.trim_ascii_end().len();
        for len in (0..trimmed).step_by(7) {
            let cut = &bytes[..len];
            assert!(aegis::parse(cut, Some(PASSWORD)).is_err(), "{name} cut at {len} (aegis)");
            assert!(twofas::parse(cut, Some(PASSWORD)).is_err(), "{name} cut at {len} (2fas)");
            let _ = super::parse(cut, Some(PASSWORD));
        }
    }
}

#[test]
fn detect_recognises_every_format() {
    let google = export_of(&[totp("Example", "alice", 6, 30)]).uris.join("\n");
    assert_eq!(detect(google.as_bytes()), Some(ImportFormat::GoogleMigration));
    assert_eq!(detect(b"{\"format\":\"authenticator-backup\"}"), Some(ImportFormat::Backup));
    assert_eq!(detect(br#"{"version":1,"header":{},"db":{}}"#), Some(ImportFormat::Aegis));
    assert_eq!(detect(br#"{"services":[]}"#), Some(ImportFormat::TwoFas));
    assert_eq!(detect(b"\n otpauth://totp/A?secret=JBSWY3DPEHPK3PXP\n"), Some(ImportFormat::UriList));
    assert_eq!(detect(b"hello"), None);
}

#[test]
fn detect_recognises_every_fixture() {
    for (name, format) in [
        ("aegis_plain.json", ImportFormat::Aegis),
        ("aegis_encrypted.json", ImportFormat::Aegis),
        ("2fas_authenticator_plain_v4.2fas", ImportFormat::TwoFas),
        ("2fas_authenticator_encrypted_v4.2fas", ImportFormat::TwoFas),
        ("plain.txt", ImportFormat::UriList),
    ] {
        let bytes = fixture(name);
        assert_eq!(detect(&bytes), Some(format), "{name}");
    }
}

#[test]
fn parse_reads_every_fixture_through_detection() {
    for (name, count) in [
        ("aegis_plain.json", 7),
        ("aegis_encrypted.json", 7),
        ("2fas_authenticator_plain_v4.2fas", 5),
        ("2fas_authenticator_encrypted_v4.2fas", 5),
        ("plain.txt", 7),
    ] {
        let bytes = fixture(name);
        let parsed = super::parse(&bytes, Some(PASSWORD)).unwrap();
        assert_eq!(accounts(parsed.entries).len(), count, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Aegis and 2FAS files written here.

fn aegis_plain(entries: serde_json::Value, groups: Option<serde_json::Value>) -> Vec<u8> {
    let mut db = serde_json::json!({ "version": 3, "entries": entries });
    if let Some(groups) = groups {
        db["groups"] = groups;
    }
    serde_json::to_vec(&serde_json::json!({ "version": 1, "header": { "slots": null, "params": null }, "db": db }))
        .unwrap()
}

fn aegis_entry(kind: &str, issuer: &str, name: &str, algo: &str) -> serde_json::Value {
    serde_json::json!({
        "type": kind, "uuid": "00000000-0000-0000-0000-000000000000", "name": name, "issuer": issuer,
        "info": { "secret": "JBSWY3DPEHPK3PXP", "algo": algo, "digits": 6, "period": 30 }
    })
}

#[test]
fn aegis_unsupported_token_types_are_refused_and_the_others_imported() {
    let bytes = aegis_plain(
        serde_json::json!([
            aegis_entry("yandex", "Yandex", "alice", "SHA256"),
            aegis_entry("totp", "GitHub", "alice", "SHA1"),
            aegis_entry("motp", "Old", "bob", "MD5"),
        ]),
        None,
    );
    let entries = aegis::parse(&bytes, None).unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].name, "Yandex (alice)");
    assert_eq!(entries[0].outcome, Err("unsupported OTP type 'yandex' (expected totp, hotp or steam)".to_owned()));
    let github = entries[1].outcome.as_ref().unwrap();
    assert_eq!((github.issuer.as_str(), github.label.as_str()), ("GitHub", "alice"));
    assert_eq!(entries[2].outcome, Err("unsupported OTP type 'motp' (expected totp, hotp or steam)".to_owned()));
}

#[test]
fn aegis_groups_are_read_by_uuid_and_from_the_legacy_string() {
    let mut by_uuid = aegis_entry("totp", "A", "a", "SHA1");
    by_uuid["groups"] = serde_json::json!(["g-1"]);
    let mut legacy = aegis_entry("totp", "B", "b", "SHA1");
    legacy["group"] = "Personal".into();
    let bytes = aegis_plain(
        serde_json::json!([by_uuid, legacy, aegis_entry("totp", "C", "c", "SHA1")]),
        Some(serde_json::json!([{ "uuid": "g-1", "name": "Work" }])),
    );
    let groups: Vec<_> = accounts(aegis::parse(&bytes, None).unwrap()).into_iter().map(|a| a.group).collect();
    assert_eq!(groups, [Some("Work".into()), Some("Personal".into()), None]);
}

#[test]
fn aegis_entry_with_a_bad_secret_is_refused_alone() {
    let mut bad = aegis_entry("totp", "Bad", "x", "SHA1");
    bad["info"]["secret"] = "not base32!".into();
    let bytes = aegis_plain(serde_json::json!([bad, aegis_entry("hotp", "H", "y", "SHA1")]), None);
    let entries = aegis::parse(&bytes, None).unwrap();
    assert!(entries[0].outcome.is_err());
    // HOTP without a counter is refused too rather than guessed.
    assert_eq!(entries[1].outcome, Err(domain::AccountError::MissingCounter.to_string()));
}

#[test]
fn aegis_hostile_scrypt_parameters_are_refused_before_any_work() {
    let mut json = fixture_json("aegis_encrypted.json");
    json["header"]["slots"][0]["n"] = (1u64 << 40).into();
    let bytes = serde_json::to_vec(&json).unwrap();
    assert!(matches!(aegis::parse(&bytes, Some(PASSWORD)), Err(Error::Storage(storage::Error::TooCostly { .. }))));
    assert!(
        matches!(aegis::parse(&bytes, None), Err(Error::Storage(storage::Error::TooCostly { .. }))),
        "before asking for a password"
    );
    json["header"]["slots"][0]["n"] = 3.into();
    let bytes = serde_json::to_vec(&json).unwrap();
    assert!(matches!(aegis::parse(&bytes, Some(PASSWORD)), Err(Error::InvalidImport(_))));
}

#[test]
fn twofas_groups_and_unsupported_types_are_handled_per_service() {
    let bytes = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 4,
        "groups": [{ "id": "g1", "name": "Work" }],
        "services": [
            { "name": "GitHub", "secret": "JBSWY3DPEHPK3PXP", "groupId": "g1",
              "otp": { "account": "alice", "digits": 6, "period": 30, "algorithm": "SHA256", "tokenType": "TOTP" } },
            { "name": "Yandex", "secret": "JBSWY3DPEHPK3PXP",
              "otp": { "account": "bob", "tokenType": "YAOTP" } },
            { "name": "Old", "secret": "JBSWY3DPEHPK3PXP", "otp": { "account": "carol", "algorithm": "SHA224" } },
        ]
    }))
    .unwrap();
    let entries = twofas::parse(&bytes, None).unwrap();
    let github = entries[0].outcome.as_ref().unwrap();
    assert_eq!(github.group.as_deref(), Some("Work"));
    assert_eq!(github.params, OtpParams::totp(Algorithm::Sha256, 6, 30).unwrap());
    assert_eq!(entries[1].outcome, Err("unsupported OTP type 'YAOTP' (expected totp, hotp or steam)".to_owned()));
    assert!(entries[2].outcome.as_ref().unwrap_err().contains("SHA224"));
}

// ---------------------------------------------------------------------------------------------
// Google Authenticator: payloads built here from the published protobuf schema with a tiny
// encoder of its own, independent of the production one.

use testkit::wire::{bytes_field, int_field};

/// `OtpParameters`; `None` leaves a field out (proto3 default 0).
#[derive(Default, Clone)]
struct Otp<'a> {
    secret: &'a [u8],
    name: &'a str,
    issuer: &'a str,
    algorithm: Option<u64>,
    digits: Option<u64>,
    kind: Option<u64>,
    counter: Option<u64>,
}

fn otp_message(otp: &Otp) -> Vec<u8> {
    let mut m = Vec::new();
    bytes_field(&mut m, 1, otp.secret);
    bytes_field(&mut m, 2, otp.name.as_bytes());
    bytes_field(&mut m, 3, otp.issuer.as_bytes());
    for (field, value) in [(4, otp.algorithm), (5, otp.digits), (6, otp.kind), (7, otp.counter)] {
        if let Some(v) = value {
            int_field(&mut m, field, v);
        }
    }
    m
}

/// `MigrationPayload` with version 1 and the batch fields.
fn payload(otps: &[Otp], batch: (u64, u64, u64)) -> Vec<u8> {
    let mut p = Vec::new();
    for otp in otps {
        bytes_field(&mut p, 1, &otp_message(otp));
    }
    int_field(&mut p, 2, 1);
    let (size, index, id) = batch;
    int_field(&mut p, 3, size);
    int_field(&mut p, 4, index);
    int_field(&mut p, 5, id);
    p
}

/// The URI with the base64 percent-encoded as Google Authenticator does (`+`, `/`, `=`).
fn migration_uri(payload: &[u8]) -> String {
    let data = STANDARD.encode(payload).replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
    format!("otpauth-migration://offline?data={data}")
}

const HELLO: &[u8] = b"Hello!\xde\xad\xbe\xef";

fn only_account(entries: Vec<ImportEntry>) -> AccountData {
    let mut accounts = accounts(entries);
    assert_eq!(accounts.len(), 1);
    accounts.remove(0)
}

#[test]
fn google_unspecified_algorithm_and_digits_default_to_sha1_six() {
    let otp = Otp { secret: HELLO, name: "alice@example.com", issuer: "Example", kind: Some(2), ..Otp::default() };
    let account = only_account(google::parse_lines(&migration_uri(&payload(&[otp], (1, 0, 7)))).unwrap());
    assert_eq!(account.params, OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap());
    assert_eq!(account.secret, Secret::from_bytes(HELLO.to_vec()).unwrap());
    assert_eq!((account.issuer.as_str(), account.label.as_str()), ("Example", "alice@example.com"));
}

#[test]
fn google_unspecified_type_is_totp() {
    let otp = Otp { secret: HELLO, name: "a", ..Otp::default() };
    let account = only_account(google::parse_lines(&migration_uri(&payload(&[otp], (1, 0, 7)))).unwrap());
    assert_eq!(account.params.kind(), OtpKind::Totp);
}

#[test]
fn google_hotp_keeps_its_counter_algorithm_and_digits() {
    let otp = Otp {
        secret: HELLO,
        name: "bob",
        issuer: "Bank",
        algorithm: Some(3),
        digits: Some(2),
        kind: Some(1),
        counter: Some(10300),
    };
    let account = only_account(google::parse_lines(&migration_uri(&payload(&[otp], (1, 0, 7)))).unwrap());
    assert_eq!(account.params, OtpParams::hotp(Algorithm::Sha512, 8, 10300).unwrap());
}

#[test]
fn google_percent_encoded_data_is_decoded() {
    // Whatever its offset in the payload, one copy of fb ef be sits on a base64 group and
    // encodes to "++++", and the run of ff to "////": the URI must carry %2B and %2F.
    let secret = [0xfb, 0xef, 0xbe, 0, 0xfb, 0xef, 0xbe, 0, 0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff, 0xff, 0xff];
    let otp = Otp { secret: &secret, name: "x", kind: Some(2), ..Otp::default() };
    // A name of 1 or 2 characters: one of them leaves the base64 padded.
    let uri = ["x", "xy"]
        .map(|name| migration_uri(&payload(&[Otp { name, ..otp.clone() }], (1, 0, 7))))
        .into_iter()
        .find(|uri| uri.ends_with("%3D"))
        .unwrap();
    assert!(uri.contains("%2B") && uri.contains("%2F") && uri.contains("%3D"), "{uri}");
    let account = only_account(google::parse_lines(&uri).unwrap());
    assert_eq!(account.secret.expose(), secret);
}

#[test]
fn google_url_safe_unpadded_data_is_decoded() {
    let secret = [0xfb, 0xff, 0xbf, 0xfb, 0xff, 0xbf, 0x01];
    let otp = Otp { secret: &secret, name: "x", kind: Some(2), ..Otp::default() };
    let data = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload(&[otp], (1, 0, 7)));
    let account = only_account(google::parse_lines(&format!("otpauth-migration://offline?data={data}")).unwrap());
    assert_eq!(account.secret.expose(), secret);
}

#[test]
fn google_two_line_batch_concatenates_the_entries() {
    let a = Otp { secret: HELLO, name: "a", issuer: "A", kind: Some(2), ..Otp::default() };
    let b = Otp { secret: HELLO, name: "b", issuer: "B", kind: Some(2), ..Otp::default() };
    let c = Otp { secret: HELLO, name: "c", issuer: "C", kind: Some(2), ..Otp::default() };
    let text =
        format!("{}\n\n{}\n", migration_uri(&payload(&[a, b], (2, 0, 99))), migration_uri(&payload(&[c], (2, 1, 99))));
    let issuers: Vec<_> = accounts(google::parse_lines(&text).unwrap()).into_iter().map(|a| a.issuer).collect();
    assert_eq!(issuers, ["A", "B", "C"]);
}

#[test]
fn google_missing_qr_code_of_a_batch_is_reported() {
    let a = Otp { secret: HELLO, name: "a", kind: Some(2), ..Otp::default() };
    let entries = google::parse_lines(&migration_uri(&payload(&[a], (3, 0, 5)))).unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries[0].outcome.is_ok());
    assert!(entries[1].outcome.as_ref().unwrap_err().contains("QR codes 2, 3 of 3"), "{:?}", entries[1]);
}

#[test]
fn google_md5_is_refused_and_the_others_kept() {
    let md5 = Otp { secret: HELLO, name: "old", issuer: "Legacy", algorithm: Some(4), kind: Some(2), ..Otp::default() };
    let ok = Otp { secret: HELLO, name: "new", issuer: "Modern", kind: Some(2), ..Otp::default() };
    let entries = google::parse_lines(&migration_uri(&payload(&[md5, ok], (1, 0, 7)))).unwrap();
    assert_eq!(entries[0].name, "Legacy (old)");
    assert!(entries[0].outcome.as_ref().unwrap_err().contains("MD5"));
    assert!(entries[1].outcome.is_ok());
}

#[test]
fn google_issuer_prefix_in_the_name_is_split() {
    let cases = [
        ("GitHub:alice", "", ("GitHub", "alice")),
        ("GitHub:alice", "GitHub", ("GitHub", "alice")),
        ("github: alice", "GitHub", ("GitHub", "alice")),
        ("Work:alice", "GitHub", ("GitHub", "Work:alice")),
        ("alice", "GitHub", ("GitHub", "alice")),
    ];
    for (name, issuer, (want_issuer, want_label)) in cases {
        let otp = Otp { secret: HELLO, name, issuer, kind: Some(2), ..Otp::default() };
        let account = only_account(google::parse_lines(&migration_uri(&payload(&[otp], (1, 0, 7)))).unwrap());
        assert_eq!((account.issuer.as_str(), account.label.as_str()), (want_issuer, want_label), "{name} / {issuer}");
    }
}

#[test]
fn google_undecodable_single_line_is_an_error() {
    let uri = migration_uri(&payload(&[Otp { secret: HELLO, name: "a", ..Otp::default() }], (1, 0, 7)));
    for line in [&uri[..uri.len() - 12], "otpauth-migration://offline?data=!!!", "otpauth-migration://offline"] {
        assert!(matches!(google::parse_lines(line), Err(Error::InvalidImport(_))), "{line}");
    }
}

#[test]
fn google_truncated_payload_is_an_error_not_a_panic() {
    let otp =
        Otp { secret: HELLO, name: "alice", issuer: "Example", kind: Some(1), counter: Some(5), ..Otp::default() };
    let bytes = payload(std::slice::from_ref(&otp), (1, 0, 7));
    // Cut inside the account (field 1: key, length, message); after it, the cut fields are
    // optional batch fields.
    for len in 1..otp_message(&otp).len() + 2 {
        let result = google::parse_lines(&migration_uri(&bytes[..len]));
        assert!(matches!(result, Err(Error::InvalidImport(_))), "cut at {len}: {result:?}");
    }
}

#[test]
fn google_bad_line_in_a_batch_is_refused_and_the_rest_imported() {
    let a = Otp { secret: HELLO, name: "a", kind: Some(2), ..Otp::default() };
    let text = format!("{}\notpauth-migration://offline?data=%%%", migration_uri(&payload(&[a], (1, 0, 7))));
    let entries = google::parse_lines(&text).unwrap();
    assert!(entries[0].outcome.is_ok());
    assert_eq!(entries[1].name, "line 2");
    assert!(entries[1].outcome.is_err());
}

fn totp(issuer: &str, label: &str, digits: u8, period: u32) -> AccountData {
    AccountData {
        issuer: issuer.into(),
        label: label.into(),
        params: OtpParams::totp(Algorithm::Sha1, digits, period).unwrap(),
        secret: Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
        group: None,
    }
}

fn export_of(accounts: &[AccountData]) -> google::GoogleExport {
    google::export(accounts)
}

#[test]
fn google_export_round_trips_exportable_accounts() {
    let mut hotp = totp("Bank", "bob", 8, 30);
    hotp.params = OtpParams::hotp(Algorithm::Sha256, 8, 123_456).unwrap();
    let mut sha512 = totp("Cloud", "carol", 6, 30);
    sha512.params = OtpParams::totp(Algorithm::Sha512, 6, 30).unwrap();
    let input = vec![
        totp("GitHub", "alice@example.com", 6, 30),
        hotp,
        sha512,
        totp("", "Work:dave", 6, 30),
        totp("Example", "Example:erin", 6, 30),
        totp("Ünïcode ✓", "名前", 6, 30),
        totp("OnlyIssuer", "", 6, 30),
    ];
    let export = export_of(&input);
    assert!(export.warnings.is_empty(), "{:?}", export.warnings);
    assert_eq!(export.uris.len(), 1);
    assert_eq!(accounts(google::parse_lines(&export.uris.join("\n")).unwrap()), input);
}

#[test]
fn google_export_warns_for_seven_digits_period_60_and_steam_and_leaves_them_out() {
    let mut steam = totp("Steam", "gabe", 6, 30);
    steam.params = OtpParams::steam();
    let input = vec![totp("Seven", "a", 7, 30), totp("Slow", "b", 6, 60), steam, totp("Fine", "c", 6, 30)];
    let export = export_of(&input);
    assert_eq!(export.warnings.len(), 3, "{:?}", export.warnings);
    assert!(export.warnings[0].contains("Seven (a)") && export.warnings[0].contains("7-digit"));
    assert!(export.warnings[1].contains("Slow (b)") && export.warnings[1].contains("60-second"));
    assert!(export.warnings[2].contains("Steam (gabe)") && export.warnings[2].contains("Steam accounts"));
    assert_eq!(accounts(google::parse_lines(&export.uris.join("\n")).unwrap()), [input[3].clone()]);
}

#[test]
fn google_export_splits_into_qr_codes_of_ten() {
    let input: Vec<_> = (0..25).map(|i| totp(&format!("Service {i}"), "user", 6, 30)).collect();
    let export = export_of(&input);
    assert_eq!(export.uris.len(), 3);
    assert!(export.uris.iter().all(|u| u.starts_with("otpauth-migration://offline?data=")));
    let data = |u: &String| u["otpauth-migration://offline?data=".len()..].to_owned();
    assert!(export.uris.iter().all(|u| !data(u).contains(['+', '/', '='])), "base64 must be percent-encoded");
    // All three lines are one complete batch: no missing-QR entry.
    assert_eq!(accounts(google::parse_lines(&export.uris.join("\n")).unwrap()), input);
    // One line alone is reported as an incomplete batch.
    let entries = google::parse_lines(&export.uris[0]).unwrap();
    assert_eq!(entries.len(), 11);
    assert!(entries[10].outcome.as_ref().unwrap_err().contains("QR codes 2, 3 of 3"));
}

#[test]
fn google_export_of_nothing_is_empty() {
    assert_eq!(export_of(&[]), google::GoogleExport { uris: vec![], warnings: vec![] });
}

// ---------------------------------------------------------------------------------------------
// Hostile input.

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_any_parser(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = detect(&bytes);
        let _ = super::parse(&bytes, Some("x"));
        let _ = aegis::parse(&bytes, Some("x"));
        let _ = twofas::parse(&bytes, Some("x"));
        let _ = google::parse_lines(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_migration_payloads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = google::parse_lines(&migration_uri(&bytes));
    }

    #[test]
    fn random_text_after_the_migration_scheme_never_panics(text in "otpauth-migration://[ -~]{0,200}") {
        let _ = google::parse_lines(&text);
    }
}

// ---------------------------------------------------------------------------------------------
// Importing into a vault, and backups of a vault.

fn vault() -> (tempfile::TempDir, storage::Vault) {
    let dir = tempfile::tempdir().unwrap();
    let vault = storage::Vault::open(dir.path().join("vault.db"), &storage::DataKey::from_bytes([42; 32])).unwrap();
    (dir, vault)
}

#[test]
fn import_skips_duplicates_reports_refusals_and_adds_the_rest_at_once() {
    let (_dir, vault) = vault();
    vault.add(&domain::uri::parse("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP").unwrap()).unwrap();
    let batch = parse_uri_list(
        &[
            "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP", // already in the vault
            "otpauth://totp/github:ALICE?secret=jbswy3dpehpk3pxp", // the same, other case
            "otpauth://totp/GitHub:bob?secret=JBSWY3DPEHPK3PXP",   // same secret, other account
            "otpauth://totp/AWS:root?secret=GEZDGNBVGY3TQOJQ",
            "otpauth://totp/AWS:root?secret=GEZDGNBVGY3TQOJQ", // twice in the import
            "otpauth://totp/Bad:x?secret=NOT-BASE32-1",
        ]
        .join("\n"),
    );
    let preview = import(&vault, &batch, true).unwrap();
    assert_eq!(preview.imported, ["GitHub (bob)", "AWS (root)"]);
    assert_eq!(preview.duplicates, ["GitHub (alice)", "github (ALICE)", "AWS (root)"]);
    assert_eq!(preview.refused.len(), 1);
    assert!(preview.refused[0].reason.contains("base32"), "{:?}", preview.refused);
    assert_eq!(vault.accounts().unwrap().len(), 1, "a dry run writes nothing");
    assert_eq!(import(&vault, &batch, false).unwrap(), preview);
    assert_eq!(vault.accounts().unwrap().len(), 3);
    let again = import(&vault, &batch, false).unwrap();
    assert!(again.imported.is_empty() && again.duplicates.len() == 5);
}

#[test]
fn a_backup_of_the_vault_restores_into_another_vault() {
    use format::{KdfParams, encrypt};
    let (_dir, vault) = vault();
    let totp = |issuer: &str, label: &str| AccountData {
        issuer: issuer.into(),
        label: label.into(),
        params: OtpParams::totp(Algorithm::Sha1, 8, 30).unwrap(),
        secret: Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap(),
        group: None,
    };
    let mut hotp = totp("Bank", "");
    hotp.params = OtpParams::hotp(Algorithm::Sha1, 6, 5).unwrap();
    let mut grouped = totp("GitHub", "alice");
    grouped.group = Some("Work".into());
    vault.add_all(&[grouped, hotp, totp("AWS", "root")]).unwrap();
    vault.reorder(&[3, 1]).unwrap();
    let fast = KdfParams { memory_kib: 256, iterations: 1, parallelism: 1 };
    let file = encrypt(&vault.all_account_data().unwrap(), "correct horse battery", fast).unwrap();
    assert_eq!(verify_backup(&file, "correct horse battery").unwrap().accounts, 3);

    let (_other, restored) = self::vault();
    let parsed = parse(&file, Some("correct horse battery")).unwrap();
    assert_eq!(import(&restored, &parsed.entries, false).unwrap().imported.len(), 3);
    let names = |v: &storage::Vault| {
        v.accounts().unwrap().iter().map(|a| (a.display_name(), a.group.clone())).collect::<Vec<_>>()
    };
    assert_eq!(names(&restored), names(&vault));
    assert_eq!(restored.codes(59).unwrap()[0].code, vault.codes(59).unwrap()[0].code);
    assert_eq!(restored.accounts().unwrap()[2].params.counter(), 5);
}

/// A version-1 backup written before canonical JSON came from a crate: its associated data must
/// never change by accident, or every existing backup would stop opening.
#[test]
fn a_version_1_backup_from_an_earlier_build_still_opens() {
    let file = include_bytes!("testdata/backup-v1.json");
    let restored = accounts(format::decrypt(file, "correct horse battery").unwrap());
    let names: Vec<_> = restored.iter().map(|a| (a.issuer.as_str(), a.label.as_str(), a.group.as_deref())).collect();
    assert_eq!(names, [("GitHub", "alice", Some("Work")), ("Bank", "", None), ("Steam", "gaben", None)]);
    assert_eq!(restored[0].params, OtpParams::totp(Algorithm::Sha256, 8, 60).unwrap());
    assert_eq!(restored[0].secret, Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap());
    assert_eq!(restored[1].params, OtpParams::hotp(Algorithm::Sha1, 6, 42).unwrap());
    assert_eq!(restored[2].params.kind(), OtpKind::Steam);
    assert!(matches!(format::decrypt(file, "wrong horse battery"), Err(Error::WrongPassword)));
}

// ---------------------------------------------------------------------------------------------
// The input cap.

#[test]
fn endless_or_oversized_input_stops_at_the_cap() {
    fn too_large<T>(r: Result<T>) -> bool {
        matches!(r, Err(Error::FileTooLarge { limit_bytes }) if limit_bytes == 16 << 20)
    }
    assert!(too_large(read_capped(std::io::repeat(b'#'))), "an endless reader is cut off");
    assert_eq!(read_capped(std::io::repeat(b'#').take(MAX_FILE_BYTES as u64)).unwrap().len(), MAX_FILE_BYTES);
    let big = vec![b'#'; MAX_FILE_BYTES + 1];
    assert!(too_large(parse(&big, None).map(|p| p.entries)));
    assert!(too_large(verify_backup(&big, "password").map(|c| c.accounts)));
    let message = Error::FileTooLarge { limit_bytes: MAX_FILE_BYTES as u64 }.to_string();
    assert!(message.contains("larger than 16 MiB"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Names and reasons are cleaned at the edge, in every format.

const HOSTILE: &str = "Git\u{1b}]0;pwned\u{7}Hub\u{1b}[2J\r\nevil\u{202E}buHtiG\u{200B}\u{2066}x\u{9b}\u{7f}";

/// Every text of `entries` a user may see (names, reasons, issuers, labels, groups) is clean.
#[track_caller]
fn assert_clean(entries: &[ImportEntry], what: &str) {
    assert!(!entries.is_empty(), "{what}");
    for entry in entries {
        let mut texts = vec![entry.name.clone()];
        match &entry.outcome {
            Ok(data) => {
                texts.extend([data.issuer.to_string(), data.label.to_string()]);
                texts.extend(data.group.as_ref().map(|g| g.to_string()));
            }
            Err(reason) => texts.push(reason.clone()),
        }
        for text in texts {
            assert_eq!(domain::text::clean(&text), text, "{what}: {text:?}");
            assert!(!text.contains('\u{1b}') && !text.contains('\u{202E}'), "{what}: {text:?}");
        }
    }
}

#[test]
fn hostile_names_are_cleaned_at_the_edge_of_every_format() {
    let mut grouped = aegis_entry("totp", HOSTILE, HOSTILE, "SHA1");
    grouped["groups"] = serde_json::json!(["g"]);
    let mut legacy = aegis_entry("totp", HOSTILE, "b", "SHA1");
    legacy["group"] = HOSTILE.into();
    let aegis = aegis_plain(
        serde_json::json!([
            grouped,
            legacy,
            aegis_entry(HOSTILE, HOSTILE, HOSTILE, HOSTILE),
            aegis_entry("totp", "", "", HOSTILE)
        ]),
        Some(serde_json::json!([{ "uuid": "g", "name": HOSTILE }])),
    );
    assert_clean(&aegis::parse(&aegis, None).unwrap(), "Aegis");

    let twofas = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 4,
        "groups": [{ "id": "g", "name": HOSTILE }],
        "services": [
            { "name": HOSTILE, "secret": "JBSWY3DPEHPK3PXP", "groupId": "g",
              "otp": { "account": HOSTILE, "tokenType": "TOTP" } },
            { "name": "", "secret": "JBSWY3DPEHPK3PXP",
              "otp": { "issuer": HOSTILE, "label": HOSTILE, "tokenType": HOSTILE, "digits": HOSTILE } },
        ],
    }))
    .unwrap();
    assert_clean(&twofas::parse(&twofas, None).unwrap(), "2FAS");

    let encoded: String = HOSTILE.bytes().map(|b| format!("%{b:02X}")).collect();
    let uris = format!(
        "otpauth://totp/{encoded}:{encoded}?secret=JBSWY3DPEHPK3PXP&issuer={encoded}\n\
         otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm={encoded}\n\
         otpauth://{encoded}/x?secret=JBSWY3DPEHPK3PXP&digits={encoded}\n"
    );
    assert_clean(&parse_uri_list(&uris), "URI list");

    let otp = Otp { secret: HELLO, name: HOSTILE, issuer: HOSTILE, kind: Some(2), ..Otp::default() };
    let colon = format!("{HOSTILE}:{HOSTILE}");
    let prefixed = Otp { secret: HELLO, name: &colon, kind: Some(2), ..Otp::default() };
    let md5 = Otp { secret: HELLO, name: HOSTILE, algorithm: Some(4), ..Otp::default() };
    let lines = [
        migration_uri(&payload(&[otp, prefixed, md5], (3, 0, 7))),
        format!("otpauth-migration://offline?data={encoded}"),
        format!("otpauth://totp/{encoded}?secret=JBSWY3DPEHPK3PXP&period={encoded}"),
    ]
    .join("\n");
    assert_clean(&google::parse_lines(&lines).unwrap(), "Google migration");
}

// Encrypted and crypto-heavy importers of other apps (andOTP, Stratum, Authy, TOTP
// Authenticator, FreeOTP v2), on the Aegis project's real files.
mod ente_encrypted;
mod exports;
mod foreign_encrypted;
mod plain_formats;
