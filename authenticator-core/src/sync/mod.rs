//! End-to-end encrypted sync of the accounts through the user's own WebDAV server.
//!
//! - [`model`]: hybrid logical clocks, the replicated state and its merge (pure).
//! - [`object`]: the sealed objects the server stores (it sees only ciphertext, sizes, count).
//! - [`webdav`]: the transport (conditional PUTs, size caps, timeouts).
//! - this module: setup and one sync round over a vault.

pub mod model;
