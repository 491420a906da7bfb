//! The vault: accounts in an SQLite file, secrets sealed under the caller's data key.
//!
//! Reads are served from an in-memory cache of accounts with their code generators, so a screen
//! refresh costs HMACs, not SQL and AES. The cache is checked against SQLite's `data_version`
//! on every read, which changes when *another* connection (thread or process) commits; this
//! handle's own writes drop the cache directly.

mod access;
mod push;
pub mod schema;

pub use access::VaultAccess;
pub use push::StoredKey;

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

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use crate::account::AccountData;
pub use crate::account::{Account, AccountCode};
use crate::crypto::Sealer;
use crate::error::{Error, Result};
use crate::otp::{Generator, OtpKind, OtpParams, Secret, adjusted_time};
use crate::text::Name;
use crate::time::now;
use crate::uri;

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
    /// Opens the vault at `path`, creating it when the file is absent or empty.
    ///
    /// Fails with [`Error::WrongKey`] when the vault was sealed with another key, and with
    /// [`Error::NotAVault`] for a file that is not an authenticator database; in both cases the
    /// file is left exactly as it was.
    pub fn open(path: impl AsRef<Path>, key: &DataKey) -> Result<Self> {
        let path = path.as_ref();
        let exists = refuse_foreign_file(path)?;
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if !exists {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let vault = Self { conn, sealer: Sealer::new(key), cache: RefCell::new(None) };
        vault.prepare(path)?;
        Ok(vault)
    }

    /// Verifies the key, migrates to [`schema::LATEST`], and switches to WAL — in that order, so a
    /// wrong key or a foreign file changes nothing.
    fn prepare(&self, path: &Path) -> Result<()> {
        let version = schema::version(&self.conn).map_err(|e| not_a_vault_on(path, e))?;
        if version > schema::LATEST {
            return Err(Error::NewerSchema { found: version, supported: schema::LATEST });
        }
        if version >= 1 {
            // Many programs set user_version; without our meta table this is someone else's file.
            if !schema::has_table(&self.conn, "meta")? {
                return Err(Error::NotAVault { path: path.to_owned() });
            }
            self.verify_key()?;
        }
        while self.migrate_one(path)? {}
        self.verify_key()?;
        self.enable_wal()
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
    fn migrate_one(&self, path: &Path) -> Result<bool> {
        let tx = self.begin_write()?;
        let version = schema::version(&tx)?;
        if version >= schema::LATEST {
            return Ok(false);
        }
        if version == 0 && schema::has_objects(&tx)? {
            return Err(Error::NotAVault { path: path.to_owned() });
        }
        tx.execute_batch(schema::MIGRATIONS[version as usize])?;
        if version == 0 {
            let check = self.sealer.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD)?;
            tx.execute("INSERT INTO meta (key, value) VALUES ('key_check', ?1)", [check])?;
        }
        tx.pragma_update(None, "user_version", version + 1)?;
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
        let clock_offset: i64 = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'clock_offset'", [], |row| row.get(0))
            .optional()?
            .unwrap_or(0);
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY sort_order, id"))?;
        let mut rows = stmt.query([])?;
        let mut entries = Vec::new();
        while let Some(row) = rows.next()? {
            let account = account_from_row(row)?;
            let sealed: Vec<u8> = row.get(13)?;
            let secret = self.open_secret(account.id, &sealed)?;
            let generator = Generator::new(account.params, &secret);
            entries.push(Entry { account, generator });
        }
        Ok(Cache { data_version, clock_offset, entries })
    }

    fn open_secret(&self, id: i64, sealed: &[u8]) -> Result<Secret> {
        let plain = self.sealer.open(sealed, &secret_aad(id)).ok_or_else(|| {
            Error::Corrupt(format!("the secret of account {id} does not decrypt (tampered or damaged)"))
        })?;
        Secret::from_bytes(plain.to_vec()).map_err(|_| Error::Corrupt(format!("account {id} has an invalid secret")))
    }

    /// All accounts in the user's order.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        self.with_cache(|c| Ok(c.entries.iter().map(|e| e.account.clone()).collect()))
    }

    /// One account.
    pub fn account(&self, id: i64) -> Result<Account> {
        self.with_cache(|c| Ok(entry(c, id)?.account.clone()))
    }

    /// Accounts whose issuer, label or group contains `query`, ignoring case.
    pub fn search(&self, query: &str) -> Result<Vec<Account>> {
        let needle = query.trim().to_lowercase();
        self.with_cache(|c| {
            Ok(c.entries
                .iter()
                .map(|e| &e.account)
                .filter(|a| {
                    a.issuer.to_lowercase().contains(&needle)
                        || a.label.to_lowercase().contains(&needle)
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
    pub fn code(&self, id: i64, unix_time: u64) -> Result<crate::Code> {
        self.with_cache(|c| Ok(entry(c, id)?.generator.code(adjusted_time(unix_time, c.clock_offset))))
    }

    /// Takes a code to use it now: records the use and, for HOTP, hands out the code at the
    /// stored counter and advances the counter in the same transaction, so no code is ever
    /// handed out twice, even by two handles at once.
    pub fn take_code(&self, id: i64, unix_time: u64) -> Result<crate::Code> {
        let tx = self.begin_write()?;
        let row = tx
            .query_row(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1"), [id], |row| {
                Ok((account_from_row(row), row.get::<_, Vec<u8>>(13)?))
            })
            .optional()?
            .ok_or(Error::NoSuchAccount(id))?;
        let (account, sealed) = (row.0?, row.1);
        let generator = Generator::new(account.params, &self.open_secret(id, &sealed)?);
        let offset: i64 = tx
            .query_row("SELECT value FROM meta WHERE key = 'clock_offset'", [], |row| row.get(0))
            .optional()?
            .unwrap_or(0);
        let code = generator.code(adjusted_time(unix_time, offset));
        let now = now();
        if account.params.kind() == OtpKind::Hotp {
            let next = account.params.counter().checked_add(1).filter(|c| *c <= i64::MAX as u64);
            let next = next.ok_or(Error::CounterExhausted(id))?;
            tx.execute(
                "UPDATE accounts SET counter = ?1, last_used_at = ?2 WHERE id = ?3",
                params![next as i64, now, id],
            )?;
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
        // The sealed secret is bound to the row id, which exists only after the insert: insert an
        // empty placeholder, then seal, within the same transaction.
        tx.prepare_cached(
            "INSERT INTO accounts (issuer, label, kind, algorithm, digits, period, counter, secret_enc,
                                   group_name, sort_order, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, x'', ?8,
                     (SELECT IFNULL(MAX(sort_order), -1) + 1 FROM accounts), ?9, ?9)",
        )?
        .execute(params![
            data.issuer.as_str(),
            data.label.as_str(),
            p.kind().as_str(),
            p.algorithm().as_str(),
            p.digits(),
            p.period(),
            p.counter() as i64,
            group,
            now
        ])?;
        let id = tx.last_insert_rowid();
        let sealed = self.sealer.seal(data.secret.expose(), &secret_aad(id))?;
        tx.prepare_cached("UPDATE accounts SET secret_enc = ?1 WHERE id = ?2")?.execute(params![sealed, id])?;
        Ok(id)
    }

    /// Changes the issuer and label of an account.
    pub fn rename(&self, id: i64, issuer: &Name, label: &Name) -> Result<()> {
        self.update(id, "issuer = ?2, label = ?3", params![id, issuer.as_str(), label.as_str()])
    }

    /// Files an account under a group, or under none.
    pub fn set_group(&self, id: i64, group: Option<&Name>) -> Result<()> {
        let group = group.map(Name::as_str).filter(|g| !g.is_empty());
        self.update(id, "group_name = ?2", params![id, group])
    }

    fn update(&self, id: i64, assignments: &str, values: &[&dyn rusqlite::ToSql]) -> Result<()> {
        let tx = self.begin_write()?;
        let sql = format!("UPDATE accounts SET {assignments}, updated_at = {} WHERE id = ?1", now());
        if tx.execute(&sql, values)? == 0 {
            return Err(Error::NoSuchAccount(id));
        }
        tx.commit()?;
        Ok(())
    }

    /// Group names in use, sorted.
    pub fn groups(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT group_name FROM accounts WHERE group_name IS NOT NULL ORDER BY group_name",
        )?;
        let groups = stmt.query_map([], |row| row.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(groups)
    }

    /// Removes an account for good.
    pub fn remove(&self, id: i64) -> Result<()> {
        let tx = self.begin_write()?;
        if tx.execute("DELETE FROM accounts WHERE id = ?1", [id])? == 0 {
            return Err(Error::NoSuchAccount(id));
        }
        tx.commit()?;
        Ok(())
    }

    /// Puts the accounts `ids` first, in that order; the others follow in their current order.
    pub fn reorder(&self, ids: &[i64]) -> Result<()> {
        let tx = self.begin_write()?;
        let mut current: Vec<i64> = tx
            .prepare("SELECT id FROM accounts ORDER BY sort_order, id")?
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
            stmt.execute(params![position as i64, id])?;
        }
        drop(stmt);
        tx.commit()?;
        Ok(())
    }

    /// Seconds added to the device clock for every code.
    pub fn clock_offset(&self) -> Result<i64> {
        self.with_cache(|c| Ok(c.clock_offset))
    }

    /// Sets the clock offset in seconds (positive when the device clock is behind); at most
    /// [`MAX_CLOCK_OFFSET`] either way.
    pub fn set_clock_offset(&self, seconds: i64) -> Result<()> {
        if seconds.unsigned_abs() > MAX_CLOCK_OFFSET as u64 {
            return Err(Error::InvalidClockOffset(seconds));
        }
        let tx = self.begin_write()?;
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('clock_offset', ?1)", [seconds])?;
        tx.commit()?;
        Ok(())
    }

    /// The full definition of an account, secret included: for export and backup only.
    pub fn account_data(&self, id: i64) -> Result<AccountData> {
        let account = self.account(id)?;
        let sealed: Vec<u8> =
            self.conn.query_row("SELECT secret_enc FROM accounts WHERE id = ?1", [id], |row| row.get(0))?;
        // The file is an edge too: names read back are cleaned like any outside text.
        Ok(AccountData {
            issuer: account.issuer.into(),
            label: account.label.into(),
            params: account.params,
            secret: self.open_secret(id, &sealed)?,
            group: account.group.map(Name::from),
        })
    }

    /// Every account with its secret, in the user's order: for backups and exports only.
    pub fn all_account_data(&self) -> Result<Vec<AccountData>> {
        self.accounts()?.iter().map(|a| self.account_data(a.id)).collect()
    }

    /// Every account as an `otpauth://` URI, in list order. These contain the secrets.
    pub fn export_uris(&self) -> Result<Vec<String>> {
        self.accounts()?.iter().map(|a| Ok(uri::format(&self.account_data(a.id)?))).collect()
    }
}

#[cfg(test)]
impl Vault {
    /// Runs SQL directly, for tests that need to age or damage data.
    pub(crate) fn execute_for_test(&self, sql: &str) {
        self.conn.execute_batch(sql).unwrap();
        self.cache.replace(None);
    }

    /// Creates a vault at `path` migrated only up to schema `version`, as an older build left
    /// it, for tests of the later migrations. Writes are raw SQL through [`Self::execute_for_test`]
    /// and [`Self::seal_for_test`]; open it with [`Vault::open`] to migrate the rest.
    pub(crate) fn create_at_version_for_test(path: &Path, key: &DataKey, version: i64) -> Self {
        let conn = Connection::open(path).unwrap();
        let vault = Self { conn, sealer: Sealer::new(key), cache: RefCell::new(None) };
        while schema::version(&vault.conn).unwrap() < version {
            assert!(vault.migrate_one(path).unwrap());
        }
        vault
    }

    /// Seals `plain` under the data key, as the vault would store it.
    pub(crate) fn seal_for_test(&self, plain: &[u8], aad: &[u8]) -> Vec<u8> {
        self.sealer.seal(plain, aad).unwrap()
    }
}

fn entry(cache: &Cache, id: i64) -> Result<&Entry> {
    cache.entries.iter().find(|e| e.account.id == id).ok_or(Error::NoSuchAccount(id))
}

fn secret_aad(id: i64) -> Vec<u8> {
    format!("accounts.secret_enc:{id}").into_bytes()
}

/// The columns [`account_from_row`] reads, then the sealed secret (index 13).
const ACCOUNT_COLUMNS: &str = "id, issuer, label, kind, algorithm, digits, period, counter, group_name, sort_order,
     created_at, updated_at, last_used_at, secret_enc";

fn account_from_row(row: &Row<'_>) -> Result<Account> {
    let id: i64 = row.get(0)?;
    let corrupt = |what: &str| Error::Corrupt(format!("account {id} has an invalid {what}"));
    let kind: OtpKind = row.get::<_, String>(3)?.parse().map_err(|_| corrupt("kind"))?;
    let algorithm = row.get::<_, String>(4)?.parse().map_err(|_| corrupt("algorithm"))?;
    let counter: i64 = row.get(7)?;
    let params = OtpParams::new(kind, algorithm, row.get(5)?, row.get(6)?, counter as u64)
        .map_err(|_| corrupt("set of code parameters"))?;
    Ok(Account {
        id,
        issuer: row.get(1)?,
        label: row.get(2)?,
        params,
        group: row.get(8)?,
        sort_order: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
        last_used_at: row.get(12)?,
    })
}

/// Refuses, before SQLite touches it, a non-empty file that does not start with SQLite's magic
/// header. Returns whether the file exists.
fn refuse_foreign_file(path: &Path) -> Result<bool> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let mut header = [0u8; 16];
    let mut filled = 0;
    while filled < header.len() {
        match file.read(&mut header[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    if filled == 0 || &header[..filled] == b"SQLite format 3\0" {
        Ok(true)
    } else {
        Err(Error::NotAVault { path: path.to_owned() })
    }
}

fn not_a_vault_on(path: &Path, e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => Error::NotAVault { path: path.to_owned() },
        _ => e.into(),
    }
}

#[cfg(test)]
mod tests;
