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
