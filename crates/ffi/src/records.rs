//! The records the foreign API passes (the types it owns; the domain's and the services' are
//! declared in `remote.rs`), and their conversions.

use domain::account::Account;
use domain::otp::{Algorithm, OtpKind, OtpParams};
use domain::push::PushRequest;
use services::backup::{ImportFormat, ImportReport};

use crate::errors::{AuthError, FfiResult, count_i32};

/// An account as a list row shows it. Never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccountRecord {
    /// Stable identifier (0 in a preview of an unsaved account).
    pub id: i64,
    /// Service name ("GitHub"); may be empty.
    pub issuer: String,
    /// Account name at the service; may be empty.
    pub label: String,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
    /// The HMAC hash function.
    pub algorithm: Algorithm,
    /// Length of a code, in characters.
    pub digits: i32,
    /// Seconds (TOTP, Steam).
    pub period: i32,
    /// HOTP counter of the next code (0 ..= i64::MAX).
    pub counter: i64,
    /// The folder the account is filed under, if any.
    pub group: Option<String>,
    /// Position in the user's list, ascending.
    pub sort_order: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last edit.
    pub updated_at: i64,
    /// Unix seconds when a code was last taken, if ever.
    pub last_used_at: Option<i64>,
    /// Lower-case issuer with only letters and digits ("github"), to pick an icon.
    pub icon_hint: String,
}

impl From<Account> for AccountRecord {
    fn from(a: Account) -> Self {
        let p = a.params;
        AccountRecord {
            icon_hint: a.issuer.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect(),
            id: a.id,
            issuer: a.issuer,
            label: a.label,
            kind: p.kind(),
            algorithm: p.algorithm(),
            digits: p.digits().into(),
            // Bounded by the core (1..=3600 s, counter ≤ i64::MAX): saturating never triggers.
            period: count_i32(p.period()),
            counter: i64::try_from(p.counter()).unwrap_or(i64::MAX),
            group: a.group,
            sort_order: a.sort_order,
            created_at: a.created_at,
            updated_at: a.updated_at,
            last_used_at: a.last_used_at,
        }
    }
}

/// An account whose stored record does not open (tampered with or damaged). It is left out of
/// `list_accounts`, `codes` and exports; `remove_account(id)` deletes it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DamagedAccountRecord {
    /// The account's id.
    pub id: i64,
    /// What is wrong, in a few words (no name or secret: they are what failed to open).
    pub reason: String,
}

/// One account's code at one moment. `Debug` hides the codes.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeRecord {
    /// The account the code belongs to.
    pub account_id: i64,
    /// The code to type now.
    pub value: String,
    /// The code of the following period (TOTP, Steam) or counter (HOTP).
    pub next_value: String,
    /// Unix seconds (clock offset applied); 0 for HOTP.
    pub valid_from: i64,
    /// Unix seconds when `value` stops being valid; 0 for HOTP, which never expires.
    pub valid_until: i64,
    /// 1..=period; 0 for HOTP.
    pub seconds_left: i32,
    /// Seconds per code (TOTP, Steam); meaningless for HOTP.
    pub period: i32,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
    /// A clock correction is in force (manual or measured; see `clock_status`): the code is
    /// for the corrected time, not the device's.
    pub clock_corrected: bool,
}

impl std::fmt::Debug for CodeRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeRecord")
            .field("account_id", &self.account_id)
            .field("seconds_left", &self.seconds_left)
            .finish_non_exhaustive()
    }
}

/// Fields of an account typed in by hand; the secret travels separately. The numbers default to
/// what most services use (6 digits, 30 s, counter 0); out-of-range values are `InvalidUri`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AccountFields {
    /// Service name ("GitHub"); may be empty.
    pub issuer: String,
    /// Account name at the service; may be empty.
    pub label: String,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
    /// The HMAC hash function.
    pub algorithm: Algorithm,
    /// Length of a code, 4 to 10 characters; ignored for Steam.
    #[uniffi(default = 6)]
    pub digits: i32,
    /// Seconds (TOTP); ignored for HOTP and Steam.
    #[uniffi(default = 30)]
    pub period: i32,
    /// HOTP: the counter of the first code; ignored for TOTP and Steam.
    #[uniffi(default = 0)]
    pub counter: i64,
    /// The folder to file the account under, if any.
    #[uniffi(default = None)]
    pub group: Option<String>,
}

/// What an import did, or as a preview would do.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportResult {
    /// The format recognised.
    pub format: ImportFormat,
    /// What was imported, skipped as a duplicate or refused.
    pub report: ImportReport,
}

/// What one poll found.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PollResult {
    /// Requests this poll received, to show.
    pub new_requests: Vec<PushRequest>,
    /// Why forged or tampered challenges were dropped.
    pub rejected: Vec<String>,
    /// Tokens that could not be polled, and why.
    pub failures: Vec<PollFailure>,
}

/// A token that could not be polled.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PollFailure {
    /// The token's serial.
    pub serial: String,
    /// Why the poll failed, in one line.
    pub reason: String,
    /// The PIN is needed to poll this token (its poll is signed with the PIN-sealed key).
    pub needs_pin: bool,
}

/// What one sync round did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncResult {
    /// Accounts added, changed or removed on this device.
    pub changed_here: i32,
    /// Whether the round wrote a new state to the server.
    pub uploaded: bool,
    /// The server's state generation now current.
    pub generation: i64,
    /// How many records another device published were refused (out of range, too long,
    /// unclean names); they are not applied here, the rest of the round went ahead.
    pub refused: i32,
    /// For each refused record: `account <uid>: <why>` (never a name or secret).
    pub refused_reasons: Vec<String>,
    /// Accounts removed here because this device was away longer than removals are kept (90
    /// days) and they were removed on other devices meanwhile.
    pub removed_while_away: i32,
}

/// Sync's status, for a settings screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatusRecord {
    /// The server folder; None when sync is not set up.
    pub server: Option<String>,
    /// The user name on the server.
    pub user: Option<String>,
    /// Unix seconds of the last successful round.
    pub last_success: Option<i64>,
    /// Why the last round failed (cleared by a success).
    pub last_error: Option<String>,
    /// Changes made here that are not on the server yet.
    pub pending_changes: i64,
    /// The devices syncing through the server as the last round saw them, this one first.
    pub devices: Vec<SyncDeviceRecord>,
    /// What looks wrong (a fork or freeze seen, devices not seen for 14 days); empty when all
    /// is well.
    pub warnings: Vec<String>,
}

/// One device syncing through the server ("last seen").
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncDeviceRecord {
    /// Its id (32 hex digits; the first 8 tell devices apart).
    pub device: String,
    /// Whether it is this device.
    pub this_device: bool,
    /// When it last synced (its clock, Unix seconds).
    pub last_seen: i64,
    /// The state generation it wrote then.
    pub generation: i64,
    /// Not seen for more than 14 days.
    pub stale: bool,
}

/// `now` from the app: Unix seconds, not before 1970.
pub(crate) fn unix_seconds(now: i64) -> FfiResult<u64> {
    u64::try_from(now)
        .map_err(|_| AuthError::invalid_argument(format!("time {now} is before 1970 (negative Unix seconds)")))
}

pub(crate) fn code_record(
    account_id: i64,
    params: &OtpParams,
    code: domain::Code,
    corrected: bool,
) -> FfiResult<CodeRecord> {
    // Checked: a `now` near i64::MAX plus the clock offset can end a window past i64::MAX.
    let time = |t: u64| {
        i64::try_from(t).map_err(|_| AuthError::invalid_argument(format!("time {t} is beyond the range of i64")))
    };
    Ok(CodeRecord {
        account_id,
        value: code.value,
        next_value: code.next_value,
        valid_from: time(code.valid_from)?,
        valid_until: time(code.valid_until)?,
        seconds_left: count_i32(code.seconds_left),
        period: count_i32(params.period()),
        kind: params.kind(),
        clock_corrected: corrected,
    })
}
