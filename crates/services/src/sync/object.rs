//! The objects a sync server stores, and how they are sealed.
//!
//! Layout in the folder the user names (every object `magic ‖ body`):
//! - `key`: `AUTHSYNC1K ‖ salt (16) ‖ Argon2id memory KiB, passes, lanes (u32 LE each) ‖
//!   check`, where `check` is a fixed text sealed under the sync key. Public parameters only:
//!   it lets a joining device derive the key from the passphrase and tell a wrong passphrase
//!   (or pairing code) at setup. Written once, with `If-None-Match: *`.
//! - `manifest`: `AUTHSYNC1M ‖ sealed {generation, state, previous}`: the pointer to the current
//!   state object. Replaced only with `If-Match` on the ETag read, so two devices never overwrite
//!   each other; a device refuses a manifest whose generation is below the one it last saw (a
//!   replayed or rolled-back manifest).
//! - `state-<generation>-<random>`: `AUTHSYNC1S ‖ sealed state`, the whole replicated state
//!   (every account with its secret, names and stamps, and tombstones) as JSON. Written under a
//!   new name with `If-None-Match: *` before the manifest switches to it, so an interrupted
//!   upload leaves at most an unreferenced object and never a damaged current state. The state
//!   object before the previous one is deleted after a switch.
//!
//! Sealing is AES-256-GCM (`crypto::Sealer`) under the sync key, with associated data naming
//! the object (`authsync:v1:manifest`, `authsync:v1:state:<name>:<generation>`): an object
//! modified, moved under another name or generation, or from another sync key, does not open.
//! The server sees the number of objects, their sizes and when they change; nothing else.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::model::State;
use crate::error::{Error, Result};
use storage::crypto::kdf::{self, Argon2Params, KdfBudget};
use storage::crypto::{Key, Sealer};

/// Name of the key object.
pub const KEY: &str = "key";
/// Name of the manifest.
pub const MANIFEST: &str = "manifest";

const KEY_MAGIC: &[u8] = b"AUTHSYNC1K";
const MANIFEST_MAGIC: &[u8] = b"AUTHSYNC1M";
const STATE_MAGIC: &[u8] = b"AUTHSYNC1S";
const CHECK: &[u8] = b"authenticator sync key check v1";
const SALT_LEN: usize = 16;

/// The key object: how to derive the sync key from a passphrase, and a check of the key.
#[derive(Debug, Clone)]
pub struct KeyObject {
    salt: [u8; SALT_LEN],
    params: Argon2Params,
    check: Vec<u8>,
}

impl KeyObject {
    /// A new key object for `key`, with the salt and parameters it was derived with.
    pub fn new(key: &Key, salt: [u8; SALT_LEN], params: Argon2Params) -> Result<Self> {
        Ok(Self { salt, params, check: Sealer::new(key).seal(CHECK, b"authsync:v1:key")? })
    }

    /// Parses the bytes a server returned.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let bad = || Error::SyncTampered("the key object is malformed");
        let rest = bytes.strip_prefix(KEY_MAGIC).ok_or_else(bad)?;
        let (salt, rest) = rest.split_first_chunk::<SALT_LEN>().ok_or_else(bad)?;
        let word = |rest: &mut &[u8]| -> Result<u32> {
            let (w, tail) = rest.split_first_chunk::<4>().ok_or_else(bad)?;
            *rest = tail;
            Ok(u32::from_le_bytes(*w))
        };
        let mut rest = rest;
        let params =
            Argon2Params { memory_kib: word(&mut rest)?, iterations: word(&mut rest)?, parallelism: word(&mut rest)? };
        Ok(Self { salt: *salt, params, check: rest.to_vec() })
    }

    /// The Argon2id parameters a passphrase is stretched with.
    pub fn params(&self) -> Argon2Params {
        self.params
    }

    /// The bytes to store.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = KEY_MAGIC.to_vec();
        out.extend_from_slice(&self.salt);
        for w in [self.params.memory_kib, self.params.iterations, self.params.parallelism] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.check);
        out
    }

    /// The sync key from `passphrase` (Argon2id with this object's salt and parameters, within
    /// the strong per-file key-derivation budget, 256 MiB and 3.5 s: a server cannot make a
    /// device derive for long; the sync key's own cost, 256 MiB × 4 passes, fits).
    pub fn derive(&self, passphrase: &str) -> Result<Key> {
        Ok(kdf::argon2id_within(passphrase.as_bytes(), &self.salt, self.params, &mut KdfBudget::strong_file())?)
    }

    /// Whether `key` is the key this object was made for.
    pub fn verify(&self, key: &Key) -> Result<()> {
        match Sealer::new(key).open(&self.check, b"authsync:v1:key") {
            Some(plain) if plain.as_slice() == CHECK => Ok(()),
            _ => Err(Error::SyncWrongSecret),
        }
    }
}

/// The manifest: which state object is current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Grows by one with every switch.
    pub generation: u64,
    /// Name of the current state object.
    pub state: String,
    /// Name of the state object it replaced, if any (deleted at the next switch).
    pub previous: Option<String>,
}

impl Manifest {
    /// Seals the manifest.
    pub fn seal(&self, key: &Key) -> Result<Vec<u8>> {
        let plain = Zeroizing::new(serde_json::to_vec(self)?);
        framed(MANIFEST_MAGIC, Sealer::new(key).seal(&plain, b"authsync:v1:manifest")?)
    }

    /// Opens a sealed manifest.
    pub fn open(key: &Key, bytes: &[u8]) -> Result<Self> {
        let sealed = bytes.strip_prefix(MANIFEST_MAGIC).ok_or(Error::SyncTampered("the manifest is malformed"))?;
        let plain = Sealer::new(key)
            .open(sealed, b"authsync:v1:manifest")
            .ok_or(Error::SyncTampered("the manifest does not open: modified, or from another sync key"))?;
        let manifest: Self =
            serde_json::from_slice(&plain).map_err(|_| Error::SyncTampered("the manifest is malformed"))?;
        if !valid_state_name(&manifest.state) || manifest.previous.as_deref().is_some_and(|p| !valid_state_name(p)) {
            return Err(Error::SyncTampered("the manifest names an invalid object"));
        }
        Ok(manifest)
    }
}

/// A fresh, unique name for the state object of `generation`.
pub fn state_name(generation: u64) -> Result<String> {
    Ok(format!("state-{generation}-{}", hex::encode(storage::crypto::random_array::<8>()?)))
}

/// The generation a state object's name gives (`state-<generation>-<random>`), if it is one.
pub fn state_generation(name: &str) -> Option<u64> {
    let rest = name.strip_prefix("state-").filter(|_| valid_state_name(name))?;
    rest.split('-').next()?.parse().ok()
}

fn valid_state_name(name: &str) -> bool {
    name.strip_prefix("state-").is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

fn state_aad(name: &str, generation: u64) -> Vec<u8> {
    format!("authsync:v1:state:{name}:{generation}").into_bytes()
}

/// Seals `state` as the object `name` of `generation`.
pub fn seal_state(key: &Key, name: &str, generation: u64, state: &State) -> Result<Vec<u8>> {
    let plain = Zeroizing::new(serde_json::to_vec(state)?);
    framed(STATE_MAGIC, Sealer::new(key).seal(&plain, &state_aad(name, generation))?)
}

/// Opens the state object `name` of `generation`.
pub fn open_state(key: &Key, name: &str, generation: u64, bytes: &[u8]) -> Result<State> {
    let sealed = bytes.strip_prefix(STATE_MAGIC).ok_or(Error::SyncTampered("a state object is malformed"))?;
    let plain = Sealer::new(key)
        .open(sealed, &state_aad(name, generation))
        .ok_or(Error::SyncTampered("a state object does not open: modified, moved or replayed"))?;
    serde_json::from_slice(&plain).map_err(|_| Error::SyncTampered("a state object is malformed"))
}

fn framed(magic: &[u8], sealed: Vec<u8>) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(magic.len() + sealed.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// A pairing code: the sync key in base32, in groups of four (`ABCD-EFGH-…`, 52 characters).
pub fn pairing_code(key: &Key) -> Zeroizing<String> {
    let text = domain::codec::base32::encode(key.expose(), false);
    let groups: Vec<&str> = text.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    Zeroizing::new(groups.join("-"))
}

/// The sync key from a pairing code (dashes, spaces and case ignored).
pub fn parse_pairing_code(code: &str) -> Result<Key> {
    let clean: Zeroizing<String> =
        Zeroizing::new(code.chars().filter(|c| !matches!(c, '-' | ' ')).collect::<String>().to_ascii_uppercase());
    let bytes = domain::codec::base32::decode(&clean).map_err(|_| Error::SyncWrongSecret)?;
    Key::from_slice(&bytes).map_err(|_| Error::SyncWrongSecret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::sync::{Record, Stamp};

    fn state() -> State {
        let mut s = State::default();
        s.records.insert("00".repeat(16), Record::Removed(Stamp { hlc: 7, device: [1; 16] }));
        s
    }

    #[test]
    fn a_state_object_opens_only_under_its_own_name_generation_and_key() {
        let key = Key::from_bytes([5; 32]);
        let sealed = seal_state(&key, "state-3-aa", 3, &state()).unwrap();
        assert_eq!(open_state(&key, "state-3-aa", 3, &sealed).unwrap(), state());
        assert!(matches!(open_state(&key, "state-3-bb", 3, &sealed), Err(Error::SyncTampered(_))));
        assert!(matches!(open_state(&key, "state-3-aa", 2, &sealed), Err(Error::SyncTampered(_))));
        assert!(matches!(open_state(&Key::from_bytes([6; 32]), "state-3-aa", 3, &sealed), Err(Error::SyncTampered(_))));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(matches!(open_state(&key, "state-3-aa", 3, &flipped), Err(Error::SyncTampered(_))));
        assert!(!sealed.windows(4).any(|w| w == b"0000"), "the state is sealed, not in clear");
    }

    #[test]
    fn the_manifest_round_trips_and_refuses_tampering_and_odd_names() {
        let key = Key::from_bytes([5; 32]);
        let m = Manifest { generation: 4, state: "state-4-ab".into(), previous: Some("state-3-cd".into()) };
        let sealed = m.seal(&key).unwrap();
        assert_eq!(Manifest::open(&key, &sealed).unwrap(), m);
        let mut flipped = sealed.clone();
        flipped[MANIFEST_MAGIC.len() + 13] ^= 1;
        assert!(matches!(Manifest::open(&key, &flipped), Err(Error::SyncTampered(_))));
        let evil = Manifest { generation: 4, state: "../key".into(), previous: None }.seal(&key).unwrap();
        assert!(matches!(Manifest::open(&key, &evil), Err(Error::SyncTampered(_))));
    }

    #[test]
    fn the_key_object_tells_the_right_passphrase_from_a_wrong_one() {
        let params = Argon2Params { memory_kib: 1024, iterations: 1, parallelism: 1 };
        let salt = [9; SALT_LEN];
        let key = kdf::argon2id(b"correct horse", &salt, params).unwrap();
        let object = KeyObject::parse(&KeyObject::new(&key, salt, params).unwrap().to_bytes()).unwrap();
        object.verify(&object.derive("correct horse").unwrap()).unwrap();
        assert!(matches!(object.verify(&object.derive("wrong").unwrap()), Err(Error::SyncWrongSecret)));
        assert!(matches!(KeyObject::parse(b"AUTHSYNC1K short"), Err(Error::SyncTampered(_))));
        let greedy =
            KeyObject { params: Argon2Params { memory_kib: 1 << 20, iterations: 64, parallelism: 1 }, ..object };
        assert!(matches!(greedy.derive("x"), Err(Error::Storage(storage::Error::TooCostly { .. }))));
    }

    #[test]
    fn pairing_codes_round_trip_and_wrong_ones_are_refused() {
        let key = Key::from_bytes([0xA5; 32]);
        let code = pairing_code(&key);
        assert_eq!(code.len(), 52 + 12);
        assert_eq!(parse_pairing_code(&code.to_lowercase()).unwrap().expose(), key.expose());
        assert!(matches!(parse_pairing_code("ABCD-EFGH"), Err(Error::SyncWrongSecret)));
        assert!(matches!(parse_pairing_code("not base32 !"), Err(Error::SyncWrongSecret)));
    }
}
