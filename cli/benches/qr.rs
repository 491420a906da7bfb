//! Benchmarks of reading QR images in the terminal app (issue 22, item 4): the whole CLI
//! process, `authenticator import --dry-run IMAGE`, on images made here.
//!
//! | benchmark                 | image                                              | target |
//! |---------------------------|----------------------------------------------------|--------|
//! | `qr_25_codes`             | 25 codes side by side, 4 px a module (1.0 MP)      | ≤ 5 s  |
//! | `qr_100_codes`            | 100 codes, 3 px a module (2.6 MP)                  | ≤ 5 s  |
//! | `qr_200_codes`            | 200 codes, 3 px a module (5.2 MP)                  | ≤ 5 s  |
//! | `qr_finder_patterns`      | 6,400 finder patterns (refused)                    | ≤ 5 s  |
//! | `qr_40_megapixels`        | 25 codes in 8000 × 5000 pixels, 1-bit PNG          | ≤ 5 s  |
//!
//! Every image up to the 40-megapixel cap is read or refused within 5 s of CPU on the 2-core
//! build machine (docs/security.md, "QR images"). Run with
//! `cargo bench -p authenticator-cli --bench qr`; `./test-all` runs each once. With
//! `QR_BENCH_DIR=DIR` the images are kept in DIR.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

/// A distinct account for code `i`.
fn numbered_uri(i: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digits: String = (0..8).rev().map(|d| ALPHABET[(i >> (5 * d)) & 31] as char).collect();
    format!("otpauth://totp/Bench:user{i}?secret=JBSWY3DP{digits}&issuer=Bench")
}

/// A white canvas of `width` × `height` with `count` codes in a grid of `columns`, `scale`
/// pixels a module, each with its 4-module quiet zone: `dark[y * width + x]`.
fn codes(count: usize, columns: usize, scale: usize, size: Option<(usize, usize)>) -> (Vec<bool>, usize, usize) {
    let codes: Vec<qrcode::QrCode> = (0..count).map(|i| qrcode::QrCode::new(numbered_uri(i)).unwrap()).collect();
    let cell = codes.iter().map(|c| (c.width() + 8) * scale).max().unwrap();
    let rows = count.div_ceil(columns);
    let (width, height) = size.unwrap_or((columns * cell, rows * cell));
    let mut dark = vec![false; width * height];
    for (i, code) in codes.iter().enumerate() {
        let (x0, y0) = ((i % columns) * cell + 4 * scale, (i / columns) * cell + 4 * scale);
        let colors = code.to_colors();
        let w = code.width();
        for my in 0..w {
            for mx in 0..w {
                if colors[my * w + mx] == qrcode::Color::Dark {
                    for dy in 0..scale {
                        let row = (y0 + my * scale + dy) * width;
                        dark[row + x0 + mx * scale..row + x0 + (mx + 1) * scale].fill(true);
                    }
                }
            }
        }
    }
    (dark, width, height)
}

/// 6,400 finder patterns, 8 modules apart, 3 pixels a module.
fn finder_patterns() -> (Vec<bool>, usize, usize) {
    let (width, height) = (1920, 1920);
    let mut dark = vec![false; width * height];
    for fy in 0..80 {
        for fx in 0..80 {
            for y in 0..21 {
                for x in 0..21 {
                    let (mx, my) = (x / 3, y / 3);
                    let ring = mx == 0 || my == 0 || mx == 6 || my == 6;
                    let centre = (2..=4).contains(&mx) && (2..=4).contains(&my);
                    dark[(fy * 24 + y) * width + fx * 24 + x] = ring || centre;
                }
            }
        }
    }
    (dark, width, height)
}

/// A 1-bit greyscale PNG of `dark`, written by hand (stored deflate blocks): quick to make at
/// 40 megapixels even in an unoptimised build.
fn png_1bit((dark, width, height): &(Vec<bool>, usize, usize), path: &Path) -> PathBuf {
    let mut raw = Vec::with_capacity((width.div_ceil(8) + 1) * height);
    for row in dark.chunks_exact(*width) {
        raw.push(0);
        raw.extend(row.chunks(8).map(|bits| {
            bits.iter().enumerate().fold(0xffu8, |byte, (i, d)| if *d { byte & !(0x80 >> i) } else { byte })
        }));
    }
    let png = testkit::png::one_bit_grey(*width as u32, *height as u32, &raw);
    std::fs::write(path, png).unwrap();
    path.to_owned()
}

/// `import --dry-run image` in a fresh process: its stderr, and whether it succeeded.
fn import(data: &Path, image: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_authenticator"))
        .arg("--data-dir")
        .arg(data)
        .args(["import", "--dry-run"])
        .arg(image)
        .env_remove("AUTHENTICATOR_HOME")
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn benches(c: &mut Criterion) {
    // QR_BENCH_DIR keeps the images (to time another build's binary on them by hand).
    let temp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("QR_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| temp.path().to_owned());
    let data = temp.path().join("data");
    let cases = [
        ("qr_25_codes", png_1bit(&codes(25, 5, 4, None), &dir.join("25.png")), Some(25)),
        ("qr_100_codes", png_1bit(&codes(100, 10, 3, None), &dir.join("100.png")), Some(100)),
        ("qr_200_codes", png_1bit(&codes(200, 20, 3, None), &dir.join("200.png")), Some(200)),
        ("qr_finder_patterns", png_1bit(&finder_patterns(), &dir.join("finders.png")), None),
        ("qr_40_megapixels", png_1bit(&codes(25, 5, 4, Some((8000, 5000))), &dir.join("40mp.png")), Some(25)),
    ];
    let mut group = c.benchmark_group("qr");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    for (name, image, expected) in &cases {
        let (ok, stderr) = import(&data, image);
        match expected {
            Some(n) => assert!(ok && stderr.contains(&format!("QR image ({n} codes)")), "{name}: {stderr}"),
            None => assert!(!ok && stderr.contains("too many QR-like patterns"), "{name}: {stderr}"),
        }
        group.bench_function(*name, |b| b.iter(|| import(&data, image)));
    }
    group.finish();
}

criterion_group!(qr, benches);
criterion_main!(qr);
