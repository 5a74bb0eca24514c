//! The write path: a flush to an existing run is checked against a copy of
//! the run kept in memory and appended to this process's write log (see
//! [`super::writelog`]); creating a run is a transaction of its own.
//!
//! The copy is what makes the append safe to acknowledge: the update is
//! applied to it first, so an update MongoDB would refuse (a `$push` to a
//! number, a run over 16 MiB) is refused here, with nothing logged. A
//! training loop writes the same run over and over, so the copy is almost
//! always there, and a step costs an encode of its update and one `write`.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use bson::{DateTime, Document};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::schema::{retry_busy, Durability};
use super::writelog::{self, OwnLog};
use super::{decode, encode, first_path, invalid_query, json, series, MAX_DOCUMENT_SIZE};
use crate::series::Append;
use crate::Error;
use yamlett_query::Filter;
use yamlett_query::{Update, UpdateContext};

/// Starts the thread that folds what a writer logged once it has been idle
/// for [`FOLD_INTERVAL`] (a training loop that stops flushing for a while
/// would otherwise keep its last steps out of SQL tools' sight until its
/// next flush). It ends with the store.
pub(super) fn fold_when_idle(writer: Weak<Mutex<Writer>>) {
    let spawned = thread::Builder::new()
        .name("yamlett-fold".to_owned())
        .spawn(move || loop {
            thread::sleep(FOLD_INTERVAL);
            let Some(writer) = writer.upgrade() else {
                return;
            };
            let mut writer = writer.lock().unwrap_or_else(PoisonError::into_inner);
            let unfolded = writer.unfolded() > 0;
            if unfolded && writer.last_fold.elapsed() >= FOLD_INTERVAL {
                if let Err(err) = writer.fold() {
                    log::warn!("yamlett: folding the write log failed: {err:#}");
                }
            }
        });
    if let Err(err) = spawned {
        // Folds still happen at flushes, reads and the end of each run.
        log::warn!("yamlett: cannot start the folding thread: {err}");
    }
}

/// How many runs the writer keeps a copy of.
/// A write to a run without a copy folds and decodes it, about a
/// millisecond, so a process that writes many runs in turn (models trained
/// side by side) must not evict copies it is about to use again...
const CACHED_RUNS: usize = 256;

/// ...but copies of very large runs must not pile up either: beyond this
/// many bytes (of BSON, counted by the size bounds) the oldest copies go.
const CACHED_BYTES: usize = 32 << 20;

/// Fold once this much of the own log is unfolded, so that the log stays
/// small and a fold is never long.
const FOLD_BYTES: u64 = 1 << 20;

/// Fold at the next flush once this long has passed since the last fold, so
/// that SQL tools (which read the database, not the logs) see a live run at
/// most about this far behind.
const FOLD_INTERVAL: Duration = Duration::from_secs(1);

/// A run as this process last knew it.
pub(super) struct Cached {
    pub(super) experiment: String,
    pub(super) id: String,
    /// Its row.
    pub(super) seq: i64,
    /// The run: the stored document `base`, then every update this process
    /// logged for it since.
    pub(super) doc: Document,
    /// The stored bytes `doc` started from.
    pub(super) base: Vec<u8>,
    /// How many records this process logged for the run since `base`.
    pub(super) logged: usize,
    /// An upper bound of `doc`'s BSON size; the exact size is computed only
    /// when the bound passes the 16 MiB limit.
    size_bound: usize,
}

impl Cached {
    /// Records that the stored run is now `bytes`, which `doc` is.
    pub(super) fn rebase(&mut self, bytes: Vec<u8>) {
        self.size_bound = bytes.len();
        self.base = bytes;
        self.logged = 0;
    }
}

/// The only connection of this store that writes, its run copies and its
/// write log.
pub(super) struct Writer {
    pub(super) conn: Connection,
    pub(super) dir: PathBuf,
    pub(super) durability: Durability,
    /// Most recently used last.
    pub(super) cache: Vec<Cached>,
    /// This store's log, created at its first append.
    pub(super) own: Option<OwnLog>,
    /// How much of the own log this writer last folded (or found folded).
    pub(super) own_folded: u64,
    pub(super) last_fold: Instant,
    /// The buffer each flush frames its record in (see [`writelog::frame`]).
    record: Vec<u8>,
}

/// The largest record buffer kept between flushes: a training loop's
/// records are a few hundred bytes; a guard that flushed megabytes of
/// points once does not keep them allocated.
const RECORD_BUFFER_BYTES: usize = 64 << 10;

impl Writer {
    pub(super) fn new(conn: Connection, dir: PathBuf, durability: Durability) -> Writer {
        Writer {
            conn,
            dir,
            durability,
            cache: Vec::new(),
            own: None,
            own_folded: writelog::HEADER_LEN,
            last_fold: Instant::now(),
            record: Vec::new(),
        }
    }

    /// Applies `update` to the run if it matches `condition` (see
    /// [`crate::store::Store::update_run`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn update(
        &mut self,
        experiment: &str,
        run_id: &str,
        condition: &Filter,
        condition_doc: &Document,
        update: &Update,
        update_doc: &Document,
        upsert: bool,
        appends: &[Append],
    ) -> anyhow::Result<()> {
        let at = match self.cached(experiment, run_id) {
            Some(at) => at,
            None => {
                // Fold first, so that the stored run has every update
                // logged so far, by any process.
                self.fold()?;
                match self.load(experiment, run_id)? {
                    Some(at) => at,
                    None if upsert => {
                        if self.create(experiment, run_id, update, update_doc, appends)? {
                            return Ok(());
                        }
                        // Another process created it since we looked.
                        self.load(experiment, run_id)?.ok_or_else(|| {
                            anyhow::anyhow!("run {run_id:?} vanished while being created")
                        })?
                    }
                    None => {
                        return Err(Error::NotFound {
                            what: format!("run {run_id:?} of experiment {experiment:?}"),
                        }
                        .into())
                    }
                }
            }
        };
        let entry = &mut self.cache[at];
        if !condition.matches(&entry.doc).map_err(invalid_query)? {
            return Ok(()); // applied before
        }
        crate::series::check_expected_counts(&entry.doc, appends)?;
        let now = DateTime::now();
        // All or nothing: on an error the copy is unchanged.
        update
            .apply(
                &mut entry.doc,
                &UpdateContext {
                    is_insert: false,
                    now,
                },
            )
            .map_err(invalid_query)?;
        let mut framed = std::mem::take(&mut self.record);
        let checked = writelog::frame(
            entry.seq,
            writelog::ticks(),
            now,
            update_doc,
            condition_doc,
            appends,
            &mut framed,
        )
        .and_then(|()| {
            // The update cannot grow the run by much more than its own size
            // (array indexes are the only keys it does not spell out).
            entry.size_bound = entry.size_bound.saturating_add(2 * framed.len() + 64);
            if entry.size_bound > MAX_DOCUMENT_SIZE {
                entry.size_bound = storable(&entry.doc, update_doc)?.len();
            }
            Ok(())
        });
        let appended = checked.and_then(|()| self.append(&framed));
        // Kept for the next flush, unless one large flush made it large.
        if framed.capacity() <= RECORD_BUFFER_BYTES {
            self.record = framed;
        }
        if let Err(err) = appended {
            // The copy has the update the log does not: forget it.
            self.cache.remove(at);
            return Err(err);
        }
        let mut entry = self.cache.remove(at);
        entry.logged += 1;
        self.cache.push(entry);
        let unfolded = self.unfolded();
        if unfolded > FOLD_BYTES || self.last_fold.elapsed() > FOLD_INTERVAL {
            if let Err(err) = self.fold() {
                // The update is safe in the log; the next fold takes it.
                log::warn!("yamlett: folding the write log failed: {err:#}");
            }
        }
        Ok(())
    }

    /// How many bytes of the own log this writer has not folded yet.
    fn unfolded(&self) -> u64 {
        self.own
            .as_ref()
            .map_or(0, |own| own.len.saturating_sub(self.own_folded))
    }

    /// Appends a framed record to the own log, creating it first if needed.
    fn append(&mut self, framed: &[u8]) -> anyhow::Result<()> {
        if self.own.is_none() {
            self.own = Some(self.create_log()?);
        }
        let sync = self.durability == Durability::Power;
        let Some(own) = self.own.as_mut() else {
            unreachable!("created above")
        };
        if let Err(err) = own.append(framed, sync) {
            // Part of the record may be in the file, and nothing can follow
            // a torn record: leave this log (unlocked, it is folded up to
            // the tear as any ended process's log) and start a new one.
            self.own = None;
            return Err(anyhow::Error::new(err).context("appending to the write log"));
        }
        Ok(())
    }

    /// The name of this store's own log, created now if it was not yet:
    /// its lock tells other processes whether this one is alive.
    pub(super) fn own_log_name(&mut self) -> anyhow::Result<String> {
        if self.own.is_none() {
            self.own = Some(self.create_log()?);
        }
        Ok(self
            .own
            .as_ref()
            .map(|own| own.name.clone())
            .unwrap_or_default())
    }

    /// Creates the own log and registers it.
    fn create_log(&mut self) -> anyhow::Result<OwnLog> {
        let own = OwnLog::create(&self.dir, 0, self.durability == Durability::Power)?;
        retry_busy(|| {
            self.conn.execute(
                "INSERT INTO logs (name, generation, folded) VALUES (?1, 0, ?2)",
                (&own.name, writelog::HEADER_LEN as i64),
            )?;
            Ok(())
        })?;
        self.own_folded = writelog::HEADER_LEN;
        Ok(own)
    }

    /// Where the copy of a run is in the cache.
    fn cached(&self, experiment: &str, id: &str) -> Option<usize> {
        self.cache
            .iter()
            .rposition(|c| c.id == id && c.experiment == experiment)
    }

    /// Reads a stored run into the cache; `None` if there is no such run.
    fn load(&mut self, experiment: &str, id: &str) -> anyhow::Result<Option<usize>> {
        let row: Option<(i64, Vec<u8>)> = retry_busy(|| {
            Ok(self
                .conn
                .prepare_cached("SELECT seq, bson FROM runs WHERE experiment = ?1 AND id = ?2")?
                .query_row((experiment, id), |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?)
        })?;
        let Some((seq, base)) = row else {
            return Ok(None);
        };
        let doc = decode(&base)?;
        self.keep(Cached {
            experiment: experiment.to_owned(),
            id: id.to_owned(),
            seq,
            doc,
            size_bound: base.len(),
            base,
            logged: 0,
        });
        Ok(Some(self.cache.len() - 1))
    }

    /// Drops the copy of a run that ended. Any record logged for it is
    /// folded by the next fold as usual: a fold needs no copy.
    pub(super) fn forget(&mut self, experiment: &str, id: &str) {
        if let Some(at) = self.cached(experiment, id) {
            self.cache.remove(at);
        }
    }

    /// Adds a copy, forgetting the least recently used one.
    fn keep(&mut self, entry: Cached) {
        self.cache.push(entry);
        let mut bytes: usize = self.cache.iter().map(|c| c.size_bound).sum();
        // The newest copy stays, however large.
        while self.cache.len() > 1 && (self.cache.len() > CACHED_RUNS || bytes > CACHED_BYTES) {
            bytes -= self.cache.remove(0).size_bound;
        }
    }

    /// Creates a missing run: `{_id}` plus the update, with `$setOnInsert`,
    /// in one transaction. False, with nothing written, if another process
    /// created it meanwhile.
    fn create(
        &mut self,
        experiment: &str,
        run_id: &str,
        update: &Update,
        update_doc: &Document,
        appends: &[Append],
    ) -> anyhow::Result<bool> {
        let inserted = retry_busy(|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let exists = tx
                .prepare_cached("SELECT 1 FROM runs WHERE experiment = ?1 AND id = ?2")?
                .exists((experiment, run_id))?;
            if exists {
                return Ok(None);
            }
            let mut doc = bson::doc! { "_id": run_id };
            let context = UpdateContext {
                is_insert: true,
                now: DateTime::now(),
            };
            update.apply(&mut doc, &context).map_err(invalid_query)?;
            let bytes = storable(&doc, update_doc)?;
            tx.prepare_cached("INSERT INTO runs (experiment, id, bson) VALUES (?1, ?2, ?3)")?
                .execute((experiment, run_id, &bytes))?;
            let seq = tx.last_insert_rowid();
            tx.prepare_cached("INSERT INTO runs_json (seq, json) VALUES (?1, ?2)")?
                .execute((seq, json::relaxed(&doc)))?;
            // A run created with points (rare: `open` creates runs without)
            // goes through the one form a fold applies, the packed one.
            let mut packed = Vec::new();
            crate::series::pack(appends, &mut packed);
            let appends =
                crate::series::packed_appends(&packed).collect::<anyhow::Result<Vec<_>>>()?;
            series::apply_appends(&tx, experiment, run_id, appends)?;
            tx.commit()?;
            Ok(Some((seq, bytes, doc)))
        })?;
        let Some((seq, base, doc)) = inserted else {
            return Ok(false);
        };
        self.keep(Cached {
            experiment: experiment.to_owned(),
            id: run_id.to_owned(),
            seq,
            doc,
            size_bound: base.len(),
            base,
            logged: 0,
        });
        Ok(true)
    }
}

/// The BSON of a run `update` produced, or the error naming the update's
/// first field if it cannot be stored (a NUL in a key, over 16 MiB).
fn storable(doc: &Document, update: &Document) -> anyhow::Result<Vec<u8>> {
    let bytes = encode::to_vec(doc).map_err(|err| Error::InvalidValue {
        key: first_path(update),
        reason: err.to_string(),
    })?;
    if bytes.len() > MAX_DOCUMENT_SIZE {
        return Err(Error::DocumentTooLarge {
            key: first_path(update),
            size: bytes.len(),
        }
        .into());
    }
    Ok(bytes)
}
