//! Measures the key derivations the KDF budget prices (`src/crypto/kdf.rs`, "Calibration").
//! Run with the release profile on an otherwise idle machine:
//! `cargo run --release -p authenticator-core --example kdf_calibration`. Prints, per
//! derivation, the best of three runs in CPU time of this thread (Linux: /proc/thread-self/schedstat)
//! and in wall time, and what it costs per unit the budget charges.

use std::time::Instant;

use storage::crypto::kdf::{self, Argon2Params, ScryptParams};

/// CPU time of this thread in nanoseconds (0 where /proc is not available).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn measure(name: &str, units: f64, unit: &str, mut derive: impl FnMut()) {
    let (mut best_cpu, mut best_wall) = (u64::MAX, f64::MAX);
    for _ in 0..3 {
        let (cpu, wall) = (cpu_ns(), Instant::now());
        derive();
        best_cpu = best_cpu.min(cpu_ns() - cpu);
        best_wall = best_wall.min(wall.elapsed().as_secs_f64());
    }
    let cpu_s = best_cpu as f64 / 1e9;
    println!("{name:<34} cpu {cpu_s:.3} s ({:.0} ns/{unit}), wall {best_wall:.3} s", cpu_s * 1e9 / units);
}

fn main() {
    for iterations in [600_000u32, 2_000_000] {
        let priced = kdf::KdfCost::pbkdf2(iterations).work_ns as f64 / 1e9;
        measure(&format!("PBKDF2 {iterations} (priced {priced:.3} s)"), f64::from(iterations), "iteration", || {
            kdf::pbkdf2_sha256(b"password", b"salt-of-16-bytes", iterations).unwrap();
        });
    }
    for hash in [kdf::Pbkdf2Hash::Sha1, kdf::Pbkdf2Hash::Sha512] {
        let iterations = 1_000_000u32;
        let priced = kdf::KdfCost::pbkdf2_with(hash, iterations).work_ns as f64 / 1e9;
        measure(
            &format!("PBKDF2 {hash:?} {iterations} (priced {priced:.3} s)"),
            f64::from(iterations),
            "iteration",
            || {
                kdf::pbkdf2_within(hash, b"password", b"salt-of-16-bytes", iterations, &mut kdf::KdfBudget::per_file())
                    .unwrap();
            },
        );
    }
    for (log_n, r, p) in [(15u8, 8u32, 1u32), (16, 8, 1), (16, 15, 1), (14, 8, 4), (10, 8, 16)] {
        let params = ScryptParams { log_n, r, p };
        let priced = params.cost().work_ns as f64 / 1e9;
        let units = (1u64 << log_n) as f64 * f64::from(r) * f64::from(p);
        measure(&format!("scrypt 2^{log_n},{r},{p} (priced {priced:.3} s)"), units, "N*r*p", || {
            kdf::scrypt(b"password", b"salt", params).unwrap();
        });
    }
    for (memory_kib, iterations, parallelism) in
        [(65_536u32, 3u32, 1u32), (131_072, 1, 1), (131_072, 14, 1), (32_768, 8, 4)]
    {
        let params = Argon2Params { memory_kib, iterations, parallelism };
        let priced = params.cost().work_ns as f64 / 1e9;
        let units = f64::from(memory_kib) * f64::from(iterations);
        measure(
            &format!("Argon2id {memory_kib}x{iterations}x{parallelism} (priced {priced:.3} s)"),
            units,
            "KiB-pass",
            || {
                kdf::argon2id(b"password", b"saltsalt", params).unwrap();
            },
        );
    }
}
