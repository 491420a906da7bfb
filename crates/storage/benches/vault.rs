//! Benchmarks for the vault's performance targets.
//!
//! | benchmark                              | target   |
//! |----------------------------------------|----------|
//! | `codes_1000_accounts`                  | ≤ 1 ms   |
//! | `hmac_floor_1000_accounts_ring`        | (floor)  |
//! | `hmac_floor_1000_accounts_totp_rs`     | (floor)  |
//! | `open_and_list_1000_accounts`          | ≤ 10 ms  |
//! | `import_1000_accounts_one_transaction` | ≤ 100 ms |
//! | `parse_otpauth_uri`                    | (micro)  |
//!
//! Every vault is a real SQLite file (WAL, `synchronous = FULL`) in a fresh directory under
//! `std::env::temp_dir()`, removed when the benchmark ends. Run with
//! `cargo bench -p authenticator-core --bench vault`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use domain::{AccountData, Algorithm, OtpParams, Secret, uri};
use storage::{DataKey, Vault};

const ACCOUNTS: usize = 1_000;
/// A fixed "now" (2025-06-15), so runs are comparable.
const NOW: u64 = 1_750_000_000;

/// A directory of its own under the system temp dir, removed (with every vault in it) on drop.
struct TempDir {
    path: PathBuf,
    files: AtomicU64,
}

impl TempDir {
    fn new(purpose: &str) -> Self {
        static DIRS: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name = format!(
            "authenticator-bench-{purpose}-{}-{nanos}-{}",
            std::process::id(),
            DIRS.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir(&path).expect("create the benchmark's temp dir");
        Self { path, files: AtomicU64::new(0) }
    }

    /// A path for a vault file that does not exist yet.
    fn fresh_vault_path(&self) -> PathBuf {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        self.path.join(format!("vault-{n}.db"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Removes a vault file with its WAL and shared-memory companions.
fn remove_vault(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

fn key() -> DataKey {
    DataKey::from_bytes([0x42; 32])
}

/// A deterministic xorshift stream, so every run benchmarks the same accounts.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// 1,000 accounts in a realistic mix: 85 % TOTP SHA-1 6 digits 30 s with 20-byte secrets, 5 %
/// TOTP SHA-256 (32-byte secrets, half of them 8 digits), 3 % TOTP SHA-512 (64-byte secrets,
/// 8 digits), 4 % HOTP SHA-1 and 3 % Steam; a fifth of them filed in groups.
fn accounts(n: usize) -> Vec<AccountData> {
    const ISSUERS: [&str; 10] =
        ["GitHub", "Google", "Microsoft", "AWS", "Dropbox", "Slack", "GitLab", "Discord", "Bank", "VPN"];
    const GROUPS: [&str; 3] = ["Work", "Personal", "Servers"];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|i| {
            let (params, secret_len) = match i % 100 {
                0..85 => (OtpParams::totp(Algorithm::Sha1, 6, 30), 20),
                85..90 => (OtpParams::totp(Algorithm::Sha256, if i % 2 == 0 { 8 } else { 6 }, 30), 32),
                90..93 => (OtpParams::totp(Algorithm::Sha512, 8, 30), 64),
                93..97 => (OtpParams::hotp(Algorithm::Sha1, 6, rng.next() % 1_000), 20),
                _ => (Ok(OtpParams::steam()), 20),
            };
            AccountData {
                issuer: ISSUERS[i % ISSUERS.len()].into(),
                label: format!("user{i}@example.com").into(),
                params: params.expect("valid parameters"),
                secret: Secret::from_bytes(rng.bytes(secret_len)).expect("valid secret"),
                group: (i % 5 == 0).then(|| GROUPS[i % GROUPS.len()].into()),
            }
        })
        .collect()
}

/// A vault file holding `data`, closed again.
fn populated_vault(dir: &TempDir, data: &[AccountData]) -> PathBuf {
    let path = dir.fresh_vault_path();
    let vault = Vault::open(&path, &key()).expect("create vault");
    vault.add_all(data).expect("add accounts");
    assert_eq!(vault.accounts().expect("list").len(), data.len());
    path
}

fn codes_1000_accounts(c: &mut Criterion) {
    let dir = TempDir::new("codes");
    let data = accounts(ACCOUNTS);
    let path = populated_vault(&dir, &data);
    let key = key();

    // Steady state: the vault is open and its cache warm; each call checks `data_version`
    // (one PRAGMA) and computes 2 HMACs per account (current and next code).
    let vault = Vault::open(&path, &key).expect("open vault");
    assert_eq!(vault.codes(NOW).expect("codes").len(), ACCOUNTS);
    c.bench_function("codes_1000_accounts", |b| b.iter(|| vault.codes(black_box(NOW)).expect("codes")));
    drop(vault);

    // Cold: opening the vault (key check, WAL) plus the first codes, which fill the cache
    // (SQL load, AES-GCM open and HMAC key setup for every account). Closing is not timed.
    c.bench_function("codes_1000_accounts_cold", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let vault = Vault::open(black_box(&path), &key).expect("open vault");
                let codes = vault.codes(black_box(NOW)).expect("codes");
                total += start.elapsed();
                assert_eq!(codes.len(), ACCOUNTS);
                drop((codes, vault));
            }
            total
        })
    });
}

/// The floor under `codes_1000_accounts`: only the HMACs it must compute (current and next code
/// for the same 1,000 accounts, keys set up in advance), with ring and with totp-rs, the two
/// HMAC implementations at hand. docs/performance.md states the ratio of `codes` to the faster floor.
fn hmac_floor_1000_accounts(c: &mut Criterion) {
    let data = accounts(ACCOUNTS);
    let factors: Vec<u64> = data
        .iter()
        .map(|a| match a.params.kind() {
            domain::OtpKind::Hotp => a.params.counter(),
            _ => NOW / u64::from(a.params.period()),
        })
        .collect();
    let ring_keys: Vec<ring::hmac::Key> = data
        .iter()
        .map(|a| {
            let algorithm = match a.params.algorithm() {
                Algorithm::Sha1 => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
                Algorithm::Sha256 => ring::hmac::HMAC_SHA256,
                Algorithm::Sha512 => ring::hmac::HMAC_SHA512,
            };
            ring::hmac::Key::new(algorithm, a.secret.expose())
        })
        .collect();
    c.bench_function("hmac_floor_1000_accounts_ring", |b| {
        b.iter(|| {
            for (key, factor) in ring_keys.iter().zip(&factors) {
                black_box(ring::hmac::sign(key, &black_box(*factor).to_be_bytes()));
                black_box(ring::hmac::sign(key, &black_box(factor + 1).to_be_bytes()));
            }
        })
    });
    let totp_keys: Vec<totp_rs::Totp> = data
        .iter()
        .map(|a| {
            let algorithm = match a.params.algorithm() {
                Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
                Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
                Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
            };
            totp_rs::Builder::new()
                .with_algorithm(algorithm)
                .with_secret(a.secret.expose().to_vec())
                .with_step_duration(1)
                .build_noncompliant()
        })
        .collect();
    c.bench_function("hmac_floor_1000_accounts_totp_rs", |b| {
        b.iter(|| {
            for (key, factor) in totp_keys.iter().zip(&factors) {
                black_box(key.sign(black_box(*factor)));
                black_box(key.sign(black_box(factor + 1)));
            }
        })
    });
}

fn open_and_list_1000_accounts(c: &mut Criterion) {
    let dir = TempDir::new("open");
    let path = populated_vault(&dir, &accounts(ACCOUNTS));
    let key = key();
    // Closing the vault (and SQLite's checkpoint on last close) is not timed.
    c.bench_function("open_and_list_1000_accounts", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let vault = Vault::open(black_box(&path), &key).expect("open vault");
                let list = vault.accounts().expect("list");
                total += start.elapsed();
                assert_eq!(list.len(), ACCOUNTS);
                drop((list, vault));
            }
            total
        })
    });
}

fn import_1000_accounts_one_transaction(c: &mut Criterion) {
    let dir = TempDir::new("import");
    let data = accounts(ACCOUNTS);
    let key = key();
    // Each iteration imports into a fresh, empty vault file; creating it (schema, key check,
    // WAL switch) and deleting it afterwards are not timed. The commit's fsync is.
    c.bench_function("import_1000_accounts_one_transaction", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let path = dir.fresh_vault_path();
                let vault = Vault::open(&path, &key).expect("create vault");
                let start = Instant::now();
                let ids = vault.add_all(black_box(&data)).expect("import");
                total += start.elapsed();
                assert_eq!(ids.len(), ACCOUNTS);
                drop(vault);
                remove_vault(&path);
            }
            total
        })
    });
}

fn parse_otpauth_uri(c: &mut Criterion) {
    let text = "otpauth://totp/GitHub:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\
                &issuer=GitHub&algorithm=SHA1&digits=6&period=30";
    assert_eq!(uri::parse(text).expect("valid URI").issuer, "GitHub");
    c.bench_function("parse_otpauth_uri", |b| b.iter(|| uri::parse(black_box(text)).expect("valid URI")));
}

fn config() -> Criterion {
    Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = codes_1000_accounts, hmac_floor_1000_accounts, open_and_list_1000_accounts, import_1000_accounts_one_transaction, parse_otpauth_uri
}
criterion_main!(benches);
