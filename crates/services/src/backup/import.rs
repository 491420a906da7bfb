//! Import planning: which entries of a parsed export to add, which are duplicates, which are
//! refused; then all the good ones go into the vault in one transaction.

use std::collections::HashSet;

use super::{ImportEntry, ImportReport, RefusedEntry};
use crate::error::Result;
use domain::account::AccountData;
use storage::vault::Vault;

/// What makes two accounts the same: the same secret for the same issuer and label (any case).
/// The secret enters only as a SHA-256 digest, so the set holds no key material.
fn identity(data: &AccountData) -> ([u8; 32], String, String) {
    (
        storage::crypto::sha256(data.secret.expose()),
        domain::text::clean(&data.issuer).to_lowercase(),
        domain::text::clean(&data.label).to_lowercase(),
    )
}

/// Imports `entries` into `vault`: refused ones are reported with their reason, accounts already
/// in the vault (or twice in the import) are skipped as duplicates, and all the others are added
/// in one transaction. With `dry_run`, nothing is written: the report is a preview.
pub fn import(vault: &Vault, entries: &[ImportEntry], dry_run: bool) -> Result<ImportReport> {
    let mut seen: HashSet<_> = vault.all_account_data()?.iter().map(identity).collect();
    let mut report = ImportReport::default();
    let mut accepted = Vec::new();
    for entry in entries {
        match &entry.outcome {
            Err(reason) => report.refused.push(RefusedEntry { name: entry.name.clone(), reason: reason.clone() }),
            Ok(data) if !seen.insert(identity(data)) => report.duplicates.push(entry.name.clone()),
            Ok(data) => {
                report.imported.push(entry.name.clone());
                accepted.push(data.clone());
            }
        }
    }
    if !dry_run && !accepted.is_empty() {
        vault.add_all(&accepted)?;
    }
    Ok(report)
}
