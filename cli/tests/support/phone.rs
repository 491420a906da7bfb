//! The two sides of a push end-to-end scenario that both suites drive: a [`Phone`] (the core's
//! services on a vault in a temp dir, as an app would call them) and a [`CliHome`] (the
//! `authenticator` binary with its own data directory, as a user would type it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use domain::push::{DeclineReason, PushRequest, PushToken};
use net::HttpClient;
use services::Error;
use services::push::{self, EnrollOptions};
use storage::{DataKey, Vault};

use super::harness::Server;

/// A phone: a vault in a temp dir and the one HTTP client.
pub struct Phone {
    pub vault: Vault,
    pub client: HttpClient,
    pub rt: tokio::runtime::Runtime,
    /// Declared last: removed after the vault is closed.
    dir: tempfile::TempDir,
}

impl Phone {
    /// A new phone; `name` names its temp dir.
    pub fn new(name: &str) -> Phone {
        let dir = tempfile::Builder::new().prefix(&format!("push-e2e-phone-{name}-")).tempdir().unwrap();
        let vault = Vault::open(dir.path().join("vault.db"), &DataKey::from_bytes([5; 32])).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Phone { vault, client: HttpClient::new().unwrap(), rt, dir }
    }

    /// The vault's file.
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("vault.db")
    }

    /// Enrolls from `uri`. RSA keys at 2048 bits keep the suites fast (the CLI scenarios enroll
    /// with the real 4096 bits; eduPUSH uses P-256).
    pub fn enroll(&self, uri: &str, pin: Option<&str>) -> PushToken {
        let options = EnrollOptions { pin: pin.map(str::to_owned), key_bits: Some(2048), ..EnrollOptions::default() };
        self.rt.block_on(push::enroll(&self.vault, &self.client, uri, options)).unwrap()
    }

    /// Polls until a request arrives (the server may take a moment to store the challenge).
    pub fn poll_one(&self, pins: &BTreeMap<i64, String>) -> PushRequest {
        for _ in 0..10 {
            let report = self.rt.block_on(push::poll(&self.vault, &self.client, pins)).unwrap();
            assert!(report.failures.is_empty(), "poll failures: {:?}", report.failures);
            assert!(report.rejected.is_empty(), "rejected: {:?}", report.rejected);
            if let Some(request) = report.new_requests.into_iter().next() {
                return request;
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        panic!("no request arrived");
    }

    /// Approves request `id` (with the number picked, and the PIN, when needed).
    pub fn approve(&self, id: i64, answer: Option<&str>, pin: Option<&str>) -> Result<(), Error> {
        self.rt.block_on(push::approve(&self.vault, &self.client, id, answer, pin))
    }

    /// Denies request `id`.
    pub fn deny(&self, id: i64, reason: Option<DeclineReason>) -> Result<(), Error> {
        self.rt.block_on(push::deny(&self.vault, &self.client, id, reason, None))
    }
}

/// A user's `authenticator` with its own data directory, removed on drop.
pub struct CliHome {
    /// Does not exist until the CLI creates it.
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl CliHome {
    /// A new data directory; `name` names its temp dir.
    pub fn new(name: &str) -> CliHome {
        let dir = tempfile::Builder::new().prefix(&format!("push-e2e-cli-{name}-")).tempdir().unwrap();
        CliHome { path: dir.path().join("home"), _dir: dir }
    }

    /// The binary, with this data directory.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_authenticator"));
        command.args(args).env("AUTHENTICATOR_HOME", &self.path);
        command
    }

    /// Runs with `stdin` piped in.
    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        use std::io::Write;
        let mut child =
            self.command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, b"");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.path
    }
}

/// A token the server demands a PIN for (`uri`, enrolled as `serial` for `user`), end to end:
/// enrolling without a PIN is refused; with one, a poll without the PIN fails (the poll is signed
/// with the PIN-sealed key too), a poll with it finds the request, approving without the PIN or
/// with a wrong one (counted: 4 attempts left) leaves the sign-in pending, and the right PIN
/// completes it. `name` names the phone's temp dir.
pub fn pin_demanded_by_the_server(server: &Server, name: &str, user: &str, serial: &str, uri: &str) {
    assert!(uri.contains("pin=True"), "{uri}");
    let phone = Phone::new(name);
    assert!(matches!(
        phone.rt.block_on(push::enroll(&phone.vault, &phone.client, uri, EnrollOptions::default())),
        Err(Error::PinRequired)
    ));
    let token = phone.enroll(uri, Some("2468"));
    assert!(token.has_pin && token.pin_required_by_server, "{token:?}");
    let tx = server.trigger(user);
    let no_pins = phone.rt.block_on(push::poll(&phone.vault, &phone.client, &BTreeMap::new())).unwrap();
    assert!(matches!(no_pins.failures.as_slice(), [(_, Error::PinRequired)]), "{:?}", no_pins.failures);
    let request = phone.poll_one(&BTreeMap::from([(token.id, "2468".to_owned())]));
    assert!(request.requires_pin);
    assert!(matches!(phone.approve(request.id, None, None), Err(Error::PinRequired)));
    assert!(matches!(phone.approve(request.id, None, Some("1111")), Err(Error::WrongPin { attempts_left: 4 })));
    assert_eq!(server.status(&tx), "pending");
    phone.approve(request.id, None, Some("2468")).unwrap();
    assert_eq!(server.status(&tx), "accept");
    assert!(server.finish(user, &tx));
    server.delete_token(serial);
}

/// A denial end to end: a fresh phone (`name`) enrolls `uri` (token `serial`), a sign-in of
/// alice's is polled (its request offers decline reasons exactly when `decline_reasons`), denied
/// as an unknown trigger: the sign-in is declined, and the reason stays in the local history.
pub fn deny_declines_the_sign_in(server: &Server, name: &str, serial: &str, uri: &str, decline_reasons: bool) {
    let phone = Phone::new(name);
    phone.enroll(uri, None);
    let tx = server.trigger("alice");
    let request = phone.poll_one(&BTreeMap::new());
    assert_eq!(request.decline_reasons, decline_reasons, "{request:?}");
    phone.deny(request.id, Some(DeclineReason::UnknownTrigger)).unwrap();
    assert_eq!(server.status(&tx), "declined");
    assert!(!server.finish("alice", &tx), "a denied login completed");
    let history = phone.vault.push_history(10).unwrap();
    assert_eq!((history[0].decision, history[0].detail.as_deref()), (push::Decision::Denied, Some("unknown_trigger")));
    server.delete_token(serial);
}
