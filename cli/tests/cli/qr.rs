//! QR codes both ways, checked against independent tools from Debian: images made by `qrencode`
//! are read by `add --qr` / `import IMAGE` / `push enroll --qr`, and what `show-qr` and
//! `export --google --qr` draw (in the terminal, or as PNG files) is decoded by `zbarimg`.
//!
//! The tools come from `scripts/provision.sh` (./test-all runs it first); a machine without them
//! fails these tests, it never skips them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::files::measured;
use crate::support::*;

/// zbarimg and qrencode on PATH (checked once per test run).
fn tools() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        for tool in ["zbarimg", "qrencode"] {
            let found = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().unwrap();
            assert!(found.status.success(), "{tool} is missing: run scripts/provision.sh once (./test-all does)");
        }
    });
}

/// What zbarimg (the independent decoder) reads in `image`: one text per QR code, sorted.
fn zbarimg(image: &Path) -> Vec<String> {
    tools();
    let out =
        Command::new("zbarimg").args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"]).arg(image).output().unwrap();
    assert!(
        out.status.success(),
        "zbarimg found no QR code in {}: {}",
        image.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut texts: Vec<String> =
        String::from_utf8(out.stdout).unwrap().lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
    texts.sort();
    texts
}

/// A PNG of `text`'s QR code made by qrencode (the independent encoder), 6 pixels per module.
fn qrencode(text: &str, path: &Path) -> PathBuf {
    tools();
    let out = Command::new("qrencode").args(["-s", "6", "-o"]).arg(path).arg(text).output().unwrap();
    assert!(out.status.success(), "qrencode: {}", String::from_utf8_lossy(&out.stderr));
    path.to_owned()
}

/// One white image holding `images` side by side, with a gap: several codes in one screenshot.
fn side_by_side(images: &[PathBuf]) -> image::GrayImage {
    let loaded: Vec<image::GrayImage> = images.iter().map(|p| image::open(p).unwrap().into_luma8()).collect();
    let gap = 40;
    let width = loaded.iter().map(|i| i.width() + gap).sum::<u32>() + gap;
    let height = loaded.iter().map(|i| i.height()).max().unwrap() + 2 * gap;
    let mut canvas = image::GrayImage::from_pixel(width, height, image::Luma([255]));
    let mut x = gap;
    for img in &loaded {
        image::imageops::replace(&mut canvas, img, i64::from(x), i64::from(gap));
        x += img.width() + gap;
    }
    canvas
}

fn save_jpeg(image: &image::GrayImage, path: &Path) {
    let mut file = std::fs::File::create(path).unwrap();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut file, 85).encode_image(image).unwrap();
}

const SGR_DARK_ON_LIGHT: &str = "\x1b[30;107m";
const SGR_RESET: &str = "\x1b[0m";

/// The QR codes a terminal shows for `stdout` (codes separated by an empty line), rendered
/// as PNG files the way a screen shows them: each character cell two modules high, upper and
/// lower half blocks dark, 8 pixels per module, with no margin added beyond what was printed.
fn terminal_to_pngs(stdout: &str, dir: &Path) -> Vec<PathBuf> {
    let blocks: Vec<&str> = stdout.split("\n\n").filter(|b| !b.trim().is_empty()).collect();
    blocks
        .iter()
        .enumerate()
        .map(|(n, block)| {
            let mut rows: Vec<Vec<bool>> = Vec::new();
            for line in block.lines() {
                // Dark on light whatever the terminal's theme: black on bright white, reset at
                // the end of each line.
                let cells = line
                    .strip_prefix(SGR_DARK_ON_LIGHT)
                    .and_then(|l| l.strip_suffix(SGR_RESET))
                    .unwrap_or_else(|| panic!("a QR line is black on white: {line:?}"));
                let (mut top, mut bottom) = (Vec::new(), Vec::new());
                for c in cells.chars() {
                    let (t, b) = match c {
                        '█' => (true, true),
                        '▀' => (true, false),
                        '▄' => (false, true),
                        ' ' => (false, false),
                        other => panic!("unexpected character {other:?} in a QR line"),
                    };
                    top.push(t);
                    bottom.push(b);
                }
                rows.push(top);
                rows.push(bottom);
            }
            let width = rows[0].len();
            assert!(rows.iter().all(|r| r.len() == width), "every line of a code is as wide");
            // The quiet zone: 4 light modules on every side.
            for (y, row) in rows.iter().enumerate() {
                let edge = y < 4 || y >= rows.len() - 5;
                assert!(row[..4].iter().chain(&row[width - 4..]).all(|d| !d), "quiet zone left/right, row {y}");
                assert!(!edge || row.iter().all(|d| !d), "quiet zone top/bottom, row {y}");
            }
            let scale = 8;
            let image = image::GrayImage::from_fn(width as u32 * scale, rows.len() as u32 * scale, |x, y| {
                image::Luma([if rows[(y / scale) as usize][(x / scale) as usize] { 0 } else { 255 }])
            });
            let path = dir.join(format!("terminal-{n}.png"));
            image.save(&path).unwrap();
            path
        })
        .collect()
}

fn temp(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(&format!("authenticator-qr-{name}-")).tempdir().unwrap()
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// RFC 6238's SHA1 code at T = 59 s, 6 digits.
const CODE_AT_59: &str = "287082";

#[test]
fn add_qr_reads_a_code_made_by_qrencode() {
    let dir = temp("add");
    let image = qrencode(&totp_uri("ACME", "alice"), &dir.path().join("acme.png"));
    let home = Home::new("qr-add");
    let run = home.run(&["add", "--qr", arg(&image), "--group", "Work"]);
    run.ok();
    assert!(run.stderr.contains("Added ACME (alice)"), "{}", run.stderr);
    let accounts = home.accounts();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["group"], "Work", "{accounts:?}");
    assert_eq!(home.ok(&["code", "ACME", "--at", "59"]).trim(), CODE_AT_59);
}

#[test]
fn import_reads_several_codes_in_one_png_and_in_a_jpeg() {
    let dir = temp("several");
    let uris = [totp_uri("ACME", "alice"), hotp_uri("Corp", "bob", 0), totp_uri("Shop", "carol")];
    let mut images: Vec<PathBuf> =
        uris.iter().enumerate().map(|(i, u)| qrencode(u, &dir.path().join(format!("{i}.png")))).collect();
    images.push(qrencode(
        "otpauth://pipush/PIPU0001?url=https://pi.example.com/ttype/push&ttl=10&issuer=PI&enrollment_credential=abc&v=1&serial=PIPU0001&sslverify=1",
        &dir.path().join("push.png"),
    ));
    images.push(qrencode("https://example.com/not-an-authenticator-code", &dir.path().join("web.png")));
    let canvas = side_by_side(&images);
    let png = dir.path().join("screenshot.png");
    canvas.save(&png).unwrap();
    let jpeg = dir.path().join("screenshot.jpg");
    save_jpeg(&canvas, &jpeg);
    assert_eq!(&std::fs::read(&jpeg).unwrap()[..3], [0xff, 0xd8, 0xff], "a real JPEG");

    for image in [&png, &jpeg] {
        let home = Home::new("qr-import");
        let dry = home.run(&["import", arg(image), "--dry-run"]);
        assert!(dry.ok().contains("would import: ACME (alice)"), "{}", dry.stdout);
        assert!(home.accounts().is_empty(), "a dry run imports nothing");

        let run = home.run(&["import", arg(image)]);
        let stdout = run.ok();
        assert!(
            run.stderr.contains("QR image (5 codes): imported 3, 0 duplicate(s) skipped, 2 refused"),
            "{}",
            run.stderr
        );
        for name in ["ACME (alice)", "Corp (bob)", "Shop (carol)"] {
            assert!(stdout.contains(&format!("imported: {name}")), "{name} in {stdout}");
        }
        assert!(stdout.contains("refused: QR code 4 (a push token, not a code account: enroll it with `authenticator push enroll --qr IMAGE`)"), "{stdout}");
        assert!(
            stdout.contains("refused: QR code 5 (not an authenticator QR code (45 bytes of other text))"),
            "{stdout}"
        );
        assert!(!stdout.contains("example.com"), "other codes are not echoed: {stdout}");
        assert_eq!(home.ok(&["code", "Shop", "--at", "59"]).trim(), CODE_AT_59);

        // Again: duplicates, not new accounts.
        let again = home.run(&["import", arg(image)]);
        assert!(again.stderr.contains("imported 0, 3 duplicate(s) skipped"), "{}", again.stderr);

        // `add --qr` with several codes goes through the same import and its report.
        let other = Home::new("qr-add-several");
        let run = other.run(&["add", "--qr", arg(image)]);
        assert!(run.ok().contains("imported: Corp (bob)"), "{}", run.stdout);
        assert_eq!(other.accounts().len(), 3);
    }
}

#[test]
fn import_reads_google_migration_codes_in_an_image() {
    let source = Home::new("qr-google-source");
    for i in 0..12 {
        source.add(&totp_uri("Issuer", &format!("user{i}")));
    }
    let migration: Vec<String> = source.ok(&["export", "--google", "--yes"]).lines().map(str::to_owned).collect();
    assert_eq!(migration.len(), 2, "12 accounts: two QR codes");
    let dir = temp("google");
    let images: Vec<PathBuf> =
        migration.iter().enumerate().map(|(i, u)| qrencode(u, &dir.path().join(format!("m{i}.png")))).collect();
    let both = dir.path().join("both.png");
    side_by_side(&images).save(&both).unwrap();

    let home = Home::new("qr-google");
    let run = home.run(&["import", arg(&both)]);
    run.ok();
    assert!(run.stderr.contains("imported 12, 0 duplicate(s) skipped, 0 refused"), "{}", run.stderr);

    // One code of the batch alone: its accounts, and the missing code reported.
    let home = Home::new("qr-google-one");
    let run = home.run(&["add", "--qr", arg(&images[0])]);
    let stdout = run.ok();
    assert!(run.stderr.contains("imported 10"), "{}", run.stderr);
    assert!(stdout.contains("refused:"), "the missing QR code is reported: {stdout}");
}

#[test]
fn show_qr_draws_a_code_that_zbarimg_reads() {
    let home = Home::new("qr-show");
    home.add(&hotp_uri("Corp", "bob", 7));
    let id = home.add(&totp_uri("ACME", "alice"));
    let expected: Vec<String> = home.ok(&["export", "--uris", "--yes"]).lines().skip(1).map(str::to_owned).collect();

    let run = home.run(&["show-qr", "ACME", "--yes"]);
    let dir = temp("show");
    let pngs = terminal_to_pngs(run.ok(), dir.path());
    assert_eq!(pngs.len(), 1);
    assert_eq!(zbarimg(&pngs[0]), expected);

    // And as a PNG file: 0600, read by zbarimg; never written over.
    let out = dir.path().join("codes");
    let run = home.run(&["show-qr", &id.to_string(), "--yes", "--png", arg(&out)]);
    run.ok();
    let file = out.join(format!("account-{id}.png"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(zbarimg(&file), expected);
    let again = home.run(&["show-qr", &id.to_string(), "--yes", "--png", arg(&out)]);
    assert!(again.refused().contains("exists"), "{}", again.stderr);
    let names: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "no partial file left: {names:?}");

    // Our own drawing read back by our own reader too (add --qr on zbar's input).
    let back = Home::new("qr-show-back");
    back.run(&["add", "--qr", arg(&file)]).ok();
    assert_eq!(back.ok(&["code", "ACME", "--at", "59"]).trim(), CODE_AT_59);
}

#[test]
fn show_qr_asks_before_showing_a_secret() {
    let home = Home::new("qr-ask");
    home.add(&totp_uri("ACME", "alice"));
    let stderr = home.run(&["show-qr", "ACME"]).refused().to_owned();
    assert!(stderr.contains("holds its secret") && stderr.contains("--yes"), "{stderr}");
    let dir = temp("ask");
    let out = dir.path().join("codes");
    home.run(&["show-qr", "ACME", "--png", arg(&out)]).refused();
    assert!(!out.exists(), "nothing written without confirmation");
}

#[test]
fn export_google_qr_draws_every_batch_code() {
    let home = Home::new("qr-export");
    for i in 0..12 {
        home.add(&totp_uri("Issuer", &format!("user{i}")));
    }
    let expected = home.ok(&["export", "--uris", "--yes"]);
    // Each export is a new batch (Google's batch id is random): what zbarimg reads must import
    // back to the same accounts, in two codes of one batch.
    let dir = temp("export");
    let imports_back = |texts: &[String], what: &str| {
        assert_eq!(texts.len(), 2, "{what}: 12 accounts make two QR codes");
        assert!(texts.iter().all(|t| t.starts_with("otpauth-migration://offline?data=")), "{what}: {texts:?}");
        let file = dir.path().join(format!("{what}.txt"));
        std::fs::write(&file, texts.join("\n")).unwrap();
        let other = Home::new("qr-export-back");
        let run = other.run(&["import", arg(&file)]);
        assert!(run.ok().lines().all(|l| l.starts_with("imported: ")), "{what}: {}", run.stdout);
        assert!(run.stderr.contains("imported 12, 0 duplicate(s) skipped, 0 refused"), "{what}: {}", run.stderr);
        assert_eq!(other.ok(&["export", "--uris", "--yes"]), expected, "{what}");
    };

    let run = home.run(&["export", "--google", "--qr", "--yes"]);
    let pngs = terminal_to_pngs(run.ok(), dir.path());
    assert_eq!(pngs.len(), 2, "one drawing per migration URI");
    imports_back(&pngs.iter().flat_map(|p| zbarimg(p)).collect::<Vec<_>>(), "terminal");
    assert!(run.stderr.contains("QR code 2 of 2"), "{}", run.stderr);

    let out = dir.path().join("png");
    home.run(&["export", "--google", "--qr", "--png", arg(&out), "--yes"]).ok();
    let read: Vec<String> = ["google-migration-1-of-2.png", "google-migration-2-of-2.png"]
        .iter()
        .flat_map(|name| zbarimg(&out.join(name)))
        .collect();
    imports_back(&read, "png");

    // Without --yes nothing is drawn; --png needs --qr, --qr needs --google.
    home.run(&["export", "--google", "--qr"]).refused();
    assert!(home.run(&["export", "--uris", "--qr", "--yes"]).refused_in_one_line().contains("--google"));
    let backup = dir.path().join("backup");
    let run = home.cli(["export", "--backup", arg(&backup), "--qr"]).env("AUTHENTICATOR_BACKUP_PASSWORD", "pw").run();
    assert!(run.refused_in_one_line().contains("--google"), "{}", run.stderr);
    assert!(!backup.exists());
    assert!(home.run(&["export", "--google", "--png", arg(&out), "--yes"]).stderr.contains("--qr"));
}

#[test]
fn push_enrollment_codes_go_to_push_enroll() {
    let dir = temp("push");
    // A server that is not there: enrollment gets as far as the network, proving the code was read.
    let uri = "otpauth://pipush/PIPU0001?url=https://127.0.0.1:9/ttype/push&ttl=10&issuer=PI\
               &enrollment_credential=abc&v=1&serial=PIPU0001&sslverify=1";
    let image = qrencode(uri, &dir.path().join("push.png"));
    let home = Home::new("qr-push");
    let stderr = home.run(&["add", "--qr", arg(&image)]).refused().to_owned();
    assert!(stderr.contains("push enroll --qr"), "{stderr}");

    let run = home.run(&["push", "enroll", "--qr", arg(&image)]);
    let stderr = run.refused();
    assert!(stderr.contains("registering with the server"), "read and sent to enrollment: {stderr}");

    let totp = qrencode(&totp_uri("ACME", "alice"), &dir.path().join("totp.png"));
    let stderr = home.run(&["push", "enroll", "--qr", arg(&totp)]).refused().to_owned();
    assert!(stderr.contains("no push enrollment QR code"), "{stderr}");
    assert!(home.accounts().is_empty());
}

#[test]
fn images_without_codes_and_files_that_are_not_images_are_refused() {
    let dir = temp("none");
    let blank = dir.path().join("blank.png");
    image::GrayImage::from_pixel(200, 200, image::Luma([255])).save(&blank).unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello\n").unwrap();
    let damaged = dir.path().join("damaged.png");
    let good = std::fs::read(qrencode(&totp_uri("ACME", "alice"), &dir.path().join("good.png"))).unwrap();
    std::fs::write(&damaged, &good[..good.len() / 2]).unwrap();
    let home = Home::new("qr-none");
    assert!(home.run(&["add", "--qr", arg(&blank)]).refused_in_one_line().contains("no QR code found"));
    assert!(home.run(&["import", arg(&blank)]).refused_in_one_line().contains("no QR code found"));
    assert!(home.run(&["add", "--qr", arg(&text)]).refused_in_one_line().contains("not a PNG or JPEG image"));
    assert!(home.run(&["add", "--qr", arg(&damaged)]).refused_in_one_line().contains("cannot read the image"));
    assert!(home.accounts().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Budgets: the file is capped at 16 MiB like every import, the image at 40 megapixels.

const MIB: u64 = 1024 * 1024;

/// A valid 1-bit greyscale PNG, all white, written by hand (stored deflate blocks): large in
/// pixels, small in bytes (`width`/8 bytes a row), the shape of a decompression bomb.
fn white_png(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let row_bytes = width.div_ceil(8) as usize;
    let mut raw = Vec::with_capacity((row_bytes + 1) * height as usize);
    for _ in 0..height {
        raw.push(0); // filter: none
        raw.extend(std::iter::repeat_n(0xffu8, row_bytes));
    }
    // zlib: header, stored blocks of up to 65,535 bytes, Adler-32.
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i == blocks.len() - 1));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // 1 bit, greyscale, deflate, adaptive, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

#[test]
fn images_over_40_megapixels_are_refused_before_decoding() {
    let dir = temp("budget");
    let small = dir.path().join("small.png");
    std::fs::write(&small, white_png(300, 200)).unwrap();
    let decoded = image::open(&small).expect("the hand-made PNG is valid").into_luma8();
    assert!(decoded.pixels().all(|p| p.0[0] == 255), "and white");

    // 8,000 × 6,000 = 48 megapixels in 6 MB: refused from its header, in little memory.
    let big = dir.path().join("big.png");
    std::fs::write(&big, white_png(8000, 6000)).unwrap();
    assert!(std::fs::metadata(&big).unwrap().len() < 16 * MIB);
    let home = Home::new("qr-budget");
    for args in [vec!["add", "--qr", arg(&big)], vec!["import", arg(&big)], vec!["import", "--dry-run", arg(&big)]] {
        let m = measured(home.cli(&args), Duration::from_secs(20));
        let stderr = m.run.refused_in_one_line();
        assert!(
            stderr.contains("8000×6000 pixels (48.0 megapixels); QR images are read up to 40 megapixels"),
            "{args:?}: {stderr}"
        );
        eprintln!("{args:?}: refused in {:?}, peak RSS {} MiB", m.elapsed, m.peak_rss / MIB);
        assert!(m.peak_rss < 64 * MIB, "refused before decoding: peak RSS {} MiB", m.peak_rss / MIB);
    }

    // A file over 16 MiB is refused like any import, before it is decoded.
    let huge = dir.path().join("huge.png");
    let mut bytes = white_png(300, 200);
    bytes.resize(16 * MIB as usize + 1, 0);
    std::fs::write(&huge, &bytes).unwrap();
    for args in
        [vec!["add", "--qr", arg(&huge)], vec!["import", arg(&huge)], vec!["push", "enroll", "--qr", arg(&huge)]]
    {
        let stderr = home.run(&args).refused_in_one_line().to_owned();
        assert!(stderr.contains("larger than 16 MiB"), "{args:?}: {stderr}");
    }
    assert!(home.accounts().is_empty());
}
