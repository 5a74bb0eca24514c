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
mod json;
mod scan;
mod schema;

pub use schema::LOCAL_SYNC_ENV;
#[cfg(test)]
mod tests;

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use anyhow::Context;
use bson::{Bson, DateTime, Document, RawDocument};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::Store;
use crate::query::filter::Filter;
use crate::query::update::{Update, UpdateContext};
use crate::query::QueryError;
use crate::{Error, FindOptions};

use schema::retry_busy;

/// The largest run document MongoDB accepts, and so the largest we store.
const MAX_DOCUMENT_SIZE: usize = 16 * 1024 * 1024;

/// How many idle reader connections are kept for reuse. More concurrent
/// readers than this still work; their connections are closed afterwards.
const MAX_IDLE_READERS: usize = 8;

/// How many recently written runs the writer keeps decoded.
const RECENT_RUNS: usize = 8;

/// The writing connection, and the runs it wrote last.
struct Writer {
    conn: Connection,
    recent: Recent,
}

/// The runs this writer wrote last, decoded.
///
/// A training loop writes the same run over and over; decoding its stored
/// BSON for every flush was a quarter of a flush's work. The writer keeps
/// the documents it just committed with their bytes, and reuses one when
/// the bytes in the database are still exactly those (another process may
/// have written the run since: then they differ, and it decodes as usual).
#[derive(Default)]
struct Recent(Vec<(String, String, Vec<u8>, Document)>);

impl Recent {
    /// The document `bytes` of `experiment`/`id` decode to, if kept.
    fn take(&mut self, experiment: &str, id: &str, bytes: &[u8]) -> Option<Document> {
        let at = self
            .0
            .iter()
            .position(|(e, i, b, _)| e == experiment && i == id && b == bytes)?;
        Some(self.0.remove(at).3)
    }

    /// Keeps a document just committed, forgetting the oldest.
    fn keep(&mut self, experiment: &str, id: &str, bytes: Vec<u8>, doc: Document) {
        self.0.retain(|(e, i, _, _)| !(e == experiment && i == id));
        if self.0.len() >= RECENT_RUNS {
            self.0.remove(0);
        }
        self.0
            .push((experiment.to_owned(), id.to_owned(), bytes, doc));
    }
}

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
    writer: Mutex<Writer>,
    /// Idle reader connections, taken out for the length of one read.
    readers: Mutex<Vec<Connection>>,
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
        let location = dir.display().to_string();
        fs::create_dir_all(dir).map_err(|err| Error::Config {
            reason: format!("cannot create the store directory {location}: {err}"),
        })?;
        let db_path = dir.join(schema::DB_FILE);
        schema::inspect(&db_path)?;
        let writer = schema::open_writer(&db_path, schema::Durability::from_env()?)
            .map_err(|err| sqlite_error(&location, err))
            .with_context(|| format!("opening the store {location}"))?;
        Ok(LocalStore {
            dir: dir.to_path_buf(),
            db_path,
            location,
            writer: Mutex::new(Writer {
                conn: writer,
                recent: Recent::default(),
            }),
            readers: Mutex::new(Vec::new()),
        })
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

    /// The error a caller sees: SQLite's errors become
    /// [`Error::Store`] naming this store; the others pass through.
    fn fail(&self, err: anyhow::Error) -> anyhow::Error {
        sqlite_error(&self.location, err)
    }

    /// The transaction of [`Store::update_run`]; see there.
    fn try_update(
        writer: &mut Writer,
        experiment: &str,
        run_id: &str,
        condition: &Filter,
        update: &Update,
        update_doc: &Document,
        upsert: bool,
    ) -> anyhow::Result<()> {
        let tx = writer
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<(i64, Vec<u8>)> = tx
            .prepare_cached("SELECT seq, bson FROM runs WHERE experiment = ?1 AND id = ?2")?
            .query_row((experiment, run_id), |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let now = DateTime::now();
        let (seq, mut doc, is_insert) = match existing {
            Some((_, bytes)) if !condition.matches_raw(raw(&bytes)?).map_err(invalid_query)? => {
                // Applied before: nothing to do, and nothing to commit.
                return Ok(());
            }
            Some((seq, bytes)) => {
                let doc = match writer.recent.take(experiment, run_id, &bytes) {
                    Some(doc) => doc,
                    None => decode(&bytes)?,
                };
                (Some(seq), doc, false)
            }
            None if upsert => (None, bson::doc! { "_id": run_id }, true),
            None => {
                return Err(Error::NotFound {
                    what: format!("run {run_id:?} of experiment {experiment:?}"),
                }
                .into())
            }
        };
        update
            .apply(&mut doc, &UpdateContext { is_insert, now })
            .map_err(invalid_query)?;
        let bytes = encode::to_vec(&doc).map_err(|err| Error::InvalidValue {
            key: first_path(update_doc),
            reason: err.to_string(),
        })?;
        if bytes.len() > MAX_DOCUMENT_SIZE {
            return Err(Error::DocumentTooLarge {
                key: first_path(update_doc),
                size: bytes.len(),
            }
            .into());
        }
        let json = json::relaxed(&doc);
        match seq {
            // UPDATE, never INSERT OR REPLACE: a replace deletes and
            // re-inserts, giving the run a new seq and so a new place in
            // the natural order.
            Some(seq) => {
                tx.prepare_cached("UPDATE runs SET bson = ?1 WHERE seq = ?2")?
                    .execute((&bytes, seq))?;
                tx.prepare_cached("UPDATE runs_json SET json = ?1 WHERE seq = ?2")?
                    .execute((&json, seq))?;
            }
            None => {
                tx.prepare_cached("INSERT INTO runs (experiment, id, bson) VALUES (?1, ?2, ?3)")?
                    .execute((experiment, run_id, &bytes))?;
                let seq = tx.last_insert_rowid();
                tx.prepare_cached("INSERT INTO runs_json (seq, json) VALUES (?1, ?2)")?
                    .execute((seq, &json))?;
            }
        };
        tx.commit()?;
        writer.recent.keep(experiment, run_id, bytes, doc);
        Ok(())
    }
}

impl Store for LocalStore {
    /// One `BEGIN IMMEDIATE` transaction: read the run, apply the update
    /// with the engine, check the size, write BSON and JSON, commit. Any
    /// error drops the transaction, which rolls it back, so nothing changes.
    /// Taking the write lock up front (IMMEDIATE) means the read and the
    /// write see the same state, and no other writer can slip in between.
    fn update_run(
        &self,
        experiment: &str,
        run_id: &str,
        condition: &Document,
        update: &Document,
        upsert: bool,
    ) -> anyhow::Result<()> {
        // Parsed before taking any lock: an invalid update costs no one time.
        let compiled = Update::parse(update).map_err(invalid_query)?;
        let condition = Filter::parse(condition).map_err(invalid_query)?;
        let mut writer = self.writer();
        retry_busy(|| {
            Self::try_update(
                &mut writer,
                experiment,
                run_id,
                &condition,
                &compiled,
                update,
                upsert,
            )
        })
        .map_err(|e| self.fail(e))
    }

    fn find(
        &self,
        experiment: &str,
        filter: &Document,
        options: &FindOptions,
    ) -> anyhow::Result<Vec<Document>> {
        let query = scan::FindQuery::parse(filter, options).map_err(invalid_query)?;
        self.read(|conn| query.run(conn, experiment))
    }

    fn count(&self, experiment: &str, filter: &Document) -> anyhow::Result<u64> {
        let compiled = Filter::parse(filter).map_err(invalid_query)?;
        self.read(|conn| {
            if filter.is_empty() {
                // Nothing to evaluate: let SQLite count the index entries.
                let n: i64 = conn
                    .prepare_cached("SELECT count(*) FROM runs WHERE experiment = ?1")?
                    .query_row([experiment], |row| row.get(0))?;
                return Ok(u64::try_from(n).unwrap_or(0));
            }
            let mut n = 0_u64;
            scan::scan(conn, experiment, Some(&compiled), |_, _| {
                n += 1;
                Ok(std::ops::ControlFlow::Continue(()))
            })?;
            Ok(n)
        })
    }

    fn aggregate(&self, experiment: &str, pipeline: &[Document]) -> anyhow::Result<Vec<Document>> {
        let plan = scan::AggregatePlan::parse(pipeline).map_err(invalid_query)?;
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

    fn collection(&self, _experiment: &str) -> Option<mongodb::sync::Collection<Document>> {
        None
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
