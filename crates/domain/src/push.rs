//! The push domain: tokens, requests, decisions and history as the app and the vault see them.
//! No I/O and no protocol here: the vault stores these types, the push service fills them from
//! the wire, and the facades show them.

use std::str::FromStr;

use crate::error::Error;
use crate::text::excerpt;

/// `as_str` (the name stored in the database and printed by the CLI) and a `FromStr` that reads
/// it back, where an unknown name is corruption, never a guess.
macro_rules! stored_names {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The name stored in the database and printed by the CLI.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    other => Err(Error::Corrupt(format!(concat!("unknown ", $what, " '{}'"), excerpt(other)))),
                }
            }
        }
    };
}

crate::foreign_type! { $ push_protocol_definition {
/// Which sign-in protocol a token speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushProtocol {
    /// privacyIDEA's push token (`otpauth://pipush/…`, `pia://…`; also eduMFA's older `push` type).
    PrivacyIdea,
    /// eduMFA's eduPUSH (`edumfa-push://…`): the push protocol v1 without number matching or
    /// decline reasons.
    EduPush,
    /// tiqr (`tiqrenroll://…`): a shared secret and OCRA responses, started by scanning a QR code.
    Tiqr,
}
}}

stored_names!(PushProtocol, "push protocol", {
    PrivacyIdea => "privacyidea",
    EduPush => "edupush",
    Tiqr => "tiqr",
});

impl PushProtocol {
    /// The server may ask to pick a number shown on the sign-in screen.
    pub fn offers_number_matching(self) -> bool {
        self == PushProtocol::PrivacyIdea
    }

    /// A denial may carry a reason (when the server's signed capabilities accept one).
    pub fn offers_decline_reasons(self) -> bool {
        self == PushProtocol::PrivacyIdea
    }
}

crate::foreign_type! { $ device_key_type_definition {
/// The kind of key this device holds for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKeyType {
    /// RSA-4096, PKCS#1 v1.5 signatures (privacyIDEA's tokens).
    Rsa,
    /// ECDSA P-256 with SHA-256 (eduPUSH tokens): generated instantly.
    P256,
    /// A 32-byte secret for OCRA responses (tiqr).
    OcraSecret,
}
}}

stored_names!(DeviceKeyType, "device key type", {
    Rsa => "rsa",
    P256 => "p256",
    OcraSecret => "ocra-secret",
});

crate::foreign_type! { $ push_token_definition {
/// A push token enrolled on this device, as a UI shows it. Holds no key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushToken {
    /// Stable identifier.
    pub id: i64,
    /// The server's token serial (`PIPU…`).
    pub serial: String,
    /// Who issued the token, from the enrollment URI.
    pub issuer: String,
    /// The account, from the enrollment URI.
    pub label: String,
    /// The server endpoint (`…/ttype/push`).
    pub url: String,
    /// The server asked for certificate verification.
    pub sslverify: bool,
    /// The user opted in to skip certificate verification when the server says `sslverify=0`.
    pub allow_insecure_tls: bool,
    /// Answering needs the PIN.
    pub has_pin: bool,
    /// The server demanded a PIN; it can be changed, not removed.
    pub pin_required_by_server: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// The protocol it speaks.
    pub protocol: PushProtocol,
    /// The key this device holds for it.
    pub key_type: DeviceKeyType,
    /// Its requests may ask to pick a number (offer the choice only then).
    pub offers_number_matching: bool,
    /// A denial may say why (offer reasons only then).
    pub offers_decline_reasons: bool,
}
}}

impl PushToken {
    /// Whether TLS certificates are checked for this token.
    pub fn verify_tls(&self) -> bool {
        self.sslverify || !self.allow_insecure_tls
    }
}

crate::foreign_type! { $ request_state_definition {
/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    /// Waiting for an answer.
    Pending,
    /// Approved (or claimed for approval).
    Approved,
    /// Denied (or claimed for denial).
    Denied,
    /// Not answered within its lifetime.
    Expired,
}
}}

stored_names!(RequestState, "push request state", {
    Pending => "pending",
    Approved => "approved",
    Denied => "denied",
    Expired => "expired",
});

crate::foreign_type! { $ push_request_definition {
/// A sign-in request to approve or deny.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRequest {
    /// Short id for answering.
    pub id: i64,
    /// The push token it is for.
    pub token_id: i64,
    /// The token's serial.
    pub serial: String,
    /// The token's issuer.
    pub issuer: String,
    /// The token's label.
    pub label: String,
    /// What the server calls the sign-in ("privacyIDEA").
    pub title: String,
    /// The question shown ("Do you want to confirm the login?").
    pub question: String,
    /// Number matching: pick the number shown on the sign-in screen.
    pub choices: Option<Vec<String>>,
    /// A denial may say why (`unknown_trigger`, `cancelled`).
    pub decline_reasons: bool,
    /// Unix seconds.
    pub received_at: i64,
    /// Unix seconds; not answerable afterwards.
    pub expires_at: i64,
    /// Where it stands.
    pub state: RequestState,
    /// Answering needs the token's PIN.
    pub requires_pin: bool,
}
}}

impl PushRequest {
    /// The request as JSON for scripts (`authenticator push list --json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "serial": self.serial,
            "issuer": self.issuer,
            "label": self.label,
            "title": self.title,
            "question": self.question,
            "answers": self.choices,
            "decline_reasons": self.decline_reasons,
            "needs_pin": self.requires_pin,
            "received_at": self.received_at,
            "expires_at": self.expires_at,
            "state": self.state.as_str(),
        })
    }
}

crate::foreign_type! { $ decision_definition {
/// What happened to a request, for the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The user approved it.
    Approved,
    /// The user denied it.
    Denied,
    /// Nobody answered in time.
    Expired,
    /// Failed verification (forged, tampered, or for another token); never shown as a request.
    Rejected,
}
}}

stored_names!(Decision, "push decision", {
    Approved => "approved",
    Denied => "denied",
    Expired => "expired",
    Rejected => "rejected",
});

crate::foreign_type! { $ history_entry_definition {
/// One line of the decision history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Unix seconds.
    pub at: i64,
    /// The token's serial.
    pub serial: String,
    /// The request's title.
    pub title: String,
    /// The request's question.
    pub question: String,
    /// What happened.
    pub decision: Decision,
    /// A denial's reason, or why a request was rejected.
    pub detail: Option<String>,
}
}}

impl HistoryEntry {
    /// The entry for `request` answered (or closed) as `decision`, now.
    pub fn of(request: PushRequest, decision: Decision, detail: Option<String>) -> Self {
        let PushRequest { serial, title, question, .. } = request;
        Self { at: crate::time::now(), serial, title, question, decision, detail }
    }

    /// The entry as JSON for scripts (`authenticator push history --json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "at": self.at, "serial": self.serial, "title": self.title, "question": self.question,
            "decision": self.decision.as_str(), "detail": self.detail,
        })
    }
}

crate::foreign_type! { $ decline_reason_definition {
/// Why a sign-in is denied, when the server accepts reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclineReason {
    /// "I did not try to sign in": possibly an attack.
    UnknownTrigger,
    /// "I started it but changed my mind."
    Cancelled,
}
}}

impl DeclineReason {
    /// The protocol's name (`unknown_trigger`, `cancelled`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::UnknownTrigger => "unknown_trigger",
            DeclineReason::Cancelled => "cancelled",
        }
    }
}

impl FromStr for DeclineReason {
    type Err = Error;
    /// Accepts the protocol names and what people type (`unknown`, `u`, `canceled`, `c`, dashes).
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "unknown_trigger" | "unknown" | "u" => Ok(DeclineReason::UnknownTrigger),
            "cancelled" | "canceled" | "cancel" | "c" => Ok(DeclineReason::Cancelled),
            _ => Err(Error::InvalidInput(format!("unknown decline reason '{}'", excerpt(s)))),
        }
    }
}

/// The key derivation that turns a PIN into the key sealing a token's private key, with its
/// cost, as stored beside the seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinKdf {
    /// PBKDF2-HMAC-SHA256: seals made before Argon2id. Still opened, and re-sealed with
    /// Argon2id at the next right PIN.
    Pbkdf2 {
        /// Iterations.
        iterations: u32,
    },
    /// Argon2id (version 0x13).
    Argon2id {
        /// Memory in KiB.
        memory_kib: u32,
        /// Passes over the memory.
        passes: u32,
        /// Lanes.
        lanes: u32,
    },
}

/// How a PIN seals a token's private key: the salt and the derivation of the PIN key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinSeal {
    /// Random salt of the PIN-derived key.
    pub salt: Vec<u8>,
    /// The derivation and its cost.
    pub kdf: PinKdf,
}

/// A token to store once the server accepted its registration.
#[derive(Debug, Clone)]
pub struct NewPushToken {
    /// The server's token serial.
    pub serial: String,
    /// Display issuer (cleaned).
    pub issuer: String,
    /// Display label (cleaned).
    pub label: String,
    /// The server endpoint.
    pub url: String,
    /// The server's public key (PKCS#1 DER).
    pub server_key: Vec<u8>,
    /// What the server asked for TLS verification.
    pub sslverify: bool,
    /// The user's opt-in to honour `sslverify=0`.
    pub allow_insecure_tls: bool,
    /// How the PIN seals the key, when the token has a PIN.
    pub pin: Option<PinSeal>,
    /// The enrollment demanded a PIN.
    pub pin_required_by_server: bool,
    /// The Firebase/APNs token registered, if any.
    pub fb_token: Option<String>,
    /// The protocol it speaks.
    pub protocol: PushProtocol,
    /// The key this device holds for it.
    pub key_type: DeviceKeyType,
    /// Sealed beside the names and URL (tiqr: `[ocra suite]`); empty for push tokens.
    pub extra_text: Vec<String>,
}

/// A verified challenge to store as a pending request.
#[derive(Debug, Clone)]
pub struct NewPushRequest {
    /// The server's nonce: unique, so a replay is never stored twice.
    pub nonce: String,
    /// Title (cleaned).
    pub title: String,
    /// Question (cleaned).
    pub question: String,
    /// Number-matching choices.
    pub choices: Option<Vec<String>>,
    /// The server's signed capabilities accept a decline reason.
    pub decline_reasons: bool,
    /// Unix seconds.
    pub received_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// The outcome of counting one PIN attempt before the PIN is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinAttempt {
    /// Counted: this many attempts are now open since the last right PIN (this one included).
    Counted {
        /// Wrong-or-pending attempts in a row, this one included.
        attempts: u32,
    },
    /// Not counted and not to be tried: locked until this Unix time.
    LockedUntil(i64),
}
