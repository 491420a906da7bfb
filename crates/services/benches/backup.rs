//! Benchmarks of automatic backups (issue 13).
//!
//! | benchmark                            | target  |
//! |--------------------------------------|---------|
//! | `automatic_backup_1000_accounts`     | ≤ 1 s   |
//! | `enable_backups_key_derivation`      | (once)  |
//!
//! `automatic_backup_1000_accounts` is one whole automatic backup into a real folder: read the
//! 1,000 accounts from a real vault (SQLite, WAL), encrypt with the key derived at enabling,
//! write `.partial`, fsync, read back, decrypt and compare, rename, fsync the folder, rotate to
//! the newest 10, record the status. No key derivation: that happens once, when backups are
//! enabled (`enable_backups_key_derivation`, Argon2id 64 MiB, 3 passes). Run with
//! `cargo bench -p authenticator-core --bench backup`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use domain::{AccountData, Algorithm, OtpParams, Secret};
use services::backup::auto::{self, FolderDestination};
use services::backup::format::KdfParams;
use storage::{DataKey, Vault};

const ACCOUNTS: usize = 1_000;
const PASSWORD: &str = "correct horse battery staple";

fn accounts() -> Vec<AccountData> {
    (0..ACCOUNTS)
        .map(|i| AccountData {
            issuer: format!("Service {i}").as_str().into(),
            label: format!("user{i}@example.com").as_str().into(),
            params: OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap(),
            secret: Secret::from_bytes(format!("bench-secret-{i:08}").into_bytes()).unwrap(),
            group: (i % 3 == 0).then(|| "Work".into()),
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path().join("vault.db"), &DataKey::from_bytes([5; 32])).unwrap();
    vault.add_all(&accounts()).unwrap();
    let folder = dir.path().join("backups");
    std::fs::create_dir(&folder).unwrap();

    let mut group = c.benchmark_group("backup");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("enable_backups_key_derivation", |b| {
        b.iter(|| auto::enable(&vault, black_box(PASSWORD), 10, None, KdfParams::default()).unwrap())
    });
    group.finish();

    let destination = FolderDestination::new(&folder);
    let mut runs = 0;
    c.bench_function("automatic_backup_1000_accounts", |b| {
        b.iter(|| {
            runs += 1;
            black_box(auto::run(&vault, &destination).unwrap())
        })
    });
    // `cargo test --bench` runs it once; `cargo bench` many times.
    let kept = std::fs::read_dir(&folder).unwrap().count();
    assert_eq!(kept, runs.min(10), "rotation keeps the newest 10 of {runs}");
}

criterion_group!(backup, benches);
criterion_main!(backup);
