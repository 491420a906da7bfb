//! Sync's domain: hybrid logical clocks, the replicated state of the accounts, and its merge.
//!
//! The state is a CRDT (a join-semilattice): [`State::merge`] is commutative, associative and
//! idempotent, so devices that exchange states in any order, any number of times, end with the
//! same accounts. Per account (keyed by its stable 16-byte uid):
//! - the code parameters and secret never change after creation (an edit is a new account);
//! - issuer, label, group and list position are last-writer-wins registers, each with the
//!   [`Stamp`] of its last write: the larger hybrid logical clock wins, then the larger device id
//!   (and, for two writes with one stamp, which never happens, the larger value);
//! - the HOTP counter merges by maximum, so a code handed out on one device is never handed out
//!   again on another;
//! - a removal is a tombstone that wins over everything: a rename on one device and a removal on
//!   the other give a removed account, whatever their order in time (an account is never brought
//!   back by an edit made before its removal was known). The tombstone keeps no name or secret.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Length of a device id and of an account uid, in bytes.
pub const ID_LEN: usize = 16;

/// A hybrid logical clock reading: Unix milliseconds in the upper 48 bits, a counter in the lower
/// 16, so readings follow wall-clock time yet always grow, even when the clock goes back.
pub type Hlc = u64;

/// The next reading after `last`, at wall-clock `now_ms` (Unix milliseconds).
pub fn hlc_next(last: Hlc, now_ms: u64) -> Hlc {
    (now_ms << 16).max(last.saturating_add(1))
}

/// Who wrote a value and when: ordered by clock, then device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    /// The writer's clock reading.
    pub hlc: Hlc,
    /// The writer's device id.
    #[serde(with = "hex::serde")]
    pub device: [u8; ID_LEN],
}

/// A last-writer-wins register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lww<T> {
    /// The value.
    pub value: T,
    /// Its write.
    pub stamp: Stamp,
}

impl<T: Ord + Clone> Lww<T> {
    /// A register written at `stamp`.
    pub fn new(value: T, stamp: Stamp) -> Self {
        Self { value, stamp }
    }

    fn merge(&self, other: &Self) -> Self {
        if (other.stamp, &other.value) > (self.stamp, &self.value) { other.clone() } else { self.clone() }
    }
}

/// What never changes after an account is made: its code parameters and secret.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    /// `totp`, `hotp` or `steam`.
    pub kind: String,
    /// `SHA1`, `SHA256` or `SHA512`.
    pub algorithm: String,
    /// Code length.
    pub digits: u8,
    /// Seconds per code.
    pub period: u32,
    /// The shared secret (wiped on drop; `Debug` hides it).
    #[serde(with = "hex::serde")]
    pub secret: Vec<u8>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// A live account's replicated fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fields {
    /// Parameters and secret, stamped with the creation.
    pub entry: Lww<Entry>,
    /// Service name.
    pub issuer: Lww<String>,
    /// Account name.
    pub label: Lww<String>,
    /// Folder, if any.
    pub group: Lww<Option<String>>,
    /// Position in the list (ties sort by uid).
    pub order: Lww<i64>,
    /// HOTP counter of the next code (0 for time-based kinds); merges by maximum.
    pub counter: u64,
}

impl Fields {
    fn merge(&self, other: &Self) -> Self {
        Self {
            entry: self.entry.merge(&other.entry),
            issuer: self.issuer.merge(&other.issuer),
            label: self.label.merge(&other.label),
            group: self.group.merge(&other.group),
            order: self.order.merge(&other.order),
            counter: self.counter.max(other.counter),
        }
    }

    /// The largest stamp among the fields.
    pub fn latest(&self) -> Stamp {
        [self.entry.stamp, self.issuer.stamp, self.label.stamp, self.group.stamp, self.order.stamp]
            .into_iter()
            .max()
            .expect("five stamps")
    }
}

/// One account in the replicated state: live, or a tombstone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// A live account.
    Live(Box<Fields>),
    /// A removed account: the removal's stamp (the largest, when removed on several devices).
    Removed(Stamp),
}

impl Record {
    /// The join of two records of one account.
    pub fn merge(&self, other: &Self) -> Self {
        match (self, other) {
            (Record::Live(a), Record::Live(b)) => Record::Live(Box::new(a.merge(b))),
            (Record::Removed(a), Record::Removed(b)) => Record::Removed(*a.max(b)),
            (Record::Removed(s), Record::Live(_)) | (Record::Live(_), Record::Removed(s)) => Record::Removed(*s),
        }
    }

    /// The largest stamp the record holds.
    pub fn latest(&self) -> Stamp {
        match self {
            Record::Live(f) => f.latest(),
            Record::Removed(s) => *s,
        }
    }
}

/// Longest issuer, label or group a record from another device may carry, in characters.
pub const MAX_NAME_CHARS: usize = 512;
/// How far ahead of this device's clock a record's clock reading may be (7 days, in ms): a
/// stamp further ahead would win every later edit for as long.
pub const MAX_CLOCK_AHEAD_MS: u64 = 7 * 24 * 3600 * 1000;

/// Why a record from another device is refused: checked as an import checks an account (code
/// parameters in range, secret length, names cleaned and bounded), plus the uid and clocks.
/// Never names or carries the record's values.
pub fn check_record(uid: &str, record: &Record, now_ms: u64) -> Result<(), &'static str> {
    if uid.len() != 2 * ID_LEN || !uid.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err("its id is not 32 lowercase hex digits");
    }
    let latest_allowed =
        ((now_ms.saturating_add(MAX_CLOCK_AHEAD_MS).min(u64::MAX >> 16) << 16) | 0xFFFF).min(i64::MAX as u64);
    if record.latest().hlc > latest_allowed {
        return Err("its clock is more than 7 days ahead of this device's");
    }
    let Record::Live(f) = record else { return Ok(()) };
    let e = &f.entry.value;
    let kind: crate::OtpKind = e.kind.parse().map_err(|_| "its code kind is unknown")?;
    let algorithm: crate::Algorithm = e.algorithm.parse().map_err(|_| "its algorithm is unknown")?;
    if !crate::otp::DIGITS_RANGE.contains(&e.digits) {
        return Err("its number of digits is out of range (4 to 10)");
    }
    if !crate::otp::PERIOD_RANGE.contains(&e.period) {
        return Err("its period is out of range (1 to 3600 s)");
    }
    if f.counter > i64::MAX as u64 {
        return Err("its HOTP counter is beyond 2^63 - 1");
    }
    crate::OtpParams::new(kind, algorithm, e.digits, e.period, f.counter)
        .map_err(|_| "its code parameters are invalid")?;
    if e.secret.is_empty() || e.secret.len() > crate::otp::MAX_SECRET_BYTES {
        return Err("its secret is empty or longer than 1 KiB");
    }
    let names = [Some(f.issuer.value.as_str()), Some(f.label.value.as_str()), f.group.value.as_deref()];
    for name in names.into_iter().flatten() {
        if name.chars().count() > MAX_NAME_CHARS {
            return Err("a name is longer than 512 characters");
        }
        if crate::text::clean(name) != name {
            return Err("a name holds control, invisible or surrounding white-space characters");
        }
    }
    Ok(())
}

fn latest_allowed(now_ms: u64) -> Hlc {
    ((now_ms.saturating_add(MAX_CLOCK_AHEAD_MS).min(u64::MAX >> 16) << 16) | 0xFFFF).min(i64::MAX as u64)
}

/// Why a device entry is refused: its id, clock and size, as [`check_record`] checks records.
pub fn check_device(entry: &DeviceEntry, now_ms: u64) -> Result<(), &'static str> {
    if !is_id(&entry.device) || !entry.seen.iter().all(|s| is_id(&s.device)) {
        return Err("its device id is not 32 lowercase hex digits");
    }
    if entry.seen.len() > MAX_DEVICES {
        return Err("it notes more than 256 devices");
    }
    let limit = latest_allowed(now_ms);
    let ahead_s = (now_ms.saturating_add(MAX_CLOCK_AHEAD_MS) / 1000) as i64;
    if entry.hlc > limit || entry.at > ahead_s || entry.seen.iter().any(|s| s.hlc > limit || s.at > ahead_s) {
        return Err("its clock is more than 7 days ahead of this device's");
    }
    Ok(())
}

/// A record another device published that this device refused ([`check_record`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The account's uid as published (cut to 32 characters), never a name or secret.
    pub account: String,
    /// Why.
    pub reason: &'static str,
}

/// How long a tombstone is kept at most, and how long a device's entry stays without a round
/// (90 days, in ms). A device away longer counts as gone; see [`State::compact`].
pub const MAX_AGE_MS: u64 = 90 * 24 * 3600 * 1000;
/// Most device entries (and notes per entry) a state may carry.
pub const MAX_DEVICES: usize = 256;

/// What a device publishes about itself: when it last synced, and the other devices' entries as
/// it saw them then. Newer entries (by `hlc`) replace older ones in a merge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeviceEntry {
    /// The device's id (hex).
    pub device: String,
    /// The device's clock reading when it wrote the entry (after every record it had).
    pub hlc: Hlc,
    /// Its wall clock then, Unix seconds.
    pub at: i64,
    /// The generation of the state it wrote the entry into.
    pub generation: u64,
    /// The other devices' entries it had seen then.
    #[serde(default)]
    pub seen: Vec<Seen>,
}

impl DeviceEntry {
    /// Its note of device `id`'s entry, if any.
    pub fn saw(&self, id: &str) -> Option<&Seen> {
        self.seen.iter().find(|s| s.device == id)
    }
}

/// One device's note of another's entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Seen {
    /// The other device's id (hex).
    pub device: String,
    /// The other device's entry clock reading.
    pub hlc: Hlc,
    /// The generation it named.
    pub generation: u64,
    /// When the noting device saw it (its wall clock, Unix seconds).
    pub at: i64,
}

/// Every account a vault knows, by uid (hex), tombstones included, and the devices' entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Records by account uid, as lowercase hex.
    pub records: BTreeMap<String, Record>,
    /// Device entries, one per device, sorted by id (absent from states of older builds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceEntry>,
}

fn is_id(hex: &str) -> bool {
    hex.len() == 2 * ID_LEN && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl State {
    /// The join of two states: every account of either, each record merged.
    pub fn merge(&self, other: &Self) -> Self {
        let mut records = self.records.clone();
        for (uid, theirs) in &other.records {
            records.entry(uid.clone()).and_modify(|ours| *ours = ours.merge(theirs)).or_insert_with(|| theirs.clone());
        }
        let mut merged = Self { records, devices: self.devices.clone() };
        for theirs in &other.devices {
            merged.put_device(theirs.clone());
        }
        merged
    }

    /// The entry of device `id`.
    pub fn device(&self, id: &str) -> Option<&DeviceEntry> {
        self.devices.binary_search_by(|e| e.device.as_str().cmp(id)).ok().map(|i| &self.devices[i])
    }

    /// Puts `entry` in its place by id, unless the state has a newer one of that device.
    pub fn put_device(&mut self, entry: DeviceEntry) {
        match self.devices.binary_search_by(|e| e.device.cmp(&entry.device)) {
            Ok(i) if entry > self.devices[i] => self.devices[i] = entry,
            Ok(_) => {}
            Err(i) => self.devices.insert(i, entry),
        }
    }

    /// Whether every device with an entry has seen the removal `stamp`: its writer published an
    /// entry after it (an entry's clock passes every record its device had), and every other
    /// device noted that entry or a later one.
    pub fn removal_seen_by_all(&self, stamp: &Stamp) -> bool {
        let writer = hex::encode(stamp.device);
        self.device(&writer).is_some_and(|w| w.hlc > stamp.hlc)
            && self
                .devices
                .iter()
                .filter(|e| e.device != writer)
                .all(|e| e.saw(&writer).is_some_and(|s| s.hlc > stamp.hlc))
    }

    /// Sync hygiene before an upload at wall-clock `now_ms`: drops the entries of devices not
    /// seen for [`MAX_AGE_MS`] (but `keep`'s, this device's) and their notes, then every
    /// tombstone all remaining devices have seen ([`Self::removal_seen_by_all`]) or older than
    /// [`MAX_AGE_MS`] by its clock. Returns how many tombstones went.
    pub fn compact(&mut self, now_ms: u64, keep: &str) -> usize {
        let horizon_s = (now_ms.saturating_sub(MAX_AGE_MS) / 1000) as i64;
        self.devices.retain(|e| e.device == keep || e.at >= horizon_s);
        let known: Vec<String> = self.devices.iter().map(|e| e.device.clone()).collect();
        for e in &mut self.devices {
            e.seen.retain(|s| known.contains(&s.device));
        }
        let horizon = (now_ms.saturating_sub(MAX_AGE_MS)) << 16;
        let mut gone = 0;
        // Rebuilt rather than removed from: one map operation fewer in the phones' library.
        for (uid, r) in std::mem::take(&mut self.records) {
            match &r {
                Record::Removed(s) if s.hlc < horizon || self.removal_seen_by_all(s) => gone += 1,
                _ => {
                    self.records.insert(uid, r);
                }
            }
        }
        gone
    }

    /// The largest clock reading in the state (0 when empty).
    pub fn max_hlc(&self) -> Hlc {
        self.records.values().map(|r| r.latest().hlc).max().unwrap_or(0)
    }

    /// Splits a state read from the server into the records this device accepts and the ones
    /// it refuses (with the refused records themselves, kept aside, never applied).
    pub fn screen(mut self, now_ms: u64) -> (State, Vec<Refused>, BTreeMap<String, Record>) {
        let mut refused = Vec::new();
        let mut aside = BTreeMap::new();
        for entry in std::mem::take(&mut self.devices) {
            match check_device(&entry, now_ms) {
                // In order, one per device, whatever the server sent.
                Ok(()) => self.put_device(entry),
                Err(reason) => refused.push(Refused { account: crate::text::excerpt(&entry.device), reason }),
            }
        }
        if self.devices.len() > MAX_DEVICES {
            refused.push(Refused { account: String::new(), reason: "the state names more than 256 devices" });
            self.devices.clear();
        }
        for (uid, record) in std::mem::take(&mut self.records) {
            match check_record(&uid, &record, now_ms) {
                Ok(()) => {
                    self.records.insert(uid, record);
                }
                Err(reason) => {
                    refused.push(Refused { account: crate::text::excerpt(&uid), reason });
                    aside.insert(uid, record);
                }
            }
        }
        (self, refused, aside)
    }

    /// Live accounts in list order: by position, then uid (the same on every device).
    pub fn live_in_order(&self) -> Vec<(&str, &Fields)> {
        let mut live: Vec<(&str, &Fields)> = self
            .records
            .iter()
            .filter_map(|(uid, r)| match r {
                Record::Live(f) => Some((uid.as_str(), &**f)),
                Record::Removed(_) => None,
            })
            .collect();
        live.sort_by(|a, b| (a.1.order.value, a.0).cmp(&(b.1.order.value, b.0)));
        live
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn stamp(hlc: u64, device: u8) -> Stamp {
        Stamp { hlc, device: [device; ID_LEN] }
    }

    fn fields(name: &str, at: Stamp, counter: u64) -> Fields {
        let entry = Entry {
            kind: "hotp".into(),
            algorithm: "SHA1".into(),
            digits: 6,
            period: 30,
            secret: b"12345678901234567890".to_vec(),
        };
        Fields {
            entry: Lww::new(entry, at),
            issuer: Lww::new(name.into(), at),
            label: Lww::new("alice".into(), at),
            group: Lww::new(None, at),
            order: Lww::new(0, at),
            counter,
        }
    }

    #[test]
    fn the_clock_follows_wall_time_and_never_goes_back() {
        assert_eq!(hlc_next(0, 1_000), 1_000 << 16);
        assert_eq!(hlc_next(2_000 << 16, 1_000), (2_000 << 16) + 1);
    }

    #[test]
    fn later_rename_wins_field_by_field_and_counters_take_the_maximum() {
        let base = fields("GitHub", stamp(1, 1), 3);
        let mut a = base.clone();
        a.issuer = Lww::new("GitHub A".into(), stamp(5, 1));
        a.counter = 7;
        let mut b = base.clone();
        b.issuer = Lww::new("GitHub B".into(), stamp(4, 2));
        b.label = Lww::new("bob".into(), stamp(6, 2));
        b.counter = 5;
        let merged = Record::Live(Box::new(a)).merge(&Record::Live(Box::new(b)));
        let Record::Live(m) = merged else { panic!("live") };
        assert_eq!((m.issuer.value.as_str(), m.label.value.as_str(), m.counter), ("GitHub A", "bob", 7));
    }

    #[test]
    fn equal_clocks_are_broken_by_device_id() {
        let a = Lww::new("from 1".to_string(), stamp(9, 1));
        let b = Lww::new("from 2".to_string(), stamp(9, 2));
        assert_eq!(a.merge(&b).value, "from 2");
        assert_eq!(b.merge(&a).value, "from 2");
    }

    #[test]
    fn a_removal_wins_over_a_later_rename_on_another_device() {
        let removed = Record::Removed(stamp(5, 1));
        let mut renamed = fields("GitHub", stamp(1, 2), 0);
        renamed.issuer = Lww::new("Renamed".into(), stamp(10, 2));
        assert_eq!(removed.merge(&Record::Live(Box::new(renamed.clone()))), removed);
        assert_eq!(Record::Live(Box::new(renamed)).merge(&removed), removed);
    }

    #[test]
    fn a_peer_record_is_checked_as_an_import_checks_an_account() {
        let now = 1_800_000_000_000;
        let uid = "0123456789abcdef0123456789abcdef";
        let good = fields("GitHub", stamp(now << 16, 1), 5);
        assert_eq!(check_record(uid, &Record::Live(Box::new(good.clone())), now), Ok(()));
        let refused = |f: Fields| check_record(uid, &Record::Live(Box::new(f)), now).unwrap_err();
        let mut f = good.clone();
        f.counter = u64::MAX;
        assert!(refused(f).contains("counter"));
        let mut f = good.clone();
        f.label.value = "x".repeat(20_000);
        assert!(refused(f).contains("longer than 512"));
        let mut f = good.clone();
        f.issuer.value = "Git\u{1b}]0;pwned\u{7}Hub".into();
        assert!(refused(f).contains("control"));
        let mut f = good.clone();
        f.entry.value.digits = 11;
        assert!(refused(f).contains("digits"));
        let mut f = good.clone();
        f.entry.value.period = 0;
        assert!(refused(f).contains("period"));
        let mut f = good.clone();
        f.entry.value.secret = vec![1; 1025];
        assert!(refused(f).contains("secret"));
        let mut f = good.clone();
        f.entry.value.algorithm = "MD5".into();
        assert!(refused(f).contains("algorithm"));
        let mut f = good.clone();
        f.order.stamp.hlc = (now + MAX_CLOCK_AHEAD_MS + 1000) << 16;
        assert!(refused(f).contains("ahead"));
        assert!(check_record("../key", &Record::Removed(stamp(1, 1)), now).unwrap_err().contains("id"));
        assert_eq!(check_record(uid, &Record::Removed(stamp(now << 16, 1)), now), Ok(()));
    }

    #[test]
    fn screening_keeps_the_good_records_and_sets_the_bad_ones_aside() {
        let now = 1_800_000_000_000;
        let mut bad = fields("Bad", stamp(1, 1), 0);
        bad.label.value = "x".repeat(600);
        let mut state = State::default();
        state.records.insert("01".repeat(16), Record::Live(Box::new(fields("Good", stamp(1, 1), 0))));
        state.records.insert("02".repeat(16), Record::Live(Box::new(bad)));
        let (accepted, refused, aside) = state.screen(now);
        assert_eq!(accepted.records.keys().collect::<Vec<_>>(), [&"01".repeat(16)]);
        assert_eq!(refused, [Refused { account: "02".repeat(16), reason: "a name is longer than 512 characters" }]);
        assert!(aside.contains_key(&"02".repeat(16)));
    }

    fn entry(device: u8, hlc: Hlc, at: i64, seen: &[(u8, Hlc)]) -> DeviceEntry {
        let seen =
            seen.iter().map(|&(d, h)| Seen { device: hex::encode([d; ID_LEN]), hlc: h, generation: 1, at }).collect();
        DeviceEntry { device: hex::encode([device; ID_LEN]), hlc, at, generation: 1, seen }
    }

    #[test]
    fn a_tombstone_goes_once_every_device_has_seen_it_or_it_is_older_than_90_days() {
        let now_ms = 1_800_000_000_000u64;
        let at = (now_ms / 1000) as i64;
        let t = (now_ms - 1000) << 16;
        let removal = |d: u8| Record::Removed(stamp(t, d));
        let mut state = State::default();
        state.records.insert("01".repeat(16), removal(1));
        state.records.insert("02".repeat(16), Record::Removed(stamp((now_ms - MAX_AGE_MS - 1) << 16, 3)));
        // Device 1's entry is older than its removal: it has not published since.
        state.put_device(entry(1, t - 1, at, &[]));
        state.put_device(entry(2, t + 5, at, &[(1, t - 1)]));
        let mut s = state.clone();
        assert_eq!(s.compact(now_ms, "me"), 1, "only the one older than 90 days");
        // Device 1 publishes after the removal; device 2 has not noted that entry yet.
        state.put_device(entry(1, t + 1, at, &[(2, t + 5)]));
        let mut s = state.clone();
        assert_eq!(s.compact(now_ms, "me"), 1);
        assert!(s.records.contains_key(&"01".repeat(16)));
        // Device 2 notes it: every device has seen the removal.
        state.put_device(entry(2, t + 6, at, &[(1, t + 1)]));
        let mut s = state.clone();
        assert_eq!(s.compact(now_ms, "me"), 2);
        assert!(s.records.is_empty());
    }

    #[test]
    fn a_device_not_seen_for_90_days_is_dropped_and_no_longer_holds_tombstones_back() {
        let now_ms = 1_800_000_000_000u64;
        let at = (now_ms / 1000) as i64;
        let t = (now_ms - 1000) << 16;
        let mut state = State::default();
        state.records.insert("01".repeat(16), Record::Removed(stamp(t, 1)));
        state.put_device(entry(1, t + 1, at, &[]));
        let gone_since = at - (MAX_AGE_MS / 1000) as i64 - 1;
        state.put_device(entry(2, t - 9, gone_since, &[]));
        assert!(!state.removal_seen_by_all(&stamp(t, 1)));
        assert_eq!(state.compact(now_ms, "me"), 1);
        assert_eq!(state.devices.iter().map(|e| e.device.clone()).collect::<Vec<_>>(), [hex::encode([1; ID_LEN])]);
    }

    #[test]
    fn the_newer_device_entry_wins_a_merge() {
        let (mut a, mut b) = (State::default(), State::default());
        a.put_device(entry(4, 5, 1, &[]));
        b.put_device(entry(4, 7, 2, &[]));
        b.put_device(entry(3, 1, 2, &[]));
        assert_eq!(a.merge(&b).device(&hex::encode([4; ID_LEN])).unwrap().hlc, 7);
        assert_eq!(b.merge(&a), a.merge(&b));
    }

    fn arb_stamp() -> impl Strategy<Value = Stamp> {
        (0u64..6, 0u8..3).prop_map(|(h, d)| stamp(h, d))
    }

    fn arb_record() -> impl Strategy<Value = Record> {
        let live = (
            (prop::sample::select(vec!["A", "B", "C"]), arb_stamp()),
            (prop::sample::select(vec!["x", "y"]), arb_stamp()),
            (prop::option::of(prop::sample::select(vec!["Work", "Home"])), arb_stamp()),
            (0i64..3, arb_stamp()),
            0u64..10,
            (prop::sample::select(vec![b"AAAAAAAAAA".to_vec(), b"BBBBBBBBBB".to_vec()]), arb_stamp()),
        )
            .prop_map(|(issuer, label, group, order, counter, (secret, created))| {
                Record::Live(Box::new(Fields {
                    entry: Lww::new(
                        Entry { kind: "totp".into(), algorithm: "SHA1".into(), digits: 6, period: 30, secret },
                        created,
                    ),
                    issuer: Lww::new(issuer.0.to_string(), issuer.1),
                    label: Lww::new(label.0.to_string(), label.1),
                    group: Lww::new(group.0.map(str::to_string), group.1),
                    order: Lww::new(order.0, order.1),
                    counter,
                }))
            });
        prop_oneof![4 => live, 1 => arb_stamp().prop_map(Record::Removed)]
    }

    fn arb_state() -> impl Strategy<Value = State> {
        let devices = prop::collection::vec(
            (prop::sample::select(vec!["d1", "d2"]), 0u64..4, 0i64..3, 0u64..3).prop_map(
                |(device, hlc, at, generation)| DeviceEntry {
                    device: device.into(),
                    hlc,
                    at,
                    generation,
                    seen: Vec::new(),
                },
            ),
            0..3,
        );
        (prop::collection::btree_map(prop::sample::select(vec!["01", "02", "03", "04"]), arb_record(), 0..4), devices)
            .prop_map(|(m, d)| {
                let mut s =
                    State { records: m.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), devices: Vec::new() };
                for e in d {
                    s.put_device(e);
                }
                s
            })
    }

    proptest! {
        #[test]
        fn merge_is_commutative_associative_and_idempotent(a in arb_state(), b in arb_state(), c in arb_state()) {
            prop_assert_eq!(a.merge(&b), b.merge(&a));
            prop_assert_eq!(a.merge(&b).merge(&c), a.merge(&b.merge(&c)));
            prop_assert_eq!(a.merge(&a), a.clone());
            prop_assert_eq!(a.merge(&b).merge(&b), a.merge(&b));
        }

        #[test]
        fn any_delivery_order_of_many_states_converges(states in prop::collection::vec(arb_state(), 1..6), seed in any::<u64>()) {
            let forward = states.iter().fold(State::default(), |acc, s| acc.merge(s));
            let mut shuffled = states.clone();
            // A deterministic shuffle from the seed, with repeats: order and duplicates must not matter.
            let mut x = seed | 1;
            for i in (1..shuffled.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                shuffled.swap(i, (x % (i as u64 + 1)) as usize);
            }
            shuffled.extend(states.iter().take(2).cloned());
            let backward = shuffled.iter().rev().fold(State::default(), |acc, s| s.merge(&acc));
            prop_assert_eq!(forward, backward);
        }
    }
}
