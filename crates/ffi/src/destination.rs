//! Where the app's automatic backups go: the foreign trait the shell implements (Storage Access
//! Framework, a file provider, iCloud Drive, a folder) and its error, turned into the backup
//! service's own (`services::backup::auto::BackupDestination`). They mirror the service's
//! types because a callback's error must convert from uniffi's unexpected-callback error, which
//! only this crate, the one with uniffi scaffolding, can provide.

use std::sync::Arc;

use services::backup::auto;

/// What a destination reports when it cannot do what was asked.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum DestinationError {
    /// The folder or storage is not there any more.
    #[error("{detail}")]
    Gone {
        /// What happened, in one line (no account data).
        detail: String,
    },
    /// Writing is not allowed.
    #[error("{detail}")]
    NoPermission {
        /// What happened, in one line.
        detail: String,
    },
    /// No space left.
    #[error("{detail}")]
    Full {
        /// What happened, in one line.
        detail: String,
    },
    /// Anything else.
    #[error("{detail}")]
    Other {
        /// What happened, in one line.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for DestinationError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Other { detail: e.reason }
    }
}

impl From<DestinationError> for auto::DestinationError {
    fn from(e: DestinationError) -> Self {
        match e {
            DestinationError::Gone { detail } => Self::Gone { detail },
            DestinationError::NoPermission { detail } => Self::NoPermission { detail },
            DestinationError::Full { detail } => Self::Full { detail },
            DestinationError::Other { detail } => Self::Other { detail },
        }
    }
}

impl From<auto::DestinationError> for DestinationError {
    fn from(e: auto::DestinationError) -> Self {
        match e {
            auto::DestinationError::Gone { detail } => Self::Gone { detail },
            auto::DestinationError::NoPermission { detail } => Self::NoPermission { detail },
            auto::DestinationError::Full { detail } => Self::Full { detail },
            auto::DestinationError::Other { detail } => Self::Other { detail },
        }
    }
}

/// Where automatic backups go: a flat set of named blobs. The core decides names, rotation and
/// verification; an implementation only moves bytes. Names are plain file names (letters,
/// digits, `-`, `.`).
#[uniffi::export(with_foreign)]
pub trait BackupDestination: Send + Sync {
    /// Stores `bytes` under the new name `name`, durably (flushed to storage) when it returns.
    fn write(&self, name: String, bytes: Vec<u8>) -> Result<(), DestinationError>;
    /// The bytes stored under `name`, read from storage.
    fn read(&self, name: String) -> Result<Vec<u8>, DestinationError>;
    /// Gives the blob `from` the name `to` (which does not exist), at once.
    fn rename(&self, from: String, to: String) -> Result<(), DestinationError>;
    /// Every name stored (others' files included: the core picks out its own).
    fn list(&self) -> Result<Vec<String>, DestinationError>;
    /// Deletes `name`.
    fn delete(&self, name: String) -> Result<(), DestinationError>;
}

/// The backup service's folder destination, for the tests of this crate.
#[cfg(test)]
impl BackupDestination for auto::FolderDestination {
    fn write(&self, name: String, bytes: Vec<u8>) -> Result<(), DestinationError> {
        Ok(auto::BackupDestination::write(self, name, bytes)?)
    }
    fn read(&self, name: String) -> Result<Vec<u8>, DestinationError> {
        Ok(auto::BackupDestination::read(self, name)?)
    }
    fn rename(&self, from: String, to: String) -> Result<(), DestinationError> {
        Ok(auto::BackupDestination::rename(self, from, to)?)
    }
    fn list(&self) -> Result<Vec<String>, DestinationError> {
        Ok(auto::BackupDestination::list(self)?)
    }
    fn delete(&self, name: String) -> Result<(), DestinationError> {
        Ok(auto::BackupDestination::delete(self, name)?)
    }
}

/// The app's destination as the backup service sees it.
pub(crate) struct Foreign(pub(crate) Arc<dyn BackupDestination>);

impl auto::BackupDestination for Foreign {
    fn write(&self, name: String, bytes: Vec<u8>) -> Result<(), auto::DestinationError> {
        Ok(self.0.write(name, bytes)?)
    }
    fn read(&self, name: String) -> Result<Vec<u8>, auto::DestinationError> {
        Ok(self.0.read(name)?)
    }
    fn rename(&self, from: String, to: String) -> Result<(), auto::DestinationError> {
        Ok(self.0.rename(from, to)?)
    }
    fn list(&self) -> Result<Vec<String>, auto::DestinationError> {
        Ok(self.0.list()?)
    }
    fn delete(&self, name: String) -> Result<(), auto::DestinationError> {
        Ok(self.0.delete(name)?)
    }
}
