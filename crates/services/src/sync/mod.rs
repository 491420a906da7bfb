//! End-to-end encrypted sync of the accounts through the user's own WebDAV server.
//!
//! - `domain::sync`: hybrid logical clocks, the replicated state and its merge (pure).
//! - [`object`]: the sealed objects the server stores (it sees only ciphertext, sizes, count).
//! - [`webdav`]: the transport (conditional PUTs, size caps, timeouts).
//! - this module: setup and one sync round over a vault.

pub mod object;
pub mod webdav;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use domain::sync as model;
use model::State;
use object::{KEY, KeyObject, MANIFEST, Manifest};
use storage::crypto::Key;
use storage::crypto::kdf::{self, Argon2Params, KdfBudget};
use storage::vault::VaultAccess;
use webdav::{Expect, Folder};

/// How often a round starts over when another device switched the manifest meanwhile.
const ATTEMPTS: usize = 6;
/// How old an object no manifest references must be before a round removes it (one left by a
/// round that failed between its two PUTs): a concurrent round's new state is never that old.
pub const ORPHAN_GRACE_SECS: i64 = 3600;
/// How often a device republishes its entry when it has nothing else to upload (1 day), so the
/// others see it is alive.
pub const HEARTBEAT_SECS: i64 = 24 * 3600;
/// After how long without a round another device is reported as not seen (14 days).
pub const STALE_SECS: i64 = 14 * 24 * 3600;
/// How long a weak ETag lasts on Apache (one second after the write), with a margin.
const WEAK_ETAG_WAIT: Duration = Duration::from_millis(1100);

/// What a new sync passphrase is stretched with: Argon2id over 256 MiB, 4 passes, 1 lane (four
/// times the memory of RFC 9106's second recommendation, which backups use): the storage server
/// holds the salt and a check value, so every guess of an offline attack costs this. A device
/// pays it once per setup (about 0.9 s here; docs/security.md, "Sync passphrase"). Folders made
/// with other parameters keep theirs: they are stored in the key object.
pub fn passphrase_params() -> Argon2Params {
    Argon2Params { memory_kib: 256 * 1024, iterations: 4, parallelism: 1 }
}

/// How the sync key is given at setup. Its `Debug` names the kind, never the secret.
#[derive(Clone, Copy)]
pub enum SyncSecret<'a> {
    /// A passphrase, stretched with Argon2id (the first device draws the salt). A new one must
    /// be strong ([`check_passphrase`]); joining with the passphrase of an existing folder is
    /// not judged again.
    Passphrase(&'a str),
    /// A pairing code from a device already set up ([`pairing_code`]).
    PairingCode(&'a str),
    /// A random key drawn here: for the first device of a folder (or a new key at
    /// [`rekey`]); the others join with its [`pairing_code`].
    RandomKey,
}

impl std::fmt::Debug for SyncSecret<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Passphrase(_) => "Passphrase(…)",
            Self::PairingCode(_) => "PairingCode(…)",
            Self::RandomKey => "RandomKey",
        })
    }
}

/// Whether `passphrase` is strong enough for a new sync key: its estimate
/// (`domain::passphrase`) must reach 10^12 guesses, else [`Error::WeakSyncPassphrase`] says why.
pub fn check_passphrase(passphrase: &str) -> Result<domain::passphrase::Strength> {
    let strength = domain::passphrase::estimate(passphrase);
    match strength.weakness {
        Some(weakness) => Err(Error::WeakSyncPassphrase { weakness, guesses_log10: strength.guesses_log10 }),
        None => Ok(strength),
    }
}

/// A new sync key from `secret` and its key object. A passphrase is checked first, then
/// stretched with `params` (within the strong per-file budget, 256 MiB).
fn new_key(secret: SyncSecret<'_>, params: Argon2Params) -> Result<(Key, KeyObject)> {
    let salt = storage::crypto::random_array::<16>()?;
    let key = match secret {
        SyncSecret::Passphrase(p) => {
            check_passphrase(p)?;
            kdf::argon2id_within(p.as_bytes(), &salt, params, &mut KdfBudget::strong_file())?
        }
        SyncSecret::PairingCode(c) => object::parse_pairing_code(c)?,
        SyncSecret::RandomKey => Key::from_bytes(storage::crypto::random_array::<32>()?),
    };
    let object = KeyObject::new(&key, salt, params)?;
    Ok((key, object))
}

/// The settings kept (sealed) in the vault.
#[derive(Serialize, Deserialize)]
struct Settings {
    url: String,
    user: String,
    password: String,
    #[serde(with = "hex::serde")]
    key: [u8; 32],
    /// A key change begun here and not finished yet ([`rekey`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rekey: Option<PendingRekey>,
}

impl Drop for Settings {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.password);
        zeroize::Zeroize::zeroize(&mut self.key);
    }
}

/// The new key of a key change, kept until the server holds only objects under it.
#[derive(Serialize, Deserialize)]
struct PendingRekey {
    #[serde(with = "hex::serde")]
    key: [u8; 32],
    /// The new key object, as it goes to the server.
    #[serde(with = "hex::serde")]
    key_object: Vec<u8>,
}

impl Drop for PendingRekey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.key);
    }
}

/// A sync client: the one HTTP client, with sync's request timeout. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SyncClient {
    http: net::HttpClient,
    timeout: Duration,
    passphrase_params: Argon2Params,
}

impl SyncClient {
    /// Over its own HTTP client, with [`webdav::REQUEST_TIMEOUT`].
    pub fn new() -> Result<Self> {
        Ok(Self::over(net::HttpClient::new()?))
    }

    /// Over `http` (the app's one client), with [`webdav::REQUEST_TIMEOUT`].
    pub fn over(http: net::HttpClient) -> Self {
        Self { http, timeout: webdav::REQUEST_TIMEOUT, passphrase_params: passphrase_params() }
    }

    /// With another whole-request timeout (tests of slow servers).
    pub fn with_timeout(timeout: Duration) -> Result<Self> {
        Ok(Self { timeout, ..Self::new()? })
    }

    /// With other Argon2id parameters for a *new* passphrase key: tests and benchmarks only,
    /// which set up many folders (weaker parameters than [`passphrase_params`] make a weaker
    /// key; the apps never call this).
    pub fn with_passphrase_params(self, params: Argon2Params) -> Self {
        Self { passphrase_params: params, ..self }
    }

    fn folder(&self, s: &Settings) -> Result<Folder> {
        Folder::new(self.http.clone(), self.timeout, &s.url, &s.user, &s.password)
    }
}

/// Sync's status, for a settings screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatus {
    /// The server folder, when sync is set up.
    pub server: Option<String>,
    /// The user name on the server.
    pub user: Option<String>,
    /// Unix seconds of the last successful round.
    pub last_success: Option<i64>,
    /// Why the last round failed (cleared by a success).
    pub last_error: Option<String>,
    /// Changes made here that no round has put on the server yet.
    pub pending_changes: u64,
    /// The devices syncing through the server, as the last round saw them (this one first,
    /// then the others by id).
    pub devices: Vec<DeviceStatus>,
    /// What looks wrong: a fork or freeze the last round saw, devices not seen for
    /// [`STALE_SECS`]. Empty when all is well.
    pub warnings: Vec<String>,
}

/// One device syncing through the server, for a settings screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceStatus {
    /// Its id (32 hex digits; the first 8 are enough to tell devices apart).
    pub device: String,
    /// Whether it is this device.
    pub this_device: bool,
    /// When it last published its entry (its clock, Unix seconds).
    pub last_seen: i64,
    /// The generation it wrote then.
    pub generation: u64,
    /// Not seen for longer than [`STALE_SECS`].
    pub stale: bool,
}

/// What one round did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncReport {
    /// Records another device published that this device refused (out of range, too long,
    /// unclean names: [`model::check_record`]), each with why. They are never applied here; the
    /// rest of the round went ahead.
    pub refused: Vec<model::Refused>,
    /// Accounts added, changed or removed here.
    pub changed_here: usize,
    /// Whether the round wrote a new state to the server.
    pub uploaded: bool,
    /// The manifest generation now current.
    pub generation: u64,
    /// Accounts removed here because this device was away longer than tombstones are kept
    /// (90 days) and the server no longer carries them: they were removed on other devices.
    pub removed_while_away: usize,
}

/// What this device remembers between rounds (sealed in the vault, opaque to it).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Memory {
    /// A state object the manifest pointed to that the server did not have, reported by the last
    /// round: the next round republishes this device's state in its place.
    #[serde(default)]
    missing: Option<String>,
    /// The newest entry of this device known to have been on the server: a later state
    /// without it means the server showed this device another history (or lost an upload).
    #[serde(default)]
    confirmed: model::Hlc,
    /// The devices' entries in the last state read or written (this device's included).
    #[serde(default)]
    devices: Vec<model::DeviceEntry>,
    /// The fork or freeze the last round saw, if any.
    #[serde(default)]
    fork: Option<String>,
}

/// Checks the devices' entries in a state just read against what this device knows: a state
/// whose entry of this device is older than one this device saw on the server, or than another
/// device noted, is from another history than the one this device wrote to (a fork, or an
/// old state replayed to it). Remembers the entries for [`status`].
fn watch_devices(memory: &mut Memory, remote: &State, me: &str, generation: u64) {
    let ours = remote.device(me).map_or(0, |e| e.hlc);
    let noted = remote.devices.iter().filter(|e| e.device != me).filter_map(|e| e.saw(me)).map(|s| s.hlc);
    let newest_known = noted.chain([memory.confirmed]).max().unwrap_or(0);
    memory.fork = (ours < newest_known).then(|| {
        format!(
            "the server's state (generation {generation}) lacks this device's last upload: another device wrote at the same instant, or the server is showing devices different histories (a fork, or an old state replayed); this device uploaded again"
        )
    });
    memory.confirmed = memory.confirmed.max(ours);
    memory.devices = remote.devices.clone();
}

/// Whether this device's entry, published now, would note a removal another device published
/// that its entry on the server does not note yet (so that tombstones can be compacted).
fn acknowledges(remote: &State, me: &str) -> bool {
    remote.records.values().any(|r| {
        let model::Record::Removed(t) = r else { return false };
        let writer = hex::encode(t.device);
        writer != me
            && remote.device(&writer).is_some_and(|w| w.hlc > t.hlc)
            && remote.device(me).and_then(|e| e.saw(&writer)).is_none_or(|s| s.hlc <= t.hlc)
    })
}

fn memory_of(vault: &impl VaultAccess) -> Result<Memory> {
    let plain = vault.with_vault(|v| v.sync_memory())?;
    // Damaged or from a newer build: start afresh (it holds hints, never data).
    Ok(plain.and_then(|p| serde_json::from_slice(&p).ok()).unwrap_or_default())
}

fn remember(vault: &impl VaultAccess, memory: &Memory) -> Result<()> {
    let json = Zeroizing::new(serde_json::to_vec(memory)?);
    Ok(vault.with_vault(|v| v.set_sync_memory(&json))?)
}

/// Removes the state objects no manifest references (left by rounds that failed between their
/// two PUTs) once older than [`ORPHAN_GRACE_SECS`] by the server's clock. Best effort: a server
/// that cannot list its folder still syncs.
async fn remove_orphans(folder: &Folder, keep: &[&str]) {
    let Ok((objects, server_now)) = folder.list().await else { return };
    let now = server_now.unwrap_or_else(domain::time::now);
    for (name, modified) in objects {
        let old = modified.is_some_and(|m| now - m > ORPHAN_GRACE_SECS);
        if name.starts_with("state-") && !keep.contains(&name.as_str()) && old {
            let _ = folder.delete(&name).await;
        }
    }
}

fn settings_of(vault: &impl VaultAccess) -> Result<Settings> {
    let plain = vault.with_vault(|v| v.sync_settings())?.ok_or(Error::SyncNotSetUp)?;
    serde_json::from_slice(&plain).map_err(|_| Error::Corrupt("the sync settings are damaged".into()))
}

/// Sets sync up on this device: checks the server and the secret (the first device writes the
/// key object, and a new passphrase must pass [`check_passphrase`]; later ones must match it:
/// [`Error::SyncWrongSecret`]), then stores the settings sealed in the vault. The first round is the caller's ([`sync_now`]).
pub async fn setup(
    vault: &impl VaultAccess,
    client: &SyncClient,
    url: &str,
    user: &str,
    password: &str,
    secret: SyncSecret<'_>,
) -> Result<()> {
    let probe = Settings {
        url: url.to_owned(),
        user: user.to_owned(),
        password: password.to_owned(),
        key: [0; 32],
        rekey: None,
    };
    let folder = client.folder(&probe)?;
    let mut key = None;
    for attempt in 0..2 {
        if let Some((bytes, _)) = folder.get(KEY).await? {
            let object = KeyObject::parse(&bytes)?;
            let candidate = match secret {
                SyncSecret::Passphrase(p) => object.derive(p)?,
                SyncSecret::PairingCode(c) => object::parse_pairing_code(c)?,
                SyncSecret::RandomKey => {
                    return Err(Error::InvalidInput(
                        "this folder holds sync data already: join it with its passphrase or pairing code".into(),
                    ));
                }
            };
            object.verify(&candidate)?;
            key = Some(candidate);
            break;
        }
        // The first device: a weak passphrase is refused before anything is written.
        let (candidate, object) = new_key(secret, client.passphrase_params)?;
        if attempt == 0 {
            folder.ensure().await?;
        }
        match folder.put(KEY, object.to_bytes(), &Expect::Absent).await {
            Ok(()) => {
                key = Some(candidate);
                break;
            }
            // Another device created it meanwhile: read theirs.
            Err(Error::SyncConflict) => continue,
            Err(e) => return Err(e),
        }
    }
    let key = key.ok_or(Error::SyncConflict)?;
    let mut settings = probe;
    settings.key = *key.expose();
    let json = Zeroizing::new(serde_json::to_vec(&settings)?);
    Ok(vault.with_vault(|v| v.set_sync_settings(Some(&json)))?)
}

/// Leaves sync: forgets the server, its password and the sync key. Accounts stay.
pub fn leave(vault: &impl VaultAccess) -> Result<()> {
    Ok(vault.with_vault(|v| v.set_sync_settings(None))?)
}

/// The pairing code of this device's sync key, to set up another device without the passphrase.
pub fn pairing_code(vault: &impl VaultAccess) -> Result<Zeroizing<String>> {
    let settings = settings_of(vault)?;
    Ok(object::pairing_code(&Key::from_bytes(settings.key)))
}

/// Sync's status.
pub fn status(vault: &impl VaultAccess) -> Result<SyncStatus> {
    let settings = match settings_of(vault) {
        Ok(s) => Some(s),
        Err(Error::SyncNotSetUp) => None,
        Err(e) => return Err(e),
    };
    let (progress, pending) = vault.with_vault(|v| Ok::<_, Error>((v.sync_progress()?, v.pending_sync_changes()?)))?;
    let memory = if settings.is_some() { memory_of(vault)? } else { Memory::default() };
    let me = hex::encode(vault.with_vault(|v| v.sync_device())?);
    let now = domain::time::now();
    // This device first, then the others by id.
    let (mine, others): (Vec<_>, Vec<_>) = memory.devices.iter().partition(|e| e.device == me);
    let devices: Vec<DeviceStatus> = mine
        .into_iter()
        .chain(others)
        .map(|e| DeviceStatus {
            this_device: e.device == me,
            device: e.device.clone(),
            last_seen: e.at,
            generation: e.generation,
            stale: e.device != me && now - e.at > STALE_SECS,
        })
        .collect();
    let mut warnings: Vec<String> = memory.fork.into_iter().collect();
    for d in devices.iter().filter(|d| d.stale) {
        warnings.push(format!(
            "device {} has not synced for {} days (last seen {}): it is off or offline, or the server is showing it (or this device) an old state",
            &d.device[..8],
            (now - d.last_seen) / 86_400,
            domain::time::iso8601_utc(d.last_seen)
        ));
    }
    Ok(SyncStatus {
        devices,
        warnings,
        server: settings.as_ref().map(|s| s.url.clone()),
        user: settings.as_ref().map(|s| s.user.clone()),
        last_success: progress.last_success,
        last_error: progress.last_error,
        pending_changes: pending,
    })
}

/// One sync round: read the server's state, merge this device's into it, write the result
/// (a new state object, then the manifest switched with `If-Match`), then merge it here. On any
/// error the local accounts are unchanged; the outcome is recorded for [`status`].
pub async fn sync_now(vault: &impl VaultAccess, client: &SyncClient) -> Result<SyncReport> {
    let result = async {
        // A key change interrupted here (a crash, the network) is finished first.
        finish_rekey(vault, client).await?;
        round(vault, client).await
    }
    .await;
    let recorded = match &result {
        Ok(report) => vault.with_vault(|v| v.set_sync_progress(Ok(report.generation))),
        Err(Error::SyncNotSetUp) => Ok(()),
        Err(e) => vault.with_vault(|v| v.set_sync_progress(Err(&e.to_string()))),
    };
    let report = result?;
    recorded?;
    Ok(report)
}

/// What a round does with the server's state, decided without I/O (kept out of the async
/// round, whose every local costs the phones' library bytes at each await).
struct Plan {
    /// Records from other devices refused, with why.
    refused: Vec<model::Refused>,
    /// The merge to apply here.
    merged: State,
    /// The state to upload and this device's entry in it; None when nothing needs uploading.
    upload: Option<(State, model::DeviceEntry)>,
    /// Tombstones to forget here (compacted on the server, or by this upload).
    compacted: Vec<String>,
    /// Accounts to remove here: removed elsewhere while this device was away.
    removed_while_away: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn plan(
    raw: &State,
    local: &mut storage::vault::SyncSnapshot,
    memory: &mut Memory,
    me: &str,
    generation: u64,
    has_manifest: bool,
    last_success: Option<i64>,
) -> Plan {
    let republish = has_manifest && *raw == State::default() && generation > 0;
    let (now_ms, now) = (now_ms(), domain::time::now());
    // Every record from another device is checked as an import is; a bad one is refused
    // alone. Refused records of accounts this device does not have stay on the server as
    // they are (never applied here); for one it has, its own record replaces the bad one.
    let (remote, refused, aside) = raw.clone().screen(now_ms);
    watch_devices(memory, &remote, me, generation);
    // Removals the server no longer carries were compacted (every device had seen them, or
    // older than model::MAX_AGE_MS): forget them here too, unless made here and not yet
    // read back from the server.
    // The records here, removals or live ones, that the server no longer carries and that do
    // not wait here to be uploaded.
    let gone_from_server = |removals: bool| -> Vec<String> {
        if !has_manifest || republish {
            return Vec::new();
        }
        let records = local.state.records.iter();
        records
            .filter(|(uid, r)| {
                matches!(r, model::Record::Removed(_)) == removals
                    && !remote.records.contains_key(*uid)
                    && !local.pending.contains(*uid)
            })
            .map(|(uid, _)| uid.clone())
            .collect()
    };
    let compacted_elsewhere = gone_from_server(true);
    // A device away longer than tombstones are kept may have missed removals whose
    // tombstones are gone: an account it had synced that the server no longer carries was
    // removed elsewhere, and goes here too (reported), instead of coming back.
    // (A last success in the future, after the clock went back, is not an absence.)
    let away = last_success.is_some_and(|t| now.saturating_sub(t) > (model::MAX_AGE_MS / 1000) as i64);
    let removed_while_away = if away { gone_from_server(false) } else { Vec::new() };
    if !compacted_elsewhere.is_empty() || !removed_while_away.is_empty() {
        for (uid, r) in std::mem::take(&mut local.state.records) {
            if !compacted_elsewhere.contains(&uid) && !removed_while_away.contains(&uid) {
                local.state.records.insert(uid, r);
            }
        }
    }
    let merged = remote.merge(&local.state);
    let mut upload = merged.clone();
    for (uid, record) in aside {
        upload.records.entry(uid).or_insert(record);
    }
    let ours = remote.device(me);
    let heartbeat = ours.is_none_or(|e| e.at + HEARTBEAT_SECS < now || e.hlc < memory.confirmed);
    if upload == *raw && !heartbeat && !acknowledges(&remote, me) {
        return Plan { refused, merged, upload: None, compacted: compacted_elsewhere, removed_while_away };
    }
    // This device's entry: when it synced, and the other devices' entries it saw.
    let clock =
        [merged.max_hlc(), memory.confirmed].into_iter().chain(merged.devices.iter().map(|e| e.hlc)).max().unwrap_or(0);
    let entry = model::DeviceEntry {
        device: me.to_owned(),
        hlc: model::hlc_next(clock, now_ms),
        at: now,
        generation: generation + 1,
        seen: remote
            .devices
            .iter()
            .filter(|e| e.device != me)
            .map(|e| model::Seen { device: e.device.clone(), hlc: e.hlc, generation: e.generation, at: now })
            .collect(),
    };
    upload.put_device(entry.clone());
    let tombstones = |s: &State| -> Vec<String> {
        s.records.iter().filter(|(_, r)| matches!(r, model::Record::Removed(_))).map(|(u, _)| u.clone()).collect()
    };
    let before = tombstones(&upload);
    upload.compact(now_ms, me);
    let compacted: Vec<String> =
        before.into_iter().filter(|u| !upload.records.contains_key(u)).chain(compacted_elsewhere).collect();
    Plan { refused, merged, upload: Some((upload, entry)), compacted, removed_while_away }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

async fn round(vault: &impl VaultAccess, client: &SyncClient) -> Result<SyncReport> {
    let settings = settings_of(vault)?;
    let key = Key::from_bytes(settings.key);
    let folder = client.folder(&settings)?;
    let seen = vault.with_vault(|v| v.sync_progress())?.generation;
    let mut attempt = 0;
    while attempt < ATTEMPTS {
        attempt += 1;
        let local = vault.with_vault(|v| v.sync_state())?;
        let (manifest, etag) = match folder.get(MANIFEST).await? {
            // Apache gives a weak ETag for a second after a write, and refuses If-Match on it
            // (RFC 9110 compares If-Match strongly): wait it out, then read again.
            Some((_, Some(etag))) if etag.starts_with("W/") && attempt < ATTEMPTS => {
                tokio::time::sleep(WEAK_ETAG_WAIT).await;
                continue;
            }
            Some((bytes, etag)) => (Some(open_manifest(&folder, &key, &bytes).await?), etag),
            None if seen > 0 => return Err(Error::SyncTampered("the sync data is gone from the server")),
            None => (None, None),
        };
        let raw = match &manifest {
            Some(m) if m.generation < seen => {
                return Err(Error::SyncTampered("the server returned an older manifest than already seen"));
            }
            Some(m) => match folder.get(&m.state).await? {
                Some((bytes, _)) => object::open_state(&key, &m.state, m.generation, &bytes)?,
                None => {
                    // Switched and cleaned up by another device between our two reads: read again.
                    let again = folder.get(MANIFEST).await?;
                    if !matches!(&again, Some((bytes, _)) if Manifest::open(&key, bytes).ok().as_ref() == Some(m)) {
                        continue;
                    }
                    // The manifest still points to it: the server lost it. Say so once; the
                    // next round republishes this device's state in its place.
                    let mut memory = memory_of(vault)?;
                    if memory.missing.as_deref() != Some(m.state.as_str()) {
                        memory.missing = Some(m.state.clone());
                        remember(vault, &memory)?;
                        return Err(Error::SyncStateMissing { object: m.state.clone() });
                    }
                    State::default()
                }
            },
            None => State::default(),
        };
        let generation = manifest.as_ref().map_or(0, |m| m.generation);
        let me = hex::encode(vault.with_vault(|v| v.sync_device())?);
        let last_success = vault.with_vault(|v| v.sync_progress())?.last_success;
        let mut memory = memory_of(vault)?;
        let mut local = local;
        let Plan { refused, merged, upload, compacted, removed_while_away } =
            plan(&raw, &mut local, &mut memory, &me, generation, manifest.is_some(), last_success);
        let Some((upload, entry)) = upload else {
            let changed_here = vault.with_vault(|v| {
                v.forget_tombstones(&compacted)?;
                let gone = v.forget_synced_accounts(&removed_while_away)?;
                Ok::<_, Error>(gone + v.apply_sync_state(&merged, Some(local.through))?)
            })?;
            remember(vault, &memory)?;
            let removed_while_away = removed_while_away.len();
            return Ok(SyncReport { refused, changed_here, uploaded: false, generation, removed_while_away });
        };
        let next = Manifest {
            generation: generation + 1,
            state: object::state_name(generation + 1)?,
            previous: manifest.as_ref().map(|m| m.state.clone()),
        };
        folder
            .put(&next.state, object::seal_state(&key, &next.state, next.generation, &upload)?, &Expect::Absent)
            .await?;
        let expect = match (&manifest, etag) {
            (None, _) => Expect::Absent,
            (Some(_), Some(etag)) => Expect::Unchanged(etag),
            (Some(_), None) => return Err(Error::Protocol("the sync server gives no ETag".into())),
        };
        match folder.put(MANIFEST, next.seal(&key)?, &expect).await {
            Ok(()) => {}
            Err(Error::SyncConflict) => {
                let _ = folder.delete(&next.state).await;
                // Another device switched first: back off a random moment, then merge theirs.
                let jitter = u64::from(storage::crypto::random_array::<1>()?[0]);
                tokio::time::sleep(Duration::from_millis(100 + 2 * jitter)).await;
                continue;
            }
            Err(e) => {
                let _ = folder.delete(&next.state).await;
                return Err(e);
            }
        }
        // Apache's mod_dav_fs checks If-Match and writes without a lock: two PUTs racing can
        // both succeed, the later replacing the earlier. Read the manifest back: if another
        // device's replaced ours, merge again from theirs.
        match folder.get(MANIFEST).await? {
            Some((bytes, _)) if Manifest::open(&key, &bytes)?.state == next.state => {}
            _ => {
                let _ = folder.delete(&next.state).await;
                continue;
            }
        }
        // The state before the one just replaced is no longer referenced by anyone.
        if let Some(old) = manifest.as_ref().and_then(|m| m.previous.as_deref()) {
            let _ = folder.delete(old).await;
        }
        let replaced = next.previous.as_deref().unwrap_or_default();
        remove_orphans(&folder, &[next.state.as_str(), replaced]).await;
        memory.missing = None;
        memory.confirmed = memory.confirmed.max(entry.hlc);
        memory.devices = upload.devices.clone();
        remember(vault, &memory)?;
        // This device's changes stay pending until a round reads them back from the server:
        // two conditional PUTs racing on one server (Apache's mod_dav_fs checks If-Match and
        // writes without a lock) can both succeed, the later one replacing the earlier. Marked
        // synced only once seen there, a change lost that way is simply uploaded again.
        let changed_here = vault.with_vault(|v| {
            let gone = v.forget_synced_accounts(&removed_while_away)?;
            let changed = v.apply_sync_state(&merged, None)?;
            v.forget_tombstones(&compacted)?;
            Ok::<_, Error>(gone + changed)
        })?;
        let removed_while_away = removed_while_away.len();
        return Ok(SyncReport {
            refused,
            changed_here,
            uploaded: true,
            generation: next.generation,
            removed_while_away,
        });
    }
    Err(Error::SyncConflict)
}

/// Opens the manifest; when it does not open, tells a changed sync key (the key object is
/// intact but no longer made for this device's key: [`Error::SyncKeyChanged`]) from tampering.
async fn open_manifest(folder: &Folder, key: &Key, bytes: &[u8]) -> Result<Manifest> {
    let error = match Manifest::open(key, bytes) {
        Ok(manifest) => return Ok(manifest),
        Err(e) => e,
    };
    match folder.get(KEY).await {
        Ok(Some((object, _))) if KeyObject::parse(&object).is_ok_and(|o| o.verify(key).is_err()) => {
            Err(Error::SyncKeyChanged)
        }
        _ => Err(error),
    }
}

/// Changes the sync key, after a device was lost: a new passphrase (which must pass
/// [`check_passphrase`]) or a random key ([`SyncSecret::RandomKey`]; show its [`pairing_code`]).
///
/// First a round under the old key, so that nothing another device published is left behind;
/// then the new key object, a new state of every account sealed under the new key and a
/// manifest pointing at it replace the old ones, and every state object sealed under the old
/// key is deleted. Devices still holding the old key get [`Error::SyncKeyChanged`] at their next
/// round and must set up again; their own changes then merge in. The new key is kept in the
/// vault before the server is touched, so an interrupted change is finished by the next
/// [`sync_now`] (or `rekey`). A pairing code is not a new key: refused.
pub async fn rekey(vault: &impl VaultAccess, client: &SyncClient, secret: SyncSecret<'_>) -> Result<SyncReport> {
    if matches!(secret, SyncSecret::PairingCode(_)) {
        return Err(Error::InvalidInput(
            "a new sync key is a new passphrase or a random key, not a pairing code".into(),
        ));
    }
    // Refuse a weak passphrase before any round or derivation.
    if let SyncSecret::Passphrase(p) = secret {
        check_passphrase(p)?;
    }
    sync_now(vault, client).await?;
    let (key, object) = new_key(secret, client.passphrase_params)?;
    let mut settings = settings_of(vault)?;
    settings.rekey = Some(PendingRekey { key: *key.expose(), key_object: object.to_bytes() });
    let json = Zeroizing::new(serde_json::to_vec(&settings)?);
    vault.with_vault(|v| v.set_sync_settings(Some(&json)))?;
    sync_now(vault, client).await
}

/// Finishes the key change kept in the settings, if any (idempotent: each step checks what the
/// server holds already). Then the settings hold only the new key.
async fn finish_rekey(vault: &impl VaultAccess, client: &SyncClient) -> Result<()> {
    let mut settings = settings_of(vault)?;
    let Some(pending) = settings.rekey.take() else { return Ok(()) };
    let (old, new) = (Key::from_bytes(settings.key), Key::from_bytes(pending.key));
    let folder = client.folder(&settings)?;

    // 1. The key object: replaced with If-Match, unless it is the new one already.
    let mut attempt = 0;
    loop {
        attempt += 1;
        if attempt > ATTEMPTS {
            return Err(Error::SyncConflict);
        }
        let Some((bytes, etag)) = folder.get(KEY).await? else {
            return Err(Error::SyncTampered("the sync data is gone from the server"));
        };
        let current = KeyObject::parse(&bytes)?;
        if current.verify(&new).is_ok() {
            break;
        }
        if current.verify(&old).is_err() {
            // Another device changed the key meanwhile: this change is void.
            let json = Zeroizing::new(serde_json::to_vec(&settings)?);
            vault.with_vault(|v| v.set_sync_settings(Some(&json)))?;
            return Err(Error::SyncKeyChanged);
        }
        match etag {
            Some(etag) if !etag.starts_with("W/") => {
                match folder.put(KEY, pending.key_object.clone(), &Expect::Unchanged(etag)).await {
                    Ok(()) | Err(Error::SyncConflict) => continue,
                    Err(e) => return Err(e),
                }
            }
            Some(_) => tokio::time::sleep(WEAK_ETAG_WAIT).await,
            None => return Err(Error::Protocol("the sync server gives no ETag".into())),
        }
    }

    // 2. The manifest and the state it names, under the new key: the server's state (under the
    //    old key) merged with this device's, as a new generation.
    let mut current = None;
    for _ in 0..ATTEMPTS {
        let local = vault.with_vault(|v| v.sync_state())?;
        let (remote, generation, etag) = match folder.get(MANIFEST).await? {
            Some((_, Some(etag))) if etag.starts_with("W/") => {
                tokio::time::sleep(WEAK_ETAG_WAIT).await;
                continue;
            }
            Some((bytes, etag)) => {
                if let Ok(done) = Manifest::open(&new, &bytes) {
                    current = Some(done);
                    break;
                }
                let m = Manifest::open(&old, &bytes)?;
                let Some((state, _)) = folder.get(&m.state).await? else { continue };
                (object::open_state(&old, &m.state, m.generation, &state)?, m.generation, etag)
            }
            None => (State::default(), 0, None),
        };
        let next = Manifest { generation: generation + 1, state: object::state_name(generation + 1)?, previous: None };
        let merged = remote.merge(&local.state);
        folder
            .put(&next.state, object::seal_state(&new, &next.state, next.generation, &merged)?, &Expect::Absent)
            .await?;
        let expect = etag.map_or(Expect::Absent, Expect::Unchanged);
        match folder.put(MANIFEST, next.seal(&new)?, &expect).await {
            Ok(()) => {}
            Err(Error::SyncConflict) => {
                let _ = folder.delete(&next.state).await;
                continue;
            }
            Err(e) => {
                let _ = folder.delete(&next.state).await;
                return Err(e);
            }
        }
        // Read back (Apache's If-Match races, as in a round).
        match folder.get(MANIFEST).await? {
            Some((bytes, _)) if Manifest::open(&new, &bytes).is_ok_and(|m| m.state == next.state) => {
                current = Some(next);
                break;
            }
            _ => {
                let _ = folder.delete(&next.state).await;
            }
        }
    }
    let current = current.ok_or(Error::SyncConflict)?;

    // 3. This device keeps only the new key.
    settings.key = pending.key;
    let json = Zeroizing::new(serde_json::to_vec(&settings)?);
    vault.with_vault(|v| v.set_sync_settings(Some(&json)))?;

    // 4. Every state object of an older generation (all under the old key) goes.
    for (name, _) in folder.list().await?.0 {
        let keep = name == current.state || current.previous.as_deref() == Some(name.as_str());
        if !keep && object::state_generation(&name).is_some_and(|g| g <= current.generation) {
            folder.delete(&name).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::SyncSecret;

    #[test]
    fn a_sync_secret_debugs_as_its_kind_never_its_text() {
        let shown = format!(
            "{:?} {:?} {:?}",
            SyncSecret::Passphrase("tulip kettle orbit marble"),
            SyncSecret::PairingCode("AB12-CD34"),
            SyncSecret::RandomKey
        );
        assert_eq!(shown, "Passphrase(…) PairingCode(…) RandomKey");
    }
}
