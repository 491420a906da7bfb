//! The vault's database schema, and the migrations that build it.
//!
//! # The database
//!
//! One SQLite file holds everything. It is opened in WAL mode (readers never block the writer, and
//! a crash mid-write rolls back to the last commit) with `foreign_keys = ON`, `synchronous = FULL`
//! (a committed change survives power loss, not just a process crash) and a busy timeout, so two
//! handles on one file — two threads, or the app and a push service — wait for each other instead
//! of failing with "database is locked". Every write is a `BEGIN IMMEDIATE` transaction.
//!
//! The schema version lives in `PRAGMA user_version`: 0 is an empty file, [`LATEST`] is what this
//! build writes. A file with a higher version was written by a newer build and is refused
//! untouched. Each migration runs in its own transaction and bumps the version in it, so a crash
//! between migrations leaves a file that the next start simply continues migrating.
//!
//! ## `meta` (since version 1)
//! Key–value settings of the whole vault.
//! - `key`: the setting's name.
//! - `value`: its value; the type depends on the key:
//!   - `key_check` (BLOB): a fixed marker sealed under the data key. Opening the vault unseals it
//!     first; when that fails the key is wrong and the open fails with `WrongKey` before anything
//!     is written, rather than producing garbage codes later.
//!   - `clock_offset` (INTEGER): the manual clock offset, seconds added to the device clock for
//!     every code, for devices whose clock is wrong and cannot be fixed. Absent means 0.
//!   - `clock_mode` (TEXT, no migration: absent in older vaults): `automatic` (the measured
//!     correction applies) or `manual` (`clock_offset` applies). Absent: `manual` when a non-zero
//!     `clock_offset` is stored (so an offset set before keeps working), else `automatic`.
//!   - `clock_measurement` (TEXT): the last NTP or HTTPS measurement (before issue 22 also a
//!     push server's, until the next check), as `source offset_ms
//!     uncertainty_ms measured_at_ms` (source `ntp`, `https` or `privacy_idea`; offset = server
//!     time minus device time; times in Unix ms by the device clock). See `domain::clock`.
//!   - `clock_correction` (TEXT): the correction automatic mode applies (its measurement's
//!     offset, rounded to seconds), as its basis, `one` (one source, at most 2 min), `ntp` /
//!     `https` (this second source agreed) or `accepted` (the user accepted a proposal), then
//!     the measurement in the form above; absent when none is needed. Vaults from before issue
//!     22 store `seconds measurement`: such a correction from a push server is read as
//!     `clock_hint`, one over 2 min as `clock_proposal` (not in force), a smaller one as `one`.
//!   - `clock_proposal` (TEXT, since issue 22): a measurement claiming a correction over 2 min,
//!     not in force until a second source agrees or the user accepts it.
//!   - `clock_disagreement` (TEXT, since issue 22): the last check's measurements, `;`-separated,
//!     when they disagreed (nothing was applied).
//!   - `clock_hint` (TEXT, since issue 22): the last push server's time, shown, never applied.
//!     An empty text is absent (since issue 22 cleared values are written so, not deleted).
//!     Nothing here names a server.
//!     A clock value that does not parse counts as absent: settings never lock the vault.
//!   - `accounts_version` (INTEGER, since version 6): a change counter of the accounts. Triggers
//!     on `accounts` bump it in the very transaction of every insert, delete, and change of a
//!     record (rename, regroup), counter (HOTP use) or position (reorder), whoever writes: so
//!     "changed since the last backup" survives a crash and sees other processes' changes.
//!     Taking a TOTP code (only `last_used_at`) does not count. A rebuild of `accounts` must
//!     recreate the triggers.
//!   - `backup` (TEXT, since version 6): automatic backups' settings and status, as JSON (see
//!     `backup::auto`): destination folder, copies kept, last success and failure with its
//!     reason, the `accounts_version` last backed up. No secret and no account data. Absent
//!     while automatic backups are off.
//!   - `backup_key` (BLOB, since version 6): the backup key derived once from the backup
//!     password, with its salt and Argon2id cost, sealed under the data key (associated data
//!     `meta.backup_key`). Absent while automatic backups are off.
//!   - `sync_device` (BLOB, since version 8): 16 random bytes naming this device in sync stamps.
//!   - `sync_hlc` (INTEGER, since version 8): the last hybrid logical clock reading this vault
//!     issued or saw (Unix milliseconds << 16 | counter); every stamp is above it.
//!   - `sync_settings` (BLOB, since version 8): the sync service's settings (server, user, server
//!     password, sync key), opaque to the vault, sealed under the data key with
//!     `meta.sync_settings` as associated data. Absent when sync is not set up.
//!   - `sync_memory` (BLOB): what the sync service remembers between rounds (other devices last
//!     seen, an object to republish), opaque to the vault, sealed under the data key with
//!     `meta.sync_memory` as associated data. Absent before the first round.
//!   - `sync_generation` (INTEGER), `sync_last_success` (INTEGER, Unix seconds),
//!     `sync_last_error` (TEXT, a typed error's message, never a secret): sync's progress.
//!
//! ## `accounts` (since version 1; sealed records since version 3)
//! One row per OTP account. Nothing that names the account is stored in clear.
//! - `id`: stable identifier the UI uses (`AUTOINCREMENT`, so a deleted account's id is never
//!   given to another one while the UI may still hold it).
//! - `uid`: 16 random bytes drawn when the row is made, never changed: the row's identity in
//!   the associated data, beside `id`, and since version 8 the account's identity across
//!   devices (its UUID in sync: the same account has the same uid on every synced device, its
//!   `id` is local). Lists sort ties of `sort_order` by `uid`, so synced devices agree.
//! - `kind`: `totp`, `hotp` or `steam`.
//! - `algorithm`: `SHA1`, `SHA256` or `SHA512` (always `SHA1` for Steam).
//! - `digits`: code length, 4 to 10 (5 for Steam, whose codes are letters and digits).
//! - `period`: TOTP step in seconds, 1 to 3600 (30 for HOTP, where it is unused).
//! - `counter`: HOTP moving factor of the next code to hand out; advanced only when the user
//!   takes a code. 0 for time-based kinds.
//! - `record_enc`: the secret, issuer, label and group, sealed as one value: 12-byte random
//!   nonce, then AES-256-GCM ciphertext and tag, under the data key. The plaintext is a layout
//!   byte (1), then length-prefixed (u32 LE) secret, issuer and label, a group flag (0/1) and
//!   the length-prefixed group. The associated data is
//!   `"accounts.record_enc:v3:" id ":" hex(uid) ":" kind ":" algorithm ":" digits ":" period`,
//!   so a record copied onto another row, or a row whose kind, algorithm, digits or period were
//!   edited, fails to open: the row is reported as damaged under its id (never with the wrong
//!   name or wrong codes), the others keep working, and it can be removed. The counter is not
//!   bound (it changes with every code). Every write draws a fresh nonce; renaming re-seals.
//!   Search and sorting by name happen in memory on the opened records.
//! - `sort_order`: position in the user's list (ascending; ties broken by `id`).
//! - `created_at`, `updated_at`: Unix seconds of creation and of the last edit.
//! - `last_used_at`: Unix seconds when a code was last taken (copied, typed, advanced); NULL
//!   until then. Lets a UI sort by recent use.
//!
//! Version 2 had `issuer`, `label` and `group_name` in clear and `secret_enc` bound to `id`
//! only. Migration 3 seals each row's record from them (a row whose secret no longer opened
//! keeps its old bytes and stays reported as damaged) and rebuilds the table without them,
//! keeping the AUTOINCREMENT high-water mark.
//!
//! ## `sync_clock` (since version 8)
//! The change log of sync, compacted to the last write of each field of each account: who wrote
//! it and when, on a hybrid logical clock (see `domain::sync`). Every account edit records
//! its stamp here in the same transaction, whether sync is set up or not.
//! - `uid`: the account's `accounts.uid` (kept after the account is removed, for its tombstone).
//! - `field`: `entry` (creation: parameters and secret), `issuer`, `label`, `group`, `order`
//!   (list position), `counter` (HOTP; merges by maximum, the stamp only marks it pending) or
//!   `removed` (a tombstone; the account's other rows are deleted with it).
//! - `hlc`, `device`: the write's clock reading and device id. A field without a row was last
//!   written at the account's `entry` stamp.
//! - `pending`: 1 until a sync round has put the write on the server.
//!
//! Migration 8 stamps every existing account's `entry` with this device and its creation time.
//!
//! ## `passkeys` (since version 9)
//! One row per passkey (a WebAuthn credential this device signs for). Nothing that names the
//! site or the user is stored in clear.
//! - `id`: the local identifier a UI uses (`AUTOINCREMENT`).
//! - `uid`: 16 random bytes drawn when the passkey was made, never changed: its identity in the
//!   associated data, in backups and across synced devices.
//! - `credential_id`: the credential id (unique): what relying parties name in `allowCredentials`
//!   and receive in every assertion, so not a secret; kept in clear to find a passkey without
//!   opening every row.
//! - `record_enc`: the names, as a JSON array of strings `[rpId, rp name, user name, user display
//!   name, the user's own name for it, user handle (base64url)]`, sealed under the data key with
//!   `"passkeys.record_enc:v1:" hex(uid) ":" hex(credential_id)` as associated data.
//! - `key_enc`: a layout byte (1), the two 32-byte PRF secrets (with and without user
//!   verification), then the ES256 private key (PKCS#8 DER), sealed with
//!   `"passkeys.key_enc:v1:" hex(uid) ":" hex(credential_id) ":" rpId` as associated data: a key
//!   moved to another row, or a row whose rpId was changed, does not open.
//! - `created_at`, `updated_at`, `last_used_at`: Unix seconds of creation, last rename, last
//!   signature (NULL until then).
//!
//! A row whose record does not open is reported as damaged by id (`passkey_rows`), never hides
//! the others, and can be removed. Triggers bump `meta.accounts_version` on every insert,
//! delete and re-seal (not on use), so automatic backups see passkey changes.
//!
//! ## `push_tokens` (since version 2)
//! One row per privacyIDEA push token enrolled on this device.
//! - `id`: stable identifier (`AUTOINCREMENT`).
//! - `serial`: the server's token serial (`PIPU…`), unique; every challenge must name it.
//! - `issuer`, `label`, `url`: empty since version 5 (sealed in `text_enc`).
//! - `text_enc` (since version 5): the display names from the enrollment URI and the server
//!   endpoint for polling and answers (every challenge must name exactly it), as a JSON array
//!   `[issuer, label, url]` sealed under the data key with `"push_tokens.text_enc:" || id || ":"
//!   || serial` as associated data. tiqr tokens (since version 7) append their OCRA suite:
//!   `[service display name, identity display name, authenticationUrl, ocra suite]`; their
//!   `serial` is `tiqr-` and 32 hex digits of SHA-256 over `service identifier "\n" user id`
//!   (the identity, without naming it), their `server_key` is empty and `private_key_enc` holds
//!   the 32-byte OCRA secret.
//! - `sslverify`: what the server asked (1 = verify TLS certificates).
//! - `allow_insecure_tls`: 1 only when the user explicitly opted in to honour `sslverify=0`;
//!   without it, certificates are verified whatever the server says.
//! - `server_key`: the server's RSA public key (PKCS#1 DER) that signs challenges. Public.
//! - `private_key_enc`: this device's RSA private key (PKCS#8 DER), sealed under the data key
//!   (associated data `"push_tokens.private_key_enc:" || id`). When the token has a PIN, what is
//!   sealed is itself sealed under a key derived from the PIN (see `pin_kdf`), with
//!   `"push_tokens.pin:" || id` as associated data, so without the PIN the key cannot sign at all.
//! - `pin_salt`: the random salt of the PIN-derived key; NULL when the token has no PIN.
//! - `pin_kdf` (since version 4): how the PIN key is derived, NULL when the token has no PIN:
//!   `argon2id` (Argon2id version 0x13; every seal made since version 4) or `pbkdf2-sha256`
//!   (PBKDF2-HMAC-SHA256: seals made before; migration 3 marks them so, and the next right PIN
//!   re-seals them with Argon2id).
//! - `pin_iterations`: Argon2id passes, or PBKDF2 iterations; NULL when the token has no PIN.
//! - `pin_memory_kib`, `pin_lanes` (since version 4): Argon2id memory in KiB and lanes; NULL for
//!   PBKDF2 and when the token has no PIN.
//! - `pin_required_by_server`: the enrollment demanded a PIN (`pin=True`,
//!   `app_force_unlock=pin`); the PIN can then be changed but not removed.
//! - `failed_pin_attempts`: wrong PINs in a row. Counted *before* a PIN is tried and reset after
//!   a right one, so killing the app mid-check does not earn a free attempt.
//! - `locked_until`: Unix seconds before which no PIN is tried (growing lockouts after 5 wrong
//!   PINs); NULL when not locked. Stored, so lockouts survive restarts.
//! - `fb_token`: the Firebase/APNs token registered with the server, or NULL (poll only).
//! - `sort_order`, `created_at`, `updated_at`: as for accounts.
//! - `protocol` (since version 7): `privacyidea` (privacyIDEA's push token, and eduMFA's older
//!   `push` type), `edupush` (eduMFA's eduPUSH: no number matching, no decline reasons) or
//!   `tiqr`. Rows made before version 7 are `privacyidea`.
//! - `key_type` (since version 7): what `private_key_enc` holds: `rsa` (PKCS#8), `p256`
//!   (PKCS#8, ECDSA P-256) or `ocra-secret` (tiqr's 32-byte shared secret).
//!
//! ## `push_requests` (since version 2)
//! Every verified challenge received, pending or decided. The unique `nonce` is what makes
//! replays harmless: a nonce seen before is never shown or answered again.
//! - `id`: short identifier a UI or the CLI uses.
//! - `nonce`: the server's challenge nonce, unique.
//! - `token_id`: the push token it is for (deleted with it).
//! - `title`, `question`, `choices`: empty / NULL since version 5 (sealed in `text_enc`).
//! - `text_enc` (since version 5): what the server says the sign-in is, `[title, question,
//!   choices]` (choices comma-separated, empty for none), sealed with `"push_requests.text_enc:"
//!   || nonce` as associated data.
//! - `decline_reasons`: 1 when the server's signed capabilities accept a reason with a denial.
//! - `received_at`, `expires_at`: Unix seconds; requests live 120 s from receipt.
//! - `state`: `pending`, `approved`, `denied` or `expired`; only `pending` can be answered.
//! - `decided_at`: Unix seconds of the answer, NULL while pending.
//!
//! ## `push_history` (since version 2)
//! A log of decisions, kept when tokens are removed (it names the serial, not the row): `at`
//! (Unix seconds), `serial`, `nonce` (NULL when unknown), `title`, `question`, `decision`
//! (`approved`, `denied`, `expired`, `rejected` for forged or tampered requests that never
//! reached the user) and `detail` (a denial's reason, or why a request was rejected).
//! - Since version 5, `title` and `question` are empty and sealed in `text_enc` (`[title,
//!   question]`, associated data `"push_history.text_enc:" || id`); a row without text has an
//!   empty `text_enc`.
//! - A `rejected` row keeps only the reason: empty `title` and `question`, NULL `nonce`, and
//!   `serial` only when it names a token enrolled here (else empty). Nothing a forger wrote is
//!   stored.
//! - Every insert prunes it in the same transaction, to the newest 1,000 rows (by `at`, then
//!   `id`) and none older than 90 days, whichever keeps fewer.

use rusqlite::Connection;

/// Schema version this build writes.
pub const LATEST: i64 = 9;

/// Migration `n` (index `n - 1`) turns a version `n - 1` database into version `n`.
pub(super) const MIGRATIONS: [&str; LATEST as usize] = [
    // 1: the first schema.
    "CREATE TABLE meta (
         key   TEXT PRIMARY KEY NOT NULL,
         value ANY NOT NULL
     ) STRICT;
     CREATE TABLE accounts (
         id           INTEGER PRIMARY KEY AUTOINCREMENT,
         issuer       TEXT NOT NULL DEFAULT '',
         label        TEXT NOT NULL DEFAULT '',
         kind         TEXT NOT NULL CHECK (kind IN ('totp', 'hotp', 'steam')),
         algorithm    TEXT NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
         digits       INTEGER NOT NULL CHECK (digits BETWEEN 4 AND 10),
         period       INTEGER NOT NULL CHECK (period BETWEEN 1 AND 3600),
         counter      INTEGER NOT NULL DEFAULT 0 CHECK (counter >= 0),
         secret_enc   BLOB NOT NULL,
         group_name   TEXT,
         sort_order   INTEGER NOT NULL,
         created_at   INTEGER NOT NULL,
         updated_at   INTEGER NOT NULL,
         last_used_at INTEGER
     ) STRICT;
     CREATE INDEX accounts_by_order ON accounts (sort_order, id);",
    // 2: push approvals.
    "CREATE TABLE push_tokens (
         id                     INTEGER PRIMARY KEY AUTOINCREMENT,
         serial                 TEXT NOT NULL UNIQUE,
         issuer                 TEXT NOT NULL DEFAULT '',
         label                  TEXT NOT NULL DEFAULT '',
         url                    TEXT NOT NULL,
         sslverify              INTEGER NOT NULL CHECK (sslverify IN (0, 1)),
         allow_insecure_tls     INTEGER NOT NULL DEFAULT 0 CHECK (allow_insecure_tls IN (0, 1)),
         server_key             BLOB NOT NULL,
         private_key_enc        BLOB NOT NULL,
         pin_salt               BLOB,
         pin_iterations         INTEGER,
         pin_required_by_server INTEGER NOT NULL DEFAULT 0 CHECK (pin_required_by_server IN (0, 1)),
         failed_pin_attempts    INTEGER NOT NULL DEFAULT 0,
         locked_until           INTEGER,
         fb_token               TEXT,
         sort_order             INTEGER NOT NULL,
         created_at             INTEGER NOT NULL,
         updated_at             INTEGER NOT NULL,
         CHECK ((pin_salt IS NULL) = (pin_iterations IS NULL))
     ) STRICT;
     CREATE TABLE push_requests (
         id              INTEGER PRIMARY KEY AUTOINCREMENT,
         nonce           TEXT NOT NULL UNIQUE,
         token_id        INTEGER NOT NULL REFERENCES push_tokens (id) ON DELETE CASCADE,
         title           TEXT NOT NULL,
         question        TEXT NOT NULL,
         choices         TEXT,
         decline_reasons INTEGER NOT NULL DEFAULT 0,
         received_at     INTEGER NOT NULL,
         expires_at      INTEGER NOT NULL,
         state           TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired')),
         decided_at      INTEGER
     ) STRICT;
     CREATE INDEX push_requests_by_token ON push_requests (token_id, state);
     CREATE TABLE push_history (
         id       INTEGER PRIMARY KEY AUTOINCREMENT,
         at       INTEGER NOT NULL,
         serial   TEXT NOT NULL,
         nonce    TEXT,
         title    TEXT NOT NULL DEFAULT '',
         question TEXT NOT NULL DEFAULT '',
         decision TEXT NOT NULL CHECK (decision IN ('approved', 'denied', 'expired', 'rejected')),
         detail   TEXT
     ) STRICT;",
    // 3: sealed account records, first half (the vault fills `uid` and `record_enc` from the
    // old columns, then runs ACCOUNTS_V3_REBUILD).
    "ALTER TABLE accounts ADD COLUMN uid BLOB;
     ALTER TABLE accounts ADD COLUMN record_enc BLOB;",
    // 4: the PIN seal records its key derivation (Argon2id from now on; PBKDF2 before).
    "ALTER TABLE push_tokens ADD COLUMN pin_kdf TEXT CHECK (pin_kdf IN ('pbkdf2-sha256', 'argon2id'));
     ALTER TABLE push_tokens ADD COLUMN pin_memory_kib INTEGER;
     ALTER TABLE push_tokens ADD COLUMN pin_lanes INTEGER;
     UPDATE push_tokens SET pin_kdf = 'pbkdf2-sha256' WHERE pin_salt IS NOT NULL;",
    // 5: push names, URLs, titles and questions sealed (the vault fills `text_enc` from the old
    // columns and blanks them).
    "ALTER TABLE push_tokens ADD COLUMN text_enc BLOB NOT NULL DEFAULT x'';
     ALTER TABLE push_requests ADD COLUMN text_enc BLOB NOT NULL DEFAULT x'';
     ALTER TABLE push_history ADD COLUMN text_enc BLOB NOT NULL DEFAULT x'';",
    // 6: a change counter of the accounts, for automatic backups.
    "INSERT INTO meta (key, value) VALUES ('accounts_version', 0);
     CREATE TRIGGER accounts_version_on_insert AFTER INSERT ON accounts BEGIN
         UPDATE meta SET value = value + 1 WHERE key = 'accounts_version';
     END;
     CREATE TRIGGER accounts_version_on_delete AFTER DELETE ON accounts BEGIN
         UPDATE meta SET value = value + 1 WHERE key = 'accounts_version';
     END;
     CREATE TRIGGER accounts_version_on_update AFTER UPDATE OF record_enc, counter, sort_order ON accounts BEGIN
         UPDATE meta SET value = value + 1 WHERE key = 'accounts_version';
     END;",
    // 7: tokens of other protocols (eduMFA's eduPUSH, tiqr) and the key each one holds.
    "ALTER TABLE push_tokens ADD COLUMN protocol TEXT NOT NULL DEFAULT 'privacyidea'
         CHECK (protocol IN ('privacyidea', 'edupush', 'tiqr'));
     ALTER TABLE push_tokens ADD COLUMN key_type TEXT NOT NULL DEFAULT 'rsa'
         CHECK (key_type IN ('rsa', 'p256', 'ocra-secret'));",
    // 8: sync's change log (the vault then draws the device id and stamps every account's
    // creation, see `sync::stamp_existing_v8`).
    "CREATE TABLE sync_clock (
         uid     BLOB NOT NULL CHECK (length(uid) = 16),
         field   TEXT NOT NULL CHECK (field IN ('entry', 'issuer', 'label', 'group', 'order', 'counter', 'removed')),
         hlc     INTEGER NOT NULL,
         device  BLOB NOT NULL CHECK (length(device) = 16),
         pending INTEGER NOT NULL DEFAULT 1 CHECK (pending IN (0, 1)),
         PRIMARY KEY (uid, field)
     ) STRICT, WITHOUT ROWID;",
    // 9: passkeys.
    "CREATE TABLE passkeys (
         id            INTEGER PRIMARY KEY AUTOINCREMENT,
         uid           BLOB NOT NULL UNIQUE CHECK (length(uid) = 16),
         credential_id BLOB NOT NULL UNIQUE CHECK (length(credential_id) BETWEEN 1 AND 1023),
         record_enc    BLOB NOT NULL,
         key_enc       BLOB NOT NULL,
         created_at    INTEGER NOT NULL,
         updated_at    INTEGER NOT NULL,
         last_used_at  INTEGER
     ) STRICT;
     CREATE TRIGGER passkeys_version_on_insert AFTER INSERT ON passkeys BEGIN
         UPDATE meta SET value = value + 1 WHERE key = 'accounts_version';
     END;
     CREATE TRIGGER passkeys_version_on_delete AFTER DELETE ON passkeys BEGIN
         UPDATE meta SET value = value + 1 WHERE key = 'accounts_version';
     END;
     CREATE TRIGGER passkeys_version_on_update AFTER UPDATE OF record_enc, key_enc ON passkeys BEGIN
         UPDATE meta SET value = value + 1 WHERE key = 'accounts_version';
     END;",
];

/// Migration 3, second half: the accounts table without its plaintext name columns and old
/// secret column, keeping the AUTOINCREMENT high-water mark so no removed id is given again.
pub(super) const ACCOUNTS_V3_REBUILD: &str = "
    CREATE TABLE accounts_v3 (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        uid          BLOB NOT NULL UNIQUE CHECK (length(uid) = 16),
        kind         TEXT NOT NULL CHECK (kind IN ('totp', 'hotp', 'steam')),
        algorithm    TEXT NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
        digits       INTEGER NOT NULL CHECK (digits BETWEEN 4 AND 10),
        period       INTEGER NOT NULL CHECK (period BETWEEN 1 AND 3600),
        counter      INTEGER NOT NULL DEFAULT 0 CHECK (counter >= 0),
        record_enc   BLOB NOT NULL,
        sort_order   INTEGER NOT NULL,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        last_used_at INTEGER
    ) STRICT;
    INSERT INTO accounts_v3 (id, uid, kind, algorithm, digits, period, counter, record_enc, sort_order,
                             created_at, updated_at, last_used_at)
        SELECT id, uid, kind, algorithm, digits, period, counter, record_enc, sort_order,
               created_at, updated_at, last_used_at FROM accounts;
    CREATE TEMP TABLE v3_sequence AS SELECT seq FROM sqlite_sequence WHERE name = 'accounts';
    DROP TABLE accounts;
    ALTER TABLE accounts_v3 RENAME TO accounts;
    UPDATE sqlite_sequence SET seq = MAX(seq, IFNULL((SELECT seq FROM v3_sequence), 0)) WHERE name = 'accounts';
    DROP TABLE v3_sequence;
    CREATE INDEX accounts_by_order ON accounts (sort_order, id);";

/// The schema version recorded in the file.
pub(super) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Whether the file holds anything at all (tables, views, …): a non-empty SQLite file that is
/// not ours, which must not be taken over.
pub(super) fn has_objects(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_schema)", [], |row| row.get(0))
}

/// Whether the table `name` exists.
pub(super) fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)", [name], |row| {
        row.get(0)
    })
}
