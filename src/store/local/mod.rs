//! The embedded store: one SQLite file in a directory, queried with the
//! [query engine](crate::query).
//!
//! Each run is a row of `runs` keyed by `(experiment, id)` holding the run
//! document as BSON (the source of truth, and what filters are evaluated on
//! without decoding), and a row of `runs_json` holding it as relaxed
//! Extended JSON (so that any SQLite tool can read runs, e.g.
//! `SELECT json_extract(json, '$.metrics.f1_score') FROM run_documents`).
//! Artifacts are files beside the database (see [`artifacts`]).
//!
//! Writes: creating a run is a transaction; every later update of it is
//! checked against the writer's copy of the run and appended to this
//! store's write log ([`writer`], [`writelog`]), and the logs are folded
//! into the database in batches ([`fold`]): before every read, when a run
//! ends, and every second or megabyte of log.
//!
//! Concurrency: one writer connection behind a mutex, plus a pool of reader
//! connections. With WAL, readers see the last committed state and never
//! wait for a writer, so a long `find` does not hold up `update_run` and a
//! stream of updates does not starve readers; sharing a single connection
//! would serialise both behind one lock. Between processes SQLite's locks
//! serialise writers; [`schema::retry_busy`] turns contention into waiting.

mod artifacts;
mod decode;
mod decoder;
mod encode;
mod fold;
mod json;
mod maintenance;
mod scan;
mod schema;
mod series;
mod writelog;
mod writer;

pub use schema::LOCAL_SYNC_ENV;
#[cfg(test)]
mod tests;

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::Context;
use bson::{Bson, Document, RawDocument};
use rusqlite::Connection;

use super::{Buckets, RawVisitor, Store};
use crate::series::{Append, BucketSummary, SeriesBucket};
use crate::{Error, FindOptions, Page};
use yamlett_query::Filter;
use yamlett_query::QueryError;
use yamlett_query::Update;

use schema::retry_busy;
use writer::Writer;

/// The `_yamlett` field naming the write log of the process that last
/// opened a run.
const WRITE_LOG_FIELD: &str = "write_log";

/// The largest run document MongoDB accepts, and so the largest we store.
const MAX_DOCUMENT_SIZE: usize = 16 * 1024 * 1024;

/// How many idle reader connections are kept for reuse. More concurrent
/// readers than this still work; their connections are closed afterwards.
const MAX_IDLE_READERS: usize = 8;

/// A store in a local directory, without any server.
pub(crate) struct LocalStore {
    /// The store directory.
    dir: PathBuf,
    /// The database file inside it.
    db_path: PathBuf,
    /// `dir` as text, for messages.
    location: String,
    /// The only connection that writes. The mutex serialises this process's
    /// writers before they reach SQLite's lock, which is cheaper than
    /// letting them contend for it.
    /// Shared with the thread that folds the write log of an idle writer.
    writer: Arc<Mutex<Writer>>,
    /// Idle reader connections, taken out for the length of one read.
    readers: Mutex<Vec<Connection>>,
    /// The last update and condition written, parsed: a training loop
    /// flushes updates of one shape over and over, and [`Update::reparse`]
    /// and [`Filter::reparse`] read only the new values of one of the same
    /// shape into them.
    last_parsed: Mutex<Option<(Update, Filter)>>,
}

impl fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl LocalStore {
    /// Opens the store in `dir`, creating the directory and the database
    /// when missing. Refuses, without modifying it, a file at the database
    /// path that is not a yamlett store, and a store of a newer schema.
    pub(crate) fn open(dir: &Path) -> anyhow::Result<LocalStore> {
        LocalStore::open_with(dir, schema::Durability::from_env()?)
    }

    /// [`LocalStore::open`] with the durability given rather than read
    /// from the environment.
    fn open_with(dir: &Path, durability: schema::Durability) -> anyhow::Result<LocalStore> {
        let location = dir.display().to_string();
        fs::create_dir_all(dir).map_err(|err| Error::Config {
            reason: format!("cannot create the store directory {location}: {err}"),
        })?;
        let db_path = dir.join(schema::DB_FILE);
        schema::inspect(&db_path)?;
        let writer = schema::open_writer(&db_path, durability)
            .map_err(|err| sqlite_error(&location, err))
            .with_context(|| format!("opening the store {location}"))?;
        let store = LocalStore {
            dir: dir.to_path_buf(),
            db_path,
            location,
            writer: Arc::new(Mutex::new(Writer::new(
                writer,
                dir.to_path_buf(),
                durability,
            ))),
            readers: Mutex::new(Vec::new()),
            last_parsed: Mutex::new(None),
        };
        writer::fold_when_idle(Arc::downgrade(&store.writer));
        // What a process that ended left in its write log.
        store.catch_up()?;
        store
            .writer()
            .sweep_unregistered(true)
            .map_err(|e| store.fail(e))?;
        Ok(store)
    }

    /// Folds every write log (see [`fold`]), so that the database holds
    /// every flush that returned, from any process: done before each read.
    fn catch_up(&self) -> anyhow::Result<()> {
        self.writer().fold().map_err(|e| self.fail(e))
    }

    /// The writer connection. A panic while it was held cannot have left a
    /// transaction open (dropping a `Transaction` rolls it back), so a
    /// poisoned lock is safe to take over.
    fn writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs the read `op` on a pooled reader connection, from the start
    /// again if SQLite reports a lock (see [`retry_busy`]).
    fn read<T>(&self, mut op: impl FnMut(&Connection) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let pooled = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => schema::open_reader(&self.db_path).map_err(|e| self.fail(e))?,
        };
        let result = retry_busy(|| op(&conn));
        let mut idle = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        drop(idle);
        result.map_err(|e| self.fail(e))
    }

    /// A run update and its series points, checked against the writer's
    /// copy of the run and logged as one record (see [`writer`]).
    fn write(
        &self,
        experiment: &str,
        run_id: &str,
        condition: &Document,
        update: &Document,
        upsert: bool,
        appends: &[Append],
    ) -> anyhow::Result<()> {
        // Parsed before taking the writer's lock: an invalid update costs
        // no one time. Taken out of `last_parsed` meanwhile, so a thread
        // writing at the same time parses its own.
        let last = self
            .last_parsed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let (compiled, compiled_condition) = match last {
            Some((mut last, mut last_condition)) => {
                last.reparse(update).map_err(invalid_query)?;
                last_condition.reparse(condition).map_err(invalid_query)?;
                (last, last_condition)
            }
            None => (
                Update::parse(update).map_err(invalid_query)?,
                Filter::parse(condition).map_err(invalid_query)?,
            ),
        };
        let written = self
            .writer()
            .update(
                experiment,
                run_id,
                &compiled_condition,
                condition,
                &compiled,
                update,
                upsert,
                appends,
            )
            .map_err(|e| self.fail(e));
        // Not a large one, whose values would stay in memory until the
        // next write.
        let mut budget = KEPT_UPDATE_BYTES;
        if fits_in(update, &mut budget) {
            *self
                .last_parsed
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some((compiled, compiled_condition));
        }
        written
    }

    /// The error a caller sees: SQLite's errors become
    /// [`Error::Store`] naming this store; the others pass through.
    fn fail(&self, err: anyhow::Error) -> anyhow::Error {
        sqlite_error(&self.location, err)
    }
}

impl Store for LocalStore {
    /// An update of an existing run is checked against the writer's copy
    /// of it and appended to the write log ([`writer`]); creating a run is
    /// one transaction. Either way an invalid update changes nothing.
    fn update_run(
        &self,
        experiment: &str,
        run_id: &str,
        condition: &Document,
        update: &Document,
        upsert: bool,
    ) -> anyhow::Result<()> {
        self.write(experiment, run_id, condition, update, upsert, &[])
    }

    /// The points ride in the run update's write log record: still one
    /// append (see [`series`]).
    fn update_run_with_series(
        &self,
        experiment: &str,
        run_id: &str,
        condition: &Document,
        update: &Document,
        appends: &[Append],
    ) -> anyhow::Result<()> {
        self.write(experiment, run_id, condition, update, true, appends)
    }

    fn series_summaries(
        &self,
        experiment: &str,
        run_id: &str,
        key: &str,
    ) -> anyhow::Result<Vec<BucketSummary>> {
        self.catch_up()?;
        self.read(|conn| series::summaries(conn, experiment, run_id, key))
    }

    fn series_buckets(
        &self,
        experiment: &str,
        run_id: &str,
        key: Option<&str>,
        which: Buckets<'_>,
    ) -> anyhow::Result<Vec<SeriesBucket>> {
        self.catch_up()?;
        self.read(|conn| series::buckets(conn, experiment, run_id, key, &which))
    }

    fn put_series_buckets(
        &self,
        experiment: &str,
        run_id: &str,
        buckets: &[SeriesBucket],
    ) -> anyhow::Result<()> {
        let mut writer = self.writer();
        retry_busy(|| {
            let tx = writer
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            series::put(&tx, experiment, run_id, buckets)?;
            tx.commit()?;
            Ok(())
        })
        .map_err(|e| self.fail(e))
    }

    fn delete_series(&self, experiment: &str, run_id: &str) -> anyhow::Result<()> {
        // Folded first, so that no logged point of the run lands after.
        self.catch_up()?;
        let writer = self.writer();
        retry_busy(|| series::delete(&writer.conn, experiment, run_id)).map_err(|e| self.fail(e))
    }

    fn settle(&self, experiment: &str, run_id: &str) -> anyhow::Result<()> {
        let mut writer = self.writer();
        // Folded first: the fold takes the run from its copy rather than
        // replaying each logged update on the stored one.
        let folded = writer.fold().map_err(|e| self.fail(e));
        writer.forget(experiment, run_id);
        folded
    }

    fn find(
        &self,
        experiment: &str,
        filter: &Document,
        options: &FindOptions,
    ) -> anyhow::Result<Vec<Document>> {
        let query = scan::FindQuery::parse(filter, options).map_err(invalid_query)?;
        self.catch_up()?;
        self.read(|conn| query.run(conn, experiment))
    }

    fn find_page(
        &self,
        experiment: &str,
        filter: &Document,
        options: &FindOptions,
    ) -> anyhow::Result<Page> {
        let query = scan::FindQuery::parse(filter, options).map_err(invalid_query)?;
        self.catch_up()?;
        self.read(|conn| query.page(conn, experiment))
    }

    fn find_raw(
        &self,
        experiment: &str,
        filter: &Document,
        options: &FindOptions,
        visit: &mut RawVisitor<'_>,
    ) -> anyhow::Result<()> {
        let query = scan::FindQuery::parse(filter, options).map_err(invalid_query)?;
        self.catch_up()?;
        let mut visited = false;
        self.read(|conn| {
            // `read` starts again on a busy database: harmless for a read
            // that returns its results, not for one that handed some over.
            if visited {
                anyhow::bail!("the store was busy in the middle of reading runs; try again");
            }
            query.each(conn, experiment, &mut |raw| {
                visited = true;
                visit(raw)
            })
        })
    }

    fn count(&self, experiment: &str, filter: &Document) -> anyhow::Result<u64> {
        let compiled = Filter::parse(filter).map_err(invalid_query)?;
        self.catch_up()?;
        self.read(|conn| {
            if filter.is_empty() {
                // Nothing to evaluate: let SQLite count the index entries.
                let n: i64 = conn
                    .prepare_cached("SELECT count(*) FROM runs WHERE experiment = ?1")?
                    .query_row([experiment], |row| row.get(0))?;
                return Ok(u64::try_from(n).unwrap_or(0));
            }
            let mut n = 0_u64;
            scan::scan(
                conn,
                experiment,
                scan::named_id(filter),
                Some(&compiled),
                |_, _| {
                    n += 1;
                    Ok(std::ops::ControlFlow::Continue(()))
                },
            )?;
            Ok(n)
        })
    }

    fn aggregate(&self, experiment: &str, pipeline: &[Document]) -> anyhow::Result<Vec<Document>> {
        let plan = scan::AggregatePlan::parse(pipeline).map_err(invalid_query)?;
        self.catch_up()?;
        self.read(|conn| plan.run(conn, experiment))
    }

    fn experiments(&self) -> anyhow::Result<Vec<String>> {
        self.read(|conn| {
            // BINARY collation orders by UTF-8 bytes, as Rust's `str` does.
            let mut stmt =
                conn.prepare_cached("SELECT DISTINCT experiment FROM runs ORDER BY experiment")?;
            let names = stmt.query_map([], |row| row.get(0))?;
            Ok(names.collect::<rusqlite::Result<Vec<String>>>()?)
        })
    }

    fn put_artifact(
        &self,
        _experiment: &str,
        _run_id: &str,
        _key: &str,
        bytes: &[u8],
    ) -> anyhow::Result<Bson> {
        // The name is the content's digest: experiment, run and key play no
        // part in it (they are recorded in the run document instead).
        artifacts::put(&self.dir, bytes)
    }

    fn get_artifact(&self, location: &Bson) -> anyhow::Result<Vec<u8>> {
        artifacts::get(&self.dir, location)
    }

    fn delete_runs(&self, experiment: &str, ids: &[Bson]) -> anyhow::Result<u64> {
        self.delete_runs_now(experiment, ids)
            .map_err(|e| self.fail(e))
    }

    fn delete_artifacts(&self, locations: &[Bson]) -> anyhow::Result<()> {
        self.delete_artifacts_now(locations)
            .map_err(|e| self.fail(e))
    }

    fn replace_runs(&self, experiment: &str, runs: &[Document]) -> anyhow::Result<()> {
        self.replace_runs_now(experiment, runs)
            .map_err(|e| self.fail(e))
    }

    fn garbage(
        &self,
        referenced: &[Bson],
        min_age: std::time::Duration,
        remove: bool,
    ) -> anyhow::Result<Vec<crate::Garbage>> {
        self.garbage_now(referenced, min_age, remove)
            .map_err(|e| self.fail(e))
    }

    fn collection(&self, _experiment: &str) -> Option<mongodb::sync::Collection<Document>> {
        None
    }

    /// The name of this process's write log, which it holds locked while
    /// it lives.
    fn liveness(&self) -> anyhow::Result<Document> {
        let name = self.writer().own_log_name().map_err(|e| self.fail(e))?;
        Ok(bson::doc! { WRITE_LOG_FIELD: name })
    }

    /// Gone when the recorded write log's lock can be taken (its owner
    /// ended), or the log is gone (folded and deleted after its owner
    /// ended).
    fn writer_gone(&self, run: &Document) -> bool {
        let Some(name) = run
            .get_document("_yamlett")
            .and_then(|meta| meta.get_str(WRITE_LOG_FIELD))
            .ok()
        else {
            return false;
        };
        // The name comes from a document anyone can write: only a log's
        // own form of name may become a path.
        if name.len() != 32 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
        match writelog::open_other(&writelog::path(&self.dir, name)) {
            Ok(None) => true,
            Ok(Some((_file, orphaned))) => orphaned,
            Err(err) => {
                log::debug!("yamlett: cannot tell whether a run's writer is alive: {err:#}");
                false
            }
        }
    }

    fn location(&self) -> &str {
        &self.location
    }
}

/// Decodes a stored run document.
fn decode(bytes: &[u8]) -> anyhow::Result<Document> {
    decode_raw(raw(bytes)?)
}

/// A stored run's bytes as a raw document, checked only for framing.
fn raw(bytes: &[u8]) -> anyhow::Result<&RawDocument> {
    RawDocument::from_bytes(bytes).context("a stored run document is corrupt")
}

/// Decodes a stored run document already framed as raw BSON.
fn decode_raw(raw: &RawDocument) -> anyhow::Result<Document> {
    decode::document(raw).context("a stored run document is corrupt")
}

/// About the most memory the last parsed update may hold to be kept for
/// the next write: a training loop's flushes hold a few hundred bytes.
const KEPT_UPDATE_BYTES: isize = 4096;

/// Whether the values of `doc` fit in about `budget` bytes (counted down
/// as they are walked, so a large document costs no more than a small one).
fn fits_in(doc: &Document, budget: &mut isize) -> bool {
    doc.iter().all(|(key, value)| {
        *budget -= key.len() as isize;
        value_fits_in(value, budget)
    })
}

/// [`fits_in`] for one value.
fn value_fits_in(value: &Bson, budget: &mut isize) -> bool {
    *budget -= 16;
    let fits = match value {
        Bson::Document(doc) => fits_in(doc, budget),
        Bson::Array(items) => items.iter().all(|item| value_fits_in(item, budget)),
        Bson::String(text) => {
            *budget -= text.len() as isize;
            true
        }
        Bson::Binary(binary) => {
            *budget -= binary.bytes.len() as isize;
            true
        }
        _ => true,
    };
    fits && *budget >= 0
}

/// The engine's refusal, as the caller sees it.
fn invalid_query(err: QueryError) -> anyhow::Error {
    Error::InvalidQuery(err).into()
}

/// Wraps a SQLite error in [`Error::Store`]; other errors pass through.
fn sqlite_error(location: &str, err: anyhow::Error) -> anyhow::Error {
    match err.downcast::<rusqlite::Error>() {
        Ok(sql) => Error::Store {
            store: location.to_owned(),
            message: sql.to_string(),
        }
        .into(),
        Err(other) => other,
    }
}

/// The first field path an update writes (`metrics.f1` in
/// `{$set: {"metrics.f1": …}}`), to name the write in an error; the first
/// operator when it has no fields.
fn first_path(update: &Document) -> String {
    let Some((operator, operand)) = update.iter().next() else {
        return String::new();
    };
    match operand {
        Bson::Document(fields) => fields.keys().next().unwrap_or(operator).clone(),
        _ => operator.clone(),
    }
}
