//! The vault: accounts in an SQLite file, secrets sealed under the caller's data key.
//!
//! Reads are served from an in-memory cache of accounts with their code generators, so a screen
//! refresh costs HMACs, not SQL and AES. The cache is checked against SQLite's `data_version`
//! on every read, which changes when *another* connection (thread or process) commits; this
//! handle's own writes drop the cache directly.

mod access;
mod clock;
mod passkey;
mod push;
mod record;
pub mod schema;
mod sync;

pub use access::VaultAccess;
pub use passkey::DamagedPasskey;
pub use push::StoredKey;
pub use sync::{SyncProgress, SyncSnapshot};

/// The 32-byte key that seals the vault's secrets. The platform keystore (Android Keystore, iOS
/// Keychain) or the CLI's key file supplies it.
pub type DataKey = crate::crypto::Key;
/// Length of a data key in bytes.
pub const DATA_KEY_LEN: usize = crate::crypto::KEY_LEN;
/// PBKDF2-HMAC-SHA256 iterations for passphrase-derived data keys (OWASP 2023 guidance).
pub const PASSPHRASE_ITERATIONS: u32 = 600_000;

use std::cell::RefCell;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::crypto::Sealer;
use crate::error::{Error, Result};
use domain::account::AccountData;
pub use domain::account::{Account, AccountCode};
use domain::otp::{Generator, OtpKind, adjusted_time};
use domain::text::Name;
use domain::time::now;
use record::{Opened, ROW_COLUMNS, StoredRow};

/// How long a write waits for another handle's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest clock offset, in seconds (100 years: a phone whose clock reset to 1970 still fits).
pub const MAX_CLOCK_OFFSET: i64 = 100 * 366 * 24 * 3600;
const KEY_CHECK_PLAINTEXT: &[u8] = b"authenticator vault key check v1";
const KEY_CHECK_AAD: &[u8] = b"meta.key_check";

struct Entry {
    account: Account,
    generator: Generator,
}

struct Cache {
    data_version: i64,
    clock_offset: i64,
    entries: Vec<Entry>,
    damaged: Vec<DamagedAccount>,
}

/// An account row whose sealed record does not open under its identity and parameters
/// (tampered with, swapped with another row's, or damaged). Reported on its own, by id; the
/// other accounts keep working, and the row can be removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedAccount {
    /// The row's id.
    pub id: i64,
    /// What is wrong, in a few words (never names or secrets: they are what failed to open).
    pub reason: &'static str,
}

/// An open vault. One handle serves one thread at a time (wrap it in a `Mutex` to share it);
/// several handles on one file, in threads or processes, work side by side.
pub struct Vault {
    conn: Connection,
    sealer: Sealer,
    cache: RefCell<Option<Cache>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("path", &self.conn.path()).finish_non_exhaustive()
    }
}

impl Vault {
    /// Opens the vault at `path`, creating it when no file is there.
    ///
    /// A file that exists is opened or refused, never re-initialised: an empty file, an SQLite
    /// database without the vault's tables or anything else fails with [`Error::NotAVault`],
    /// a vault sealed with another key with [`Error::WrongKey`], and the file keeps every byte.
    /// A new vault is built in a temporary 0600 file beside `path` and moved into place only
    /// when complete, so no one ever sees it half-built or readable by others.
    pub fn open(path: impl AsRef<Path>, key: &DataKey) -> Result<Self> {
        let path = path.as_ref();
        match std::fs::symlink_metadata(path) {
            Ok(_) => Self::open_existing(path, key),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path, key),
            Err(e) => Err(e.into()),
        }
    }

    /// Opens an existing vault for reading only, for commands that write nothing: works in a
    /// read-only folder or on read-only files. Never creates, migrates or writes anything; a
    /// vault that needs an upgrade fails with [`Error::UpgradeNeedsWriteAccess`]. Writes through
    /// the handle fail with a storage error.
    pub fn open_read_only(path: impl AsRef<Path>, key: &DataKey) -> Result<Self> {
        let path = path.as_ref();
        refuse_foreign_file(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| not_a_vault_on(path, e))?;
        let conn = match schema::version(&conn) {
            // WAL needs the -shm file; where it cannot be made (read-only folder) and no log is
            // pending, the file is read as immutable: nobody can write it there either.
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)
                ) && !has_pending_log(path) =>
            {
                drop(conn);
                Connection::open_with_flags(immutable_uri(path), flags | OpenFlags::SQLITE_OPEN_URI)
                    .map_err(|e| not_a_vault_on(path, e))?
            }
            _ => conn,
        };
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let vault = Self { conn, sealer: Sealer::new(key), cache: RefCell::new(None) };
        let version = vault.check_version(path)?;
        if version < schema::LATEST {
            return Err(Error::UpgradeNeedsWriteAccess { found: version, latest: schema::LATEST });
        }
        vault.verify_key()?;
        Ok(vault)
    }

    fn open_existing(path: &Path, key: &DataKey) -> Result<Self> {
        refuse_foreign_file(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| not_a_vault_on(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Deleted and overwritten content is zeroed in the file, not left in free pages.
        conn.pragma_update(None, "secure_delete", true)?;
        let vault = Self { conn, sealer: Sealer::new(key), cache: RefCell::new(None) };
        vault.prepare(path)?;
        Ok(vault)
    }

    /// Builds a new vault in a temporary file (created 0600, so private from its first byte),
    /// syncs it, and links it into place: the name `path` only ever holds a complete vault. When
    /// another handle linked its vault first, that one is opened instead.
    fn create(path: &Path, key: &DataKey) -> Result<Self> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let file_name = path.file_name().ok_or_else(|| Error::InvalidInput("the vault path names no file".into()))?;
        let prefix = format!(".{}.", file_name.to_string_lossy());
        remove_stale_temporaries(dir, &prefix);
        let suffix = hex::encode(crate::crypto::random_array::<8>()?);
        let temp = dir.join(format!("{prefix}{suffix}.tmp"));
        let built = build_new_vault(&temp, key);
        // A link never replaces a file that appeared meanwhile; where the file system has no
        // links, a rename after a last look is the next best thing.
        let linked = built.and_then(|()| match std::fs::hard_link(&temp, path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(_) if !path.exists() => std::fs::rename(&temp, path).map(|()| true).map_err(Error::from),
            Err(e) => Err(e.into()),
        });
        let _ = std::fs::remove_file(&temp);
        if linked? {
            sync_dir(dir)?;
        }
        Self::open_existing(path, key)
    }

    /// Verifies the key, migrates to [`schema::LATEST`], and switches to WAL — in that order, so a
    /// wrong key or a foreign file changes nothing.
    fn prepare(&self, path: &Path) -> Result<()> {
        let found = self.check_version(path)?;
        self.verify_key()?;
        while self.migrate_one()? {}
        self.verify_key()?;
        if found < schema::LATEST {
            // What older versions kept in plaintext (names, before version 3) may survive a
            // migration in free pages: rebuild the file so no copy is left behind.
            self.conn.execute_batch("VACUUM")?;
        }
        self.enable_wal()
    }

    /// The schema version, after checking that the file is one of our vaults and not newer.
    fn check_version(&self, path: &Path) -> Result<i64> {
        let version = schema::version(&self.conn).map_err(|e| not_a_vault_on(path, e))?;
        if version > schema::LATEST {
            return Err(Error::NewerSchema { found: version, supported: schema::LATEST });
        }
        if version == 0 {
            // Vaults are built before they get their name: version 0 here is never ours.
            let reason = if schema::has_objects(&self.conn)? {
                "a database of another program"
            } else {
                "an SQLite database without the vault's tables"
            };
            return Err(Error::NotAVault { path: path.to_owned(), reason });
        }
        // Many programs set user_version; without our meta table this is someone else's file.
        if !schema::has_table(&self.conn, "meta")? {
            return Err(Error::NotAVault { path: path.to_owned(), reason: "a database of another program" });
        }
        Ok(version)
    }

    /// Switches to WAL. On a brand-new file this needs an exclusive lock that SQLite takes
    /// without its busy handler, so two handles creating the vault at once can see SQLITE_BUSY:
    /// retry until the busy timeout.
    fn enable_wal(&self) -> Result<()> {
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match self.conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0)) {
                Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
                Ok(mode) => return Err(Error::Storage(format!("could not enable WAL (journal mode is {mode})"))),
                Err(e)
                    if matches!(
                        e.sqlite_error_code(),
                        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                    ) && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Runs the next migration in its own transaction; false when the schema is current. The
    /// version is re-read under the write lock: another process may have migrated meanwhile.
    fn migrate_one(&self) -> Result<bool> {
        let tx = self.begin_write()?;
        let version = schema::version(&tx)?;
        if version >= schema::LATEST {
            return Ok(false);
        }
        migrate_step(&tx, &self.sealer, version)?;
        tx.commit()?;
        Ok(true)
    }

    fn verify_key(&self) -> Result<()> {
        let sealed: Option<Vec<u8>> =
            self.conn.query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |row| row.get(0)).optional()?;
        let sealed = sealed.ok_or_else(|| Error::Corrupt("the key check record is missing".into()))?;
        match self.sealer.open(&sealed, KEY_CHECK_AAD) {
            Some(plain) if plain.as_slice() == KEY_CHECK_PLAINTEXT => Ok(()),
            _ => Err(Error::WrongKey),
        }
    }

    fn begin_write(&self) -> Result<Transaction<'_>> {
        // IMMEDIATE takes the write lock up front, so the busy timeout applies; a deferred
        // transaction that upgrades later fails at once with SQLITE_BUSY instead of waiting.
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        self.cache.replace(None);
        Ok(tx)
    }

    /// Loads (or reuses) the cache and runs `f` on it.
    fn with_cache<T>(&self, f: impl FnOnce(&Cache) -> Result<T>) -> Result<T> {
        let data_version: i64 = self.conn.pragma_query_value(None, "data_version", |row| row.get(0))?;
        let mut cache = self.cache.borrow_mut();
        if cache.as_ref().is_none_or(|c| c.data_version != data_version) {
            *cache = Some(self.load(data_version)?);
        }
        f(cache.as_ref().expect("cache was just filled"))
    }

    fn load(&self, data_version: i64) -> Result<Cache> {
        let clock_offset = clock::read(&self.conn)?.offset_in_force();
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM accounts ORDER BY sort_order, uid"))?;
        let mut rows = stmt.query([])?;
        let mut entries = Vec::new();
        let mut damaged = Vec::new();
        while let Some(row) = rows.next()? {
            match StoredRow::read(row)?.open(&self.sealer) {
                Ok(Opened { account, secret }) => {
                    let generator = Generator::new(account.params, &secret);
                    entries.push(Entry { account, generator });
                }
                Err(Error::DamagedAccount { id, reason }) => damaged.push(DamagedAccount { id, reason }),
                Err(e) => return Err(e),
            }
        }
        Ok(Cache { data_version, clock_offset, entries, damaged })
    }

    /// All accounts in the user's order.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        self.with_cache(|c| Ok(c.entries.iter().map(|e| e.account.clone()).collect()))
    }

    /// Rows whose record does not open (tampered with or damaged), by id: left out of
    /// [`Vault::accounts`], codes and exports, and removable with [`Vault::remove`].
    pub fn damaged_accounts(&self) -> Result<Vec<DamagedAccount>> {
        self.with_cache(|c| Ok(c.damaged.clone()))
    }

    /// One account.
    pub fn account(&self, id: i64) -> Result<Account> {
        self.with_cache(|c| Ok(entry(c, id)?.account.clone()))
    }

    /// Accounts whose issuer, label, `issuer:label` or group contains `query`, ignoring case
    /// and surrounding white space; an empty query finds every account. The one search of both
    /// facades (a phone's search box, the terminal app's account argument).
    pub fn search(&self, query: &str) -> Result<Vec<Account>> {
        let needle = query.trim().to_lowercase();
        self.with_cache(|c| {
            Ok(c.entries
                .iter()
                .map(|e| &e.account)
                .filter(|a| {
                    format!("{}:{}", a.issuer, a.label).to_lowercase().contains(&needle)
                        || a.group.as_deref().is_some_and(|g| g.to_lowercase().contains(&needle))
                })
                .cloned()
                .collect())
        })
    }

    /// Every account's code at `unix_time` (seconds since the epoch, device clock: the vault's
    /// clock offset is added here). HOTP accounts show the code the next use will hand out.
    pub fn codes(&self, unix_time: u64) -> Result<Vec<AccountCode>> {
        self.with_cache(|c| {
            let time = adjusted_time(unix_time, c.clock_offset);
            Ok(c.entries
                .iter()
                .map(|e| AccountCode { account: e.account.clone(), code: e.generator.code(time) })
                .collect())
        })
    }

    /// One account's code at `unix_time`, without using it (HOTP counters do not move).
    pub fn code(&self, id: i64, unix_time: u64) -> Result<domain::Code> {
        self.with_cache(|c| Ok(entry(c, id)?.generator.code(adjusted_time(unix_time, c.clock_offset))))
    }

    /// Takes a code to use it now: records the use and, for HOTP, hands out the code at the
    /// stored counter and advances the counter in the same transaction, so no code is ever
    /// handed out twice, even by two handles at once.
    pub fn take_code(&self, id: i64, unix_time: u64) -> Result<domain::Code> {
        let tx = self.begin_write()?;
        let (_, Opened { account, secret }) = self.open_row_in(&tx, id)?;
        let generator = Generator::new(account.params, &secret);
        let offset = clock::read(&tx)?.offset_in_force();
        let code = generator.code(adjusted_time(unix_time, offset));
        let now = now();
        if account.params.kind() == OtpKind::Hotp {
            let next = account.params.counter().checked_add(1).filter(|c| *c <= i64::MAX as u64);
            let next = next.ok_or(Error::CounterExhausted(id))?;
            tx.execute(
                "UPDATE accounts SET counter = ?1, last_used_at = ?2 WHERE id = ?3",
                params![next as i64, now, id],
            )?;
            let uid = self.uid_in(&tx, id)?;
            self.record_change(&tx, &uid, &["counter"])?;
        } else {
            tx.execute("UPDATE accounts SET last_used_at = ?1 WHERE id = ?2", params![now, id])?;
        }
        tx.commit()?;
        Ok(code)
    }

    /// Adds one account at the end of the list.
    pub fn add(&self, data: &AccountData) -> Result<Account> {
        let tx = self.begin_write()?;
        let id = self.insert(&tx, data)?;
        tx.commit()?;
        self.account(id)
    }

    /// Adds many accounts in one transaction: all of them or, on any error, none.
    pub fn add_all(&self, accounts: &[AccountData]) -> Result<Vec<i64>> {
        let tx = self.begin_write()?;
        let ids = accounts.iter().map(|a| self.insert(&tx, a)).collect::<Result<Vec<_>>>()?;
        tx.commit()?;
        Ok(ids)
    }

    fn insert(&self, tx: &Transaction<'_>, data: &AccountData) -> Result<i64> {
        let p = &data.params;
        let now = now();
        let group = data.group.as_ref().map(Name::as_str).filter(|g| !g.is_empty());
        let uid = crate::crypto::random_array::<{ record::UID_LEN }>()?;
        // The record is bound to the row id, which exists only after the insert: insert an empty
        // placeholder, then seal, within the same transaction.
        tx.prepare_cached(
            "INSERT INTO accounts (uid, kind, algorithm, digits, period, counter, record_enc, sort_order,
                                   created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, x'', (SELECT IFNULL(MAX(sort_order), -1) + 1 FROM accounts), ?7, ?7)",
        )?
        .execute(params![
            uid,
            p.kind().as_str(),
            p.algorithm().as_str(),
            p.digits(),
            p.period(),
            p.counter() as i64,
            now
        ])?;
        let id = tx.last_insert_rowid();
        let names = (data.issuer.as_str(), data.label.as_str(), group);
        let sealed = record::seal(&self.sealer, id, &uid, p, data.secret.expose(), names)?;
        tx.prepare_cached("UPDATE accounts SET record_enc = ?1 WHERE id = ?2")?.execute(params![sealed, id])?;
        self.record_change(tx, &uid, &["entry"])?;
        Ok(id)
    }

    /// Changes the issuer and label of an account.
    pub fn rename(&self, id: i64, issuer: &Name, label: &Name) -> Result<()> {
        self.reseal_names(id, &["issuer", "label"], |a| {
            a.issuer = issuer.as_str().to_owned();
            a.label = label.as_str().to_owned();
        })
    }

    /// Files an account under a group, or under none.
    pub fn set_group(&self, id: i64, group: Option<&Name>) -> Result<()> {
        let group = group.map(Name::as_str).filter(|g| !g.is_empty()).map(str::to_owned);
        self.reseal_names(id, &["group"], |a| a.group = group)
    }

    /// Group names in use, sorted (decrypted names, sorted in memory).
    pub fn groups(&self) -> Result<Vec<String>> {
        self.with_cache(|c| {
            let groups: std::collections::BTreeSet<&String> =
                c.entries.iter().filter_map(|e| e.account.group.as_ref()).collect();
            Ok(groups.into_iter().cloned().collect())
        })
    }

    /// Removes an account for good.
    pub fn remove(&self, id: i64) -> Result<()> {
        let tx = self.begin_write()?;
        let uid = self.uid_in(&tx, id)?;
        tx.execute("DELETE FROM accounts WHERE id = ?1", [id])?;
        // A tombstone, so the removal reaches synced devices and no device brings it back.
        self.record_change(&tx, &uid, &["removed"])?;
        tx.commit()?;
        Ok(())
    }

    /// Puts the accounts `ids` first, in that order; the others follow in their current order.
    pub fn reorder(&self, ids: &[i64]) -> Result<()> {
        let tx = self.begin_write()?;
        let mut current: Vec<i64> = tx
            .prepare("SELECT id FROM accounts ORDER BY sort_order, uid")?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if let Some(&missing) = ids.iter().find(|id| !current.contains(id)) {
            return Err(Error::NoSuchAccount(missing));
        }
        current.retain(|id| !ids.contains(id));
        let mut order: Vec<i64> = Vec::with_capacity(ids.len() + current.len());
        for id in ids.iter().chain(current.iter()) {
            if !order.contains(id) {
                order.push(*id);
            }
        }
        let mut stmt = tx.prepare("UPDATE accounts SET sort_order = ?1 WHERE id = ?2 AND sort_order != ?1")?;
        for (position, id) in order.iter().enumerate() {
            if stmt.execute(params![position as i64, id])? > 0 {
                let uid = self.uid_in(&tx, *id)?;
                self.record_change(&tx, &uid, &["order"])?;
            }
        }
        drop(stmt);
        tx.commit()?;
        Ok(())
    }

    /// Seconds added to the device clock for every code: the manual offset, or in automatic
    /// mode the measured correction (see [`domain::clock`]).
    pub fn clock_offset(&self) -> Result<i64> {
        self.with_cache(|c| Ok(c.clock_offset))
    }

    /// Sets the manual clock offset in seconds (positive when the device clock is behind), at
    /// most [`MAX_CLOCK_OFFSET`] either way, and puts it in force: automatic correction is
    /// turned off.
    pub fn set_clock_offset(&self, seconds: i64) -> Result<()> {
        if seconds.unsigned_abs() > MAX_CLOCK_OFFSET as u64 {
            return Err(Error::InvalidClockOffset(seconds));
        }
        self.update_clock_state(|state| {
            state.manual_offset = seconds;
            state.mode = domain::clock::ClockMode::Manual;
            Ok(())
        })
    }

    /// The accounts' change counter (`meta.accounts_version`): grows with every committed
    /// change to the accounts, by any handle or process.
    pub fn accounts_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = 'accounts_version'", [], |row| row.get(0))?)
    }

    /// A service's setting in `meta` (text it owns, e.g. `backup`), if set.
    pub fn setting(&self, name: &'static str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [name], |row| row.get(0)).optional()?)
    }

    /// Sets (or with `None` removes) a service's setting in `meta`.
    pub fn set_setting(&self, name: &'static str, value: Option<&str>) -> Result<()> {
        self.put_meta(name, value.map(|v| rusqlite::types::Value::Text(v.to_owned())))
    }

    /// A service's secret in `meta`, opened with the data key (associated data `meta.<name>`).
    pub fn sealed_setting(&self, name: &'static str) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
        let sealed: Option<Vec<u8>> =
            self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [name], |row| row.get(0)).optional()?;
        sealed
            .map(|s| self.sealer.open(&s, format!("meta.{name}").as_bytes()))
            .map(|opened| opened.ok_or_else(|| Error::Corrupt(format!("meta.{name} does not open"))))
            .transpose()
    }

    /// Seals `value` under the data key into `meta` (or with `None` removes it).
    pub fn set_sealed_setting(&self, name: &'static str, value: Option<&[u8]>) -> Result<()> {
        let sealed = value.map(|v| self.sealer.seal(v, format!("meta.{name}").as_bytes())).transpose()?;
        self.put_meta(name, sealed.map(rusqlite::types::Value::from))
    }

    fn put_meta(&self, name: &'static str, value: Option<rusqlite::types::Value>) -> Result<()> {
        let tx = self.begin_write()?;
        match value {
            Some(value) => {
                tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![name, value])?
            }
            None => tx.execute("DELETE FROM meta WHERE key = ?1", [name])?,
        };
        tx.commit()?;
        Ok(())
    }

    /// The full definition of an account, secret included: for export and backup only.
    pub fn account_data(&self, id: i64) -> Result<AccountData> {
        let row = self
            .conn
            .prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM accounts WHERE id = ?1"))?
            .query_row([id], StoredRow::read)
            .optional()?
            .ok_or(Error::NoSuchAccount(id))?;
        let Opened { account, secret } = row.open(&self.sealer)?;
        // The file is an edge too: names read back are cleaned like any outside text.
        Ok(AccountData {
            issuer: account.issuer.into(),
            label: account.label.into(),
            params: account.params,
            secret,
            group: account.group.map(Name::from),
        })
    }

    /// Every account with its secret, in the user's order: for backups and exports only. Damaged
    /// rows are left out (see [`Vault::damaged_accounts`]).
    pub fn all_account_data(&self) -> Result<Vec<AccountData>> {
        self.accounts()?.iter().map(|a| self.account_data(a.id)).collect()
    }
}

/// Test support, for this crate's tests and (through the `test-support` feature, a
/// dev-dependency only) the services' tests: never in a shipped build.
#[cfg(any(test, feature = "test-support"))]
impl Vault {
    /// Runs SQL directly, for tests that need to age or damage data.
    pub fn execute_for_test(&self, sql: &str) {
        self.conn.execute_batch(sql).unwrap();
        self.cache.replace(None);
    }

    /// Creates a vault at `path` migrated only up to schema `version`, as an older build left
    /// it, for tests of the later migrations. Writes are raw SQL through [`Self::execute_for_test`]
    /// and [`Self::seal_for_test`]; open it with [`Vault::open`] to migrate the rest.
    pub fn create_at_version_for_test(path: &Path, key: &DataKey, version: i64) -> Self {
        let conn = Connection::open(path).unwrap();
        let vault = Self { conn, sealer: Sealer::new(key), cache: RefCell::new(None) };
        while schema::version(&vault.conn).unwrap() < version {
            assert!(vault.migrate_one().unwrap());
        }
        vault
    }

    /// Seals `plain` under the data key, as the vault would store it.
    pub fn seal_for_test(&self, plain: &[u8], aad: &[u8]) -> Vec<u8> {
        self.sealer.seal(plain, aad).unwrap()
    }
}

fn entry(cache: &Cache, id: i64) -> Result<&Entry> {
    if let Some(d) = cache.damaged.iter().find(|d| d.id == id) {
        return Err(Error::DamagedAccount { id, reason: d.reason });
    }
    cache.entries.iter().find(|e| e.account.id == id).ok_or(Error::NoSuchAccount(id))
}

/// Refuses, before SQLite touches it, a file that is empty or does not start with SQLite's magic
/// header.
fn refuse_foreign_file(path: &Path) -> Result<()> {
    let access = |source| Error::FileAccess { path: path.to_owned(), source };
    let mut file = File::open(path).map_err(access)?;
    let mut header = [0u8; 16];
    let mut filled = 0;
    while filled < header.len() {
        match file.read(&mut header[filled..]).map_err(access)? {
            0 => break,
            n => filled += n,
        }
    }
    if filled == 0 {
        Err(Error::NotAVault { path: path.to_owned(), reason: "the file is empty" })
    } else if &header[..filled] == b"SQLite format 3\0" {
        Ok(())
    } else {
        Err(Error::NotAVault { path: path.to_owned(), reason: "not an SQLite database" })
    }
}

/// Runs migration `version + 1` in `tx` and records it; the first one also seals the key check.
fn migrate_step(tx: &Transaction<'_>, sealer: &Sealer, version: i64) -> Result<()> {
    tx.execute_batch(schema::MIGRATIONS[version as usize])?;
    if version == 2 {
        record::seal_records_v3(tx, sealer)?;
        tx.execute_batch(schema::ACCOUNTS_V3_REBUILD)?;
    }
    if version == 4 {
        push::seal_push_text_v5(tx, sealer)?;
    }
    if version == 7 {
        sync::stamp_existing_v8(tx)?;
    }
    if version == 0 {
        let check = sealer.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD)?;
        tx.execute("INSERT INTO meta (key, value) VALUES ('key_check', ?1)", [check])?;
    }
    tx.pragma_update(None, "user_version", version + 1)?;
    Ok(())
}

/// Creates `temp` (0600 from its first byte on Unix; it must not exist), builds the latest
/// schema in it in one transaction, and syncs it to disk.
fn build_new_vault(temp: &Path, key: &DataKey) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(temp)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(temp, flags)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    let sealer = Sealer::new(key);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for version in 0..schema::LATEST {
        migrate_step(&tx, &sealer, version)?;
    }
    tx.commit()?;
    conn.close().map_err(|(_, e)| e)?;
    file.sync_all()?;
    Ok(())
}

/// How old a temporary file of an interrupted creation must be before it is cleaned up: far
/// beyond the milliseconds a creation takes, so a concurrent creator's file is never touched.
pub const STALE_TEMPORARY_AGE: Duration = Duration::from_secs(60);

/// Removes what an interrupted creation left in `dir`: files named `<prefix><16 hex>.tmp`
/// (and their `-journal`) older than [`STALE_TEMPORARY_AGE`]. Best effort.
pub fn remove_stale_temporaries(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else { continue };
        let rest = rest.strip_suffix("-journal").unwrap_or(rest);
        let ours =
            rest.strip_suffix(".tmp").is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STALE_TEMPORARY_AGE));
        if ours && old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Makes a new name in `dir` durable (a no-op where directories cannot be synced).
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    let _ = dir;
    Ok(())
}

/// Whether a write-ahead log with content lies beside `path` (an immutable open would miss it).
fn has_pending_log(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).is_ok_and(|m| m.len() > 0)
}

/// `file:<path>?immutable=1`, the path percent-encoded as SQLite's URI filenames require.
fn immutable_uri(path: &Path) -> String {
    const ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'%').add(b'?').add(b'#');
    let text = path.to_string_lossy();
    format!("file:{}?immutable=1", percent_encoding::utf8_percent_encode(&text, ESCAPED))
}

fn not_a_vault_on(path: &Path, e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => {
            Error::NotAVault { path: path.to_owned(), reason: "not an SQLite database" }
        }
        _ => e.into(),
    }
}

#[cfg(test)]
mod tests;
