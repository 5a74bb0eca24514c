//! Folding: the updates waiting in write logs (see [`super::writelog`]) applied
//! to the stored runs, in one transaction.
//!
//! Anyone may fold anything: a fold takes the database's write lock, reads
//! every registered log from where the last fold stopped, applies each
//! run's updates in the order they were logged, writes each changed run
//! once (BSON and JSON), and records how far it read, all in that one
//! transaction. So a crash at any point leaves either the old state or the
//! new one, and folding twice never applies an update twice.
//!
//! When it runs: before every read of this store (so a query sees every
//! flush that returned, from any process: a process folds the logs of the
//! others too), when the own log passes a size or an age, when a run ends,
//! and when a store is opened (which is how the log of a process that was
//! killed gets folded, and then deleted).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::time::Instant;

use anyhow::Context;
use bson::Document;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior};

use super::schema::retry_busy;
use super::writelog::{self, Record};
use super::writer::{Cached, Writer};
use super::{decode, encode, json, series, MAX_DOCUMENT_SIZE};
use yamlett_query::Filter;
use yamlett_query::{Update, UpdateContext};

/// Empty the own log after a fold once it is this long.
const RESTART_BYTES: u64 = 4 << 20;

/// One registered log, as a fold reads it.
struct Source {
    name: String,
    generation: i64,
    /// Where the last fold stopped.
    folded: u64,
    /// Where this fold stops: after the last complete record.
    end: u64,
    records: Vec<Record>,
    /// The own log of this writer.
    own: bool,
    /// Its process ended: after this fold the row and the file go. The
    /// file, when there is one, stays open to hold its lock until then.
    orphan: Option<Option<File>>,
}

/// What a fold wrote for one run, to update the writer's copy after.
struct Folded {
    seq: i64,
    bytes: Vec<u8>,
    /// The folded document, when it was replayed (not taken from the copy).
    doc: Option<Document>,
    /// The records set aside (by their place in the run's records): their
    /// series points stay out of the buckets too.
    rejected: Vec<usize>,
}

impl Writer {
    /// Folds every write log into the database, if any has something to
    /// fold.
    pub(super) fn fold(&mut self) -> anyhow::Result<()> {
        if !self.anything_to_fold()? {
            return Ok(());
        }
        retry_busy(|| self.fold_once())?;
        self.last_fold = Instant::now();
        Ok(())
    }

    /// Whether a log has records past its folded offset, or belongs to a
    /// process that ended. Cheap (no write lock): a read of the `logs` rows
    /// and a look at each file.
    fn anything_to_fold(&mut self) -> anyhow::Result<bool> {
        for (name, _, folded) in retry_busy(|| log_rows(&self.conn))? {
            if let Some(own) = self.own.as_ref().filter(|own| own.name == name) {
                if own.len > folded {
                    return Ok(true);
                }
                self.own_folded = folded;
                continue;
            }
            match writelog::open_other(&writelog::path(&self.dir, &name))? {
                None => return Ok(true),
                Some((_, true)) => return Ok(true),
                Some((file, false)) => {
                    if file.metadata()?.len() > folded {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }

    /// Deletes the files in `logs/` that no row registers and no process
    /// holds: left by a process that died between creating its log and
    /// registering it (or between a fold's commit and the deletion).
    /// Returns what it deleted (path and size), or with `remove` false,
    /// what it would delete.
    pub(super) fn sweep_unregistered(
        &mut self,
        remove: bool,
    ) -> anyhow::Result<Vec<(std::path::PathBuf, u64)>> {
        let mut swept = Vec::new();
        let Ok(entries) = fs::read_dir(self.dir.join(writelog::LOG_DIR)) else {
            return Ok(swept); // no log was ever created
        };
        let registered = retry_busy(|| log_rows(&self.conn))?;
        for entry in entries {
            let path = entry?.path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if registered.iter().any(|(name, _, _)| name == stem) {
                continue;
            }
            // A log is locked before it gets its `.log` name, but a `.new`
            // one is briefly unlocked while its creator is alive: only an
            // old one is a leftover.
            let is_log = path.extension().is_some_and(|x| x == "log");
            if !is_log && !is_stale(&path) {
                continue;
            }
            if let Some((file, true)) = writelog::open_other(&path)? {
                let bytes = file.metadata().map_or(0, |m| m.len());
                if !remove {
                    swept.push((path, bytes));
                } else if let Err(err) = fs::remove_file(&path) {
                    log::warn!("yamlett: cannot delete {}: {err}", path.display());
                } else {
                    swept.push((path, bytes));
                }
                drop(file);
            }
        }
        Ok(swept)
    }

    /// One attempt at a fold: the whole transaction, safe to run again
    /// from the start (see [`retry_busy`]).
    fn fold_once(&mut self) -> anyhow::Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut sources = read_sources(&tx, &self.dir, self.own.as_mut())?;
        if sources
            .iter()
            .all(|s| s.records.is_empty() && s.orphan.is_none() && s.end == s.folded)
        {
            return Ok(());
        }
        // Each run's records in the order they were logged: by clock, then
        // (for equal ticks, only ever within one log) by place in the log.
        let mut by_run: BTreeMap<i64, Vec<(i64, usize, usize)>> = BTreeMap::new();
        for (s, source) in sources.iter().enumerate() {
            for (i, record) in source.records.iter().enumerate() {
                by_run
                    .entry(record.seq)
                    .or_default()
                    .push((record.ticks, s, i));
            }
        }
        let mut folded = Vec::with_capacity(by_run.len());
        for (seq, mut order) in by_run {
            order.sort_unstable();
            let records: Vec<&Record> = order
                .iter()
                .map(|&(_, s, i)| &sources[s].records[i])
                .collect();
            let all_own = order.iter().all(|&(_, s, _)| sources[s].own);
            let run = fold_run(&tx, &self.cache, seq, &records, all_own)?;
            let applied: Vec<&Record> = records
                .iter()
                .enumerate()
                .filter(|(i, _)| !run.rejected.contains(i))
                .map(|(_, record)| *record)
                .collect();
            fold_series(&tx, seq, &applied)?;
            folded.push(run);
        }
        let mut restart = None;
        for source in &sources {
            if source.orphan.is_some() {
                tx.prepare_cached("DELETE FROM logs WHERE name = ?1")?
                    .execute([&source.name])?;
            } else if source.own
                && source.end >= RESTART_BYTES
                && self.own.as_ref().is_some_and(|own| own.len == source.end)
            {
                let generation = source.generation + 1;
                tx.prepare_cached("UPDATE logs SET generation = ?1, folded = ?2 WHERE name = ?3")?
                    .execute((generation, writelog::HEADER_LEN as i64, &source.name))?;
                restart = Some(generation);
            } else if source.end != source.folded {
                tx.prepare_cached("UPDATE logs SET folded = ?1 WHERE name = ?2")?
                    .execute((source.end as i64, &source.name))?;
            }
        }
        tx.commit()?;

        // Committed: what is left is tidying, which a crash may skip.
        for source in &mut sources {
            if let Some(file) = source.orphan.take() {
                let path = writelog::path(&self.dir, &source.name);
                if let Err(err) = fs::remove_file(&path) {
                    if err.kind() != std::io::ErrorKind::NotFound {
                        log::warn!("yamlett: cannot delete {}: {err}", path.display());
                    }
                }
                drop(file);
            }
            if source.own {
                self.own_folded = source.end;
            }
        }
        if let Some(generation) = restart {
            let restarted = self
                .own
                .as_mut()
                .map(|own| own.restart(u64::try_from(generation).unwrap_or(0)));
            match restarted {
                Some(Err(err)) => {
                    // The database already says the log is empty; leave the
                    // file (it reads as empty) and start another one.
                    log::warn!("yamlett: cannot empty the write log: {err}");
                    self.own = None;
                }
                _ => self.own_folded = writelog::HEADER_LEN,
            }
        }
        for run in folded {
            let Some(entry) = self.cache.iter_mut().find(|c| c.seq == run.seq) else {
                continue;
            };
            if let Some(doc) = run.doc {
                entry.doc = doc;
            }
            entry.rebase(run.bytes);
        }
        // Every copy now starts from the stored run: this writer's own
        // records are all folded (it holds the writer lock, so none was
        // appended meanwhile).
        for entry in &mut self.cache {
            entry.logged = 0;
        }
        Ok(())
    }
}

/// Applies one run's records to its stored document and writes it.
fn fold_run(
    tx: &Transaction<'_>,
    cache: &[Cached],
    seq: i64,
    records: &[&Record],
    all_own: bool,
) -> anyhow::Result<Folded> {
    let base: Option<Vec<u8>> = tx
        .prepare_cached("SELECT bson FROM runs WHERE seq = ?1")?
        .query_row([seq], |r| r.get(0))
        .optional()?;
    let Some(base) = base else {
        for record in records {
            reject(tx, seq, record, "the run no longer exists")?;
        }
        return Ok(Folded {
            seq,
            bytes: Vec::new(),
            doc: None,
            rejected: (0..records.len()).collect(),
        });
    };
    // The usual case: only this writer logged for the run since the
    // stored version its copy started from, so the copy is the result.
    let copy = cache
        .iter()
        .find(|c| c.seq == seq && all_own && c.logged == records.len() && c.base == base);
    if let Some(copy) = copy {
        if let Some(bytes) = encoded(&copy.doc) {
            write_run(tx, seq, &bytes, &json::relaxed(&copy.doc))?;
            return Ok(Folded {
                seq,
                bytes,
                doc: None,
                rejected: Vec::new(),
            });
        }
    }
    let (doc, rejected) = replay(tx, seq, &base, records)?;
    let bytes = encoded(&doc).context("a folded run cannot be encoded")?;
    write_run(tx, seq, &bytes, &json::relaxed(&doc))?;
    Ok(Folded {
        seq,
        bytes,
        doc: Some(doc),
        rejected,
    })
}

/// Applies the series points of one run's records (see [`series`]), those
/// set aside excepted: each says whether it was applied before.
fn fold_series(tx: &Transaction<'_>, seq: i64, records: &[&Record]) -> anyhow::Result<()> {
    let mut appends = Vec::new();
    for record in records {
        for append in crate::series::packed_appends(record.packed()) {
            appends.push(append?);
        }
    }
    if appends.is_empty() {
        return Ok(());
    }
    let run: Option<(String, String)> = tx
        .prepare_cached("SELECT experiment, id FROM runs WHERE seq = ?1")?
        .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match run {
        Some((experiment, id)) => series::apply_appends(tx, &experiment, &id, appends),
        // The run is gone: its records were set aside with it.
        None => Ok(()),
    }
}

/// Whether a file was last modified long enough ago that no live process
/// can be in the middle of creating it.
fn is_stale(path: &std::path::Path) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_some_and(|age| age > std::time::Duration::from_secs(600))
}

/// The registered logs: name, generation, and offset folded up to.
fn log_rows(conn: &rusqlite::Connection) -> anyhow::Result<Vec<(String, i64, u64)>> {
    let mut stmt = conn.prepare_cached("SELECT name, generation, folded FROM logs")?;
    let rows = stmt.query_map([], |r| {
        let folded: i64 = r.get(2)?;
        Ok((r.get(0)?, r.get(1)?, u64::try_from(folded).unwrap_or(0)))
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Reads every registered log from where it was last folded.
fn read_sources(
    tx: &Transaction<'_>,
    dir: &std::path::Path,
    mut own: Option<&mut writelog::OwnLog>,
) -> anyhow::Result<Vec<Source>> {
    let rows = log_rows(tx)?;
    let mut sources = Vec::with_capacity(rows.len());
    for (name, generation, folded) in rows {
        let mut source = Source {
            name,
            generation,
            folded,
            end: folded,
            records: Vec::new(),
            own: false,
            orphan: None,
        };
        match own.as_deref_mut().filter(|own| own.name == source.name) {
            Some(own) => {
                // Only this writer changes its log's generation.
                (source.records, source.end) = own.read_from(folded)?;
                source.own = true;
            }
            None => match writelog::open_other(&writelog::path(dir, &source.name))? {
                // Deleted by hand, or a crash after it was registered
                // somewhere it cannot be read: nothing to fold.
                None => source.orphan = Some(None),
                Some((mut file, orphaned)) => {
                    let current = writelog::generation(&mut file)?
                        .is_some_and(|g| i64::try_from(g).is_ok_and(|g| g == generation));
                    // An older or missing header: the log was emptied after a
                    // fold that read all of it, and nothing was added since.
                    if current {
                        (source.records, source.end) = writelog::read_from(&mut file, folded)?;
                    }
                    if orphaned {
                        source.orphan = Some(Some(file));
                    }
                }
            },
        }
        sources.push(source);
    }
    Ok(sources)
}

/// The BSON of a folded run, if it can be stored.
fn encoded(doc: &Document) -> Option<Vec<u8>> {
    encode::to_vec(doc)
        .ok()
        .filter(|bytes| bytes.len() <= MAX_DOCUMENT_SIZE)
}

/// Writes a run's new version.
fn write_run(tx: &Transaction<'_>, seq: i64, bytes: &[u8], json: &str) -> anyhow::Result<()> {
    tx.prepare_cached("UPDATE runs SET bson = ?1 WHERE seq = ?2")?
        .execute((bytes, seq))?;
    tx.prepare_cached("UPDATE runs_json SET json = ?1 WHERE seq = ?2")?
        .execute((json, seq))?;
    Ok(())
}

/// The stored run `base` with `records` applied in order, and the places
/// of the records set aside. A record whose condition does not match was
/// applied before and is skipped; one that fails (possible only when
/// several processes write the same run: each checked its update against
/// its own view) is set aside in `rejected`, never dropped, and so is one
/// that would take the run over 16 MiB.
fn replay(
    tx: &Transaction<'_>,
    seq: i64,
    base: &[u8],
    records: &[&Record],
) -> anyhow::Result<(Document, Vec<usize>)> {
    let mut doc = decode(base)?;
    let mut failed = Vec::new();
    for (i, record) in records.iter().enumerate() {
        // All or nothing: a failed update leaves `doc` as it was.
        if let Err(err) = apply(&mut doc, record) {
            failed.push((i, format!("{err:#}")));
        }
    }
    if encoded(&doc).is_none() {
        // Rare: the run outgrew 16 MiB. Again, one record at a time, setting
        // aside each one that takes it over.
        doc = decode(base)?;
        failed.clear();
        for (i, record) in records.iter().enumerate() {
            let mut next = doc.clone();
            match apply(&mut next, record) {
                Ok(()) if encoded(&next).is_some() => doc = next,
                Ok(()) => failed.push((i, "the run would be over 16 MiB".to_owned())),
                Err(err) => failed.push((i, format!("{err:#}"))),
            }
        }
    }
    for (i, reason) in &failed {
        reject(tx, seq, records[*i], reason)?;
    }
    Ok((doc, failed.into_iter().map(|(i, _)| i).collect()))
}

/// Applies one record to `doc`, if its condition matches.
fn apply(doc: &mut Document, record: &Record) -> anyhow::Result<()> {
    let logged = record.decode()?;
    if !Filter::parse(&logged.condition)?.matches(doc)? {
        return Ok(()); // applied before
    }
    // Another process logged to one of its series meanwhile.
    crate::series::check_expected_counts(doc, &record.appends()?)?;
    Update::parse(&logged.update)?.apply(
        doc,
        &UpdateContext {
            is_insert: false,
            now: logged.now,
        },
    )?;
    Ok(())
}

/// Sets a record that cannot be applied aside, with the reason, and says so.
fn reject(tx: &Transaction<'_>, seq: i64, record: &Record, reason: &str) -> anyhow::Result<()> {
    log::error!("yamlett: a logged update of run #{seq} cannot be applied ({reason}); it is kept in the table `rejected`");
    let update = record
        .decode()
        .map(|logged| json::relaxed(&logged.update))
        .unwrap_or_default();
    // Its series points, which stay out of the buckets with it.
    let points = match record.appends() {
        Ok(appends) if !appends.is_empty() => {
            Some(json::relaxed(&series::appends_document(&appends)))
        }
        _ => None,
    };
    tx.prepare_cached(
        "INSERT INTO rejected (seq, at, reason, update_json, points_json)
         VALUES (?1, datetime('now'), ?2, ?3, ?4)",
    )?
    .execute((seq, reason, update, points))?;
    Ok(())
}
