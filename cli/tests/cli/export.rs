//! Exports to other apps and to paper: `export --aegis/--2fas/--html`, `--uris --steam-as-totp`,
//! `--google --allow-partial`, run as a user would.

use std::ffi::OsStr;
use std::path::Path;

use crate::support::*;

fn steam_and_totp(home: &Home) {
    home.add(&totp_uri("ACME", "alice"));
    home.add("otpauth://steam/Steam:gaben?secret=GEZDGNBVGY3TQOJQ&issuer=Steam");
}

#[test]
fn uris_export_can_write_steam_as_totp_with_the_steam_encoder() {
    let home = Home::new("uris-steam");
    steam_and_totp(&home);
    let plain = home.ok(&["export", "--uris", "--yes"]);
    assert!(plain.lines().any(|l| l.starts_with("otpauth://steam/Steam:gaben?")), "{plain}");
    let portable = home.ok(&["export", "--uris", "--steam-as-totp", "--yes"]);
    let steam: Vec<&str> = portable.lines().filter(|l| l.contains("gaben")).collect();
    assert_eq!(steam.len(), 1, "{portable}");
    assert!(steam[0].starts_with("otpauth://totp/Steam:gaben?") && steam[0].ends_with("&encoder=steam"), "{portable}");
    assert!(steam[0].contains("&digits=5&period=30"), "{portable}");
    // Read back as Steam, with Steam's codes.
    let copy = Home::new("uris-steam-to");
    let file = copy.file("uris.txt");
    copy.ok(&["init"]);
    std::fs::write(&file, &portable).unwrap();
    copy.ok(&["import", file.to_str().unwrap()]);
    let accounts = copy.accounts();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[1]["type"], "steam");
    assert_eq!(copy.ok(&["code", "gaben", "--at", "1750000000"]), home.ok(&["code", "gaben", "--at", "1750000000"]));
}

#[test]
fn google_export_refuses_when_accounts_would_be_left_out_unless_allow_partial() {
    let home = Home::new("google-partial");
    steam_and_totp(&home);
    let run = home.run(&["export", "--google", "--yes"]);
    let stderr = run.refused().to_owned();
    assert!(run.stdout.is_empty(), "nothing printed when refusing: {:?}", run.stdout);
    assert!(stderr.contains("Steam (gaben)") && stderr.contains("--allow-partial"), "{stderr:?}");
    assert!(!stderr.contains("ACME"), "only the accounts left out are named: {stderr:?}");
    let run = home.run(&["export", "--google", "--yes", "--allow-partial"]);
    let stdout = run.ok();
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.starts_with("otpauth-migration://offline?data="), "{stdout}");
    assert!(run.stderr.contains("Steam (gaben)"), "the account left out is still named: {:?}", run.stderr);
    // Nothing left out: no flag needed.
    let fine = Home::new("google-whole");
    fine.add(&totp_uri("ACME", "alice"));
    fine.ok(&["export", "--google", "--yes"]);
}

// Files for other apps and for paper.

const PASSWORD_ENV: &str = "AUTHENTICATOR_BACKUP_PASSWORD";
const PASSWORD: &str = "correct horse battery staple";

/// Every kind, two groups, a name that needs escaping.
fn varied(home: &Home) {
    home.add("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub");
    home.ok(&["group", "alice", "Work"]);
    home.add("otpauth://hotp/Bank%20%3Cb%3E:carol?secret=MFRGGZDFMZTWQ2LK&issuer=Bank%20%3Cb%3E&algorithm=SHA512&digits=8&counter=42");
    home.ok(&["group", "carol", "Money"]);
    home.add("otpauth://steam/Steam:gaben?secret=GEZDGNBVGY3TQOJQ&issuer=Steam");
    home.add("otpauth://totp/ACME:dave?secret=KRSXG5CTMVRXEZLU&issuer=ACME&algorithm=SHA256&digits=7&period=45");
    home.ok(&["move", "gaben", "1"]);
}

/// `list --json` without ids, in order.
fn shape(home: &Home) -> Vec<serde_json::Value> {
    home.accounts()
        .into_iter()
        .map(|mut a| {
            a.as_object_mut().unwrap().remove("id");
            a
        })
        .collect()
}

fn codes(home: &Home) -> Vec<String> {
    home.accounts()
        .iter()
        .map(|a| home.ok(&["code", &a["id"].to_string(), "--at", "1750000000"]).trim_end().to_owned())
        .collect()
}

#[cfg(unix)]
fn assert_owner_only(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} is {mode:o}", file.display());
    let partial = format!("{}.partial", file.display());
    assert!(!Path::new(&partial).exists(), "no temporary file left behind");
}

fn export_file(home: &Home, flag: &str, file: &Path, extra: &[&str]) -> Run {
    let mut args = vec![OsStr::new("export"), OsStr::new(flag), file.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    home.cli(args).env(PASSWORD_ENV, PASSWORD).run()
}

/// Exports `original` with `flag`, imports the file into a fresh vault: the same accounts, in
/// order, with their groups and codes.
fn round_trip(name: &str, flag: &str, extra: &[&str], password: Option<&str>) -> String {
    let original = Home::new(&format!("{name}-from"));
    varied(&original);
    let file = original.file("export.out");
    let run = export_file(&original, flag, &file, extra);
    run.ok();
    assert!(run.stderr.contains("verified, 4 accounts import"), "{:?}", run.stderr);
    #[cfg(unix)]
    assert_owner_only(&file);
    let copy = Home::new(&format!("{name}-to"));
    let import = copy.cli([OsStr::new("import"), file.as_os_str()]);
    let import = match password {
        Some(password) => import.env(PASSWORD_ENV, password),
        None => import,
    };
    import.run().ok();
    assert_eq!(shape(&copy), shape(&original), "same accounts, order and groups");
    assert_eq!(codes(&copy), codes(&original));
    String::from_utf8(std::fs::read(&file).unwrap()).unwrap()
}

#[test]
fn aegis_export_is_encrypted_owner_only_and_imports_back() {
    let text = round_trip("aegis-enc", "--aegis", &[], Some(PASSWORD));
    assert!(text.contains("\"slots\":[{") && !text.contains("JBSWY3DP") && !text.contains("GitHub"), "{text}");
}

#[test]
fn twofas_export_is_encrypted_owner_only_and_imports_back() {
    let text = round_trip("2fas-enc", "--2fas", &[], Some(PASSWORD));
    assert!(text.contains("\"servicesEncrypted\":") && !text.contains("JBSWY3DP") && !text.contains("gaben"), "{text}");
}

#[test]
fn plain_exports_need_a_confirmation_and_then_import_back_without_password() {
    for (flag, name) in [("--aegis", "aegis-plain"), ("--2fas", "2fas-plain")] {
        let home = Home::new(&format!("{name}-refused"));
        varied(&home);
        let file = home.file("plain.out");
        let stderr = export_file(&home, flag, &file, &["--plain"]).refused().to_owned();
        assert!(stderr.contains("unencrypted") && stderr.contains("--yes"), "{stderr:?}");
        assert!(!file.exists(), "nothing written without confirmation");
        let text = round_trip(name, flag, &["--plain", "--yes"], None);
        assert!(text.contains("JBSWY3DPEHPK3PXP"), "plain means plain");
    }
}

#[test]
fn html_export_needs_a_confirmation_and_writes_an_owner_only_page() {
    let home = Home::new("html");
    varied(&home);
    let file = home.file("paper.html");
    let stderr = export_file(&home, "--html", &file, &[]).refused().to_owned();
    assert!(stderr.contains("--yes") && !file.exists(), "{stderr:?}");
    let run = export_file(&home, "--html", &file, &["--yes"]);
    run.ok();
    assert!(run.stderr.contains("paper backup of 4 accounts"), "{:?}", run.stderr);
    #[cfg(unix)]
    assert_owner_only(&file);
    let page = std::fs::read_to_string(&file).unwrap();
    assert_eq!(page.matches("<section class=\"card\">").count(), 4);
    assert!(page.contains("Bank &lt;b&gt;") && !page.contains("Bank <b>"));
    assert!(page.contains("JBSW Y3DP EHPK 3PXP") && page.contains("<svg"));
}

#[test]
fn exports_to_files_refuse_an_existing_file_and_need_a_password() {
    let home = Home::new("export-files");
    varied(&home);
    let file = home.file("taken.out");
    std::fs::write(&file, "mine").unwrap();
    for flag in ["--aegis", "--2fas", "--html", "--backup"] {
        let stderr = export_file(&home, flag, &file, &["--yes"]).refused_in_one_line().to_owned();
        assert!(stderr.contains("exists"), "{flag}: {stderr:?}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    }
    // No password in the environment and no terminal: fails clearly, writes nothing.
    let fresh = home.file("fresh.out");
    for flag in ["--aegis", "--2fas"] {
        let run = home.cli([OsStr::new("export"), OsStr::new(flag), fresh.as_os_str()]).run();
        let stderr = run.refused().to_owned();
        assert!(stderr.contains(PASSWORD_ENV), "{flag}: {stderr:?}");
        assert!(!fresh.exists());
    }
    // A short password is refused.
    let run =
        home.cli([OsStr::new("export"), OsStr::new("--aegis"), fresh.as_os_str()]).env(PASSWORD_ENV, "short").run();
    assert!(run.refused().contains("at least 8 characters"), "{:?}", run.stderr);
    assert!(!fresh.exists());
    // --plain goes with --aegis or --2fas only.
    assert!(!home.run(&["export", "--uris", "--plain", "--yes"]).status.success());
}

#[test]
fn backup_files_are_owner_only_too() {
    let home = Home::new("backup-mode");
    home.add(&totp_uri("ACME", "alice"));
    let file = home.file("backup.json");
    export_file(&home, "--backup", &file, &[]).ok();
    #[cfg(unix)]
    assert_owner_only(&file);
}
