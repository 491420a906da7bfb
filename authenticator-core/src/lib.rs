//! The authenticator core: one-time codes, `otpauth://` URIs and an encrypted SQLite vault.
//!
//! Data flows one way: text from outside (a URI, a form, an import) is parsed once at the edge
//! into validated types ([`AccountData`], [`OtpParams`], [`Secret`]), which the [`Vault`] stores
//! and turns into [`Code`]s.

pub mod account;
#[cfg(target_os = "android")]
mod android;
pub mod backup;
mod base32;
pub mod error;
pub mod ffi;
pub mod otp;
pub mod push;
pub mod uri;
pub mod vault;

pub use account::AccountData;
pub use error::{Error, Result};
pub use otp::{Algorithm, Code, Generator, OtpKind, OtpParams, Secret};
pub use uri::UriError;
pub use vault::{Account, AccountCode, DataKey, Vault};

uniffi::setup_scaffolding!();
