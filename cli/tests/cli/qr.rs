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
    let row_bytes = width.div_ceil(8) as usize;
    let mut raw = Vec::with_capacity((row_bytes + 1) * height as usize);
    for _ in 0..height {
        raw.push(0); // filter: none
        raw.extend(std::iter::repeat_n(0xffu8, row_bytes));
    }
    testkit::png::one_bit_grey(width, height, &raw)
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

// ---------------------------------------------------------------------------------------------
// Issue 22, item 3: chunks that inflate (PNG iCCP, zTXt, iTXt) and JPEG APP segments cost no
// more than the image's pixels. The files are made here, chunk by chunk with their CRCs.

/// `mib` MiB of zeros as a zlib stream (about 1 KiB per MiB), compressed a MiB at a time so
/// that the test never holds the inflated bytes.
fn zlib_of_zeros(mib: usize) -> Vec<u8> {
    static GIBIBYTE: OnceLock<Vec<u8>> = OnceLock::new();
    if mib == 1024 {
        return GIBIBYTE.get_or_init(|| deflate_zeros(1024)).clone();
    }
    deflate_zeros(mib)
}

fn deflate_zeros(mib: usize) -> Vec<u8> {
    use miniz_oxide::deflate::core::{
        CompressorOxide, TDEFLFlush, TDEFLStatus, compress_to_output, create_comp_flags_from_zip_params,
    };
    let mut compressor = CompressorOxide::new(create_comp_flags_from_zip_params(9, 15, 0));
    let zeros = vec![0u8; 1 << 20];
    let mut out = Vec::new();
    for i in 0..mib {
        let flush = if i + 1 == mib { TDEFLFlush::Finish } else { TDEFLFlush::None };
        let (status, _) = compress_to_output(&mut compressor, &zeros, flush, |bytes| {
            out.extend_from_slice(bytes);
            true
        });
        assert!(matches!(status, TDEFLStatus::Okay | TDEFLStatus::Done), "{status:?}");
    }
    out
}

/// `png` with `chunks` inserted after its IHDR (which is 8 + 25 bytes into the file).
fn with_chunks_after_header(png: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    assert_eq!(&png[12..16], b"IHDR");
    let mut out = png[..33].to_vec();
    for chunk in chunks {
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&png[33..]);
    out
}

/// Peak memory allowed for reading a small image whatever its metadata claims: well under the
/// 256 MiB budget of any image.
const METADATA_RSS_LIMIT: u64 = 96 * MIB;

#[track_caller]
fn imports_one_account_within(file: &Path, what: &str) {
    let home = Home::new("qr-metadata");
    let m = measured(home.cli(["import", arg(file)]), Duration::from_secs(60));
    eprintln!("{what}: {:?} CPU, peak RSS {} MiB", m.cpu, m.peak_rss / MIB);
    assert!(m.run.status.success(), "{what}: {}", m.run.stderr);
    assert!(m.run.stderr.contains("imported 1,"), "{what}: {}", m.run.stderr);
    assert!(m.peak_rss < METADATA_RSS_LIMIT, "{what}: peak RSS {} MiB", m.peak_rss / MIB);
    assert_eq!(home.accounts().len(), 1, "{what}");
}

#[test]
fn a_png_colour_profile_that_inflates_to_a_gibibyte_costs_what_its_pixels_cost() {
    let dir = temp("iccp");
    let png = std::fs::read(qrencode(&totp_uri("ACME", "alice"), &dir.path().join("code.png"))).unwrap();
    // iCCP: profile name, NUL, compression method 0, zlib stream: 1 GiB of profile in ~1 MB.
    let mut iccp = b"hostile profile\0\0".to_vec();
    iccp.extend(zlib_of_zeros(1024));
    let file = dir.path().join("iccp.png");
    std::fs::write(&file, with_chunks_after_header(&png, &[testkit::png::chunk(b"iCCP", &iccp)])).unwrap();
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size < 2 * MIB, "{size} bytes");
    imports_one_account_within(&file, "a 1 GiB iCCP profile");
}

#[test]
fn png_compressed_text_chunks_are_not_inflated() {
    let dir = temp("ztxt");
    let png = std::fs::read(qrencode(&totp_uri("ACME", "alice"), &dir.path().join("code.png"))).unwrap();
    let mut ztxt = b"Comment\0\0".to_vec(); // keyword, NUL, compression method 0
    ztxt.extend(zlib_of_zeros(1024));
    // iTXt: keyword, NUL, compressed flag 1, method 0, language tag NUL, translated keyword NUL.
    let mut itxt = b"XML:com.adobe.xmp\0\x01\0\0\0".to_vec();
    itxt.extend(zlib_of_zeros(1024));
    // Several of them, within the 16 MiB file cap: 8 chunks of 1 GiB each.
    let chunks: Vec<Vec<u8>> =
        (0..4).flat_map(|_| [testkit::png::chunk(b"zTXt", &ztxt), testkit::png::chunk(b"iTXt", &itxt)]).collect();
    let file = dir.path().join("text.png");
    std::fs::write(&file, with_chunks_after_header(&png, &chunks)).unwrap();
    assert!(std::fs::metadata(&file).unwrap().len() < 16 * MIB);
    imports_one_account_within(&file, "8 GiB of zTXt and iTXt");
}

/// `jpeg` with `segments` (marker, payload) inserted after its SOI marker.
fn with_segments_after_soi(jpeg: &[u8], segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
    assert_eq!(&jpeg[..2], [0xff, 0xd8]);
    let mut out = jpeg[..2].to_vec();
    for (marker, payload) in segments {
        assert!(payload.len() + 2 <= usize::from(u16::MAX));
        out.extend_from_slice(&[0xff, *marker]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn jpeg_icc_and_exif_segments_up_to_the_file_cap_cost_little() {
    let dir = temp("jpeg-app");
    let code = image::open(qrencode(&totp_uri("ACME", "alice"), &dir.path().join("code.png"))).unwrap().into_luma8();
    let jpeg = dir.path().join("code.jpg");
    save_jpeg(&code, &jpeg);
    let jpeg = std::fs::read(&jpeg).unwrap();
    let body = vec![0x5a; 65_000];
    // 240 APP2 ICC_PROFILE segments (a 15 MiB profile in 240 parts)...
    let icc: Vec<(u8, Vec<u8>)> = (0..240u8)
        .map(|i| {
            let mut payload = b"ICC_PROFILE\0".to_vec();
            payload.extend_from_slice(&[i + 1, 240]);
            payload.extend_from_slice(&body);
            (0xe2, payload)
        })
        .collect();
    // ...and 240 APP1 EXIF segments.
    let exif: Vec<(u8, Vec<u8>)> = (0..240)
        .map(|_| {
            let mut payload = b"Exif\0\0".to_vec();
            payload.extend_from_slice(&body);
            (0xe1, payload)
        })
        .collect();
    for (name, segments) in [("icc", icc), ("exif", exif)] {
        let file = dir.path().join(format!("{name}.jpg"));
        std::fs::write(&file, with_segments_after_soi(&jpeg, &segments)).unwrap();
        assert!(std::fs::metadata(&file).unwrap().len() < 16 * MIB);
        imports_one_account_within(&file, name);
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 22, item 4: many codes in one image are all read, and QR-like patterns cost bounded CPU.

/// A distinct account for code `i`: its own label and its own 80-bit secret.
fn numbered_uri(i: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digits: String = (0..8).rev().map(|d| ALPHABET[(i >> (5 * d)) & 31] as char).collect();
    format!("otpauth://totp/Sheet:user{i}?secret=JBSWY3DP{digits}&issuer=Sheet")
}

/// `text`'s QR code (made by the qrcode crate), `scale` pixels a module, 4 modules of quiet zone.
fn code_image(text: &str, scale: u32) -> image::GrayImage {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let width = code.width() as u32;
    let colors = code.to_colors();
    let size = (width + 8) * scale;
    image::GrayImage::from_fn(size, size, |x, y| {
        let (mx, my) = ((x / scale) as i64 - 4, (y / scale) as i64 - 4);
        let inside = (0..i64::from(width)).contains(&mx) && (0..i64::from(width)).contains(&my);
        let dark = inside && colors[(my * i64::from(width) + mx) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    })
}

/// The codes of `texts` in a grid of `columns`, each with its quiet zone and nothing more: a
/// screenshot of codes side by side. With `cards`, each code sits in a card as on the paper
/// backup sheet: a thin grey border, and lines of "text" (dark bars) under the code.
fn sheet(texts: &[String], columns: usize, scale: u32, cards: bool) -> image::GrayImage {
    let codes: Vec<image::GrayImage> = texts.iter().map(|t| code_image(t, scale)).collect();
    let cell = codes.iter().map(|c| c.width()).max().unwrap();
    let (pad, text_height) = if cards { (6 * scale, 12 * scale) } else { (0, 0) };
    let (card_w, card_h) = (cell + 2 * pad, cell + 2 * pad + text_height);
    let rows = texts.len().div_ceil(columns) as u32;
    let gap = if cards { 4 * scale } else { 0 };
    let mut canvas = image::GrayImage::from_pixel(
        columns as u32 * (card_w + gap) + gap,
        rows * (card_h + gap) + gap,
        image::Luma([255]),
    );
    for (i, code) in codes.iter().enumerate() {
        let (x0, y0) = (gap + (i % columns) as u32 * (card_w + gap), gap + (i / columns) as u32 * (card_h + gap));
        if cards {
            for x in x0..x0 + card_w {
                canvas.put_pixel(x, y0, image::Luma([68]));
                canvas.put_pixel(x, y0 + card_h - 1, image::Luma([68]));
            }
            for y in y0..y0 + card_h {
                canvas.put_pixel(x0, y, image::Luma([68]));
                canvas.put_pixel(x0 + card_w - 1, y, image::Luma([68]));
            }
            // Two lines of text under the code: words as dark bars.
            for line in 0..2 {
                let y = y0 + pad + cell + line * 5 * scale;
                for word in 0..6 {
                    let x = x0 + pad + word * (cell / 6);
                    for dy in 0..3 * scale {
                        for dx in 0..cell / 8 {
                            canvas.put_pixel(x + dx, y + dy, image::Luma([20]));
                        }
                    }
                }
            }
        }
        image::imageops::replace(&mut canvas, code, i64::from(x0 + pad), i64::from(y0 + pad));
    }
    canvas
}

/// Generous bound on the CPU time of reading any image in the unoptimised test build: it
/// guards against minutes (the audit's image of finder patterns took 15); the 5 s targets of
/// the release build are in the criterion bench (cli/benches/qr.rs).
const QR_CPU_LIMIT: Duration = Duration::from_secs(20);

#[track_caller]
fn imports_all(image: &image::GrayImage, count: usize, what: &str) {
    let dir = temp("many");
    let file = dir.path().join("codes.png");
    image.save(&file).unwrap();
    let home = Home::new("qr-many");
    let m = measured(home.cli(["import", arg(&file)]), Duration::from_secs(120));
    eprintln!("{what}: {:?} CPU, peak RSS {} MiB", m.cpu, m.peak_rss / MIB);
    assert!(m.run.status.success(), "{what}: {}", m.run.stderr);
    assert!(
        m.run
            .stderr
            .contains(&format!("QR image ({count} codes): imported {count}, 0 duplicate(s) skipped, 0 refused")),
        "{what}: {}",
        m.run.stderr
    );
    assert!(m.cpu < QR_CPU_LIMIT, "{what}: {:?} of CPU", m.cpu);
    let mut names: Vec<String> = home.accounts().iter().map(|a| a["label"].as_str().unwrap().to_owned()).collect();
    names.sort();
    let mut expected: Vec<String> = (0..count).map(|i| format!("user{i}")).collect();
    expected.sort();
    assert_eq!(names, expected, "{what}: every code is its own account");
}

#[test]
fn a_screenshot_of_25_codes_side_by_side_imports_all_25() {
    let texts: Vec<String> = (0..25).map(numbered_uri).collect();
    imports_all(&sheet(&texts, 5, 4, false), 25, "25 codes");
}

#[test]
fn a_paper_sheet_of_25_cards_imports_all_25() {
    let texts: Vec<String> = (0..25).map(numbered_uri).collect();
    imports_all(&sheet(&texts, 5, 3, true), 25, "25 cards");
}

#[test]
fn a_screenshot_of_100_codes_imports_all_100() {
    let texts: Vec<String> = (0..100).map(numbered_uri).collect();
    imports_all(&sheet(&texts, 10, 3, false), 100, "100 codes");
}

/// A finder pattern (7×7 modules: dark ring, light ring, dark 3×3 centre) at module (mx, my).
fn draw_finder(canvas: &mut image::GrayImage, mx: u32, my: u32, scale: u32) {
    for y in 0..7 {
        for x in 0..7 {
            let ring = x == 0 || y == 0 || x == 6 || y == 6;
            let centre = (2..=4).contains(&x) && (2..=4).contains(&y);
            if ring || centre {
                for dy in 0..scale {
                    for dx in 0..scale {
                        canvas.put_pixel((mx + x) * scale + dx, (my + y) * scale + dy, image::Luma([0]));
                    }
                }
            }
        }
    }
}

#[test]
fn an_image_of_thousands_of_finder_patterns_is_refused_quickly() {
    // Finder patterns 8 modules apart, 3 pixels a module: 6,400 of them in 1920×1920 pixels.
    let mut dense = image::GrayImage::from_pixel(1920, 1920, image::Luma([255]));
    for my in (0..80).map(|i| i * 8) {
        for mx in (0..80).map(|i| i * 8) {
            draw_finder(&mut dense, mx, my, 3);
        }
    }
    let dir = temp("finders");
    let file = dir.path().join("finders.png");
    dense.save(&file).unwrap();
    assert!(std::fs::metadata(&file).unwrap().len() < 200 * 1024);
    let home = Home::new("qr-finders");
    let m = measured(home.cli(["import", arg(&file)]), Duration::from_secs(120));
    eprintln!("6,400 finder patterns: {:?} CPU, peak RSS {} MiB", m.cpu, m.peak_rss / MIB);
    assert!(m.run.refused_in_one_line().contains("too many QR-like patterns"), "{}", m.run.stderr);
    assert!(m.cpu < QR_CPU_LIMIT, "{:?} of CPU", m.cpu);
    assert!(home.accounts().is_empty());
}

#[test]
fn an_image_of_hundreds_of_fake_codes_costs_bounded_cpu() {
    // 400 corners of codes (three finder patterns each, no data), each apart from the others:
    // every one is searched, none decodes.
    let mut fakes = image::GrayImage::from_pixel(3200, 3200, image::Luma([255]));
    for row in 0..20 {
        for column in 0..20 {
            let (mx, my) = (column * 40 + 4, row * 40 + 4);
            draw_finder(&mut fakes, mx, my, 4);
            draw_finder(&mut fakes, mx + 18, my, 4);
            draw_finder(&mut fakes, mx, my + 18, 4);
        }
    }
    let dir = temp("fakes");
    let file = dir.path().join("fakes.png");
    fakes.save(&file).unwrap();
    let home = Home::new("qr-fakes");
    let m = measured(home.cli(["import", arg(&file)]), Duration::from_secs(120));
    eprintln!("400 fake codes: {:?} CPU, peak RSS {} MiB", m.cpu, m.peak_rss / MIB);
    assert!(!m.run.status.success(), "nothing to import");
    assert!(m.cpu < QR_CPU_LIMIT, "{:?} of CPU", m.cpu);
    assert!(home.accounts().is_empty());
}

#[test]
fn an_image_at_the_40_megapixel_cap_is_searched_within_budget() {
    // 8000 × 5000, 1-bit white: decoded and searched in full (nothing found), not refused.
    let dir = temp("cap");
    let file = dir.path().join("cap.png");
    std::fs::write(&file, white_png(8000, 5000)).unwrap();
    let home = Home::new("qr-cap");
    let m = measured(home.cli(["import", arg(&file)]), Duration::from_secs(120));
    eprintln!("40 megapixels: {:?} CPU, peak RSS {} MiB", m.cpu, m.peak_rss / MIB);
    assert!(m.run.refused_in_one_line().contains("no QR code found"), "{}", m.run.stderr);
    assert!(m.cpu < QR_CPU_LIMIT, "{:?} of CPU", m.cpu);
    assert!(m.peak_rss < 256 * MIB, "peak RSS {} MiB", m.peak_rss / MIB);
}

#[test]
fn more_than_250_codes_in_one_image_are_refused_naming_the_cap() {
    let texts: Vec<String> = (0..251).map(numbered_uri).collect();
    let dir = temp("cap-codes");
    let file = dir.path().join("codes.png");
    sheet(&texts, 26, 3, false).save(&file).unwrap();
    let home = Home::new("qr-cap-codes");
    let m = measured(home.cli(["import", arg(&file)]), Duration::from_secs(120));
    eprintln!("251 codes: {:?} CPU, peak RSS {} MiB", m.cpu, m.peak_rss / MIB);
    let stderr = m.run.refused_in_one_line();
    assert!(stderr.contains("more than 250 QR codes: refused; split it into several images"), "{stderr}");
    assert!(m.cpu < QR_CPU_LIMIT, "{:?} of CPU", m.cpu);
    assert!(home.accounts().is_empty(), "nothing imported");
}

/// The headers of a progressive JPEG of `width` × `height` in colour (3 components, no
/// subsampling), a scan header and no data: enough for a decoder to size its buffers.
fn progressive_jpeg_headers(width: u16, height: u16) -> Vec<u8> {
    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0xff, marker];
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }
    let mut quantisation = vec![0u8];
    quantisation.extend([1u8; 64]);
    let mut frame = vec![8];
    frame.extend_from_slice(&height.to_be_bytes());
    frame.extend_from_slice(&width.to_be_bytes());
    frame.push(3);
    for id in 1..=3 {
        frame.extend_from_slice(&[id, 0x11, 0]);
    }
    let mut huffman = vec![0u8, 1];
    huffman.extend([0u8; 15]);
    huffman.push(0);
    let mut jpeg = vec![0xff, 0xd8];
    jpeg.extend(segment(0xdb, &quantisation));
    jpeg.extend(segment(0xc2, &frame)); // SOF2: progressive DCT
    jpeg.extend(segment(0xc4, &huffman));
    jpeg.extend(segment(0xda, &[1, 1, 0, 0, 0, 0]));
    jpeg.extend([0u8; 16]);
    jpeg.extend([0xff, 0xd9]);
    jpeg
}

#[test]
fn a_progressive_jpeg_too_large_to_decode_within_budget_is_refused_from_its_header() {
    // 7000 × 5000 = 35 megapixels, under the pixel cap, but decoded whole as coefficients it
    // would take 2 bytes × 3 components × 35 million: refused before.
    let dir = temp("progressive");
    let file = dir.path().join("progressive.jpg");
    std::fs::write(&file, progressive_jpeg_headers(7000, 5000)).unwrap();
    let home = Home::new("qr-progressive");
    let m = measured(home.cli(["import", arg(&file)]), Duration::from_secs(60));
    eprintln!("progressive 35 MP: {:?} CPU, peak RSS {} MiB", m.cpu, m.peak_rss / MIB);
    let stderr = m.run.refused_in_one_line();
    assert!(
        stderr.contains("a progressive JPEG of 7000×5000 pixels; progressive JPEGs are read up to about 27 megapixels"),
        "{stderr}"
    );
    assert!(m.peak_rss < 64 * MIB, "refused from its header: peak RSS {} MiB", m.peak_rss / MIB);
}
