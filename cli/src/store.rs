//! Where the CLI keeps its vault, and how it gets the data key: a random key in a 0600 file
//! beside the database, or a key derived from a passphrase whose salt is kept there instead.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use storage::Error;
use storage::vault::{DATA_KEY_LEN, PASSPHRASE_ITERATIONS};
use storage::{DataKey, Vault};
use zeroize::Zeroizing;

use crate::prompt;
use crate::{CliError, CliResult};

const DB_FILE: &str = "vault.db";
const KEY_FILE: &str = "vault.key";
const KDF_FILE: &str = "vault.kdf";
/// Non-interactive passphrase (scripts, tests). Interactive use prompts without echo instead.
pub const PASSPHRASE_ENV: &str = "AUTHENTICATOR_PASSPHRASE";

/// The platform's per-user data directory for the app.
pub fn default_data_dir() -> CliResult<PathBuf> {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library/Application Support"))
    } else if cfg!(windows) {
        env("APPDATA")
    } else {
        env("XDG_DATA_HOME").or_else(|| env("HOME").map(|h| h.join(".local/share")))
    };
    base.map(|b| b.join("authenticator"))
        .ok_or_else(|| CliError::msg("cannot find a data directory: set --data-dir or AUTHENTICATOR_HOME"))
}

/// How a new vault's key is protected.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum KeyMode {
    KeyFile,
    Passphrase,
}

pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    /// How this vault's key is protected: a passphrase when its salt file is there.
    pub fn key_mode(&self) -> KeyMode {
        if self.dir.join(KDF_FILE).exists() { KeyMode::Passphrase } else { KeyMode::KeyFile }
    }

    fn exists(&self) -> bool {
        self.db_path().exists() || self.dir.join(KEY_FILE).exists() || self.dir.join(KDF_FILE).exists()
    }

    /// Opens the vault, creating it (with a key file) on first use, in a folder that does not
    /// exist yet or is empty. A folder holding other things is not taken over on a whim:
    /// `authenticator init` creates a vault there explicitly.
    pub fn open(&self) -> CliResult<Vault> {
        if !self.exists() {
            self.refuse_foreign_folder()?;
            return self.create(KeyMode::KeyFile);
        }
        let key = self.key()?;
        Ok(Vault::open(self.db_path(), &key)?)
    }

    /// Opens the vault for a command that writes nothing. Where the vault cannot be written (a
    /// read-only folder or files), it is opened read-only, so `list`, `codes` and exports still
    /// work. Where it can, it is opened normally: a read-only SQLite connection cannot fold the
    /// write-ahead log back on close and would leave `vault.db-wal` and `-shm` behind.
    pub fn open_for_reading(&self) -> CliResult<Vault> {
        if !self.exists() || !self.db_path().exists() {
            return self.open();
        }
        let key = self.key()?;
        match Vault::open(self.db_path(), &key) {
            Err(e @ (Error::Sqlite(_) | Error::Storage(_) | Error::Io(_) | Error::FileAccess { .. })) => {
                Vault::open_read_only(self.db_path(), &key).map_err(|read_only| match read_only {
                    // Unreadable too: the first error says best what is wrong.
                    Error::FileAccess { .. } | Error::Sqlite(_) => CliError::from(e),
                    other => CliError::from(other),
                })
            }
            other => Ok(other?),
        }
    }

    /// Refuses a folder that exists and holds anything but what an interrupted creation left.
    fn refuse_foreign_folder(&self) -> CliResult<()> {
        if foreign_entries(&self.dir)? {
            return Err(CliError::msg(format!(
                "{} is not empty and holds no authenticator vault; refusing to put one there and make the folder \
                 private. Choose a new or empty folder, or run `authenticator init` to create a vault in it anyway",
                self.dir.display()
            )));
        }
        Ok(())
    }

    /// Creates a new vault; refuses when one is already there. A folder that is new or empty is
    /// made private (0700); one that holds other things keeps its mode (the vault's own files
    /// are 0600 whatever the folder).
    pub fn create(&self, mode: KeyMode) -> CliResult<Vault> {
        if self.exists() {
            return Err(CliError::msg(format!("a vault already exists in {}", self.dir.display())));
        }
        if foreign_entries(&self.dir)? {
            eprintln!(
                "note: {} holds other files; its permissions were left as they are (the vault's files are private)",
                self.dir.display()
            );
        } else {
            create_private_dir(&self.dir)?;
        }
        for name in [KEY_FILE, KDF_FILE] {
            storage::vault::remove_stale_temporaries(&self.dir, &format!(".{name}."));
        }
        let key = match mode {
            KeyMode::KeyFile => {
                let key = DataKey::generate()?;
                write_private(&self.dir.join(KEY_FILE), key.expose())?;
                key
            }
            KeyMode::Passphrase => {
                let passphrase = prompt::new_passphrase(PASSPHRASE_ENV)?;
                let salt = DataKey::random_salt()?;
                let kdf = format!("pbkdf2-sha256 {PASSPHRASE_ITERATIONS} {}\n", hex::encode(salt));
                write_private(&self.dir.join(KDF_FILE), kdf.as_bytes())?;
                DataKey::from_passphrase(&passphrase, &salt, PASSPHRASE_ITERATIONS)?
            }
        };
        // The core creates the database 0600 from its first byte and moves it in complete.
        Ok(Vault::open(self.db_path(), &key)?)
    }

    fn key(&self) -> CliResult<DataKey> {
        let kdf_path = self.dir.join(KDF_FILE);
        let key_path = self.dir.join(KEY_FILE);
        if kdf_path.exists() {
            let bytes = read_small(&kdf_path, KDF_FILE_CAP)?;
            let text = std::str::from_utf8(&bytes)
                .ok()
                .filter(|_| bytes.len() <= KDF_FILE_CAP)
                .ok_or_else(|| KeyFileError::Damaged(kdf_path.clone()))?;
            let (iterations_text, salt) = parse_kdf(text).ok_or_else(|| KeyFileError::Damaged(kdf_path.clone()))?;
            let passphrase = prompt::passphrase(PASSPHRASE_ENV)?;
            Ok(DataKey::from_passphrase(&passphrase, &salt, iterations_text)?)
        } else if key_path.exists() {
            let bytes = read_small(&key_path, DATA_KEY_LEN)?;
            if bytes.len() != DATA_KEY_LEN {
                return Err(KeyFileError::WrongLength {
                    path: key_path,
                    len: bytes.len(),
                    vault_exists: self.db_path().exists(),
                }
                .into());
            }
            Ok(DataKey::from_slice(&bytes)?)
        } else {
            Err(CliError::msg(format!(
                "{} has a vault but neither its key file ({KEY_FILE}) nor its passphrase file ({KDF_FILE})",
                self.dir.display()
            )))
        }
    }
}

/// Most bytes read from `vault.kdf` (one short line); a longer file is reported as damaged.
const KDF_FILE_CAP: usize = 4096;

/// Reads at most `cap` + 1 bytes of a small file of the vault (one more than it may hold, to tell
/// a longer file; whatever it has become, a link to `/dev/zero` costs nothing), into a buffer
/// wiped on drop.
fn read_small(path: &Path, cap: usize) -> CliResult<Zeroizing<Vec<u8>>> {
    use std::io::Read;
    let file = fs::File::open(path).map_err(|e| KeyFileError::Unreadable(path.to_owned(), e))?;
    // Allocated once, at its full size: nothing is left behind by a reallocation.
    let mut bytes = Zeroizing::new(Vec::with_capacity(cap + 1));
    file.take(cap as u64 + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn parse_kdf(text: &str) -> Option<(u32, Vec<u8>)> {
    let mut parts = text.split_whitespace();
    if parts.next()? != "pbkdf2-sha256" {
        return None;
    }
    let iterations = parts.next()?.parse().ok()?;
    let salt_hex = parts.next()?;
    let salt = hex::decode(salt_hex).ok()?;
    (salt.len() >= 16).then_some((iterations, salt))
}

/// Whether `dir` exists and holds anything but a temporary file of an interrupted creation.
fn foreign_entries(dir: &Path) -> CliResult<bool> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(CliError::msg(format!("cannot use {}: it is a file, not a folder", dir.display())));
        }
        Err(e) => return Err(CliError::msg(format!("cannot read {}: {e}", dir.display()))),
    };
    for entry in entries {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        let leftover = [DB_FILE, KEY_FILE, KDF_FILE].iter().any(|ours| name.starts_with(&format!(".{ours}.")))
            && (name.ends_with(".tmp") || name.ends_with(".tmp-journal"));
        if !leftover {
            return Ok(true);
        }
    }
    Ok(false)
}

fn create_private_dir(dir: &Path) -> CliResult<()> {
    fs::create_dir_all(dir).map_err(|e| CliError::msg(format!("cannot create {}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Why the key (or passphrase) file cannot give a key. Each names the file and what to do.
#[derive(Debug)]
pub enum KeyFileError {
    /// The file exists but cannot be read (permissions, I/O).
    Unreadable(PathBuf, std::io::Error),
    /// A key file that does not hold exactly 32 bytes.
    WrongLength { path: PathBuf, len: usize, vault_exists: bool },
    /// A passphrase file that does not parse.
    Damaged(PathBuf),
}

impl std::fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyFileError::Unreadable(path, e) => write!(f, "cannot read {}: {e}", path.display()),
            KeyFileError::WrongLength { path, len, vault_exists: false } => write!(
                f,
                "{} is damaged: it holds {len} bytes, a key file holds {DATA_KEY_LEN}; no vault was made with it \
                 (creating one was interrupted), so delete it and run `authenticator init`",
                path.display()
            ),
            KeyFileError::WrongLength { path, len, vault_exists: true } => write!(
                f,
                "{} is damaged: it holds {len} bytes, a key file holds {DATA_KEY_LEN}; the vault beside it \
                 cannot be opened without its key: restore the key file from a copy of this folder",
                path.display()
            ),
            KeyFileError::Damaged(path) => {
                write!(f, "{} is damaged: restore it from a copy of this folder", path.display())
            }
        }
    }
}

impl std::error::Error for KeyFileError {}

/// Writes a new file readable by the owner only, atomically: a temporary file in the same folder
/// (0600 from its first byte), synced, then linked under `path`, which it never replaces; then
/// the folder is synced. A crash leaves either no file or the whole file under `path`.
fn write_private(path: &Path, contents: &[u8]) -> CliResult<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", hex::encode(&DataKey::random_salt()?[..8])));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = (|| -> std::io::Result<()> {
        let mut file = options.open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::hard_link(&temp, path)
    })();
    let _ = fs::remove_file(&temp);
    written.map_err(|e| CliError::msg(format!("cannot write {}: {e}", path.display())))?;
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}
