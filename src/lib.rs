//! yamlett — track machine-learning experiments as nested documents, and
//! query them with the MongoDB query language.
//!
//! Two primitives:
//!
//! - a [`Run`] is one iteration of an experiment: [`Run::store`] puts any
//!   serde value under a dotted key (`params.model`, `metrics.f1_score`),
//!   [`Run::push`] appends to a list, [`Run::store_artifact`] keeps a model;
//! - an [`Experiment`] is a named collection of runs, queried with MongoDB
//!   filters and pipelines: [`Experiment::find`], [`Experiment::count`],
//!   [`Experiment::aggregate`].
//!
//! [`Run::enter`] opens a [`RunGuard`]: until it drops, writes are buffered
//! and then sent as one update, like Python's `with run:` block.
//!
//! ```
//! # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-crate"));
//! use yamlett::{bson::doc, Experiment, Run};
//!
//! let run = Run::builder().experiment("crate-doc").open()?;
//! {
//!     let _guard = run.enter();
//!     run.store("params.model", doc! { "C": 0.01, "fit_intercept": true })?;
//!     run.store("data.n_observations", 3500)?;
//!     run.store("metrics.f1_score", 0.92)?;
//! }
//! let good = Experiment::new("crate-doc")?.count(doc! {
//!     "params.model.fit_intercept": true,
//!     "data.n_observations": { "$gte": 3000 },
//!     "metrics.f1_score": { "$gte": 0.9 },
//! })?;
//! assert!(good >= 1);
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Runs live in an embedded store in `./.yamlett` unless [`URI_ENV`]
//! (`YAMLETT_URI`) names a `mongodb://` deployment or another directory.
#![warn(missing_docs)]
mod artifact;
mod copy;
mod depth;
mod error;
mod experiment;
mod find_options;
mod gc;
mod key;
mod location;
mod run;
mod series;
mod store;
mod sync;

pub use artifact::Artifact;
pub use bson;
pub use copy::CopyReport;
pub use error::Error;
pub use experiment::{
    experiments, experiments_in, Experiment, ExperimentBuilder, ExperimentSummary,
};
pub use find_options::{FindOptions, Page};
pub use gc::{gc, Garbage, GcOptions, GcReport, DEFAULT_GC_MIN_AGE};
pub use location::{DEFAULT_LOCAL_DIR, URI_ENV};
pub use mongodb;
pub use run::{Run, RunBuilder, RunGuard, RunStatus, DEFAULT_EXPERIMENT, HEARTBEAT_ENV};
pub use series::{Series, SeriesBucket};
pub use store::{EXIT_DRAIN_ENV, FLUSH_TIMEOUT_ENV, JOURNAL_DIR_ENV, LOCAL_SYNC_ENV};
pub use sync::{flush, sync, SyncReport};
pub use yamlett_query::QueryError;
