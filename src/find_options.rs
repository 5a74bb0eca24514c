//! Options for [`Experiment::find_with`](crate::Experiment::find_with).

use bson::Document;

/// Sort, skip, limit and projection for a `find`, named as the `mongodb`
/// driver names them.
///
/// ```
/// use yamlett::{bson::doc, FindOptions};
///
/// let best_five = FindOptions::new()
///     .sort(doc! { "metrics.f1_score": -1 })
///     .limit(5)
///     .projection(doc! { "params": 1, "metrics.f1_score": 1 });
/// assert_eq!(best_five.limit, Some(5));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct FindOptions {
    /// Sort specification, e.g. `{ "metrics.f1_score": -1, "_id": 1 }`.
    pub sort: Option<Document>,
    /// How many matching runs to pass over before the first one returned.
    pub skip: Option<u64>,
    /// The most runs to return.
    pub limit: Option<u64>,
    /// Projection, e.g. `{ "params": 1 }` or `{ "_yamlett": 0 }`.
    pub projection: Option<Document>,
}

impl FindOptions {
    /// No sort, skip, limit or projection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sorts the results.
    pub fn sort(mut self, sort: Document) -> Self {
        self.sort = Some(sort);
        self
    }

    /// Skips the first `skip` results.
    pub fn skip(mut self, skip: u64) -> Self {
        self.skip = Some(skip);
        self
    }

    /// Returns at most `limit` results.
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Keeps or drops fields of each result.
    pub fn projection(mut self, projection: Document) -> Self {
        self.projection = Some(projection);
        self
    }
}

/// One page of the runs matching a filter, and how many match in all: what
/// [`Experiment::find_page`](crate::Experiment::find_page) answers, so that
/// a table can show "51-100 of 4,570" from one read.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Page {
    /// How many runs match the filter, whatever the skip and limit.
    pub total: u64,
    /// The runs of the page: sorted, skipped, limited and projected as the
    /// [`FindOptions`] said.
    pub runs: Vec<Document>,
}
