//! The authenticator's domain: what codes, accounts, URIs and the push, sync and clock records
//! *are*, with no I/O, no SQLite and no network. Every other crate builds on it; it depends on
//! none of them (docs/architecture.md).
//!
//! - `otp/`: code generation (TOTP, HOTP, Steam, OCRA), validated parameters, secrets, and
//!   [`AccountError`], why an account definition was refused.
//! - `uri/`: `otpauth://` parsing and formatting.
//! - `passkey`: passkey requests (options JSON) checked, and the JSON responses.
//! - `passphrase`: how many guesses a passphrase needs (a strength estimate).
//! - `psl`: the Public Suffix List (registrable domains).
//! - `webauthn`: the bytes a passkey authenticator writes (authenticator data, COSE key,
//!   `none` attestation).
//! - `account`: the account model; `text`: cleaned names and excerpts; `time`: clocks.
//! - `codec/`: encodings without domain knowledge (base32, base64, CSV, query strings,
//!   protobuf, RFC 8785).
//! - `push`, `sync`, `clock`: the models of those services (records, states, policies), shared
//!   by storage (which keeps them as rows) and the services (which move them over the wire).
//!
//! Data flows one way: text from outside (a URI, a form, an import, a push payload) is parsed
//! once at the edge into validated types ([`AccountData`], [`OtpParams`], [`Secret`]).

/// Defines a type the foreign API passes, and beside it a hidden macro `$name!(callback)` that
/// hands the same definition to `callback!`: the ffi crate, the one with uniffi scaffolding,
/// declares the type for uniffi from this one definition (`#[uniffi::remote(…)]`, which defines
/// nothing), so every field and variant is written once and the domain knows nothing of uniffi.
///
/// Invoked as `foreign_type! { $ name { <the type's definition> } }`: the `$` is handed in for
/// the inner macro's own `$callback`, which a macro cannot write itself.
#[macro_export]
macro_rules! foreign_type {
    ($d:tt $name:ident { $($item:tt)* }) => {
        $($item)*

        #[doc(hidden)]
        #[macro_export]
        macro_rules! $name {
            ($d callback:ident) => { $d callback! { $($item)* } };
        }
    };
}

pub mod account;
pub mod clock;
pub mod codec;
mod error;
pub mod otp;
pub mod passkey;
pub mod passphrase;
pub mod psl;
pub mod push;
pub mod sync;
pub mod text;
pub mod time;
pub mod uri;
pub mod webauthn;

pub use account::{Account, AccountCode, AccountData};
pub use error::Error;
pub use otp::{AccountError, Algorithm, Code, Generator, OtpKind, OtpParams, Secret};
pub use push::{
    Decision, DeclineReason, DeviceKeyType, HistoryEntry, NewPushRequest, NewPushToken, PinAttempt, PinKdf, PinSeal,
    PushProtocol, PushRequest, PushToken, RequestState,
};
