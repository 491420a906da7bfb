//! The facade's own tests: errors a UI branches on, numbers out of range, records without
//! secrets, threads, and automatic backups through the scheduler.

use std::sync::Arc;

use domain::otp::{Algorithm, OtpKind};
use services::Error;
use services::backup;
use services::backup::auto::{self, BackupFailure, BackupStatus};

use crate::*;

fn dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ffi-unit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn errors_a_ui_branches_on() {
    let d = dir("errors");
    let db = d.join("vault.db").display().to_string();
    let app = Authenticator::new(db.clone(), vec![1; 32]).unwrap();
    assert!(matches!(Authenticator::new(db.clone(), vec![2; 32]), Err(AuthError::WrongKey { .. })));
    assert!(matches!(Authenticator::new(db, vec![1; 31]), Err(AuthError::InvalidKey { .. })));
    match app.add_account_from_uri("otpauth://totp/x?secret=JBSWY3DP&digits=11".into()) {
        Err(AuthError::InvalidUri { reason, .. }) => assert!(reason.contains("digits"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(app.remove_account(99), Err(AuthError::NoSuchAccount { id: 99, .. })));
    std::fs::write(d.join("notes.txt"), "not a database at all, just some text").unwrap();
    let notes = d.join("notes.txt").display().to_string();
    assert!(matches!(Authenticator::new(notes, vec![1; 32]), Err(AuthError::VaultUnreadable { .. })));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn every_error_names_its_problem_in_detail_and_display() {
    let errors = [
        Error::Storage(storage::Error::WrongKey),
        Error::Storage(storage::Error::AlreadyAnswered),
        Error::PasswordRequired,
        Error::WrongPassword,
        Error::Storage(storage::Error::Expired),
        Error::PinRequired,
        Error::WrongAnswer,
        Error::Storage(storage::Error::NoSuchAccount(7)),
        Error::WrongPin { attempts_left: 2 },
        Error::LockedOut { retry_after_seconds: u64::MAX },
        Error::WeakPassword(usize::MAX),
        Error::ImplausibleClock { offset_seconds: -172_800 },
        Error::TimeSource(services::clock::TimeSourceError::KissOfDeath("RATE".into())),
    ];
    for e in errors {
        let display = e.to_string();
        let mapped = AuthError::from(e);
        assert_eq!(mapped.to_string(), display);
        assert!(!display.is_empty());
        match &mapped {
            AuthError::WrongKey { detail } => assert!(detail.contains("wrong key"), "{detail}"),
            AuthError::AlreadyAnswered { detail } => assert!(detail.contains("already answered"), "{detail}"),
            AuthError::PasswordRequired { detail } => assert!(detail.contains("password"), "{detail}"),
            AuthError::LockedOut { retry_after_seconds, .. } => assert_eq!(*retry_after_seconds, i64::MAX),
            AuthError::WeakPassword { min_chars, .. } => assert_eq!(*min_chars, i32::MAX),
            AuthError::ImplausibleClock { offset_seconds, detail } => {
                assert_eq!((*offset_seconds, detail.contains("24 hours")), (-172_800, true))
            }
            AuthError::TimeSource { reason, .. } => assert!(reason.contains("kiss-of-death code RATE"), "{reason}"),
            AuthError::WrongPin { attempts_left, detail } => {
                assert_eq!((*attempts_left, detail.contains('2')), (2, true))
            }
            _ => {}
        }
    }
}

#[test]
fn accepting_a_clock_proposal_when_none_is_pending_is_an_invalid_argument() {
    let d = dir("clock-accept");
    let app = Authenticator::new(d.join("vault.db").display().to_string(), vec![1; 32]).unwrap();
    app.set_clock_offset(7).unwrap();
    match app.clock_accept_proposal() {
        Err(AuthError::InvalidArgument { reason, .. }) => assert!(reason.contains("no clock correction is proposed")),
        other => panic!("{other:?}"),
    }
    let status = app.clock_status().unwrap();
    assert_eq!((status.automatic, status.offset_seconds, status.proposal), (false, 7, None));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn out_of_range_numbers_are_typed_errors_not_panics() {
    let d = dir("ranges");
    let app = Authenticator::new(d.join("vault.db").display().to_string(), vec![1; 32]).unwrap();
    let account = app.add_account_from_uri("otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP".into()).unwrap();
    assert!(matches!(app.codes(-1), Err(AuthError::InvalidArgument { .. })));
    assert!(matches!(app.take_code(account.id, i64::MIN), Err(AuthError::InvalidArgument { .. })));
    assert!(matches!(app.push_history(-1), Err(AuthError::InvalidArgument { .. })));
    // The far end of i64: a code, or a typed error when the window would end past i64::MAX.
    app.set_clock_offset(3_000_000_000).unwrap();
    match app.codes(i64::MAX) {
        Ok(codes) => assert!(codes.iter().all(|c| c.valid_until >= c.valid_from)),
        Err(e) => assert!(matches!(e, AuthError::InvalidArgument { .. }), "{e:?}"),
    }
    let fields = |digits, period, counter| AccountFields {
        issuer: "X".into(),
        label: "x".into(),
        kind: OtpKind::Hotp,
        algorithm: Algorithm::Sha1,
        digits,
        period,
        counter,
        group: None,
    };
    for (digits, period, counter, name) in
        [(-6, 30, 0, "digits"), (262, 30, 0, "digits"), (6, -30, 0, "period"), (6, 30, -1, "counter")]
    {
        match app.add_account(fields(digits, period, counter), "JBSWY3DPEHPK3PXP".into()) {
            Err(AuthError::InvalidUri { reason, .. }) => assert!(reason.contains(name), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
    let hotp = app.add_account(fields(8, 30, i64::MAX), "JBSWY3DPEHPK3PXP".into()).unwrap();
    assert_eq!((hotp.digits, hotp.counter), (8, i64::MAX));
    assert_eq!(app.list_accounts().unwrap().len(), 2);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn records_render_accounts_and_codes_without_secrets() {
    let d = dir("records");
    let app = Authenticator::new(d.join("vault.db").display().to_string(), vec![1; 32]).unwrap();
    let uri = "otpauth://totp/GitHub:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=GitHub&digits=8";
    let account = app.add_account_from_uri(uri.into()).unwrap();
    assert_eq!((account.icon_hint.as_str(), account.kind, account.digits), ("github", OtpKind::Totp, 8));
    assert!(!format!("{account:?}").contains("GEZDGNBV"));
    let codes = app.codes(59).unwrap();
    assert!(!format!("{codes:?}").contains("94287082"), "Debug shows no code");
    let google = app.export_google_migration().unwrap();
    assert_eq!(google.uris.len(), 1);
    let aegis = app.export_aegis(Some("correct horse battery".into())).unwrap();
    let parsed = backup::parse(&aegis, Some("correct horse battery")).unwrap();
    assert_eq!((parsed.format, parsed.entries.len()), (backup::ImportFormat::Aegis, 1));
    let twofas = app.export_two_fas(None).unwrap();
    assert_eq!(backup::parse(&twofas, None).unwrap().format, backup::ImportFormat::TwoFas);
    assert!(matches!(app.export_aegis(Some("short".into())), Err(AuthError::WeakPassword { .. })));
    #[cfg(feature = "paper")]
    assert!(String::from_utf8(app.export_paper().unwrap()).unwrap().contains("GEZD GNBV"));
    let steam = app.add_account_from_uri("otpauth://steam/Steam:gaben?secret=GEZDGNBVGY3TQOJQ".into()).unwrap();
    let uris = app.export_otpauth_uris(true).unwrap();
    assert!(uris[1].starts_with("otpauth://totp/Steam:gaben?") && uris[1].ends_with("&encoder=steam"), "{uris:?}");
    app.remove_account(steam.id).unwrap();
    assert!(!format!("{google:?}").contains("otpauth-migration"), "Debug shows no secret-bearing URI");
    assert_eq!((codes[0].account_id, codes[0].value.as_str(), codes[0].seconds_left), (account.id, "94287082", 1));
    assert_eq!(preview_uri(uri.into()).unwrap().issuer, "GitHub");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn one_object_serves_several_threads_at_once() {
    let d = dir("threads");
    let app = Authenticator::new(d.join("vault.db").display().to_string(), vec![1; 32]).unwrap();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let app = &app;
            scope.spawn(move || {
                for i in 0..25 {
                    let uri = format!("otpauth://totp/T{t}:a{i}?secret=JBSWY3DPEHPK3PXP");
                    app.add_account_from_uri(uri).unwrap();
                    app.codes(1_700_000_000).unwrap();
                }
            });
        }
    });
    assert_eq!(app.list_accounts().unwrap().len(), 100);
    assert_eq!(app.damaged_accounts().unwrap(), []);
    let _ = std::fs::remove_dir_all(&d);
}

/// A change returns at once and the backup follows on the library's thread; without a
/// destination the failure is recorded, typed, not swallowed.
#[test]
fn a_change_schedules_a_backup_that_reports_its_outcome() {
    let d = dir("auto-backup");
    let app = Authenticator::new(d.join("vault.db").display().to_string(), vec![1; 32]).unwrap();
    assert!(matches!(app.backup_now(), Err(AuthError::BackupsOff { .. })));
    app.enable_backups("correct horse battery".into(), 2).unwrap();
    let wait_for = |done: &dyn Fn(&BackupStatus) -> bool| {
        for _ in 0..500 {
            let status = app.backup_status().unwrap();
            if done(&status) {
                return status;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("no backup outcome: {:?}", app.backup_status());
    };
    let status = wait_for(&|s| s.last_failure.is_some());
    assert_eq!(status.last_failure, Some(BackupFailure::NoDestination));
    assert!(status.warning.is_some());
    let folder = d.join("backups");
    std::fs::create_dir(&folder).unwrap();
    app.set_backup_destination(Arc::new(auto::FolderDestination::new(&folder))).unwrap();
    app.add_account_from_uri("otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP".into()).unwrap();
    let status = wait_for(&|s| s.last_success_at.is_some());
    assert!(!status.pending_changes && status.warning.is_none(), "{status:?}");
    let file = std::fs::read(folder.join(status.last_success_name.unwrap())).unwrap();
    assert_eq!(verify_backup(file, "correct horse battery".into()).unwrap().accounts, 1);
    std::fs::remove_dir_all(&folder).unwrap();
    match app.backup_now() {
        Err(AuthError::BackupFailed { failure: BackupFailure::DestinationGone, .. }) => {}
        other => panic!("{other:?}"),
    }
    app.disable_backups().unwrap();
    assert!(!app.backup_status().unwrap().enabled);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_weak_sync_passphrase_and_a_changed_sync_key_are_typed_errors() {
    let weak = services::sync::check_passphrase("dragon").unwrap_err();
    match AuthError::from(weak) {
        AuthError::WeakPassphrase { reason, guesses_log10, detail } => {
            assert_eq!(reason, "a common password or word");
            assert!(guesses_log10 < 12.0, "{guesses_log10}");
            assert!(detail.contains("pairing code") && !detail.contains("dragon"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        AuthError::from(Error::SyncKeyChanged),
        AuthError::Sync { problem: SyncProblem::KeyChanged, status: 0, .. }
    ));
}
