//! `authenticator time`: checks against a real chronyd and a local HTTPS server with a test CA,
//! the device's error simulated with `--simulate-skew-ms` (the machine's clock is never touched),
//! automatic and manual correction, and the warning on top of `authenticator codes`.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::support::{Home, totp_uri};
use testkit::chrony::Chrony;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The measured offset in seconds from a `… : +90.001 s ± 0.000 s by NTP …` line.
fn offset_of(line: &str) -> f64 {
    let after = line.split(": ").nth(1).unwrap_or_else(|| panic!("no offset in {line:?}"));
    after.split(' ').next().unwrap().parse().unwrap_or_else(|_| panic!("no offset in {line:?}"))
}

#[test]
fn ntp_check_against_chrony_measures_and_corrects_the_simulated_skew() {
    let chrony = Chrony::start();
    let home = Home::new("time-ntp");
    home.add(&totp_uri("ACME", "alice"));
    assert!(home.ok(&["time"]).contains("nothing measured yet"));
    for (skew_ms, in_force) in [(-90_000, "+90 s"), (3_000, "-3 s"), (3_600_000, "-3600 s")] {
        let out = home.ok(&["time", "check", "--ntp", &chrony.addr, "--simulate-skew-ms", &skew_ms.to_string()]);
        let first = out.lines().next().unwrap();
        assert!(first.starts_with(&format!("NTP {}: ", chrony.addr)), "{out}");
        assert!((offset_of(first) * 1000.0 + skew_ms as f64).abs() <= 500.0, "{skew_ms}: {out}");
        assert!(out.contains(&format!("Offset in force: {in_force} (automatic, measured by NTP)")), "{out}");
    }
    let codes = home.ok(&["codes", "--once"]);
    assert!(codes.starts_with("warning: your clock is 60 min 0 s ahead; codes are corrected\n"), "{codes}");
    home.ok(&["time", "auto", "off"]);
    let shown = home.ok(&["time"]);
    assert!(shown.contains("Offset in force: +0 s (manual; automatic correction is off)"), "{shown}");
    assert!(shown.contains("codes are not corrected (automatic correction is off)"), "{shown}");
    home.ok(&["offset", "5"]);
    home.ok(&["time", "auto", "on"]);
    assert!(home.ok(&["time"]).contains("Offset in force: -3600 s (automatic"));
}

#[test]
fn a_failed_check_is_an_error_and_changes_nothing() {
    let home = Home::new("time-fail");
    home.ok(&["offset", "7"]);
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let run = home.run(&["time", "check", "--ntp", &addr]);
    assert!(run.refused().contains("no answer from the time server within 5 s"), "{run:?}");
    assert_eq!(home.ok(&["offset"]), "7\n");
    let run = home.run(&["time", "check", "--https", "http://time.example.com/"]);
    assert!(run.refused().contains("https"), "{run:?}");
    let run = home.run(&["time", "check"]);
    assert!(!run.status.success());
}

/// The Python HTTPS server of tests/clock, killed on drop.
struct HttpsServer {
    child: Child,
    port: u16,
}

impl HttpsServer {
    fn start() -> HttpsServer {
        let mut child = Command::new("python3")
            .arg(repo().join("tests/clock/https_date_server.py"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 must be on PATH");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| panic!("the HTTPS server printed {line:?}"));
        HttpsServer { child, port }
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn https_date_through_a_server_with_a_test_ca() {
    let server = HttpsServer::start();
    let home = Home::new("time-https");
    let url = format!("https://127.0.0.1:{}/", server.port);
    let ca = repo().join("tests/clock/test-ca.pem");
    let out =
        home.cli(["time", "check", "--https", &url, "--simulate-skew-ms", "-90000"]).env("SSL_CERT_FILE", &ca).run();
    let out = out.ok();
    // A Date counts whole seconds: within half a second plus the round trip.
    assert!((offset_of(out.lines().next().unwrap()) - 90.0).abs() <= 1.0, "{out}");
    assert!(out.contains("Offset in force: +90 s (automatic, measured by HTTPS)"), "{out}");
    // Without the test CA the certificate is refused, and nothing changes.
    let run = home.run(&["time", "check", "--https", &url]);
    assert!(!run.status.success(), "{run:?}");
    assert!(home.ok(&["time"]).contains("Offset in force: +90 s"));
}
