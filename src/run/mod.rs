//! A run: one iteration of an experiment, stored as one document.

mod buffer;
mod guard;
mod heartbeat;
mod provenance;
mod series;
mod status;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bson::{doc, Bson, DateTime, Document};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use guard::RunGuard;
pub use heartbeat::HEARTBEAT_ENV;
pub(crate) use status::status_of;
pub use status::RunStatus;

use self::buffer::{Buffer, Fold};
use self::series::{NewKey, SeriesLog};
use crate::experiment::Experiment;
use crate::key::{self, METADATA_FIELD, WRITERS_FIELD};
use crate::location::Location;
use crate::store::Buckets;
use crate::{artifact, Error, FindOptions, Series};
use yamlett_query::{Update, UpdateContext};

/// The experiment a run belongs to unless told otherwise.
pub const DEFAULT_EXPERIMENT: &str = "runs";

/// One iteration of an experiment: params, data facts, metrics and artifacts
/// stored under dotted keys of one document.
///
/// Without a guard every [`store`](Run::store) and [`push`](Run::push) is
/// one write. Inside [`enter`](Run::enter) they are buffered and the
/// outermost guard writes them all as one update when it drops — Python's
/// `with run:` block.
///
/// `Run` is cheap to clone (all clones are the same run) and `Send + Sync`:
/// threads may store into one run, and guards opened on several threads share
/// one buffer. When the last clone drops, the run is marked `finished` (or
/// `failed`, if dropped while panicking).
///
/// ```
/// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-run"));
/// use yamlett::Run;
///
/// let run = Run::new()?;
/// {
///     let _guard = run.enter();
///     run.store("params.model", &[("C", 0.01)].into_iter().collect::<std::collections::BTreeMap<_, _>>())?;
///     run.store("data.n_observations", 3500)?;
/// } // one write here
/// run.push("metrics.loss", 0.42)?;
/// assert_eq!(run.data()?.get_document("params")?.get_document("model")?.get_f64("C")?, 0.01);
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone)]
pub struct Run {
    inner: Arc<RunInner>,
}

struct RunInner {
    id: String,
    experiment: Experiment,
    state: Mutex<RunState>,
    /// Refreshes the run's heartbeat while it is open.
    heartbeat: Option<heartbeat::Beat>,
}

#[derive(Default)]
struct RunState {
    /// Open guards on this run, across threads.
    guards: usize,
    buffer: Buffer,
    /// The run's metric series, and their points waiting for a flush.
    series: SeriesLog,
    /// Set once `finished` or `failed` has been written.
    ended: bool,
    /// This handle's writer stamp.
    stamp: Stamp,
    /// The last flush's update document, emptied: the next flush fills it
    /// rather than allocating its maps again (a guard per training step
    /// flushes thousands of times a second).
    spare_update: Document,
}

/// Makes every write exactly-once, however often it is sent.
///
/// Each `Run` handle is a writer with a random name, and numbers its writes
/// 1, 2, 3, … (they are sent one at a time, under the run's lock). A write
/// sets `_yamlett.writers.<name>` to its number, and only applies to a run
/// whose number for that writer is below it. So a write that the MongoDB
/// store journaled during an outage, or sent again after losing the reply,
/// is skipped if it had in fact been applied, and replaying a journal in
/// order can never apply anything twice.
#[derive(Debug)]
struct Stamp {
    /// The field holding the writer's last applied write number,
    /// `_yamlett.writers.<name>`, named once.
    field: String,
    /// The number of the last write.
    number: i64,
    /// The condition for the write `number`: `{<field>: {$not: {$gte:
    /// number}}}`, built once and renumbered in place by every write (a
    /// guard per training step sends thousands a second).
    condition: Document,
}

impl Default for Stamp {
    fn default() -> Stamp {
        // A letter first: a field name of digits would read as an array
        // index in a dotted path.
        let field = format!(
            "{METADATA_FIELD}.{WRITERS_FIELD}.w{}",
            uuid::Uuid::new_v4().simple()
        );
        let condition = doc! { field.as_str(): { "$not": { "$gte": 0_i64 } } };
        Stamp {
            field,
            number: 0,
            condition,
        }
    }
}

impl Stamp {
    /// Numbers the next write; [`Stamp::condition`] is now its condition.
    fn next(&mut self) -> i64 {
        self.number += 1;
        let bound = self
            .condition
            .iter_mut()
            .next()
            .and_then(|(_, not)| not.as_document_mut())
            .and_then(|not| not.iter_mut().next())
            .and_then(|(_, gte)| gte.as_document_mut())
            .and_then(|gte| gte.iter_mut().next());
        match bound {
            Some((_, bound)) => *bound = Bson::Int64(self.number),
            None => unreachable!("the condition is built with its bound"),
        }
        self.number
    }

    /// The condition the run must meet for the last numbered write to apply.
    fn condition(&self) -> &Document {
        &self.condition
    }
}

/// Opens a run with a chosen experiment, id or store.
///
/// ```
/// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-builder"));
/// let run = yamlett::Run::builder().experiment("iris").id("baseline").open()?;
/// assert_eq!(run.id(), "baseline");
/// assert_eq!(run.experiment().name(), "iris");
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Default)]
#[must_use = "a builder does nothing until `open` is called"]
pub struct RunBuilder {
    experiment: Option<String>,
    id: Option<String>,
    uri: Option<String>,
}

impl fmt::Debug for RunBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunBuilder")
            .field("experiment", &self.experiment)
            .field("id", &self.id)
            .field("uri", &self.uri.as_deref().map(crate::location::redact))
            .finish()
    }
}

impl RunBuilder {
    /// The experiment to record the run in (default `runs`).
    pub fn experiment(mut self, name: impl Into<String>) -> Self {
        self.experiment = Some(name.into());
        self
    }

    /// The run's id: an existing id resumes that run, a new one creates it.
    /// Default: a fresh uuid4 in hex.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The store, overriding `YAMLETT_URI`: a `mongodb://` or
    /// `mongodb+srv://` URI, or a local store directory.
    pub fn uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = Some(uri.into());
        self
    }

    /// Creates the run, or resumes it if its id exists, and marks it
    /// `running`.
    pub fn open(self) -> anyhow::Result<Run> {
        // A fresh id names a run nobody wrote to: there is nothing to
        // read back once it is created.
        let fresh = self.id.is_none();
        let id = self
            .id
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        key::validate_run_id(&id)?;
        let location = match &self.uri {
            Some(uri) => Location::parse(uri)?,
            None => Location::from_env()?,
        };
        let experiment = Experiment::open_at(
            self.experiment.as_deref().unwrap_or(DEFAULT_EXPERIMENT),
            &location,
        )?;
        let heartbeat_s = heartbeat::interval_from_env()?;
        let now = DateTime::now();
        let mut created = doc! { "created_at": now };
        created.extend(provenance::provenance().clone());
        let mut on_insert = Document::new();
        for (field, value) in created {
            on_insert.insert(format!("{METADATA_FIELD}.{field}"), value);
        }
        let mut set = doc! {
            "_yamlett.status": "running",
            "_yamlett.last_modified_at": now,
            "_yamlett.heartbeat_at": now,
            "_yamlett.heartbeat_s": heartbeat_s,
        };
        // What lets a reader tell later that this process is gone.
        for (field, value) in experiment.store().liveness()? {
            set.insert(format!("{METADATA_FIELD}.{field}"), value);
        }
        let mut update = doc! {
            "$setOnInsert": on_insert,
            "$set": set,
            "$unset": { "_yamlett.ended_at": "" },
        };
        let mut inner = RunInner {
            id,
            experiment,
            state: Mutex::new(RunState::default()),
            heartbeat: None,
        };
        inner.send(&mut inner.lock(), &mut update, &[])?;
        // What the run holds already: its series (a resumed run's logging
        // goes on where it stopped) and the values new series must avoid.
        let store = inner.experiment.store();
        let name = inner.experiment.name();
        let snapshot = if fresh {
            Document::new()
        } else {
            store
                .find(
                    name,
                    &doc! { "_id": &inner.id },
                    &FindOptions::new().limit(1),
                )?
                .pop()
                .unwrap_or_default()
        };
        let series = SeriesLog::from_document(snapshot, |key| {
            Ok(store.series_summaries(name, &inner.id, key)?.pop())
        })?;
        inner.lock().series = series;
        inner.heartbeat = Some(heartbeat::Beat::start(
            &inner.experiment,
            &inner.id,
            heartbeat_s,
        ));
        Ok(Run {
            inner: Arc::new(inner),
        })
    }
}

impl Run {
    /// Opens a new run in the default experiment of the default store.
    pub fn new() -> anyhow::Result<Run> {
        Run::builder().open()
    }

    /// A builder to choose the experiment, id or store.
    pub fn builder() -> RunBuilder {
        RunBuilder::default()
    }

    /// The run's id, its document's `_id`.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The experiment the run belongs to.
    pub fn experiment(&self) -> Experiment {
        self.inner.experiment.clone()
    }

    /// Opens a buffering scope: until the returned guard (and every other
    /// guard on this run) drops, `store` and `push` only buffer, and the
    /// last guard to drop writes them all as one update.
    ///
    /// A panic inside the scope still writes what was buffered, and marks
    /// the run `failed`.
    pub fn enter(&self) -> RunGuard<'_> {
        self.lock().guards += 1;
        RunGuard::new(self)
    }

    /// Stores `value` under the dotted `key`, replacing what was there.
    ///
    /// Any serde-serializable value works; maps and structs become nested
    /// documents, so `store("params.model", &cfg)` keeps `params.model.C`
    /// queryable. Storing under a key inside a stored document
    /// (`store("a.b", 2)` after `store("a", {x: 1})`) merges, exactly as
    /// MongoDB's `$set` does.
    pub fn store<T: Serialize>(&self, key: &str, value: T) -> anyhow::Result<()> {
        let segments = key::segments(key)?;
        let value = key::to_bson(key, segments, &value)?;
        self.write(key, value, Buffer::store, "$set")
    }

    /// Appends `value` to the array at the dotted `key`, creating it if
    /// missing: the way to log a metric's history step by step.
    pub fn push<T: Serialize>(&self, key: &str, value: T) -> anyhow::Result<()> {
        let segments = key::segments(key)?;
        let value = key::to_bson(key, segments, &value)?;
        self.write(key, value, Buffer::push, "$push")
    }

    /// Serializes `value` with bincode, saves the bytes in the store (GridFS
    /// on MongoDB, a file beside the embedded database) and stores a
    /// reference with its size and sha256 under `key`.
    pub fn store_artifact<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
    ) -> anyhow::Result<()> {
        key::validate_key(key)?;
        let bytes = artifact::encode(key, value)?;
        let sha256 = artifact::sha256_hex(&bytes);
        let store = self.inner.experiment.store();
        let location = store.put_artifact(self.inner.experiment.name(), self.id(), key, &bytes)?;
        let reference = artifact::reference(&bytes, sha256, location);
        self.write(key, Bson::Document(reference), Buffer::store, "$set")
    }

    /// Loads the artifact stored under `key` as a `T`, after checking its
    /// sha256. Loading it as another type than it was stored as is an
    /// [`Error::Artifact`].
    pub fn load_artifact<T: DeserializeOwned>(&self, key: &str) -> anyhow::Result<T> {
        key::validate_key(key)?;
        artifact::load(self.inner.experiment.store(), &self.data()?, key)
    }

    /// The whole run document, `_id` and `_yamlett` metadata included, with
    /// writes still buffered in open guards applied (read your writes).
    pub fn data(&self) -> anyhow::Result<Document> {
        let experiment = &self.inner.experiment;
        let mut found = experiment.store().find(
            experiment.name(),
            &doc! { "_id": self.id() },
            &FindOptions::new().limit(1),
        )?;
        let mut data = found.pop().ok_or_else(|| Error::NotFound {
            what: format!("run {:?} in experiment {:?}", self.id(), experiment.name()),
        })?;
        let mut state = self.lock();
        if !state.buffer.is_empty() || !state.series.is_empty() {
            let context = UpdateContext {
                is_insert: false,
                now: DateTime::now(),
            };
            let mut update = Document::new();
            state.buffer.write_update(&mut update);
            state.series.prepare(&mut update);
            Update::parse(&update)
                .and_then(|update| update.apply(&mut data, &context))
                .map_err(Error::InvalidQuery)?;
        }
        key::hide_internal_fields(&mut data);
        Ok(data)
    }

    /// Appends a point to the metric series `key`, at the next step (0 for
    /// the series' first point, then the last step + 1).
    ///
    /// Unlike [`push`](Run::push), the points do not go into the run
    /// document, which keeps only a summary under the key (`{count, first,
    /// last, min, max, sum, step}`, queryable and sortable like any
    /// value); the points are stored beside it in buckets of 1,000, so a
    /// run can log millions of steps at a flat cost per step. Inside a
    /// guard a point is only buffered (no I/O) and goes out with the
    /// guard's one write. NaN and infinities are kept as logged.
    ///
    /// A key that holds a stored value, or lies inside or around another
    /// series, is an [`Error::Conflict`]; so is storing or pushing at, in or
    /// around a series key. Read the points back with [`Run::series`] or
    /// [`Experiment::series`](crate::Experiment::series).
    ///
    /// ```
    /// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-log"));
    /// use yamlett::{bson::doc, Run};
    ///
    /// let run = Run::new()?;
    /// for step in 0..100 {
    ///     let _guard = run.enter(); // one write per step
    ///     run.log("metrics.loss", 1.0 / f64::from(step + 1))?;
    ///     run.store("progress.step", step)?;
    /// }
    /// let summary = run.data()?.get_document("metrics")?.get_document("loss")?.clone();
    /// assert_eq!(summary.get_i64("count")?, 100);
    /// assert_eq!(summary.get_f64("min")?, 0.01);
    /// assert_eq!(run.series("metrics.loss")?.len(), 100);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn log(&self, key: &str, value: f64) -> anyhow::Result<()> {
        self.log_point(key, None, value)
    }

    /// Appends a point to the metric series `key` at an explicit `step`,
    /// which must be above the series' last step (steps only increase, so
    /// a series reads back in step order); otherwise as [`Run::log`].
    ///
    /// ```
    /// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-log-at"));
    /// let run = yamlett::Run::new()?;
    /// run.log_at("eval.accuracy", 500, 0.81)?;
    /// run.log_at("eval.accuracy", 1000, 0.87)?;
    /// assert!(run.log_at("eval.accuracy", 1000, 0.9).is_err()); // not after step 1000
    /// assert_eq!(run.series("eval.accuracy")?.steps, [500, 1000]);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn log_at(&self, key: &str, step: i64, value: f64) -> anyhow::Result<()> {
        self.log_point(key, Some(step), value)
    }

    /// Every point of the series `key`, in step order, including points
    /// still buffered in open guards. A key that is no series of the run is
    /// [`Error::NotFound`].
    pub fn series(&self, key: &str) -> anyhow::Result<Series> {
        key::validate_key(key)?;
        let experiment = &self.inner.experiment;
        // Held across the read, so that no flush moves points from the
        // buffer to the store in between.
        let state = self.lock();
        let mut series = read_series(experiment, self.id(), key)?;
        if let Some(pending) = state.series.pending(key) {
            series.extend_from(pending, 0..pending.len());
        }
        if series.is_empty() && !state.series.knows(key) {
            return Err(no_series(self.id(), key).into());
        }
        Ok(series)
    }

    fn log_point(&self, key: &str, step: Option<i64>, value: f64) -> anyhow::Result<()> {
        let mut state = self.lock();
        if !state.series.log(key, step, value)? {
            // The key's first point through this handle: a new series.
            key::segments(key)?;
            if let NewKey::CheckDocument = state.series.check_new(key)? {
                drop(state);
                series::check_document(&self.data()?, key)?;
                state = self.lock();
            }
            if !state.series.knows(key) {
                state.series.start(key);
            }
            state.series.log(key, step, value)?;
        }
        if state.guards > 0 {
            return Ok(());
        }
        self.inner.flush(&mut state, None)
    }

    /// Writes anything buffered and marks the run `finished` now.
    pub fn finish(&self) -> anyhow::Result<()> {
        let mut state = self.lock();
        self.inner.flush(&mut state, Some("finished"))?;
        if let Some(beat) = &self.inner.heartbeat {
            beat.stop();
        }
        self.inner.settle();
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, RunState> {
        self.inner.lock()
    }

    /// Buffers a write inside a guard, or sends it as one update outside.
    fn write(
        &self,
        key: &str,
        value: Bson,
        fold: fn(&mut Buffer, &str, Bson) -> Result<Fold, Error>,
        operator: &str,
    ) -> anyhow::Result<()> {
        let mut state = self.lock();
        state.series.check_stored(key)?;
        if state.guards > 0 {
            // The value comes back on FlushFirst, so the hot path never
            // clones it.
            if let Fold::FlushFirst(value) = fold(&mut state.buffer, key, value)? {
                self.inner.flush(&mut state, None)?;
                fold(&mut state.buffer, key, value)?;
            }
            return Ok(());
        }
        // The lock stays held while the write is sent: a handle's writes
        // go out one at a time, in the order of their numbers.
        let mut update = Document::new();
        update.insert(operator, doc! { key: value });
        self.inner
            .send_with_metadata(&mut state, &mut update, None, &[])
            .map_err(|err| with_key(err, key))
    }

    /// Called by a guard's drop: the last guard out writes the buffer.
    fn exit_guard(&self) {
        let mut state = self.lock();
        state.guards = state.guards.saturating_sub(1);
        if state.guards > 0 {
            return;
        }
        let status = std::thread::panicking().then_some("failed");
        if let Err(err) = self.inner.flush(&mut state, status) {
            log::warn!(
                "yamlett: run {}: could not write buffered values: {err:#}",
                self.id()
            );
        }
    }
}

/// An update document emptied for the next flush to fill: its `$set` is
/// kept, empty, with its allocations (the usual flush sets fields only).
fn emptied(mut update: Document) -> Document {
    if update.len() == 1 {
        if let Some(Bson::Document(set)) = update.get_mut("$set") {
            set.clear();
            return update;
        }
    }
    Document::new()
}

/// Every point of a run's series `key`, as stored.
pub(crate) fn read_series(
    experiment: &Experiment,
    run_id: &str,
    key: &str,
) -> anyhow::Result<Series> {
    let buckets =
        experiment
            .store()
            .series_buckets(experiment.name(), run_id, Some(key), Buckets::All)?;
    let total = buckets.iter().map(|b| b.points.len()).sum();
    let mut series = Series {
        steps: Vec::with_capacity(total),
        values: Vec::with_capacity(total),
        times: Vec::with_capacity(total),
    };
    for mut bucket in buckets {
        series.steps.append(&mut bucket.points.steps);
        series.values.append(&mut bucket.points.values);
        series.times.append(&mut bucket.points.times);
    }
    Ok(series)
}

/// The error for a series that does not exist.
pub(crate) fn no_series(run_id: &str, key: &str) -> Error {
    Error::NotFound {
        what: format!("metric series {key:?} of run {run_id:?}"),
    }
}

/// Names the key in errors that the store reports without one.
fn with_key(err: anyhow::Error, key: &str) -> anyhow::Error {
    match err.downcast::<Error>() {
        Ok(Error::InvalidQuery(query)) => Error::Conflict {
            key: key.to_owned(),
            reason: query.message().to_owned(),
        }
        .into(),
        Ok(Error::DocumentTooLarge { key: k, size }) if k.is_empty() => Error::DocumentTooLarge {
            key: key.to_owned(),
            size,
        }
        .into(),
        Ok(other) => other.into(),
        Err(err) => err,
    }
}

impl RunInner {
    fn lock(&self) -> MutexGuard<'_, RunState> {
        // A panic elsewhere never leaves the state half-updated (every
        // mutation is a single assignment or a buffer fold that restores on
        // error), so a poisoned lock is safe to reuse.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends the buffer as one update, with `status` if given. On failure
    /// the buffer is kept, so a later flush can still write it.
    fn flush(&self, state: &mut RunState, status: Option<&str>) -> anyhow::Result<()> {
        if state.buffer.is_empty() && state.series.is_empty() && status.is_none() {
            return Ok(());
        }
        let pending = state.buffer.take();
        let mut update = std::mem::take(&mut state.spare_update);
        pending.write_update(&mut update);
        let series = state.series.prepare(&mut update);
        match self.send_with_metadata(state, &mut update, status, &series.appends) {
            Ok(()) => {
                state.ended |= status.is_some();
                state.series.commit(series, &mut update);
                state.spare_update = emptied(update);
                Ok(())
            }
            Err(err) => {
                let first_key = pending
                    .first_key()
                    .or(state.series.first_key())
                    .unwrap_or_default()
                    .to_owned();
                state.buffer = pending;
                let err = with_key(err, &first_key);
                // A series the store refused this handle's points for
                // (another handle logs to it) must not hold back the rest:
                // its points go, the rest is sent again, and the caller
                // still gets the conflict.
                if let Some(Error::Conflict { key, reason }) = err.downcast_ref::<Error>() {
                    if state.series.fence(key, reason) {
                        self.flush(state, status)?;
                    }
                }
                Err(err)
            }
        }
    }

    /// Tells the store the run ended. Its writes are already durable, so a
    /// failure here loses nothing and is only worth a warning.
    fn settle(&self) {
        if let Err(err) = self
            .experiment
            .store()
            .settle(self.experiment.name(), &self.id)
        {
            log::warn!("yamlett: run {}: {err:#}", self.id);
        }
    }

    /// Adds the metadata every write carries and sends the update.
    fn send_with_metadata(
        &self,
        state: &mut RunState,
        update: &mut Document,
        status: Option<&str>,
        appends: &[crate::series::Append],
    ) -> anyhow::Result<()> {
        let now = DateTime::now();
        let set = buffer::set_of(update);
        set.insert("_yamlett.last_modified_at", now);
        if let Some(status) = status {
            set.insert("_yamlett.status", status);
            set.insert("_yamlett.ended_at", now);
        }
        self.send(state, update, appends)
    }

    /// Sends one update (and the series points it carries), stamped with
    /// this handle's next write number. Called with the run's lock held
    /// (`state` is behind it).
    fn send(
        &self,
        state: &mut RunState,
        update: &mut Document,
        appends: &[crate::series::Append],
    ) -> anyhow::Result<()> {
        let stamp = &mut state.stamp;
        let number = stamp.next();
        buffer::set_of(update).insert(stamp.field.as_str(), number);
        let store = self.experiment.store();
        let (name, condition) = (self.experiment.name(), stamp.condition());
        if appends.is_empty() {
            store.update_run(name, &self.id, condition, update, true)
        } else {
            store.update_run_with_series(name, &self.id, condition, update, appends)
        }
    }
}

impl Drop for RunInner {
    fn drop(&mut self) {
        let mut state =
            std::mem::take(self.state.get_mut().unwrap_or_else(PoisonError::into_inner));
        if state.ended && state.buffer.is_empty() {
            return;
        }
        let status = if std::thread::panicking() {
            "failed"
        } else {
            "finished"
        };
        if let Err(err) = self.flush(&mut state, Some(status)) {
            if state.ended {
                // Marked, though part of the flush was refused.
                log::warn!("yamlett: run {}: {err:#}", self.id);
            } else {
                log::warn!(
                    "yamlett: run {}: could not mark it {status}: {err:#}",
                    self.id
                );
            }
        }
        self.settle();
    }
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("id", &self.inner.id)
            .field("experiment", &self.inner.experiment)
            .finish()
    }
}
