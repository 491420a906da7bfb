//! QR codes in the terminal app: read from PNG/JPEG screenshots, drawn in the terminal with
//! Unicode half blocks or written as PNG files.
//!
//! Phones scan with their platform's camera APIs, so none of this is in the core: the mobile
//! library stays small. Everything read here goes through the core's parsers like any import.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, Limits};
use qrcode::{Color, QrCode};
use services::backup::{self as core_backup, ImportEntry};
use services::push::enrollment::is_push_uri;
use services::push::tiqr;
use zeroize::Zeroizing;

use crate::{CliError, CliResult};

/// The largest image read, in pixels (width × height): 40 megapixels, six times a 4K screen.
/// Checked from the header before anything is decoded. The file itself is capped at 16 MiB
/// like every import ([`core_backup::MAX_FILE_BYTES`]).
pub const MAX_PIXELS: u64 = 40_000_000;

/// Most memory an image decoder may allocate: 8 bytes per pixel (16-bit RGBA) at the pixel cap.
const MAX_DECODER_ALLOC: u64 = MAX_PIXELS * 8;

/// Light modules around a code, as the QR standard asks: scanners find codes by this margin.
pub const QUIET_ZONE: usize = 4;

/// Pixels per module in PNG files.
const PNG_SCALE: u32 = 8;

/// Whether `bytes` start like a PNG or JPEG file.
pub fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(&[0xff, 0xd8, 0xff])
}

/// What one QR code in an image holds.
pub enum Code {
    /// `otpauth://totp|hotp|steam/…`: one account.
    Account(Zeroizing<String>),
    /// `otpauth-migration://…`: Google Authenticator's export, one QR code of a batch.
    GoogleMigration(Zeroizing<String>),
    /// `otpauth://pipush/…`, `edumfa-push://…`, `tiqrenroll://…`: a push token or tiqr identity to
    /// enroll; `tiqrauth://…`: a tiqr sign-in to answer.
    Push(Zeroizing<String>),
    /// Anything else (a web address, binary data): never echoed, it is not ours to print.
    Other { bytes: usize },
}

impl Code {
    fn classify(text: Zeroizing<String>) -> Self {
        let lower = text.trim().get(..20).unwrap_or(text.trim()).to_ascii_lowercase();
        if is_push_uri(&text) || tiqr::is_enroll_uri(&text) || tiqr::is_auth_uri(&text) {
            Code::Push(text)
        } else if lower.starts_with("otpauth-migration://") {
            Code::GoogleMigration(text)
        } else if lower.starts_with("otpauth://") {
            Code::Account(text)
        } else {
            Code::Other { bytes: text.len() }
        }
    }
}

/// Every QR code in a PNG or JPEG image, top to bottom, then left to right. Refuses files that
/// are not PNG or JPEG, images over [`MAX_PIXELS`], and images without any code.
pub fn read_codes(bytes: &[u8]) -> CliResult<Vec<Code>> {
    let image = decode_image(bytes)?;
    let texts = find_codes(&image)?;
    if texts.is_empty() {
        return Err(CliError::msg("no QR code found in the image"));
    }
    Ok(texts.into_iter().map(Code::classify).collect())
}

fn decode_image(bytes: &[u8]) -> CliResult<GrayImage> {
    let format = image::guess_format(bytes).ok().filter(|f| matches!(f, ImageFormat::Png | ImageFormat::Jpeg));
    let Some(format) = format.filter(|_| is_image(bytes)) else {
        return Err(CliError::msg("not a PNG or JPEG image"));
    };
    let cursor = Cursor::new(bytes);
    let damaged = |e: image::ImageError| CliError::msg(format!("cannot read the image: {e}"));
    match format {
        ImageFormat::Png => decode_within_budget(image::codecs::png::PngDecoder::new(cursor).map_err(damaged)?),
        _ => decode_within_budget(image::codecs::jpeg::JpegDecoder::new(cursor).map_err(damaged)?),
    }
}

/// Decodes after checking the size the header announces: a small file may claim a huge image.
fn decode_within_budget(mut decoder: impl ImageDecoder) -> CliResult<GrayImage> {
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_PIXELS {
        return Err(CliError::msg(format!(
            "the image is {width}×{height} pixels ({:.1} megapixels); QR images are read up to {} megapixels: \
             crop or scale it down",
            pixels as f64 / 1e6,
            MAX_PIXELS / 1_000_000
        )));
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODER_ALLOC);
    let damaged = |e: image::ImageError| CliError::msg(format!("cannot read the image: {e}"));
    decoder.set_limits(limits).map_err(damaged)?;
    Ok(DynamicImage::from_decoder(decoder).map_err(damaged)?.into_luma8())
}

/// A code rqrr found: its top-left corner (y, x) in the image, and its text or why it has none.
type Found = ((i32, i32), Result<Zeroizing<String>, String>);

/// The texts of the QR codes rqrr finds, in reading order. A decoder bug on a hostile image
/// must not crash the app: a panic inside is caught (silently) and reported as an error.
fn find_codes(image: &GrayImage) -> CliResult<Vec<Zeroizing<String>>> {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let found = std::panic::catch_unwind(|| {
        let (width, height) = (image.width() as usize, image.height() as usize);
        let mut prepared =
            rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| image.get_pixel(x as u32, y as u32).0[0]);
        let mut codes: Vec<Found> = prepared
            .detect_grids()
            .into_iter()
            .map(|grid| {
                let corner = grid.bounds[0];
                let mut bytes = Zeroizing::new(Vec::new());
                let text = match grid.decode_to(&mut *bytes) {
                    Ok(_) => std::str::from_utf8(&bytes)
                        .map(|t| Zeroizing::new(t.to_owned()))
                        .map_err(|_| "a QR code that is not text".to_owned()),
                    Err(e) => Err(format!("a damaged QR code ({e})")),
                };
                ((corner.y, corner.x), text)
            })
            .collect();
        codes.sort_by_key(|(corner, _)| *corner);
        codes
    });
    std::panic::set_hook(previous_hook);
    let found = found.map_err(|_| CliError::msg("cannot read the image: the QR decoder failed on it"))?;
    let mut texts: Vec<Zeroizing<String>> = Vec::new();
    let mut unreadable = Vec::new();
    for (_, text) in found {
        match text {
            // The same code found twice (rqrr can pair finder patterns more than one way).
            Ok(text) if texts.iter().any(|t| **t == *text) => {}
            Ok(text) => texts.push(text),
            Err(reason) => unreadable.push(reason),
        }
    }
    if texts.is_empty()
        && let Some(reason) = unreadable.first()
    {
        return Err(CliError::msg(format!("the image holds {reason}")));
    }
    for reason in &unreadable {
        eprintln!("warning: skipped {reason} in the image");
    }
    Ok(texts)
}

/// The import entries of an image's codes, numbered "QR code N" in reading order: accounts,
/// Google migration batches, and refusals for push tokens (enrolled with `push enroll --qr`) and
/// codes that are not an authenticator's.
pub fn entries(codes: &[Code]) -> CliResult<Vec<ImportEntry>> {
    // One line per code, in order, blank for codes that are not otpauth text: the core's
    // reader of migration batches (which also reads otpauth:// lines) then names an entry it
    // refuses "line N", N being the code's number.
    let mut lines = Vec::with_capacity(codes.len());
    let mut refused = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let name = format!("QR code {}", i + 1);
        match code {
            Code::Account(text) | Code::GoogleMigration(text) => lines.push(text.as_str()),
            Code::Push(_) => {
                lines.push("");
                refused.push(ImportEntry::refused(
                    name,
                    "a push token, not a code account: enroll it with `authenticator push enroll --qr IMAGE`",
                ));
            }
            Code::Other { bytes } => {
                lines.push("");
                refused.push(ImportEntry::refused(
                    name,
                    format!("not an authenticator QR code ({bytes} bytes of other text)"),
                ));
            }
        }
    }
    let mut entries = Vec::new();
    if lines.iter().any(|l| !l.is_empty()) {
        let text = Zeroizing::new(lines.join("\n"));
        entries.extend(core_backup::google::parse_lines_named(&text, "QR code")?);
    }
    entries.extend(refused);
    Ok(entries)
}

/// The modules of `text`'s QR code, quiet zone included: `dark[y][x]`.
fn modules(text: &str) -> CliResult<Vec<Vec<bool>>> {
    let code = QrCode::new(text.as_bytes())
        .map_err(|e| CliError::msg(format!("cannot make a QR code of this account: {e}")))?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET_ZONE;
    Ok((0..size)
        .map(|y| {
            (0..size)
                .map(|x| {
                    let inside =
                        (QUIET_ZONE..QUIET_ZONE + width).contains(&x) && (QUIET_ZONE..QUIET_ZONE + width).contains(&y);
                    inside && colors[(y - QUIET_ZONE) * width + x - QUIET_ZONE] == Color::Dark
                })
                .collect()
        })
        .collect())
}

/// Black on bright white, whatever the terminal's colours: phones read dark codes on light.
const DARK_ON_LIGHT: &str = "\x1b[30;107m";
const RESET: &str = "\x1b[0m";

/// `text` as a QR code in terminal lines, two modules per character cell (upper and lower half
/// blocks), quiet zone included. In colour (black on white) unless `NO_COLOR` is set; without
/// colour the blocks are the dark modules, which suits a dark-on-light terminal.
pub fn terminal_lines(text: &str) -> CliResult<Vec<String>> {
    let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let dark = modules(text)?;
    let size = dark.len();
    let light_row = vec![false; size];
    Ok((0..size)
        .step_by(2)
        .map(|y| {
            let lower = dark.get(y + 1).unwrap_or(&light_row);
            let cells: String = dark[y]
                .iter()
                .zip(lower)
                .map(|pair| match pair {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                })
                .collect();
            if colour { format!("{DARK_ON_LIGHT}{cells}{RESET}") } else { cells }
        })
        .collect())
}

/// Prints `text` as a QR code on stdout (directly: the block characters and colours are ours,
/// the text itself never reaches the terminal).
pub fn print(text: &str) -> CliResult<()> {
    let lines = terminal_lines(text)?;
    let columns = modules_width(&lines);
    if columns > 80 {
        eprintln!(
            "This code is {columns} columns wide: widen the terminal if it wraps, or write a PNG with --png DIR."
        );
    }
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

fn modules_width(lines: &[String]) -> usize {
    lines.first().map(|l| l.chars().filter(|c| matches!(c, '█' | '▀' | '▄' | ' ')).count()).unwrap_or(0)
}

/// `text` as a PNG image: black modules on white, [`PNG_SCALE`] pixels each, quiet zone included.
fn png(text: &str) -> CliResult<Vec<u8>> {
    let dark = modules(text)?;
    let size = dark.len() as u32 * PNG_SCALE;
    let image = GrayImage::from_fn(size, size, |x, y| {
        let dark = dark[(y / PNG_SCALE) as usize][(x / PNG_SCALE) as usize];
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .map_err(|e| CliError::msg(format!("cannot encode the PNG: {e}")))?;
    Ok(bytes)
}

/// The folder PNG files go to: created (0700) when it does not exist.
pub fn png_dir(dir: &Path) -> CliResult<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(CliError::msg(format!("cannot create {}: {e}", dir.display()))),
    }
}

/// Writes `text`'s QR code to `dir/name` as a PNG, mode 0600, atomically: the image is written
/// to a new file beside it, synced, then linked into place, so a crash never leaves half an
/// image under the name and an existing file is never replaced.
pub fn write_png(dir: &Path, name: &str, text: &str) -> CliResult<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    let bytes = Zeroizing::new(png(text)?);
    let path = dir.join(name);
    if path.exists() {
        return Err(CliError::msg(format!("{} exists; choose another folder", path.display())));
    }
    let partial = dir.join(format!(".{name}.partial"));
    let cannot = |e: std::io::Error| CliError::msg(format!("cannot write {}: {e}", path.display()));
    {
        let mut file =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&partial).map_err(cannot)?;
        file.write_all(&bytes).map_err(cannot)?;
        file.sync_all().map_err(cannot)?;
    }
    let linked = std::fs::hard_link(&partial, &path);
    let _ = std::fs::remove_file(&partial);
    linked.map_err(cannot)?;
    if let Ok(folder) = std::fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(path)
}
