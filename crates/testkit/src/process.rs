//! Helpers shared by the integration tests that run child processes (`push_pin`,
//! `vault_durability`): temporary folders, this test binary re-run as a child, and waiting.

#![allow(dead_code)] // each test crate uses its own subset

use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A fresh directory under the system's temp directory, named after `suite` and `name`,
/// removed on drop.
pub fn temp_dir(suite: &str, name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(&format!("{suite}-{name}-")).tempdir().expect("create a temp dir")
}

/// Kills the child if the test fails before it exits.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// This test binary, set to run only the ignored test `entry` (a child process entry point).
pub fn self_command(entry: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
    command.args(["--ignored", "--exact", entry, "--nocapture", "--test-threads=1"]).stdin(Stdio::null());
    command
}

/// Polls `done` every millisecond until it holds; fails the test after `timeout`.
pub fn wait_for(timeout: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}
