//! What defines an account, before it is stored: the shape shared by URIs, forms and imports.

use crate::otp::{AccountError, Code, OtpParams, Secret};
pub use crate::text::Name;

/// A complete account definition, secret included. `Debug` redacts the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountData {
    /// Service name ("GitHub"); may be empty. Cleaned when made.
    pub issuer: Name,
    /// Account name at the service ("alice@example.com"); may be empty. Cleaned when made.
    pub label: Name,
    /// How codes are made.
    pub params: OtpParams,
    /// The shared secret; `Debug` redacts it.
    pub secret: Secret,
    /// Optional folder the user files the account under. Cleaned when made.
    pub group: Option<Name>,
}

impl AccountData {
    /// An account typed in by hand (a form, the command line): names cleaned, the secret as the
    /// service shows it in base32 (spaces, dashes, any case). The one way both facades build one.
    pub fn from_fields(
        issuer: &str,
        label: &str,
        group: Option<&str>,
        params: OtpParams,
        secret_base32: &str,
    ) -> Result<Self, AccountError> {
        Ok(Self {
            issuer: Name::new(issuer),
            label: Name::new(label),
            params,
            secret: Secret::from_base32(secret_base32)?,
            group: group.map(Name::new),
        })
    }
}

/// A stored account as a UI shows it. Never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Stable identifier.
    pub id: i64,
    /// Service name; may be empty.
    pub issuer: String,
    /// Account name at the service; may be empty.
    pub label: String,
    /// How codes are made.
    pub params: OtpParams,
    /// Optional folder.
    pub group: Option<String>,
    /// Position in the user's list, ascending.
    pub sort_order: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last edit.
    pub updated_at: i64,
    /// Unix seconds when a code was last taken, if ever.
    pub last_used_at: Option<i64>,
}

impl Account {
    /// "Issuer (label)", "Issuer" or "label", whichever is informative.
    pub fn display_name(&self) -> String {
        display_name(&self.issuer, &self.label)
    }

    /// The account as JSON for scripts (`authenticator list --json`): no secret.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "issuer": self.issuer,
            "label": self.label,
            "type": self.params.kind().as_str(),
            "algorithm": self.params.algorithm().as_str(),
            "digits": self.params.digits(),
            "period": self.params.period(),
            "counter": self.params.counter(),
            "group": self.group,
        })
    }
}

/// An account with its code at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountCode {
    /// The account.
    pub account: Account,
    /// Its code.
    pub code: Code,
}

/// "Issuer (label)", "Issuer" or "label", whichever is informative; empty when both are.
pub fn display_name(issuer: &str, label: &str) -> String {
    match (issuer.is_empty(), label.is_empty()) {
        (false, false) => format!("{issuer} ({label})"),
        (false, true) => issuer.to_owned(),
        _ => label.to_owned(),
    }
}
