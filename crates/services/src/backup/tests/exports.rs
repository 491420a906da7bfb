//! Exports to other apps (Aegis, 2FAS, paper): each read back by our importers, the encrypted
//! ones also checked field by field by an independent implementation (Python's `cryptography`).

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::*;
use domain::account::Name;
use domain::otp::{Algorithm, OtpKind, OtpParams, Secret};

const PASSWORD: &str = "correct horse battery";

fn fixture(name: &str) -> Vec<u8> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/import/aegis-testdata").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("import fixture {} is missing ({e})", path.display()))
}

/// Every kind, every algorithm, groups (one shared, one alone, none), names that need escaping
/// in JSON and HTML, and non-ASCII.
fn sample() -> Vec<AccountData> {
    let account = |issuer: &str, label: &str, params: OtpParams, secret: &str, group: Option<&str>| AccountData {
        issuer: Name::new(issuer),
        label: Name::new(label),
        params,
        secret: Secret::from_base32(secret).unwrap(),
        group: group.map(Name::new),
    };
    vec![
        account(
            "GitHub",
            "alice@example.com",
            OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap(),
            "JBSWY3DPEHPK3PXP",
            Some("Work"),
        ),
        account(
            "Bank \"<b>&co\"",
            "bob's",
            OtpParams::totp(Algorithm::Sha256, 8, 60).unwrap(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            None,
        ),
        account(
            "Ünïcødé",
            "ユーザー",
            OtpParams::totp(Algorithm::Sha512, 7, 20).unwrap(),
            "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
            Some("Work"),
        ),
        account("Counter", "hotp", OtpParams::hotp(Algorithm::Sha1, 6, 42).unwrap(), "MFRGGZDFMZTWQ2LK", Some("Home")),
        account("Steam", "gaben", OtpParams::steam(), "GEZDGNBVGY3TQOJQ", None),
        account("", "no issuer", OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap(), "ONSWG4TFOQ", None),
    ]
}

fn accounts(entries: Vec<ImportEntry>) -> Vec<AccountData> {
    entries.into_iter().map(|e| e.outcome.unwrap_or_else(|reason| panic!("{} refused: {reason}", e.name))).collect()
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn is_hex(text: &Value, bytes: usize) -> bool {
    text.as_str().is_some_and(|t| t.len() == 2 * bytes && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_uuid(text: &Value) -> bool {
    let t = text.as_str().unwrap_or_default();
    let parts: Vec<usize> = t.split('-').map(str::len).collect();
    parts == [8, 4, 4, 4, 12] && t.as_bytes()[14] == b'4'
}

/// `file` decrypted by Python's `cryptography` (tests/independent/decrypt_export.py), in a venv
/// that tests/independent/venv.sh installs once and caches.
fn independent_decrypt(kind: &str, file: &[u8], password: &str) -> Value {
    let (dir, python) = super::independent_python();
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), file).unwrap();
    let out = std::process::Command::new(python)
        .arg(dir.join("decrypt_export.py"))
        .arg(kind)
        .arg(tmp.path())
        .env("AUTHENTICATOR_TEST_PASSWORD", password)
        .output()
        .unwrap();
    assert!(out.status.success(), "decrypt_export.py failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Aegis

#[test]
fn aegis_plain_export_imports_back_with_order_groups_steam_and_hotp() {
    let file = aegis::export(&sample(), None).unwrap();
    assert_eq!(detect(&file), Some(ImportFormat::Aegis));
    assert_eq!(accounts(aegis::parse(&file, None).unwrap()), sample());
    // Shaped as Aegis 2.x writes its vault: db version 3, groups by uuid.
    let v = json(&file);
    assert_eq!(v["version"], 1);
    assert!(v["header"]["slots"].is_null() && v["header"]["params"].is_null());
    let db = &v["db"];
    assert_eq!(db["version"], 3);
    let groups = db["groups"].as_array().unwrap();
    assert_eq!(groups.iter().map(|g| g["name"].as_str().unwrap()).collect::<Vec<_>>(), ["Work", "Home"]);
    assert!(groups.iter().all(|g| is_uuid(&g["uuid"])));
    let entries = db["entries"].as_array().unwrap();
    assert_eq!(entries[0]["groups"], serde_json::json!([groups[0]["uuid"]]));
    assert_eq!(entries[2]["groups"], entries[0]["groups"]);
    assert_eq!(entries[3]["groups"], serde_json::json!([groups[1]["uuid"]]));
    assert_eq!(entries[1]["groups"], serde_json::json!([]));
    assert_eq!(entries[3]["type"], "hotp");
    assert_eq!(entries[3]["info"]["counter"], 42);
    assert_eq!(entries[4]["type"], "steam");
    assert_eq!(
        entries[4]["info"],
        serde_json::json!({"secret": "GEZDGNBVGY3TQOJQ", "algo": "SHA1", "digits": 5, "period": 30})
    );
    assert_eq!(entries[1]["issuer"], "Bank \"<b>&co\"");
    let uuids: std::collections::HashSet<_> = entries.iter().map(|e| e["uuid"].as_str().unwrap()).collect();
    assert_eq!(uuids.len(), entries.len());
    assert!(entries.iter().all(|e| is_uuid(&e["uuid"])));
}

#[test]
fn aegis_encrypted_export_is_an_aegis_vault_with_one_scrypt_password_slot() {
    let file = aegis::export(&sample(), Some(PASSWORD)).unwrap();
    assert_eq!(detect(&file), Some(ImportFormat::Aegis));
    assert_eq!(accounts(aegis::parse(&file, Some(PASSWORD)).unwrap()), sample());
    assert!(matches!(aegis::parse(&file, Some("correct horse batterY")), Err(Error::WrongPassword)));
    assert!(matches!(aegis::parse(&file, None), Err(Error::PasswordRequired)));
    let v = json(&file);
    let slots = v["header"]["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 1);
    let slot = &slots[0];
    assert_eq!(
        (slot["type"].clone(), slot["n"].clone(), slot["r"].clone(), slot["p"].clone()),
        (1.into(), 32768.into(), 8.into(), 1.into())
    );
    assert!(is_hex(&slot["salt"], 32) && is_hex(&slot["key"], 32) && is_uuid(&slot["uuid"]));
    assert!(is_hex(&slot["key_params"]["nonce"], 12) && is_hex(&slot["key_params"]["tag"], 16));
    assert_eq!(slot["repaired"], true);
    assert!(is_hex(&v["header"]["params"]["nonce"], 12) && is_hex(&v["header"]["params"]["tag"], 16));
    // Base64 with padding, as Java writes it.
    let db = v["db"].as_str().unwrap();
    assert!(STANDARD.decode(db).is_ok());
    // Nothing in clear: no secret, name or group.
    let text = String::from_utf8(file.to_vec()).unwrap();
    for needle in ["JBSWY3DP", "GitHub", "alice", "Work", "Steam", "entries"] {
        assert!(!text.contains(needle), "{needle} in clear");
    }
    let again = aegis::export(&sample(), Some(PASSWORD)).unwrap();
    assert_ne!(json(&again)["header"]["slots"][0]["salt"], slot["salt"], "fresh salt every time");
}

#[test]
fn aegis_export_refuses_a_short_password() {
    assert!(matches!(aegis::export(&sample(), Some("1234567")), Err(Error::WeakPassword(8))));
}

#[test]
fn aegis_fixtures_export_back_to_the_same_accounts() {
    for (name, password) in [("aegis_plain.json", None), ("aegis_encrypted.json", Some("test"))] {
        let imported = accounts(aegis::parse(&fixture(name), password).unwrap());
        assert_eq!(imported.len(), 7, "{name}");
        let plain = aegis::export(&imported, None).unwrap();
        assert_eq!(accounts(aegis::parse(&plain, None).unwrap()), imported, "{name}");
        let encrypted = aegis::export(&imported, Some(PASSWORD)).unwrap();
        assert_eq!(accounts(aegis::parse(&encrypted, Some(PASSWORD)).unwrap()), imported, "{name}");
    }
}

#[test]
fn aegis_encrypted_export_is_decrypted_field_by_field_by_python_cryptography() {
    let sample = sample();
    let db = independent_decrypt("aegis", &aegis::export(&sample, Some(PASSWORD)).unwrap(), PASSWORD);
    assert_eq!(db["version"], 3);
    let groups = db["groups"].as_array().unwrap();
    let group_name =
        |uuid: &Value| groups.iter().find(|g| g["uuid"] == *uuid).map(|g| g["name"].as_str().unwrap().to_owned());
    let entries = db["entries"].as_array().unwrap();
    assert_eq!(entries.len(), sample.len());
    for (entry, account) in entries.iter().zip(&sample) {
        let p = &account.params;
        assert_eq!(entry["type"], p.kind().as_str());
        assert_eq!(entry["issuer"], account.issuer.as_str());
        assert_eq!(entry["name"], account.label.as_str());
        assert_eq!(entry["info"]["secret"], account.secret.to_base32().as_str());
        assert_eq!(entry["info"]["algo"], p.algorithm().as_str());
        assert_eq!(entry["info"]["digits"], p.digits());
        match p.kind() {
            OtpKind::Hotp => assert_eq!(entry["info"]["counter"], p.counter()),
            OtpKind::Totp | OtpKind::Steam => assert_eq!(entry["info"]["period"], p.period()),
        }
        let group = entry["groups"].as_array().unwrap().first().and_then(group_name);
        assert_eq!(group.as_deref(), account.group.as_deref());
    }
}

// ---------------------------------------------------------------------------------------------
// 2FAS

#[test]
fn twofas_plain_export_imports_back_with_order_groups_steam_and_hotp() {
    let file = twofas::export(&sample(), None).unwrap();
    assert_eq!(detect(&file), Some(ImportFormat::TwoFas));
    assert_eq!(accounts(twofas::parse(&file, None).unwrap()), sample());
    let v = json(&file);
    assert_eq!(v["schemaVersion"], 4);
    assert!(v.get("servicesEncrypted").is_none() && v.get("reference").is_none());
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.iter().map(|g| g["name"].as_str().unwrap()).collect::<Vec<_>>(), ["Work", "Home"]);
    let services = v["services"].as_array().unwrap();
    assert_eq!(services[0]["groupId"], groups[0]["id"]);
    assert_eq!(services[3]["groupId"], groups[1]["id"]);
    assert!(services[1].get("groupId").is_none());
    assert_eq!(services[3]["otp"]["tokenType"], "HOTP");
    assert_eq!(services[3]["otp"]["counter"], 42);
    assert_eq!(services[4]["otp"]["tokenType"], "STEAM");
    assert_eq!(services[4]["otp"]["digits"], 5);
    assert_eq!(
        services.iter().map(|s| s["order"]["position"].as_u64().unwrap()).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
    assert_eq!(services[5]["name"], "no issuer", "a service without issuer is named after its account");
    assert_eq!(services[0]["icon"]["label"]["text"], "GI");
}

#[test]
fn twofas_encrypted_export_is_schema_v4_with_data_salt_iv_and_reference() {
    let file = twofas::export(&sample(), Some(PASSWORD)).unwrap();
    assert_eq!(detect(&file), Some(ImportFormat::TwoFas));
    assert_eq!(accounts(twofas::parse(&file, Some(PASSWORD)).unwrap()), sample());
    assert!(matches!(twofas::parse(&file, Some("correct horse batterY")), Err(Error::WrongPassword)));
    assert!(matches!(twofas::parse(&file, None), Err(Error::PasswordRequired)));
    let v = json(&file);
    assert_eq!(v["services"], serde_json::json!([]));
    let parts = |field: &str| -> Vec<Vec<u8>> {
        v[field].as_str().unwrap().split(':').map(|p| STANDARD.decode(p).unwrap()).collect()
    };
    let (services, reference) = (parts("servicesEncrypted"), parts("reference"));
    assert_eq!((services.len(), services[1].len(), services[2].len()), (3, 256, 12));
    assert_eq!(reference[1], services[1], "the reference is sealed with the same key (salt)");
    assert_ne!(reference[2], services[2], "but a fresh iv");
    let text = String::from_utf8(file.to_vec()).unwrap();
    for needle in ["JBSWY3DP", "GitHub", "alice", "gaben", "tokenType"] {
        assert!(!text.contains(needle), "{needle} in clear");
    }
    // A damaged ciphertext is told apart from a wrong password by the reference.
    let mut damaged = v.clone();
    let mut data = services[0].clone();
    data[5] ^= 1;
    damaged["servicesEncrypted"] =
        format!("{}:{}:{}", STANDARD.encode(&data), STANDARD.encode(&services[1]), STANDARD.encode(&services[2]))
            .into();
    let result = twofas::parse(&serde_json::to_vec(&damaged).unwrap(), Some(PASSWORD));
    assert!(matches!(result, Err(Error::InvalidImport(_))), "{result:?}");
}

#[test]
fn twofas_export_refuses_a_short_password() {
    assert!(matches!(twofas::export(&sample(), Some("1234567")), Err(Error::WeakPassword(8))));
}

#[test]
fn twofas_encrypted_export_is_decrypted_field_by_field_by_python_cryptography() {
    let sample = sample();
    let file = twofas::export(&sample, Some(PASSWORD)).unwrap();
    let groups = json(&file)["groups"].clone();
    let out = independent_decrypt("2fas", &file, PASSWORD);
    assert_eq!(out["salt_bytes"], 256);
    // The reference holds 2FAS's own constant, the one its real encrypted exports carry.
    let real = independent_decrypt("2fas", &fixture("2fas_authenticator_encrypted_v4.2fas"), "test");
    assert_eq!(out["reference"], real["reference"]);
    let services = out["services"].as_array().unwrap();
    assert_eq!(services.len(), sample.len());
    for (i, (service, account)) in services.iter().zip(&sample).enumerate() {
        let p = &account.params;
        let otp = &service["otp"];
        assert_eq!(service["secret"], account.secret.to_base32().as_str());
        assert_eq!(otp["issuer"], account.issuer.as_str());
        assert_eq!(otp["account"], account.label.as_str());
        assert_eq!(otp["algorithm"], p.algorithm().as_str());
        assert_eq!(otp["digits"], p.digits());
        assert_eq!(otp["tokenType"], p.kind().as_str().to_uppercase());
        match p.kind() {
            OtpKind::Hotp => assert_eq!(otp["counter"], p.counter()),
            OtpKind::Totp | OtpKind::Steam => assert_eq!(otp["period"], p.period()),
        }
        assert_eq!(service["order"]["position"], i);
        let group = service["groupId"].as_str().and_then(|id| {
            groups.as_array().unwrap().iter().find(|g| g["id"] == id).map(|g| g["name"].as_str().unwrap().to_owned())
        });
        assert_eq!(group.as_deref(), account.group.as_deref());
    }
}

#[test]
fn twofas_fixtures_export_back_to_the_same_accounts() {
    for (name, password) in
        [("2fas_authenticator_plain_v4.2fas", None), ("2fas_authenticator_encrypted_v4.2fas", Some("test"))]
    {
        let imported = accounts(twofas::parse(&fixture(name), password).unwrap());
        assert_eq!(imported.len(), 5, "{name}");
        let plain = twofas::export(&imported, None).unwrap();
        assert_eq!(accounts(twofas::parse(&plain, None).unwrap()), imported, "{name}");
        let encrypted = twofas::export(&imported, Some(PASSWORD)).unwrap();
        assert_eq!(accounts(twofas::parse(&encrypted, Some(PASSWORD)).unwrap()), imported, "{name}");
        // And across apps: a 2FAS file exported as an Aegis vault.
        let aegis = aegis::export(&imported, Some(PASSWORD)).unwrap();
        assert_eq!(accounts(aegis::parse(&aegis, Some(PASSWORD)).unwrap()), imported, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Paper (HTML)

/// The inline SVG elements of a page, in order.
fn svgs(page: &str) -> Vec<&str> {
    page.match_indices("<svg")
        .map(|(start, _)| &page[start..start + page[start..].find("</svg>").unwrap() + 6])
        .collect()
}

/// An SVG of the page rasterised to a greyscale PGM image, 8 pixels per unit. Reads the two
/// shapes the QR renderer draws: the background `rect` and one `path` of `M x y h w v h H x V y`
/// rectangles (what is drawn is still decoded by an independent decoder, below).
fn rasterise(svg: &str) -> Vec<u8> {
    const SCALE: usize = 8;
    let attribute = |name: &str| -> usize {
        let at = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        svg[at..at + svg[at..].find('"').unwrap()].parse().unwrap()
    };
    let (width, height) = (attribute("width"), attribute("height"));
    let mut pixels = vec![255u8; width * SCALE * height * SCALE];
    let d_at = svg.find(" d=\"").unwrap() + 4;
    let d = &svg[d_at..d_at + svg[d_at..].find('"').unwrap()];
    for rect in d.split('M').filter(|r| !r.is_empty()) {
        let numbers: Vec<usize> =
            rect.split(|c: char| !c.is_ascii_digit()).filter(|n| !n.is_empty()).map(|n| n.parse().unwrap()).collect();
        let (left, top, w, h) = (numbers[0], numbers[1], numbers[2], numbers[3]);
        for y in top * SCALE..(top + h) * SCALE {
            for x in left * SCALE..(left + w) * SCALE {
                pixels[y * width * SCALE + x] = 0;
            }
        }
    }
    let mut pgm = format!("P5\n{} {}\n255\n", width * SCALE, height * SCALE).into_bytes();
    pgm.extend_from_slice(&pixels);
    pgm
}

/// What `zbarimg` (an independent decoder, Debian's zbar-tools) reads from a rasterised SVG.
fn scan(svg: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("qr.pgm");
    std::fs::write(&image, rasterise(svg)).unwrap();
    let zbar = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", "-Sbinary"])
        .arg(&image)
        .output()
        .expect("zbarimg (Debian's zbar-tools) is needed to decode the QR codes");
    assert!(zbar.status.success(), "zbarimg: {}", String::from_utf8_lossy(&zbar.stderr));
    String::from_utf8(zbar.stdout).unwrap().trim_end_matches('\n').to_owned()
}

#[test]
fn paper_sheet_has_a_warning_and_one_escaped_card_per_account_with_its_secret() {
    let sample = sample();
    let page = String::from_utf8(paper::html(&sample).unwrap().to_vec()).unwrap();
    let warning = page.find("class=\"warning\"").unwrap();
    assert!(warning < page.find("class=\"card\"").unwrap(), "the warning comes first");
    assert!(page[warning..].contains("holds the secrets of 6 account(s)"));
    assert_eq!(page.matches("<section class=\"card\">").count(), sample.len());
    assert_eq!(svgs(&page).len(), sample.len());
    assert!(page.contains("<h2>Bank &quot;&lt;b&gt;&amp;co&quot;</h2>"), "names are escaped");
    assert!(page.contains("bob&#39;s") && !page.contains("<b>"));
    assert!(page.contains("<h2>Ünïcødé</h2>") && page.contains("ユーザー"));
    assert!(page.contains("<p class=\"secret\">JBSW Y3DP EHPK 3PXP</p>"));
    assert!(page.contains("<p class=\"secret\">ONSW G4TF OQ</p>"));
    assert!(page.contains("counter 42") && page.contains("group Work") && page.contains("Steam Guard"));
    // Self-contained: nothing to fetch, nothing to run.
    assert!(page.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    let lower = page.to_lowercase();
    for needle in ["<script", "src=", "href", "url(", "@import", "<link", "<img", "<iframe"] {
        assert!(!lower.contains(needle), "{needle} in the page");
    }
    let without_namespace = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!without_namespace.contains("http:") && !without_namespace.contains("https:"));
}

#[test]
fn paper_sheet_qr_codes_scan_with_zbar_and_import_back() {
    let sample = sample();
    let page = String::from_utf8(paper::html(&sample).unwrap().to_vec()).unwrap();
    let scanned: Vec<String> = svgs(&page).into_iter().map(scan).collect();
    let text = scanned.join("\n");
    assert_eq!(
        accounts(parse_uri_list(&text))
            .into_iter()
            .map(|mut a| {
                a.group = None;
                a
            })
            .collect::<Vec<_>>(),
        sample
            .into_iter()
            .map(|mut a| {
                a.group = None;
                a
            })
            .collect::<Vec<_>>(),
        "otpauth URIs carry no group"
    );
}

#[test]
fn paper_sheet_of_the_real_fixtures_scans_back_to_them() {
    let imported = accounts(aegis::parse(&fixture("aegis_plain.json"), None).unwrap());
    let page = String::from_utf8(paper::html(&imported).unwrap().to_vec()).unwrap();
    let text = svgs(&page).into_iter().map(scan).collect::<Vec<_>>().join("\n");
    assert_eq!(accounts(parse_uri_list(&text)), imported);
}
