//! The authenticator's storage: `crypto/`, the only place that seals and opens (AES-256-GCM
//! with associated data), derives keys (PBKDF2, Argon2id, scrypt) within budgets and draws
//! randomness; and `vault/`, the encrypted SQLite database (its `schema` module describes every
//! table in prose). Storage names no service and knows no wire or file format: push tokens,
//! requests, sync state and clock settings are plain rows of the domain's types
//! (docs/architecture.md).

pub mod crypto;
mod error;
pub mod vault;

pub use error::{Error, Result};
pub use vault::{DamagedAccount, DataKey, Vault, VaultAccess};
