//! Ente Auth's plain export: one `otpauth://` URI per line, each with Ente's own `codeDisplay`
//! parameter, JSON that says whether the entry is in Ente's trash and which tags it has.
//!
//! Entries in the trash were deleted by the user in Ente: they are refused (named in the
//! report), not brought back. The first tag becomes the account's group. Ente's encrypted
//! export is a different file (JSON with a key derivation header).

use serde::Deserialize;

use super::ImportEntry;
use crate::codec::query::{self, Query};
use crate::text::clean;
use crate::uri;

/// Whether `text` is Ente's export: otpauth lines carrying `codeDisplay`.
pub fn is_ente(text: &str) -> bool {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).take(8).any(|line| code_display(line).is_some())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CodeDisplay {
    #[serde(default)]
    trashed: bool,
    #[serde(default)]
    tags: Vec<String>,
}

/// The raw `codeDisplay` value of an otpauth line, if it has one.
fn code_display(line: &str) -> Option<String> {
    let (scheme, _, query) = query::split_uri(line)?;
    if !scheme.eq_ignore_ascii_case("otpauth") {
        return None;
    }
    Query::parse(query).ok()?.get("codeDisplay").ok().flatten().map(|v| v.to_string())
}

/// Reads the export: every non-blank line is an entry, imported or refused with the reason.
pub fn parse(text: &str) -> Vec<ImportEntry> {
    text.lines()
        .map(|line| line.trim().trim_start_matches('\u{feff}'))
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(i, line)| {
            let mut data = match uri::parse(line) {
                Ok(data) => data,
                Err(e) => return ImportEntry::refused(format!("line {}", i + 1), e.to_string()),
            };
            // A codeDisplay that is not the JSON Ente writes only loses the tags.
            let display: CodeDisplay =
                code_display(line).and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default();
            if display.trashed {
                let entry = ImportEntry::account(data);
                return ImportEntry::refused(entry.name, "in Ente's trash (deleted there)");
            }
            data.group = display.tags.iter().map(|t| clean(t)).find(|t| !t.is_empty()).map(|t| t.as_str().into());
            ImportEntry::account(data)
        })
        .collect()
}
