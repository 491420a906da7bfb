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
    for (skew_ms, in_force) in [(-90_000, "+90 s"), (3_000, "-3 s")] {
        let out = home.ok(&["time", "check", "--ntp", &chrony.addr, "--simulate-skew-ms", &skew_ms.to_string()]);
        let first = out.lines().next().unwrap();
        assert!(first.starts_with(&format!("NTP {}: ", chrony.addr)), "{out}");
        assert!((offset_of(first) * 1000.0 + skew_ms as f64).abs() <= 500.0, "{skew_ms}: {out}");
        assert!(out.contains(&format!("Offset in force: {in_force} (automatic, measured by NTP)")), "{out}");
    }
    // An hour is more than one source may correct on its own: proposed, then accepted.
    let out = home.ok(&["time", "check", "--ntp", &chrony.addr, "--simulate-skew-ms", "3600000"]);
    assert!((offset_of(out.lines().next().unwrap()) + 3600.0).abs() <= 0.5, "{out}");
    assert!(out.contains("Offset in force: -3 s (automatic, measured by NTP)"), "{out}");
    assert!(out.contains("\nProposed: -3600 s, from "), "{out}");
    assert!(out.contains("warning: NTP says your clock is 60 min 0 s ahead; not applied"), "{out}");
    let out = home.ok(&["time", "accept"]);
    assert!(out.contains("Offset in force: -3600 s (automatic, measured by NTP, accepted by you)"), "{out}");
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
        HttpsServer::lying_by(0)
    }

    /// A server whose Date is `offset_s` off this machine's clock.
    fn lying_by(offset_s: i64) -> HttpsServer {
        let mut child = Command::new("python3")
            .arg(repo().join("tests/clock/https_date_server.py"))
            .args(["--offset", &offset_s.to_string()])
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

/// `time check` against chronyd and a local HTTPS server at once, with the test CA.
fn check_both(home: &Home, chrony: &Chrony, server: &HttpsServer, skew_ms: i64) -> String {
    let url = format!("https://127.0.0.1:{}/", server.port);
    let args = ["time", "check", "--ntp", &chrony.addr, "--https", &url, "--simulate-skew-ms", &skew_ms.to_string()];
    home.cli(args).env("SSL_CERT_FILE", repo().join("tests/clock/test-ca.pem")).run().ok().to_owned()
}

#[test]
fn ntp_and_https_agreeing_on_300_s_apply_it() {
    let (chrony, server) = (Chrony::start(), HttpsServer::start());
    let home = Home::new("time-agree");
    let out = check_both(&home, &chrony, &server, -300_000);
    assert!(out.contains("Offset in force: +300 s (automatic, measured by NTP and HTTPS agreeing)"), "{out}");
    assert!(!out.contains("Proposed"), "{out}");
}

#[test]
fn ntp_on_time_and_https_50000_s_ahead_apply_nothing_and_the_banner_says_who_claims_what() {
    let (chrony, server) = (Chrony::start(), HttpsServer::lying_by(-50_000));
    let home = Home::new("time-disagree");
    home.add(&totp_uri("ACME", "alice"));
    let out = check_both(&home, &chrony, &server, 0);
    assert!(out.contains("Offset in force: +0 s (automatic; nothing applied, see below)"), "{out}");
    assert_eq!(out.matches("\nDisagreeing: ").count(), 2, "{out}");
    let banner = "warning: time sources disagree (NTP: on time, HTTPS: 13 h 53 min ahead); nothing applied\n";
    assert!(out.ends_with(banner), "{out}");
    let codes = home.ok(&["codes", "--once"]);
    assert!(codes.starts_with(banner), "{codes}");
    let run = home.run(&["time", "accept"]);
    assert!(run.refused().contains("no clock correction is proposed"), "{run:?}");
    assert!(home.ok(&["time"]).contains("Offset in force: +0 s"));
}
