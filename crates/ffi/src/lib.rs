//! The authenticator core: one-time codes, `otpauth://` URIs, an encrypted SQLite vault, push
//! approvals and backups, behind one API for the terminal app and (through uniffi) for Kotlin
//! and Swift.
//!
//! # Architecture
//!
//! Layers, each depending only on the ones above it:
//!
//! ```text
//! domain    otp/ uri/ account.rs push/model.rs text.rs time.rs codec/   no I/O
//!    ↑
//! crypto/   seal and open (AES-256-GCM + associated data), derive keys   the only user of
//!           (PBKDF2, Argon2id, scrypt) within bounds, randomness         ring's AEAD, argon2, scrypt
//!    ↑
//! vault/    storage only: SQLite, schema and migrations, sealed rows;    knows no wire format
//!           accounts, push tokens/requests/history as plain records
//!    ↑
//! services  push/ (enroll, poll, verify, answer, PIN policy, HTTP)
//!           clock/ (offset measurement: SNTP, HTTPS Date, push replies; correction policy)
//!           backup/ (our format, other apps' formats, import planning)
//!           sync/ (merge, sealed objects, WebDAV; sync/model.rs is its domain)
//!    ↑
//! facades   ffi.rs (uniffi, behind the `uniffi` feature), the CLI crate   one-line delegations
//! ```
//!
//! Which folder owns what:
//! - `otp/`: code generation (TOTP, HOTP, Steam) and validated parameters; `uri/`: `otpauth://`
//!   parsing and formatting; `account.rs`: the account model and its validation errors.
//! - `codec/`: encodings without domain knowledge (base32, query strings, protobuf, RFC 8785).
//! - `crypto/`: every cryptographic primitive the app itself uses (push signatures excepted:
//!   RSA lives with the protocol in `push/keys.rs`).
//! - `vault/`: the database; `schema.rs` describes every table in prose.
//! - `push/`: privacyIDEA's push-token protocol; `push/model.rs` is its domain.
//! - `backup/`: import and export formats, and import planning.
//! - `clock/`: how wrong the device clock is (SNTP, HTTPS `Date`, privacyIDEA replies) and the
//!   correction codes use; `clock/model.rs` is its domain.
//! - `error.rs`: the internal error with sources; `ffi.rs` maps it to the public `AuthError`.
//!
//! Data flows one way: text from outside (a URI, a form, an import, a push payload) is parsed
//! once at the edge into validated types ([`AccountData`], [`OtpParams`], [`Secret`]), which the
//! [`Vault`] stores and turns into [`Code`]s.

pub mod account;
#[cfg(target_os = "android")]
mod android;
pub mod backup;
pub mod clock;
pub mod codec;
pub mod crypto;
pub mod error;
#[cfg(feature = "uniffi")]
pub mod ffi;
pub mod otp;
pub mod push;
pub mod sync;
pub mod text;
pub mod time;
pub mod uri;
pub mod vault;

pub use account::{Account, AccountCode, AccountData, AccountError};
pub use error::{Error, Result};
pub use otp::{Algorithm, Code, Generator, OtpKind, OtpParams, Secret};
pub use push::model::{
    Decision, DeclineReason, DeviceKeyType, HistoryEntry, NewPushRequest, NewPushToken, PinAttempt, PinKdf, PinSeal,
    PushProtocol, PushRequest, PushToken, RequestState,
};
pub use vault::{DamagedAccount, DataKey, Vault, VaultAccess};

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

#[cfg(test)]
#[path = "../../tests/support/wire.rs"]
pub(crate) mod test_wire;

#[cfg(test)]
#[path = "../../tests/support/chrony.rs"]
pub(crate) mod test_chrony;
