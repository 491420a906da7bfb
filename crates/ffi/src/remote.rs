//! The domain's and the services' types as the foreign API shows them, declared for uniffi
//! here, in the one crate that has uniffi scaffolding (see `lib.rs` for why).
//!
//! Each declaration restates its type's fields or variants and doc comments (the bindings'
//! docs) with `#[uniffi::remote(…)]`, which writes the conversion code and defines nothing: the
//! compiler checks every declaration against the real type (each field is read and each
//! variant built), so a type that changes without its declaration here does not build.

use domain::clock::{ClockStatus, Measurement, TimeSource};
use domain::otp::{Algorithm, OtpKind};
use domain::push::{
    Decision, DeclineReason, DeviceKeyType, HistoryEntry, PushProtocol, PushRequest, PushToken, RequestState,
};
use domain::uri::SteamUri;
use services::backup::auto::{BackupFailure, BackupStatus};
use services::backup::google::GoogleExport;
use services::backup::{BackupCheck, ImportFormat, ImportReport, RefusedEntry};

/// How a Steam account is written as a URI.
#[uniffi::remote(Enum)]
pub enum SteamUri {
    /// `otpauth://steam/…` (Aegis, 2FAS, this app).
    Scheme,
    /// `otpauth://totp/…&digits=5&period=30&encoder=steam`, for apps that read the `encoder`
    /// parameter but not the `steam` scheme (KeePassXC's form). An app that ignores `encoder`
    /// still accepts the URI but shows plain 5-digit TOTP codes, which Steam does not take.
    TotpEncoder,
}

/// Where a clock offset came from.
#[uniffi::remote(Enum)]
pub enum TimeSource {
    /// Typed in by the user.
    Manual,
    /// An SNTP server the user named.
    Ntp,
    /// The `Date` header of an HTTPS URL the user named.
    Https,
    /// A privacyIDEA server that push already talks to (its replies' `time`, or `Date`).
    PrivacyIdea,
}

/// One measurement of the device clock against a server's.
#[uniffi::remote(Record)]
pub struct Measurement {
    /// What was asked.
    pub source: TimeSource,
    /// Server time minus device time, in milliseconds: positive when the device clock is behind.
    pub offset_ms: i64,
    /// The true offset lies within `offset_ms ± uncertainty_ms`: half the round trip, plus half
    /// the server's resolution (a `Date` header counts whole seconds).
    pub uncertainty_ms: i64,
    /// When it was measured, by the device clock (uncorrected), in Unix milliseconds.
    pub measured_at_ms: i64,
}

/// The clock as a settings screen or `authenticator time` shows it.
#[uniffi::remote(Record)]
pub struct ClockStatus {
    /// Measured corrections apply (else the manual offset does).
    pub automatic: bool,
    /// Seconds added to the device clock for every code now.
    pub offset_seconds: i64,
    /// Where that offset came from; None when no correction is in force.
    pub offset_source: Option<TimeSource>,
    /// The offset typed in by the user, in seconds (applies in manual mode).
    pub manual_offset_seconds: i64,
    /// The last measurement, if any.
    pub last_measurement: Option<Measurement>,
    /// One line for a banner when the last measurement says the device clock is more than 10 s
    /// off ("your clock is 47 s behind; codes are corrected"); None otherwise.
    pub warning: Option<String>,
}

/// Which kind of one-time password an account produces.
#[uniffi::remote(Enum)]
pub enum OtpKind {
    /// Time-based (RFC 6238).
    Totp,
    /// Counter-based (RFC 4226).
    Hotp,
    /// Steam Guard: TOTP, SHA-1, 30 s, 5 characters from Steam's alphabet.
    Steam,
}

/// The HMAC hash function.
#[uniffi::remote(Enum)]
pub enum Algorithm {
    /// HMAC-SHA1: the default, and what most services use.
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// Which sign-in protocol a token speaks.
#[uniffi::remote(Enum)]
pub enum PushProtocol {
    /// privacyIDEA's push token (`otpauth://pipush/…`, `pia://…`; also eduMFA's older `push` type).
    PrivacyIdea,
    /// eduMFA's eduPUSH (`edumfa-push://…`): the push protocol v1 without number matching or
    /// decline reasons.
    EduPush,
    /// tiqr (`tiqrenroll://…`): a shared secret and OCRA responses, started by scanning a QR code.
    Tiqr,
}

/// The kind of key this device holds for a token.
#[uniffi::remote(Enum)]
pub enum DeviceKeyType {
    /// RSA-4096, PKCS#1 v1.5 signatures (privacyIDEA's tokens).
    Rsa,
    /// ECDSA P-256 with SHA-256 (eduPUSH tokens): generated instantly.
    P256,
    /// A 32-byte secret for OCRA responses (tiqr).
    OcraSecret,
}

/// A push token enrolled on this device, as a UI shows it. Holds no key.
#[uniffi::remote(Record)]
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

/// Where a request stands.
#[uniffi::remote(Enum)]
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

/// A sign-in request to approve or deny.
#[uniffi::remote(Record)]
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

/// What happened to a request, for the history.
#[uniffi::remote(Enum)]
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

/// One line of the decision history.
#[uniffi::remote(Record)]
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

/// Why a sign-in is denied, when the server accepts reasons.
#[uniffi::remote(Enum)]
pub enum DeclineReason {
    /// "I did not try to sign in": possibly an attack.
    UnknownTrigger,
    /// "I started it but changed my mind."
    Cancelled,
}

/// Why a backup failed, for a UI to branch on.
#[uniffi::remote(Enum)]
pub enum BackupFailure {
    /// The folder or storage is gone (unmounted, deleted, permission to it revoked by the OS).
    DestinationGone,
    /// The destination refuses writes (read-only, no permission).
    NoPermission,
    /// The destination is full (or a file-size limit was hit).
    DiskFull,
    /// The copy written did not read back and decrypt to the accounts: it was discarded.
    VerificationFailed,
    /// No destination is set (phones: the shell has not registered one since starting).
    NoDestination,
    /// Anything else the destination reported.
    Other,
}

/// Automatic backups' settings and status (`meta.backup`), and what a UI shows. Holds no secret
/// and no account data.
#[uniffi::remote(Record)]
pub struct BackupStatus {
    /// Automatic backups are on.
    pub enabled: bool,
    /// The destination folder (CLI, desktops); None where the app supplies a destination.
    pub folder: Option<String>,
    /// Copies kept (at least 1).
    pub keep: i32,
    /// Unix seconds when backups were enabled (or the password last changed).
    pub enabled_at: i64,
    /// Unix seconds of the last verified backup, if any.
    pub last_success_at: Option<i64>,
    /// The name of the last verified backup.
    pub last_success_name: Option<String>,
    /// Unix seconds of the last failed attempt, if any.
    pub last_failure_at: Option<i64>,
    /// Why the last failed attempt failed.
    pub last_failure: Option<BackupFailure>,
    /// The last failure in one line (no secret, no account data).
    pub last_failure_detail: Option<String>,
    /// Unix seconds of the last attempt, successful or not.
    pub last_attempt_at: Option<i64>,
    /// The last attempt failed.
    pub last_attempt_failed: bool,
    /// The accounts have changed since the last verified backup.
    pub pending_changes: bool,
    /// What a UI must show (the last attempt failed, or no success for 7 days); None when fine.
    pub warning: Option<String>,
    /// `meta.accounts_version` when the last verified backup was taken.
    #[uniffi(default = 0)]
    pub backed_up_version: i64,
}

/// The QR payloads of an export, and what was left out. `Debug` hides the URIs (they carry the
/// secrets).
#[uniffi::remote(Record)]
pub struct GoogleExport {
    /// One `otpauth-migration://offline?data=…` URI per QR code, in order. Contains secrets.
    pub uris: Vec<String>,
    /// One line per account left out, naming it and saying why.
    pub warnings: Vec<String>,
}

/// Where imported data came from.
#[uniffi::remote(Enum)]
pub enum ImportFormat {
    /// Our own encrypted backup ([`format`]).
    Backup,
    /// Aegis JSON export, plain or password-encrypted.
    Aegis,
    /// 2FAS `.2fas` export, plain or password-encrypted.
    TwoFas,
    /// Google Authenticator `otpauth-migration://offline?data=…` (one or more QR payloads).
    GoogleMigration,
    /// Text with one `otpauth://` (or `steam://SECRET`) URI per line (also WinAuth's export).
    UriList,
    /// Bitwarden's unencrypted JSON or CSV export (login items with a `totp` field).
    Bitwarden,
    /// Ente Auth's export: otpauth URIs with Ente's `codeDisplay` (trash, tags), plain or
    /// password-encrypted (Argon2id, XChaCha20-Poly1305).
    EnteAuth,
    /// Proton Authenticator's JSON export.
    ProtonAuthenticator,
    /// Steam's mobile authenticator file (`Steamguard-…`, or the older single-account one).
    Steam,
    /// Google Authenticator's own SQLite database (rooted phone or device backup).
    GoogleAuthenticatorDb,
    /// Microsoft Authenticator's own SQLite database (rooted phone or device backup).
    MicrosoftAuthenticatorDb,
    /// Duo Mobile's accounts file (`accounts.json`, rooted phone or device backup).
    Duo,
    /// FreeOTP's v1 token store (shared-preferences XML; FreeOTP+ keeps the same file).
    FreeOtp,
    /// FreeOTP+'s JSON export.
    FreeOtpPlus,
    /// The Battle.net app's authenticator prefs (shared-preferences XML).
    BattleNet,
    /// Authenticator Plus's backup: a password-protected ZIP holding an otpauth URI list.
    AuthenticatorPlus,
    /// andOTP backup: plain JSON, or encrypted (new PBKDF2 or old SHA-256 format).
    AndOtp,
    /// Stratum (Authenticator Pro) backup: plain JSON, encrypted, legacy encrypted.
    Stratum,
    /// Stratum's own SQLite database.
    StratumDatabase,
    /// Authy's token store (Android shared preferences), plain or with encrypted secrets.
    Authy,
    /// TOTP Authenticator: its encrypted backup, or its internal preferences.
    TotpAuthenticator,
    /// FreeOTP 2's password-protected backup (a Java-serialized map).
    FreeOtpBackup,
}

/// What an import did (or, as a dry run, would do).
#[uniffi::remote(Record)]
pub struct ImportReport {
    /// Names of the accounts imported.
    pub imported: Vec<String>,
    /// Names of accounts skipped because the vault already has them (same secret and account).
    pub duplicates: Vec<String>,
    /// Entries that cannot be imported, with the reason.
    pub refused: Vec<RefusedEntry>,
}

/// An entry an import refused.
#[uniffi::remote(Record)]
pub struct RefusedEntry {
    /// The entry's name as shown to the user ("GitHub (alice)").
    pub name: String,
    /// Why the entry cannot be imported.
    pub reason: String,
}

/// What [`verify_backup`] found: the backup opens and every account in it restores.
#[uniffi::remote(Record)]
pub struct BackupCheck {
    /// Accounts that would be restored.
    pub accounts: i64,
    /// Entries that could not be restored (only possible in a file this app did not write).
    pub refused: Vec<RefusedEntry>,
}
