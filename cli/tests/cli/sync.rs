//! `authenticator sync …` against a real Apache WebDAV server (tests/webdav/server.sh).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::support::{Home, hotp_uri, totp_uri};

struct Apache {
    work: tempfile::TempDir,
    url: String,
    password: String,
}

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/webdav/server.sh")
}

impl Apache {
    fn start() -> Self {
        let work = tempfile::Builder::new().prefix("cli-sync-apache-").tempdir().unwrap();
        let out = Command::new("bash").arg(script()).arg("start").arg(work.path()).output().unwrap();
        assert!(out.status.success(), "apache did not start: {}", String::from_utf8_lossy(&out.stderr));
        let url = std::fs::read_to_string(work.path().join("url")).unwrap().trim().to_owned();
        let password = std::fs::read_to_string(work.path().join("password")).unwrap();
        Self { work, url, password }
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).arg("stop").arg(self.work.path()).status();
    }
}

fn setup(home: &Home, url: &str, server: &Apache) -> String {
    home.cli(["sync", "setup", url, "--user", "sync"])
        .env("AUTHENTICATOR_WEBDAV_PASSWORD", &server.password)
        .env("AUTHENTICATOR_SYNC_PASSPHRASE", "a sync passphrase for tests")
        .run()
        .ok()
        .to_owned()
}

/// Every account with its secret, names and counter, in list order.
fn uris(home: &Home) -> Vec<String> {
    home.ok(&["export", "--uris", "--yes"]).lines().map(str::to_owned).collect()
}

#[test]
fn setup_sync_status_pair_and_leave_through_the_terminal_app() {
    let server = Apache::start();
    let (a, b) = (Home::new("sync-a"), Home::new("sync-b"));
    a.ok(&["add", &totp_uri("GitHub", "alice")]);
    a.ok(&["add", &hotp_uri("Bank", "alice", 5)]);
    setup(&a, &server.url, &server);
    let pair = a.ok(&["sync", "pair", "--yes"]);
    let code = pair.lines().last().unwrap().trim().to_owned();
    assert_eq!(code.len(), 64, "{pair}");
    assert!(pair.contains('█'), "a QR code is drawn");
    b.ok(&["add", &totp_uri("Mail", "bob")]);
    b.cli(["sync", "setup", &server.url, "--user", "sync", "--pairing-code"])
        .env("AUTHENTICATOR_WEBDAV_PASSWORD", &server.password)
        .env("AUTHENTICATOR_SYNC_PAIRING_CODE", &code)
        .run()
        .ok();
    a.ok(&["sync"]);
    assert_eq!(uris(&a), uris(&b));
    assert_eq!(uris(&a).len(), 3);
    let status = a.ok(&["sync", "status"]);
    assert!(status.contains("Pending changes: 0") && status.contains(&server.url), "{status}");
    // Last seen per device: this one and the other, no warning.
    let devices: Vec<&str> = status.lines().skip_while(|l| *l != "Devices (last seen):").skip(1).collect();
    assert_eq!(devices.len(), 2, "{status}");
    assert!(devices[0].contains("(this device)") && !devices[1].contains("(this device)"), "{status}");
    assert!(!status.contains("Warning"), "{status}");

    let wrong = b
        .cli(["sync", "setup", &server.url, "--user", "sync"])
        .env("AUTHENTICATOR_WEBDAV_PASSWORD", &server.password)
        .env("AUTHENTICATOR_SYNC_PASSPHRASE", "not the passphrase")
        .run();
    assert!(wrong.refused().contains("wrong sync passphrase"), "{}", wrong.stderr);

    a.ok(&["sync", "leave"]);
    assert!(a.ok(&["sync", "status"]).contains("not set up"));
    assert!(a.run(&["sync"]).refused().contains("not set up"));
    assert_eq!(uris(&a).len(), 3, "leaving keeps the accounts");
}

/// A TCP proxy in front of Apache that, while `stall` is set, forwards only the start of a PUT
/// of a state object and then holds the connection (and says so on `stalled`), so the client can
/// be killed in the middle of its upload.
fn stalling_proxy(target: &str, stall: Arc<AtomicBool>, stalled: Arc<AtomicBool>) -> String {
    let target = target.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let Ok(mut server) = TcpStream::connect(&target) else { continue };
            let (stall, stalled) = (stall.clone(), stalled.clone());
            let mut back_client = client.try_clone().unwrap();
            let mut back_server = server.try_clone().unwrap();
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut back_server, &mut back_client);
                let _ = back_client.shutdown(std::net::Shutdown::Both);
            });
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let mut seen = Vec::new();
                loop {
                    let n = match client.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    seen.extend_from_slice(&buf[..n]);
                    if stall.load(Ordering::SeqCst) && seen.windows(15).any(|w| w == b"PUT /dav/state-") {
                        // Forward the head and a part of the body, then hold.
                        let _ = server.write_all(&buf[..n / 2]);
                        stalled.store(true, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_secs(30));
                        break;
                    }
                    if server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    if seen.len() > 1 << 16 {
                        seen.drain(..seen.len() - 64);
                    }
                }
                let _ = server.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    format!("http://127.0.0.1:{port}/dav/")
}

#[test]
fn kill_9_during_an_upload_then_syncing_again_loses_and_duplicates_nothing() {
    let server = Apache::start();
    let (stall, stalled) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let proxy = stalling_proxy(&server.url, stall.clone(), stalled.clone());
    let (a, b) = (Home::new("sync-kill-a"), Home::new("sync-kill-b"));
    for i in 0..40 {
        a.ok(&["add", &totp_uri(&format!("Service{i}"), "alice")]);
    }
    setup(&a, &proxy, &server);
    setup(&b, &server.url, &server);
    a.ok(&["rename", "Service1", "--issuer", "Renamed"]);
    b.ok(&["add", &hotp_uri("FromB", "bob", 3)]);
    b.ok(&["sync"]);

    stall.store(true, Ordering::SeqCst);
    let mut child = a.cli(["sync"]).spawn();
    let start = Instant::now();
    while !stalled.load(Ordering::SeqCst) {
        assert!(start.elapsed() < Duration::from_secs(20), "the upload never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    // SIGKILL, mid-upload.
    child.kill().unwrap();
    child.wait().unwrap();
    stall.store(false, Ordering::SeqCst);

    b.ok(&["sync"]);
    a.ok(&["sync"]);
    b.ok(&["sync"]);
    let listed = uris(&a);
    assert_eq!(listed, uris(&b));
    assert_eq!(listed.len(), 41, "nothing lost, nothing duplicated: {listed:?}");
    assert!(listed.iter().any(|u| u.contains("Renamed")) && listed.iter().any(|u| u.contains("FromB")));
    // A change counts as synced once a round reads it back from the server: one more round
    // settles what a's last upload sent.
    a.ok(&["sync"]);
    assert!(a.ok(&["sync", "status"]).contains("Pending changes: 0"));
}

#[test]
fn a_weak_passphrase_is_refused_at_setup_with_its_reason_and_nothing_is_stored() {
    let server = Apache::start();
    let home = Home::new("sync-weak");
    home.ok(&["add", &totp_uri("GitHub", "alice")]);
    for (weak, reason) in [("dragon", "a common password"), ("aaaaaaaaaaaaaaaa", "repeated characters")] {
        let run = home
            .cli(["sync", "setup", &server.url, "--user", "sync"])
            .env("AUTHENTICATOR_WEBDAV_PASSWORD", &server.password)
            .env("AUTHENTICATOR_SYNC_PASSPHRASE", weak)
            .run();
        let stderr = run.refused_in_one_line();
        assert!(stderr.contains(reason) && stderr.contains("pairing code"), "{stderr}");
        assert!(!stderr.contains(weak), "the passphrase is never echoed: {stderr}");
    }
    assert!(home.ok(&["sync", "status"]).contains("not set up"));
    let on_server: Vec<_> = std::fs::read_dir(server.work.path().join("dav")).unwrap().collect();
    assert!(on_server.is_empty(), "nothing written to the server: {on_server:?}");
    assert_eq!(uris(&home).len(), 1);
}

#[test]
fn rekey_through_the_terminal_app_locks_the_other_device_out_until_it_joins_with_the_new_code() {
    let server = Apache::start();
    let (a, b) = (Home::new("sync-rekey-a"), Home::new("sync-rekey-b"));
    a.ok(&["add", &totp_uri("GitHub", "alice")]);
    b.ok(&["add", &hotp_uri("Bank", "bob", 2)]);
    a.cli(["sync", "setup", &server.url, "--user", "sync", "--random-key"])
        .env("AUTHENTICATOR_WEBDAV_PASSWORD", &server.password)
        .run()
        .ok();
    let join = |home: &Home| {
        let pair = a.ok(&["sync", "pair", "--yes"]);
        let code = pair.lines().last().unwrap().trim().to_owned();
        home.cli(["sync", "setup", &server.url, "--user", "sync", "--pairing-code"])
            .env("AUTHENTICATOR_WEBDAV_PASSWORD", &server.password)
            .env("AUTHENTICATOR_SYNC_PAIRING_CODE", &code)
            .run()
            .ok()
            .to_owned()
    };
    join(&b);
    a.ok(&["sync"]);
    assert_eq!(uris(&a), uris(&b));

    let rekeyed = a.cli(["sync", "rekey", "--random-key"]).run();
    assert!(rekeyed.ok().contains("changed") || rekeyed.stderr.contains("changed"), "{}", rekeyed.stderr);
    let locked = b.run(&["sync"]);
    assert!(locked.refused_in_one_line().contains("set sync up again"), "{}", locked.stderr);
    b.ok(&["add", &totp_uri("Mail", "bob")]);
    join(&b);
    a.ok(&["sync"]);
    assert_eq!(uris(&a), uris(&b));
    assert_eq!(uris(&a).len(), 3);
}
