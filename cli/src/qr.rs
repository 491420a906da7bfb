//! QR codes in the terminal app: read from PNG/JPEG screenshots, drawn in the terminal with
//! Unicode half blocks or written as PNG files.
//!
//! Phones scan with their platform's camera APIs, so none of this is in the core: the mobile
//! library stays small. Everything read here goes through the core's parsers like any import.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use image::{GrayImage, ImageFormat};
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

/// Most memory the PNG decoder may hold besides the pixels: the compressed chunks it buffers.
/// Ancillary chunks that inflate (iCCP colour profiles, zTXt and iTXt text) are skipped unread,
/// so nothing in a file decompresses beyond its pixels.
const PNG_CHUNK_BYTES: usize = 32 * 1024 * 1024;

/// Most memory a progressive JPEG's coefficients may take (2 bytes a sample, every component,
/// for the whole image before any pixel comes out): with the grey pixels and the file, an image
/// stays within the 256 MiB budget. Baseline JPEGs are decoded to grey a row of blocks at a time.
const MAX_PROGRESSIVE_COEFFICIENT_BYTES: u64 = 160 * 1024 * 1024;

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
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        decode_png(bytes)
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        decode_jpeg(bytes)
    } else {
        Err(CliError::msg("not a PNG or JPEG image"))
    }
}

fn damaged(e: impl std::fmt::Display) -> CliError {
    CliError::msg(format!("cannot read the image: {e}"))
}

/// Refuses an image whose header announces more than [`MAX_PIXELS`]: a small file may claim a
/// huge image.
fn check_pixels(width: u64, height: u64) -> CliResult<()> {
    let pixels = width * height;
    if pixels > MAX_PIXELS {
        return Err(CliError::msg(format!(
            "the image is {width}×{height} pixels ({:.1} megapixels); QR images are read up to {} megapixels: \
             crop or scale it down",
            pixels as f64 / 1e6,
            MAX_PIXELS / 1_000_000
        )));
    }
    Ok(())
}

/// Grey from 8-bit red, green and blue (Rec. 709 weights, as the `image` crate uses).
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((2126 * u32::from(r) + 7152 * u32::from(g) + 722 * u32::from(b)) / 10_000) as u8
}

/// Grey `value` with `alpha` over a white page: a transparent background reads as paper.
fn over_white(value: u8, alpha: u8) -> u8 {
    ((u32::from(value) * u32::from(alpha) + 255 * (255 - u32::from(alpha))) / 255) as u8
}

/// A PNG, row by row, straight to grey: one byte a pixel whatever the file's colour type and
/// depth (palette, 16-bit, alpha), interlaced or not. Colour profiles (iCCP) and text chunks
/// (tEXt, zTXt, iTXt) are skipped without being inflated, and the chunks the decoder buffers
/// are capped ([`PNG_CHUNK_BYTES`]): a 100×100 image with a gigabyte of compressed profile costs
/// what a 100×100 image costs.
fn decode_png(bytes: &[u8]) -> CliResult<GrayImage> {
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: PNG_CHUNK_BYTES });
    decoder.set_ignore_iccp_chunk(true);
    decoder.set_ignore_text_chunk(true);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let header = decoder.read_header_info().map_err(damaged)?;
    check_pixels(u64::from(header.width), u64::from(header.height))?;
    let mut reader = decoder.read_info().map_err(damaged)?;
    let (width, height) = (reader.info().width, reader.info().height);
    let (colour, _) = reader.output_color_type();
    let channels = colour.samples();
    let mut image = GrayImage::new(width, height);
    let mut grey_row = Vec::with_capacity(width as usize);
    let mut y = 0usize;
    while let Some(row) = reader.next_interlaced_row().map_err(damaged)? {
        grey_row.clear();
        grey_row.extend(row.data().chunks_exact(channels).map(|p| match (colour, p) {
            (png::ColorType::GrayscaleAlpha, &[v, a]) => over_white(v, a),
            (png::ColorType::Rgb, &[r, g, b]) => luma(r, g, b),
            (png::ColorType::Rgba, &[r, g, b, a]) => over_white(luma(r, g, b), a),
            (_, p) => p[0],
        }));
        match row.interlace() {
            png::InterlaceInfo::Adam7(pass) => {
                png::expand_interlaced_row(&mut image, width as usize, &grey_row, pass, 8);
            }
            png::InterlaceInfo::Null(_) => {
                let start = y * width as usize;
                let Some(target) = image.get_mut(start..start + grey_row.len()) else {
                    return Err(damaged("more rows than the header says"));
                };
                target.copy_from_slice(&grey_row);
                y += 1;
            }
        }
    }
    Ok(image)
}

/// A JPEG decoded straight to grey (only the luma component of a colour JPEG is kept). APP
/// segments (EXIF, ICC profiles in APP2, XMP) are each at most 64 KiB, kept at most once, and
/// never inflated: their cost is bounded by the file's 16 MiB.
fn decode_jpeg(bytes: &[u8]) -> CliResult<GrayImage> {
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::Luma)
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX));
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(damaged)?;
    let (width, height) = decoder.dimensions().ok_or_else(|| damaged("no frame header"))?;
    check_pixels(width as u64, height as u64)?;
    let info = decoder.info().ok_or_else(|| damaged("no frame header"))?;
    let progressive = !info.sof.is_sequential_dct();
    // Blocks of 8×8, up to 2×2 of them per MCU in the largest subsampling: pad generously.
    let padded = (width as u64).div_ceil(16) * 16 * (height as u64).div_ceil(16) * 16;
    let coefficients = 2 * u64::from(info.components) * padded;
    if progressive && coefficients > MAX_PROGRESSIVE_COEFFICIENT_BYTES {
        return Err(CliError::msg(format!(
            "the image is a progressive JPEG of {width}×{height} pixels; progressive JPEGs are read up to about {} \
             megapixels (they are decoded whole before their first pixel): crop it, scale it down or save it as PNG",
            MAX_PROGRESSIVE_COEFFICIENT_BYTES / (2 * u64::from(info.components.max(1))) / 1_000_000
        )));
    }
    let pixels = decoder.decode().map_err(damaged)?;
    GrayImage::from_raw(width as u32, height as u32, pixels).ok_or_else(|| damaged("short pixel data"))
}

/// Most QR codes read from one image: a screenshot of several codes, or a scanned page of the
/// paper backup (this app's sheet holds about a dozen a page).
pub const MAX_CODES: usize = 250;

/// Most finder-pattern-like shapes (the three squares in a QR code's corners) an image may
/// hold: three per code at [`MAX_CODES`], and as many again for text and pictures that happen
/// to look like one. More, and the image is refused before any code is searched for.
const MAX_FINDERS: f64 = 6.0 * MAX_CODES as f64;

/// Most finder-pattern-like shapes in one region (a group of dark pixels with no gap as wide
/// as a quiet zone): one code has three; a few more are text or a code's neighbour. A region
/// with more is skipped with a warning: searching it would cost time growing with the cube of
/// that number.
const MAX_FINDERS_PER_REGION: f64 = 12.0;

/// The most pixel work (a region's pixels times the square of the finder patterns in it, at
/// least 3) the search may do in all, in multiples of the pixel cap: the decoder tries pairs
/// of finder patterns, and each try copies the region.
const MAX_SEARCH_WORK: f64 = 12.0 * MAX_PIXELS as f64;

/// A code found: its top-left corner (y, x) in the image, and its text or why it has none.
type Found = ((i32, i32), Result<Zeroizing<String>, String>);

/// The texts of the QR codes in `image`, in reading order, within a bounded amount of work.
///
/// rqrr (the QR decoder) pairs every finder pattern with every other one it sees, copying the
/// image for each try: on a whole screenshot of 25 codes that both takes long and pairs the
/// wrong patterns. So the image is first cut into regions, each a group of dark pixels with no
/// light gap as wide as a code's quiet zone (4 modules, the module size measured from the
/// finder patterns), and rqrr reads each region that holds a code's worth of finder patterns on
/// its own, with everything outside the region blanked. Finder patterns are counted first
/// (rows crossing a 1:1:3:1:1 dark/light pattern, as rqrr looks for them), so an image made of
/// thousands of them is refused at once instead of searched for minutes.
///
/// A decoder bug on a hostile image must not crash the app: a panic inside is caught
/// (silently) and reported as an error.
fn find_codes(image: &GrayImage) -> CliResult<Vec<Zeroizing<String>>> {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let found = std::panic::catch_unwind(|| search(image));
    std::panic::set_hook(previous_hook);
    let (mut found, crowded) =
        found.map_err(|_| CliError::msg("cannot read the image: the QR decoder failed on it"))??;
    found.sort_by_key(|(corner, _)| *corner);
    let mut texts: Vec<Zeroizing<String>> = Vec::new();
    let mut unreadable = Vec::new();
    for (_, text) in found {
        match text {
            // The same code found twice (in the fallback pass, or twice on a page).
            Ok(text) if texts.iter().any(|t| **t == *text) => {}
            Ok(text) => texts.push(text),
            Err(reason) => unreadable.push(reason),
        }
    }
    if texts.len() > MAX_CODES {
        return Err(CliError::msg(format!(
            "the image holds more than {MAX_CODES} QR codes: refused; split it into several images"
        )));
    }
    if texts.is_empty() {
        if let Some(reason) = unreadable.first() {
            return Err(CliError::msg(format!("the image holds {reason}")));
        }
        if crowded > 0 {
            return Err(too_crowded());
        }
    }
    for reason in &unreadable {
        eprintln!("warning: skipped {reason} in the image");
    }
    if crowded > 0 {
        eprintln!(
            "warning: skipped {crowded} part(s) of the image with too many QR-like patterns close together \
             (codes need their quiet zone, 4 modules of white, around them)"
        );
    }
    Ok(texts)
}

fn too_crowded() -> CliError {
    CliError::msg(
        "too many QR-like patterns in the image: refused (codes need their quiet zone, 4 modules of white, around \
         them; crop the image to the codes)",
    )
}

/// One row's dark pixels, thresholded against a running average of the row in both directions
/// (rqrr's own adaptive threshold, so that what is counted here is what rqrr would see).
fn threshold_row(row: &[u8], average: &mut [usize], dark: &mut [bool]) {
    let width = row.len();
    let window = (width / 8).max(1);
    average.fill(0);
    let (mut forward, mut backward) = (0usize, 0usize);
    for x in 0..width {
        let back = width - 1 - x;
        forward = forward * (window - 1) / window + usize::from(row[x]);
        backward = backward * (window - 1) / window + usize::from(row[back]);
        average[x] += forward;
        average[back] += backward;
    }
    for x in 0..width {
        dark[x] = usize::from(row[x]) < average[x] * 95 / (200 * window);
    }
}

/// A row crossing a finder pattern: where, and the width of one module there.
struct Hit {
    x: u32,
    y: u32,
    module: u32,
}

/// Whether five runs fit the 1:1:3:1:1 of a finder pattern with rqrr's tolerance (each run
/// within ¾ of a module, the module being the mean of the four outer runs); the module if so.
fn finder_module(runs: [usize; 5]) -> Option<usize> {
    let module = (runs[0] + runs[1] + runs[3] + runs[4]) / 4;
    let slack = module * 3 / 4;
    let fits = [1, 1, 3, 1, 1]
        .iter()
        .zip(runs)
        .all(|(ratio, run)| run + slack >= ratio * module && run <= ratio * module + slack);
    (module > 0 && runs.iter().all(|r| *r > 0) && fits).then_some(module)
}

/// Whether the column through (x, y), a dark pixel, crosses a finder pattern of about
/// `module` there too: the centre's dark run, then light, dark, both ways. Each run is followed
/// for at most 5 modules, so a check costs at most ~35 modules of pixels.
fn column_fits(dark: &[bool], width: usize, (x, y): (usize, usize), module: usize) -> bool {
    let height = dark.len() / width;
    let limit = 5 * module + 2;
    let at = |y: usize| dark[y * width + x];
    // Runs of alternating colour from y going by `step`, starting dark: their lengths.
    let runs = |up: bool| {
        let mut lengths = [0usize; 3];
        let mut cursor = y;
        for (i, length) in lengths.iter_mut().enumerate() {
            let colour = i % 2 == 0;
            while *length < limit && at(cursor) == colour {
                *length += 1;
                match (up, cursor) {
                    (true, 0) => return lengths,
                    (true, _) => cursor -= 1,
                    (false, c) if c + 1 == height => return lengths,
                    (false, _) => cursor += 1,
                }
            }
        }
        lengths
    };
    let (up, down) = (runs(true), runs(false));
    let vertical = [up[2], up[1], up[0] + down[0] - 1, down[1], down[2]];
    finder_module(vertical).is_some_and(|m| m * 2 >= module && m <= module * 2)
}

/// The rows crossing finder patterns in row `y` of the thresholded image: five runs dark,
/// light, dark, light, dark in the ratio 1:1:3:1:1, as rqrr looks for them, whose centre
/// column crosses the same pattern (as ZXing checks): a code's data seldom does both.
fn row_hits(dark: &[bool], width: usize, y: usize, hits: &mut Vec<Hit>) {
    let row = &dark[y * width..(y + 1) * width];
    let mut runs = [0usize; 5];
    let mut run = 0usize;
    let mut colour = row[0];
    for (x, &pixel) in row.iter().chain(std::iter::once(&false)).enumerate() {
        if pixel == colour {
            run += 1;
            continue;
        }
        runs.rotate_left(1);
        runs[4] = run;
        run = 1;
        // A light pixel after a dark run: the five runs before it end dark.
        if colour && let Some(module) = finder_module(runs) {
            let centre = x - runs[4] - runs[3] - runs[2] / 2 - 1;
            if column_fits(dark, width, (centre, y), module) {
                hits.push(Hit { x: centre as u32, y: y as u32, module: module as u32 });
            }
        }
        colour = pixel;
    }
}

/// How many finder patterns the hits make: a finder pattern of module `m` is crossed through
/// its 3-module centre by about 3·m rows, so each hit counts 1/(3·m).
fn finder_weight(module: u32) -> f64 {
    1.0 / (3.0 * f64::from(module.max(1)))
}

fn search(image: &GrayImage) -> CliResult<(Vec<Found>, usize)> {
    let (width, height) = (image.width() as usize, image.height() as usize);
    if width == 0 || height == 0 {
        return Ok((Vec::new(), 0));
    }
    // Pass 1: threshold the image, count finder patterns, measure their module size.
    let mut dark = vec![false; width * height];
    let mut average = vec![0usize; width];
    for (row, out) in image.as_raw().chunks_exact(width).zip(dark.chunks_exact_mut(width)) {
        threshold_row(row, &mut average, out);
    }
    drop(average);
    let mut hits = Vec::new();
    let mut finders = 0.0;
    for y in 0..height {
        let before = hits.len();
        row_hits(&dark, width, y, &mut hits);
        finders += hits[before..].iter().map(|h| finder_weight(h.module)).sum::<f64>();
        if finders > MAX_FINDERS {
            return Err(too_crowded());
        }
    }
    if hits.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let mut modules: Vec<u32> = hits.iter().map(|h| h.module).collect();
    modules.sort_unstable();
    let module = modules[modules.len() / 2] as usize;

    // Pass 2: blocks of 1.5 modules, dark if any pixel in them is; blocks touching (8 ways)
    // form a region. A light gap narrower than a block is bridged, one of 2 blocks (3 modules)
    // or more never is: the modules of one code join, codes 4 modules apart stay apart.
    let block = (module * 3 / 2).max(2);
    let (columns, rows) = (width.div_ceil(block), height.div_ceil(block));
    let mut blocks = vec![false; columns * rows];
    for (y, row) in dark.chunks_exact(width).enumerate() {
        let offset = (y / block) * columns;
        for (x, _) in row.iter().enumerate().filter(|(_, d)| **d) {
            blocks[offset + x / block] = true;
        }
    }
    drop(dark);
    let (labels, regions) = label_regions(&blocks, columns, rows);
    drop(blocks);
    let mut weight = vec![0.0f64; regions.len()];
    for hit in &hits {
        let label = labels[(hit.y as usize / block) * columns + hit.x as usize / block];
        if label > 0 {
            weight[label as usize - 1] += finder_weight(hit.module);
        }
    }

    // Pass 3: rqrr on each region holding at least two finder patterns (a count of three
    // can come out a little under three), within the work budget.
    let margin = 4 * module;
    let mut found = Vec::new();
    let mut crowded = 0;
    let mut work = 0.0;
    for (index, region) in regions.iter().enumerate() {
        let weight = weight[index];
        if weight < 2.0 {
            continue;
        }
        if weight > MAX_FINDERS_PER_REGION {
            crowded += 1;
            continue;
        }
        let left = (region.left * block).saturating_sub(margin);
        let top = (region.top * block).saturating_sub(margin);
        let right = ((region.right + 1) * block + margin).min(width);
        let bottom = ((region.bottom + 1) * block + margin).min(height);
        work += ((right - left) * (bottom - top)) as f64 * weight.max(3.0).powi(2);
        if work > MAX_SEARCH_WORK {
            return Err(too_crowded());
        }
        let label = index as u32 + 1;
        let (tile_width, tile_height) = (right - left, bottom - top);
        let tile = |x: usize, y: usize| {
            let (x, y) = (left + x, top + y);
            let owner = labels[(y / block) * columns + x / block];
            if owner == 0 || owner == label { image.as_raw()[y * width + x] } else { 255 }
        };
        found.extend(decode_grids(tile_width, tile_height, tile, (top as i32, left as i32)));
    }
    drop(labels);

    // Codes of different sizes in one image may be cut apart at the median code's block size:
    // with few finder patterns in all, the whole image is searched too, as one region.
    let expected = (finders / 3.0).round() as usize;
    let decoded = found.iter().filter(|(_, text)| text.is_ok()).count();
    let whole = (width * height) as f64 * finders.max(3.0).powi(2);
    if decoded < expected && finders <= MAX_FINDERS_PER_REGION && crowded == 0 && work + whole <= MAX_SEARCH_WORK {
        found.extend(decode_grids(width, height, |x, y| image.as_raw()[y * width + x], (0, 0)));
    }
    Ok((found, crowded))
}

/// What rqrr reads in a `width`×`height` region (its pixels from `pixel`) whose top-left
/// corner is at `origin` (y, x) in the image.
fn decode_grids(width: usize, height: usize, pixel: impl FnMut(usize, usize) -> u8, origin: (i32, i32)) -> Vec<Found> {
    rqrr::PreparedImage::prepare_from_greyscale(width, height, pixel)
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
            ((origin.0 + corner.y, origin.1 + corner.x), text)
        })
        .collect()
}

/// The bounding box of a region, in blocks.
struct Region {
    left: usize,
    top: usize,
    right: usize,
    bottom: usize,
}

/// Labels the regions of touching dark blocks (8-connected): 0 for light blocks, n for the
/// n-th region. Linear in the blocks.
fn label_regions(blocks: &[bool], columns: usize, rows: usize) -> (Vec<u32>, Vec<Region>) {
    let mut labels = vec![0u32; blocks.len()];
    let mut regions = Vec::new();
    let mut stack = Vec::new();
    for start in 0..blocks.len() {
        if !blocks[start] || labels[start] != 0 {
            continue;
        }
        let label = regions.len() as u32 + 1;
        let (x, y) = (start % columns, start / columns);
        let mut region = Region { left: x, top: y, right: x, bottom: y };
        labels[start] = label;
        stack.push(start);
        while let Some(at) = stack.pop() {
            let (x, y) = (at % columns, at / columns);
            region.left = region.left.min(x);
            region.right = region.right.max(x);
            region.top = region.top.min(y);
            region.bottom = region.bottom.max(y);
            for ny in y.saturating_sub(1)..=(y + 1).min(rows - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(columns - 1) {
                    let next = ny * columns + nx;
                    if blocks[next] && labels[next] == 0 {
                        labels[next] = label;
                        stack.push(next);
                    }
                }
            }
        }
        regions.push(region);
    }
    (labels, regions)
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
