//! Test support shared by the crates' integration and unit tests (a dev-dependency only):
//! child processes and temp folders ([`process`]), raw HTTP on loopback ([`wire`]), and a real
//! NTP server ([`chrony`]), and hand-made PNG files ([`png`]).

pub mod chrony;
pub mod png;
pub mod process;
pub mod wire;
