//! Hostile files (issue 10, "Files and imports"): imports that must stay linear, key derivations
//! that must stay within the documented budget, reads that must stop at the input cap, and names
//! that must never reach the terminal with control or bidi characters.

use std::time::{Duration, Instant};

use crate::support::*;

// ---------------------------------------------------------------------------------------------
// A tiny independent encoder for Google Authenticator migration payloads (protobuf + base64).

fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn int_field(out: &mut Vec<u8>, field: u64, v: u64) {
    varint(out, field << 3);
    varint(out, v);
}

fn bytes_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let mut block = [0u8; 3];
        block[..chunk.len()].copy_from_slice(chunk);
        let bits = (u32::from(block[0]) << 16) | (u32::from(block[1]) << 8) | u32::from(block[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((bits >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A migration URI with one TOTP account (`secret`, `name`, `issuer`), part `index` of a batch of
/// `size` QR codes with id `id`.
fn migration_line(secret: &[u8], name: &str, issuer: &str, (size, index, id): (u64, u64, u64)) -> String {
    let mut otp = Vec::new();
    bytes_field(&mut otp, 1, secret);
    bytes_field(&mut otp, 2, name.as_bytes());
    bytes_field(&mut otp, 3, issuer.as_bytes());
    int_field(&mut otp, 6, 2);
    let mut payload = Vec::new();
    bytes_field(&mut payload, 1, &otp);
    int_field(&mut payload, 2, 1);
    int_field(&mut payload, 3, size);
    int_field(&mut payload, 4, index);
    int_field(&mut payload, 5, id);
    let data = base64(&payload).replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
    format!("otpauth-migration://offline?data={data}")
}

// ---------------------------------------------------------------------------------------------
// Item 7: Google migration imports are linear.

/// Lines of the large Google import: the audit's 80,000 took 25 s with the quadratic code.
const GOOGLE_LINES: u64 = 80_000;
/// Budget for `import --dry-run` of those lines with the unoptimised test binary. Measured on
/// the 2-core build machine: 5.5 s linear, 36.8 s with the quadratic batch bookkeeping.
const GOOGLE_BUDGET: Duration = Duration::from_secs(20);

/// 80,000 QR payloads, each one QR code of a different two-code batch: every line opens a batch
/// of its own (the step that was quadratic) and leaves one QR code missing.
#[test]
fn a_google_import_of_80000_batches_is_linear() {
    let home = Home::new("google-linear");
    let file = home.path().with_file_name("google.txt");
    let mut text = String::new();
    for i in 0..GOOGLE_LINES {
        let secret = (i as u32).to_be_bytes().repeat(5);
        text.push_str(&migration_line(&secret, &format!("user{i}"), "Example", (2, 0, i + 1)));
        text.push('\n');
    }
    std::fs::write(&file, &text).unwrap();
    let started = Instant::now();
    let output = wait_with_deadline(
        home.cli([std::ffi::OsStr::new("import"), "--dry-run".as_ref(), file.as_os_str()]).spawn(),
        GOOGLE_BUDGET,
    );
    let elapsed = started.elapsed();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("would import: ")).count() as u64, GOOGLE_LINES);
    let missing = stdout.lines().filter(|l| l.contains("QR code 2 of 2 was not imported")).count() as u64;
    assert_eq!(missing, GOOGLE_LINES, "each batch misses its second QR code");
    assert!(elapsed < GOOGLE_BUDGET, "{elapsed:?}");
    eprintln!("{GOOGLE_LINES} Google migration lines: import --dry-run took {elapsed:?}");
}
