//! The clock: the correction policy, its storage, SNTP against a real chronyd and against
//! hostile UDP servers (std sockets on 127.0.0.1), and the `Date` of a loopback HTTP server.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use super::*;
use domain::time::now_ms;
use storage::vault::DataKey;
use testkit::chrony::Chrony;

fn vault(dir: &tempfile::TempDir) -> Vault {
    Vault::open(dir.path().join("vault.db"), &DataKey::from_bytes([7; 32])).unwrap()
}

fn m(offset_ms: i64, uncertainty_ms: i64) -> Measurement {
    Measurement { source: TimeSource::Ntp, offset_ms, uncertainty_ms, measured_at_ms: 1_700_000_000_000 }
}

fn fresh() -> ClockState {
    ClockState::default()
}

fn https(offset_ms: i64, uncertainty_ms: i64) -> Measurement {
    Measurement { source: TimeSource::Https, ..m(offset_ms, uncertainty_ms) }
}

fn push(offset_ms: i64) -> Measurement {
    Measurement { source: TimeSource::PrivacyIdea, ..m(offset_ms, 30) }
}

#[test]
fn an_offset_applies_only_beyond_its_uncertainty_plus_two_seconds() {
    let mut state = fresh();
    apply(&mut state, &[m(2_400, 500)]).unwrap();
    assert_eq!((state.offset_in_force(), state.last), (0, Some(m(2_400, 500))), "2.4 s ± 0.5 s: not beyond 2.5 s");
    apply(&mut state, &[m(2_400, 100)]).unwrap();
    assert_eq!(state.offset_in_force(), 2, "2.4 s ± 0.1 s is beyond 2.1 s");
    apply(&mut state, &[m(-90_400, 5)]).unwrap();
    assert_eq!((state.offset_in_force(), state.source_in_force()), (-90, Some(TimeSource::Ntp)));
}

#[test]
fn a_measurement_that_agrees_with_the_correction_keeps_it_and_a_right_clock_drops_it() {
    let mut state = fresh();
    apply(&mut state, &[m(47_400, 10)]).unwrap();
    assert_eq!(state.offset_in_force(), 47);
    apply(&mut state, &[m(47_600, 10)]).unwrap();
    assert_eq!(state.correction.unwrap().measurement, m(47_400, 10), "no jitter between 47 and 48");
    assert_eq!(state.last, Some(m(47_600, 10)));
    apply(&mut state, &[m(300, 10)]).unwrap();
    assert_eq!((state.offset_in_force(), state.correction), (0, None), "the clock was set right");
}

#[test]
fn an_offset_beyond_a_day_is_refused_and_changes_nothing() {
    let mut state = fresh();
    apply(&mut state, &[m(5_000, 10)]).unwrap();
    let before = state.clone();
    for offset in [86_400_001, -86_400_001, i64::MAX, i64::MIN] {
        match apply(&mut state, &[m(offset, 10)]) {
            Err(Error::ImplausibleClock { offset_seconds }) => assert_eq!(offset_seconds.signum(), offset.signum()),
            other => panic!("{other:?}"),
        }
        assert_eq!(state, before);
    }
    apply(&mut state, &[m(86_400_000, 10)]).unwrap();
    assert_eq!(state.proposal, Some(m(86_400_000, 10)), "exactly a day is still plausible (proposed)");
}

#[test]
fn manual_mode_keeps_the_typed_offset_and_automatic_mode_the_measured_one() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    assert!(status(&v).unwrap().automatic, "a new vault corrects automatically");
    record(&v, &[m(-30_200, 20)]).unwrap();
    assert_eq!(v.clock_offset().unwrap(), -30);
    assert_eq!(v.codes(1_000_030).unwrap().len(), 0);
    v.set_clock_offset(12).unwrap();
    let s = status(&v).unwrap();
    assert_eq!((s.automatic, s.offset_seconds, s.offset_source), (false, 12, Some(TimeSource::Manual)));
    record(&v, &[m(-31_000, 20)]).unwrap();
    assert_eq!(v.clock_offset().unwrap(), 12, "manual mode: measurements do not move the offset");
    set_automatic(&v, true).unwrap();
    assert_eq!(v.clock_offset().unwrap(), -30);
    let reopened = vault(&dir);
    let s = status(&reopened).unwrap();
    assert_eq!((s.automatic, s.offset_seconds, s.manual_offset_seconds), (true, -30, 12));
    assert_eq!(s.last_measurement, Some(m(-31_000, 20)));
}

#[test]
fn codes_use_the_correction_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    let account =
        v.add(&domain::uri::parse("otpauth://totp/A:a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap()).unwrap();
    // RFC 6238's vector: 94287082 at T = 59 s (8 digits); 6 digits: 287082.
    record(&v, &[m(59_000 - 1_000, 5)]).unwrap();
    assert_eq!(v.code(account.id, 1).unwrap().value, "287082");
    assert_eq!(v.take_code(account.id, 1).unwrap().value, "287082");
}

#[test]
fn a_vault_with_a_manual_offset_from_before_keeps_it_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    v.execute_for_test("INSERT OR REPLACE INTO meta (key, value) VALUES ('clock_offset', 25)");
    let s = status(&v).unwrap();
    assert_eq!((s.automatic, s.offset_seconds), (false, 25));
    v.execute_for_test("INSERT OR REPLACE INTO meta (key, value) VALUES ('clock_measurement', 'not json')");
    assert_eq!(status(&v).unwrap().last_measurement, None, "an unreadable setting counts as absent");
}

#[test]
fn the_warning_says_how_far_off_and_whether_codes_are_corrected() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    assert_eq!(record(&v, &[m(9_000, 5)]).unwrap().warning, None);
    let s = record(&v, &[m(47_200, 5)]).unwrap();
    assert_eq!(s.warning.as_deref(), Some("your clock is 47 s behind; codes are corrected"));
    v.set_clock_offset(0).unwrap();
    let s = status(&v).unwrap();
    assert_eq!(
        s.warning.as_deref(),
        Some("your clock is 47 s behind; codes are not corrected (automatic correction is off)")
    );
    set_automatic(&v, true).unwrap();
    let s = record(&v, &[m(-3_600_000, 5)]).unwrap();
    assert_eq!(
        s.warning.as_deref(),
        Some(
            "NTP says your clock is 60 min 0 s ahead; not applied: a correction over 2 min needs a second source or your confirmation"
        )
    );
    let s = accept_proposal(&v).unwrap();
    assert_eq!(s.warning.as_deref(), Some("your clock is 60 min 0 s ahead; codes are corrected"));
}

#[test]
fn sntp_against_chrony_measures_the_injected_skew_within_half_a_second() {
    let chrony = Chrony::start();
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    for device_error_ms in [-90_000, 3_000, 3_600_000] {
        let device = DeviceClock::reading(now_ms() + device_error_ms);
        let mut s = check_ntp(&v, &chrony.addr, device).unwrap();
        let last = s.last_measurement.unwrap();
        assert_eq!(last.source, TimeSource::Ntp);
        assert!((last.offset_ms + device_error_ms).abs() <= 500, "{device_error_ms}: {last:?}");
        assert!(last.uncertainty_ms < 500, "{last:?}");
        if device_error_ms.abs() > 120_000 {
            // One source alone: proposed, in force once the user accepts it.
            assert_eq!((s.offset_seconds, s.proposal), (-3, Some(last)), "{s:?}");
            s = accept_proposal(&v).unwrap();
        }
        assert_eq!(s.offset_seconds, -device_error_ms / 1000, "{s:?}");
    }
}

/// A UDP "server" on 127.0.0.1 that answers each request with the datagrams `reply(request)`,
/// sent from `reply_from` (its own socket when None).
fn hostile_udp(reply: impl Fn(&[u8]) -> Vec<Vec<u8>> + Send + 'static, reply_from: Option<UdpSocket>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            for answer in reply(&buf[..n]) {
                let _ = reply_from.as_ref().unwrap_or(&socket).send_to(&answer, from);
            }
        }
    });
    addr
}

/// A well-formed server reply to `request` (stratum 2, now as the server's time).
fn good_reply(request: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 48];
    p[0] = 0b00_100_100;
    p[1] = 2;
    p[24..32].copy_from_slice(&request[40..48]);
    let now = sntp::to_ntp(now_ms() * 1000).to_be_bytes();
    p[32..40].copy_from_slice(&now);
    p[40..48].copy_from_slice(&now);
    p
}

fn check_fails(server: SocketAddr, timeout: Duration) -> Error {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    record(&v, &[m(20_000, 5)]).unwrap();
    let before = v.clock_state().unwrap();
    let device = DeviceClock::reading(now_ms() - 40_000);
    let err = sntp::query(&server.to_string(), device, timeout).and_then(|m| record(&v, &[m]).map(drop)).unwrap_err();
    assert_eq!(v.clock_state().unwrap(), before, "a failed check changes nothing");
    assert_eq!(v.clock_offset().unwrap(), 20);
    err
}

#[test]
fn a_well_formed_reply_from_a_plain_udp_server_is_measured() {
    let server = hostile_udp(|r| vec![good_reply(r)], None);
    let m = sntp::query(&server.to_string(), DeviceClock::reading(now_ms() - 40_000), Duration::from_secs(2)).unwrap();
    assert!((m.offset_ms - 40_000).abs() < 500, "{m:?}");
}

#[test]
fn garbage_is_a_malformed_reply() {
    let server = hostile_udp(|_| vec![b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()], None);
    let err = check_fails(server, Duration::from_secs(2));
    assert!(matches!(err, Error::TimeSource(TimeSourceError::Malformed(_))), "{err:?}");
    let client_mode = hostile_udp(
        |r| {
            let mut p = good_reply(r);
            p[0] = 0b00_100_011;
            vec![p]
        },
        None,
    );
    let err = check_fails(client_mode, Duration::from_secs(2));
    assert!(matches!(err, Error::TimeSource(TimeSourceError::Malformed(_))), "mode 3 is no reply: {err:?}");
}

#[test]
fn a_kiss_of_death_names_its_code() {
    let server = hostile_udp(
        |r| {
            let mut p = good_reply(r);
            p[1] = 0;
            p[12..16].copy_from_slice(b"RATE");
            vec![p]
        },
        None,
    );
    let err = check_fails(server, Duration::from_secs(2));
    assert!(matches!(&err, Error::TimeSource(TimeSourceError::KissOfDeath(code)) if code == "RATE"), "{err:?}");
    assert!(err.to_string().contains("kiss-of-death code RATE"), "{err}");
}

#[test]
fn an_unsynchronised_server_is_refused() {
    let server = hostile_udp(
        |r| {
            let mut p = good_reply(r);
            p[0] |= 0b11 << 6;
            vec![p]
        },
        None,
    );
    let err = check_fails(server, Duration::from_secs(2));
    assert!(matches!(err, Error::TimeSource(TimeSourceError::Unsynchronized)), "{err:?}");
}

#[test]
fn a_reply_from_another_address_is_ignored() {
    let elsewhere = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = hostile_udp(|r| vec![good_reply(r)], Some(elsewhere));
    let err = check_fails(server, Duration::from_secs(1));
    assert!(matches!(err, Error::TimeSource(TimeSourceError::WrongSource)), "{err:?}");
}

#[test]
fn a_reply_with_the_wrong_origin_timestamp_is_ignored() {
    let server = hostile_udp(
        |r| {
            let mut p = good_reply(r);
            p[31] ^= 1;
            vec![p]
        },
        None,
    );
    let err = check_fails(server, Duration::from_secs(1));
    assert!(matches!(err, Error::TimeSource(TimeSourceError::WrongOrigin)), "{err:?}");
}

#[test]
fn a_forged_reply_first_does_not_hide_the_real_one() {
    let server = hostile_udp(
        |r| {
            let mut forged = good_reply(r);
            forged[31] ^= 1;
            forged[40] ^= 0x10;
            vec![forged, good_reply(r)]
        },
        None,
    );
    let m = sntp::query(&server.to_string(), DeviceClock::reading(now_ms() + 7_000), Duration::from_secs(2)).unwrap();
    assert!((m.offset_ms + 7_000).abs() < 500, "{m:?}");
}

#[test]
fn no_answer_is_a_typed_timeout() {
    let server = hostile_udp(|_| vec![], None);
    let err = check_fails(server, Duration::from_secs(1));
    assert!(matches!(err, Error::TimeSource(TimeSourceError::NoAnswer(1))), "{err:?}");
}

#[test]
fn an_implausible_server_time_is_refused_and_changes_nothing() {
    let server = hostile_udp(
        |r| {
            let mut p = good_reply(r);
            let later = sntp::to_ntp((now_ms() + 2 * 86_400_000) * 1000).to_be_bytes();
            p[32..40].copy_from_slice(&later);
            p[40..48].copy_from_slice(&later);
            vec![p]
        },
        None,
    );
    let err = check_fails(server, Duration::from_secs(2));
    assert!(matches!(err, Error::ImplausibleClock { .. }), "{err:?}");
}

/// A plain HTTP server on 127.0.0.1 whose `Date` is this machine's clock plus `offset_s`;
/// returns its URL (plain http is allowed on loopback).
fn date_server(offset_s: i64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                loop {
                    let request = testkit::wire::read_request(&mut stream);
                    if request.is_empty() {
                        return;
                    }
                    let date = http_date_of(now_ms() / 1000 + offset_s);
                    let head = format!("HTTP/1.1 204 No Content\r\nDate: {date}\r\n\r\n");
                    if stream.write_all(head.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[test]
fn the_date_of_an_http_reply_measures_the_clock() {
    // A Date one hour ahead of this machine's clock.
    let url = date_server(3600);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = HttpClient::new().unwrap();
    let m = rt.block_on(measure_https(&client, &url, DeviceClock::reading(now_ms()))).unwrap();
    assert_eq!(m.source, TimeSource::Https);
    assert!((m.offset_ms - 3_600_000).abs() <= 1_000, "{m:?}");
    assert!(m.uncertainty_ms >= 500 && m.uncertainty_ms < 1_000, "{m:?}");
    let refused = rt.block_on(measure_https(&client, "http://time.example.com/", DeviceClock::system()));
    assert!(matches!(refused, Err(Error::Net(net::Error::InsecureUrl(_)))), "{refused:?}");
}

/// An IMF-fixdate, written independently of the parser (via the ISO form's fields).
fn http_date_of(unix: i64) -> String {
    let iso = domain::time::iso8601_utc(unix);
    let (y, mo, d) = (&iso[0..4], iso[5..7].parse::<usize>().unwrap(), &iso[8..10]);
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    format!("{}, {d} {} {y} {} GMT", DAYS[unix.div_euclid(86_400).rem_euclid(7) as usize], MONTHS[mo - 1], &iso[11..19])
}

/// One `clock::check` against `ntp` and/or `https`, the device clock reading `device_error_ms`
/// off (as the terminal app's simulated skew does).
fn check_with(v: &Vault, ntp: Option<&str>, https: Option<&str>, device_error_ms: i64) -> Result<CheckOutcome> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let check = Check {
        ntp_server: ntp,
        https_url: https,
        device: DeviceClock::reading(now_ms() + device_error_ms),
        simulated_skew_ms: device_error_ms,
    };
    rt.block_on(super::check(v, &HttpClient::new().unwrap(), check))
}

#[test]
fn ntp_on_time_and_https_50000_s_ahead_in_one_check_apply_nothing_and_say_which_claims_what() {
    let chrony = Chrony::start();
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    let lying = date_server(-50_000);
    let outcome = check_with(&v, Some(&chrony.addr), Some(&lying), 0).unwrap();
    let (ntp, https) = (outcome.ntp.unwrap(), outcome.https.unwrap());
    assert!(ntp.offset_ms.abs() < 500 && (https.offset_ms + 50_000_000).abs() <= 1_000, "{ntp:?} {https:?}");
    let s = outcome.status;
    assert_eq!((s.offset_seconds, s.proposal), (0, None), "{s:?}");
    assert_eq!(v.clock_state().unwrap().disagreement, [ntp, https]);
    assert_eq!(
        s.warning.as_deref(),
        Some("time sources disagree (NTP: on time, HTTPS: 13 h 53 min ahead); nothing applied")
    );
    assert_eq!(status(&vault(&dir)).unwrap(), s, "kept in the vault");
}

#[test]
fn ntp_and_https_agreeing_on_300_s_apply_it() {
    let chrony = Chrony::start();
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    let honest = date_server(0);
    let s = check_with(&v, Some(&chrony.addr), Some(&honest), -300_000).unwrap().status;
    assert_eq!(
        (s.offset_seconds, s.offset_source, s.proposal, s.warning.as_deref()),
        (300, Some(TimeSource::Ntp), None, Some("your clock is 5 min 0 s behind; codes are corrected")),
        "{s:?}"
    );
    assert_eq!(v.clock_state().unwrap().correction.unwrap().basis, Basis::Agreed(TimeSource::Https));
    assert!(v.clock_state().unwrap().disagreement.is_empty());
}

#[test]
fn one_source_claiming_90_s_applies_it() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    let s = check_with(&v, None, Some(&date_server(0)), -90_000).unwrap().status;
    assert_eq!((s.offset_seconds, s.offset_source, s.proposal), (90, Some(TimeSource::Https), None), "{s:?}");
    assert_eq!(v.clock_state().unwrap().correction.unwrap().basis, Basis::OneSource);
}

#[test]
fn one_source_claiming_300_s_is_a_proposal_that_is_in_force_once_accepted() {
    let chrony = Chrony::start();
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    let s = check_with(&v, Some(&chrony.addr), None, -300_000).unwrap().status;
    let proposal = s.proposal.expect("proposed");
    assert_eq!((s.offset_seconds, proposal.source, proposal.seconds()), (0, TimeSource::Ntp, 300), "{s:?}");
    assert_eq!(
        s.warning.as_deref(),
        Some(
            "NTP says your clock is 5 min 0 s behind; not applied: a correction over 2 min needs a second source or your confirmation"
        )
    );
    v.set_clock_offset(4).unwrap();
    let s = accept_proposal(&vault(&dir)).unwrap();
    assert_eq!(
        (s.automatic, s.offset_seconds, s.offset_source, s.proposal),
        (true, 300, Some(TimeSource::Ntp), None),
        "{s:?}"
    );
    assert_eq!(v.clock_state().unwrap().correction.unwrap().basis, Basis::Accepted);
    assert_eq!(v.clock_offset().unwrap(), 300);
}

#[test]
fn accepting_without_a_proposal_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    record(&v, &[m(30_000, 5)]).unwrap();
    let before = v.clock_state().unwrap();
    let err = accept_proposal(&v).unwrap_err();
    assert!(matches!(&err, Error::InvalidInput(r) if r == "no clock correction is proposed"), "{err:?}");
    assert_eq!(v.clock_state().unwrap(), before);
}

#[test]
fn one_source_cannot_walk_the_correction_past_two_minutes_in_steps() {
    let mut state = fresh();
    apply(&mut state, &[m(119_000, 5)]).unwrap();
    assert_eq!(state.offset_in_force(), 119);
    apply(&mut state, &[m(238_000, 5)]).unwrap();
    assert_eq!((state.offset_in_force(), state.proposal), (119, Some(m(238_000, 5))));
    apply(&mut state, &[m(-121_000, 5)]).unwrap();
    assert_eq!((state.offset_in_force(), state.proposal), (119, Some(m(-121_000, 5))), "the bound holds both ways");
}

#[test]
fn a_second_source_agreeing_with_the_pending_proposal_applies_it() {
    let mut state = fresh();
    apply(&mut state, &[https(300_400, 600)]).unwrap();
    assert_eq!((state.offset_in_force(), state.proposal), (0, Some(https(300_400, 600))));
    apply(&mut state, &[https(300_000, 600)]).unwrap();
    assert_eq!(state.offset_in_force(), 0, "the same source again is no second source");
    apply(&mut state, &[m(299_900, 2)]).unwrap();
    let c = state.correction.unwrap();
    assert_eq!((c.seconds, c.basis, state.proposal), (300, Basis::Agreed(TimeSource::Https), None));
}

#[test]
fn a_push_servers_time_is_a_hint_never_applied_nor_a_second_source() {
    let mut state = fresh();
    for offset in [70_000_000, 90_000, 5_000] {
        apply(&mut state, &[push(offset)]).unwrap();
        assert_eq!((state.offset_in_force(), state.hint, state.last), (0, Some(push(offset)), None));
    }
    apply(&mut state, &[push(300_000)]).unwrap();
    apply(&mut state, &[m(300_000, 5)]).unwrap();
    assert_eq!((state.offset_in_force(), state.proposal), (0, Some(m(300_000, 5))), "a push server does not agree");
    let before = state.clone();
    assert!(matches!(apply(&mut state, &[push(86_400_001)]), Err(Error::ImplausibleClock { .. })));
    assert_eq!(state, before);
}

#[test]
fn the_banner_shows_a_push_servers_time_far_from_the_offset_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    let s = record(&v, &[push(70_000_000)]).unwrap();
    assert_eq!(
        s.warning.as_deref(),
        Some(
            "privacyIDEA says your clock is 19 h 26 min behind; a push server's clock is not applied (check against NTP or HTTPS)"
        )
    );
    assert_eq!((s.offset_seconds, s.hint), (0, Some(push(70_000_000))));
    assert_eq!(record(&v, &[push(8_000)]).unwrap().warning, None, "within 10 s of the offset in force");
}

#[test]
fn a_vault_from_before_keeps_a_small_correction_and_proposes_a_large_one() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    let stored = |correction: &str, measurement: &str| {
        v.execute_for_test(&format!(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('clock_correction', '{correction}'), \
             ('clock_measurement', '{measurement}')"
        ));
        status(&v).unwrap()
    };
    let s = stored("47 ntp 47200 5 1700000000000", "ntp 47200 5 1700000000000");
    assert_eq!((s.offset_seconds, s.proposal), (47, None), "{s:?}");
    let s = stored("-50000 https -50000000 500 1700000000000", "https -50000000 500 1700000000000");
    assert_eq!((s.offset_seconds, s.proposal), (0, Some(https(-50_000_000, 500))));
    let s = stored("70000 privacy_idea 70000000 30 1700000000000", "privacy_idea 70000000 30 1700000000000");
    assert_eq!((s.offset_seconds, s.proposal, s.hint), (0, None, Some(push(70_000_000))));
    let s = stored("-50000 https -50000000 500 1700000000000", "https -50000000 500 1700000000000");
    v.set_clock_offset(0).unwrap();
    let state = vault(&dir).clock_state().unwrap();
    assert_eq!((state.correction, state.proposal), (None, s.proposal), "written back in the new form");
    assert_eq!(accept_proposal(&v).unwrap().offset_seconds, -50_000, "the user may still accept it");
}

#[test]
fn every_part_of_the_clock_state_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir);
    record(&v, &[m(100_000, 5), https(100_300, 500)]).unwrap();
    record(&v, &[push(7_000)]).unwrap();
    record(&v, &[m(-200_000, 5)]).unwrap();
    v.update_clock_state(|s| {
        s.disagreement = vec![m(1, 2), https(-3, 4)];
        Ok::<_, Error>(())
    })
    .unwrap();
    let state = v.clock_state().unwrap();
    assert_eq!(state.correction.unwrap().basis, Basis::Agreed(TimeSource::Https));
    assert_eq!((state.proposal, state.hint), (Some(m(-200_000, 5)), Some(push(7_000))));
    assert_eq!(vault(&dir).clock_state().unwrap(), state);
}
