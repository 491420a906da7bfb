//! Sync against a real WebDAV server (Apache httpd with mod_dav_fs, started by
//! tests/webdav/server.sh for each test), and against hostile servers on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use domain::{AccountData, Algorithm, OtpKind, OtpParams, Secret};
use services::Error;
use services::sync::object::{self, KeyObject, Manifest};
use services::sync::{self, SyncClient, SyncSecret};
use storage::crypto::Key;
use storage::crypto::kdf::Argon2Params;
use storage::{DataKey, Vault};

/// An Apache WebDAV server in its own work folder, stopped on drop.
struct Apache {
    work: tempfile::TempDir,
    url: String,
    password: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/webdav/server.sh")
}

impl Apache {
    fn start() -> Self {
        let work = tempfile::Builder::new().prefix("sync-apache-").tempdir().unwrap();
        let out = Command::new("bash").arg(script()).arg("start").arg(work.path()).output().unwrap();
        assert!(out.status.success(), "apache did not start: {}", String::from_utf8_lossy(&out.stderr));
        let url = std::fs::read_to_string(work.path().join("url")).unwrap().trim().to_owned();
        let password = std::fs::read_to_string(work.path().join("password")).unwrap();
        Self { work, url, password }
    }

    fn objects(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> =
            std::fs::read_dir(self.work.path().join("dav")).unwrap().map(|e| e.unwrap().path()).collect();
        v.sort();
        v
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).arg("stop").arg(self.work.path()).status();
    }
}

struct Device {
    _dir: tempfile::TempDir,
    vault: Vault,
}

impl Device {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path().join("vault.db"), &DataKey::from_bytes([7; 32])).unwrap();
        Self { _dir: dir, vault }
    }

    fn add(&self, issuer: &str, hotp: bool) -> i64 {
        let params = if hotp {
            OtpParams::new(OtpKind::Hotp, Algorithm::Sha1, 6, 30, 0).unwrap()
        } else {
            OtpParams::totp(Algorithm::Sha256, 8, 30).unwrap()
        };
        let data = AccountData {
            issuer: issuer.into(),
            label: "alice".into(),
            params,
            secret: Secret::from_bytes(format!("secret of {issuer} ......").into_bytes()).unwrap(),
            group: None,
        };
        self.vault.add(&data).unwrap().id
    }

    fn id(&self, issuer: &str) -> i64 {
        self.vault.accounts().unwrap().into_iter().find(|a| a.issuer == issuer).unwrap().id
    }

    /// What a user sees: names, group, counter and code, in list order.
    fn listing(&self) -> Vec<String> {
        self.vault
            .codes(1_700_000_000)
            .unwrap()
            .into_iter()
            .map(|c| {
                let a = c.account;
                format!("{}|{}|{:?}|{}|{}", a.issuer, a.label, a.group, a.params.counter(), c.code.value)
            })
            .collect()
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Cheap Argon2id for the many folders these tests make; the apps use `passphrase_params()`
/// (the tests of the cost use it too).
const FAST: Argon2Params = Argon2Params { memory_kib: 256, iterations: 1, parallelism: 1 };

/// A passphrase strong enough for a new folder (four random words).
const STRONG: &str = "gravel mosaic uphill lantern";

fn client() -> SyncClient {
    SyncClient::new().unwrap().with_passphrase_params(FAST)
}

fn setup(rt: &tokio::runtime::Runtime, d: &Device, server: &Apache, passphrase: &str) -> Result<(), Error> {
    rt.block_on(sync::setup(
        &d.vault,
        &client(),
        &server.url,
        "sync",
        &server.password,
        SyncSecret::Passphrase(passphrase),
    ))
}

fn sync_now(rt: &tokio::runtime::Runtime, d: &Device) {
    rt.block_on(sync::sync_now(&d.vault, &client())).unwrap();
}

#[test]
fn apache_answers_412_to_failing_conditional_puts() {
    let server = Apache::start();
    let http = reqwest::blocking::Client::new();
    let put = |header: (&str, &str)| {
        http.put(format!("{}probe", server.url))
            .basic_auth("sync", Some(&server.password))
            .header(header.0, header.1)
            .body("x")
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(put(("If-None-Match", "*")), 201);
    assert_eq!(put(("If-None-Match", "*")), 412);
    assert_eq!(put(("If-Match", "\"not-the-etag\"")), 412);
}

#[test]
fn two_devices_edit_concurrently_and_converge_to_the_same_list_and_codes() {
    let server = Apache::start();
    let rt = rt();
    let (one, two) = (Device::new(), Device::new());
    one.add("GitHub", false);
    one.add("Bank", true);
    two.add("Mail", false);
    setup(&rt, &one, &server, STRONG).unwrap();
    setup(&rt, &two, &server, STRONG).unwrap();
    sync_now(&rt, &one);
    sync_now(&rt, &two);
    sync_now(&rt, &one);
    assert_eq!(one.listing(), two.listing());
    assert_eq!(one.listing().len(), 3);

    // Concurrent edits on both, then both sync at the same moment (one of them meets a 412).
    one.vault.rename(one.id("GitHub"), &"GitHub Inc".into(), &"alice".into()).unwrap();
    one.vault.take_code(one.id("Bank"), 0).unwrap();
    two.vault.take_code(two.id("Bank"), 0).unwrap();
    two.vault.take_code(two.id("Bank"), 0).unwrap();
    two.vault.remove(two.id("Mail")).unwrap();
    two.add("Cloud", false);
    let c = client();
    let (a, b) = rt.block_on(async { tokio::join!(sync::sync_now(&one.vault, &c), sync::sync_now(&two.vault, &c)) });
    a.unwrap();
    b.unwrap();
    sync_now(&rt, &one);
    sync_now(&rt, &two);
    assert_eq!(one.listing(), two.listing());
    let issuers: Vec<String> = one.vault.accounts().unwrap().into_iter().map(|a| a.issuer).collect();
    assert!(issuers.contains(&"GitHub Inc".into()) && issuers.contains(&"Cloud".into()));
    assert!(!issuers.contains(&"Mail".into()));
    assert_eq!(one.vault.account(one.id("Bank")).unwrap().params.counter(), 2);
    // A change counts as synced once a round reads it back from the server (two conditional
    // PUTs racing on Apache can both succeed): one more round settles what the last upload sent.
    sync_now(&rt, &one);
    let status = sync::status(&one.vault).unwrap();
    assert_eq!((status.pending_changes, status.last_error), (0, None));
    // The server holds the key object, the manifest and at most two state objects, all sealed.
    let objects = server.objects();
    assert!(objects.len() <= 4, "{objects:?}");
    for object in objects {
        let bytes = std::fs::read(object).unwrap();
        assert!(!bytes.windows(6).any(|w| w == b"GitHub" || w == b"secret"));
    }
}

#[test]
fn three_devices_syncing_in_varied_orders_converge() {
    let server = Apache::start();
    let rt = rt();
    let devices = [Device::new(), Device::new(), Device::new()];
    for (i, d) in devices.iter().enumerate() {
        d.add(&format!("Account {i}"), i == 0);
        setup(&rt, d, &server, STRONG).unwrap();
    }
    for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
        for &i in &order {
            sync_now(&rt, &devices[i]);
        }
    }
    // Concurrent edits of the same account everywhere, then all three sync at once.
    for (i, d) in devices.iter().enumerate() {
        d.vault.rename(d.id("Account 0"), &format!("Renamed by {i}").as_str().into(), &"alice".into()).unwrap();
        d.vault.take_code(d.id(&format!("Renamed by {i}")), 0).unwrap();
        d.add(&format!("Late {i}"), false);
    }
    let c = client();
    let results = rt.block_on(async {
        tokio::join!(
            sync::sync_now(&devices[0].vault, &c),
            sync::sync_now(&devices[1].vault, &c),
            sync::sync_now(&devices[2].vault, &c)
        )
    });
    results.0.unwrap();
    results.1.unwrap();
    results.2.unwrap();
    for &i in &[1, 0, 2, 1] {
        sync_now(&rt, &devices[i]);
    }
    let first = devices[0].listing();
    assert_eq!(first.len(), 6);
    assert_eq!(devices[1].listing(), first);
    assert_eq!(devices[2].listing(), first);
    // Each took one HOTP code: the maximum, 1, never a code given twice on one device.
    assert!(first.iter().any(|l| l.starts_with("Renamed by") && l.contains("|1|")));
}

#[test]
fn a_wrong_passphrase_is_refused_at_setup_and_nothing_is_stored() {
    let server = Apache::start();
    let rt = rt();
    let (one, two) = (Device::new(), Device::new());
    setup(&rt, &one, &server, STRONG).unwrap();
    two.add("Mine", false);
    let before = two.listing();
    assert!(matches!(setup(&rt, &two, &server, "the wrong one"), Err(Error::SyncWrongSecret)));
    assert!(matches!(rt.block_on(sync::sync_now(&two.vault, &client())), Err(Error::SyncNotSetUp)));
    assert_eq!(two.listing(), before);
    // The pairing code of the first device works instead.
    let code = sync::pairing_code(&one.vault).unwrap();
    rt.block_on(sync::setup(
        &two.vault,
        &client(),
        &server.url,
        "sync",
        &server.password,
        SyncSecret::PairingCode(&code),
    ))
    .unwrap();
    let wrong = "AAAA-".repeat(13);
    let three = Device::new();
    let r = rt.block_on(sync::setup(
        &three.vault,
        &client(),
        &server.url,
        "sync",
        &server.password,
        SyncSecret::PairingCode(&wrong),
    ));
    assert!(matches!(r, Err(Error::SyncWrongSecret)));
}

#[test]
fn a_tampered_or_replayed_object_is_refused_and_nothing_is_applied() {
    let server = Apache::start();
    let rt = rt();
    let (one, two) = (Device::new(), Device::new());
    one.add("GitHub", false);
    setup(&rt, &one, &server, STRONG).unwrap();
    setup(&rt, &two, &server, STRONG).unwrap();
    sync_now(&rt, &one);
    sync_now(&rt, &two);
    let old_manifest = std::fs::read(server.work.path().join("dav/manifest")).unwrap();
    one.vault.rename(one.id("GitHub"), &"Changed".into(), &"alice".into()).unwrap();
    sync_now(&rt, &one);

    // A flipped byte in the current state object.
    let state = server.objects().into_iter().filter(|p| p.to_string_lossy().contains("state-")).max().unwrap();
    let good = std::fs::read(&state).unwrap();
    let mut bad = good.clone();
    let at = bad.len() / 2;
    bad[at] ^= 1;
    std::fs::write(&state, &bad).unwrap();
    let before = two.listing();
    let r = rt.block_on(sync::sync_now(&two.vault, &client()));
    assert!(matches!(r, Err(Error::SyncTampered(_))), "{r:?}");
    assert_eq!(two.listing(), before);
    assert!(sync::status(&two.vault).unwrap().last_error.unwrap().contains("refused"));
    std::fs::write(&state, &good).unwrap();
    sync_now(&rt, &two);
    assert_eq!(two.listing(), one.listing());

    // The server rolls the manifest back to an older generation: refused.
    std::fs::write(server.work.path().join("dav/manifest"), &old_manifest).unwrap();
    let before = two.listing();
    let r = rt.block_on(sync::sync_now(&two.vault, &client()));
    assert!(matches!(r, Err(Error::SyncTampered(_))), "{r:?}");
    assert_eq!(two.listing(), before);
}

/// What a peer holding the sync key can do: open the current state and publish a new one, as a
/// device would (a new state object, then the manifest pointing at it), straight into the
/// server's folder.
struct Peer {
    key: storage::crypto::Key,
    dav: PathBuf,
}

impl Peer {
    fn of(device: &Device, server: &Apache) -> Self {
        let code = sync::pairing_code(&device.vault).unwrap();
        Self { key: sync::object::parse_pairing_code(&code).unwrap(), dav: server.work.path().join("dav") }
    }

    fn read(&self) -> (sync::object::Manifest, domain::sync::State) {
        let manifest =
            sync::object::Manifest::open(&self.key, &std::fs::read(self.dav.join("manifest")).unwrap()).unwrap();
        let bytes = std::fs::read(self.dav.join(&manifest.state)).unwrap();
        let state = sync::object::open_state(&self.key, &manifest.state, manifest.generation, &bytes).unwrap();
        (manifest, state)
    }

    fn publish(&self, state: &domain::sync::State) {
        let (old, _) = self.read();
        let generation = old.generation + 1;
        let next = sync::object::Manifest {
            generation,
            state: sync::object::state_name(generation).unwrap(),
            previous: Some(old.state),
        };
        let sealed = sync::object::seal_state(&self.key, &next.state, generation, state).unwrap();
        std::fs::write(self.dav.join(&next.state), sealed).unwrap();
        std::fs::write(self.dav.join("manifest"), next.seal(&self.key).unwrap()).unwrap();
    }
}

fn peer_account(issuer: &str, label: &str, counter: u64) -> domain::sync::Record {
    use domain::sync::{Entry, Fields, Lww, Record, Stamp};
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let at = Stamp { hlc: now_ms << 16, device: [0xEE; 16] };
    let entry = Entry {
        kind: "hotp".into(),
        algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        secret: b"peer secret .........".to_vec(),
    };
    Record::Live(Box::new(Fields {
        entry: Lww::new(entry, at),
        issuer: Lww::new(issuer.into(), at),
        label: Lww::new(label.into(), at),
        group: Lww::new(None, at),
        order: Lww::new(9, at),
        counter,
    }))
}

#[test]
fn a_peer_publishing_bad_records_among_good_ones_has_only_the_bad_ones_refused_and_sync_goes_on() {
    let server = Apache::start();
    let rt = rt();
    let (one, two) = (Device::new(), Device::new());
    one.add("GitHub", true);
    setup(&rt, &one, &server, "hostile peer test").unwrap();
    setup(&rt, &two, &server, "hostile peer test").unwrap();
    sync_now(&rt, &one);
    sync_now(&rt, &two);

    // The peer publishes: the existing account with counter 2^64 - 1, a 20,000-character label,
    // a name with raw ESC bytes, and one good new account.
    let peer = Peer::of(&one, &server);
    let (_, mut state) = peer.read();
    let github = state.records.keys().next().unwrap().clone();
    let domain::sync::Record::Live(mut f) = state.records[&github].clone() else { panic!("live") };
    f.counter = u64::MAX;
    f.issuer.stamp.hlc += 1;
    state.records.insert(github.clone(), domain::sync::Record::Live(f));
    state.records.insert("aa".repeat(16), peer_account("Long", &"x".repeat(20_000), 0));
    state.records.insert("bb".repeat(16), peer_account("Esc\u{1b}]0;owned\u{7}", "alice", 0));
    state.records.insert("cc".repeat(16), peer_account("Good from peer", "alice", 3));
    peer.publish(&state);

    let report = rt.block_on(sync::sync_now(&two.vault, &client())).unwrap();
    let mut refused: Vec<(String, &str)> = report.refused.iter().map(|r| (r.account.clone(), r.reason)).collect();
    let mut expected = vec![
        (github.clone(), "its HOTP counter is beyond 2^63 - 1"),
        ("aa".repeat(16), "a name is longer than 512 characters"),
        ("bb".repeat(16), "a name holds control, invisible or surrounding white-space characters"),
    ];
    refused.sort();
    expected.sort();
    assert_eq!(refused, expected);
    let listing = two.listing();
    assert_eq!(listing.len(), 2, "{listing:?}");
    assert!(listing.iter().any(|l| l.starts_with("Good from peer|alice|None|3|")), "{listing:?}");
    assert!(listing.iter().any(|l| l.starts_with("GitHub|alice|None|0|")), "{listing:?}");

    // The next rounds are not stuck: a change here goes up and is settled, on both devices.
    two.vault.take_code(two.id("GitHub"), 0).unwrap();
    sync_now(&rt, &two);
    sync_now(&rt, &two);
    sync_now(&rt, &one);
    sync_now(&rt, &one);
    for d in [&one, &two] {
        let status = sync::status(&d.vault).unwrap();
        assert_eq!((status.pending_changes, status.last_error), (0, None));
    }
    assert_eq!(one.listing(), two.listing());
    assert!(one.listing().iter().any(|l| l.starts_with("GitHub|alice|None|1|")));
}

#[test]
fn a_state_object_deleted_on_the_server_is_named_and_the_next_round_republishes() {
    let server = Apache::start();
    let rt = rt();
    let (one, two) = (Device::new(), Device::new());
    one.add("GitHub", false);
    two.add("Mail", true);
    setup(&rt, &one, &server, "lost object test: juniper quartz lantern").unwrap();
    setup(&rt, &two, &server, "lost object test: juniper quartz lantern").unwrap();
    for d in [&one, &two, &one] {
        sync_now(&rt, d);
    }
    let (manifest, _) = Peer::of(&one, &server).read();
    for object in server.objects() {
        if object.file_name().unwrap().to_string_lossy().starts_with("state-") {
            std::fs::remove_file(object).unwrap();
        }
    }

    let r = rt.block_on(sync::sync_now(&two.vault, &client()));
    assert!(matches!(&r, Err(Error::SyncStateMissing { object }) if *object == manifest.state), "{r:?}");
    let last_error = sync::status(&two.vault).unwrap().last_error.unwrap();
    assert!(last_error.contains(&manifest.state) && last_error.contains("next round republishes"), "{last_error}");
    assert_eq!(two.listing().len(), 2, "nothing was applied");

    // The next round republishes; every device carries on from it.
    let report = rt.block_on(sync::sync_now(&two.vault, &client())).unwrap();
    assert!(report.uploaded && report.generation > manifest.generation);
    sync_now(&rt, &one);
    sync_now(&rt, &two);
    assert_eq!(one.listing(), two.listing());
    assert_eq!(one.listing().len(), 2);
    assert_eq!(sync::status(&two.vault).unwrap().last_error, None);
}

#[test]
fn state_objects_no_manifest_references_are_removed_once_past_the_grace_period() {
    let server = Apache::start();
    let rt = rt();
    let one = Device::new();
    one.add("GitHub", false);
    setup(&rt, &one, &server, "orphan test: juniper quartz lantern").unwrap();
    sync_now(&rt, &one);
    // Left by failed rounds: one two hours ago, one just now (maybe a round under way).
    let dav = server.work.path().join("dav");
    std::fs::write(dav.join("state-7-0123456789abcdef"), b"AUTHSYNC1S left by a failed round").unwrap();
    std::fs::write(dav.join("state-8-fedcba9876543210"), b"AUTHSYNC1S a round under way").unwrap();
    let aged = Command::new("touch").args(["-d", "2 hours ago"]).arg(dav.join("state-7-0123456789abcdef")).status();
    assert!(aged.unwrap().success());

    one.vault.rename(one.id("GitHub"), &"GitHub Inc".into(), &"alice".into()).unwrap();
    sync_now(&rt, &one);
    let names: Vec<String> =
        server.objects().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert!(!names.contains(&"state-7-0123456789abcdef".to_owned()), "{names:?}");
    assert!(names.contains(&"state-8-fedcba9876543210".to_owned()), "{names:?}");
    let (manifest, _) = Peer::of(&one, &server).read();
    assert!(names.contains(&manifest.state) && names.contains(manifest.previous.as_ref().unwrap()), "{names:?}");
    assert!(names.contains(&"key".to_owned()) && names.contains(&"manifest".to_owned()));
    sync_now(&rt, &one);
    assert_eq!(sync::status(&one.vault).unwrap().last_error, None);
}

/// The manifest and state objects in the server's folder, to put back later.
fn snapshot(server: &Apache) -> Vec<(PathBuf, Vec<u8>)> {
    server
        .objects()
        .into_iter()
        .filter(|p| p.file_name().unwrap() != "key")
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// Replaces the server's manifest and state objects with `snapshot`'s.
fn restore(server: &Apache, snapshot: &[(PathBuf, Vec<u8>)]) {
    for p in server.objects() {
        if p.file_name().unwrap() != "key" {
            std::fs::remove_file(p).unwrap();
        }
    }
    for (p, bytes) in snapshot {
        std::fs::write(p, bytes).unwrap();
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn a_server_showing_one_device_an_old_state_is_reported_as_a_fork_and_nothing_is_lost() {
    let server = Apache::start();
    let rt = rt();
    let (one, two) = (Device::new(), Device::new());
    one.add("GitHub", false);
    setup(&rt, &one, &server, "fork test: juniper quartz lantern").unwrap();
    setup(&rt, &two, &server, "fork test: juniper quartz lantern").unwrap();
    for d in [&one, &two, &one, &two] {
        sync_now(&rt, d);
    }
    let status = sync::status(&one.vault).unwrap();
    assert_eq!(status.devices.len(), 2, "{status:?}");
    assert!(status.devices[0].this_device && !status.devices[1].this_device);
    assert!(status.devices.iter().all(|d| (now_secs() - d.last_seen).abs() < 60 && !d.stale));
    assert_eq!(status.warnings, Vec::<String>::new());

    // The server keeps today's state aside; two moves on; then the server shows one the old
    // state (one edits and uploads onto it), and afterwards two's history again.
    let old = snapshot(&server);
    two.add("Mail", false);
    sync_now(&rt, &two);
    let moved = snapshot(&server);
    restore(&server, &old);
    one.vault.rename(one.id("GitHub"), &"GitHub Inc".into(), &"alice".into()).unwrap();
    sync_now(&rt, &one);
    assert_eq!(sync::status(&one.vault).unwrap().warnings, Vec::<String>::new(), "not visible yet");
    restore(&server, &moved);
    sync_now(&rt, &one);
    let warnings = sync::status(&one.vault).unwrap().warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("lacks this device's last upload"), "{warnings:?}");

    // Nothing was lost: one uploaded again, and both devices converge.
    sync_now(&rt, &two);
    sync_now(&rt, &one);
    assert_eq!(one.listing(), two.listing());
    let issuers: Vec<String> = two.vault.accounts().unwrap().into_iter().map(|a| a.issuer).collect();
    assert_eq!(issuers.len(), 2);
    assert!(issuers.contains(&"GitHub Inc".to_owned()) && issuers.contains(&"Mail".to_owned()));
    // Once the server's state carries one's upload again, the warning is gone.
    assert_eq!(sync::status(&one.vault).unwrap().warnings, Vec::<String>::new());
}

#[test]
fn a_device_not_seen_for_over_14_days_is_reported_stale() {
    let server = Apache::start();
    let rt = rt();
    let one = Device::new();
    one.add("GitHub", false);
    setup(&rt, &one, &server, "stale test: juniper quartz lantern").unwrap();
    sync_now(&rt, &one);
    // Another device's entry says it last synced 20 days ago.
    let peer = Peer::of(&one, &server);
    let (_, mut state) = peer.read();
    let at = now_secs() - 20 * 86_400;
    let entry = domain::sync::DeviceEntry {
        device: "ab".repeat(16),
        hlc: (at as u64 * 1000) << 16,
        at,
        generation: 1,
        seen: Vec::new(),
    };
    state.put_device(entry);
    peer.publish(&state);
    sync_now(&rt, &one);
    let status = sync::status(&one.vault).unwrap();
    let away = status.devices.iter().find(|d| d.device == "ab".repeat(16)).unwrap();
    assert!(away.stale && !away.this_device && away.last_seen == at, "{away:?}");
    assert_eq!(status.warnings.len(), 1, "{:?}", status.warnings);
    assert!(status.warnings[0].starts_with("device abababab has not synced for 20 days"), "{:?}", status.warnings);
}

fn tombstones(server: &Apache, device: &Device) -> usize {
    let (_, state) = Peer::of(device, server).read();
    state.records.values().filter(|r| matches!(r, domain::sync::Record::Removed(_))).count()
}

#[test]
fn a_tombstone_every_device_has_seen_is_compacted_and_the_account_stays_removed() {
    let server = Apache::start();
    let rt = rt();
    let (one, two) = (Device::new(), Device::new());
    one.add("GitHub", false);
    one.add("Doomed", false);
    setup(&rt, &one, &server, "compaction test: juniper quartz lantern").unwrap();
    setup(&rt, &two, &server, "compaction test: juniper quartz lantern").unwrap();
    for d in [&one, &two, &one] {
        sync_now(&rt, d);
    }
    one.vault.remove(one.id("Doomed")).unwrap();
    sync_now(&rt, &one);
    assert_eq!(tombstones(&server, &one), 1, "two has not seen the removal yet");
    sync_now(&rt, &two);
    assert_eq!(tombstones(&server, &one), 0, "two saw it: every device has");
    for d in [&one, &two, &one, &two] {
        sync_now(&rt, d);
    }
    assert_eq!(tombstones(&server, &one), 0);
    for d in [&one, &two] {
        assert_eq!(d.listing().len(), 1);
        assert!(d.listing()[0].starts_with("GitHub|"));
        assert_eq!(d.vault.sync_state().unwrap().state.records.len(), 1, "no tombstone kept here either");
        assert_eq!(sync::status(&d.vault).unwrap().pending_changes, 0);
        let report = rt.block_on(sync::sync_now(&d.vault, &client())).unwrap();
        assert!(!report.uploaded, "settled: nothing to upload");
    }
}

#[test]
fn a_device_away_longer_than_tombstones_are_kept_does_not_bring_removed_accounts_back() {
    let server = Apache::start();
    let rt = rt();
    let (one, two) = (Device::new(), Device::new());
    one.add("GitHub", false);
    one.add("Doomed", false);
    setup(&rt, &one, &server, "away test: juniper quartz lantern").unwrap();
    setup(&rt, &two, &server, "away test: juniper quartz lantern").unwrap();
    for d in [&one, &two, &one] {
        sync_now(&rt, d);
    }
    // two goes away for 100 days; meanwhile one removes Doomed, and its tombstone outlives the
    // 90 days it is kept (the state then carries neither it nor two's entry).
    two.vault.execute_for_test(&format!(
        "UPDATE meta SET value = {} WHERE key = 'sync_last_success'",
        now_secs() - 100 * 86_400
    ));
    one.vault.remove(one.id("Doomed")).unwrap();
    sync_now(&rt, &one);
    let peer = Peer::of(&one, &server);
    let (_, mut state) = peer.read();
    state.records.retain(|_, r| !matches!(r, domain::sync::Record::Removed(_)));
    let two_id = hex::encode(two.vault.sync_device().unwrap());
    state.devices.retain(|e| e.device != two_id);
    peer.publish(&state);
    two.add("Added while away", false);

    let report = rt.block_on(sync::sync_now(&two.vault, &client())).unwrap();
    assert_eq!(report.removed_while_away, 1);
    sync_now(&rt, &one);
    for d in [&one, &two] {
        let issuers: Vec<String> = d.vault.accounts().unwrap().into_iter().map(|a| a.issuer).collect();
        assert!(!issuers.contains(&"Doomed".to_owned()), "{issuers:?}");
        assert!(issuers.contains(&"Added while away".to_owned()) && issuers.contains(&"GitHub".to_owned()));
    }
}

#[test]
fn a_last_success_in_the_future_after_the_clock_went_back_is_not_an_absence() {
    let server = Apache::start();
    let rt = rt();
    let (one, two) = (Device::new(), Device::new());
    one.add("GitHub", false);
    one.add("Kept", false);
    setup(&rt, &one, &server, "clock back test: juniper quartz lantern").unwrap();
    setup(&rt, &two, &server, "clock back test: juniper quartz lantern").unwrap();
    for d in [&one, &two, &one] {
        sync_now(&rt, d);
    }
    two.vault.execute_for_test(&format!(
        "UPDATE meta SET value = {} WHERE key = 'sync_last_success'",
        now_secs() + 2 * 86_400
    ));
    let peer = Peer::of(&one, &server);
    let (_, mut state) = peer.read();
    let kept =
        state.records.iter().find(|(_, r)| matches!(r, domain::sync::Record::Live(f) if f.issuer.value == "Kept"));
    let kept = kept.unwrap().0.clone();
    state.records.remove(&kept);
    peer.publish(&state);
    let report = rt.block_on(sync::sync_now(&two.vault, &client())).unwrap();
    assert_eq!(report.removed_while_away, 0);
    assert_eq!(two.listing().len(), 2, "{:?}", two.listing());
}

/// How a hostile server misbehaves once setup is done.
#[derive(Clone, Copy)]
enum Hostile {
    Status(u16),
    Conflict,
    Slow,
    Silent,
}

/// A hostile WebDAV server: lets setup through (MKCOL, the key object), then misbehaves.
fn hostile(mode: Hostile) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/dav/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let Ok(n) = stream.read(&mut chunk) else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let line = head.lines().next().unwrap_or_default().to_owned();
                let status = if line.starts_with("MKCOL") {
                    201
                } else if line.contains("/dav/key ") {
                    if line.starts_with("GET") { 404 } else { 201 }
                } else {
                    match mode {
                        Hostile::Status(s) => s,
                        Hostile::Conflict if line.starts_with("GET") => 404,
                        Hostile::Conflict if line.contains("/dav/manifest ") => 412,
                        Hostile::Conflict => 201,
                        Hostile::Slow => {
                            std::thread::sleep(Duration::from_secs(5));
                            200
                        }
                        Hostile::Silent => return,
                    }
                };
                let _ = write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            });
        }
    });
    url
}

#[test]
fn a_hostile_server_gives_typed_errors_and_leaves_the_vault_unchanged() {
    let rt = rt();
    let quick = SyncClient::with_timeout(Duration::from_secs(1)).unwrap().with_passphrase_params(FAST);
    for (mode, expect) in [
        (Hostile::Status(500), "status 500"),
        (Hostile::Status(401), "status 401"),
        (Hostile::Conflict, "conflict"),
        (Hostile::Slow, "timeout"),
        (Hostile::Silent, "no answer"),
    ] {
        let device = Device::new();
        device.add("GitHub", true);
        let url = hostile(mode);
        rt.block_on(sync::setup(&device.vault, &quick, &url, "u", "p", SyncSecret::Passphrase(STRONG))).unwrap();
        let before = (device.listing(), device.vault.pending_sync_changes().unwrap());
        let r = rt.block_on(sync::sync_now(&device.vault, &quick));
        let ok = match (&r, mode) {
            (Err(Error::SyncServer { status }), Hostile::Status(s)) => *status == s,
            (Err(Error::SyncConflict), Hostile::Conflict) => true,
            (Err(Error::Net(net::Error::Network(m))), Hostile::Slow) => m.contains("timed out"),
            (Err(Error::Net(net::Error::Network(_))), Hostile::Silent) => true,
            _ => false,
        };
        assert!(ok, "{expect}: {r:?}");
        assert_eq!((device.listing(), device.vault.pending_sync_changes().unwrap()), before, "{expect}");
        assert!(sync::status(&device.vault).unwrap().last_error.is_some());
    }
}

#[test]
fn a_weak_new_passphrase_is_refused_with_its_reason_and_nothing_is_stored_or_written() {
    let server = Apache::start();
    let rt = rt();
    let device = Device::new();
    device.add("GitHub", false);
    for (weak, reason) in [
        ("a", "too short: 1 character"),
        ("dragon", "a common password"),
        ("qwertyuiop", "a keyboard pattern"),
        ("correct horse battery staple", "well-known"),
    ] {
        let r = setup(&rt, &device, &server, weak);
        let Err(e @ Error::WeakSyncPassphrase { .. }) = r else { panic!("{weak}: {r:?}") };
        let message = e.to_string();
        assert!(message.contains(reason) && message.contains("pairing code"), "{message}");
        assert!(weak.len() < 2 || !message.contains(weak), "the message never quotes the passphrase: {message}");
    }
    assert!(server.objects().is_empty(), "nothing on the server: {:?}", server.objects());
    assert_eq!(sync::status(&device.vault).unwrap().server, None, "nothing in the vault");
}

#[test]
fn a_random_key_sets_up_the_first_device_and_others_join_with_its_pairing_code() {
    let server = Apache::start();
    let rt = rt();
    let (one, two) = (Device::new(), Device::new());
    one.add("GitHub", false);
    let random = |d: &Device| {
        rt.block_on(sync::setup(&d.vault, &client(), &server.url, "sync", &server.password, SyncSecret::RandomKey))
    };
    random(&one).unwrap();
    sync_now(&rt, &one);
    assert!(matches!(random(&two), Err(Error::InvalidInput(_))), "a second random key for the same folder");
    let code = sync::pairing_code(&one.vault).unwrap();
    rt.block_on(sync::setup(
        &two.vault,
        &client(),
        &server.url,
        "sync",
        &server.password,
        SyncSecret::PairingCode(&code),
    ))
    .unwrap();
    sync_now(&rt, &two);
    assert_eq!(two.listing(), one.listing());
}

#[test]
fn a_new_folder_stretches_the_passphrase_with_the_raised_argon2id_cost_and_others_can_join() {
    let server = Apache::start();
    let rt = rt();
    let device = Device::new();
    let production = SyncClient::new().unwrap();
    rt.block_on(sync::setup(
        &device.vault,
        &production,
        &server.url,
        "sync",
        &server.password,
        SyncSecret::Passphrase(STRONG),
    ))
    .unwrap();
    let key_object = KeyObject::parse(&std::fs::read(server.work.path().join("dav/key")).unwrap()).unwrap();
    assert_eq!(key_object.params(), sync::passphrase_params());
    assert_eq!(sync::passphrase_params(), Argon2Params { memory_kib: 256 * 1024, iterations: 4, parallelism: 1 });
    // Another device joins with the passphrase: the cost fits its key-derivation budget.
    let other = Device::new();
    rt.block_on(sync::setup(
        &other.vault,
        &production,
        &server.url,
        "sync",
        &server.password,
        SyncSecret::Passphrase(STRONG),
    ))
    .unwrap();
}

#[test]
fn a_folder_made_with_the_former_argon2id_cost_still_opens_with_its_passphrase() {
    let server = Apache::start();
    let rt = rt();
    let (old, new) = (Device::new(), Device::new());
    old.add("GitHub", true);
    // RFC 9106's second recommendation, what the key object of folders made before held.
    let former = SyncClient::new().unwrap().with_passphrase_params(Argon2Params::default());
    rt.block_on(sync::setup(
        &old.vault,
        &former,
        &server.url,
        "sync",
        &server.password,
        SyncSecret::Passphrase(STRONG),
    ))
    .unwrap();
    sync_now(&rt, &old);
    let production = SyncClient::new().unwrap();
    rt.block_on(sync::setup(
        &new.vault,
        &production,
        &server.url,
        "sync",
        &server.password,
        SyncSecret::Passphrase(STRONG),
    ))
    .unwrap();
    sync_now(&rt, &new);
    assert_eq!(new.listing(), old.listing());
    let key_object = KeyObject::parse(&std::fs::read(server.work.path().join("dav/key")).unwrap()).unwrap();
    assert_eq!(key_object.params(), Argon2Params::default(), "joining keeps the folder's parameters");
}

/// Whether `bytes`, the object `name` on the server, opens (or verifies) under `key`.
fn opens_under(key: &Key, name: &str, bytes: &[u8]) -> bool {
    match name {
        "key" => KeyObject::parse(bytes).unwrap().verify(key).is_ok(),
        "manifest" => Manifest::open(key, bytes).is_ok(),
        state => object::open_state(key, state, object::state_generation(state).unwrap(), bytes).is_ok(),
    }
}

#[test]
fn rekeying_removes_the_old_keys_objects_and_a_device_with_the_old_key_must_rejoin() {
    let server = Apache::start();
    let rt = rt();
    let (one, two) = (Device::new(), Device::new());
    one.add("GitHub", false);
    one.add("Bank", true);
    two.add("Mail", false);
    setup(&rt, &one, &server, STRONG).unwrap();
    setup(&rt, &two, &server, STRONG).unwrap();
    sync_now(&rt, &one);
    sync_now(&rt, &two);
    sync_now(&rt, &one);
    two.add("Late", false);
    sync_now(&rt, &two);
    // Made after two's last round: only on one, not yet on the server.
    one.add("Unsent", false);
    let old = object::parse_pairing_code(&sync::pairing_code(&one.vault).unwrap()).unwrap();

    rt.block_on(sync::rekey(&one.vault, &client(), SyncSecret::RandomKey)).unwrap();
    let new = object::parse_pairing_code(&sync::pairing_code(&one.vault).unwrap()).unwrap();
    assert_ne!(old.expose(), new.expose());
    let objects = server.objects();
    assert!(objects.len() <= 4, "{objects:?}");
    for path in objects {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        assert!(opens_under(&new, &name, &bytes), "{name} is under the new key");
        assert!(!opens_under(&old, &name, &bytes), "{name} is not under the old key");
    }

    let before = two.listing();
    let r = rt.block_on(sync::sync_now(&two.vault, &client()));
    assert!(matches!(r, Err(Error::SyncKeyChanged)), "{r:?}");
    assert_eq!(two.listing(), before, "nothing applied");
    assert!(sync::status(&two.vault).unwrap().last_error.unwrap().contains("set sync up again"));

    two.add("WhileLockedOut", false);
    let code = sync::pairing_code(&one.vault).unwrap();
    rt.block_on(sync::setup(
        &two.vault,
        &client(),
        &server.url,
        "sync",
        &server.password,
        SyncSecret::PairingCode(&code),
    ))
    .unwrap();
    sync_now(&rt, &two);
    sync_now(&rt, &one);
    assert_eq!(one.listing(), two.listing());
    let issuers: Vec<String> = one.vault.accounts().unwrap().into_iter().map(|a| a.issuer).collect();
    for issuer in ["GitHub", "Bank", "Mail", "Late", "Unsent", "WhileLockedOut"] {
        assert!(issuers.contains(&issuer.to_owned()), "{issuer} in {issuers:?}");
    }
    assert_eq!(issuers.len(), 6);
}

#[test]
fn rekeying_with_a_new_passphrase_lets_others_join_with_it_and_refuses_a_weak_one() {
    let server = Apache::start();
    let rt = rt();
    let (one, two) = (Device::new(), Device::new());
    one.add("GitHub", false);
    setup(&rt, &one, &server, STRONG).unwrap();
    sync_now(&rt, &one);
    let r = rt.block_on(sync::rekey(&one.vault, &client(), SyncSecret::Passphrase("dragon")));
    assert!(matches!(r, Err(Error::WeakSyncPassphrase { .. })), "{r:?}");
    setup(&rt, &two, &server, STRONG).unwrap();
    sync_now(&rt, &two);

    let renewed = "tundra crumb oyster plank vivid";
    rt.block_on(sync::rekey(&one.vault, &client(), SyncSecret::Passphrase(renewed))).unwrap();
    assert!(matches!(rt.block_on(sync::sync_now(&two.vault, &client())), Err(Error::SyncKeyChanged)));
    assert!(matches!(setup(&rt, &two, &server, STRONG), Err(Error::SyncWrongSecret)), "the old passphrase");
    setup(&rt, &two, &server, renewed).unwrap();
    sync_now(&rt, &two);
    assert_eq!(two.listing(), one.listing());
}

/// A TCP proxy in front of Apache that, while `refuse` is set, answers a PUT of the manifest
/// with 500 (and closes the connection) instead of forwarding it.
fn refusing_proxy(target: &str, refuse: std::sync::Arc<std::sync::atomic::AtomicBool>) -> String {
    use std::net::TcpStream;
    use std::sync::atomic::Ordering;
    let target = target.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let Ok(mut server) = TcpStream::connect(&target) else { continue };
            let refuse = refuse.clone();
            let mut back_client = client.try_clone().unwrap();
            let mut back_server = server.try_clone().unwrap();
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut back_server, &mut back_client);
                let _ = back_client.shutdown(std::net::Shutdown::Both);
            });
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                loop {
                    let n = match client.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if refuse.load(Ordering::SeqCst) && buf[..n].windows(17).any(|w| w == b"PUT /dav/manifest") {
                        let _ = client.write_all(b"HTTP/1.1 500 X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        break;
                    }
                    if server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = client.shutdown(std::net::Shutdown::Both);
                let _ = server.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    format!("http://127.0.0.1:{port}/dav/")
}

#[test]
fn a_rekey_interrupted_after_the_new_key_object_is_finished_by_the_next_round() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let server = Apache::start();
    let refuse = Arc::new(AtomicBool::new(false));
    let proxy = refusing_proxy(&server.url, refuse.clone());
    let rt = rt();
    let (one, two) = (Device::new(), Device::new());
    one.add("GitHub", false);
    rt.block_on(sync::setup(&one.vault, &client(), &proxy, "sync", &server.password, SyncSecret::Passphrase(STRONG)))
        .unwrap();
    sync_now(&rt, &one);
    sync_now(&rt, &one);
    setup(&rt, &two, &server, STRONG).unwrap();
    sync_now(&rt, &two);
    let old = object::parse_pairing_code(&sync::pairing_code(&one.vault).unwrap()).unwrap();

    refuse.store(true, Ordering::SeqCst);
    let r = rt.block_on(sync::rekey(&one.vault, &client(), SyncSecret::RandomKey));
    assert!(r.is_err(), "the manifest could not be switched: {r:?}");
    let key = std::fs::read(server.work.path().join("dav/key")).unwrap();
    assert!(!opens_under(&old, "key", &key), "the new key object was written before the failure");

    refuse.store(false, Ordering::SeqCst);
    sync_now(&rt, &one);
    let new = object::parse_pairing_code(&sync::pairing_code(&one.vault).unwrap()).unwrap();
    assert_ne!(old.expose(), new.expose());
    for path in server.objects() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        assert!(opens_under(&new, &name, &bytes) && !opens_under(&old, &name, &bytes), "{name}");
    }
    assert!(matches!(rt.block_on(sync::sync_now(&two.vault, &client())), Err(Error::SyncKeyChanged)));
}
