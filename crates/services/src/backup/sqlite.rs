//! Other apps' SQLite databases (Google Authenticator's, Microsoft Authenticator's), opened
//! from a private copy in memory: never the user's file in place, never a copy on disk.
//!
//! The bytes (already within the 16 MiB input cap) are handed to SQLite's in-memory database
//! read-only (`sqlite3_deserialize`), so nothing is written anywhere and no journal or WAL file
//! beside the user's file is looked for: a database in WAL mode is read as its main file holds
//! it (what the app had checkpointed). The file is hostile until proven otherwise: the schema
//! is not trusted (no functions with side effects in views or generated columns), defensive
//! mode is on, no value may be larger than 1 MiB, a query is interrupted after some 100
//! million virtual-machine steps, only real tables are read, and at most [`MAX_ROWS`] rows.

use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// The first 16 bytes of every SQLite database file.
pub const MAGIC: &[u8] = b"SQLite format 3\0";
/// The most rows read from one table: far more accounts than anyone has.
pub const MAX_ROWS: usize = 10_000;
/// The largest value (text or blob) SQLite may build, in bytes.
const MAX_VALUE_BYTES: i32 = 1024 * 1024;
/// Virtual-machine steps between two calls of the progress handler, and the calls allowed.
const STEPS_PER_CALL: i32 = 10_000;
const MAX_CALLS: u32 = 10_000;

/// Whether `bytes` is an SQLite database.
pub fn is_sqlite(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

fn damaged(_: rusqlite::Error) -> Error {
    // SQLite's messages can quote the schema of the file; say only that it cannot be read.
    Error::InvalidImport("the database is damaged or not one this app reads".into())
}

/// Opens a private, read-only, in-memory copy of the database `bytes`.
pub fn open(bytes: &[u8]) -> Result<Connection> {
    if !is_sqlite(bytes) || bytes.len() < 100 {
        return Err(Error::InvalidImport("not an SQLite database".into()));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_in_memory_with_flags(flags).map_err(damaged)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true).map_err(damaged)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false).map_err(damaged)?;
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES).map_err(damaged)?;
    let mut calls = 0u32;
    conn.progress_handler(
        STEPS_PER_CALL,
        Some(move || {
            calls += 1;
            calls > MAX_CALLS
        }),
    )
    .map_err(damaged)?;
    // Bytes 18 and 19 say WAL mode (2) or not (1); an in-memory copy has no WAL, so it is read
    // in rollback-journal mode, as the main file holds it.
    let (head, tail) = bytes.split_at(20);
    let mut head = head.to_vec();
    if head[18] == 2 && head[19] == 2 {
        head[18] = 1;
        head[19] = 1;
    }
    let reader = std::io::Read::chain(&head[..], tail);
    conn.deserialize_read_exact(rusqlite::MAIN_DB, reader, bytes.len(), true).map_err(damaged)?;
    conn.pragma_update(None, "query_only", true).map_err(damaged)?;
    Ok(conn)
}

/// The columns of `table` when it is a real table of the database (not a view), else `None`.
pub fn table_columns(conn: &Connection, table: &str) -> Option<Vec<String>> {
    let is_table: bool = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [table], |r| {
            r.get::<_, i64>(0)
        })
        .ok()
        .is_some_and(|n| n == 1);
    if !is_table {
        return None;
    }
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)").ok()?;
    let columns = stmt.query_map([table], |r| r.get::<_, String>(0)).ok()?;
    columns.take(1000).collect::<std::result::Result<Vec<_>, _>>().ok()
}

/// Whether `table` is a real table with every one of `columns`.
pub fn has_columns(conn: &Connection, table: &str, columns: &[&str]) -> bool {
    table_columns(conn, table).is_some_and(|have| columns.iter().all(|c| have.iter().any(|h| h == c)))
}

/// A text value as the apps store it: text as is, numbers as their digits, blobs as UTF-8 text
/// when they are, `NULL` as absent.
pub fn text(value: rusqlite::types::ValueRef<'_>) -> Option<String> {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => std::str::from_utf8(t).ok().map(str::to_owned),
    }
}

/// Runs `sql` (which reads one real table named in it) and hands each row to `row`, at most
/// [`MAX_ROWS`] of them; an interrupted or failing query is an error about the whole file.
pub fn each_row<T>(conn: &Connection, sql: &str, mut row: impl FnMut(&rusqlite::Row<'_>) -> T) -> Result<Vec<T>> {
    let mut stmt = conn.prepare(sql).map_err(damaged)?;
    let mut rows = stmt.query([]).map_err(damaged)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(damaged)? {
        if out.len() == MAX_ROWS {
            return Err(Error::InvalidImport(format!("the database has more than {MAX_ROWS} accounts")));
        }
        out.push(row(r));
    }
    Ok(out)
}
