//! Short, scoped access to a vault for async code.

use std::sync::Mutex;

use super::Vault;

/// Gives async code short, scoped access to the vault, so it is never held across an await.
pub trait VaultAccess {
    /// Runs `f` with the vault.
    fn with_vault<R>(&self, f: impl FnOnce(&Vault) -> R) -> R;
}

impl VaultAccess for Vault {
    fn with_vault<R>(&self, f: impl FnOnce(&Vault) -> R) -> R {
        f(self)
    }
}

impl VaultAccess for Mutex<Vault> {
    fn with_vault<R>(&self, f: impl FnOnce(&Vault) -> R) -> R {
        // A panic elsewhere while holding the lock does not corrupt SQLite: keep going.
        f(&self.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}
