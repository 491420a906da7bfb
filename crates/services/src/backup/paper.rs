//! A printable paper backup: one HTML page, one card per account with its issuer, label,
//! QR code and secret.
//!
//! The page is self-contained: styles inline, each QR code an inline SVG, no script, no image,
//! font or link fetched from anywhere (a Content-Security-Policy of `default-src 'none'` makes
//! any browser refuse to load anything), so opening or printing it touches no network. Every
//! name is HTML-escaped. The page says on top that it holds secrets. The QR code of a card is
//! the account's `otpauth://` URI (which this app, Aegis and most authenticators scan); the
//! secret is printed in groups of four characters for typing in by hand.

use std::fmt::Write;

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use domain::account::{AccountData, display_name};
use domain::otp::OtpKind;
use domain::uri;

/// `text` with `& < > " '` as HTML entities: safe in element content and quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The base32 secret in groups of four ("JBSW Y3DP EHPK 3PXP").
fn grouped(secret: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(secret.len() + secret.len() / 4));
    for (i, c) in secret.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The QR code of `text` as an inline SVG element, one unit per module, 4 modules of quiet zone.
fn qr_svg(text: &str) -> Result<Zeroizing<String>> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|_| Error::InvalidImport("an account's URI is too long for a QR code".into()))?;
    let image = Zeroizing::new(code.render::<svg::Color<'_>>().module_dimensions(1, 1).quiet_zone(true).build());
    // The XML declaration has no place inside HTML.
    let start = image.find("<svg").unwrap_or(0);
    Ok(Zeroizing::new(image[start..].replacen("<svg ", "<svg class=\"qr\" role=\"img\" aria-label=\"QR code\" ", 1)))
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#000;background:#fff}\
.warning{border:3px solid #b00;padding:.8em 1em;margin-bottom:1.5em;font-weight:bold}\
.cards{display:flex;flex-wrap:wrap;gap:1em}\
.card{border:1px solid #444;border-radius:6px;padding:1em;width:17em;break-inside:avoid;page-break-inside:avoid}\
.card h2{font-size:1.2em;margin:0 0 .2em}.label{margin:0 0 .6em;word-break:break-all}\
.qr{width:14em;height:14em;display:block;margin:0 auto .6em}\
.secret{font-family:monospace;font-size:1.05em;word-break:break-word;margin:.3em 0}\
.details{font-size:.85em;color:#333;margin:0}";

/// The paper backup of `accounts`, in order: an HTML page holding every secret.
pub fn html(accounts: &[AccountData]) -> Result<Zeroizing<Vec<u8>>> {
    // Reserved up front (a card takes some 10 KiB), so growing rarely leaves a copy behind.
    let mut page = Zeroizing::new(String::with_capacity(4096 + accounts.len() * 16 * 1024));
    let title = "Authenticator paper backup";
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <p class=\"warning\">⚠ This page holds the secrets of {count} account(s): anyone who sees it, or a copy of \
         this file, can make your sign-in codes. Print it, keep the paper somewhere safe, and delete the file.</p>\n\
         <h1>{title}</h1>\n<div class=\"cards\">\n",
        count = accounts.len()
    );
    for account in accounts {
        let p = &account.params;
        let uri = uri::format(account);
        let secret = account.secret.to_base32();
        let qr = qr_svg(&uri)?;
        let heading = if account.issuer.is_empty() {
            display_name(&account.issuer, &account.label)
        } else {
            account.issuer.to_string()
        };
        let details = match p.kind() {
            OtpKind::Totp => format!("TOTP · {} · {} digits · every {} s", p.algorithm(), p.digits(), p.period()),
            OtpKind::Hotp => format!("HOTP · {} · {} digits · counter {}", p.algorithm(), p.digits(), p.counter()),
            OtpKind::Steam => "Steam Guard · 5 characters · every 30 s".to_owned(),
        };
        let group = account.group.as_deref().map(|g| format!(" · group {}", escape_html(g))).unwrap_or_default();
        let _ = write!(
            page,
            "<section class=\"card\">\n<h2>{heading}</h2>\n<p class=\"label\">{label}</p>\n{qr}\n\
             <p class=\"secret\">{secret}</p>\n<p class=\"details\">{details}{group}</p>\n</section>\n",
            heading = escape_html(&heading),
            label = escape_html(if account.issuer.is_empty() { "" } else { &account.label }),
            qr = qr.as_str(),
            secret = grouped(&secret).as_str(),
        );
    }
    page.push_str("</div>\n</body>\n</html>\n");
    let bytes = Zeroizing::new(page.as_bytes().to_vec());
    super::check_output_size(&bytes)?;
    Ok(bytes)
}
