//! Push beyond privacyIDEA, end to end against a real eduMFA 2.9.5 server on 127.0.0.1 (from
//! PyPI, installed and cached by tests/edumfa/edumfa-server.sh and stopped by PID when this
//! binary ends): eduPUSH (P-256 device keys), eduMFA's older `push` type (otpauth://pipush) and
//! tiqr (OCRA over a scanned code), through the core's Rust API and the `authenticator` CLI.
//!
//! Scenarios run one after another on one server, each catching its own panic; the binary prints
//! a closing `N passed, N failed` line.

use std::collections::BTreeMap;
use std::path::Path;

use domain::{DeviceKeyType, PushProtocol};
use serde_json::Value;
use services::Error;
use services::push;

mod support;

use support::harness;
use support::phone::{self, CliHome, Phone};

use harness::Server;

impl Server {
    /// A fresh token of `kind` (`edupush`, `push`, `tiqr`) for `user`: (serial, enrollment URI).
    fn enrollment(&self, kind: &str, user: &str, extra: &[&str]) -> (String, String) {
        let mut args = vec!["enroll-push", "--type", kind, "--user", user];
        args.extend_from_slice(extra);
        let reply = self.admin(&args);
        let uri = reply["uri"].as_str().unwrap_or_else(|| panic!("no enrollment URI: {reply}"));
        (reply["serial"].as_str().unwrap().to_owned(), uri.to_owned())
    }
}

fn edupush_enroll_approve_with_a_p256_key(server: &Server) {
    let (serial, uri) = server.enrollment("edupush", "alice", &[]);
    assert!(uri.starts_with("edumfa-push://edumfa/") && uri.contains("v=1"), "{uri}");
    let phone = Phone::new("edupush-approve");
    let token = phone.enroll(&uri, None);
    assert_eq!((token.protocol, token.key_type), (PushProtocol::EduPush, DeviceKeyType::P256));
    assert!(!token.offers_number_matching && !token.offers_decline_reasons, "{token:?}");
    // The server stored our P-256 public key and verifies ECDSA with it.
    let info = server.admin(&["token", &serial]);
    assert!(info.to_string().contains("public_key_smartphone"), "{info}");
    let tx = server.trigger("alice");
    assert_eq!(server.status(&tx), "pending");
    let request = phone.poll_one(&BTreeMap::new());
    assert_eq!(request.serial, serial);
    assert!(request.choices.is_none() && !request.decline_reasons, "{request:?}");
    phone.approve(request.id, None, None).unwrap();
    assert_eq!(server.status(&tx), "accept");
    assert!(server.finish("alice", &tx), "the login did not complete");
    assert!(matches!(phone.approve(request.id, None, None), Err(Error::Storage(storage::Error::AlreadyAnswered))));
    assert_eq!(phone.vault.push_history(10).unwrap()[0].decision, push::Decision::Approved);
    server.delete_token(&serial);
}

fn edupush_deny_declines_without_a_reason_on_the_wire(server: &Server) {
    let (serial, uri) = server.enrollment("edupush", "alice", &[]);
    // eduPUSH has no decline reasons on the wire: the reason stays in the local history.
    phone::deny_declines_the_sign_in(server, "edupush-deny", &serial, &uri, false);
}

fn edupush_pin_demanded_by_the_server(server: &Server) {
    let (serial, uri) = server.enrollment("edupush", "bob", &["--pin-policy"]);
    phone::pin_demanded_by_the_server(server, "edupush-pin", "bob", &serial, &uri);
}

/// eduMFA's older `push` type still issues otpauth://pipush links: privacyIDEA's protocol, RSA.
fn older_pipush_type_still_works(server: &Server) {
    let (serial, uri) = server.enrollment("push", "alice", &[]);
    assert!(uri.starts_with("otpauth://pipush/"), "{uri}");
    let phone = Phone::new("pipush");
    let token = phone.enroll(&uri, None);
    assert_eq!((token.protocol, token.key_type), (PushProtocol::PrivacyIdea, DeviceKeyType::Rsa));
    let tx = server.trigger("alice");
    let request = phone.poll_one(&BTreeMap::new());
    phone.approve(request.id, None, None).unwrap();
    assert_eq!(server.status(&tx), "accept");
    assert!(server.finish("alice", &tx));
    server.delete_token(&serial);
}

impl CliHome {
    /// `push poll --json` until a request arrives.
    fn poll_one(&self) -> Value {
        for _ in 0..10 {
            let requests: Value = serde_json::from_str(&self.ok(&["push", "poll", "--json"])).unwrap();
            if let Some(first) = requests.as_array().and_then(|a| a.first()) {
                return first.clone();
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        panic!("no request arrived");
    }
}

fn cli_edupush_enroll_approve_deny(server: &Server) {
    let home = CliHome::new("edupush");
    let (serial, uri) = server.enrollment("edupush", "alice", &[]);
    home.ok(&["push", "enroll", &uri]);
    let list = home.ok(&["push", "list"]);
    assert!(list.contains(&serial) && list.contains("[edupush, p256]"), "{list}");
    let tx = server.trigger("alice");
    let request = home.poll_one();
    assert!(request["answers"].is_null() && request["decline_reasons"] == false, "{request}");
    home.ok(&["push", "approve", &request["id"].to_string()]);
    assert_eq!(server.status(&tx), "accept");
    let tx = server.trigger("alice");
    let request = home.poll_one();
    home.ok(&["push", "deny", &request["id"].to_string()]);
    assert_eq!(server.status(&tx), "declined");
    server.delete_token(&serial);
}

/// The tiqr sign-in code of a login the server just started: (transaction id, tiqrauth URI).
fn tiqr_sign_in(server: &Server, user: &str) -> (String, String) {
    let reply = server.trigger_reply(user);
    let tx = reply["transaction_id"].as_str().unwrap_or_else(|| panic!("no transaction: {reply}")).to_owned();
    let detail = &reply["response"]["detail"];
    let mut candidates = vec![&detail["attributes"]["value"]];
    if let Some(list) = detail["multi_challenge"].as_array() {
        candidates.extend(list.iter().map(|c| &c["attributes"]["value"]));
    }
    let uri = candidates
        .into_iter()
        .filter_map(Value::as_str)
        .find(|v| v.starts_with("tiqrauth://"))
        .unwrap_or_else(|| panic!("no tiqrauth code in the login reply: {reply}"));
    (tx, uri.to_owned())
}

fn reopen_request(db: &Path, id: i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute("UPDATE push_requests SET state = 'pending', decided_at = NULL WHERE id = ?1", [id]).unwrap();
}

fn tiqr_enroll_sign_in_and_replay(server: &Server) {
    let (serial, uri) = server.enrollment("tiqr", "alice", &[]);
    assert!(uri.starts_with("tiqrenroll://http://127.0.0.1:"), "{uri}");
    let phone = Phone::new("tiqr");
    let token = phone.enroll(&uri, None);
    assert_eq!((token.protocol, token.key_type), (PushProtocol::Tiqr, DeviceKeyType::OcraSecret));
    assert_eq!(token.issuer, "eduMFA test");
    assert!(token.url.ends_with("/ttype/tiqr") && !token.serial.contains("alice"), "{token:?}");
    let (tx, code) = tiqr_sign_in(server, "alice");
    let request = push::tiqr::scan(&phone.vault, &code).unwrap();
    assert!(request.question.starts_with("Sign in to ") && request.choices.is_none(), "{request:?}");
    // Scanning the same code again is the same request.
    assert_eq!(push::tiqr::scan(&phone.vault, &code).unwrap().id, request.id);
    assert_eq!(server.status(&tx), "pending");
    phone.approve(request.id, None, None).unwrap();
    assert_eq!(server.status(&tx), "accept");
    assert!(server.finish("alice", &tx), "the login did not complete");
    assert!(matches!(phone.approve(request.id, None, None), Err(Error::Storage(storage::Error::AlreadyAnswered))));
    // Scanned again after the answer: the same request, shown as answered.
    let again = push::tiqr::scan(&phone.vault, &code).unwrap();
    assert_eq!((again.id, again.state), (request.id, push::RequestState::Approved));
    // The same response sent again (the request forced open in the vault) is refused by the server.
    reopen_request(&phone.db(), request.id);
    assert!(matches!(phone.approve(request.id, None, None), Err(Error::InvalidChallenge)), "replay");
    let history = phone.vault.push_history(10).unwrap();
    assert_eq!((history[0].decision, history[1].decision), (push::Decision::Expired, push::Decision::Approved));
    server.delete_token(&serial);
}

fn tiqr_wrong_response_is_counted_and_pin_guards_the_secret(server: &Server) {
    let (serial, uri) = server.enrollment("tiqr", "bob", &[]);
    let phone = Phone::new("tiqr-pin");
    let token = phone.enroll(&uri, Some("2468"));
    assert!(token.has_pin);
    let (tx, code) = tiqr_sign_in(server, "bob");
    // A code whose challenge was changed: our response is wrong for the server's challenge.
    let parts: Vec<&str> = code.trim_start_matches("tiqrauth://").split('/').collect();
    let challenge = parts[2];
    let flipped: String = challenge.chars().map(|c| if c == '9' { '0' } else { char::from(c as u8 + 1) }).collect();
    let tampered = code.replacen(&format!("/{challenge}/"), &format!("/{flipped}/"), 1);
    let wrong = push::tiqr::scan(&phone.vault, &tampered).unwrap();
    assert!(matches!(phone.approve(wrong.id, None, Some("1111")), Err(Error::WrongPin { .. })));
    match phone.approve(wrong.id, None, Some("2468")) {
        Err(Error::ResponseRefused { attempts_left: Some(n) }) => assert!(n < 10, "{n}"),
        other => panic!("expected INVALID_RESPONSE:<n>, got {other:?}"),
    }
    let info = server.admin(&["token", &serial]);
    assert!(info.to_string().contains("\"failcount\": 1") || info.to_string().contains("\"failcount\":1"), "{info}");
    let request = push::tiqr::scan(&phone.vault, &code).unwrap();
    assert!(matches!(phone.approve(request.id, None, None), Err(Error::PinRequired)));
    phone.approve(request.id, None, Some("2468")).unwrap();
    assert_eq!(server.status(&tx), "accept");
    assert!(server.finish("bob", &tx));
    server.delete_token(&serial);
}

fn tiqr_code_for_an_identity_not_held_is_refused(server: &Server) {
    let (serial, uri) = server.enrollment("tiqr", "alice", &[]);
    let (bob_serial, _) = server.enrollment("tiqr", "bob", &[]);
    let phone = Phone::new("tiqr-other");
    phone.enroll(&uri, None);
    // bob's real sign-in code, on alice's phone.
    let (_tx, code) = tiqr_sign_in(server, "bob");
    assert!(matches!(push::tiqr::scan(&phone.vault, &code), Err(Error::UnknownIdentity)));
    assert!(phone.vault.pending_push_requests().unwrap().is_empty());
    server.delete_token(&serial);
    server.delete_token(&bob_serial);
}

fn cli_tiqr_enroll_scan_approve(server: &Server) {
    let home = CliHome::new("tiqr");
    let (serial, uri) = server.enrollment("tiqr", "alice", &[]);
    home.ok(&["push", "enroll", &uri]);
    assert!(home.ok(&["push", "list"]).contains("[tiqr, ocra-secret]"));
    let (tx, code) = tiqr_sign_in(server, "alice");
    let request: Value = serde_json::from_str(&home.ok(&["push", "scan", &code, "--json"])).unwrap();
    assert_eq!(request["state"], "pending");
    home.ok(&["push", "approve", &request["id"].to_string()]);
    assert_eq!(server.status(&tx), "accept");
    assert!(server.finish("alice", &tx));
    // The answered code scanned again: shown as answered, with no Approve offered.
    let again = home.run(&["push", "scan", &code], b"");
    let (stdout, stderr) = (String::from_utf8_lossy(&again.stdout), String::from_utf8_lossy(&again.stderr));
    assert!(
        again.status.success() && stdout.contains("(already approved)") && !stderr.contains("Approve with"),
        "{stdout} {stderr}"
    );
    let again: Value = serde_json::from_str(&home.ok(&["push", "scan", &code, "--json"])).unwrap();
    assert_eq!((again["id"].clone(), again["state"].as_str()), (request["id"].clone(), Some("approved")));
    let (_tx, code) = tiqr_sign_in(server, "alice");
    let request: Value = serde_json::from_str(&home.ok(&["push", "scan", &code, "--json"])).unwrap();
    home.ok(&["push", "deny", &request["id"].to_string()]);
    let history: Value = serde_json::from_str(&home.ok(&["push", "history", "--json"])).unwrap();
    assert_eq!(history[0]["decision"], "denied");
    server.delete_token(&serial);
}

fn main() {
    let scenarios = scenarios![
        edupush_enroll_approve_with_a_p256_key,
        edupush_deny_declines_without_a_reason_on_the_wire,
        edupush_pin_demanded_by_the_server,
        older_pipush_type_still_works,
        cli_edupush_enroll_approve_deny,
        tiqr_enroll_sign_in_and_replay,
        tiqr_wrong_response_is_counted_and_pin_guards_the_secret,
        tiqr_code_for_an_identity_not_held_is_refused,
        cli_tiqr_enroll_scan_approve,
    ];
    harness::main("eduMFA", "tests/edumfa/edumfa-server.sh", "edumfa-e2e-", scenarios)
}
