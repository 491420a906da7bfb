//! The authenticator's services, on storage and the one HTTP client (docs/architecture.md):
//!
//! - `push/`: sign-in approvals over privacyIDEA's push token, eduMFA's eduPUSH and tiqr
//!   (enroll, poll, verify, answer, the PIN policy, the reply envelope);
//! - `clock/`: how wrong the device clock is (SNTP, HTTPS `Date`, push replies) and the
//!   correction codes use; [`clock::check`] is the one clock check both facades call;
//! - `sync/`: end-to-end encrypted sync over the user's WebDAV folder (merge, sealed objects);
//! - `passkey`: this device as a passkey provider (create, get, candidates, list);
//! - `backup/`: our backup format, every other app's format (with the codecs only importers
//!   need), import planning, and automatic backups with their scheduler.
//!
//! A service never reaches into another service's tables: each keeps its state in the vault
//! through storage's API. Every service returns [`Error`], which wraps storage's and the
//! network's errors.

pub mod backup;
pub mod clock;
mod error;
pub mod passkey;
pub mod push;
pub mod sync;

pub use error::{Error, Result};
