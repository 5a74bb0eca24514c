//! Where runs live: one trait, one module per store.
//!
//! [`Run`](crate::Run) and [`Experiment`](crate::Experiment) talk to a
//! `dyn Store` only, and hand it MongoDB's own vocabulary — an update
//! document, a filter, a pipeline — so neither ever asks which store it has.
//! The MongoDB store forwards them to the server; the embedded store applies
//! them with the [query engine](crate::query).

use std::fmt;

use bson::{doc, Bson, DateTime, Document};

use crate::series::{Append, BucketSummary, SeriesBucket};
use crate::{FindOptions, Page};

/// Which buckets of a series to read.
#[derive(Debug, Clone)]
pub(crate) enum Buckets<'a> {
    /// All of them.
    All,
    /// Those with these indexes.
    Indexes(&'a [i64]),
}

/// What [`Store::find_raw`] calls with each run.
pub(crate) type RawVisitor<'v> =
    dyn FnMut(&bson::RawDocument) -> anyhow::Result<std::ops::ControlFlow<()>> + 'v;

/// The run field a heartbeat refreshes.
pub(crate) const HEARTBEAT_AT_FIELD: &str = "_yamlett.heartbeat_at";

/// A heartbeat only touches runs whose status this field says is running.
const HEARTBEAT_CONDITION_FIELD: &str = "_yamlett.status";

/// The operations a store offers. Every method is blocking.
///
/// Errors are `anyhow::Error`s wrapping a [`crate::Error`] whenever the cause
/// is one a caller could act on (unreachable, invalid query, conflict, …).
pub(crate) trait Store: Send + Sync + fmt::Debug {
    /// Applies a MongoDB update document (`$set`, `$push`, `$setOnInsert`, …)
    /// to the run `run_id` of `experiment` as one atomic write, if the run
    /// matches the filter `condition`. A run that exists but does not match
    /// is left alone, and that is a success: the condition says the write
    /// was applied before (see the run's writer stamps). A store may leave
    /// the condition out of a write's first attempt, which cannot have been
    /// applied before, and check it only on a copy sent again. With `upsert` a
    /// missing run is created (`{_id: run_id}` plus the update, with
    /// `$setOnInsert` applied); without it a missing run is
    /// [`Error::NotFound`](crate::Error::NotFound).
    fn update_run(
        &self,
        experiment: &str,
        run_id: &str,
        condition: &Document,
        update: &Document,
        upsert: bool,
    ) -> anyhow::Result<()>;

    /// [`Store::update_run`], and the points `appends` adds to the run's
    /// series buckets, as one write: one append to the embedded store's
    /// write log, one command to MongoDB (8.0 and later). Each bucket
    /// append applies once however often the write is replayed: it says
    /// how many points the bucket held before it.
    fn update_run_with_series(
        &self,
        experiment: &str,
        run_id: &str,
        condition: &Document,
        update: &Document,
        appends: &[Append],
    ) -> anyhow::Result<()>;

    /// The summaries of the buckets of the series `key` of a run, in order.
    fn series_summaries(
        &self,
        experiment: &str,
        run_id: &str,
        key: &str,
    ) -> anyhow::Result<Vec<BucketSummary>>;

    /// Buckets of a run's series, whole, ordered by key then index: of the
    /// series `key`, or of all its series.
    fn series_buckets(
        &self,
        experiment: &str,
        run_id: &str,
        key: Option<&str>,
        which: Buckets<'_>,
    ) -> anyhow::Result<Vec<SeriesBucket>>;

    /// Writes whole buckets, replacing any with the same run, key and index
    /// (copying a run's series from another store).
    fn put_series_buckets(
        &self,
        experiment: &str,
        run_id: &str,
        buckets: &[SeriesBucket],
    ) -> anyhow::Result<()>;

    /// Deletes every bucket of every series of a run: one range delete.
    fn delete_series(&self, experiment: &str, run_id: &str) -> anyhow::Result<()>;

    /// The runs of `experiment` matching `filter`, shaped by `options`.
    fn find(
        &self,
        experiment: &str,
        filter: &Document,
        options: &FindOptions,
    ) -> anyhow::Result<Vec<Document>>;

    /// [`Store::find`] one run at a time: calls `visit` with the bytes of
    /// each run as it is read, until it returns `Break`, so that memory
    /// does not grow with the number of runs (without a sort; a sort needs
    /// every match, or the best skip + limit, before the first).
    fn find_raw(
        &self,
        experiment: &str,
        filter: &Document,
        options: &FindOptions,
        visit: &mut RawVisitor<'_>,
    ) -> anyhow::Result<()>;

    /// How many runs of `experiment` match `filter`.
    fn count(&self, experiment: &str, filter: &Document) -> anyhow::Result<u64>;

    /// The runs of `experiment` matching `filter`, shaped by `options`, and
    /// how many match in all. Here a count and a find, which the server
    /// answers from its indexes; a store that must scan does it once.
    fn find_page(
        &self,
        experiment: &str,
        filter: &Document,
        options: &FindOptions,
    ) -> anyhow::Result<Page> {
        let total = self.count(experiment, filter)?;
        let runs = self.find(experiment, filter, options)?;
        Ok(Page { total, runs })
    }

    /// Runs an aggregation pipeline over the runs of `experiment`.
    fn aggregate(&self, experiment: &str, pipeline: &[Document]) -> anyhow::Result<Vec<Document>>;

    /// The names of the experiments that hold at least one run, sorted.
    fn experiments(&self) -> anyhow::Result<Vec<String>>;

    /// Saves an artifact's bytes and returns where they are, as a value the
    /// run document can hold; [`Store::get_artifact`] takes it back.
    fn put_artifact(
        &self,
        experiment: &str,
        run_id: &str,
        key: &str,
        bytes: &[u8],
    ) -> anyhow::Result<Bson>;

    /// Reads back the bytes saved by [`Store::put_artifact`].
    fn get_artifact(&self, location: &Bson) -> anyhow::Result<Vec<u8>>;

    /// Deletes the runs of `experiment` whose `_id` is one of `ids`, at
    /// once (no journal: an unreachable store is an error), and returns how
    /// many there were. Their artifacts are [`Store::delete_artifacts`]'s job.
    fn delete_runs(&self, experiment: &str, ids: &[Bson]) -> anyhow::Result<u64>;

    /// Deletes the artifacts at `locations` (as [`Store::put_artifact`]
    /// returned them) that no run references any more: the embedded store
    /// names files by their content, so two runs may share one.
    fn delete_artifacts(&self, locations: &[Bson]) -> anyhow::Result<()>;

    /// Writes whole run documents (each with its `_id`) into `experiment`,
    /// inserting the new and replacing the existing ones, in as few
    /// round trips or transactions as their size allows.
    fn replace_runs(&self, experiment: &str, runs: &[Document]) -> anyhow::Result<()>;

    /// What nothing needs any more: artifacts whose locations are not in
    /// `referenced` and that are older than `min_age`, leftovers of
    /// interrupted writes, spent logs, journal space, and the series
    /// buckets of runs that no longer exist (whatever their age: a run is
    /// written with or before its buckets). With `remove` it
    /// is removed too.
    fn garbage(
        &self,
        referenced: &[Bson],
        min_age: std::time::Duration,
        remove: bool,
    ) -> anyhow::Result<Vec<crate::Garbage>>;

    /// The driver collection behind `experiment`, on the MongoDB store.
    fn collection(&self, experiment: &str) -> Option<mongodb::sync::Collection<Document>>;

    /// The store's location for messages, with any password redacted.
    fn location(&self) -> &str;

    /// Called when the run `run_id` of `experiment` ends: makes everything
    /// written so far final in the store's own form (the embedded store
    /// folds its write log, so that SQL tools see the finished run, and
    /// forgets its copy of the run; the MongoDB store waits a bounded time
    /// for writes journaled during an outage to reach the server, and warns
    /// about any that could not).
    fn settle(&self, experiment: &str, run_id: &str) -> anyhow::Result<()> {
        let _ = (experiment, run_id);
        Ok(())
    }

    /// Refreshes `_yamlett.heartbeat_at` to `at` in the runs `run_ids` of
    /// `experiment` that are still running (see the run's heartbeat). A
    /// store that can do it in one write does.
    fn heartbeat(&self, experiment: &str, run_ids: &[String], at: DateTime) -> anyhow::Result<()> {
        // The condition is checked on every attempt here: a store that
        // leaves conditions out of first attempts has its own heartbeat.
        let condition = doc! { HEARTBEAT_CONDITION_FIELD: "running" };
        let update = doc! { "$set": { HEARTBEAT_AT_FIELD: at } };
        for run_id in run_ids {
            self.update_run(experiment, run_id, &condition, &update, false)?;
        }
        Ok(())
    }

    /// Fields to record under `_yamlett` in a run this process opens, by
    /// which a reader can later tell whether this process is gone (see
    /// [`Store::writer_gone`]); none for a store that cannot tell.
    fn liveness(&self) -> anyhow::Result<Document> {
        Ok(Document::new())
    }

    /// Whether the process that last opened `run` is provably gone, told
    /// without waiting from the fields of [`Store::liveness`]; `false`
    /// when the store cannot tell.
    fn writer_gone(&self, run: &Document) -> bool {
        let _ = run;
        false
    }

    /// Replays writes journaled during an outage, now. A store without a
    /// journal has nothing to do.
    fn sync(&self) -> anyhow::Result<crate::SyncReport> {
        Ok(crate::SyncReport::default())
    }

    /// Waits a bounded time for every write made so far to reach the
    /// store ([`crate::flush`]); an error says what still waits, and where.
    /// A store whose writes are durable when they return (the embedded
    /// store's write log) has nothing to wait for.
    fn drain(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

mod journal;
mod local;
mod mongo;

pub use local::LOCAL_SYNC_ENV;
pub use mongo::{EXIT_DRAIN_ENV, FLUSH_TIMEOUT_ENV, JOURNAL_DIR_ENV};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use once_cell::sync::Lazy;

use crate::location::Location;

/// One store per location for the whole process: every Run and Experiment
/// opened on the same URI shares one driver client (and its connection
/// pool) or one embedded database handle.
static STORES: Lazy<Mutex<HashMap<Location, Arc<dyn Store>>>> = Lazy::new(Default::default);

/// Every store this process has opened.
pub(crate) fn opened() -> Vec<Arc<dyn Store>> {
    let stores = STORES.lock().unwrap_or_else(PoisonError::into_inner);
    stores.values().cloned().collect()
}

/// The process-wide store at `location`, opened on first use.
pub(crate) fn open(location: &Location) -> anyhow::Result<Arc<dyn Store>> {
    let mut stores = STORES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(store) = stores.get(location) {
        return Ok(Arc::clone(store));
    }
    let store: Arc<dyn Store> = match location {
        Location::MongoDb { uri, redacted } => {
            Arc::new(mongo::MongoStore::connect(uri, redacted.clone())?)
        }
        Location::Local { dir } => Arc::new(local::LocalStore::open(dir)?),
    };
    stores.insert(location.clone(), Arc::clone(&store));
    Ok(store)
}
