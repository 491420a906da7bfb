//! Exports to other apps and to paper: `export --aegis/--2fas/--html`, `--uris --steam-as-totp`,
//! `--google --allow-partial`, run as a user would.

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
