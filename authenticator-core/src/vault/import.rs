//! Imports into the vault: all good entries in one transaction, duplicates skipped.

use std::collections::HashSet;

use super::Vault;
use crate::account::{AccountData, clean_text};
use crate::backup::{ImportEntry, ImportReport, RefusedEntry};
use crate::error::Result;

/// What makes two accounts the same: the same secret for the same issuer and label (any case).
/// The secret enters only as a SHA-256 digest, so the set holds no key material.
fn identity(data: &AccountData) -> (Vec<u8>, String, String) {
    let digest = ring::digest::digest(&ring::digest::SHA256, data.secret.expose());
    (digest.as_ref().to_vec(), clean_text(&data.issuer).to_lowercase(), clean_text(&data.label).to_lowercase())
}

impl Vault {
    /// Every account with its secret, in the user's order: for backups and exports only.
    pub fn all_account_data(&self) -> Result<Vec<AccountData>> {
        self.accounts()?.iter().map(|a| self.account_data(a.id)).collect()
    }

    /// Imports `entries`: refused ones are reported with their reason, accounts already in the
    /// vault (or twice in the import) are skipped as duplicates, and all the others are added in
    /// one transaction. With `dry_run`, nothing is written: the report is a preview.
    pub fn import(&self, entries: &[ImportEntry], dry_run: bool) -> Result<ImportReport> {
        let mut seen: HashSet<_> = self.all_account_data()?.iter().map(identity).collect();
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
            self.add_all(&accepted)?;
        }
        Ok(report)
    }
}
