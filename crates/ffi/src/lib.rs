//! The authenticator's foreign API (uniffi) for Kotlin and Swift: one [`Authenticator`] object
//! over the services, and the only cdylib/staticlib of the workspace. Files by role:
//!
//! - `authenticator.rs`: the object; each method is a one-line delegation to a service (or to
//!   storage for a plain read), under the vault lock or on the library's runtime;
//! - `passkeys.rs`: the passkey methods of the object (create, get, candidates, list);
//! - `errors.rs`: [`AuthError`], the errors a UI branches on, and the exhaustive mapping from
//!   every internal error;
//! - `records.rs`: the records this API owns (account rows, codes, import and poll results);
//! - `remote.rs`: the domain's and the services' types as the API shows them;
//! - `destination.rs`: the foreign trait apps implement for automatic backups;
//! - `runtime.rs`: the one tokio runtime for network calls;
//! - `android.rs`: the JNI side of the Android TLS verifier (Android only).
//!
//! # One Kotlin package, one Swift module
//! Only this crate has uniffi scaffolding, so the bindings stay one generated Kotlin file in
//! `org.authenticator.core` and one Swift module, as before the core was split into crates. The
//! domain and the services know nothing of uniffi; their types are declared for it in
//! `remote.rs` with `#[uniffi::remote(…)]`, from their one definition (`domain::foreign_type!`
//! hands it over), so nothing is written twice. Scaffolding in every
//! crate (bitwarden/sdk-internal's way) makes uniffi 0.32 generate one Kotlin file per crate,
//! each redeclaring `RustBuffer`, `UniffiLib` and the other helpers, which cannot share one
//! package (uniffi-rs issues #2028 and #2973): the bindings would become one package per crate.

#[cfg(target_os = "android")]
mod android;
mod authenticator;
mod destination;
mod errors;
mod passkeys;
mod records;
mod remote;
mod runtime;
#[cfg(test)]
mod tests;

pub use authenticator::{Authenticator, preview_uri, verify_backup};
pub use destination::{BackupDestination, DestinationError};
pub use errors::{AuthError, FfiResult, SyncProblem};
pub use records::*;

uniffi::setup_scaffolding!();
