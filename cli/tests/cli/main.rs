//! End-to-end tests of the `authenticator` terminal app: each test runs the built binary as a
//! user would, in a data directory of its own.

mod autobackup;
mod backup;
mod clock;
mod export;
mod files;
mod passkey_commands;
mod passphrase;
mod push;
mod qr;
mod robustness;
mod stateless;
mod support;
mod sync;
mod vault;
