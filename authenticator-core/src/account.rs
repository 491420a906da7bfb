//! What defines an account, before it is stored: the shape shared by URIs, forms and imports.

use crate::otp::{OtpParams, Secret};

/// A complete account definition, secret included. `Debug` redacts the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountData {
    /// Service name ("GitHub"); may be empty.
    pub issuer: String,
    /// Account name at the service ("alice@example.com"); may be empty.
    pub label: String,
    pub params: OtpParams,
    pub secret: Secret,
    /// Optional folder the user files the account under.
    pub group: Option<String>,
}

/// Normalises display text from outside (URIs, forms, imports): control characters removed, so a
/// hostile QR code cannot smuggle terminal escape sequences or line breaks into a label, and
/// surrounding white space trimmed.
pub fn clean_text(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned()
}
