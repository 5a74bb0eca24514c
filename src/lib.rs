//! yamlett — track machine-learning experiments as nested documents, and
//! query them with the MongoDB query language.
mod artifact;
mod error;
mod experiment;
mod find_options;
mod key;
mod location;
mod query;
mod run;
mod store;

pub use bson;
pub use error::Error;
pub use experiment::{experiments, experiments_in, Experiment, ExperimentBuilder};
pub use find_options::FindOptions;
pub use location::{DEFAULT_LOCAL_DIR, URI_ENV};
pub use mongodb;
pub use query::QueryError;
pub use run::{Run, RunBuilder, RunGuard, DEFAULT_EXPERIMENT};
