//! One sync round on loopback against a real Apache WebDAV server (tests/webdav/server.sh):
//! 1,000 accounts, 10 of them renamed since the last round. What is timed: read the local
//! state, GET the manifest and the state object (about 0.3 MB), open, merge, seal and PUT the
//! new state, switch the manifest with If-Match, merge back into the vault. Not timed: the
//! one-time key derivation at setup, the renames, and the second Apache needs before it gives a
//! strong ETag for the object just written (see `sync::round`). Target ≤ 200 ms.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use domain::{AccountData, Algorithm, OtpParams, Secret};
use services::sync::{self, SyncClient, SyncSecret};
use storage::{DataKey, Vault};

struct Apache(tempfile::TempDir);

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).arg("stop").arg(self.0.path()).status();
    }
}

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/webdav/server.sh")
}

fn one_round(c: &mut Criterion) {
    let work = tempfile::Builder::new().prefix("sync-bench-apache-").tempdir().unwrap();
    let started = Command::new("bash").arg(script()).arg("start").arg(work.path()).output().unwrap();
    assert!(started.status.success(), "apache: {}", String::from_utf8_lossy(&started.stderr));
    let apache = Apache(work);
    let url = std::fs::read_to_string(apache.0.path().join("url")).unwrap().trim().to_owned();
    let password = std::fs::read_to_string(apache.0.path().join("password")).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path().join("vault.db"), &DataKey::from_bytes([7; 32])).unwrap();
    let accounts: Vec<AccountData> = (0..1000)
        .map(|i| AccountData {
            issuer: format!("Service {i}").as_str().into(),
            label: format!("user{i}@example.com").as_str().into(),
            params: OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap(),
            secret: Secret::from_bytes(format!("secret number {i:08} ....").into_bytes()).unwrap(),
            group: None,
        })
        .collect();
    let ids = vault.add_all(&accounts).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = SyncClient::new().unwrap();
    rt.block_on(sync::setup(&vault, &client, &url, "sync", &password, SyncSecret::RandomKey)).unwrap();
    rt.block_on(sync::sync_now(&vault, &client)).unwrap();

    let mut group = c.benchmark_group("sync");
    group.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(Duration::from_secs(1));
    let mut edition = 0;
    group.bench_function("one_round_1000_accounts_10_changed", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                edition += 1;
                for id in ids.iter().step_by(100) {
                    vault.rename(*id, &format!("Renamed {edition}").as_str().into(), &"user".into()).unwrap();
                }
                std::thread::sleep(Duration::from_millis(1100));
                let start = Instant::now();
                let report = rt.block_on(sync::sync_now(&vault, &client)).unwrap();
                timed += start.elapsed();
                assert!(report.uploaded);
            }
            timed
        })
    });
    group.finish();
}

criterion_group!(benches, one_round);
criterion_main!(benches);
