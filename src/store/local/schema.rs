//! The database file: recognising it, creating it, configuring connections
//! and retrying when another writer holds the lock.
//!
//! The one rule here is that a file we did not create is never written to.
//! Before SQLite is allowed to touch an existing file, its first 100 bytes
//! (the SQLite header) are read with plain file I/O: opening a foreign
//! database with SQLite could already modify it (rolling back a hot journal,
//! creating `-wal`/`-shm` files, checkpointing on close).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use crate::Error;

/// The database file's name inside the store directory.
pub(super) const DB_FILE: &str = "yamlett.sqlite3";

/// `PRAGMA application_id` of a yamlett store: "YMLT" in ASCII. It is what
/// tells a yamlett store from any other SQLite database.
pub(super) const APPLICATION_ID: i32 = 0x594D_4C54;

/// `PRAGMA user_version` of the schema this code reads and writes. Raise it
/// (and add a migration step in [`initialise`]) with any schema change.
///
/// - 1: `runs` held the BSON and the JSON of each run.
/// - 2: the JSON moved to `runs_json`, so that scans (which read only BSON)
///   read half the pages, and a flush rewrites two small rows instead of
///   one that spans pages. The view `run_documents` joins them for SQL users.
/// - 3: `logs` registers the write logs (see [`super::writelog`]) and how far
///   each is folded; `rejected` keeps logged updates that could not be
///   applied. An older yamlett would ignore the logs, so it must refuse.
/// - 4: `series` holds metric series in buckets (see [`super::series`]);
///   write log records may carry points. An older yamlett would lose them.
/// - 5: `rejected.points_json` keeps the series points of a record set
///   aside (two processes logging to one series of a run at once).
pub(super) const SCHEMA_VERSION: i32 = 5;

/// The schema. `seq` is the rowid, so it grows with every insert and never
/// changes on update: ordering by it is MongoDB's natural (insertion) order.
/// AUTOINCREMENT keeps that true even if runs are ever deleted (plain rowids
/// may be reused after the largest one is deleted). The index on
/// `experiment` carries the rowid as its implicit last column, so scanning
/// one experiment in `seq` order needs no sort.
const SCHEMA: &str = "
CREATE TABLE runs (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment TEXT NOT NULL,
    id         TEXT NOT NULL,
    bson       BLOB NOT NULL,  -- the run document: the source of truth
    UNIQUE (experiment, id)
);
CREATE INDEX runs_by_experiment ON runs (experiment);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Version 2's additions: each run in relaxed Extended JSON, for
/// `json_extract()`, and (in [`JSON_VIEW`]) the view that SQL tools query.
const JSON_TABLE: &str = "
CREATE TABLE runs_json (
    seq  INTEGER PRIMARY KEY,  -- runs.seq
    json TEXT NOT NULL         -- the run document in relaxed Extended JSON
);
";

/// Version 3's additions: the write logs, and what folding them set aside.
const LOG_TABLES: &str = "
CREATE TABLE logs (
    name       TEXT PRIMARY KEY,  -- logs/<name>.log in the store directory
    generation INTEGER NOT NULL,  -- the header the file must have
    folded     INTEGER NOT NULL   -- the offset up to which it is folded
);
CREATE TABLE rejected (
    id          INTEGER PRIMARY KEY,
    seq         INTEGER NOT NULL,  -- runs.seq
    at          TEXT NOT NULL,
    reason      TEXT NOT NULL,
    update_json TEXT NOT NULL      -- the update, in relaxed Extended JSON
);
";

/// Version 5's addition: the points of a rejected record.
const REJECTED_POINTS: &str = "
-- {series: [{key, steps, values, times}]} in relaxed Extended JSON, or NULL
ALTER TABLE rejected ADD COLUMN points_json TEXT;
";

/// The runs with their experiment, id and JSON, for SQL tools.
const JSON_VIEW: &str = "
CREATE VIEW run_documents AS
    SELECT runs.seq AS seq, experiment, id, json FROM runs JOIN runs_json USING (seq);
";

/// The page size of a new database, 8 KiB, chosen by measuring both ways
/// a store is used. A commit writes every page it touched to the WAL whole,
/// so a flush costs about two pages (the run's BSON row, its JSON row): 64
/// KiB pages (schema 1's choice) made a training step's flush twice as slow
/// as 4 or 8 KiB. A scan reads every page of the runs table: with 4 KiB
/// pages a typical 2-3 KB run mostly has a page to itself, with 8 KiB three
/// share one, and a `find` or `$group` over 100,000 runs reads a third of
/// the pages (-20 % time). It only applies when the database is created;
/// existing stores keep their page size (changing it needs a `VACUUM`
/// outside WAL mode).
const PAGE_SIZE: u32 = 8 * 1024;

/// How much of the database file SQLite reads through a memory map instead
/// of a `pread` per page: a scan reads every page, and a system call per
/// 4 KiB page was a third of a `find`'s time. Mapped pages count in the
/// process's resident memory as they are touched, though, so only the first
/// 32 MiB are mapped (a store of about 6,000 typical runs, all of it), which
/// keeps a `find` over 100,000 runs under 64 MiB of RSS; the rest of a larger
/// store is read with `pread`.
const MMAP_SIZE: i64 = 32 << 20;

/// How long one statement waits inside SQLite for a lock before returning
/// SQLITE_BUSY; [`retry_busy`] then takes over.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`retry_busy`] keeps retrying before it gives up. Long enough
/// that a burst of writers from many processes never surfaces as an error;
/// short enough that a store locked by a stuck process does not hang forever.
const RETRY_DEADLINE: Duration = Duration::from_secs(120);

/// The longest sleep between two retries.
const MAX_BACKOFF: Duration = Duration::from_millis(100);

/// What is at the database path before we open it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileState {
    /// No file: a new store.
    Missing,
    /// An empty file: SQLite treats it as an empty database, there is
    /// nothing in it to lose, and it is what a creator that crashed before
    /// its first commit leaves behind.
    Empty,
    /// A SQLite database with yamlett's application id.
    Yamlett,
}

/// Looks at the file at `path` without modifying it, and refuses anything
/// that is not (or cannot become) a yamlett store.
pub(super) fn inspect(path: &Path) -> anyhow::Result<FileState> {
    let not_a_store = |why: &str| Error::Config {
        reason: format!(
            "{} is not a yamlett store ({why}); it was left untouched",
            path.display()
        ),
    };
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(FileState::Missing),
        Err(err) => return Err(not_a_store(&format!("cannot read it: {err}")).into()),
    };
    let metadata = file
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?;
    if !metadata.is_file() {
        return Err(not_a_store("not a regular file").into());
    }
    if metadata.len() == 0 {
        return Ok(FileState::Empty);
    }
    let mut header = [0_u8; 100];
    if file.read_exact(&mut header).is_err() {
        return Err(not_a_store("too short to be a SQLite database").into());
    }
    if &header[..16] != b"SQLite format 3\0" {
        return Err(not_a_store("not a SQLite database").into());
    }
    // The application id is a big-endian 32-bit integer at offset 68 of the
    // header; it is written once, at creation, so the copy in the main file
    // is current even while later changes sit in the WAL.
    let application_id = i32::from_be_bytes([header[68], header[69], header[70], header[71]]);
    if application_id != APPLICATION_ID {
        return Err(not_a_store(&format!(
            "a SQLite database of another application, application_id {application_id:#x}"
        ))
        .into());
    }
    Ok(FileState::Yamlett)
}

/// Opens the writer connection on a file [`inspect`] accepted, creates or
/// checks the schema, and switches the database to WAL.
pub(super) fn open_writer(path: &Path, durability: Durability) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)?;
    configure(&conn, durability)?;
    let version: i32 =
        retry_busy(|| Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?))?;
    if version != SCHEMA_VERSION {
        // Ignored by SQLite unless the database is still empty.
        conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        retry_busy(|| initialise(&mut conn, path))?;
    }
    // WAL lets readers run while a writer commits, and makes a commit one
    // sequential append. It is a property of the file, set once; switching
    // needs a moment of exclusive access, hence the retry.
    let mode: String =
        retry_busy(|| Ok(conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?))?;
    if !mode.eq_ignore_ascii_case("wal") {
        retry_busy(|| {
            Ok(conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))?)
        })?;
    }
    Ok(conn)
}

/// Opens a connection for reading only.
pub(super) fn open_reader(path: &Path) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    // Readers never commit: their synchronous setting does not matter.
    configure(&conn, Durability::Process)?;
    // A read-write connection (a read-only one cannot create the WAL's shared
    // memory file if it is missing) that refuses every write, as a guard.
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

/// The environment variable choosing how durable a flush is when it
/// returns: `normal` (the default) or `full`.
pub const LOCAL_SYNC_ENV: &str = "YAMLETT_LOCAL_SYNC";

/// What a flush that returned survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Durability {
    /// A crash of the process (a panic, SIGKILL, the OOM killer): the
    /// committed transaction is in the WAL file, in the OS's hands. A
    /// power failure or OS crash may lose the last flushes (never the store
    /// itself: SQLite rolls back to a consistent state). SQLite's
    /// `synchronous = NORMAL` in WAL mode: no fsync per commit, which is
    /// what costs most of a flush (an fsync is 0.3–0.6 ms on a typical VM
    /// disk, the rest of a flush a few µs).
    Process,
    /// Also a power failure or OS crash: every commit waits for an fsync
    /// of the WAL (`synchronous = FULL`).
    Power,
}

impl Durability {
    /// The durability `YAMLETT_LOCAL_SYNC` asks for.
    pub(super) fn from_env() -> Result<Durability, Error> {
        match std::env::var(LOCAL_SYNC_ENV).as_deref() {
            Err(_) | Ok("normal") => Ok(Durability::Process),
            Ok("full") => Ok(Durability::Power),
            Ok(other) => Err(Error::Config {
                reason: format!("{LOCAL_SYNC_ENV} must be `normal` or `full`, not {other:?}"),
            }),
        }
    }
}

/// The settings every connection needs; none of them are stored in the file.
fn configure(conn: &Connection, durability: Durability) -> anyhow::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let synchronous = match durability {
        Durability::Process => "NORMAL",
        Durability::Power => "FULL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "mmap_size", MMAP_SIZE)?;
    Ok(())
}

/// Creates the schema in a new database, or checks under the write lock
/// that another process created it meanwhile; refuses a newer schema and a
/// database that is not ours. Nothing is written unless the file is empty.
fn initialise(conn: &mut Connection, path: &Path) -> anyhow::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let application_id: i32 = tx.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version: i32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if application_id == APPLICATION_ID {
        if version > SCHEMA_VERSION {
            return Err(too_new(&tx, path, version).into());
        }
        if version == SCHEMA_VERSION {
            return Ok(()); // migrated by another process meanwhile
        }
        // Every step in one transaction: all of them happen or none.
        if version == 1 {
            // 1 → 2: the JSON moves to its own table.
            tx.execute_batch(JSON_TABLE)?;
            tx.execute_batch(
                "INSERT INTO runs_json (seq, json) SELECT seq, json FROM runs;
                 ALTER TABLE runs DROP COLUMN json;",
            )?;
            tx.execute_batch(JSON_VIEW)?;
        }
        if version <= 2 {
            // 2 → 3: the write logs.
            tx.execute_batch(LOG_TABLES)?;
        }
        if version <= 3 {
            // 3 → 4: metric series.
            tx.execute_batch(super::series::SERIES_TABLE)?;
        }
        // 4 → 5: the points of rejected records.
        tx.execute_batch(REJECTED_POINTS)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        return Ok(());
    }
    let objects: i64 = tx.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    if application_id != 0 || version != 0 || objects != 0 {
        // Someone else's database appeared between inspect() and here: the
        // transaction is dropped, so rolled back, with nothing written.
        return Err(Error::Config {
            reason: format!(
                "{} is not a yamlett store (a SQLite database of another application); it was left untouched",
                path.display()
            ),
        }
        .into());
    }
    tx.execute_batch(SCHEMA)?;
    tx.execute_batch(JSON_TABLE)?;
    tx.execute_batch(JSON_VIEW)?;
    tx.execute_batch(LOG_TABLES)?;
    tx.execute_batch(super::series::SERIES_TABLE)?;
    tx.execute_batch(REJECTED_POINTS)?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('written_by', ?1)",
        [env!("CARGO_PKG_VERSION")],
    )?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// The refusal of a store written by a newer yamlett, naming the version the
/// store says it needs.
fn too_new(conn: &Connection, path: &Path, version: i32) -> Error {
    let written_by: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'written_by'", [], |r| {
            r.get(0)
        })
        .ok();
    let needed = match written_by {
        Some(v) => format!("yamlett {v} or later"),
        None => "a newer yamlett".to_owned(),
    };
    Error::Config {
        reason: format!(
            "the store {} has schema version {version}; this yamlett {} reads schema version {SCHEMA_VERSION} at most: open it with {needed}",
            path.display(),
            env!("CARGO_PKG_VERSION"),
        ),
    }
}

/// Whether `err` is SQLite saying another connection holds a lock.
fn is_busy(err: &anyhow::Error) -> bool {
    err.downcast_ref::<rusqlite::Error>()
        .and_then(rusqlite::Error::sqlite_error_code)
        .is_some_and(|code| matches!(code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

/// Runs `op` again, with exponential backoff and jitter, for as long as it
/// fails with SQLITE_BUSY or SQLITE_LOCKED (up to [`RETRY_DEADLINE`]).
///
/// The busy timeout alone is not enough: SQLite does not call the busy
/// handler in every case (a WAL being recovered, a lock upgrade that would
/// deadlock), and a timeout under heavy contention from many processes
/// surfaces as an error. `op` must therefore be safe to run again from the
/// start: a whole transaction or a whole read, never half of one.
pub(super) fn retry_busy<T>(mut op: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<T> {
    let start = Instant::now();
    let mut backoff = Duration::from_millis(1);
    loop {
        match op() {
            Err(err) if is_busy(&err) && start.elapsed() < RETRY_DEADLINE => {
                thread::sleep(backoff + jitter(backoff));
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            result => return result,
        }
    }
}

/// A pseudo-random duration below `max`, so that writers that collided do
/// not all retry at the same instant again. Clock nanoseconds are random
/// enough for that, and need no extra dependency.
fn jitter(max: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let max_nanos = u32::try_from(max.as_nanos()).unwrap_or(u32::MAX).max(1);
    Duration::from_nanos(u64::from(nanos % max_nanos))
}
