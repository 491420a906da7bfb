//! `authenticator passkey`: the options JSON on stdin, the response JSON on stdout. The relying
//! parties proving the responses (privacyIDEA, py_webauthn) are in their own suites; here the
//! command line's own behaviour: choosing among several, refusals, listing and removing.

use serde_json::{Value, json};

use crate::support::*;

const ORIGIN: &str = "https://example.org";

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn creation(user: &str) -> String {
    json!({
        "publicKey": {
            "rp": {"id": "example.org", "name": "Example"},
            "user": {"id": b64url(user.as_bytes()), "name": user, "displayName": user},
            "challenge": b64url(b"a registration challenge"),
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        }
    })
    .to_string()
}

fn request() -> String {
    json!({"challenge": b64url(b"a login challenge"), "rpId": "example.org"}).to_string()
}

fn create(home: &Home, user: &str) -> Value {
    let out = home.cli(["passkey", "create", "--origin", ORIGIN]).stdin(creation(user)).run();
    serde_json::from_str(out.ok()).expect("RegistrationResponseJSON")
}

fn list(home: &Home) -> Vec<Value> {
    let out = home.cli(["passkey", "list", "--json"]).run();
    serde_json::from_str::<Vec<Value>>(out.ok()).unwrap()
}

#[test]
fn a_passkey_is_created_listed_used_renamed_and_removed() {
    let home = Home::new("passkey-life");
    let registration = create(&home, "alice");
    let listed = list(&home);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["credential_id"], registration["id"]);
    assert_eq!(listed[0]["user_name"], "alice");
    assert_eq!(listed[0]["last_used_at"], Value::Null);
    let out = home.cli(["passkey", "get", "--origin", ORIGIN]).stdin(request()).run();
    let assertion: Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(assertion["id"], registration["id"]);
    assert_eq!(assertion["response"]["userHandle"], b64url(b"alice"));
    assert!(list(&home)[0]["last_used_at"].is_i64());
    let id = listed[0]["id"].to_string();
    home.cli(["passkey", "rename", &id, "Work"]).run().ok();
    let table = home.cli(["passkey", "list"]).run();
    assert!(table.ok().contains("example.org") && table.ok().contains("alice \"Work\""), "{}", table.ok());
    let refused = home.cli(["passkey", "remove", &id]).run();
    assert!(refused.refused().contains("--yes"), "no terminal to confirm: refused");
    home.cli(["passkey", "remove", &id, "--yes"]).run().ok();
    assert!(list(&home).is_empty());
}

#[test]
fn several_matching_passkeys_need_user_and_are_named() {
    let home = Home::new("passkey-choose");
    create(&home, "alice");
    let bob = create(&home, "bob");
    let refused = home.cli(["passkey", "get", "--origin", ORIGIN]).stdin(request()).run();
    let message = refused.refused_in_one_line();
    assert!(message.contains("alice at example.org") && message.contains("bob at example.org"), "{message}");
    assert!(message.contains("--user"), "{message}");
    let out = home.cli(["passkey", "get", "--origin", ORIGIN, "--user", "bob"]).stdin(request()).run();
    let assertion: Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(assertion["id"], bob["id"]);
    let none = home.cli(["passkey", "get", "--origin", ORIGIN, "--user", "carol"]).stdin(request()).run();
    assert!(none.refused().contains("carol"));
}

#[test]
fn refused_requests_store_nothing_and_say_why() {
    let home = Home::new("passkey-refused");
    let cases: [(&str, String, &str); 4] = [
        ("https://evil.example", creation("alice"), "origin refused"),
        ("http://example.org", creation("alice"), "http is only for localhost"),
        (ORIGIN, "{\"rp\": {}}".to_owned(), "user: missing"),
        (ORIGIN, format!("{{\"pad\": \"{}\"}}", "x".repeat(70_000)), "larger than 64 KiB"),
    ];
    for (origin, json, why) in cases {
        let run = home.cli(["passkey", "create", "--origin", origin]).stdin(json).run();
        let message = run.refused_in_one_line();
        assert!(message.contains(why), "{origin}: {message}");
    }
    let uv = creation("alice").replace(
        "\"pubKeyCredParams\"",
        "\"authenticatorSelection\": {\"userVerification\": \"required\"}, \"pubKeyCredParams\"",
    );
    let run = home.cli(["passkey", "create", "--origin", ORIGIN]).stdin(uv).run();
    assert!(run.refused().contains("key file, which verifies nobody"), "{}", run.refused());
    assert!(list(&home).is_empty());
}
