//! The query engine: the MongoDB query language as pure functions over BSON.
//!
//! Nothing in here knows about storage. The embedded store feeds documents in
//! and takes results out; the MongoDB store never calls it for queries (the
//! server answers them) but [`Run`](crate::Run) uses the update engine to show
//! buffered writes in `run.data()`. Keeping the engine pure is what lets it be
//! tested against the real server and fuzzed on its own.
//!
//! Semantics follow the MongoDB 7/8 manual operator by operator; where the two
//! disagree, the server's observed behaviour (our differential suite) wins.

pub(crate) mod aggregate;
pub(crate) mod compare;
pub(crate) mod expr;
pub(crate) mod filter;
pub(crate) mod path;
pub(crate) mod pattern;
pub(crate) mod projection;
pub(crate) mod sort;
pub(crate) mod update;

#[cfg(test)]
mod fuzz;

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
    pub(crate) fn new(message: impl Into<String>) -> Self {
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
