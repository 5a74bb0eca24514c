//! The MongoDB query language as pure functions over BSON documents.
//!
//! Filters, projections, sorts, update documents and aggregation pipelines
//! are parsed once into values that evaluate many documents, with no I/O and
//! no storage of their own: a caller feeds documents in and takes results
//! out. yamlett's embedded store answers every query this way, and a
//! differential suite compares each answer with a MongoDB server's.
//!
//! | entry point | parse from | evaluate with |
//! | --- | --- | --- |
//! | [`Filter`] | a query filter | [`Filter::matches`] |
//! | [`Projection`] | a `find` projection | [`Projection::apply`] |
//! | [`Sort`] | a sort document | [`Sort::compare`] |
//! | [`Update`] | an update document | [`Update::apply`] |
//! | [`Pipeline`] | a list of stages | [`Pipeline::run`] over any iterator |
//!
//! Each refuses bad input with a [`QueryError`] worded like the server's.
//!
//! ## Filter
//!
//! ```
//! use bson::doc;
//! use yamlett_query::Filter;
//!
//! let good = Filter::parse(&doc! { "metrics.f1": { "$gte": 0.9 }, "tags": "baseline" })?;
//! assert!(good.matches(&doc! { "metrics": { "f1": 0.93 }, "tags": ["baseline", "cpu"] })?);
//! assert!(!good.matches(&doc! { "metrics": { "f1": 0.81 }, "tags": "baseline" })?);
//! assert!(Filter::parse(&doc! { "a": { "$bogus": 1 } }).is_err());
//! # Ok::<(), yamlett_query::QueryError>(())
//! ```
//!
//! ## Projection
//!
//! ```
//! use bson::doc;
//! use yamlett_query::Projection;
//!
//! let projection = Projection::parse(&doc! { "params": 1, "loss": { "$slice": -1 } })?;
//! let run = doc! { "_id": "a", "params": { "C": 0.1 }, "loss": [0.9, 0.5, 0.2], "notes": "x" };
//! assert_eq!(
//!     projection.apply(&run)?,
//!     doc! { "_id": "a", "params": { "C": 0.1 }, "loss": [0.2] }
//! );
//! # Ok::<(), yamlett_query::QueryError>(())
//! ```
//!
//! ## Sort
//!
//! ```
//! use bson::doc;
//! use yamlett_query::Sort;
//!
//! let by_f1 = Sort::parse(&doc! { "metrics.f1": -1, "_id": 1 })?;
//! let mut runs = vec![
//!     doc! { "_id": "a", "metrics": { "f1": 0.8 } },
//!     doc! { "_id": "b", "metrics": { "f1": 0.9 } },
//!     doc! { "_id": "c" },
//! ];
//! runs.sort_by(|x, y| by_f1.compare(x, y));
//! let ids: Vec<_> = runs.iter().map(|r| r.get_str("_id").unwrap()).collect();
//! assert_eq!(ids, ["b", "a", "c"]); // a missing field sorts as null, first ascending
//! # Ok::<(), yamlett_query::QueryError>(())
//! ```
//!
//! ## Update
//!
//! ```
//! use bson::doc;
//! use yamlett_query::{Update, UpdateContext};
//!
//! let update = Update::parse(&doc! { "$set": { "params.C": 0.2 }, "$push": { "loss": 0.5 } })?;
//! let mut run = doc! { "_id": "a", "params": { "C": 0.1 } };
//! update.apply(&mut run, &UpdateContext { is_insert: false, now: bson::DateTime::now() })?;
//! assert_eq!(run, doc! { "_id": "a", "params": { "C": 0.2 }, "loss": [0.5] });
//! # Ok::<(), yamlett_query::QueryError>(())
//! ```
//!
//! ## Pipeline
//!
//! ```
//! use bson::doc;
//! use yamlett_query::Pipeline;
//!
//! let runs = vec![
//!     doc! { "_id": "a", "model": "svm", "f1": 0.93 },
//!     doc! { "_id": "b", "model": "svm", "f1": 0.81 },
//!     doc! { "_id": "c", "model": "tree", "f1": 0.7 },
//! ];
//! let mean_by_model = Pipeline::parse(&[
//!     doc! { "$group": { "_id": "$model", "f1": { "$avg": "$f1" }, "n": { "$sum": 1 } } },
//!     doc! { "$sort": { "_id": 1 } },
//! ])?;
//! let out = mean_by_model.run(runs.into_iter())?;
//! assert_eq!(out[1], doc! { "_id": "tree", "f1": 0.7, "n": 1 });
//! assert!((out[0].get_f64("f1").unwrap() - 0.87).abs() < 1e-12);
//! # Ok::<(), yamlett_query::QueryError>(())
//! ```
//!
//! Stages that read other collections (`$lookup`, `$unionWith`) find them
//! in an [`advanced::Env`] the caller fills ([`Pipeline::foreign`](crate::Pipeline::foreign) names
//! them, [`Pipeline::run_in`] runs with it). [`advanced`] also holds what a
//! store needs to feed stored documents in raw BSON; ordinary use needs
//! none of it.
//!
//! Semantics follow MongoDB 8.0 operator by operator: the manual first,
//! and where the manual leaves a case open, the server's source and its
//! observed answers (see the differential suite in the yamlett repository).
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

// The README's example runs as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use aggregate::Pipeline;
pub use filter::Filter;
pub use projection::Projection;
pub use sort::SortSpec as Sort;
pub use update::{Update, UpdateContext};

pub mod advanced {
    //! What a store built on the engine needs besides the entry points; an
    //! application evaluating queries in memory needs none of it.
    //!
    //! - [`Env`]: the documents of the other collections a pipeline reads
    //!   (`$lookup`, `$unionWith`), by the names [`Pipeline::foreign`](crate::Pipeline::foreign) gives.
    //! - [`GroupFeed`] and [`RawDoc`]: feeding stored documents to a leading
    //!   `$group` ([`Pipeline::leading_group`](crate::Pipeline::leading_group)) and to filters in raw BSON,
    //!   without decoding them first (the embedded store's fast path).
    //! - [`get_path`]: one value at a dotted path, without fanning out over
    //!   arrays; [`type_name`]: a value's `$type` name, for error messages
    //!   that match the server's.
    pub use crate::aggregate::{Env, GroupFeed};
    pub use crate::expr::type_name;
    pub use crate::path::{get_path, RawDoc};
}

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
