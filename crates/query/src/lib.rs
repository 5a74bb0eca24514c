//! The MongoDB query language as pure functions over BSON documents.
//!
//! Filters, projections, sorts, update documents and aggregation pipelines
//! are parsed once into values that evaluate many documents, with no I/O and
//! no storage of their own: a caller feeds documents in and takes results
//! out. yamlett's embedded store answers every query this way, and a
//! differential suite compares each answer with a MongoDB server's.
//!
//! ```
//! use bson::doc;
//! use yamlett_query::{Filter, Pipeline, Update, UpdateContext};
//!
//! let runs = vec![
//!     doc! { "_id": "a", "params": { "C": 0.1 }, "metrics": { "f1": 0.93 } },
//!     doc! { "_id": "b", "params": { "C": 1.0 }, "metrics": { "f1": 0.81 } },
//! ];
//!
//! // Parse once, match many.
//! let good = Filter::parse(&doc! { "metrics.f1": { "$gte": 0.9 } })?;
//! let matching: Vec<_> = runs.iter().filter(|run| good.matches(run).unwrap_or(false)).collect();
//! assert_eq!(matching.len(), 1);
//!
//! // Pipelines run over any iterator of documents.
//! let mean = Pipeline::parse(&[doc! { "$group": { "_id": null, "f1": { "$avg": "$metrics.f1" } } }])?
//!     .run(runs.clone().into_iter())?;
//! assert!((mean[0].get_f64("f1")? - 0.87).abs() < 1e-12);
//!
//! // Update documents apply in place, as the server's `update` command does.
//! let mut run = runs[0].clone();
//! Update::parse(&doc! { "$set": { "params.C": 0.2 }, "$push": { "loss": 0.5 } })?
//!     .apply(&mut run, &UpdateContext { is_insert: false, now: bson::DateTime::now() })?;
//! assert_eq!(run.get_document("params")?.get_f64("C")?, 0.2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Semantics follow the MongoDB 8.0 manual operator by operator; where the
//! manual leaves a case open, the server's source and its observed answers
//! decide (see the differential suite in the yamlett repository).
#![warn(missing_docs)]

pub(crate) mod aggregate;
pub(crate) mod compare;
pub mod depth;
pub(crate) mod expr;
pub(crate) mod filter;
pub(crate) mod path;
pub(crate) mod pattern;
pub(crate) mod projection;
pub(crate) mod sort;
pub(crate) mod update;

#[cfg(test)]
mod fuzz;

pub use aggregate::{Env, GroupFeed, Pipeline};
pub use expr::type_name;
pub use filter::Filter;
pub use path::{get_path, RawDoc};
pub use projection::Projection;
pub use sort::SortSpec;
pub use update::{Update, UpdateContext};

use std::fmt;

/// A filter, projection, sort, update or pipeline that the engine refuses.
///
/// The message follows the MongoDB server's wording where practical, so an
/// error reads the same whichever store produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    message: String,
}

impl QueryError {
    /// An error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        QueryError {
            message: message.into(),
        }
    }

    /// The message, without any prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for QueryError {}

/// Shorthand for results of the engine.
pub(crate) type QueryResult<T> = std::result::Result<T, QueryError>;
