//! Inputs nested too deep are refused before anything recursive touches
//! them.
//!
//! The check itself is the query engine's
//! ([`yamlett_query::depth`]), one loop that uses no stack per level; this
//! module applies it where the library takes an input: a query's filter,
//! sort and projection, a pipeline, and a value to store (serialized by a
//! depth-limited adapter, [`serializer`]). It runs before the MongoDB
//! driver encodes a command and before the engine parses one, both of
//! which recurse once per level and would overflow the stack of the
//! calling thread on a hostile input — and it frees a refused input
//! without recursion too, since even dropping a 100,000-level document
//! the ordinary way overflows.

pub(crate) mod serializer;

use bson::{Bson, Document};
use yamlett_query::depth::{check_nesting, drop_deep};

use crate::{Error, FindOptions};

/// Checks a find's filter, sort and projection; on refusal frees them all.
pub(crate) fn check_find(
    filter: Document,
    options: FindOptions,
) -> Result<(Document, FindOptions), Error> {
    let refused = check_nesting(&filter, "filter")
        .and_then(|()| {
            options
                .sort
                .as_ref()
                .map_or(Ok(()), |s| check_nesting(s, "sort"))
        })
        .and_then(|()| {
            options
                .projection
                .as_ref()
                .map_or(Ok(()), |p| check_nesting(p, "projection"))
        });
    match refused {
        Ok(()) => Ok((filter, options)),
        Err(err) => {
            drop_deep(Bson::Document(filter));
            for spec in [options.sort, options.projection].into_iter().flatten() {
                drop_deep(Bson::Document(spec));
            }
            Err(Error::InvalidQuery(err))
        }
    }
}

/// Checks a filter on its own (a count); on refusal frees it.
pub(crate) fn check_filter(filter: Document) -> Result<Document, Error> {
    check_find(filter, FindOptions::new()).map(|(filter, _)| filter)
}

/// Checks every stage of a pipeline; on refusal frees them all.
pub(crate) fn check_pipeline(pipeline: Vec<Document>) -> Result<Vec<Document>, Error> {
    match pipeline
        .iter()
        .try_for_each(|stage| check_nesting(stage, "pipeline stage"))
    {
        Ok(()) => Ok(pipeline),
        Err(err) => {
            drop_deep(Bson::Array(
                pipeline.into_iter().map(Bson::Document).collect(),
            ));
            Err(Error::InvalidQuery(err))
        }
    }
}
