//! Where the CLI keeps its vault, and how it gets the data key: a random key in a 0600 file
//! beside the database, or a key derived from a passphrase whose salt is kept there instead.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use authenticator_core::vault::{DATA_KEY_LEN, PASSPHRASE_ITERATIONS};
use authenticator_core::{DataKey, Vault};
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

    fn exists(&self) -> bool {
        self.db_path().exists() || self.dir.join(KEY_FILE).exists() || self.dir.join(KDF_FILE).exists()
    }

    /// Opens the vault, creating it (with a key file) on first use.
    pub fn open(&self) -> CliResult<Vault> {
        if !self.exists() {
            return self.create(KeyMode::KeyFile);
        }
        let key = self.key()?;
        Ok(Vault::open(self.db_path(), &key)?)
    }

    /// Creates a new vault; refuses when one is already there.
    pub fn create(&self, mode: KeyMode) -> CliResult<Vault> {
        if self.exists() {
            return Err(CliError::msg(format!("a vault already exists in {}", self.dir.display())));
        }
        create_private_dir(&self.dir)?;
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
        let vault = Vault::open(self.db_path(), &key)?;
        restrict(&self.db_path())?;
        Ok(vault)
    }

    fn key(&self) -> CliResult<DataKey> {
        let kdf_path = self.dir.join(KDF_FILE);
        let key_path = self.dir.join(KEY_FILE);
        if kdf_path.exists() {
            let damaged = || CliError::msg(format!("{} is damaged", kdf_path.display()));
            let bytes = read_small(&kdf_path, KDF_FILE_CAP)?;
            let text = std::str::from_utf8(&bytes).ok().filter(|_| bytes.len() <= KDF_FILE_CAP).ok_or_else(damaged)?;
            let (iterations_text, salt) = parse_kdf(text).ok_or_else(damaged)?;
            let passphrase = prompt::passphrase(PASSPHRASE_ENV)?;
            Ok(DataKey::from_passphrase(&passphrase, &salt, iterations_text)?)
        } else if key_path.exists() {
            let bytes = read_small(&key_path, DATA_KEY_LEN)?;
            if bytes.len() != DATA_KEY_LEN {
                return Err(CliError::msg(format!("{} is damaged: a key file holds 32 bytes", key_path.display())));
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
    let file = fs::File::open(path).map_err(|e| CliError::msg(format!("cannot read {}: {e}", path.display())))?;
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

fn create_private_dir(dir: &Path) -> CliResult<()> {
    fs::create_dir_all(dir).map_err(|e| CliError::msg(format!("cannot create {}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes a new file readable by the owner only; never replaces an existing one.
fn write_private(path: &Path, contents: &[u8]) -> CliResult<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

fn restrict(path: &Path) -> CliResult<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    }
    let _ = path;
    Ok(())
}
