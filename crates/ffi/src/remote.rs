//! The domain's and the services' types as the foreign API shows them, declared for uniffi
//! here, in the one crate that has uniffi scaffolding (see `lib.rs` for why).
//!
//! Each type is defined once, where it belongs, inside `foreign_type!` (see `domain::foreign_type`),
//! which also makes a macro that hands its definition to a callback here: `record!` or
//! `enumeration!` put `#[uniffi::remote(…)]` on it, which writes the conversion code and defines
//! nothing. The bindings' docs are the definition's doc comments.

use domain::clock::{ClockStatus, Measurement, TimeSource};
use domain::otp::{Algorithm, OtpKind};
use domain::passkey::PasskeyInfo;
use domain::push::{
    Decision, DeclineReason, DeviceKeyType, HistoryEntry, PushProtocol, PushRequest, PushToken, RequestState,
};
use domain::uri::SteamUri;
use services::backup::auto::{BackupFailure, BackupStatus};
use services::backup::google::GoogleExport;
use services::backup::{BackupCheck, ImportFormat, ImportReport, RefusedEntry};
use services::passkey::{PasskeyAssertion, PasskeyRegistration};

/// Declares a record (struct) for uniffi.
macro_rules! record {
    ($($item:tt)*) => {
        #[uniffi::remote(Record)]
        $($item)*
    };
}

/// Declares an enum for uniffi.
macro_rules! enumeration {
    ($($item:tt)*) => {
        #[uniffi::remote(Enum)]
        $($item)*
    };
}

domain::steam_uri_definition!(enumeration);
domain::time_source_definition!(enumeration);
domain::measurement_definition!(record);
domain::clock_status_definition!(record);
domain::otp_kind_definition!(enumeration);
domain::algorithm_definition!(enumeration);
domain::push_protocol_definition!(enumeration);
domain::device_key_type_definition!(enumeration);
domain::push_token_definition!(record);
domain::request_state_definition!(enumeration);
domain::push_request_definition!(record);
domain::decision_definition!(enumeration);
domain::history_entry_definition!(record);
domain::decline_reason_definition!(enumeration);
domain::passkey_info_definition!(record);
services::passkey_registration_definition!(record);
services::passkey_assertion_definition!(record);
services::backup_failure_definition!(enumeration);
services::google_export_definition!(record);
services::import_format_definition!(enumeration);
services::import_report_definition!(record);
services::refused_entry_definition!(record);
services::backup_check_definition!(record);

// Restated by hand: its `backed_up_version` has a default in the bindings (`uniffi(default)`),
// an attribute the services' own definition cannot carry without uniffi.
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
