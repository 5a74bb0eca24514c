//! An experiment: a named collection of runs, queried with MongoDB's query
//! language whichever store holds it.

use std::fmt;
use std::sync::Arc;

use bson::Document;
use serde::de::DeserializeOwned;

use crate::artifact;
use crate::depth;
use crate::key;
use crate::location::Location;
use crate::run::DEFAULT_EXPERIMENT;
use crate::store::{self, Store};
use crate::{Error, FindOptions, Page, RunStatus, Series, SeriesBucket};

/// A named collection of runs.
///
/// Queries take MongoDB filters and pipelines and give the same answers on
/// both stores: the MongoDB server answers them on the MongoDB store, and
/// yamlett's query engine on the embedded one.
///
/// ```
/// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-experiment"));
/// use yamlett::{bson::doc, Experiment, Run};
///
/// let run = Run::builder().experiment("doc-iris").open()?;
/// run.store("params.model.fit_intercept", true)?;
/// run.store("data.n_observations", 3500)?;
/// run.store("metrics.f1_score", 0.92)?;
///
/// let experiment = Experiment::new("doc-iris")?;
/// let good = experiment.find(doc! {
///     "params.model.fit_intercept": true,
///     "data.n_observations": { "$gte": 3000 },
///     "metrics.f1_score": { "$gte": 0.9 },
/// })?;
/// assert!(good.iter().any(|r| r.get_str("_id").ok() == Some(run.id())));
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone)]
pub struct Experiment {
    name: Arc<str>,
    store: Arc<dyn Store>,
}

/// Opens an experiment with a chosen name or store.
///
/// ```
/// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-exp-builder"));
/// let experiment = yamlett::Experiment::builder().name("iris").open()?;
/// assert_eq!(experiment.name(), "iris");
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Default)]
#[must_use = "a builder does nothing until `open` is called"]
pub struct ExperimentBuilder {
    name: Option<String>,
    uri: Option<String>,
}

impl fmt::Debug for ExperimentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExperimentBuilder")
            .field("name", &self.name)
            .field("uri", &self.uri.as_deref().map(crate::location::redact))
            .finish()
    }
}

impl ExperimentBuilder {
    /// The experiment's name (default `runs`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The store, overriding `YAMLETT_URI`.
    pub fn uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = Some(uri.into());
        self
    }

    /// Opens the experiment (it exists once a run is stored in it).
    pub fn open(self) -> anyhow::Result<Experiment> {
        let location = match &self.uri {
            Some(uri) => Location::parse(uri)?,
            None => Location::from_env()?,
        };
        Experiment::open_at(
            self.name.as_deref().unwrap_or(DEFAULT_EXPERIMENT),
            &location,
        )
    }
}

impl Experiment {
    /// Opens the experiment `name` in the default store.
    pub fn new(name: &str) -> anyhow::Result<Experiment> {
        Experiment::builder().name(name).open()
    }

    /// A builder to choose the name or store.
    pub fn builder() -> ExperimentBuilder {
        ExperimentBuilder::default()
    }

    pub(crate) fn open_at(name: &str, location: &Location) -> anyhow::Result<Experiment> {
        key::validate_experiment_name(name)?;
        Ok(Experiment {
            name: Arc::from(name),
            store: store::open(location)?,
        })
    }

    pub(crate) fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// The experiment's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The runs matching a MongoDB `filter`, in natural order.
    pub fn find(&self, filter: Document) -> anyhow::Result<Vec<Document>> {
        self.find_with(filter, FindOptions::new())
    }

    /// The runs matching `filter`, sorted, skipped, limited and projected as
    /// `options` say.
    ///
    /// ```
    /// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-find-with"));
    /// use yamlett::{bson::doc, Experiment, FindOptions};
    /// let best = Experiment::new("runs")?.find_with(
    ///     doc! { "metrics.f1_score": { "$exists": true } },
    ///     FindOptions::new().sort(doc! { "metrics.f1_score": -1 }).limit(3),
    /// )?;
    /// assert!(best.len() <= 3);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn find_with(
        &self,
        filter: Document,
        options: FindOptions,
    ) -> anyhow::Result<Vec<Document>> {
        let (filter, options) = depth::check_find(filter, options)?;
        let mut runs = self.store.find(&self.name, &filter, &options)?;
        runs.iter_mut().for_each(key::hide_internal_fields);
        Ok(runs)
    }

    /// One page of the runs matching `filter` (sorted, skipped, limited and
    /// projected as `options` say) and how many match in all: what a table
    /// of runs shows. The embedded store reads the runs once for both, keeps
    /// only the best `skip + limit` by the sort while it counts, and decodes
    /// only those; with MongoDB it is a count and a find. Use it rather than
    /// [`Experiment::count`] then [`Experiment::find_with`], which read
    /// every run twice.
    ///
    /// ```
    /// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-find-page"));
    /// use yamlett::{bson::doc, Experiment, FindOptions, Run};
    ///
    /// for (id, f1) in [("p1", 0.7), ("p2", 0.9), ("p3", 0.8)] {
    ///     let run = Run::builder().experiment("doc-pages").id(id).open()?;
    ///     run.store("metrics.f1_score", f1)?;
    ///     run.finish()?;
    /// }
    /// let page = Experiment::new("doc-pages")?.find_page(
    ///     doc! { "metrics.f1_score": { "$gte": 0.75 } },
    ///     FindOptions::new().sort(doc! { "metrics.f1_score": -1 }).limit(1),
    /// )?;
    /// assert_eq!(page.total, 2);
    /// assert_eq!(page.runs[0].get_str("_id")?, "p2");
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn find_page(&self, filter: Document, options: FindOptions) -> anyhow::Result<Page> {
        let (filter, options) = depth::check_find(filter, options)?;
        let mut page = self.store.find_page(&self.name, &filter, &options)?;
        page.runs.iter_mut().for_each(key::hide_internal_fields);
        Ok(page)
    }

    /// The runs matching `filter`, shaped by `options` as in
    /// [`find_with`](Experiment::find_with), handed one at a time to
    /// `visit` as BSON bytes until it returns `ControlFlow::Break`: for
    /// reading more runs than fit in memory (an export of every run), or
    /// only a few fields of each without decoding the rest.
    ///
    /// Without a sort, memory does not grow with the number of runs: the
    /// embedded store hands over each run as it scans it, the MongoDB store
    /// reads the cursor a batch at a time. A sort needs every match (or
    /// the best skip + limit of them) before the first is handed over.
    /// Each run is seen once, as of its reading; an error from `visit`
    /// stops the read and is returned.
    ///
    /// ```
    /// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-find-raw"));
    /// use std::ops::ControlFlow;
    /// use yamlett::{bson::doc, Experiment, FindOptions, Run};
    ///
    /// let experiment = Experiment::new("doc-find-raw")?;
    /// experiment.delete(doc! {})?;
    /// for f1 in [0.5, 0.95, 0.97] {
    ///     Run::builder().experiment("doc-find-raw").open()?.store("metrics.f1", f1)?;
    /// }
    /// let mut good = 0;
    /// experiment.find_raw(doc! { "metrics.f1": { "$gte": 0.9 } }, FindOptions::new(), |run| {
    ///     assert!(run.get_document("metrics")?.get_f64("f1")? >= 0.9);
    ///     good += 1;
    ///     Ok(ControlFlow::Continue(()))
    /// })?;
    /// assert_eq!(good, 2);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn find_raw(
        &self,
        filter: Document,
        options: FindOptions,
        mut visit: impl FnMut(&bson::RawDocument) -> anyhow::Result<std::ops::ControlFlow<()>>,
    ) -> anyhow::Result<()> {
        let (filter, options) = depth::check_find(filter, options)?;
        self.store
            .find_raw(&self.name, &filter, &options, &mut |run| {
                let shown = key::hide_internal_fields_raw(run)
                    .map_err(|err| anyhow::anyhow!("a stored run document is corrupt: {err}"))?;
                visit(&shown)
            })
    }

    /// The first run matching `filter`, if any.
    pub fn find_one(&self, filter: Document) -> anyhow::Result<Option<Document>> {
        let mut found = self.find_with(filter, FindOptions::new().limit(1))?;
        Ok(found.pop())
    }

    /// How many runs match `filter`.
    pub fn count(&self, filter: Document) -> anyhow::Result<u64> {
        let filter = depth::check_filter(filter)?;
        self.store.count(&self.name, &filter)
    }

    /// Runs an aggregation pipeline over the experiment's runs.
    pub fn aggregate(
        &self,
        pipeline: impl IntoIterator<Item = Document>,
    ) -> anyhow::Result<Vec<Document>> {
        let pipeline = depth::check_pipeline(pipeline.into_iter().collect())?;
        self.store.aggregate(&self.name, &pipeline)
    }

    /// Loads the artifact stored under `key` by the run `run_id`, as a `T`,
    /// after checking its sha256: [`Run::load_artifact`](crate::Run::load_artifact)
    /// without opening the run (opening it would mark it running again).
    ///
    /// ```
    /// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-load-artifact"));
    /// use yamlett::{Experiment, Run};
    /// let run = Run::builder().experiment("models").open()?;
    /// run.store_artifact("model.weights", &vec![0.5_f64, -1.25])?;
    /// run.finish()?;
    ///
    /// let weights: Vec<f64> =
    ///     Experiment::new("models")?.load_artifact(run.id(), "model.weights")?;
    /// assert_eq!(weights, [0.5, -1.25]);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn load_artifact<T: DeserializeOwned>(&self, run_id: &str, key: &str) -> anyhow::Result<T> {
        key::validate_key(key)?;
        let run = self
            .find_one(bson::doc! { "_id": run_id })?
            .ok_or_else(|| Error::NotFound {
                what: format!("run {run_id:?} in experiment {:?}", self.name),
            })?;
        artifact::load(self.store(), &run, key)
    }

    /// Deletes the runs matching `filter`, with the artifacts they
    /// reference, and returns how many runs it deleted. The deletion is
    /// immediate on both stores (an unreachable MongoDB server is an
    /// [`Error::Unreachable`], never a journaled delete); an invalid filter
    /// is an [`Error::InvalidQuery`] that deletes nothing.
    ///
    /// ```
    /// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-delete"));
    /// use yamlett::{bson::doc, Experiment, Run};
    /// let experiment = Experiment::new("doc-delete")?;
    /// experiment.delete(doc! {})?;
    /// for c in [0.1, 1.0, 10.0] {
    ///     let run = Run::builder().experiment("doc-delete").open()?;
    ///     run.store("params.C", c)?;
    ///     run.store_artifact("model", &vec![c; 3])?;
    /// }
    /// assert_eq!(experiment.delete(doc! { "params.C": { "$gt": 0.5 } })?, 2);
    /// assert_eq!(experiment.count(doc! {})?, 1);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn delete(&self, filter: Document) -> anyhow::Result<u64> {
        let runs = self.find_with(
            filter,
            FindOptions::new().projection(bson::doc! { "_yamlett": 0 }),
        )?;
        let ids: Vec<bson::Bson> = runs
            .iter()
            .filter_map(|run| run.get("_id").cloned())
            .collect();
        let locations: Vec<bson::Bson> = runs.iter().flat_map(artifact::locations).collect();
        let deleted = self.store.delete_runs(&self.name, &ids)?;
        self.store.delete_artifacts(&locations)?;
        // A run's series live beside it, in buckets: one range delete each.
        for id in ids.iter().filter_map(bson::Bson::as_str) {
            self.store.delete_series(&self.name, id)?;
        }
        Ok(deleted)
    }

    /// How many runs the experiment holds and when one was last written:
    /// what `yamlett ls` shows.
    ///
    /// ```
    /// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-summary"));
    /// let run = yamlett::Run::builder().experiment("doc-summary").open()?;
    /// run.store("x", 1)?;
    /// let summary = yamlett::Experiment::new("doc-summary")?.summary()?;
    /// assert!(summary.runs >= 1);
    /// assert!(summary.last_activity.is_some());
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn summary(&self) -> anyhow::Result<ExperimentSummary> {
        let found = self.aggregate([bson::doc! { "$group": {
            "_id": bson::Bson::Null,
            "runs": { "$sum": 1 },
            "last": { "$max": "$_yamlett.last_modified_at" },
        } }])?;
        let Some(group) = found.first() else {
            return Ok(ExperimentSummary::default());
        };
        let runs = match group.get("runs") {
            Some(bson::Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
            Some(bson::Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        };
        Ok(ExperimentSummary {
            runs,
            last_activity: group.get_datetime("last").ok().copied(),
        })
    }

    /// Every point of the metric series `key` of the run `run_id`, in step
    /// order (see [`Run::log`](crate::Run::log)), without opening the run.
    ///
    /// ```
    /// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-exp-series"));
    /// use yamlett::{Experiment, Run};
    /// let run = Run::builder().experiment("doc-series").open()?;
    /// for loss in [0.9, 0.4, f64::NAN] {
    ///     run.log("loss", loss)?;
    /// }
    /// let series = Experiment::new("doc-series")?.series(run.id(), "loss")?;
    /// assert_eq!(series.steps, [0, 1, 2]);
    /// assert!(series.values[2].is_nan());
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn series(&self, run_id: &str, key: &str) -> anyhow::Result<Series> {
        key::validate_key(key)?;
        let series = crate::run::read_series(self, run_id, key)?;
        if series.is_empty() {
            self.check_series(run_id, key)?;
        }
        Ok(series)
    }

    /// At most about four points per column of the series `key` of the run
    /// `run_id`: for each of `columns` equal step ranges, its first, last,
    /// lowest and highest point (M4 sampling), optionally within `steps`.
    /// A line chart drawn through them is the chart of every point, true
    /// extremes included; it reads bucket summaries and only the buckets
    /// at column edges, so its cost hardly depends on the series' length.
    /// Values are ordered as MongoDB orders them: a NaN is a column's
    /// minimum.
    ///
    /// ```
    /// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-sampled"));
    /// use yamlett::{Experiment, Run};
    /// let run = Run::builder().experiment("doc-sampled").open()?;
    /// {
    ///     let _guard = run.enter();
    ///     for step in 0..10_000 {
    ///         run.log("loss", if step == 1234 { -5.0 } else { 1.0 / f64::from(step + 1) })?;
    ///     }
    /// }
    /// let chart = Experiment::new("doc-sampled")?.series_sampled(run.id(), "loss", 100, None)?;
    /// assert!(chart.len() <= 400);
    /// assert!(chart.values.contains(&-5.0) && chart.values.contains(&1.0));
    /// let zoom = Experiment::new("doc-sampled")?.series_sampled(run.id(), "loss", 10, Some(100..=199))?;
    /// assert!(zoom.steps.iter().all(|s| (100..=199).contains(s)));
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn series_sampled(
        &self,
        run_id: &str,
        key: &str,
        columns: usize,
        steps: Option<std::ops::RangeInclusive<i64>>,
    ) -> anyhow::Result<Series> {
        key::validate_key(key)?;
        if columns == 0 {
            return Err(Error::InvalidValue {
                key: key.to_owned(),
                reason: "a chart needs at least one column".to_owned(),
            }
            .into());
        }
        let summaries = self.store.series_summaries(&self.name, run_id, key)?;
        if summaries.is_empty() {
            self.check_series(run_id, key)?;
        }
        crate::series::sample(&summaries, columns, steps, |indexes| {
            let buckets = self.store.series_buckets(
                &self.name,
                run_id,
                Some(key),
                store::Buckets::Indexes(indexes),
            )?;
            Ok(buckets.into_iter().map(|b| (b.index, b.points)).collect())
        })
    }

    /// Every bucket of every series of the run `run_id`, whole, ordered by
    /// key and bucket: with [`Experiment::put_series_buckets`], how a run's
    /// series are copied to another store (the `yamlett` command line's
    /// copy does so). Empty for a run without series.
    pub fn series_buckets(&self, run_id: &str) -> anyhow::Result<Vec<SeriesBucket>> {
        key::validate_run_id(run_id)?;
        self.store
            .series_buckets(&self.name, run_id, None, store::Buckets::All)
    }

    /// Writes whole buckets for the run `run_id`, replacing any with the
    /// same key and index: the other half of [`Experiment::series_buckets`].
    /// The run document (with its series summaries and `_yamlett.series`)
    /// is copied separately. Buckets whose steps do not increase, whose
    /// columns differ in length or that hold over 1,000 points are
    /// [`Error::InvalidValue`], and nothing is written.
    ///
    /// ```
    /// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-copy"));
    /// use yamlett::{Experiment, Run};
    /// let run = Run::builder().experiment("doc-copy-from").open()?;
    /// run.log("loss", 0.5)?;
    /// let buckets = Experiment::new("doc-copy-from")?.series_buckets(run.id())?;
    /// let target = Experiment::new("doc-copy-to")?;
    /// target.put_series_buckets(run.id(), &buckets)?;
    /// assert_eq!(target.series_buckets(run.id())?, buckets);
    /// target.delete_series(run.id())?;
    /// assert!(target.series_buckets(run.id())?.is_empty());
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn put_series_buckets(&self, run_id: &str, buckets: &[SeriesBucket]) -> anyhow::Result<()> {
        key::validate_run_id(run_id)?;
        for bucket in buckets {
            key::validate_key(&bucket.key)?;
            crate::series::check_bucket(bucket)?;
        }
        self.store.put_series_buckets(&self.name, run_id, buckets)
    }

    /// Deletes every point of every series of the run `run_id` (one range
    /// delete on both stores), leaving the run document alone: for tools
    /// that delete runs (`yamlett rm`, `gc`).
    pub fn delete_series(&self, run_id: &str) -> anyhow::Result<()> {
        key::validate_run_id(run_id)?;
        self.store.delete_series(&self.name, run_id)
    }

    /// Explains an empty series: a missing run or key is
    /// [`Error::NotFound`].
    fn check_series(&self, run_id: &str, key: &str) -> anyhow::Result<()> {
        let run = self
            .find_one(bson::doc! { "_id": run_id })?
            .ok_or_else(|| Error::NotFound {
                what: format!("run {run_id:?} in experiment {:?}", self.name),
            })?;
        let listed = run
            .get_document("_yamlett")
            .ok()
            .and_then(|meta| meta.get_array("series").ok())
            .is_some_and(|keys| keys.iter().any(|k| k.as_str() == Some(key)));
        if listed {
            return Ok(());
        }
        Err(crate::run::no_series(run_id, key).into())
    }

    /// The status of `run`, a run document of this experiment (from
    /// [`find`](Experiment::find) and the like), as a reader should see it
    /// now: a run stored as `running` whose process is gone reads
    /// [`RunStatus::Dead`]. The stored status is left as it is. `None` when
    /// the document has no status yamlett knows (not a run, or `_yamlett`
    /// projected away).
    ///
    /// ```
    /// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-status"));
    /// use yamlett::{bson::doc, Experiment, Run, RunStatus};
    ///
    /// let run = Run::builder().experiment("doc-status").open()?;
    /// let experiment = Experiment::new("doc-status")?;
    /// for stored in experiment.find(doc! { "_id": run.id() })? {
    ///     assert_eq!(experiment.status(&stored), Some(RunStatus::Running));
    /// }
    /// run.finish()?;
    /// assert_eq!(experiment.run_status(run.id())?, RunStatus::Finished);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn status(&self, run: &Document) -> Option<RunStatus> {
        crate::run::status_of(run, self.store(), bson::DateTime::now())
    }

    /// The status of the run `run_id` (see [`Experiment::status`]);
    /// [`Error::NotFound`] when there is no such run, or it has no status.
    pub fn run_status(&self, run_id: &str) -> anyhow::Result<RunStatus> {
        let not_found = || Error::NotFound {
            what: format!("the status of run {run_id:?} in experiment {:?}", self.name),
        };
        let options = FindOptions::new()
            .limit(1)
            .projection(bson::doc! { key::METADATA_FIELD: 1 });
        let run = self
            .store
            .find(&self.name, &bson::doc! { "_id": run_id }, &options)?
            .pop()
            .ok_or_else(not_found)?;
        Ok(self.status(&run).ok_or_else(not_found)?)
    }

    /// Whether both are the same experiment of the same store.
    pub(crate) fn same_as(&self, other: &Experiment) -> bool {
        Arc::ptr_eq(&self.store, &other.store) && self.name == other.name
    }

    /// The driver's collection behind this experiment on the MongoDB store,
    /// for anything yamlett does not wrap (indexes, change streams, …);
    /// `None` on the embedded store.
    pub fn collection(&self) -> Option<mongodb::sync::Collection<Document>> {
        self.store.collection(&self.name)
    }
}

/// How many runs an experiment holds and when one was last written
/// ([`Experiment::summary`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExperimentSummary {
    /// The number of runs.
    pub runs: u64,
    /// The latest `_yamlett.last_modified_at` of its runs.
    pub last_activity: Option<bson::DateTime>,
}

impl fmt::Debug for Experiment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Experiment")
            .field("name", &self.name)
            .field("store", &self.store.location())
            .finish()
    }
}

/// The names of the experiments in the default store (`YAMLETT_URI`),
/// sorted.
///
/// ```
/// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-experiments"));
/// yamlett::Run::builder().experiment("doc-listed").open()?;
/// assert!(yamlett::experiments()?.contains(&"doc-listed".to_string()));
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn experiments() -> anyhow::Result<Vec<String>> {
    store::open(&Location::from_env()?)?.experiments()
}

/// The names of the experiments in the store at `uri`, sorted.
pub fn experiments_in(uri: &str) -> anyhow::Result<Vec<String>> {
    store::open(&Location::parse(uri)?)?.experiments()
}
