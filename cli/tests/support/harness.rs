//! The real push servers of the end-to-end suites (privacyIDEA 3.14, eduMFA 2.9.5), each run by
//! its script (`start WORKDIR` writes `server.env`, `stop WORKDIR` stops it by PID), and the
//! scenario runner both suites share: scenarios run one after another on one server, each
//! catching its own panic, and the binary ends with a `N passed, N failed` line.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The repository (the test binaries are built from `cli/`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The real server, stopped by PID on drop (and its temp workdir removed after).
pub struct Server {
    pub workdir: PathBuf,
    pub env: BTreeMap<String, String>,
    script: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts the server `script` (relative to the repository) in a new temp workdir named
    /// after `prefix`.
    pub fn start(script: &str, prefix: &str) -> Server {
        let dir = tempfile::Builder::new().prefix(prefix).tempdir().expect("create a temp dir");
        let workdir = dir.path().to_path_buf();
        let script = repo().join(script);
        let status = Command::new("bash")
            .arg(&script)
            .arg("start")
            .arg(&workdir)
            // If this process is killed outright (no Drop runs), the server stops with it.
            .env("PI_WATCH_PID", std::process::id().to_string())
            .stdin(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
        assert!(status.success(), "the test server ({}) did not start", script.display());
        let text = std::fs::read_to_string(workdir.join("server.env")).expect("server.env");
        let env = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches(['\'', '"']).to_owned()))
            .collect();
        Server { workdir, env, script, _dir: dir }
    }

    pub fn url(&self) -> &str {
        &self.env["PI_URL"]
    }

    /// Runs pi_admin.py (its flavour from server.env) and returns its JSON; panics with its
    /// output when it fails.
    pub fn admin(&self, args: &[&str]) -> Value {
        let out = Command::new(&self.env["PI_PYTHON"])
            .arg(repo().join("tests/privacyidea/pi_admin.py"))
            .arg("--env")
            .arg(self.workdir.join("server.env"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run pi_admin.py");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "pi_admin.py {args:?} failed: {stdout} {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("pi_admin.py {args:?}: not JSON ({e}): {stdout}"))
    }

    /// The test users' userstore passwords (alice is PI_USER, bob PI_USER2).
    pub fn password(&self, user: &str) -> String {
        let key =
            if self.env.get("PI_USER2").is_some_and(|u| u == user) { "PI_USER2_PASSWORD" } else { "PI_USER_PASSWORD" };
        self.env[key].clone()
    }

    /// Starts a sign-in for `user`; returns the whole trigger reply.
    pub fn trigger_reply(&self, user: &str) -> Value {
        self.admin(&["trigger", "--user", user, "--password", &self.password(user)])
    }

    /// Starts a sign-in for `user`; returns the transaction id.
    pub fn trigger(&self, user: &str) -> String {
        let reply = self.trigger_reply(user);
        reply["transaction_id"].as_str().unwrap_or_else(|| panic!("no transaction id: {reply}")).to_owned()
    }

    pub fn status(&self, transaction_id: &str) -> String {
        self.admin(&["status", transaction_id])["status"].as_str().unwrap_or_default().to_owned()
    }

    pub fn finish(&self, user: &str, transaction_id: &str) -> bool {
        self.admin(&["finish", "--user", user, transaction_id])["authenticated"].as_bool().unwrap()
    }

    pub fn delete_token(&self, serial: &str) {
        let _ = self.admin(&["delete-token", serial]);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(&self.script).arg("stop").arg(&self.workdir).stdin(Stdio::null()).status();
    }
}

/// A named scenario.
pub type Scenario = (&'static str, fn(&Server));

/// Runs `scenarios` (those whose names contain a command-line argument, when given) on
/// `server`, stops it, prints the tally and exits 0 only when every one passed.
/// The scenarios of a suite, each named after its function.
#[macro_export]
macro_rules! scenarios {
    ($($scenario:ident),+ $(,)?) => {
        &[$((stringify!($scenario), $scenario as fn(&$crate::support::harness::Server))),+]
    };
}

/// A suite's `main`: starts the server `script` (in a temp workdir named after `prefix`), says
/// where it runs, and runs `scenarios` on it.
pub fn main(what: &str, script: &str, prefix: &str, scenarios: &[Scenario]) -> ! {
    let server = Server::start(script, prefix);
    println!("{what} test server at {}", server.url());
    run(server, scenarios)
}

/// Runs `scenarios` on `server`, one after another, and exits with the outcome.
pub fn run(server: Server, scenarios: &[Scenario]) -> ! {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let (mut passed, mut failed) = (0, 0);
    for (name, scenario) in scenarios {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let started = std::time::Instant::now();
        match catch_unwind(AssertUnwindSafe(|| scenario(&server))) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok ({:.1} s)", started.elapsed().as_secs_f64());
            }
            Err(_) => {
                failed += 1;
                println!("test {name} ... FAILED");
            }
        }
    }
    drop(server);
    println!("{passed} passed, {failed} failed");
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
