//! The domain's own error, for what is not an account definition ([`crate::AccountError`]):
//! values that do not parse. Messages never quote a secret.

/// A value refused by the domain: an OCRA suite or input, a stored or given name of an enum, a
/// JSON value that cannot be put in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A value given by the user, the app or a server is not acceptable; the reason says which.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A stored value is not one this build knows (written by a newer build, or damaged).
    #[error("the vault is damaged: {0}")]
    Corrupt(String),
    /// A JSON value has no RFC 8785 canonical form (a number JSON cannot carry exactly).
    #[error("cannot canonicalise JSON")]
    NotCanonical,
}
