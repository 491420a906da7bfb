//! Running the real `authenticator` binary the way a user does, each test in its own data dir.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The RFC 4226 / RFC 6238 SHA1 test key "12345678901234567890", in base32.
pub const RFC_SHA1_KEY: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// A TOTP account (SHA1, 6 digits, 30 s) on the RFC test key.
pub fn totp_uri(issuer: &str, label: &str) -> String {
    format!("otpauth://totp/{issuer}:{label}?secret={RFC_SHA1_KEY}&issuer={issuer}")
}

/// An HOTP account (SHA1, 6 digits) on the RFC test key.
pub fn hotp_uri(issuer: &str, label: &str, counter: u64) -> String {
    format!("otpauth://hotp/{issuer}:{label}?secret={RFC_SHA1_KEY}&issuer={issuer}&counter={counter}")
}

/// RFC 4648 base32 with padding: enough to spell test keys without hard-coding them.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    for chunk in bytes.chunks(5) {
        let mut block = [0u8; 5];
        block[..chunk.len()].copy_from_slice(chunk);
        let bits = block.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let symbols = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < symbols {
                out.push(ALPHABET[((bits >> (35 - 5 * i)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs()
}

/// A file or folder of the workplace's shared test data, `<repo>/../shared/<relative>` (for
/// example `fixtures/import`, real exports of other apps). A missing one fails the test, on CI
/// (`CI=true`) and locally alike: a test that skips passes without testing anything.
#[track_caller]
pub fn shared_fixture(relative: &str) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the crate is inside the repository");
    let path = repo.join("../shared").join(relative);
    assert!(
        path.exists(),
        "shared test data {relative:?} is missing: expected at {} (the workplace's shared/ folder \
         beside the repository). Tests never skip for want of it, on CI or locally.",
        path.display()
    );
    path
}

/// What one run of the binary left behind.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and no panic; returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        self.assert_no_panic();
        assert!(
            self.status.success(),
            "expected success, got {:?}\nstdout: {}\nstderr: {}",
            self.status,
            self.stdout,
            self.stderr
        );
        &self.stdout
    }

    /// Asserts a clean refusal: exit status 1 (not a panic's 101), nothing on stdout, a reason on
    /// stderr. Returns stderr.
    #[track_caller]
    pub fn refused(&self) -> &str {
        self.assert_no_panic();
        assert_eq!(
            self.status.code(),
            Some(1),
            "expected exit status 1\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        assert_eq!(self.stdout, "", "a refusal prints nothing on stdout");
        assert!(!self.stderr.trim().is_empty(), "a refusal says why on stderr");
        &self.stderr
    }

    /// Like [`Run::refused`], and the reason is exactly one line naming the app.
    #[track_caller]
    pub fn refused_in_one_line(&self) -> &str {
        let stderr = self.refused();
        assert!(stderr.ends_with('\n'), "stderr ends its line: {stderr:?}");
        assert_eq!(stderr.lines().count(), 1, "one line of reason, got {stderr:?}");
        assert!(stderr.starts_with("authenticator: "), "reason starts with the app name: {stderr:?}");
        stderr
    }

    #[track_caller]
    pub fn assert_no_panic(&self) {
        assert_no_panic(&self.stderr);
    }
}

#[track_caller]
pub fn assert_no_panic(stderr: &str) {
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "the binary panicked:\n{stderr}");
}

/// A command line for the binary with a scrubbed environment: no inherited data dir or
/// passphrase, and HOME pointing at a dead end so a mistake can never touch a real vault.
pub struct Cli {
    command: Command,
    stdin: Option<Vec<u8>>,
}

impl Cli {
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Self::via(&[], args)
    }

    /// The binary run through `wrapper` (a program and its arguments, e.g. `prlimit --fsize=…`
    /// or `sh -c 'umask 0; exec "$0" "$@"'`), which gets the binary's path and `args` after its own.
    pub fn via<I, S>(wrapper: &[&str], args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let binary = env!("CARGO_BIN_EXE_authenticator");
        let mut command = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut command = Command::new(program);
                command.args(rest).arg(binary);
                command
            }
            None => Command::new(binary),
        };
        let nowhere = std::env::temp_dir().join("authenticator-cli-test-no-home");
        command
            .args(args)
            .env_remove("AUTHENTICATOR_HOME")
            .env_remove("AUTHENTICATOR_PASSPHRASE")
            .env_remove("AUTHENTICATOR_BACKUP_PASSWORD")
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .env("HOME", &nowhere)
            .env("XDG_DATA_HOME", &nowhere)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Self { command, stdin: None }
    }

    /// Runs the binary as user `uid` / group `gid` (the tests must run as root to switch).
    pub fn run_as_user(mut self, (uid, gid): (u32, u32)) -> Self {
        use std::os::unix::process::CommandExt;
        self.command.uid(uid).gid(gid);
        self
    }

    pub fn env(mut self, name: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// Feeds `input` on a pipe instead of the default null stdin.
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// The command line as configured (stdin left at null), to run under another process.
    pub fn into_command(self) -> Command {
        assert!(self.stdin.is_none(), "into_command() does not feed stdin");
        self.command
    }

    /// Starts the process with a piped stdin left open, for tests that hold it mid-command.
    pub fn spawn_with_open_stdin(mut self) -> Child {
        self.command.stdin(Stdio::piped()).spawn().expect("start the authenticator binary")
    }

    /// Starts the process; stdin as configured (null unless [`Cli::stdin`] was used).
    pub fn spawn(mut self) -> Child {
        assert!(self.stdin.is_none(), "spawn() does not feed stdin");
        self.command.spawn().expect("start the authenticator binary")
    }

    pub fn run(mut self) -> Run {
        if self.stdin.is_some() {
            self.command.stdin(Stdio::piped());
        }
        let mut child = self.command.spawn().expect("start the authenticator binary");
        if let Some(input) = self.stdin.take() {
            use std::io::Write;
            let mut pipe = child.stdin.take().expect("piped stdin");
            // The binary may exit without reading everything; a broken pipe here is fine.
            let _ = pipe.write_all(&input);
        }
        let output = wait_with_deadline(child, Duration::from_secs(30));
        Run {
            status: output.status,
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// Waits for `child`, killing it (and failing the test) if it outlives `limit`. Its stdout and
/// stderr (those still piped) are drained meanwhile, so a chatty child cannot block on a full pipe.
#[track_caller]
pub fn wait_with_deadline(mut child: Child, limit: Duration) -> std::process::Output {
    fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                pipe.read_to_end(&mut bytes).expect("read the child's output");
            }
            bytes
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            break Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    let Some(status) = status else {
        let clip = |b: &[u8]| String::from_utf8_lossy(&b[..b.len().min(2000)]).into_owned();
        panic!(
            "the binary was still running after {limit:?}; killed it\nstdout: {}\nstderr: {}",
            clip(&stdout),
            clip(&stderr)
        );
    };
    std::process::Output { status, stdout, stderr }
}

/// Stateless: `code --uri <uri> [extra…]`, with the data dir pointed at `home`.
pub fn code_for_uri(home: &Home, uri: &str, extra: &[&str]) -> Run {
    let mut args: Vec<&str> = vec!["code", "--uri", uri];
    args.extend_from_slice(extra);
    home.cli(args).run()
}

/// The stateless code of `uri` at `time`, which must succeed.
#[track_caller]
pub fn code_at(uri: &str, time: u64) -> String {
    let home = Home::new("code-at");
    let run = code_for_uri(&home, uri, &["--at", &time.to_string()]);
    run.ok().trim_end().to_owned()
}

/// Runs `action` (which reads the clock) until the second before and after it fall in the same
/// 30 s period, so an expected code computed for that second is unambiguous. Returns the action's
/// result and the time it ran at.
pub fn within_one_period<T>(mut action: impl FnMut() -> T) -> (T, u64) {
    for _ in 0..5 {
        let before = now();
        let result = action();
        let after = now();
        if before / 30 == after / 30 {
            return (result, before);
        }
    }
    panic!("the 30 s period rolled over during every attempt");
}

/// A fresh data directory in a private temp dir (removed on drop, with everything in it).
pub struct Home {
    /// Owns the temp dir; `path` is inside it.
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Home {
    /// A path that does not exist yet; the binary creates it on first use.
    pub fn new(name: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("authenticator-cli-test-{name}-"))
            .tempdir()
            .expect("create a temp dir");
        let path = dir.path().join("data");
        Self { _dir: dir, path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes file permissions bind the binary in permission tests. Root ignores permissions, so
    /// when the tests run as root (CI containers often do) the data dir is handed to `nobody`
    /// (65534) and the returned user is the one to run the binary as; otherwise None, and the
    /// binary runs as the current user, whom permissions bind anyway. Never a reason to skip.
    pub fn hand_to_unprivileged_user(&self) -> Option<(u32, u32)> {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if std::fs::metadata(self._dir.path()).expect("stat the temp dir").uid() != 0 {
            return None;
        }
        let nobody = (65534, 65534);
        std::fs::set_permissions(self._dir.path(), std::fs::Permissions::from_mode(0o711)).expect("open the temp dir");
        let mut paths = vec![self.path.clone()];
        paths.extend(self.files().iter().map(|name| self.file(name)));
        for path in paths {
            std::os::unix::fs::chown(&path, Some(nobody.0), Some(nobody.1)).expect("chown to nobody");
        }
        Some(nobody)
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Names of the files in the data dir, sorted (empty when it does not exist).
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = match std::fs::read_dir(&self.path) {
            Ok(entries) => {
                entries.map(|e| e.expect("read dir entry").file_name().to_string_lossy().into_owned()).collect()
            }
            Err(_) => Vec::new(),
        };
        names.sort();
        names
    }

    /// The binary with `--data-dir <this dir>` and `args`.
    pub fn cli<I, S>(&self, args: I) -> Cli
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec!["--data-dir".into(), self.path.clone().into_os_string()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        Cli::new(all)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.cli(args).run()
    }

    /// The binary with `--data-dir <this dir>` and `args`, run through `wrapper` (see [`Cli::via`]).
    pub fn cli_via(&self, wrapper: &[&str], args: &[&str]) -> Cli {
        let mut all: Vec<std::ffi::OsString> = vec!["--data-dir".into(), self.path.clone().into_os_string()];
        all.extend(args.iter().map(std::ffi::OsString::from));
        Cli::via(wrapper, all)
    }

    /// Runs `args`, asserts success, and returns stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        self.run(args).ok().to_owned()
    }

    /// Adds an account from a URI; returns its id (from the "Added … [id N]" note).
    #[track_caller]
    pub fn add(&self, uri: &str) -> i64 {
        let run = self.run(&["add", uri]);
        run.ok();
        added_id(&run.stderr)
    }

    /// `list --json`, parsed.
    #[track_caller]
    pub fn accounts(&self) -> Vec<serde_json::Value> {
        let stdout = self.ok(&["list", "--json"]);
        match serde_json::from_str(&stdout).expect("list --json prints JSON") {
            serde_json::Value::Array(items) => items,
            other => panic!("list --json prints an array, got {other}"),
        }
    }
}

/// The id in "Added ACME (alice) [id 3]".
#[track_caller]
pub fn added_id(stderr: &str) -> i64 {
    let start = stderr.rfind("[id ").unwrap_or_else(|| panic!("no id in {stderr:?}")) + 4;
    let end = start + stderr[start..].find(']').expect("closing bracket");
    stderr[start..end].parse().expect("numeric id")
}

/// Deterministic pseudo-random numbers (xorshift64*), so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Random valid UTF-8 of `len` chars, mostly ASCII (so URI syntax characters turn up), never
    /// NUL (which no command line can carry). `controls` allows control characters.
    pub fn text(&mut self, len: usize, controls: bool) -> String {
        let mut out = String::new();
        while out.chars().count() < len {
            let r = self.next();
            let c = match r % 4 {
                0 | 1 => char::from_u32((r >> 8) as u32 % 0x80),
                2 => char::from_u32((r >> 8) as u32 % 0x800),
                _ => char::from_u32((r >> 8) as u32 % 0x11_0000),
            };
            match c {
                Some('\0') | None => {}
                Some(c) if c.is_control() && !controls => {}
                Some(c) => out.push(c),
            }
        }
        out
    }
}

/// Standard base64 with padding, from the `base64` crate (independent of the core's decoders).
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
